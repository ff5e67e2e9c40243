// typed_per_filter_config, local rate limits and request mirroring delivered over xDS: a
// real ADS server (protobuf on the wire, Any-packed per-route configs) feeds a proxy a
// listener with the fault and local rate limit filters, an RDS route configuration whose
// routes carry per-route configs and a mirror policy, and the proxy honours them. A bad
// per-route config is NACKed with its path while the last good routes keep serving.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../src/core/clock.js';
import { createMemoryLogger } from '../src/core/logger.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import { buildXdsBootstrap } from '../src/proxy/xds/xds-bootstrap.js';
import { type AdsServer, createAdsServer } from '../src/xds/ads-server.js';
import type { Json, JsonObject } from '../src/xds/json-codec.js';
import { createProtoLoader } from '../src/xds/protos.js';
import { createSnapshot, createStaticSnapshotSource } from '../src/xds/snapshot.js';
import { TYPE_URLS } from '../src/xds/type-urls.js';
import { type Backend, HCM_TYPE, ROUTER_FILTER, request, startBackend, waitFor } from './support/harness.js';

const protos = createProtoLoader().get();
const { listener: LDS, route: RDS, cluster: CDS, endpoint: EDS } = TYPE_URLS;
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const RL = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const NETWORK_RL = 'type.googleapis.com/envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit';
const FILTER_CONFIG = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';

function edsCluster(name: string): JsonObject {
  return { name, type: 'EDS', connect_timeout: '1s', eds_cluster_config: { eds_config: { ads: {} } } };
}
function endpoints(name: string, port: number): JsonObject {
  return {
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
        ],
      },
    ],
  };
}
const listener: JsonObject = {
  name: 'ingress',
  address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
  filter_chains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.local_ratelimit',
          typed_config: {
            '@type': NETWORK_RL,
            stat_prefix: 'ingress_cx',
            token_bucket: { max_tokens: 1000, fill_interval: '1s' },
          },
        },
        {
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': HCM_TYPE,
            stat_prefix: 'ingress',
            rds: { route_config_name: 'main', config_source: { ads: {} } },
            http_filters: [
              { name: 'envoy.filters.http.fault', typed_config: { '@type': FAULT } },
              {
                name: 'envoy.filters.http.local_ratelimit',
                typed_config: { '@type': RL, stat_prefix: 'ingress_rl' },
              },
              ROUTER_FILTER as unknown as Json,
            ],
          },
        },
      ],
    },
  ],
};
function routes(abortStatus: number | string): JsonObject {
  return {
    name: 'main',
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [
          {
            match: { prefix: '/faulty' },
            route: { cluster: 'app' },
            typed_per_filter_config: {
              'envoy.filters.http.fault': {
                '@type': FAULT,
                abort: { http_status: abortStatus, percentage: { numerator: 100 } },
              },
            },
          },
          {
            match: { prefix: '/limited' },
            route: { cluster: 'app' },
            typed_per_filter_config: {
              'envoy.filters.http.local_ratelimit': {
                '@type': FILTER_CONFIG,
                config: {
                  '@type': RL,
                  stat_prefix: 'limited_route',
                  token_bucket: { max_tokens: 1, tokens_per_fill: 1, fill_interval: '3600s' },
                  filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
                  filter_enforced: { default_value: { numerator: 100 } },
                },
              },
            },
          },
          {
            match: { prefix: '/' },
            route: { cluster: 'app', request_mirror_policies: [{ cluster: 'shadow' }] },
          },
        ],
      },
    ],
  };
}

describe('per-route filter configs and mirroring over xDS', () => {
  let app: Backend;
  let shadow: Backend;
  let server: AdsServer;
  let proxy: ProxyServer;
  const source = createStaticSnapshotSource(createSnapshot({}));
  const logger = createMemoryLogger();

  const spec = (abortStatus: number | string) => ({
    [CDS]: { app: edsCluster('app'), shadow: edsCluster('shadow') },
    [EDS]: { app: endpoints('app', app.port), shadow: endpoints('shadow', shadow.port) },
    [LDS]: { ingress: listener },
    [RDS]: { main: routes(abortStatus) },
  });

  before(async () => {
    app = await startBackend('app');
    shadow = await startBackend('shadow');
    source.set(createSnapshot(spec(503)));
    server = createAdsServer({
      source,
      protos,
      logger: createMemoryLogger(),
      port: 0,
      debounceMs: 0,
      maxDebounceMs: 0,
    });
    const bound = await server.start();
    proxy = await ProxyServer.start(
      {
        bootstrap: buildXdsBootstrap({
          server: `127.0.0.1:${bound.port}`,
          nodeId: 'proxy-1',
          nodeCluster: 'test',
          adminAddress: '127.0.0.1:0',
        }),
        drainTimeMs: 200,
      },
      {
        clock: systemClock,
        logger,
        hostname: 'test-host',
        xds: { protos: () => protos, clock: createManualClock(), random: () => 0.5 },
      },
    );
    await waitFor(() => proxy.listeners.get('ingress') !== undefined, 'the xDS listener');
  });
  after(async () => {
    await proxy.shutdown();
    await server.stop();
    await app.close();
    await shadow.close();
  });

  const port = () => proxy.listeners.get('ingress')!.address.port;

  it('a per-route fault aborts its route only; a per-route bucket limits its route; the mirror gets a copy', async () => {
    assert.equal((await request(port(), '/faulty')).status, 503);
    const seen = app.seen.length;
    assert.equal((await request(port(), '/other')).status, 200, 'the filter itself injects nothing');
    assert.equal(app.seen.length, seen + 1);
    assert.deepEqual(
      [(await request(port(), '/limited')).status, (await request(port(), '/limited')).status],
      [200, 429],
    );
    assert.equal(proxy.stats.counter('limited_route.http_local_rate_limit.enforced').value, 1);
    await waitFor(() => shadow.seen.some((r) => r.url === '/other'), 'the shadow copy');
    assert.match(shadow.seen.find((r) => r.url === '/other')!.headers.host ?? '', /-shadow/);
  });

  it('a bad per-route config over RDS is NACKed by path; the last good routes keep serving', async () => {
    source.set(createSnapshot(spec(42)));
    server.flush();
    await waitFor(
      () =>
        logger.lines.some((l) =>
          l.includes('typed_per_filter_config.envoy.filters.http.fault.abort.http_status'),
        ),
      'the NACK',
    );
    assert.equal((await request(port(), '/faulty')).status, 503, 'the last good route config still applies');
  });
});
