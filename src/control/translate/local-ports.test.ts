// Local ports per sidecar (Workload annotations weft.dev/outbound-http-port and
// weft.dev/upstream-port-<service>) and GRPC/HTTP2 carried as L4 at sidecars: the listeners,
// routes and clusters they give, the warnings for bad values, shape keys, and that the result
// passes the proxy's own validator (which refuses HTTP/2 upstreams).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDefaultHttpFilterRegistry } from '../../config/http-filter-registry.js';
import { parseBootstrap } from '../../config/load-bootstrap.js';
import { createMeshFixture } from './mesh-fixture.js';
import { createMeshIndex } from './mesh-index.js';
import type { MeshSnapshot, ProxyIdentity, TranslateOptions } from './snapshot.js';
import { toStaticBootstrap } from './static-bootstrap.js';
import { translateProxy } from './translate.js';
import { createTranslationCache, proxyShapeKey } from './translation-cache.js';
import {
  CLUSTER_TYPE,
  type EnvoyJson,
  LISTENER_TYPE,
  ROUTE_TYPE,
  type Translation,
} from './xds-resources.js';

const WEB: ProxyIdentity = { kind: 'sidecar', namespace: 'default', workload: 'web-0' };
const CONSUMER: ProxyIdentity = { kind: 'consumer', namespace: 'default' };

/** reviews (HTTP, with an HTTPRoute), echo (GRPC), db (TCP), ratings in `team`, and web-0. */
function mesh(annotations: Record<string, string>): MeshSnapshot {
  const f = createMeshFixture();
  return f.snapshot({
    services: [
      f.service('reviews', [{ name: 'http', port: 80, protocol: 'HTTP' }]),
      f.service('reviews-v2', [{ name: 'http', port: 80, protocol: 'HTTP' }]),
      f.service('echo', [{ name: 'grpc', port: 9090, protocol: 'GRPC' }]),
      f.service('db', [{ name: 'pg', port: 5432, protocol: 'TCP' }]),
      f.service('multi', [
        { name: 'admin', port: 9000, protocol: 'TCP' },
        { name: 'http', port: 8080, protocol: 'HTTP' },
      ]),
      f.service('ratings', [{ name: 'http', port: 80, protocol: 'HTTP' }], 'team'),
      f.service('web', [{ name: 'http', port: 80, protocol: 'HTTP' }]),
    ],
    workloads: [
      f.workload('web-0', { app: 'web' }, { ports: { http: 20001 } }, 'default', {
        'weft.dev/app-port-http': '20002',
        ...annotations,
      }),
      f.workload('echo-0', { app: 'echo' }, { ports: { grpc: 20101 } }, 'default', {
        'weft.dev/app-port-grpc': '20102',
      }),
    ],
    httpRoutes: [
      f.httpRoute('reviews', {
        parentRefs: [f.serviceParent('reviews', 80)],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/v2' } }],
            backendRefs: [{ name: 'reviews-v2', port: 80 }],
          },
          {
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: { set: [{ name: 'x-route', value: 'reviews' }] },
              },
            ],
            backendRefs: [
              { name: 'reviews', port: 80, weight: 1 },
              { name: 'reviews-v2', port: 80, weight: 1 },
            ],
          },
        ],
      }),
    ],
  });
}

const UPSTREAMS = {
  'weft.dev/outbound-http-port': '21000',
  'weft.dev/upstream-port-reviews': '21001',
  'weft.dev/upstream-port-echo': '21002',
  'weft.dev/upstream-port-db': '21003',
  'weft.dev/upstream-port-multi': '21004',
  'weft.dev/upstream-port-ratings.team': '21005',
};

function run(snap: MeshSnapshot, who: ProxyIdentity = WEB, options: TranslateOptions = {}): Translation {
  return translateProxy(createMeshIndex(snap), who, options);
}

