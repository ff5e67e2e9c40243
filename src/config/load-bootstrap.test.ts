// Tests for loading a whole bootstrap: the realistic config parses to the expected model,
// from YAML, JSON and camelCase JSON alike; read and syntax errors name file and line.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { ConfigError, WeftError } from '../core/errors.js';
import { REALISTIC_BOOTSTRAP_YAML } from './bootstrap-fixture.js';
import { createDefaultHttpFilterRegistry, ROUTER_TYPE_URL } from './http-filter-registry.js';
import { loadBootstrapFile, parseBootstrap } from './load-bootstrap.js';
import type { Bootstrap, Cluster, HeaderMutations, Route } from './model.js';

const NO_MUTATIONS: HeaderMutations = {
  requestHeadersToAdd: [],
  requestHeadersToRemove: [],
  responseHeadersToAdd: [],
  responseHeadersToRemove: [],
};
const MATCH_DEFAULTS = { caseSensitive: true, headers: [], queryParameters: [] };

function route(
  name: string,
  match: Route['match'],
  action: Route['action'],
  extra: Partial<HeaderMutations> = {},
): Route {
  return { name, match, action, ...NO_MUTATIONS, ...extra };
}

function cluster(name: string, overrides: Partial<Cluster>, endpoints: [string, number, number][]): Cluster {
  return {
    name,
    type: 'STATIC',
    edsServiceName: null,
    http2: false,
    connectTimeoutMs: 5000,
    lbPolicy: 'ROUND_ROBIN',
    loadAssignment: {
      clusterName: name,
      endpoints: [
        {
          locality: null,
          lbEndpoints: endpoints.map(([address, portValue, w]) => ({
            address: { address, portValue },
            loadBalancingWeight: w,
            healthStatus: 'UNKNOWN' as const,
          })),
          loadBalancingWeight: null,
          priority: 0,
        },
      ],
    },
    dnsRefreshRateMs: 5000,
    dnsLookupFamily: 'AUTO',
    perConnectionBufferLimitBytes: 1048576,
    idleTimeoutMs: 3600000,
    maxRequestsPerConnection: null,
    ...overrides,
  };
}

