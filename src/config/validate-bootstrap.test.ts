// Tests that every kind of invalid or unsupported config yields an issue naming the full
// field path, and that all issues of a config are reported together.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { ConfigIssue } from '../core/errors.js';
import { REALISTIC_BOOTSTRAP_YAML } from './bootstrap-fixture.js';
import { createDefaultHttpFilterRegistry, type HttpFilterRegistry } from './http-filter-registry.js';
import { validateBootstrap } from './validate-bootstrap.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit raw, untyped config trees.
type Raw = any;

const L0 = 'static_resources.listeners[0]';
const HCM = `${L0}.filter_chains[0].filters[0].typed_config`;
const RC = `${HCM}.route_config`;
const VH = `${RC}.virtual_hosts[0]`;
const TCP = 'static_resources.listeners[1].filter_chains[0].filters[0].typed_config';
const C = 'static_resources.clusters';
const ADS_DYNAMIC_RESOURCES = {
  ads_config: {
    api_type: 'GRPC',
    transport_api_version: 'V3',
    grpc_services: [{ envoy_grpc: { cluster_name: 'xds_cluster' } }],
  },
  lds_config: { ads: {}, resource_api_version: 'V3' },
  cds_config: { ads: {} },
};
const XDS_CLUSTER = {
  name: 'xds_cluster',
  type: 'STATIC',
  http2_protocol_options: {},
  load_assignment: {
    endpoints: [
      {
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 15010 } } } },
        ],
      },
    ],
  },
};

function fixture(): Raw {
  return parse(REALISTIC_BOOTSTRAP_YAML);
}
function hcm(cfg: Raw): Raw {
  return cfg.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
}
function vh(cfg: Raw): Raw {
  return hcm(cfg).route_config.virtual_hosts[0];
}

function issuesAfter(
  edit: (cfg: Raw) => void,
  registry: HttpFilterRegistry = createDefaultHttpFilterRegistry(),
): ConfigIssue[] {
  const cfg = fixture();
  edit(cfg);
  const { bootstrap, issues } = validateBootstrap(cfg, registry);
  assert.equal(
    bootstrap === null,
    issues.length > 0,
    'a bootstrap is returned exactly when there are no issues',
  );
  return issues;
}

function expectIssue(edit: (cfg: Raw) => void, path: string, message: RegExp | string): void {
  const issues = issuesAfter(edit);
  assert.equal(issues.length, 1, `expected one issue, got ${JSON.stringify(issues, null, 1)}`);
  assert.equal(issues[0].path, path);
  if (typeof message === 'string') assert.equal(issues[0].message, message);
  else assert.match(issues[0].message, message);
}