function named(t: Translation, type: keyof Translation['resources'], name: string): EnvoyJson {
  const r = t.resources[type].find((x) => x.name === name);
  assert.ok(r, `${name} not found among ${t.resources[type].map((x) => x.name).join(', ')}`);
  return r.resource;
}

function filterOf(l: EnvoyJson): EnvoyJson {
  return ((l.filter_chains as EnvoyJson[])[0].filters as EnvoyJson[])[0].typed_config as EnvoyJson;
}

function portOf(l: EnvoyJson): number {
  return ((l.address as EnvoyJson).socket_address as EnvoyJson).port_value as number;
}

function outboundPort(t: Translation): number {
  return portOf(named(t, LISTENER_TYPE, 'outbound_http'));
}

describe('weft.dev/outbound-http-port', () => {
  test('moves the outbound HTTP listener; node metadata wins, the option loses', () => {
    const snap = mesh({ 'weft.dev/outbound-http-port': '21000' });
    assert.equal(outboundPort(run(snap)), 21000);
    assert.equal(outboundPort(run(snap, WEB, { outboundHttpPort: 15555 })), 21000);
    assert.equal(outboundPort(run(snap, WEB, { nodeOutboundHttpPort: 16000 })), 16000);
    assert.equal(outboundPort(run(mesh({}))), 15001);
    assert.equal(outboundPort(run(mesh({}), WEB, { outboundHttpPort: 15555 })), 15555);
  });

  test('an invalid value is a warning naming the Workload and annotation; the default stays', () => {
    for (const bad of ['abc', '0', '70000', '-1', '']) {
      const t = run(mesh({ 'weft.dev/outbound-http-port': bad }));
      assert.equal(outboundPort(t), 15001);
      assert.ok(
        t.warnings.some((w) =>
          w.startsWith(`Workload default/web-0: annotation weft.dev/outbound-http-port '${bad}'`),
        ),
        t.warnings.join('\n'),
      );
    }
  });
});

