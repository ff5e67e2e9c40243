// Property test (STYLE.md rule 7: a health-check answer is untrusted bytes): the gRPC
// HealthCheckResponse decoder never throws and returns -1 or a status, and every status
// encoded (with unknown fields around it) decodes back. Seeded and bounded; set
// WEFT_FUZZ_ITERATIONS to run longer (and WEFT_FUZZ_SEED to replay).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../../core/seeded-random.js';
import { decodeCheckResponse } from './grpc-probe.js';

const ITERATIONS = Number(process.env.WEFT_FUZZ_ITERATIONS ?? 2000);
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 0x6c7);

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function frame(msg: number[]): Buffer {
  const b = Buffer.alloc(5 + msg.length);
  b.writeUInt32BE(msg.length, 1);
  Buffer.from(msg).copy(b, 5);
  return b;
}

test('random bytes never make the decoder throw, and give -1 or an int32 status', () => {
  const random = seededRandom(SEED);
  for (let i = 0; i < ITERATIONS; i++) {
    const len = Math.floor(random() * 24);
    const bytes = Buffer.from(Array.from({ length: len }, () => Math.floor(random() * 256)));
    // Half of the inputs get a plausible frame header so the message body is exercised.
    if (len >= 5 && random() < 0.5) {
      bytes[0] = 0;
      bytes.writeUInt32BE(len - 5, 1);
    }
    const status = decodeCheckResponse(bytes);
    assert.ok(
      status === -1 || (Number.isInteger(status) && status >= 0 && status <= 0x7fff_ffff),
      `got ${status} for ${bytes.toString('hex')}`,
    );
  }
});

test('a status decodes back with unknown fields before and after it', () => {
  const random = seededRandom(SEED + 1);
  for (let i = 0; i < ITERATIONS; i++) {
    const status = Math.floor(random() * 2 ** 20);
    const unknownBefore = [0x12, 2, 0x61, 0x62]; // field 2, length-delimited "ab"
    const unknownAfter = [0x1d, 1, 2, 3, 4]; // field 3, fixed32
    const msg = [
      ...(random() < 0.5 ? unknownBefore : []),
      0x08,
      ...varint(status),
      ...(random() < 0.5 ? unknownAfter : []),
    ];
    assert.equal(decodeCheckResponse(frame(msg)), status);
  }
});
