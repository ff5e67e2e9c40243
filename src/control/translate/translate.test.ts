// Structural tests of the translator: names, listeners, EDS clusters and endpoints,
// GAMMA producer/consumer selection, TrafficSplit weights, filters, timeouts and retries,
// DestinationPolicy fields. (translate-proxy.test.ts runs the output through the proxy.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMeshFixture } from './mesh-fixture.js';
import { createMeshIndex } from './mesh-index.js';
import type { MeshSnapshot, ProxyIdentity } from './snapshot.js';
import { translateProxy } from './translate.js';
import {
  CLUSTER_TYPE,
  ENDPOINT_TYPE,
  type EnvoyJson,
  LISTENER_TYPE,
  ROUTE_TYPE,
  type Translation,
} from './xds-resources.js';

const CONSUMER: ProxyIdentity = { kind: 'consumer', namespace: 'default' };

function run(snap: MeshSnapshot, identity: ProxyIdentity = CONSUMER): Translation {
  return translateProxy(createMeshIndex(snap), identity);
}

function named(t: Translation, type: keyof Translation['resources'], name: string): EnvoyJson {
  const r = t.resources[type].find((x) => x.name === name);
  assert.ok(r, `${name} not found among ${t.resources[type].map((x) => x.name).join(', ')}`);
  return r.resource;
}

function vhost(t: Translation, name: string): EnvoyJson {
  const rc = named(t, ROUTE_TYPE, 'outbound_http');
  const vh = (rc.virtual_hosts as EnvoyJson[]).find((v) => v.name === name);
  assert.ok(vh, `virtual host ${name}`);
  return vh;
}

