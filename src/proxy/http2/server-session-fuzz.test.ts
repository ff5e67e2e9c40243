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
import { FRAME_GOAWAY, FrameReader, NO_ERROR } from './frames.js';
import { DEFAULT_SESSION_SETTINGS, ServerSession, type SessionSettings } from './server-session.js';
import { randomConnection } from './testing/random-frames.js';

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

    const input = randomConnection(rand, 60);
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