describe('unsupported and unknown fields', () => {
  test('an unknown top-level field', () => {
    expectIssue((c) => (c.layered_runtime = {}), 'layered_runtime', 'unsupported field');
  });
  test('rds without an ADS source in the bootstrap names the full path', () => {
    expectIssue(
      (c) => {
        delete hcm(c).route_config;
        hcm(c).rds = { route_config_name: 'x', config_source: { ads: {} } };
      },
      `${HCM}.rds`,
      'needs dynamic_resources.ads_config (routes come over ADS)',
    );
  });
  test('rds with a non-ADS config source', () => {
    expectIssue(
      (c) => {
        delete hcm(c).route_config;
        hcm(c).rds = { route_config_name: 'x', config_source: { path: '/etc/routes.yaml' } };
        c.dynamic_resources = ADS_DYNAMIC_RESOURCES;
        c.static_resources.clusters.push(XDS_CLUSTER);
      },
      `${HCM}.rds.config_source`,
      /only the aggregated source \{ads: \{\}\} is supported/,
    );
  });
  test('an unknown camelCase field is reported in snake_case', () => {
    expectIssue((c) => (vh(c).hedgePolicy = {}), `${VH}.hedge_policy`, 'unsupported field');
  });
  test('typed_per_filter_config naming a filter the connection manager does not have', () => {
    expectIssue(
      (c) =>
        (vh(c).routes[1].typed_per_filter_config = {
          'envoy.filters.http.fault': {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
            abort: { http_status: 503, percentage: { numerator: 100 } },
          },
        }),
      `${VH}.routes[1].typed_per_filter_config.envoy.filters.http.fault`,
      "no HTTP filter named 'envoy.filters.http.fault' in the connection manager's http_filters (envoy.filters.http.router)",
    );
  });
  test('an access log filter Weft does not have', () => {
    expectIssue(
      (c) => (hcm(c).access_log[0].filter = { traceable_filter: {} }),
      `${HCM}.access_log[0].filter.traceable_filter`,
      'is not supported by Weft',
    );
  });
  test('an unknown network filter @type', () => {
    expectIssue(
      (c) =>
        (hcm(c)['@type'] = 'type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy'),
      `${HCM}.@type`,
      /unsupported network filter type 'type\.googleapis\.com\/envoy\.extensions\.filters\.network\.redis_proxy\.v3\.RedisProxy'/,
    );
  });
  test('a network filter without typed_config', () => {
    expectIssue(
      (c) => delete c.static_resources.listeners[1].filter_chains[0].filters[0].typed_config,
      'static_resources.listeners[1].filter_chains[0].filters[0].typed_config',
      'is required',
    );
  });
  test('an unknown HTTP filter @type, which also leaves the router missing at the end', () => {
    const issues = issuesAfter((c) => {
      hcm(c).http_filters.push({
        name: 'x',
        typed_config: { '@type': 'type.googleapis.com/acme.Filter', a: 1 },
      });
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      [`${HCM}.http_filters[0]`, `${HCM}.http_filters[1].typed_config.@type`, `${HCM}.http_filters[1]`],
    );
    assert.match(issues[1].message, /unsupported HTTP filter type 'type\.googleapis\.com\/acme\.Filter'/);
  });
  test('a registered HTTP filter validates its own config', () => {
    const registry = createDefaultHttpFilterRegistry();
    registry.set('type.googleapis.com/acme.Filter', {
      typeUrl: 'type.googleapis.com/acme.Filter',
      validate: (raw, path, issues) => {
        if (raw.level !== 'high') issues.push({ path: `${path}.level`, message: 'must be high' });
        return { level: raw.level };
      },
    });
    const issues = issuesAfter((c) => {
      hcm(c).http_filters.unshift({
        typed_config: { '@type': 'type.googleapis.com/acme.Filter', level: 'low' },
      });
    }, registry);
    assert.deepEqual(issues, [
      { path: `${HCM}.http_filters[0].typed_config.level`, message: 'must be high' },
    ]);
  });
  test('a missing http_filters list', () => {
    expectIssue(
      (c) => delete hcm(c).http_filters,
      `${HCM}.http_filters`,
      /is required and must end with the router/,
    );
  });
  test('unknown router fields', () => {
    expectIssue(
      (c) => (hcm(c).http_filters[0].typed_config.upstream_log = []),
      `${HCM}.http_filters[0].typed_config.upstream_log`,
      'unsupported field',
    );
  });
});

describe('wrong values name their field', () => {
  test('wrong scalar types', () => {
    const issues = issuesAfter((c) => {
      hcm(c).stat_prefix = 5;
      hcm(c).use_remote_address = 'yes';
      hcm(c).max_request_headers_kb = 9000;
      hcm(c).codec_type = 'HTTP3';
    });
    assert.deepEqual(issues, [
      { path: `${HCM}.stat_prefix`, message: 'expected a string, got number 5' },
      {
        path: `${HCM}.codec_type`,
        message: "'HTTP3' is not supported by Weft; supported: AUTO, HTTP1, HTTP2",
      },
      { path: `${HCM}.max_request_headers_kb`, message: 'must be between 1 and 8192, got 9000' },
      { path: `${HCM}.use_remote_address`, message: "expected true or false, got a string ('yes')" },
    ]);
  });
  test('a listener address must be an IP literal with a valid port', () => {
    const issues = issuesAfter((c) => {
      c.static_resources.listeners[0].address.socket_address = {
        address: 'localhost',
        port_value: 70000,
        ipv4_compat: true,
      };
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      [
        `${L0}.address.socket_address.address`,
        `${L0}.address.socket_address.port_value`,
        `${L0}.address.socket_address.ipv4_compat`,
      ],
    );
  });
  test('a bad duration', () => {
    expectIssue(
      (c) => (vh(c).routes[1].route.timeout = '5ms'),
      `${VH}.routes[1].route.timeout`,
      /not a duration.*"0\.005s"/,
    );
  });
  test('domains: wildcard placement, duplicates across virtual hosts', () => {
    const issues = issuesAfter((c) => {
      vh(c).domains = ['a.*.com', 'example.com'];
      hcm(c).route_config.virtual_hosts.push({ name: 'other', domains: ['EXAMPLE.com'], routes: [] });
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      [`${VH}.domains[0]`, `${RC}.virtual_hosts[1].domains[0]`],
    );
    assert.match(issues[1].message, /'example\.com' is already used by virtual host 'backend'/);
  });
  test('a virtual host without name or domains', () => {
    const issues = issuesAfter((c) => hcm(c).route_config.virtual_hosts.push({ routes: [] }));
    assert.deepEqual(
      issues.map((i) => i.path),
      [`${RC}.virtual_hosts[1].name`, `${RC}.virtual_hosts[1].domains`],
    );
  });
  test('a route with two actions, and one with none', () => {
    const issues = issuesAfter((c) => {
      vh(c).routes[1].redirect = { https_redirect: true };
      delete vh(c).routes[2].route;
    });
    assert.deepEqual(issues, [
      {
        path: `${VH}.routes[1]`,
        message: 'only one of route, redirect, direct_response may be set, found route, redirect',
      },
      { path: `${VH}.routes[2]`, message: 'one of route, redirect or direct_response is required' },
    ]);
  });
  test('a match with both prefix and path', () => {
    expectIssue(
      (c) => (vh(c).routes[4].match.path = '/x'),
      `${VH}.routes[4].match`,
      /only one of prefix, path, safe_regex/,
    );
  });
  test('a regex RegExp would read differently', () => {
    expectIssue(
      (c) => (vh(c).routes[4].match = { safe_regex: { google_re2: {}, regex: '/(?!admin).*' } }),
      `${VH}.routes[4].match.safe_regex.regex`,
      /lookahead/,
    );
    expectIssue(
      (c) => (vh(c).routes[4].match = { safe_regex: { regex: '/[[:alpha:]]+' } }),
      `${VH}.routes[4].match.safe_regex.regex`,
      /POSIX/,
    );
    expectIssue(
      (c) => (vh(c).routes[4].match = { safe_regex: { regex: '/\\z' } }),
      `${VH}.routes[4].match.safe_regex.regex`,
      /does not compile/,
    );
  });
  test('header matchers: specifiers, ranges, pseudo-headers', () => {
    const issues = issuesAfter((c) => {
      vh(c).routes[2].match.headers = [
        { name: 'a', exact_match: 'x', prefix_match: 'y' },
        { name: 'b', range_match: { start: 10, end: 5 } },
        { name: ':status', present_match: true },
        { name: 'c', string_match: {} },
      ];
    });
    const H = `${VH}.routes[2].match.headers`;
    assert.deepEqual(
      issues.map((i) => i.path),
      [`${H}[0]`, `${H}[1].range_match`, `${H}[2].name`, `${H}[3].string_match`],
    );
  });
  test('weighted clusters: total_weight must match, weight required', () => {
    const issues = issuesAfter((c) => {
      const wc = vh(c).routes[1].route.weighted_clusters;
      wc.total_weight = 50;
      delete wc.clusters[1].weight;
    });
    assert.deepEqual(issues, [
      { path: `${VH}.routes[1].route.weighted_clusters.clusters[1].weight`, message: 'is required' },
      {
        path: `${VH}.routes[1].route.weighted_clusters.total_weight`,
        message: 'is 50 but the weights add up to 90',
      },
    ]);
  });
  test('direct_response status range and body sources', () => {
    const issues = issuesAfter((c) => {
      vh(c).routes[0].direct_response = { status: 700, body: { inline_string: 'a', inline_bytes: 'YQ==' } };
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      [`${VH}.routes[0].direct_response.status`, `${VH}.routes[0].direct_response.body`],
    );
  });
  test('header mutations refuse bad names, host and pseudo-headers', () => {
    const issues = issuesAfter((c) => {
      vh(c).request_headers_to_add = [
        { header: { key: 'bad name', value: 'x' } },
        { header: { key: 'Host', value: 'x' } },
        { header: { key: 'x-ok', value: 'a\r\nb' }, append: true, append_action: 'ADD_IF_ABSENT' },
      ];
      vh(c).response_headers_to_remove = [':status'];
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      [
        `${VH}.request_headers_to_add[0].header.key`,
        `${VH}.request_headers_to_add[1].header.key`,
        `${VH}.request_headers_to_add[2].header.value`,
        `${VH}.request_headers_to_add[2]`,
        `${VH}.response_headers_to_remove[0]`,
      ],
    );
  });
  test('access logs: unknown logger, file logger without path, two formats', () => {
    const issues = issuesAfter((c) => {
      hcm(c).access_log = [
        {
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig',
            x: 1,
          },
        },
        {
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
            format: 'x',
            json_format: { a: 'b' },
          },
        },
      ];
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      [
        `${HCM}.access_log[0].typed_config.@type`,
        `${HCM}.access_log[1].typed_config.path`,
        `${HCM}.access_log[1].typed_config`,
      ],
    );
  });
});

describe('clusters', () => {
  test('unsupported types and policies, endpoint rules', () => {
    const issues = issuesAfter((c) => {
      const cl = c.static_resources.clusters;
      cl[0].type = 'ORIGINAL_DST';
      cl[0].lb_policy = 'CLUSTER_PROVIDED';
      cl[0].load_assignment.endpoints[0].lb_endpoints[1].load_balancing_weight = 0;
      cl[3].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address =
        'db.internal';
      cl[2].load_assignment.endpoints[0].lb_endpoints.push(
        cl[2].load_assignment.endpoints[0].lb_endpoints[0],
      );
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      [
        `${C}[0].type`,
        `${C}[0].lb_policy`,
        `${C}[0].load_assignment.endpoints[0].lb_endpoints[1].load_balancing_weight`,
        `${C}[2].load_assignment.endpoints`,
        `${C}[3].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address`,
      ],
    );
    assert.equal(
      issues[0].message,
      "'ORIGINAL_DST' is not supported by Weft; supported: STATIC, STRICT_DNS, LOGICAL_DNS, EDS",
    );
  });
  test('HttpProtocolOptions via typed_extension_protocol_options', () => {
    const key = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
    const cfg = fixture();
    cfg.static_resources.clusters[0].typed_extension_protocol_options = {
      [key]: {
        '@type': `type.googleapis.com/${key}`,
        common_http_protocol_options: { idle_timeout: '30s', max_requests_per_connection: 100 },
        explicit_http_config: { http_protocol_options: {} },
      },
    };
    const { bootstrap, issues } = validateBootstrap(cfg, createDefaultHttpFilterRegistry());
    assert.deepEqual(issues, []);
    assert.equal(bootstrap?.staticResources.clusters[0].idleTimeoutMs, 30000);
    assert.equal(bootstrap?.staticResources.clusters[0].maxRequestsPerConnection, 100);
    const h2 = fixture();
    h2.static_resources.clusters[0].typed_extension_protocol_options = {
      [key]: {
        '@type': `type.googleapis.com/${key}`,
        explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 10 } },
      },
    };
    const h2Result = validateBootstrap(h2, createDefaultHttpFilterRegistry());
    assert.deepEqual(h2Result.issues, []);
    const h2Cluster = h2Result.bootstrap?.staticResources.clusters[0];
    assert.equal(h2Cluster?.httpProtocol, 'HTTP2');
    assert.equal(h2Cluster?.http2Options?.maxConcurrentStreams, 10);
    expectIssue(
      (c) => {
        c.static_resources.clusters[0].typed_extension_protocol_options = {
          [key]: {
            '@type': `type.googleapis.com/${key}`,
            explicit_http_config: { http2_protocol_options: { bogus: 1 } },
          },
        };
      },
      `${C}[0].typed_extension_protocol_options.${key}.explicit_http_config.http2_protocol_options.bogus`,
      'unsupported field',
    );
  });
  test('an endpoint without a port', () => {
    expectIssue(
      (c) =>
        delete c.static_resources.clusters[3].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address
          .socket_address.port_value,
      `${C}[3].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value`,
      'is required',
    );
  });
});

test("admin's deprecated access_log_path becomes a file log ('/dev/null' means none)", () => {
  for (const [path, count] of [
    ['/dev/null', 0],
    ['/var/log/admin.log', 1],
  ] as const) {
    const cfg = fixture();
    cfg.admin.access_log_path = path;
    const { bootstrap, issues } = validateBootstrap(cfg, createDefaultHttpFilterRegistry());
    assert.deepEqual(issues, []);
    assert.equal(bootstrap?.admin?.accessLog.length, count);
  }
});

describe('cross checks', () => {
  test('undefined clusters referenced by routes and tcp_proxy', () => {
    const issues = issuesAfter((c) => {
      vh(c).routes[4].route.cluster = 'nope';
      c.static_resources.clusters.pop();
    });
    assert.deepEqual(issues, [
      { path: `${VH}.routes[4].route.cluster`, message: "cluster 'nope' is not defined" },
      { path: `${TCP}.cluster`, message: "cluster 'db' is not defined" },
    ]);
  });
  test('validate_clusters: false skips the route check (not the tcp_proxy one)', () => {
    const issues = issuesAfter((c) => {
      hcm(c).route_config.validate_clusters = false;
      vh(c).routes[4].route.cluster = 'nope';
    });
    assert.deepEqual(issues, []);
  });
  test('duplicate listener names and addresses, duplicate cluster names', () => {
    const issues = issuesAfter((c) => {
      const l = structuredClone(c.static_resources.listeners[1]);
      c.static_resources.listeners.push(l);
      c.static_resources.clusters.push(structuredClone(c.static_resources.clusters[0]));
    });
    assert.deepEqual(issues, [
      { path: 'static_resources.listeners[2].name', message: "duplicate listener name 'tcp_in'" },
      {
        path: 'static_resources.listeners[2].address',
        message: "listener 'tcp_in' already uses 127.0.0.1:5432",
      },
      { path: `${C}[4].name`, message: "duplicate cluster name 'api_v1'" },
    ]);
  });
});

test('a config with several problems reports all of them', () => {
  const issues = issuesAfter((c) => {
    c.admin.address.socket_address.port_value = -1;
    c.stats_config = {};
    hcm(c).stat_prefix = '';
    vh(c).routes[1].route.weighted_clusters.clusters[0].name = 'missing';
    vh(c).routes[3].redirect.response_code = 'MOVED';
    c.static_resources.clusters[1].connect_timeout = 5;
    c.static_resources.listeners[1].filter_chains[0].filters[0].typed_config.idle_timeout = '-1s';
  });
  assert.deepEqual(
    issues.map((i) => i.path),
    [
      'admin.address.socket_address.port_value',
      `${HCM}.stat_prefix`,
      `${VH}.routes[3].redirect.response_code`,
      `${TCP}.idle_timeout`,
      `${C}[1].connect_timeout`,
      'stats_config',
      `${VH}.routes[1].route.weighted_clusters.clusters[0].name`,
    ],
  );
});

describe('fields Envoy has that Weft refuses until their feature lands', () => {
  test('codec_type HTTP3 and endpoint priority are refused with their paths', () => {
    const issues = issuesAfter((c) => {
      hcm(c).codec_type = 'HTTP3';
      c.static_resources.clusters[0].load_assignment.endpoints[0].priority = 128; // above Envoy's 127
    });
    const paths = issues.map((i) => i.path);
    assert.ok(paths.includes(`${HCM}.codec_type`), paths.join('\n'));
    assert.ok(paths.includes(`${C}[0].load_assignment.endpoints[0].priority`), paths.join('\n'));
  });

  test('normalize_path, merge_slashes and path_with_escaped_slashes_action are read; bad values refused', () => {
    assert.deepEqual(
      issuesAfter((c) => {
        hcm(c).normalize_path = true;
        hcm(c).merge_slashes = true;
        hcm(c).path_with_escaped_slashes_action = 'UNESCAPE_AND_FORWARD';
      }),
      [],
    );
    const paths = issuesAfter((c) => {
      hcm(c).normalize_path = 'yes';
      hcm(c).path_with_escaped_slashes_action = 'DECODE';
    }).map((i) => i.path);
    assert.deepEqual(paths.sort(), [`${HCM}.normalize_path`, `${HCM}.path_with_escaped_slashes_action`]);
  });

  test('forward_client_cert_details and set_current_client_cert_details are read; bad values refused by path', () => {
    assert.deepEqual(
      issuesAfter((c) => {
        hcm(c).forward_client_cert_details = 'SANITIZE_SET';
        hcm(c).set_current_client_cert_details = {
          subject: true,
          uri: true,
          cert: false,
          chain: false,
          dns: true,
        };
      }),
      [],
    );
    const paths = issuesAfter((c) => {
      hcm(c).forward_client_cert_details = 'SOMETIMES';
      hcm(c).set_current_client_cert_details = { uri: 'yes', spki: true };
    }).map((i) => i.path);
    assert.deepEqual(paths.sort(), [
      `${HCM}.forward_client_cert_details`,
      `${HCM}.set_current_client_cert_details.spki`,
      `${HCM}.set_current_client_cert_details.uri`,
    ]);
  });

  test('original_ip_detection_extensions: both extensions are read; mixing and bad entries are refused by path', () => {
    const CUSTOM =
      'type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig';
    const XFF = 'type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig';
    assert.deepEqual(
      issuesAfter((c) => {
        hcm(c).use_remote_address = false;
        hcm(c).original_ip_detection_extensions = [
          {
            name: 'envoy.http.original_ip_detection.custom_header',
            typed_config: {
              '@type': CUSTOM,
              header_name: 'X-Real-IP',
              allow_extension_to_set_address_as_trusted: true,
              reject_with_status: { code: 'Forbidden' },
            },
          },
          {
            name: 'envoy.http.original_ip_detection.xff',
            typed_config: { '@type': XFF, xff_num_trusted_hops: 1 },
          },
        ];
      }),
      [],
    );
    const issues = issuesAfter((c) => {
      hcm(c).use_remote_address = true;
      hcm(c).xff_num_trusted_hops = 1;
      hcm(c).original_ip_detection_extensions = [
        {
          name: 'a',
          typed_config: { '@type': CUSTOM, header_name: 'bad name', reject_with_status: { code: 'Nope' } },
        },
        { name: 'b', typed_config: { '@type': 'type.googleapis.com/some.Other', x: 1 } },
        { name: 'c' },
      ];
    });
    const E = `${HCM}.original_ip_detection_extensions`;
    const byPath = new Map(issues.map((i) => [i.path, i.message]));
    assert.match(byPath.get(E) ?? '', /may not be mixed/);
    assert.equal(issues.filter((i) => i.path === E).length, 2, 'use_remote_address and xff_num_trusted_hops');
    assert.ok(byPath.has(`${E}[0].typed_config.header_name`), [...byPath.keys()].join('\n'));
    assert.match(byPath.get(`${E}[0].typed_config.reject_with_status.code`) ?? '', /StatusCode name/);
    assert.match(
      byPath.get(`${E}[1].typed_config.@type`) ?? '',
      /unsupported original IP detection extension/,
    );
    assert.ok(byPath.has(`${E}[2].typed_config`), [...byPath.keys()].join('\n'));
  });

  test('xff_num_trusted_hops and skip_xff_append are read; a bad value is refused with its path', () => {
    assert.deepEqual(
      issuesAfter((c) => {
        hcm(c).xff_num_trusted_hops = 2;
        hcm(c).skip_xff_append = true;
      }),
      [],
    );
    const paths = issuesAfter((c) => {
      hcm(c).xff_num_trusted_hops = -1;
      hcm(c).skip_xff_append = 'no';
    }).map((i) => i.path);
    assert.ok(paths.includes(`${HCM}.xff_num_trusted_hops`), paths.join('\n'));
    assert.ok(paths.includes(`${HCM}.skip_xff_append`), paths.join('\n'));
  });

  test('internal_address_config: cidr_ranges are read and checked', () => {
    assert.deepEqual(
      issuesAfter((c) => {
        hcm(c).internal_address_config = {
          unix_sockets: false,
          cidr_ranges: [{ address_prefix: '100.64.0.0', prefix_len: 10 }],
        };
      }),
      [],
    );
    const paths = issuesAfter((c) => {
      hcm(c).internal_address_config = {
        cidr_ranges: [
          { address_prefix: 'ten.0.0.0', prefix_len: 8 },
          { address_prefix: '10.0.0.0', prefix_len: 33 },
        ],
        wildcard: true,
      };
    }).map((i) => i.path);
    assert.ok(
      paths.includes(`${HCM}.internal_address_config.cidr_ranges[0].address_prefix`),
      paths.join('\n'),
    );
    assert.ok(paths.includes(`${HCM}.internal_address_config.cidr_ranges[1].prefix_len`), paths.join('\n'));
    assert.ok(paths.includes(`${HCM}.internal_address_config.wildcard`), paths.join('\n'));
  });
});

describe('dynamic_resources (ADS), rds and EDS clusters', () => {
  const withAds = (c: Raw): void => {
    c.dynamic_resources = structuredClone(ADS_DYNAMIC_RESOURCES);
    c.static_resources.clusters.push(structuredClone(XDS_CLUSTER));
  };
  test('static resources mixed with an ADS source, an rds listener and an EDS cluster', () => {
    const cfg = fixture();
    withAds(cfg);
    delete hcm(cfg).route_config;
    hcm(cfg).rds = {
      route_config_name: 'local_route',
      config_source: { ads: {}, resource_api_version: 'V3' },
    };
    cfg.static_resources.clusters.push({
      name: 'orders',
      type: 'EDS',
      connect_timeout: '1s',
      eds_cluster_config: { eds_config: { ads: {} }, service_name: 'orders.prod' },
    });
    const { bootstrap, issues } = validateBootstrap(cfg, createDefaultHttpFilterRegistry());
    assert.deepEqual(issues, []);
    assert.deepEqual(bootstrap?.dynamicResources, {
      ads: { apiType: 'GRPC', clusterName: 'xds_cluster', setNodeOnFirstMessageOnly: false },
      lds: true,
      cds: true,
    });
    const f = bootstrap?.staticResources.listeners[0].filterChains[0].filters[0];
    assert.deepEqual(f?.kind === 'http_connection_manager' ? f.config.rds : undefined, {
      routeConfigName: 'local_route',
    });
    const orders = bootstrap?.staticResources.clusters.find((c) => c.name === 'orders');
    assert.equal(orders?.type, 'EDS');
    assert.equal(orders?.edsServiceName, 'orders.prod');
    assert.equal(bootstrap?.staticResources.clusters.find((c) => c.name === 'xds_cluster')?.http2, true);
  });
  test('DELTA_GRPC is accepted; REST and AGGREGATED_GRPC are not', () => {
    const ok = issuesAfter((c) => {
      withAds(c);
      c.dynamic_resources.ads_config.api_type = 'DELTA_GRPC';
    });
    assert.deepEqual(ok, []);
    expectIssue(
      (c) => {
        withAds(c);
        c.dynamic_resources.ads_config.api_type = 'REST';
      },
      'dynamic_resources.ads_config.api_type',
      "'REST' is not supported by Weft; supported: GRPC, DELTA_GRPC",
    );
  });
  test('the gRPC service: envoy_grpc naming a static cluster with an endpoint', () => {
    expectIssue(
      (c) => {
        withAds(c);
        c.dynamic_resources.ads_config.grpc_services = [{ google_grpc: { target_uri: 'x' } }];
      },
      'dynamic_resources.ads_config.grpc_services[0].envoy_grpc',
      'is required (google_grpc is not supported)',
    );
    expectIssue(
      (c) => {
        withAds(c);
        c.dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name = 'nope';
      },
      'dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name',
      "cluster 'nope' is not a static cluster",
    );
  });
  test('lds_config needs ads_config; transport V2 is refused', () => {
    expectIssue(
      (c) => (c.dynamic_resources = { lds_config: { ads: {} } }),
      'dynamic_resources.ads_config',
      'is required when lds_config or cds_config use {ads: {}}',
    );
    expectIssue(
      (c) => {
        withAds(c);
        c.dynamic_resources.ads_config.transport_api_version = 'V2';
      },
      'dynamic_resources.ads_config.transport_api_version',
      "'V2' is not supported by Weft; supported: AUTO, V3",
    );
  });
  test('an EDS cluster gets no inline endpoints and needs eds_cluster_config', () => {
    const issues = issuesAfter((c) => {
      withAds(c);
      c.static_resources.clusters[0].type = 'EDS';
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      [`${C}[0].eds_cluster_config`, `${C}[0].load_assignment`],
    );
  });
  test('traffic cannot be routed to the xDS cluster', () => {
    expectIssue(
      (c) => {
        withAds(c);
        c.static_resources.listeners[1].filter_chains[0].filters[0].typed_config.cluster = 'xds_cluster';
      },
      `${TCP}.cluster`,
      "cluster 'xds_cluster' is the xDS gRPC cluster; traffic cannot be routed to it",
    );
  });
});