describe('translation', () => {
  test('Service ports become EDS clusters, endpoints come from healthy selected Workloads', () => {
    const f = createMeshFixture();
    const t = run(
      f.snapshot({
        services: [
          f.service('web', [
            { name: 'http', port: 80, protocol: 'HTTP' },
            { name: 'db', port: 5432, protocol: 'TCP' },
          ]),
        ],
        workloads: [
          f.workload(
            'w1',
            { app: 'web' },
            {
              address: '10.0.0.1',
              ports: { http: 8080, db: 5432 },
              locality: { region: 'eu', zone: 'a' },
              weight: 3,
            },
          ),
          f.workload('w2', { app: 'web' }, { address: '10.0.0.2', ports: { http: 8080 } }),
          f.workload('w3', { app: 'web' }, { address: '10.0.0.3', ports: { http: 8080 }, healthy: false }),
          f.workload('w4', { app: 'other' }, { address: '10.0.0.4', ports: { http: 8080 } }),
          f.workload('w5', { app: 'web' }, { address: '10.0.0.5', ports: { http: 8080 } }, 'elsewhere'),
        ],
      }),
    );
    const cluster = named(t, CLUSTER_TYPE, 'outbound|80||web.default');
    assert.equal(cluster.type, 'EDS');
    assert.deepEqual(cluster.eds_cluster_config, {
      eds_config: { ads: {}, resource_api_version: 'V3' },
      service_name: 'outbound|80||web.default',
    });
    assert.equal(cluster.connect_timeout, '5s');
    const cla = named(t, ENDPOINT_TYPE, 'outbound|80||web.default');
    assert.deepEqual(cla, {
      cluster_name: 'outbound|80||web.default',
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: { address: { socket_address: { address: '10.0.0.2', port_value: 8080 } } },
              health_status: 'HEALTHY',
              load_balancing_weight: 1,
            },
          ],
          load_balancing_weight: 1,
        },
        {
          locality: { region: 'eu', zone: 'a' },
          lb_endpoints: [
            {
              endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 8080 } } },
              health_status: 'HEALTHY',
              load_balancing_weight: 3,
            },
          ],
          load_balancing_weight: 3,
        },
      ],
    });
    // Only w1 has the `db` port.
    const db = named(t, ENDPOINT_TYPE, 'outbound|5432||web.default');
    assert.equal((db.endpoints as EnvoyJson[]).length, 1);
    // TCP port: its own listener on 127.0.0.1:5432 with tcp_proxy.
    const tcp = named(t, LISTENER_TYPE, 'outbound_tcp|5432||web.default');
    assert.deepEqual(tcp.address, { socket_address: { address: '127.0.0.1', port_value: 5432 } });
    const filter = ((tcp.filter_chains as EnvoyJson[])[0].filters as EnvoyJson[])[0];
    assert.equal((filter.typed_config as EnvoyJson).cluster, 'outbound|5432||web.default');
    // HTTP: one outbound listener using RDS over ADS.
    const http = named(t, LISTENER_TYPE, 'outbound_http');
    const hcm = ((http.filter_chains as EnvoyJson[])[0].filters as EnvoyJson[])[0].typed_config as EnvoyJson;
    assert.deepEqual(hcm.rds, {
      config_source: { ads: {}, resource_api_version: 'V3' },
      route_config_name: 'outbound_http',
    });
  });

  test('virtual host domains: namespace forms with port, short name in the same namespace, port-less for the default port', () => {
    const f = createMeshFixture();
    const snap = f.snapshot({
      services: [
        f.service('web', [
          { name: 'http', port: 80, protocol: 'HTTP' },
          { name: 'admin', port: 9000, protocol: 'HTTP' },
        ]),
        f.service('api', [{ name: 'http', port: 8080, protocol: 'HTTP' }], 'team'),
      ],
    });
    const t = run(snap);
    assert.deepEqual(vhost(t, 'web.default:80').domains, [
      'web:80',
      'web.default:80',
      'web.default.svc:80',
      'web.default.svc.cluster.local:80',
      'web',
      'web.default',
      'web.default.svc',
      'web.default.svc.cluster.local',
    ]);
    assert.deepEqual(vhost(t, 'web.default:9000').domains, [
      'web:9000',
      'web.default:9000',
      'web.default.svc:9000',
      'web.default.svc.cluster.local:9000',
    ]);
    // Another namespace: no short name; its only HTTP port is the default.
    assert.deepEqual(vhost(t, 'api.team:8080').domains, [
      'api.team:8080',
      'api.team.svc:8080',
      'api.team.svc.cluster.local:8080',
      'api.team',
      'api.team.svc',
      'api.team.svc.cluster.local',
    ]);
    assert.deepEqual((vhost(t, 'api.team:8080').routes as EnvoyJson[])[0], {
      name: 'default',
      match: { prefix: '/' },
      route: { cluster: 'outbound|8080||api.team', timeout: '0s' },
    });
  });

  test('GAMMA: consumer routes in the client namespace replace producer routes', () => {
    const f = createMeshFixture();
    const web = f.service('web', [{ name: 'http', port: 80, protocol: 'HTTP' }], 'prod');
    const v2 = f.service('web-v2', [{ name: 'http', port: 80, protocol: 'HTTP' }], 'prod');
    const producer = f.httpRoute(
      'producer',
      { parentRefs: [f.serviceParent('web', 80)], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
      'prod',
    );
    const consumer = f.httpRoute(
      'consumer',
      {
        parentRefs: [f.serviceParent('web', 80, 'prod')],
        rules: [{ backendRefs: [{ name: 'web-v2', namespace: 'prod', port: 80 }] }],
      },
      'canary',
    );
    const snap = f.snapshot({ services: [web, v2], httpRoutes: [producer, consumer] });
    const fromCanary = run(snap, { kind: 'consumer', namespace: 'canary' });
    const fromOther = run(snap, { kind: 'consumer', namespace: 'other' });
    const clusterOf = (t: Translation) =>
      ((vhost(t, 'web.prod:80').routes as EnvoyJson[])[0].route as EnvoyJson).cluster;
    assert.equal(clusterOf(fromCanary), 'outbound|80||web-v2.prod');
    assert.equal(clusterOf(fromOther), 'outbound|80||web.prod');
  });

  test('HTTPRoute rule: split PathPrefix, header/query/method matches, filters, timeouts, retry, mirror', () => {
    const f = createMeshFixture();
    const snap = f.snapshot({
      services: [
        f.service('web', [{ name: 'http', port: 80, protocol: 'HTTP' }]),
        f.service('shadow', [{ name: 'http', port: 80, protocol: 'HTTP' }]),
      ],
      httpRoutes: [
        f.httpRoute('r', {
          parentRefs: [f.serviceParent('web', 80)],
          rules: [
            {
              matches: [
                {
                  path: { type: 'PathPrefix', value: '/api/' },
                  headers: [{ name: 'X-Env', value: 'prod' }],
                  queryParams: [{ type: 'RegularExpression', name: 'id', value: '\\d+' }],
                  method: 'POST',
                },
              ],
              filters: [
                {
                  type: 'URLRewrite',
                  urlRewrite: {
                    path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' },
                    hostname: 'internal',
                  },
                },
                {
                  type: 'ResponseHeaderModifier',
                  responseHeaderModifier: { add: [{ name: 'X-Via', value: 'weft' }], remove: ['Server'] },
                },
                {
                  type: 'RequestMirror',
                  requestMirror: {
                    backendRef: { name: 'shadow', port: 80 },
                    fraction: { numerator: 1, denominator: 3 },
                  },
                },
              ],
              backendRefs: [{ name: 'web', port: 80 }],
              timeouts: { request: '10s', backendRequest: '2s' },
              retry: { codes: [502, 503], attempts: 3, backoff: '250ms' },
            },
          ],
        }),
      ],
    });
    const routes = vhost(run(snap), 'web.default:80').routes as EnvoyJson[];
    assert.equal(routes.length, 2, 'PathPrefix /api/ is path /api plus prefix /api/');
    const [exact, prefix] = routes;
    assert.deepEqual((exact.match as EnvoyJson).path, '/api');
    assert.deepEqual((prefix.match as EnvoyJson).prefix, '/api/');
    assert.deepEqual((exact.match as EnvoyJson).headers, [
      { name: 'x-env', string_match: { exact: 'prod' } },
      { name: ':method', string_match: { exact: 'POST' } },
    ]);
    assert.deepEqual((exact.match as EnvoyJson).query_parameters, [
      { name: 'id', string_match: { safe_regex: { regex: '\\d+' } } },
    ]);
    assert.equal((exact.route as EnvoyJson).prefix_rewrite, '/v2');
    assert.equal((prefix.route as EnvoyJson).prefix_rewrite, '/v2/');
    const action = prefix.route as EnvoyJson;
    assert.equal(action.host_rewrite_literal, 'internal');
    assert.equal(action.timeout, '10s');
    assert.deepEqual(action.retry_policy, {
      retry_on: 'connect-failure,refused-stream,retriable-status-codes',
      num_retries: 3,
      retriable_status_codes: [502, 503],
      per_try_timeout: '2s',
      retry_back_off: { base_interval: '0.25s' },
    });
    assert.deepEqual(action.request_mirror_policies, [
      {
        cluster: 'outbound|80||shadow.default',
        runtime_fraction: { default_value: { numerator: 333333, denominator: 'MILLION' } },
      },
    ]);
    assert.deepEqual(prefix.response_headers_to_add, [
      { header: { key: 'x-via', value: 'weft' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
    ]);
    assert.deepEqual(prefix.response_headers_to_remove, ['server']);
  });

  test("fault annotations on a route become the fault filter's per-route config; outbound HCMs carry the filter", () => {
    const f = createMeshFixture();
    const port = [{ name: 'http', port: 80, protocol: 'HTTP' as const }];
    const snap = f.snapshot({
      services: [f.service('web', port)],
      workloads: [f.workload('w1', { app: 'web' }, { address: '10.0.0.1', ports: { http: 8080 } })],
      httpRoutes: [
        f.httpRoute(
          'slow',
          { parentRefs: [f.serviceParent('web', 80)], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
          'default',
          {
            annotations: {
              'weft.dev/fault-delay': '250ms',
              'weft.dev/fault-delay-percent': '50',
              'weft.dev/fault-abort-status': '503',
              'weft.dev/fault-abort-percent': '10',
            },
          },
        ),
      ],
    });
    const t = run(snap);
    const [route] = vhost(t, 'web.default:80').routes as EnvoyJson[];
    assert.deepEqual(route.typed_per_filter_config, {
      'envoy.filters.http.fault': {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
        delay: { fixed_delay: '0.25s', percentage: { numerator: 500_000, denominator: 'MILLION' } },
        abort: { http_status: 503, percentage: { numerator: 100_000, denominator: 'MILLION' } },
      },
    });
    const hcm = (
      (named(t, LISTENER_TYPE, 'outbound_http').filter_chains as EnvoyJson[])[0].filters as EnvoyJson[]
    )[0];
    assert.deepEqual(
      ((hcm.typed_config as EnvoyJson).http_filters as EnvoyJson[]).map((x) => x.name),
      ['envoy.filters.http.fault', 'envoy.filters.http.router'],
    );
  });

  test('accessLog stdout puts the stdout access logger on every listener filter', () => {
    const f = createMeshFixture();
    const snap = f.snapshot({
      services: [
        f.service('web', [{ name: 'http', port: 80, protocol: 'HTTP' }]),
        f.service('db', [{ name: 'pg', port: 5432, protocol: 'TCP' }]),
      ],
    });
    const plain = run(snap);
    const logged = translateProxy(createMeshIndex(snap), CONSUMER, { accessLog: 'stdout' });
    const filters = (t: Translation) =>
      t.resources[LISTENER_TYPE].flatMap((l) =>
        (l.resource.filter_chains as EnvoyJson[]).flatMap((c) => c.filters as EnvoyJson[]),
      );
    assert.ok(filters(logged).length >= 2, 'an HCM and a tcp_proxy');
    for (const filter of filters(logged)) {
      assert.deepEqual((filter.typed_config as EnvoyJson).access_log, [
        {
          name: 'envoy.access_loggers.stdout',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
          },
        },
      ]);
    }
    for (const filter of filters(plain))
      assert.equal((filter.typed_config as EnvoyJson).access_log, undefined);
  });

  test('retries on a GRPC port also retry gRPC UNAVAILABLE', () => {
    const f = createMeshFixture();
    const rule = { backendRefs: [{ name: 'ratings', port: 80 }], retry: { codes: [503], attempts: 2 } };
    const snap = f.snapshot({
      services: [f.service('ratings', [{ name: 'grpc', port: 80, protocol: 'GRPC' }])],
      httpRoutes: [f.httpRoute('retry', { parentRefs: [f.serviceParent('ratings', 80)], rules: [rule] })],
    });
    const [route] = vhost(run(snap), 'ratings.default:80').routes as EnvoyJson[];
    assert.equal(
      ((route.route as EnvoyJson).retry_policy as EnvoyJson).retry_on,
      'connect-failure,refused-stream,retriable-status-codes,unavailable',
    );
  });

  test('weights: backendRef weights times TrafficSplit weights, invalid share to the empty cluster, all invalid -> 500', () => {
    const f = createMeshFixture();
    const port = [{ name: 'http', port: 80, protocol: 'HTTP' as const }];
    const snap = f.snapshot({
      services: [
        f.service('web', port),
        f.service('web-v1', port),
        f.service('web-v2', port),
        f.service('other', port),
      ],
      trafficSplits: [
        f.trafficSplit('split', {
          service: 'web',
          backends: [
            { service: 'web-v1', weight: 80 },
            { service: 'web-v2', weight: 20 },
          ],
        }),
      ],
      httpRoutes: [
        f.httpRoute('r', {
          parentRefs: [f.serviceParent('other', 80)],
          rules: [
            {
              matches: [{ path: { type: 'Exact', value: '/mixed' } }],
              backendRefs: [
                { name: 'web', port: 80, weight: 1 },
                { name: 'other', port: 80, weight: 1 },
                { name: 'missing', port: 80, weight: 2 },
                { name: 'zero', port: 80, weight: 0 },
              ],
            },
            {
              matches: [{ path: { type: 'Exact', value: '/broken' } }],
              backendRefs: [{ name: 'missing', port: 80 }],
            },
          ],
        }),
      ],
    });
    const t = run(snap);
    const routes = vhost(t, 'other.default:80').routes as EnvoyJson[];
    const mixed = routes.find((r) => (r.match as EnvoyJson).path === '/mixed')!;
    assert.deepEqual(((mixed.route as EnvoyJson).weighted_clusters as EnvoyJson).clusters, [
      { name: 'outbound|80||web-v1.default', weight: 4 },
      { name: 'outbound|80||web-v2.default', weight: 1 },
      { name: 'outbound|80||other.default', weight: 5 },
      { name: 'weft|invalid-backend', weight: 10 },
    ]);
    const broken = routes.find((r) => (r.match as EnvoyJson).path === '/broken')!;
    assert.deepEqual(broken.direct_response, { status: 500 });
    named(t, CLUSTER_TYPE, 'weft|invalid-backend');
    // With no route attached, the split root's own virtual host uses the split.
    const def = (vhost(t, 'web.default:80').routes as EnvoyJson[])[0];
    assert.deepEqual((def.route as EnvoyJson).weighted_clusters, {
      clusters: [
        { name: 'outbound|80||web-v1.default', weight: 80 },
        { name: 'outbound|80||web-v2.default', weight: 20 },
      ],
    });
  });

  test('SMI HTTPRouteGroup matches limit a split; other requests go to the root', () => {
    const f = createMeshFixture();
    const port = [{ name: 'http', port: 80, protocol: 'HTTP' as const }];
    const snap = f.snapshot({
      services: [f.service('web', port), f.service('web-v2', port)],
      httpRouteGroups: [
        f.routeGroup('api', {
          matches: [
            { name: 'posts', pathRegex: '/api', methods: ['GET', 'POST'], headers: { 'X-User': 'a.*' } },
          ],
        }),
      ],
      trafficSplits: [
        f.trafficSplit('split', {
          service: 'web',
          backends: [{ service: 'web-v2', weight: 1 }],
          matches: [{ kind: 'HTTPRouteGroup', name: 'api' }],
        }),
      ],
    });
    const routes = vhost(run(snap), 'web.default:80').routes as EnvoyJson[];
    assert.deepEqual(routes, [
      {
        name: 'default/split/api/posts',
        match: {
          safe_regex: { regex: '(?:/api).*' },
          headers: [
            { name: 'x-user', string_match: { safe_regex: { regex: 'a.*' } } },
            { name: ':method', string_match: { safe_regex: { regex: 'GET|POST' } } },
          ],
        },
        route: { cluster: 'outbound|80||web-v2.default', timeout: '0s' },
      },
      {
        name: 'default',
        match: { prefix: '/' },
        route: { cluster: 'outbound|80||web.default', timeout: '0s' },
      },
    ]);
  });

  test('GRPCRoute methods become gRPC paths', () => {
    const f = createMeshFixture();
    const snap = f.snapshot({
      services: [f.service('cart', [{ name: 'grpc', port: 9090, protocol: 'GRPC' }])],
      grpcRoutes: [
        f.grpcRoute('g', {
          parentRefs: [f.serviceParent('cart')],
          rules: [
            {
              matches: [
                { method: { service: 'shop.Cart' } },
                { method: { service: 'shop.Cart', method: 'Add' } },
                { method: { method: 'Get' } },
              ],
              backendRefs: [{ name: 'cart', port: 9090 }],
            },
          ],
        }),
      ],
    });
    const t = run(snap);
    const matches = (vhost(t, 'cart.default:9090').routes as EnvoyJson[]).map((r) => r.match);
    assert.deepEqual(matches, [
      { path: '/shop.Cart/Add' },
      { prefix: '/shop.Cart/' },
      { safe_regex: { regex: '/[^/]+/Get' } },
    ]);
    const cluster = named(t, CLUSTER_TYPE, 'outbound|9090||cart.default');
    assert.deepEqual(
      (cluster.typed_extension_protocol_options as EnvoyJson)[
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
      ],
      {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    );
  });

  test('DestinationPolicy maps onto cluster fields and the route hash policy', () => {
    const f = createMeshFixture();
    const snap = f.snapshot({
      services: [f.service('web', [{ name: 'http', port: 80, protocol: 'HTTP' }])],
      destinationPolicies: [
        f.policy('p', {
          targetRef: { kind: 'Service', name: 'web' },
          loadBalancer: {
            policy: 'RING_HASH',
            hash: [{ header: { name: 'X-User' }, terminal: true }, { sourceIP: true }],
            ringHash: { minimumRingSize: 64 },
          },
          circuitBreakers: { maxConnections: 10, maxRequests: 20 },
          retryBudget: { budgetPercent: 25, minRetryConcurrency: 2 },
          outlierDetection: {
            consecutive5xx: 3,
            interval: '5s',
            baseEjectionTime: '30s',
            maxEjectionPercent: 50,
          },
          healthChecks: [{ timeout: '1s', interval: '10s', http: { path: '/healthz' } }],
          connectionPool: { maxRequestsPerConnection: 100 },
          timeouts: { connect: '250ms', idle: '1m' },
        }),
      ],
    });
    const t = run(snap);
    const c = named(t, CLUSTER_TYPE, 'outbound|80||web.default');
    assert.equal(c.lb_policy, 'RING_HASH');
    assert.deepEqual(c.ring_hash_lb_config, { minimum_ring_size: 64 });
    assert.equal(c.connect_timeout, '0.25s');
    assert.deepEqual(c.circuit_breakers, {
      thresholds: [
        {
          priority: 'DEFAULT',
          max_connections: 10,
          max_requests: 20,
          retry_budget: { budget_percent: { value: 25 }, min_retry_concurrency: 2 },
        },
      ],
    });
    assert.deepEqual(c.outlier_detection, {
      consecutive_5xx: 3,
      interval: '5s',
      base_ejection_time: '30s',
      max_ejection_percent: 50,
    });
    assert.deepEqual(c.health_checks, [
      {
        timeout: '1s',
        interval: '10s',
        unhealthy_threshold: 3,
        healthy_threshold: 1,
        http_health_check: { path: '/healthz' },
      },
    ]);
    const opts = (c.typed_extension_protocol_options as EnvoyJson)[
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
    ] as EnvoyJson;
    assert.deepEqual(opts.common_http_protocol_options, {
      idle_timeout: '60s',
      max_requests_per_connection: 100,
    });
    const action = (vhost(t, 'web.default:80').routes as EnvoyJson[])[0].route as EnvoyJson;
    assert.deepEqual(action.hash_policy, [
      { header: { header_name: 'x-user' }, terminal: true },
      { connection_properties: { source_ip: true } },
    ]);
  });

  test('sidecar: inbound listeners for annotated ports, protocol from the selecting Service', () => {
    const f = createMeshFixture();
    const snap = f.snapshot({
      services: [
        f.service('web', [
          { name: 'http', port: 80, protocol: 'HTTP' },
          { name: 'raw', port: 7000, protocol: 'TCP' },
        ]),
      ],
      workloads: [
        f.workload('w1', { app: 'web' }, { ports: { http: 8080, raw: 7000, metrics: 9100 } }, 'default', {
          'weft.dev/app-port-http': '18080',
          'weft.dev/app-port-raw': '17000',
        }),
      ],
    });
    const t = run(snap, { kind: 'sidecar', namespace: 'default', workload: 'w1' });
    const names = t.resources[LISTENER_TYPE].map((l) => l.name);
    assert.deepEqual(names, ['inbound|7000', 'inbound|8080', 'outbound_http']);
    assert.ok(
      t.warnings.some((w) => /local port 7000 is already used/.test(w)),
      t.warnings.join('\n'),
    );
    const inbound = named(t, CLUSTER_TYPE, 'inbound|8080||');
    assert.deepEqual((inbound.load_assignment as EnvoyJson).endpoints, [
      {
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 18080 } } } },
        ],
      },
    ]);
    const tcp = named(t, LISTENER_TYPE, 'inbound|7000');
    const tc = ((tcp.filter_chains as EnvoyJson[])[0].filters as EnvoyJson[])[0].typed_config as EnvoyJson;
    assert.equal(tc['@type'], 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy');
    assert.equal(tc.cluster, 'inbound|7000||');
  });

  test('output is deterministic', () => {
    const f = createMeshFixture();
    const snap = f.snapshot({
      services: [
        f.service('b', [{ name: 'http', port: 80, protocol: 'HTTP' }]),
        f.service('a', [{ name: 'http', port: 80, protocol: 'HTTP' }]),
      ],
    });
    assert.equal(
      JSON.stringify(run(snap)),
      JSON.stringify(run({ ...snap, services: [...snap.services].reverse() })),
    );
  });
});
