// x-request-id values: random (version 4) UUIDs, RFC 9562 §5.4, generated on the request
// path of every request that arrives without one. crypto.randomUUID builds each id out of
// ~20 string pieces; here the 36 characters are written into one reused buffer from a
// pool of random bytes and read out as a single string.

import { randomFillSync } from 'node:crypto';

/** Ids drawn from one fill of the random pool. */
const IDS_PER_FILL = 256;
const UUID_BYTES = 16;
const UUID_CHARS = 36;

/** HEX[2b], HEX[2b+1]: the two lower-case hex digits of byte b, as char codes. */
const HEX = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const s = b.toString(16).padStart(2, '0');
  HEX[2 * b] = s.charCodeAt(0);
  HEX[2 * b + 1] = s.charCodeAt(1);
}

/** A generator of v4 UUID strings with its own random pool (no state shared between proxies). */
export function createRequestIdGenerator(): () => string {
  const pool = Buffer.allocUnsafe(IDS_PER_FILL * UUID_BYTES);
  let next = IDS_PER_FILL;
  const out = Buffer.allocUnsafe(UUID_CHARS);
  return () => {
    if (next === IDS_PER_FILL) {
      randomFillSync(pool);
      next = 0;
    }
    const base = next++ * UUID_BYTES;
    let o = 0;
    for (let i = 0; i < UUID_BYTES; i++) {
      let b = pool[base + i];
      if (i === 6)
        b = (b & 0x0f) | 0x40; // version 4
      else if (i === 8) b = (b & 0x3f) | 0x80; // variant 10
      out[o++] = HEX[2 * b];
      out[o++] = HEX[2 * b + 1];
      // The dashes of 8-4-4-4-12 hex digits come after bytes 3, 5, 7 and 9.
      if (i === 3 || i === 5 || i === 7 || i === 9) out[o++] = 0x2d;
    }
    return out.toString('latin1', 0, UUID_CHARS);
  };
}
