// Fuzz test of the HTTP/2 server session, the code that reads frames from the network:
// seeded random connections made of well-formed, malformed and hostile frames (every frame
// type, random flags, stream ids, lengths and payloads, header blocks good and bad), cut
// into random reads. A user that answers at random (head, data, trailers, resets,
// finish, consumed) drives the sending side at the same time.
//
// Whatever arrives, the session must:
// - never throw out of receive(), and never call the user for a stream it did not open;
// - keep at most SETTINGS_MAX_CONCURRENT_STREAMS streams open;
// - write only well-formed frames (they parse back), on the connection or on streams the
//   client opened;
// - write nothing more after a GOAWAY with an error code, and read nothing more.
//
// WEFT_FUZZ_ITERATIONS=N (default 400 connections) and WEFT_FUZZ_SEED=S select the run.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { seededRandom } from '../../core/seeded-random.js';
import type { HeaderList } from '../http/headers.js';
import {
  CONNECTION_PREFACE,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FrameReader,
  NO_ERROR,
} from './frames.js';
import { encodeHeaderBlock, headerBlockBound } from './hpack/encoder.js';
import { DEFAULT_SESSION_SETTINGS, ServerSession, type SessionSettings } from './server-session.js';

const ITERATIONS = Number(process.env.WEFT_FUZZ_ITERATIONS ?? 400);
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 0x2f2);

const SETTINGS: SessionSettings = {
  ...DEFAULT_SESSION_SETTINGS,
  maxConcurrentStreams: 8,
  initialWindowSize: 4096,
  connectionWindowSize: 16_384,
  maxHeaderListSize: 4096,
  maxHeaderBlockBytes: 8192,
  maxStreamErrors: 20,
  enableConnectProtocol: true,
};

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

/** One random client frame: mostly plausible, sometimes anything. `opened`: stream ids used so far. */
function randomFrame(rand: () => number, opened: number[]): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const next = (opened.at(-1) ?? -1) + 2;
  const some = opened.length > 0 ? pick(opened) : 1;
  if (rand() < 0.75) {
    const r = rand();
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

it('survives random and hostile frame sequences with its invariants intact', () => {
  const rand = seededRandom(SEED);
  let goaways = 0;
  let requests = 0;
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const out: Buffer[] = [];
    const open = new Set<number>();
    let dead = false;
    let writesAfterDeath = 0;
    const session: ServerSession = new ServerSession(
      (data) => {
        if (dead) writesAfterDeath++;
        out.push(data);
        return rand() < 0.8;
      },
      {
        onRequest(stream, _headers, endStream) {
          assert.ok(!open.has(stream), `stream ${stream} opened twice`);
          open.add(stream);
          requests++;
          assert.ok(session.activeStreams <= SETTINGS.maxConcurrentStreams);
          if (endStream || rand() < 0.3) answer(stream);
        },
        onTrailers(stream) {
          assert.ok(open.has(stream), `trailers on stream ${stream} not open`);
          answer(stream);
        },
        onData(stream, chunk, endStream) {
          assert.ok(open.has(stream), `data on stream ${stream} not open`);
          if (rand() < 0.7) session.consumed(stream, chunk.length);
          if (endStream) answer(stream);
        },
        onReset(stream) {
          assert.ok(open.has(stream), `reset of stream ${stream} not open`);
        },
        onStreamClosed(stream) {
          assert.ok(open.delete(stream), `close of stream ${stream} not open`);
        },
        onWritable(stream) {
          if (open.has(stream) && rand() < 0.5) session.data(stream, Buffer.alloc(100), rand() < 0.5);
        },
        onClose(code, _message, byPeer) {
          if (code !== NO_ERROR && !byPeer) {
            dead = true;
            goaways++;
          }
        },
      },
      SETTINGS,
    );
    function answer(stream: number): void {
      const r = rand();
      if (r < 0.1) session.reset(stream, 8);
      else if (r < 0.2) session.respond(stream, [':status', '204'], true);
      else {
        session.respond(stream, [':status', '200', 'content-type', 'text/plain'], false);
        session.data(stream, Buffer.alloc(Math.floor(rand() * 6000)), false);
        if (rand() < 0.5) session.trailers(stream, ['grpc-status', '0']);
        else session.data(stream, Buffer.alloc(0), true);
        if (rand() < 0.3) session.finish(stream);
      }
    }

    const opened: number[] = [];
    const frames: Buffer[] = [CONNECTION_PREFACE];
    const count = 1 + Math.floor(rand() * 60);
    for (let i = 0; i < count; i++) frames.push(randomFrame(rand, opened));
    const input = Buffer.concat(frames);
    for (let at = 0; at < input.length; ) {
      const n = 1 + Math.floor(rand() * 2000);
      session.receive(input.subarray(at, at + n));
      if (rand() < 0.2) session.outputDrained();
      at += n;
    }
    session.flush();

    assert.equal(writesAfterDeath, 0, `iteration ${iteration}: wrote after a connection error`);
    // The output parses back into frames, on the connection or on client streams.
    const reader = new FrameReader(false);
    reader.maxFrameSize = 16_777_215;
    let goawaySeen = false;
    const err = reader.push(Buffer.concat(out), {
      onFrame(type, _flags, stream, payload, start) {
        assert.ok(stream === 0 || stream % 2 === 1, `frame type ${type} on server-side stream ${stream}`);
        assert.ok(!goawaySeen, `iteration ${iteration}: frame type ${type} after an error GOAWAY`);
        if (type === FRAME_GOAWAY && payload.readUInt32BE(start + 4) !== NO_ERROR) goawaySeen = true;
      },
    });
    assert.equal(err, null, `iteration ${iteration}: output does not parse: ${err?.message}`);
  }
  // The generator reaches both ends: requests served, and connections ended for errors.
  assert.ok(requests > ITERATIONS / 4, `${requests} requests`);
  assert.ok(goaways > ITERATIONS / 10, `${goaways} connection errors`);
});
