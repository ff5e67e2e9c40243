// typed_per_filter_config, the local rate limit filters' configs and request_mirror_policies:
// valid configs give the model Weft runs from; each bad field is refused by its full path.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { REALISTIC_BOOTSTRAP_YAML } from './bootstrap-fixture.js';
import { createDefaultHttpFilterRegistry } from './http-filter-registry.js';
import type { HttpLocalRateLimit, RouteAction } from './model.js';
import { validateBootstrap } from './validate-bootstrap.js';
import { validateRouteConfigurationResource } from './validate-xds-resource.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit raw, untyped config trees.
type Raw = any;

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const VH = `${HCM}.route_config.virtual_hosts[0]`;
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const RL = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const FILTER_CONFIG = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

const abort = (status: number) => ({
  '@type': FAULT,
  abort: { http_status: status, percentage: { numerator: 100 } },
});
const bucket = { max_tokens: 3, tokens_per_fill: 1, fill_interval: '1s' };

/** The fixture with a fault filter and a local rate limit filter before the router. */
function fixture(): Raw {
  const cfg = parse(REALISTIC_BOOTSTRAP_YAML);
  hcm(cfg).http_filters = [
    { name: 'fault', typed_config: abort(500) },
    { name: 'rl', typed_config: { '@type': RL, stat_prefix: 'rl', token_bucket: bucket } },
    { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } },
  ];
  return cfg;
}
function hcm(cfg: Raw): Raw {
  return cfg.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
}
function vh(cfg: Raw): Raw {
  return hcm(cfg).route_config.virtual_hosts[0];
}
function validate(edit: (cfg: Raw) => void) {
  const cfg = fixture();
  edit(cfg);
  return validateBootstrap(cfg, createDefaultHttpFilterRegistry());
}
function expectIssues(edit: (cfg: Raw) => void, expected: [string, string | RegExp][]): void {
  const { issues } = validate(edit);
  assert.equal(issues.length, expected.length, JSON.stringify(issues, null, 1));
  for (let i = 0; i < expected.length; i++) {
    assert.equal(issues[i].path, expected[i][0]);
    const m = expected[i][1];
    if (typeof m === 'string') assert.equal(issues[i].message, m);
    else assert.match(issues[i].message, m);
  }
}

describe('typed_per_filter_config', () => {
  test('on a virtual host, a route and a weighted cluster entry, validated by the filter', () => {
    const { bootstrap, issues } = validate((c) => {
      vh(c).typed_per_filter_config = { fault: abort(502) };
      vh(c).routes[1].typed_per_filter_config = { fault: abort(503) };
      vh(c).routes[1].route.weighted_clusters.clusters[0].typed_per_filter_config = {
        rl: { '@type': FILTER_CONFIG, disabled: true },
      };
    });
    assert.deepEqual(issues, []);
    const rvh = (bootstrap!.staticResources.listeners[0].filterChains[0].filters[0].config as Raw).routeConfig
      .virtualHosts[0];
    assert.deepEqual(rvh.typedPerFilterConfig.fault.config.abort.httpStatus, 502);
    assert.deepEqual(rvh.routes[1].typedPerFilterConfig.fault.config.abort.httpStatus, 503);
    const cw = (rvh.routes[1].action as RouteAction).cluster;
    assert.equal(cw.kind, 'weighted');
    if (cw.kind === 'weighted')
      assert.deepEqual(cw.clusters[0].typedPerFilterConfig, {
        rl: { typeUrl: '', config: null, disabled: true },
      });
  });
  test('a bad per-route config is refused by its path', () => {
    expectIssues(
      (c) =>
        (vh(c).routes[1].typed_per_filter_config = { fault: { '@type': FAULT, abort: { http_status: 42 } } }),
      [[`${VH}.routes[1].typed_per_filter_config.fault.abort.http_status`, /between 200 and 599/]],
    );
  });
  test('an unknown name, a wrong type and an unknown type', () => {
    expectIssues(
      (c) => {
        vh(c).typed_per_filter_config = { nope: abort(500) };
        vh(c).routes[1].typed_per_filter_config = {
          fault: { '@type': RL, stat_prefix: 'x' },
          rl: { '@type': 'type.googleapis.com/acme.Nope' },
        };
      },
      [
        [
          `${VH}.routes[1].typed_per_filter_config.rl.@type`,
          "unsupported per-route filter config type 'type.googleapis.com/acme.Nope'",
        ],
        [
          `${VH}.typed_per_filter_config.nope`,
          /no HTTP filter named 'nope'.*\(fault, rl, envoy\.filters\.http\.router\)/,
        ],
        [
          `${VH}.routes[1].typed_per_filter_config.fault`,
          /takes a per-route config of type '.*HTTPFault', not '.*LocalRateLimit'/,
        ],
      ],
    );
  });
  test('the router takes no per-route config; an optional unknown type is dropped', () => {
    expectIssues(
      (c) =>
        (vh(c).routes[1].typed_per_filter_config = {
          'envoy.filters.http.router': { '@type': FILTER_CONFIG, disabled: true },
          rl: {
            '@type': FILTER_CONFIG,
            is_optional: true,
            config: { '@type': 'type.googleapis.com/acme.Nope' },
          },
        }),
      [
        [
          `${VH}.routes[1].typed_per_filter_config.envoy.filters.http.router`,
          "the filter 'envoy.filters.http.router' takes no per-route config",
        ],
      ],
    );
  });
  test('a FilterConfig without config must disable the filter', () => {
    expectIssues(
      (c) => (vh(c).routes[1].typed_per_filter_config = { rl: { '@type': FILTER_CONFIG } }),
      [[`${VH}.routes[1].typed_per_filter_config.rl.config`, 'is required unless disabled is true']],
    );
  });
  test('over RDS the per-route config is validated by its type', () => {
    const rc = (extra: Raw) => ({
      name: 'r',
      virtual_hosts: [
        {
          name: 'v',
          domains: ['*'],
          routes: [{ match: { prefix: '/' }, route: { cluster: 'a' }, typed_per_filter_config: extra }],
        },
      ],
    });
    const ok = validateRouteConfigurationResource(
      rc({ 'envoy.filters.http.fault': abort(503) }),
      createDefaultHttpFilterRegistry(),
    );
    assert.deepEqual(ok.issues, []);
    const bad = validateRouteConfigurationResource(
      rc({
        'envoy.filters.http.fault': { '@type': FAULT, abort: { http_status: 503 }, response_rate_limit: {} },
      }),
      createDefaultHttpFilterRegistry(),
    );
    assert.deepEqual(
      bad.issues.map((i) => i.path),
      ['virtual_hosts[0].routes[0].typed_per_filter_config.envoy.filters.http.fault.response_rate_limit'],
    );
  });
});

