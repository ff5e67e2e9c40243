// Fuzz test of the proxy's HTTP/2 upstream over real sockets: an upstream server that
// answers each request stream with seeded random frames (src/proxy/http2/testing/
// random-frames.ts: responses good and bad, DATA, trailers, resets, SETTINGS, GOAWAY,
// hostile frames), and sometimes drops the connection. HTTP/1.1 clients call through the
// proxy (an HTTP/2 cluster with retries and a route timeout).
//
// Whatever the upstream does, the proxy must not throw (this process would fail), must
// answer every client (a response, or a closed connection when a response was cut short),
// must not leak upstream connections, and must keep serving a well-behaved cluster.
//
// WEFT_FUZZ_ITERATIONS=N (default 400, of which a tenth are requests here) and
// WEFT_FUZZ_SEED=S select the run.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../src/core/seeded-random.js';
import { FRAME_HEADERS } from '../src/proxy/http2/frames.js';
import { startFrameServer } from '../src/proxy/http2/testing/frame-server.js';
import { randomServerFrame } from '../src/proxy/http2/testing/random-frames.js';
import {
  bootstrap,
  httpListener,
  protocolOptions,
  type RunningProxy,
  request,
  startBackend,
  startProxy,
  staticCluster,
  waitFor,
} from './support/harness.js';

const REQUESTS = Math.ceil(Number(process.env.WEFT_FUZZ_ITERATIONS ?? 400) / 10);
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 0x2f5);

describe('HTTP/2 upstream under random frames', () => {
  let proxy: RunningProxy;
  let closeUpstream: () => void;
  let closeBackend: () => Promise<void>;
  let port: number;

  before(async () => {
    const rand = seededRandom(SEED);
    // Each request stream gets 1-6 random frames; now and then the connection is dropped.
    const upstream = await startFrameServer((_writer, socket) => ({
      onFrame(type, _flags, stream) {
        if (type !== FRAME_HEADERS || stream % 2 === 0 || socket.destroyed) return;
        if (rand() < 0.05) {
          socket.destroy();
          return;
        }
        const count = 1 + Math.floor(rand() * 6);
        const frames: Buffer[] = [];
        for (let i = 0; i < count; i++) frames.push(randomServerFrame(rand, [stream], 0.1));
        socket.write(Buffer.concat(frames));
      },
    }));
    closeUpstream = upstream.close;
    const backend = await startBackend('good');
    closeBackend = backend.close;
    const h2 = protocolOptions({ explicit_http_config: { http2_protocol_options: {} } });
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('l', [
            {
              name: 'v',
              domains: ['*'],
              routes: [
                { match: { prefix: '/good' }, route: { cluster: 'good' } },
                {
                  match: { prefix: '/' },
                  route: {
                    cluster: 'fuzz',
                    timeout: '1s',
                    retry_policy: { retry_on: 'reset,5xx', num_retries: 1 },
                  },
                },
              ],
            },
          ]),
        ],
        [
          staticCluster('fuzz', [Number(new URL(upstream.url).port)], h2),
          staticCluster('good', [backend.port]),
        ],
      ),
    );
    port = proxy.port('l');
  });
  after(async () => {
    await proxy.close();
    closeUpstream();
    await closeBackend();
  });

  it('never throws, answers every client, leaks no connection, and keeps serving', async () => {
    const statuses = new Map<string, number>();
    for (let i = 0; i < REQUESTS; i += 4) {
      const batch = Array.from({ length: Math.min(4, REQUESTS - i) }, (_, j) =>
        request(port, `/f/${i + j}`, j % 2 === 0 ? {} : { method: 'POST', body: 'x'.repeat(100 * j) }).then(
          (r) => String(r.status),
          (err: Error) => `error ${(err as NodeJS.ErrnoException).code ?? err.message}`,
        ),
      );
      for (const outcome of await Promise.all(batch)) statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
    }
    // Every outcome is an HTTP answer or a connection the proxy closed after a cut-short response.
    for (const outcome of statuses.keys())
      assert.match(outcome, /^(\d{3}|error (ECONNRESET|HPE_INVALID_CONSTANT|socket hang up))$/, outcome);
    assert.ok((statuses.get('200') ?? 0) > 0, `some requests succeed: ${JSON.stringify([...statuses])}`);
    assert.ok(
      [...statuses.keys()].some((s) => s !== '200'),
      'some requests fail',
    );
    const good = await request(port, '/good');
    assert.equal(good.status, 200);
    // Requests in flight are over: the fuzz cluster's connections are either open and idle or gone.
    const active = async (): Promise<number> => {
      const stats = await (await fetch(proxy.adminUrl('/stats'))).text();
      return Number(stats.match(/http\.l\.downstream_rq_active: (\d+)/)?.[1] ?? -1);
    };
    await waitFor(async () => (await active()) === 0, 'no request left active');
  });
});
