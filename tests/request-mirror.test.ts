// Request mirroring (RouteAction.request_mirror_policies) end to end: real proxy, real
// backends, real sockets on port 0. The mirror gets a copy with the `-shadow` host and the
// body; a mirror that never answers, or never reads, changes nothing for the primary —
// shown by the order of events (the primary's response arrives while the shadow is still
// outstanding), never by timing. The route timeout that ends a hung shadow runs on a
// manual clock; runtime_fraction sampling uses an injected random().

import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createMemoryLogger } from '../src/core/logger.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import {
  type Backend,
  bootstrap,
  httpListener,
  request,
  startBackend,
  staticCluster,
  waitFor,
} from './support/harness.js';

describe('request mirroring', () => {
  const clock = createManualClock();
  /** The values random() returns next, in order; 0.99 once they run out. */
  const randoms: number[] = [];
  let primary: Backend;
  let mirror: Backend;
  let hung: Backend;
  /** Responses the hung backend holds and never ends. */
  const held: ServerResponse[] = [];
  /** A TCP server that accepts and never reads. */
  let deaf: Server;
  const deafSockets: Socket[] = [];
  let proxy: ProxyServer;

  before(async () => {
    primary = await startBackend('primary');
    mirror = await startBackend('mirror');
    hung = await startBackend('hung', (_req, res) => held.push(res));
    deaf = createServer((s) => {
      s.pause();
      deafSockets.push(s);
    });
    await new Promise<void>((r) => deaf.listen(0, '127.0.0.1', r));
    const deafPort = (deaf.address() as AddressInfo).port;
    const route = (prefix: string, policies: unknown[], timeout = '15s') => ({
      match: { prefix },
      route: { cluster: 'primary', timeout, request_mirror_policies: policies },
    });
    const listener = httpListener('edge', [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          route('/copy', [{ cluster: 'mirror' }]),
          route('/nosuffix', [{ cluster: 'mirror', disable_shadow_host_suffix_append: true }]),
          route('/half', [{ cluster: 'mirror', runtime_fraction: { default_value: { numerator: 50 } } }]),
          route('/header', [{ cluster_header: 'x-mirror-to' }]),
          route('/hung', [{ cluster: 'hung' }], '5s'),
          route('/deaf', [{ cluster: 'deaf' }]),
        ],
      },
    ]);
    (listener as { per_connection_buffer_limit_bytes?: number }).per_connection_buffer_limit_bytes = 65_536;
    proxy = await ProxyServer.start(
      {
        bootstrap: bootstrap(
          [listener],
          [
            staticCluster('primary', [primary.port]),
            staticCluster('mirror', [mirror.port]),
            staticCluster('hung', [hung.port]),
            staticCluster('deaf', [deafPort]),
          ],
        ),
        drainTimeMs: 100,
      },
      { clock, logger: createMemoryLogger(), random: () => randoms.shift() ?? 0.99, hostname: 'test-host' },
    );
  });
  after(async () => {
    clock.advance(60_000);
    for (const res of held) res.destroy();
    for (const s of deafSockets) s.destroy();
    await proxy.shutdown();
    await primary.close();
    await mirror.close();
    await hung.close();
    await new Promise<void>((r) => deaf.close(() => r()));
  });

  const port = () => proxy.listeners.get('edge')!.address.port;
  const counter = (cluster: string, name: string) => proxy.stats.counter(`cluster.${cluster}.${name}`).value;
  const gauge = (cluster: string, name: string) => proxy.stats.gauge(`cluster.${cluster}.${name}`).value;

  it('sends the mirror a copy with the -shadow host and the body; its response is discarded', async () => {
    randoms.length = 0;
    const seen = mirror.seen.length;
    const res = await request(port(), '/copy?q=1', {
      method: 'POST',
      headers: { host: 'shop.local:8080', 'x-trace': 't1' },
      body: 'hello mirror',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'primary POST /copy?q=1\n', "the client sees the primary's response");
    await waitFor(() => counter('mirror', 'upstream_rq_200') === 1, 'the shadow response');
    const copy = mirror.seen[seen];
    assert.equal(copy.method, 'POST');
    assert.equal(copy.url, '/copy?q=1');
    assert.equal(copy.headers.host, 'shop.local-shadow:8080');
    assert.equal(copy.headers['x-trace'], 't1');
    assert.equal(copy.body, 'hello mirror');
    assert.equal(primary.seen.at(-1)!.headers.host, 'shop.local:8080', 'the primary keeps its host');
    assert.equal(counter('mirror', 'upstream_rq_total'), 1);
    assert.equal(gauge('mirror', 'upstream_rq_active'), 0);
  });

  it('disable_shadow_host_suffix_append keeps the host; cluster_header picks the cluster', async () => {
    randoms.length = 0;
    const seen = mirror.seen.length;
    await request(port(), '/nosuffix', { headers: { host: 'shop.local' } });
    await request(port(), '/header', { headers: { host: 'shop.local', 'x-mirror-to': 'mirror' } });
    await request(port(), '/header', { headers: { host: 'shop.local', 'x-mirror-to': 'nowhere' } });
    await waitFor(() => mirror.seen.length === seen + 2, 'two shadows');
    assert.deepEqual(
      mirror.seen.slice(seen).map((r) => `${r.url} ${r.headers.host}`),
      ['/nosuffix shop.local', '/header shop.local-shadow'],
    );
  });

  it('samples runtime_fraction with the injected random()', async () => {
    randoms.length = 0;
    randoms.push(0.7, 0.1); // 50/100: the first is not mirrored, the second is
    const seen = mirror.seen.length;
    await request(port(), '/half/1');
    await request(port(), '/half/2');
    await waitFor(() => mirror.seen.length === seen + 1, 'one shadow');
    assert.equal(mirror.seen[seen].url, '/half/2');
  });

  it('a mirror that never answers does not hold the primary; the route timeout ends the shadow', async () => {
    randoms.length = 0;
    const heldBefore = held.length;
    const res = await request(port(), '/hung', { method: 'POST', body: 'x'.repeat(1000) });
    assert.equal(res.status, 200);
    // The primary's answer came back although the shadow is still waiting for its response.
    await waitFor(() => held.length === heldBefore + 1, 'the hung backend holds the shadow');
    assert.equal(hung.seen.at(-1)!.body.length, 1000);
    assert.equal(gauge('hung', 'upstream_rq_active'), 1, 'the shadow is still outstanding');
    assert.equal(counter('hung', 'upstream_rq_timeout'), 0);
    clock.advance(5_000);
    assert.equal(counter('hung', 'upstream_rq_timeout'), 1);
    assert.equal(gauge('hung', 'upstream_rq_active'), 0);
  });

  it('a mirror that does not read is dropped instead of buffering the body or slowing the primary', async () => {
    randoms.length = 0;
    const size = 16 * 1024 * 1024;
    const res = await request(port(), '/deaf', { method: 'POST', body: Buffer.alloc(size, 0x61) });
    assert.equal(res.status, 200);
    assert.equal(primary.seen.at(-1)!.body.length, size, 'the primary got the whole body');
    assert.equal(counter('deaf', 'upstream_rq_tx_reset'), 1, 'the shadow was dropped');
    assert.equal(gauge('deaf', 'upstream_rq_active'), 0);
  });
});
