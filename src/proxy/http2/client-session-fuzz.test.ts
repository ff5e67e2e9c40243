// Fuzz test of the HTTP/2 client session, the code that reads an upstream server's frames:
// seeded random responses, good, malformed and hostile (src/proxy/http2/testing/
// random-frames.ts), cut into random reads, while the client keeps opening requests and
// sending bodies.
//
// Whatever the server sends, the session must:
// - never throw out of receive(), and never tell the user about a stream it did not open;
// - give each stream at most one final response head, nothing after its end but a reset (our
//   request side may still be open), and nothing after a reset;
// - write only well-formed frames, on the connection or on streams it opened;
// - write nothing more after a GOAWAY with an error code.
//
// WEFT_FUZZ_ITERATIONS=N (default 400 connections) and WEFT_FUZZ_SEED=S select the run.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { seededRandom } from '../../core/seeded-random.js';
import type { HeaderList } from '../http/headers.js';
import { ClientSession } from './client-session.js';
import { CONNECTION_PREFACE, FRAME_GOAWAY, FrameReader, NO_ERROR } from './frames.js';
import { DEFAULT_SESSION_SETTINGS } from './session.js';
import { randomServerFrame } from './testing/random-frames.js';

const ITERATIONS = Number(process.env.WEFT_FUZZ_ITERATIONS ?? 400);
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 0x2f4);

it('survives random and hostile server frames with its invariants intact', () => {
  const rand = seededRandom(SEED);
  let responses = 0;
  let goaways = 0;
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const out: Buffer[] = [];
    /**
     * Per stream: 'open', 'head' (final head heard), 'done' (response ended; a reset may
     * still come while our request side is open), 'reset'.
     */
    const state = new Map<number, 'open' | 'head' | 'done' | 'reset'>();
    let dead = false;
    let writesAfterDeath = 0;
    const live = (id: number, what: string): void => {
      const st = state.get(id);
      assert.ok(st !== undefined, `${what} on stream ${id}, never opened`);
      assert.ok(st !== 'done' && st !== 'reset', `${what} on stream ${id} after its end`);
    };
    const session: ClientSession = new ClientSession(
      (data) => {
        if (dead) writesAfterDeath++;
        out.push(data);
        return rand() < 0.8;
      },
      {
        onResponse(id, headers, endStream) {
          live(id, 'response');
          if (Number(headers[1]) >= 200) {
            assert.equal(state.get(id), 'open', `a second final head on stream ${id}`);
            state.set(id, endStream ? 'done' : 'head');
            responses++;
          }
        },
        onData(id, chunk, endStream) {
          live(id, 'data');
          assert.equal(state.get(id), 'head', `data on stream ${id} before its head`);
          if (rand() < 0.7) session.consumed(id, chunk.length);
          if (endStream) state.set(id, 'done');
        },
        onTrailers(id) {
          live(id, 'trailers');
          state.set(id, 'done');
        },
        onReset(id) {
          const st = state.get(id);
          assert.ok(st !== undefined && st !== 'reset', `reset of stream ${id}: ${st}`);
          state.set(id, 'reset');
        },
        onWritable(id) {
          if (state.get(id) !== 'reset' && rand() < 0.5) session.data(id, Buffer.alloc(100), rand() < 0.5);
        },
        onClose(code, _message, byPeer) {
          if (code !== NO_ERROR && !byPeer) {
            dead = true;
            goaways++;
          }
        },
      },
      { ...DEFAULT_SESSION_SETTINGS, initialWindowSize: 4096, connectionWindowSize: 16_384 },
    );
    const open = (): void => {
      if (!session.canRequest) return;
      const method = ['GET', 'POST', 'HEAD'][Math.floor(rand() * 3)];
      const fields: HeaderList = [':method', method, ':scheme', 'http', ':path', '/', ':authority', 'a'];
      const id = session.request(fields, method !== 'POST');
      state.set(id, 'open');
      if (method === 'POST') session.data(id, Buffer.alloc(Math.floor(rand() * 6000)), rand() < 0.7);
    };
    for (let i = 0; i < 3; i++) open();
    const count = 1 + Math.floor(rand() * 50);
    for (let i = 0; i < count && !dead; i++) {
      if (rand() < 0.15) open();
      const frame = randomServerFrame(rand, [...state.keys()], 0.1);
      for (let at = 0; at < frame.length; ) {
        const n = 1 + Math.floor(rand() * 3000);
        session.receive(frame.subarray(at, at + n));
        at += n;
      }
      if (rand() < 0.2) session.outputDrained();
    }
    session.flush();

    assert.equal(writesAfterDeath, 0, `iteration ${iteration}: wrote after a connection error`);
    const all = Buffer.concat(out);
    assert.ok(all.subarray(0, CONNECTION_PREFACE.length).equals(CONNECTION_PREFACE), 'the preface first');
    const reader = new FrameReader(false);
    reader.maxFrameSize = 16_777_215;
    let goawaySeen = false;
    const err = reader.push(all.subarray(CONNECTION_PREFACE.length), {
      onFrame(type, _flags, stream, payload, start) {
        assert.ok(stream === 0 || state.has(stream), `frame type ${type} on stream ${stream}, never opened`);
        assert.ok(!goawaySeen, `iteration ${iteration}: frame type ${type} after an error GOAWAY`);
        if (type === FRAME_GOAWAY && payload.readUInt32BE(start + 4) !== NO_ERROR) goawaySeen = true;
      },
    });
    assert.equal(err, null, `iteration ${iteration}: output does not parse: ${err?.message}`);
  }
  assert.ok(responses > ITERATIONS / 4, `${responses} responses`);
  assert.ok(goaways > ITERATIONS / 20, `${goaways} connection errors`);
});
