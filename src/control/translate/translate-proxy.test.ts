// Proves translated output is usable: the listeners, clusters, routes and endpoints of a
// mesh, inlined into a static bootstrap, pass the proxy's own validator and drive a real
// in-process proxy that routes requests to real backends as the HTTPRoute says.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import {
  type Backend,
  type RunningProxy,
  request,
  seededRandom,
  startBackend,
  startProxy,
} from '../../../tests/support/harness.js';
import { createDefaultHttpFilterRegistry } from '../../config/http-filter-registry.js';
import { parseBootstrap } from '../../config/load-bootstrap.js';
import { ConfigError } from '../../core/errors.js';
import { LB_POLICIES } from '../kinds/destination-policy.js';
import { createMeshFixture } from './mesh-fixture.js';
import { createMeshIndex } from './mesh-index.js';
import type { MeshSnapshot } from './snapshot.js';
import { toStaticBootstrap } from './static-bootstrap.js';
import { translateProxy } from './translate.js';
import type { EnvoyJson } from './xds-resources.js';

const ADMIN = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
const HTTP = [{ name: 'http', port: 80, protocol: 'HTTP' as const }];

function meshFor(ports: { v1: number; v2: number; api: number }): MeshSnapshot {
  const f = createMeshFixture();
  return f.snapshot({
    services: [
      f.service('web', HTTP),
      f.service('web-v1', HTTP),
      f.service('web-v2', HTTP),
      f.service('api', HTTP, 'team'),
    ],
    workloads: [
      f.workload('v1', { app: 'web-v1' }, { ports: { http: ports.v1 }, locality: { region: 'eu' } }),
      f.workload('v2', { app: 'web-v2' }, { ports: { http: ports.v2 } }),
      f.workload('api', { app: 'api' }, { ports: { http: ports.api } }, 'team'),
    ],
    httpRoutes: [
      f.httpRoute('web', {
        parentRefs: [f.serviceParent('web', 80)],
        rules: [
          {
            matches: [
              { path: { type: 'PathPrefix', value: '/v2' } },
              { headers: [{ name: 'x-canary', value: 'yes' }] },
            ],
            filters: [
              {
                type: 'URLRewrite',
                urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } },
              },
            ],
            backendRefs: [{ name: 'web-v2', port: 80 }],
          },
          {
            matches: [{ path: { type: 'Exact', value: '/old' } }],
            filters: [
              {
                type: 'RequestRedirect',
                requestRedirect: {
                  hostname: 'new.example',
                  path: { type: 'ReplaceFullPath', replaceFullPath: '/new' },
                },
              },
            ],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/split' } }],
            backendRefs: [
              { name: 'web-v1', port: 80, weight: 1 },
              { name: 'web-v2', port: 80, weight: 1 },
            ],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: { set: [{ name: 'x-route', value: 'default' }], remove: ['x-secret'] },
              },
              {
                type: 'ResponseHeaderModifier',
                responseHeaderModifier: { add: [{ name: 'x-served-by', value: 'weft' }] },
              },
              { type: 'URLRewrite', urlRewrite: { hostname: 'web-v1.internal' } },
            ],
            backendRefs: [{ name: 'web-v1', port: 80 }],
            timeouts: { request: '5s' },
          },
        ],
      }),
    ],
  });
}

function bootstrapFor(snap: MeshSnapshot): EnvoyJson {
  const t = translateProxy(
    createMeshIndex(snap),
    { kind: 'consumer', namespace: 'default' },
    { outboundHttpPort: 0 },
  );
  assert.deepEqual(t.warnings, []);
  return toStaticBootstrap(t, ADMIN);
}