describe('weft.dev/upstream-port-<service>', () => {
  const t = run(mesh(UPSTREAMS));

  test('one listener per annotated Service on 127.0.0.1:<port>, no implicit TCP listeners', () => {
    assert.deepEqual(t.warnings, []);
    const listeners = t.resources[LISTENER_TYPE].map((l) => [
      l.name,
      ((l.resource.address as EnvoyJson).socket_address as EnvoyJson).address,
      portOf(l.resource),
    ]);
    assert.deepEqual(listeners, [
      ['inbound|20001', '0.0.0.0', 20001],
      ['outbound_http', '127.0.0.1', 21000],
      ['upstream|5432||db.default', '127.0.0.1', 21003],
      ['upstream|8080||multi.default', '127.0.0.1', 21004],
      ['upstream|80||ratings.team', '127.0.0.1', 21005],
      ['upstream|80||reviews.default', '127.0.0.1', 21001],
      ['upstream|9090||echo.default', '127.0.0.1', 21002],
    ]);
  });

  test('an HTTP port: RDS with one `*` virtual host carrying the outbound_http routes', () => {
    const tc = filterOf(named(t, LISTENER_TYPE, 'upstream|80||reviews.default'));
    assert.deepEqual(tc.rds, {
      config_source: { ads: {}, resource_api_version: 'V3' },
      route_config_name: 'upstream|80||reviews.default',
    });
    const rc = named(t, ROUTE_TYPE, 'upstream|80||reviews.default');
    const [vh, ...more] = rc.virtual_hosts as EnvoyJson[];
    assert.equal(more.length, 0);
    assert.deepEqual(vh.domains, ['*']);
    const shared = (named(t, ROUTE_TYPE, 'outbound_http').virtual_hosts as EnvoyJson[]).find(
      (v) => v.name === 'reviews.default:80',
    );
    assert.ok(shared);
    assert.deepEqual(vh.routes, shared.routes);
    // The routes are the HTTPRoute's, not a default route.
    assert.ok(JSON.stringify(vh.routes).includes('weighted_clusters'));
    assert.ok(JSON.stringify(vh.routes).includes('x-route'));
  });

  test('a TCP port, a GRPC port and a multi-port Service', () => {
    assert.equal(
      filterOf(named(t, LISTENER_TYPE, 'upstream|5432||db.default')).cluster,
      'outbound|5432||db.default',
    );
    // gRPC is HTTP/2: an HTTP connection manager (codec AUTO) with its own routes.
    const grpc = filterOf(named(t, LISTENER_TYPE, 'upstream|9090||echo.default'));
    assert.equal(
      grpc['@type'],
      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    );
    assert.ok(named(t, ROUTE_TYPE, 'upstream|9090||echo.default'));
    // multi has one HTTP port (8080) besides a TCP one: the HTTP one is served.
    assert.ok(named(t, ROUTE_TYPE, 'upstream|8080||multi.default'));
  });

  test('several HTTP ports, or none: the first port', () => {
    const f = createMeshFixture();
    const snap = f.snapshot({
      services: [
        f.service('two', [
          { name: 'b', port: 81, protocol: 'HTTP' },
          { name: 'a', port: 80, protocol: 'HTTP' },
        ]),
        f.service('raw', [
          { name: 'x', port: 7001, protocol: 'TCP' },
          { name: 'g', port: 7002, protocol: 'GRPC' },
        ]),
      ],
      workloads: [
        f.workload('web-0', { app: 'web' }, { ports: {} }, 'default', {
          'weft.dev/upstream-port-two': '22001',
          'weft.dev/upstream-port-raw': '22002',
        }),
      ],
    });
    const names = run(snap).resources[LISTENER_TYPE].map((l) => l.name);
    assert.deepEqual(names, ['outbound_http', 'upstream|7001||raw.default', 'upstream|81||two.default']);
  });

  test('bad values, unknown Services, duplicates and taken ports: warnings, no listener, no crash', () => {
    const w = run(
      mesh({
        'weft.dev/outbound-http-port': '21000',
        'weft.dev/upstream-port-reviews': 'http',
        'weft.dev/upstream-port-nope': '21010',
        'weft.dev/upstream-port-a.b.c': '21011',
        'weft.dev/upstream-port-echo': '21000',
        'weft.dev/upstream-port-db': '20001',
        'weft.dev/upstream-port-ratings.team': '21012',
        'weft.dev/upstream-port-ratings.team.x': '21013',
        'weft.dev/upstream-port-multi': '21014',
        'weft.dev/upstream-port-multi.default': '21015',
      }),
    );
    const names = w.resources[LISTENER_TYPE].map((l) => l.name);
    assert.deepEqual(names, [
      'inbound|20001',
      'outbound_http',
      'upstream|8080||multi.default',
      'upstream|80||ratings.team',
    ]);
    const expect = [
      /^Workload default\/web-0: annotation weft\.dev\/upstream-port-reviews 'http' is not a port number/,
      /^Workload default\/web-0: annotation weft\.dev\/upstream-port-nope names no Service/,
      /^Workload default\/web-0: annotation weft\.dev\/upstream-port-a\.b\.c names no Service/,
      /^Workload default\/web-0: annotation weft\.dev\/upstream-port-ratings\.team\.x names no Service/,
      /^Workload default\/web-0: annotation weft\.dev\/upstream-port-multi\.default names Service default\/multi again/,
      /^annotation weft\.dev\/upstream-port-echo: local port 21000 is already used by the outbound HTTP listener/,
      /^annotation weft\.dev\/upstream-port-db: local port 20001 is already used by the inbound listener 20001/,
    ];
    for (const re of expect)
      assert.ok(
        w.warnings.some((x) => re.test(x)),
        `${re}\n${w.warnings.join('\n')}`,
      );
    assert.equal(w.warnings.length, expect.length, w.warnings.join('\n'));
  });

  test('a Workload without local-port annotations keeps the implicit TCP listeners', () => {
    const names = run(mesh({})).resources[LISTENER_TYPE].map((l) => l.name);
    assert.ok(names.includes('outbound_tcp|5432||db.default'), names.join(', '));
  });
});