describe('local rate limit config', () => {
  test('every supported field, with Envoy defaults', () => {
    const { bootstrap, issues } = validate((c) => {
      hcm(c).http_filters[1].typed_config = {
        '@type': RL,
        stat_prefix: 'edge',
        token_bucket: { max_tokens: 10, fill_interval: '0.5s' },
        filter_enabled: {
          runtime_key: 'rl_enabled',
          default_value: { numerator: 50, denominator: 'TEN_THOUSAND' },
        },
        filter_enforced: { default_value: { numerator: 100 } },
        status: { code: 503 },
        response_headers_to_add: [{ header: { key: 'x-limited', value: 'yes' } }],
        request_headers_to_add_when_not_enforced: [{ header: { key: 'x-would-limit', value: '1' } }],
        enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
        local_rate_limit_per_downstream_connection: true,
      };
    });
    assert.deepEqual(issues, []);
    const f = (bootstrap!.staticResources.listeners[0].filterChains[0].filters[0].config as Raw)
      .httpFilters[1];
    const rl = f.config as HttpLocalRateLimit;
    assert.deepEqual(rl.tokenBucket, { maxTokens: 10, tokensPerFill: 1, fillIntervalMs: 500 });
    assert.deepEqual(rl.filterEnabled, { numerator: 50, denominator: 10_000 });
    assert.deepEqual(rl.filterEnforced, { numerator: 100, denominator: 100 });
    assert.equal(rl.status, 503);
    assert.equal(rl.xRateLimitHeaders, true);
    assert.equal(rl.perDownstreamConnection, true);
    assert.equal(rl.responseHeadersToAdd[0].key, 'x-limited');
  });
  test('bad and unsupported fields are refused by path', () => {
    const RLC = `${HCM}.http_filters[1].typed_config`;
    expectIssues(
      (c) => {
        hcm(c).http_filters[1].typed_config = {
          '@type': RL,
          token_bucket: { max_tokens: 0, fill_interval: '0.01s' },
          descriptors: [],
          response_headers_to_add: [{ header: { key: 'x-a', value: '%START_TIME%' } }],
        };
      },
      [
        [`${RLC}.stat_prefix`, 'is required'],
        [`${RLC}.token_bucket.max_tokens`, /between 1 and/],
        [`${RLC}.token_bucket.fill_interval`, 'must be at least 50ms'],
        [`${RLC}.response_headers_to_add[0].header.value`, "'%' substitutions are not supported here"],
        [`${RLC}.descriptors`, 'unsupported field'],
      ],
    );
  });
});

describe('request_mirror_policies', () => {
  test('cluster, cluster_header, runtime_fraction and the suffix switch', () => {
    const { bootstrap, issues } = validate((c) => {
      vh(c).routes[4].route.request_mirror_policies = [
        {
          cluster: 'db',
          runtime_fraction: { default_value: { numerator: 25 }, runtime_key: 'k' },
          trace_sampled: false,
        },
        { cluster_header: 'X-Mirror-To', disable_shadow_host_suffix_append: true },
      ];
    });
    assert.deepEqual(issues, []);
    const rc = (bootstrap!.staticResources.listeners[0].filterChains[0].filters[0].config as Raw).routeConfig;
    assert.deepEqual(rc.virtualHosts[0].routes[4].action.requestMirrorPolicies, [
      {
        cluster: 'db',
        clusterHeader: '',
        fraction: { numerator: 25, denominator: 100 },
        disableShadowHostSuffixAppend: false,
      },
      {
        cluster: '',
        clusterHeader: 'x-mirror-to',
        fraction: { numerator: 100, denominator: 100 },
        disableShadowHostSuffixAppend: true,
      },
    ]);
  });
  test('an undefined mirror cluster, neither cluster nor header, unknown fields', () => {
    const P = `${VH}.routes[4].route.request_mirror_policies`;
    expectIssues(
      (c) => {
        vh(c).routes[4].route.request_mirror_policies = [
          { cluster: 'ghost' },
          { runtime_fraction: {} },
          { cluster: 'db', extra: 1 },
        ];
      },
      [
        [`${P}[1]`, 'one of cluster or cluster_header is required'],
        [`${P}[2].extra`, 'unsupported field'],
        [`${P}[0].cluster`, "cluster 'ghost' is not defined"],
      ],
    );
  });
});