test('the translated config passes the proxy validator (parseBootstrap)', () => {
  const boot = bootstrapFor(meshFor({ v1: 1001, v2: 1002, api: 1003 }));
  const parsed = parseBootstrap(JSON.stringify(boot), 'translated', createDefaultHttpFilterRegistry());
  assert.deepEqual(parsed.staticResources.clusters.map((c) => c.name).sort(), [
    'outbound|80||api.team',
    'outbound|80||web-v1.default',
    'outbound|80||web-v2.default',
    'outbound|80||web.default',
  ]);
  const hcm = parsed.staticResources.listeners[0].filterChains[0].filters[0];
  assert.equal(hcm.kind, 'http_connection_manager');
  // The validator must be able to fail on this path: a dangling cluster is rejected.
  const broken = structuredClone(boot) as { static_resources: { clusters: EnvoyJson[] } };
  broken.static_resources.clusters = broken.static_resources.clusters.filter(
    (c) => c.name !== 'outbound|80||web-v2.default',
  );
  assert.throws(
    () => parseBootstrap(YAML.stringify(broken), 'broken', createDefaultHttpFilterRegistry()),
    (e: unknown) =>
      e instanceof ConfigError && e.issues.some((i) => /web-v2\.default' is not defined/.test(i.message)),
  );
});

test('every DestinationPolicy load balancer passes the proxy validator, with its hash policy', () => {
  for (const policy of LB_POLICIES) {
    const hashing = policy === 'RING_HASH' || policy === 'MAGLEV';
    const f = createMeshFixture();
    const snap = f.snapshot({
      services: [f.service('web', HTTP)],
      workloads: [f.workload('w', { app: 'web' }, { ports: { http: 1001 } })],
      destinationPolicies: [
        f.policy('p', {
          targetRef: { kind: 'Service', name: 'web' },
          loadBalancer: {
            policy,
            ...(hashing
              ? {
                  hash: [
                    { header: { name: 'X-User' } },
                    { cookie: { name: 's', ttl: '1h', path: '/' } },
                    { sourceIP: true },
                  ],
                }
              : {}),
            ...(policy === 'RING_HASH' ? { ringHash: { minimumRingSize: 64, maximumRingSize: 4096 } } : {}),
            ...(policy === 'LEAST_REQUEST' ? { leastRequest: { choiceCount: 3 } } : {}),
          },
        }),
      ],
    });
    const parsed = parseBootstrap(
      JSON.stringify(bootstrapFor(snap)),
      policy,
      createDefaultHttpFilterRegistry(),
    );
    const cluster = parsed.staticResources.clusters.find((c) => c.name === 'outbound|80||web.default')!;
    assert.equal(cluster.lbPolicy, policy);
    if (policy === 'LEAST_REQUEST') assert.equal(cluster.lbConfig?.leastRequest.choiceCount, 3);
    if (policy === 'RING_HASH')
      assert.deepEqual(cluster.lbConfig?.ringHash, { minimumRingSize: 64, maximumRingSize: 4096 });
    const hcm = parsed.staticResources.listeners[0].filterChains[0].filters[0];
    assert.ok(hcm.kind === 'http_connection_manager');
    const routes = hcm.config.routeConfig.virtualHosts.flatMap((v) => v.routes);
    const action = routes.map((r) => r.action).find((a) => a.kind === 'route' && a.hashPolicy !== undefined);
    assert.equal(action !== undefined, hashing, `${policy}: a route hash_policy only for hashing policies`);
  }
});

test('DestinationPolicy slow start, maglev size, panic threshold, locality and outlier extras reach the proxy model', () => {
  const build = (loadBalancer: Record<string, unknown>, outlierDetection?: Record<string, unknown>) => {
    const f = createMeshFixture();
    const snap = f.snapshot({
      services: [f.service('web', HTTP)],
      workloads: [
        f.workload('w', { app: 'web' }, { ports: { http: 1001 }, locality: { region: 'eu', zone: 'a' } }),
      ],
      destinationPolicies: [
        f.policy('p', { targetRef: { kind: 'Service', name: 'web' }, loadBalancer, outlierDetection }),
      ],
    });
    const parsed = parseBootstrap(
      JSON.stringify(bootstrapFor(snap)),
      'policy',
      createDefaultHttpFilterRegistry(),
    );
    return parsed.staticResources.clusters.find((c) => c.name === 'outbound|80||web.default')!;
  };
  const rr = build(
    {
      slowStart: { window: '30s', aggression: 2, minWeightPercent: 5 },
      healthyPanicThreshold: 30,
      locality: { mode: 'ZoneAware', routingEnabledPercent: 80, minClusterSize: 2 },
    },
    {
      consecutiveGatewayFailure: 3,
      successRate: { minimumHosts: 3, requestVolume: 40, stdevFactor: 1.5 },
      failurePercentage: { thresholdPercent: 60 },
    },
  );
  assert.deepEqual(rr.lbConfig?.slowStart, { windowMs: 30_000, aggression: 2, minWeightPercent: 5 });
  assert.equal(rr.lbConfig?.healthyPanicThresholdPercent, 30);
  assert.deepEqual(rr.lbConfig?.zoneAware, { routingEnabledPercent: 80, minClusterSize: 2 });
  const od = rr.outlierDetection!;
  assert.equal(od.consecutiveGatewayFailure, 3);
  assert.equal(od.enforcingConsecutiveGatewayFailure, 100, 'a named gateway-failure threshold is enforced');
  assert.deepEqual(
    [od.successRateMinimumHosts, od.successRateRequestVolume, od.successRateStdevFactor],
    [3, 40, 1.5],
  );
  assert.equal(od.failurePercentageThreshold, 60);
  assert.equal(od.enforcingFailurePercentage, 100, 'a failurePercentage block is enforced');
  const lr = build({
    policy: 'LEAST_REQUEST',
    leastRequest: { choiceCount: 3 },
    slowStart: { window: '10s' },
  });
  assert.equal(lr.lbConfig?.leastRequest.choiceCount, 3);
  assert.equal(lr.lbConfig?.slowStart?.windowMs, 10_000);
  assert.equal(build({ policy: 'MAGLEV', maglev: { tableSize: 251 } }).lbConfig?.maglevTableSize, 251);
  const weighted = build({ locality: { mode: 'Weighted' } });
  assert.equal(weighted.lbConfig?.localityWeighted, true);
  assert.equal(weighted.loadAssignment.endpoints[0]?.loadBalancingWeight, 1, 'the locality carries a weight');
});

describe('a proxy running translated config routes as the HTTPRoute says', () => {
  let v1: Backend;
  let v2: Backend;
  let api: Backend;
  let proxy: RunningProxy;
  let port: number;

  before(async () => {
    [v1, v2, api] = await Promise.all([startBackend('v1'), startBackend('v2'), startBackend('api')]);
    // A seeded random makes the weighted pick reproducible.
    proxy = await startProxy(bootstrapFor(meshFor({ v1: v1.port, v2: v2.port, api: api.port })), {
      random: seededRandom(7),
    });
    port = proxy.port('outbound_http');
  });
  after(async () => {
    await proxy?.close();
    await Promise.all([v1?.close(), v2?.close(), api?.close()]);
  });

  test('PathPrefix match with ReplacePrefixMatch goes to web-v2 with the prefix replaced', async () => {
    const res = await request(port, '/v2/items?x=1', { headers: { host: 'web.default:80' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-backend'], 'v2');
    assert.equal(v2.seen.at(-1)?.url, '/items?x=1');
    // Segment semantics: /v2x is not under the /v2 prefix.
    const other = await request(port, '/v2x', { headers: { host: 'web' } });
    assert.equal(other.headers['x-backend'], 'v1');
  });

  test('a header match is a separate match of the same rule', async () => {
    const res = await request(port, '/anything', { headers: { host: 'web', 'x-canary': 'yes' } });
    assert.equal(res.headers['x-backend'], 'v2');
  });

  test('RequestRedirect answers 302 with the new location', async () => {
    const res = await request(port, '/old', { headers: { host: 'web.default.svc' } });
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, 'http://new.example/new');
  });

  test('the default rule applies header modifiers and the host rewrite', async () => {
    const res = await request(port, '/hello', { headers: { host: 'web.default', 'x-secret': 's' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-backend'], 'v1');
    assert.equal(res.headers['x-served-by'], 'weft');
    const seen = v1.seen.at(-1)!;
    assert.equal(seen.headers['x-route'], 'default');
    assert.equal(seen.headers['x-secret'], undefined);
    assert.equal(seen.headers.host, 'web-v1.internal');
  });

  test('weighted backendRefs reach both backends', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 16 && seen.size < 2; i++) {
      const res = await request(port, '/split', { headers: { host: 'web' } });
      seen.add(String(res.headers['x-backend']));
    }
    assert.deepEqual([...seen].sort(), ['v1', 'v2']);
  });

  test('a Service without routes gets the default route; an unknown host gets 404', async () => {
    const res = await request(port, '/x', { headers: { host: 'api.team:80' } });
    assert.equal(res.headers['x-backend'], 'api');
    const none = await request(port, '/x', { headers: { host: 'nope.default' } });
    assert.equal(none.status, 404);
  });
});
