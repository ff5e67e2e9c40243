// The admin API (/ready, /stats, /stats/prometheus, /config_dump, /clusters,
// /listeners, /memory, /drain_listeners) and a tcp_proxy listener configured from the bootstrap,
// through real sockets.

import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  type Backend,
  bootstrap,
  echoServer,
  httpListener,
  type RunningProxy,
  request,
  startBackend,
  startProxy,
  staticCluster,
  tcpListener,
  waitFor,
} from './support/harness.js';

async function get(p: RunningProxy, path: string, method = 'GET') {
  const url = new URL(p.adminUrl(path));
  return request(Number(url.port), `${url.pathname}${url.search}`, { method });
}

describe('admin API and TCP proxy', () => {
  let backend: Backend;
  let echo: Server;
  let proxy: RunningProxy;

  before(async () => {
    backend = await startBackend('app');
    echo = await echoServer();
    const echoPort = (echo.address() as { port: number }).port;
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('web', [
            { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
          ]),
          tcpListener('echo', 'echo'),
        ],
        [staticCluster('app', [backend.port]), staticCluster('echo', [echoPort])],
      ),
    );
  });

  after(async () => {
    await proxy.close();
    await backend.close();
    echo.close();
  });

  it('proxies TCP both ways with half-close and counts bytes', async () => {
    const payload = Buffer.alloc(256 * 1024, 'z');
    const got = await new Promise<Buffer>((resolve, reject) => {
      const s = connect(proxy.port('echo'), '127.0.0.1');
      const chunks: Buffer[] = [];
      s.on('connect', () => s.end(payload)); // half-close after sending
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    });
    assert.equal(got.length, payload.length);
    assert.ok(got.equals(payload));
    await waitFor(
      async () => /tcp\.echo\.downstream_cx_tx_bytes_total: 262144/.test((await get(proxy, '/stats')).body),
      'tcp byte stats',
    );
    const stats = (await get(proxy, '/stats?filter=^tcp\\.echo\\.')).body;
    assert.match(stats, /tcp\.echo\.downstream_cx_rx_bytes_total: 262144/);
    assert.match(stats, /tcp\.echo\.downstream_cx_total: 1/);
  });

  it('reports readiness, stats and Prometheus metrics', async () => {
    assert.equal((await get(proxy, '/ready')).body, 'LIVE\n');
    for (let i = 0; i < 3; i++) assert.equal((await request(proxy.port('web'), '/x')).status, 200);
    const stats = (await get(proxy, '/stats')).body;
    assert.match(stats, /^http\.web\.downstream_rq_total: 3$/m);
    assert.match(stats, /^http\.web\.downstream_rq_2xx: 3$/m);
    assert.match(stats, /^cluster\.app\.upstream_rq_total: 3$/m);
    assert.match(stats, /^cluster\.app\.upstream_rq_200: 3$/m);
    const json = JSON.parse((await get(proxy, '/stats?format=json')).body) as {
      stats: Array<{ name: string; value: number }>;
    };
    assert.equal(json.stats.find((s) => s.name === 'http.web.downstream_rq_total')?.value, 3);
    const prom = (await get(proxy, '/stats/prometheus')).body;
    assert.match(prom, /^# TYPE envoy_http_downstream_rq_total counter$/m);
    assert.match(prom, /^envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="web"\} 3$/m);
    assert.match(
      prom,
      /^envoy_cluster_upstream_rq_xx\{envoy_response_code_class="2",envoy_cluster_name="app"\} 3$/m,
    );
  });

  it('dumps the active config, clusters and listeners', async () => {
    const dump = JSON.parse((await get(proxy, '/config_dump')).body) as {
      configs: Array<Record<string, unknown>>;
    };
    const boot = dump.configs[0] as {
      bootstrap: { static_resources: { clusters: Array<{ name: string }> } };
    };
    assert.deepEqual(
      boot.bootstrap.static_resources.clusters.map((c) => c.name),
      ['app', 'echo'],
    );
    const clusters = (await get(proxy, '/clusters')).body;
    assert.match(clusters, new RegExp(`^app::127\\.0\\.0\\.1:${backend.port}::rq_total::\\d+$`, 'm'));
    assert.match(clusters, /^app::127\.0\.0\.1:\d+::health_flags::healthy$/m);
    const listeners = (await get(proxy, '/listeners')).body;
    assert.match(listeners, new RegExp(`^web::127\\.0\\.0\\.1:${proxy.port('web')}$`, 'm'));
    assert.equal((await get(proxy, '/nope')).status, 404);
  });

  it("reports memory as Envoy's admin.v3.Memory, the resident set included", async () => {
    const res = await get(proxy, '/memory');
    assert.equal(res.status, 200);
    const memory = JSON.parse(res.body) as Record<string, string>;
    assert.deepEqual(Object.keys(memory).sort(), [
      'allocated',
      'heap_size',
      'pageheap_free',
      'pageheap_unmapped',
      'total_physical_bytes',
      'total_thread_cache',
    ]);
    for (const [k, v] of Object.entries(memory)) assert.match(v, /^\d+$/, `${k}: uint64 as a decimal string`);
    const n = (k: string) => Number(memory[k]);
    assert.ok(n('allocated') > 1 << 20 && n('allocated') <= n('heap_size'), JSON.stringify(memory));
    // This proxy runs in the test process: its resident set is the process's.
    const rss = process.memoryUsage.rss();
    assert.ok(
      Math.abs(n('total_physical_bytes') - rss) < rss * 0.25,
      `${n('total_physical_bytes')} vs rss ${rss}`,
    );
  });

  it('drains listeners on POST /drain_listeners and reports DRAINING', async () => {
    assert.equal((await get(proxy, '/drain_listeners')).status, 405);
    const port = proxy.port('web');
    assert.equal((await get(proxy, '/drain_listeners', 'POST')).status, 200);
    await waitFor(async () => (await get(proxy, '/ready')).status === 503, '/ready to report draining');
    assert.equal((await get(proxy, '/ready')).body, 'DRAINING\n');
    await assert.rejects(request(port, '/'), /ECONNREFUSED/);
  });
});

describe('start-up failure', () => {
  it('reports an admin address in use and leaves no listener bound', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const adminPort = (blocker.address() as { port: number }).port;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const httpPort = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const listener = httpListener('web', [
      { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200 } }] },
    ]);
    listener.address.socket_address.port_value = httpPort;
    const config = bootstrap([listener], []);
    config.admin.address.socket_address.port_value = adminPort;
    try {
      await assert.rejects(startProxy(config), /WEFT_LISTEN_FAILED|admin: cannot listen .*EADDRINUSE/);
      await waitFor(
        () =>
          new Promise<boolean>((resolve) => {
            const s = connect(httpPort, '127.0.0.1');
            s.on('connect', () => {
              s.destroy();
              resolve(false);
            });
            s.on('error', () => resolve(true));
          }),
        'the HTTP listener to be closed',
      );
    } finally {
      blocker.close();
    }
  });
});
