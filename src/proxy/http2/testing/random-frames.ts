// Random HTTP/2 client frames for the fuzz tests (the session's, and the proxy's over a
// socket): mostly plausible ones (requests good and bad, body DATA, WINDOW_UPDATE, PING,
// SETTINGS, resets, trailers), and sometimes anything (every frame type, random flags,
// stream ids, lengths and payloads).

import type { HeaderList } from '../../http/headers.js';
import { CONNECTION_PREFACE, FRAME_DATA, FRAME_HEADERS } from '../frames.js';
import { encodeHeaderBlock, headerBlockBound } from '../hpack/encoder.js';

const GET: HeaderList = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'a'];
const POST: HeaderList = [':method', 'POST', ':scheme', 'http', ':path', '/up', ':authority', 'a'];
/** Header lists a client may send: good requests, trailers, and broken ones. */
const BLOCKS: HeaderList[] = [
  GET,
  POST,
  [...POST, 'content-length', '5'],
  [...GET, 'x-a', 'b', 'cookie', 'c=1', 'cookie', 'd=2'],
  [':method', 'CONNECT', ':authority', 'db:5432'],
  [':method', 'CONNECT', ':protocol', 'websocket', ':scheme', 'http', ':path', '/ws', ':authority', 'a'],
  ['grpc-status', '0'],
  ['x-trailer', 'v'],
  [':method', 'GET', ':path', '/'],
  [...GET, 'X-Upper', 'v'],
  [...GET, 'connection', 'close'],
  [...GET, 'x-a', 'b\r\nc: d'],
  [...GET, 'x-big', 'v'.repeat(5000)],
  [...GET, ':path', '/dup'],
];

function encode(fields: HeaderList): Buffer {
  const block = Buffer.alloc(headerBlockBound(fields));
  return block.subarray(0, encodeHeaderBlock(fields, block, 0));
}

function frameBytes(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** One random client frame: anything with probability `hostile`, else plausible. `opened`: stream ids used so far. */
export function randomFrame(rand: () => number, opened: number[], hostile = 0.25): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const next = (opened.at(-1) ?? -1) + 2;
  const some = opened.length > 0 ? pick(opened) : 1;
  if (rand() >= hostile) {
    // Frames on a stream need one: the first plausible frame opens it.
    const r = opened.length === 0 ? 0 : rand();
    if (r < 0.4) {
      opened.push(next);
      return frameBytes(FRAME_HEADERS, 0x04 | (rand() < 0.5 ? 0x01 : 0), next, encode(pick(BLOCKS)));
    }
    if (r < 0.7)
      return frameBytes(FRAME_DATA, rand() < 0.5 ? 0x01 : 0, some, bytes(pick([0, 1, 5, 100, 3000])));
    if (r < 0.8) {
      const p = Buffer.alloc(4);
      p.writeUInt32BE(1 + int(70_000), 0);
      return frameBytes(8, 0, rand() < 0.5 ? 0 : some, p);
    }
    if (r < 0.85) return frameBytes(6, 0, 0, bytes(8));
    if (r < 0.9) return frameBytes(4, 0, 0, Buffer.from([0, 4, 0, 0, int(2) * 0x80, 0]));
    if (r < 0.95) return frameBytes(3, 0, some, Buffer.from([0, 0, 0, 8]));
    return frameBytes(FRAME_HEADERS, 0x05, some, encode(pick(BLOCKS))); // trailers
  }
  const stream = pick([0, next, some, next + 1, 0x7fffffff]);
  const type = rand() < 0.9 ? int(10) : 0x20 + int(8);
  let payload: Buffer;
  switch (type) {
    case FRAME_HEADERS:
    case 9: // CONTINUATION
      payload = rand() < 0.7 ? encode(pick(BLOCKS)) : bytes(int(40));
      if (type === FRAME_HEADERS && stream === next) opened.push(stream);
      break;
    case 4: // SETTINGS
      payload = Buffer.concat(
        Array.from({ length: int(4) }, () => {
          const e = Buffer.alloc(6);
          e.writeUInt16BE(int(10), 0);
          e.writeUInt32BE(pick([0, 1, 100, 65_535, 16_384, 2 ** 31, 2 ** 32 - 1, int(2 ** 31)]), 2);
          return e;
        }),
      );
      if (rand() < 0.2) payload = bytes(int(10));
      break;
    case 8: // WINDOW_UPDATE
      payload = Buffer.alloc(4);
      payload.writeUInt32BE(pick([0, 1, 2 ** 31 - 1, int(2 ** 32)]), 0);
      if (rand() < 0.2) payload = bytes(int(8));
      break;
    default:
      payload = bytes(pick([0, 4, 5, 8, int(5000)]));
  }
  return frameBytes(type, int(256), stream, payload);
}

/**
 * A connection's bytes: the preface and 1..`maxFrames` random frames, each one of anything
 * with probability `hostile` (else plausible).
 */
export function randomConnection(rand: () => number, maxFrames: number, hostile = 0.25): Buffer {
  const opened: number[] = [];
  const frames: Buffer[] = [CONNECTION_PREFACE];
  const count = 1 + Math.floor(rand() * maxFrames);
  for (let i = 0; i < count; i++) frames.push(randomFrame(rand, opened, hostile));
  return Buffer.concat(frames);
}

/** Header lists a server may send: good responses, 1xx, trailers, and broken ones. */
const RESPONSES: HeaderList[] = [
  [':status', '200'],
  [':status', '200', 'content-type', 'text/plain', 'content-length', '3'],
  [':status', '204'],
  [':status', '103', 'link', '</a>'],
  [':status', '200', 'X-Upper', 'v'],
  [':status', '200', 'x-a', 'b\r\nc: d'],
  [':status', '200', 'connection', 'close'],
  [':status', 'abc'],
  ['grpc-status', '0'],
  [':status', '200', ':status', '201'],
];

/**
 * One random server frame for a client that opened `streams`: anything with probability
 * `hostile`, else plausible (responses good and bad, DATA, trailers, resets, SETTINGS,
 * PING, WINDOW_UPDATE, GOAWAY).
 */
export function randomServerFrame(rand: () => number, streams: readonly number[], hostile = 0.25): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (n: number): number => Math.floor(rand() * n);
  if (rand() < hostile || streams.length === 0) return randomFrame(rand, [...streams], 1);
  const some = pick(streams);
  const r = rand();
  if (r < 0.35)
    return frameBytes(FRAME_HEADERS, 0x04 | (rand() < 0.3 ? 0x01 : 0), some, encode(pick(RESPONSES)));
  if (r < 0.65)
    return frameBytes(FRAME_DATA, rand() < 0.4 ? 0x01 : 0, some, Buffer.alloc(pick([0, 1, 3, 100, 3000])));
  if (r < 0.72) {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(1 + int(70_000), 0);
    return frameBytes(8, 0, rand() < 0.5 ? 0 : some, p);
  }
  if (r < 0.77) return frameBytes(6, 0, 0, Buffer.alloc(8));
  if (r < 0.84) return frameBytes(4, 0, 0, Buffer.from([0, 3, 0, 0, 0, int(4)]));
  if (r < 0.9) return frameBytes(3, 0, some, Buffer.from([0, 0, 0, pick([0, 2, 7, 8])]));
  if (r < 0.95) {
    const p = Buffer.alloc(8);
    p.writeUInt32BE(pick(streams), 0);
    return frameBytes(7, 0, 0, p);
  }
  return frameBytes(FRAME_HEADERS, 0x05, some, encode(pick(RESPONSES))); // trailers
}