describe('GRPC and HTTP2 ports at sidecars are L7, with HTTP/2 upstreams', () => {
  const snap = mesh(UPSTREAMS);
  const H2 = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
  const h2Config = (c: EnvoyJson) =>
    ((c.typed_extension_protocol_options as EnvoyJson)[H2] as EnvoyJson).explicit_http_config;

  test('sidecars: HTTP/2 clusters out and in, an HTTP connection manager inbound; consumers too', () => {
    const sidecar = run(snap);
    assert.deepEqual(h2Config(named(sidecar, CLUSTER_TYPE, 'outbound|9090||echo.default')), {
      http2_protocol_options: {},
    });
    const echo = run(snap, { kind: 'sidecar', namespace: 'default', workload: 'echo-0' });
    const inbound = filterOf(named(echo, LISTENER_TYPE, 'inbound|20101'));
    assert.equal(
      inbound['@type'],
      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    );
    assert.deepEqual(h2Config(named(echo, CLUSTER_TYPE, 'inbound|20101||')), { http2_protocol_options: {} });
    const consumer = named(run(snap, CONSUMER), CLUSTER_TYPE, 'outbound|9090||echo.default');
    assert.deepEqual(
      ((consumer.typed_extension_protocol_options as EnvoyJson)[H2] as EnvoyJson).explicit_http_config,
      { http2_protocol_options: {} },
    );
  });

  test("a sidecar's and a consumer's (HTTP/2 upstream) translations pass the proxy validator", () => {
    const registry = createDefaultHttpFilterRegistry();
    const sidecar = toStaticBootstrap(run(snap));
    const parsed = parseBootstrap(JSON.stringify(sidecar), 'sidecar', registry);
    assert.ok(parsed.staticResources.listeners.some((l) => l.name === 'upstream|80||reviews.default'));
    const consumer = toStaticBootstrap(run(snap, CONSUMER));
    const c = parseBootstrap(JSON.stringify(consumer), 'consumer', registry);
    assert.ok(c.staticResources.clusters.some((x) => x.httpProtocol === 'HTTP2'));
  });
});

describe('shape keys', () => {
  test('local ports and sidecar/consumer are part of the shape', () => {
    const f = createMeshFixture();
    const ann = (outbound: string, up: string) => ({
      'weft.dev/outbound-http-port': outbound,
      'weft.dev/upstream-port-api': up,
    });
    const snap = f.snapshot({
      services: [f.service('api', [{ name: 'http', port: 80, protocol: 'HTTP' }])],
      workloads: [
        f.workload('a', { app: 'x' }, { ports: {} }, 'default', ann('21000', '21001')),
        f.workload('b', { app: 'x' }, { ports: {} }, 'default', ann('21000', '21001')),
        f.workload('c', { app: 'x' }, { ports: {} }, 'default', ann('22000', '21001')),
        f.workload('d', { app: 'x' }, { ports: {} }, 'default', ann('21000', '22001')),
        f.workload('e', { app: 'x' }, { ports: {} }),
      ],
    });
    const index = createMeshIndex(snap);
    const key = (workload: string) =>
      proxyShapeKey(index, { kind: 'sidecar', namespace: 'default', workload });
    assert.equal(key('a'), key('b'));
    const keys = new Set([key('a'), key('c'), key('d'), key('e'), proxyShapeKey(index, CONSUMER)]);
    assert.equal(keys.size, 5);
    const cache = createTranslationCache(index);
    const side = (workload: string) => cache.get({ kind: 'sidecar', namespace: 'default', workload });
    assert.equal(side('a'), side('b'));
    assert.equal(outboundPort(side('c')), 22000);
    assert.equal(portOf(named(side('d'), LISTENER_TYPE, 'upstream|80||api.default')), 22001);
    assert.equal(cache.shapes, 3);
  });
});
