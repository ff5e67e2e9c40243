// Fuzz test of the proxy's HTTP/2 downstream over real sockets: seeded random connections
// (src/proxy/http2/testing/random-frames.ts: requests good and bad, bodies, resets, window
// updates, pings, settings, and random hostile frames), written in random pieces to an h2c
// listener whose routes reach a real HTTP/1.1 backend. The session fuzz test checks the
// session alone; this one runs the whole path: connection, streams, ActiveStream, the
// upstream pool and tunnels (allow_connect is on).
//
// Whatever the clients send, the proxy must not throw (this process would fail), must
// answer with well-formed frames, must close every fuzz connection (downstream_cx_active
// returns to 0), and must go on serving a well-formed client.
//
// WEFT_FUZZ_ITERATIONS=N (default 400, of which a tenth are connections here) and
// WEFT_FUZZ_SEED=S select the run.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../src/core/seeded-random.js';
import { FrameReader } from '../src/proxy/http2/frames.js';
import { randomConnection } from '../src/proxy/http2/testing/random-frames.js';
import { h2Request, h2Session } from './support/h2-client.js';
import {
  bootstrap,
  httpListener,
  type RunningProxy,
  startBackend,
  startProxy,
  staticCluster,
  waitFor,
} from './support/harness.js';

const CONNECTIONS = Math.ceil(Number(process.env.WEFT_FUZZ_ITERATIONS ?? 400) / 10);
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 0x2f3);

/** Writes `input` in random pieces, then ends; resolves with what came back once closed. */
function fuzzConnection(port: number, input: Buffer, rand: () => number): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    socket.on('error', () => {});
    socket.on('close', () => resolve(Buffer.concat(got)));
    // A connection the proxy keeps open (streams waiting on their upstream) is ended by us.
    const giveUp = setTimeout(() => socket.destroy(), 1500);
    socket.on('close', () => clearTimeout(giveUp));
    socket.on('connect', async () => {
      for (let at = 0; at < input.length && !socket.destroyed; ) {
        const n = 1 + Math.floor(rand() * 4000);
        socket.write(input.subarray(at, at + n));
        at += n;
        if (rand() < 0.3) await new Promise((r) => setImmediate(r));
      }
      if (!socket.destroyed) socket.end();
    });
  });
}

describe('HTTP/2 downstream under random frames', () => {
  let proxy: RunningProxy;
  let closeBackend: () => Promise<void>;
  let seen: () => number;
  let port: number;

  before(async () => {
    const backend = await startBackend('b', (req, res, body) => {
      res.setHeader('x-got', String(body.length));
      res.end(req.url === '/empty' ? '' : 'hello from the backend');
    });
    closeBackend = backend.close;
    seen = () => backend.seen.length;
    proxy = await startProxy(
      bootstrap(
        [
          httpListener(
            'l',
            [
              {
                name: 'v',
                domains: ['*'],
                routes: [{ match: { prefix: '/' }, route: { cluster: 'b', timeout: '1s' } }],
              },
            ],
            {
              codec_type: 'HTTP2',
              http2_protocol_options: { allow_connect: true, initial_stream_window_size: 65535 },
              upgrade_configs: [{ upgrade_type: 'websocket' }, { upgrade_type: 'CONNECT' }],
              stream_idle_timeout: '1s',
            },
          ),
        ],
        [staticCluster('b', [backend.port])],
      ),
    );
    port = proxy.port('l');
  });
  after(async () => {
    await proxy.close();
    await closeBackend();
  });

  it('never throws, answers well-formed frames, closes every connection, and keeps serving', async () => {
    const rand = seededRandom(SEED);
    for (let i = 0; i < CONNECTIONS; i += 4) {
      const batch = Array.from({ length: Math.min(4, CONNECTIONS - i) }, () =>
        fuzzConnection(port, randomConnection(rand, 40, 0.05), rand),
      );
      for (const output of await Promise.all(batch)) {
        const reader = new FrameReader(false);
        reader.maxFrameSize = 16_777_215;
        const err = reader.push(output, { onFrame() {} });
        assert.equal(err, null, `the proxy's output does not parse: ${err?.message}`);
      }
    }
    const active = async (): Promise<string> =>
      (await (await fetch(proxy.adminUrl('/stats'))).text()).match(
        /http\.l\.downstream_cx_active: (\d+)/,
      )?.[1] ?? '';
    await waitFor(async () => (await active()) === '0', 'every fuzz connection closed');
    // The generator reaches the router and the upstream pool: the whole path ran, not only
    // the session's checks. (Fewer reach the backend: a request whose connection the same
    // burst of fuzz then breaks is dropped with its upstream connection before its held
    // bytes leave, as Envoy drops a reset connection's unflushed writes.)
    const forwarded = Number(
      (await (await fetch(proxy.adminUrl('/stats'))).text()).match(
        /cluster\.b\.upstream_rq_total: (\d+)/,
      )?.[1],
    );
    assert.ok(forwarded >= CONNECTIONS / 5, `${forwarded} requests were forwarded`);
    assert.ok(seen() > 0, 'no request reached the backend');
    const s = h2Session(port);
    try {
      const r = await h2Request(s, { ':path': '/after' });
      assert.equal(r.headers[':status'], 200);
      assert.equal(r.body, 'hello from the backend');
    } finally {
      s.close();
    }
  });
});
