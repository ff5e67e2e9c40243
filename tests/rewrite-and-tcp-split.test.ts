// Small Envoy features through a real proxy: a route's `regex_rewrite` (what the control
// plane emits for Gateway API URLRewrite ReplaceFullPath), `auto_host_rewrite` on a
// STRICT_DNS cluster, and `tcp_proxy.weighted_clusters` (an SMI TrafficSplit on a TCP port).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  type Backend,
  bootstrap,
  httpListener,
  type RunningProxy,
  request,
  seededRandom,
  startBackend,
  startProxy,
  staticCluster,
  TCP_PROXY_TYPE,
} from './support/harness.js';

/** A TCP server that writes its name and closes. */
async function nameServer(name: string): Promise<{ port: number; close(): void }> {
  const server = net.createServer((s) => s.end(name));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

function readAll(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('regex_rewrite, auto_host_rewrite and tcp_proxy weighted_clusters', () => {
  let backend: Backend;
  let a: { port: number; close(): void };
  let b: { port: number; close(): void };
  let proxy: RunningProxy;

  before(async () => {
    backend = await startBackend('app');
    a = await nameServer('a');
    b = await nameServer('b');
    const routes = [
      { match: { prefix: '/auto/' }, route: { cluster: 'dns', auto_host_rewrite: true } },
      {
        match: { prefix: '/service/' },
        route: {
          cluster: 'app',
          regex_rewrite: { pattern: { regex: '^/service/([^/]+)(/.*)$' }, substitution: '\\2/instance/\\1' },
        },
      },
    ];
    const tcp = {
      name: 'tcp',
      address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.tcp_proxy',
              typed_config: {
                '@type': TCP_PROXY_TYPE,
                stat_prefix: 'split',
                weighted_clusters: {
                  clusters: [
                    { name: 'a', weight: 3 },
                    { name: 'b', weight: 1 },
                  ],
                },
              },
            },
          ],
        },
      ],
    };
    proxy = await startProxy(
      bootstrap(
        [httpListener('http', [{ name: 'all', domains: ['*'], routes }]), tcp],
        [
          staticCluster('app', [backend.port]),
          staticCluster('a', [a.port]),
          staticCluster('b', [b.port]),
          {
            name: 'dns',
            type: 'STRICT_DNS',
            dns_lookup_family: 'V4_ONLY',
            connect_timeout: '1s',
            load_assignment: {
              cluster_name: 'dns',
              endpoints: [
                {
                  lb_endpoints: [
                    {
                      endpoint: {
                        address: { socket_address: { address: 'localhost', port_value: backend.port } },
                      },
                    },
                  ],
                },
              ],
            },
          },
        ],
      ),
      { random: seededRandom(7) },
    );
  });

  after(async () => {
    await proxy.close();
    await backend.close();
    a.close();
    b.close();
  });

  it('regex_rewrite rewrites the path part with groups and keeps the query', async () => {
    const res = await request(proxy.port('http'), '/service/foo/v1/api?x=1');
    assert.equal(res.status, 200);
    assert.equal(backend.seen.at(-1)?.url, '/v1/api/instance/foo?x=1');
  });

  it('auto_host_rewrite sends the DNS name of the chosen host as Host', async () => {
    const res = await request(proxy.port('http'), '/auto/x', { headers: { host: 'shop.example' } });
    assert.equal(res.status, 200);
    assert.equal(backend.seen.at(-1)?.headers.host, 'localhost');
    const plain = await request(proxy.port('http'), '/service/a/b', { headers: { host: 'shop.example' } });
    assert.equal(plain.status, 200);
    assert.equal(backend.seen.at(-1)?.headers.host, 'shop.example', 'other routes keep the Host');
  });

  it('weighted_clusters spreads connections by weight (3:1 within tolerance over 400)', async () => {
    const counts = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 400; i++) counts[await readAll(proxy.port('tcp'))]++;
    assert.equal(counts.a + counts.b, 400, JSON.stringify(counts));
    // Binomial(400, 0.75): sd ≈ 8.7; 5 sd = ±43.
    assert.ok(Math.abs(counts.a - 300) < 44, JSON.stringify(counts));
  });

  it('refuses both cluster and weighted_clusters, and an empty weighted list, by path', async () => {
    const bad = (typed: Record<string, unknown>) =>
      proxy.reload(
        bootstrap(
          [
            {
              name: 'tcp2',
              address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
              filter_chains: [
                {
                  filters: [
                    { name: 'tcp', typed_config: { '@type': TCP_PROXY_TYPE, stat_prefix: 's', ...typed } },
                  ],
                },
              ],
            },
          ],
          [staticCluster('a', [a.port])],
        ),
      );
    const both = await bad({ cluster: 'a', weighted_clusters: { clusters: [{ name: 'a', weight: 1 }] } });
    assert.equal(both.ok, false);
    assert.match(String(!both.ok && both.error.message), /only one of cluster, weighted_clusters may be set/);
    const empty = await bad({ weighted_clusters: { clusters: [] } });
    assert.match(
      String(!empty.ok && empty.error.message),
      /weighted_clusters\.clusters: must list at least one cluster/,
    );
    const zero = await bad({ weighted_clusters: { clusters: [{ name: 'a', weight: 0 }] } });
    assert.match(String(!zero.ok && zero.error.message), /clusters\[0\]\.weight/);
  });
});