const EXPECTED: Bootstrap = {
  node: {
    id: 'web-1',
    cluster: 'web',
    locality: { region: 'eu-west', zone: 'eu-west-1a', subZone: '' },
    metadata: { team: 'payments' },
  },
  admin: { address: { address: '127.0.0.1', portValue: 15000 }, accessLog: [] },
  staticResources: {
    listeners: [
      {
        name: 'http_in',
        address: { address: '0.0.0.0', portValue: 8080 },
        perConnectionBufferLimitBytes: 1048576,
        filterChains: [
          {
            name: '',
            filters: [
              {
                kind: 'http_connection_manager',
                name: 'envoy.filters.network.http_connection_manager',
                config: {
                  statPrefix: 'ingress_http',
                  codecType: 'AUTO',
                  rds: null,
                  routeConfig: {
                    name: 'local_route',
                    ...NO_MUTATIONS,
                    responseHeadersToAdd: [
                      {
                        key: 'x-served-by',
                        value: 'weft',
                        appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD',
                        keepEmptyValue: false,
                      },
                    ],
                    virtualHosts: [
                      {
                        name: 'backend',
                        domains: ['example.com', '*.example.com'],
                        ...NO_MUTATIONS,
                        requestHeadersToRemove: ['x-debug'],
                        routes: [
                          route(
                            'health',
                            { path: { kind: 'path', value: '/healthz' }, ...MATCH_DEFAULTS },
                            { kind: 'direct_response', status: 200, body: Buffer.from('ok') },
                          ),
                          route(
                            '',
                            { path: { kind: 'prefix', value: '/api/v2/' }, ...MATCH_DEFAULTS },
                            {
                              kind: 'route',
                              cluster: {
                                kind: 'weighted',
                                totalWeight: 100,
                                clusters: [
                                  { name: 'api_v1', weight: 90, ...NO_MUTATIONS },
                                  {
                                    name: 'api_v2',
                                    weight: 10,
                                    ...NO_MUTATIONS,
                                    requestHeadersToAdd: [
                                      {
                                        key: 'x-canary',
                                        value: 'true',
                                        appendAction: 'APPEND_IF_EXISTS_OR_ADD',
                                        keepEmptyValue: false,
                                      },
                                    ],
                                  },
                                ],
                              },
                              timeoutMs: 2500,
                              prefixRewrite: null,
                              hostRewriteLiteral: null,
                            },
                          ),
                          route(
                            '',
                            {
                              path: { kind: 'prefix', value: '/api/' },
                              caseSensitive: true,
                              queryParameters: [],
                              headers: [
                                {
                                  name: 'x-tenant',
                                  invertMatch: false,
                                  treatMissingHeaderAsEmpty: false,
                                  match: {
                                    kind: 'string',
                                    matcher: { kind: 'exact', value: 'acme', ignoreCase: true },
                                  },
                                },
                              ],
                            },
                            {
                              kind: 'route',
                              cluster: { kind: 'cluster', name: 'api_v1' },
                              timeoutMs: null,
                              prefixRewrite: '/',
                              hostRewriteLiteral: null,
                            },
                          ),
                          route(
                            '',
                            { path: { kind: 'prefix', value: '/old/' }, ...MATCH_DEFAULTS },
                            {
                              kind: 'redirect',
                              schemeRedirect: null,
                              hostRedirect: null,
                              portRedirect: null,
                              pathRedirect: '/new/',
                              prefixRewrite: null,
                              responseCode: 302,
                              stripQuery: false,
                            },
                          ),
                          route(
                            '',
                            { path: { kind: 'prefix', value: '/' }, ...MATCH_DEFAULTS },
                            {
                              kind: 'route',
                              cluster: { kind: 'cluster', name: 'web_static' },
                              timeoutMs: 15000,
                              prefixRewrite: null,
                              hostRewriteLiteral: null,
                            },
                          ),
                        ],
                      },
                    ],
                  },
                  httpFilters: [
                    {
                      name: 'envoy.filters.http.router',
                      typeUrl: ROUTER_TYPE_URL,
                      config: { suppressEnvoyHeaders: false, respectExpectedRqTimeout: false },
                    },
                  ],
                  accessLog: [
                    {
                      name: 'envoy.access_loggers.stdout',
                      sink: { kind: 'stdout' },
                      format: {
                        kind: 'json',
                        json: {
                          status: '%RESPONSE_CODE%',
                          path: '%REQ(:PATH)%',
                          upstream: { host: '%UPSTREAM_HOST%' },
                        },
                        omitEmptyValues: true,
                      },
                    },
                  ],
                  maxRequestHeadersKb: 60,
                  maxHeadersCount: 100,
                  idleTimeoutMs: 300000,
                  requestHeadersTimeoutMs: null,
                  drainTimeoutMs: 5000,
                  useRemoteAddress: true,
                  xffNumTrustedHops: 0,
                  skipXffAppend: false,
                  internalAddressRanges: null,
                  generateRequestId: true,
                  preserveExternalRequestId: false,
                  serverName: 'weft',
                  serverHeaderTransformation: 'OVERWRITE',
                  acceptHttp10: false,
                },
              },
            ],
          },
        ],
      },
      {
        name: 'tcp_in',
        address: { address: '127.0.0.1', portValue: 5432 },
        perConnectionBufferLimitBytes: 1048576,
        filterChains: [
          {
            name: '',
            filters: [
              {
                kind: 'tcp_proxy',
                name: 'envoy.filters.network.tcp_proxy',
                config: { statPrefix: 'postgres', cluster: 'db', idleTimeoutMs: 3600000, accessLog: [] },
              },
            ],
          },
        ],
      },
    ],
    clusters: [
      cluster('api_v1', { connectTimeoutMs: 250 }, [
        ['10.0.0.1', 8000, 1],
        ['10.0.0.2', 8000, 3],
      ]),
      cluster('api_v2', { type: 'STRICT_DNS', dnsLookupFamily: 'V4_ONLY' }, [['api-v2.internal', 8000, 1]]),
      cluster('web_static', { type: 'LOGICAL_DNS' }, [['static.example.com', 80, 1]]),
      cluster('db', { connectTimeoutMs: 1000 }, [['10.0.1.5', 5432, 1]]),
    ],
  },
  dynamicResources: null,
};

/** Renames every snake_case key to lowerCamelCase, as a proto3 JSON printer would. */
function camelize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelize);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v))
      out[k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())] = camelize(val);
    return out;
  }
  return v;
}

function issuesOf(fn: () => unknown): readonly { path: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return assert.fail('expected a ConfigError');
}

