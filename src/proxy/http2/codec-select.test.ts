import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../core/seeded-random.js';
import { HTTP2_PREFACE, sniffPreface } from './codec-select.js';

test('the preface decides HTTP/2 only when all 24 bytes match', () => {
  assert.equal(sniffPreface(HTTP2_PREFACE), 2);
  assert.equal(sniffPreface(Buffer.concat([HTTP2_PREFACE, Buffer.from([0, 0, 0, 4])])), 2);
  for (let n = 0; n < HTTP2_PREFACE.length; n++)
    assert.equal(sniffPreface(HTTP2_PREFACE.subarray(0, n)), 0, `prefix ${n}`);
  assert.equal(sniffPreface(Buffer.from('GET / HTTP/1.1\r\n')), 1);
  assert.equal(sniffPreface(Buffer.from('POST / HTTP/1.1\r\n')), 1);
  assert.equal(sniffPreface(Buffer.from('PROPFIND / HTTP/1.1\r\n')), 1);
  assert.equal(sniffPreface(Buffer.from('PRI * HTTP/1.1\r\n\r\n')), 1);
});

test('property: random inputs are HTTP/1 unless they are a prefix of the preface', () => {
  const random = seededRandom(7);
  for (let i = 0; i < 2000; i++) {
    const keep = Math.floor(random() * 25);
    const tail = Buffer.from(
      Array.from({ length: Math.floor(random() * 8) }, () => Math.floor(random() * 256)),
    );
    const data = Buffer.concat([HTTP2_PREFACE.subarray(0, keep), tail]);
    const v = sniffPreface(data);
    const n = Math.min(data.length, 24);
    const isPrefix = data.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
    assert.equal(v, isPrefix ? (n === 24 ? 2 : 0) : 1, data.toString('hex'));
  }
});
