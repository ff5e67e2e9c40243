import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineWriter } from './line-writer.js';

function written(w: LineWriter): string {
  return w.buf.toString('utf8', 0, w.pos);
}

describe('LineWriter', () => {
  it('writes ASCII, UTF-8, and numbers as String(n) prints them', () => {
    const w = new LineWriter(Buffer.alloc(256));
    w.text('a=');
    w.number(0);
    w.text(' b=');
    w.number(9007199254740991);
    w.text(' c=');
    w.number(-12);
    w.text(' d=');
    w.number(1.5);
    w.text(' e=');
    w.number(Number.NaN);
    w.text(' caf\u00e9 \u{1F600}');
    assert.equal(written(w), `a=0 b=9007199254740991 c=-12 d=1.5 e=NaN caf\u00e9 \u{1F600}`);
    assert.equal(w.overflow, false);
  });

  it('sets overflow when a piece does not fit and ignores everything after it', () => {
    const w = new LineWriter(Buffer.alloc(64));
    w.reset(Buffer.alloc(64), 10, 16);
    w.text('12345');
    assert.equal(w.overflow, false);
    w.text('\u00e9'); // 2 bytes: one is left
    assert.equal(w.overflow, true);
    w.text('x');
    w.number(7);
    assert.equal(w.pos, 15, 'nothing is written after an overflow');

    w.reset(w.buf, 0, 3);
    w.number(1234);
    assert.equal(w.overflow, true);
    w.reset(w.buf, 0, 4);
    w.number(1234);
    assert.equal(w.overflow, false);
    assert.equal(w.buf.toString('latin1', 0, 4), '1234');
  });
});