describe('parseBootstrap', () => {
  const registry = createDefaultHttpFilterRegistry();

  test('a realistic Envoy YAML config parses to the expected model', () => {
    const b = parseBootstrap(REALISTIC_BOOTSTRAP_YAML, 'envoy.yaml', registry);
    assert.deepEqual(b, EXPECTED);
  });

  test('the result is frozen', () => {
    const b = parseBootstrap(REALISTIC_BOOTSTRAP_YAML, 'envoy.yaml', registry);
    assert.ok(Object.isFrozen(b.staticResources.listeners[0].filterChains[0]));
    assert.ok(Object.isFrozen(b.staticResources.clusters));
  });

  test('the same config as JSON parses to the same model', () => {
    const json = JSON.stringify(parse(REALISTIC_BOOTSTRAP_YAML));
    assert.deepEqual(parseBootstrap(json, 'envoy.json', registry), EXPECTED);
  });

  test('lowerCamelCase field names are accepted (proto3 JSON)', () => {
    const camel = camelize(parse(REALISTIC_BOOTSTRAP_YAML));
    const text = JSON.stringify(camel);
    assert.ok(text.includes('"statPrefix"') && !text.includes('stat_prefix'));
    assert.deepEqual(parseBootstrap(text, 'camel.json', registry), EXPECTED);
  });

  test('a field given in both spellings is an issue', () => {
    const text = JSON.stringify({ node: { id: 'a', sub_zone: 'x' }, admin: null });
    const fixed = text.replace('"sub_zone":"x"', '"locality":{"sub_zone":"a","subZone":"b"}');
    assert.deepEqual(
      issuesOf(() => parseBootstrap(fixed, 's', registry)),
      [{ path: 'node.locality.sub_zone', message: "given twice, as 'sub_zone' and 'subZone'" }],
    );
  });

  test('a YAML syntax error is a WEFT_CONFIG_READ error with line and column', () => {
    const text = 'static_resources:\n  listeners:\n  - name: a\n    address: [unclosed\n';
    assert.throws(
      () => parseBootstrap(text, 'bad.yaml', registry),
      (e: unknown) =>
        e instanceof WeftError &&
        e.code === 'WEFT_CONFIG_READ' &&
        /^bad\.yaml:\d+:\d+: YAML syntax error/.test(e.message),
    );
    const dup = 'node:\n  id: a\n  id: b\n';
    assert.throws(
      () => parseBootstrap(dup, 'dup.yaml', registry),
      (e: unknown) =>
        e instanceof WeftError && e.code === 'WEFT_CONFIG_READ' && e.message.startsWith('dup.yaml:3:3:'),
    );
  });

  test('an empty document is reported, not crashed on', () => {
    assert.throws(
      () => parseBootstrap('', 'empty.yaml', registry),
      (e: unknown) =>
        e instanceof ConfigError && e.issues[0].path === '(root)' && e.message.startsWith('empty.yaml: 1'),
    );
  });

  test('excessive YAML aliasing is refused', () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 8; i++)
      text += `a${i}: &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]\n`;
    assert.throws(
      () => parseBootstrap(text, 'lol.yaml', registry),
      (e: unknown) => e instanceof WeftError && e.code === 'WEFT_CONFIG_READ',
    );
  });
});

describe('loadBootstrapFile', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads and validates a file, reading direct_response bodies from files', async () => {
    const bodyFile = join(dir, 'body.txt');
    await writeFile(bodyFile, 'from a file');
    const text = REALISTIC_BOOTSTRAP_YAML.replace(
      'body: { inline_string: ok }',
      `body: { filename: ${JSON.stringify(bodyFile)} }`,
    );
    const path = join(dir, 'envoy.yaml');
    await writeFile(path, text);
    const b = await loadBootstrapFile(path, createDefaultHttpFilterRegistry());
    const hcm = b.staticResources.listeners[0].filterChains[0].filters[0];
    assert.equal(hcm.kind, 'http_connection_manager');
    const action =
      hcm.kind === 'http_connection_manager' ? hcm.config.routeConfig.virtualHosts[0].routes[0].action : null;
    assert.deepEqual(action, { kind: 'direct_response', status: 200, body: Buffer.from('from a file') });
  });

  test('a missing direct_response file is a path-naming issue', async () => {
    const text = REALISTIC_BOOTSTRAP_YAML.replace(
      'body: { inline_string: ok }',
      'body: { filename: /nonexistent/weft/body }',
    );
    const path = join(dir, 'missing-body.yaml');
    await writeFile(path, text);
    const err = (await loadBootstrapFile(path, createDefaultHttpFilterRegistry()).then(
      () => assert.fail('expected a ConfigError'),
      (e: unknown) => e,
    )) as ConfigError;
    assert.ok(err instanceof ConfigError);
    assert.equal(err.issues.length, 1);
    assert.equal(
      err.issues[0].path,
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].direct_response.body.filename',
    );
    assert.match(
      err.message,
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 1 configuration error`),
    );
  });

  test('an unreadable file is a WEFT_CONFIG_READ error naming the file', async () => {
    const path = join(dir, 'does-not-exist.yaml');
    await assert.rejects(loadBootstrapFile(path, createDefaultHttpFilterRegistry()), (e: unknown) => {
      return e instanceof WeftError && e.code === 'WEFT_CONFIG_READ' && e.message.includes(path);
    });
  });
});
