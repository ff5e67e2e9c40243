// upgrade_configs on the HCM and on routes, connect_matcher and connect_config: what is
// read, and every bad or unsupported field reported with its full path.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { ConfigIssue } from '../core/errors.js';
import { REALISTIC_BOOTSTRAP_YAML } from './bootstrap-fixture.js';
import { createDefaultHttpFilterRegistry } from './http-filter-registry.js';
import type { Bootstrap, HttpConnectionManager, RouteAction } from './model.js';
import { validateBootstrap } from './validate-bootstrap.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit raw, untyped config trees.
type Raw = any;

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const ROUTE = `${HCM}.route_config.virtual_hosts[0].routes[4]`;

function validate(edit: (hcm: Raw, route: Raw) => void): {
  bootstrap: Bootstrap | null;
  issues: ConfigIssue[];
} {
  const cfg: Raw = parse(REALISTIC_BOOTSTRAP_YAML);
  const hcm = cfg.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  edit(hcm, hcm.route_config.virtual_hosts[0].routes[4]);
  return validateBootstrap(cfg, createDefaultHttpFilterRegistry());
}

function hcmOf(b: Bootstrap): HttpConnectionManager {
  const f = b.staticResources.listeners[0].filterChains[0].filters[0];
  assert.equal(f.kind, 'http_connection_manager');
  return (f as { config: HttpConnectionManager }).config;
}

function issuesOf(edit: (hcm: Raw, route: Raw) => void): Array<[string, string]> {
  return validate(edit).issues.map((i) => [i.path, i.message]);
}

describe('upgrade_configs', () => {
  test('HCM and route upgrade_configs, connect_matcher and connect_config are read', () => {
    const { bootstrap, issues } = validate((hcm, route) => {
      hcm.upgrade_configs = [{ upgrade_type: 'WebSocket' }, { upgrade_type: 'CONNECT', enabled: false }];
      route.match = { connect_matcher: {} };
      route.route.upgrade_configs = [
        { upgrade_type: 'CONNECT', connect_config: {} },
        { upgrade_type: 'websocket', enabled: { value: false } },
      ];
    });
    assert.deepEqual(issues, []);
    const hcm = hcmOf(bootstrap!);
    assert.deepEqual(hcm.upgradeConfigs, [
      { upgradeType: 'websocket', enabled: true },
      { upgradeType: 'connect', enabled: false },
    ]);
    const route = hcm.routeConfig.virtualHosts[0].routes[4];
    assert.deepEqual(route.match.path, { kind: 'connect' });
    assert.deepEqual((route.action as RouteAction).upgradeConfigs, [
      { upgradeType: 'connect', enabled: true, terminateConnect: true },
      { upgradeType: 'websocket', enabled: false, terminateConnect: false },
    ]);
  });

  test('absent upgrade_configs leave the config shape unchanged', () => {
    const { bootstrap } = validate(() => {});
    const hcm = hcmOf(bootstrap!);
    assert.equal('upgradeConfigs' in hcm, false);
    assert.equal('upgradeConfigs' in hcm.routeConfig.virtualHosts[0].routes[4].action, false);
  });

  test('custom upgrade filter chains are refused with their path', () => {
    assert.deepEqual(
      issuesOf((hcm) => {
        hcm.upgrade_configs = [{ upgrade_type: 'websocket', filters: [{ name: 'x' }] }];
      }),
      [
        [
          `${HCM}.upgrade_configs[0].filters`,
          'custom upgrade filter chains are not supported; upgrades use the HCM http_filters',
        ],
      ],
    );
  });

  test('bad and unsupported fields, all reported together', () => {
    assert.deepEqual(
      issuesOf((hcm, route) => {
        hcm.upgrade_configs = [
          { upgrade_type: 'websocket' },
          { upgrade_type: 'WEBSOCKET' },
          { enabled: true },
          { upgrade_type: 'CONNECT', enabled: 'yes', extra: 1 },
        ];
        route.route.upgrade_configs = [
          { upgrade_type: 'websocket', connect_config: {} },
          { upgrade_type: 'CONNECT', connect_config: { allow_post: true, proxy_protocol_config: {} } },
          { upgrade_type: 'CONNECT' },
        ];
      }),
      [
        [
          `${ROUTE}.route.upgrade_configs[0].connect_config`,
          "applies to upgrade_type CONNECT only, not 'websocket'",
        ],
        [`${ROUTE}.route.upgrade_configs[1].connect_config.allow_post`, 'is not supported by Weft'],
        [
          `${ROUTE}.route.upgrade_configs[1].connect_config.proxy_protocol_config`,
          'is not supported by Weft',
        ],
        [`${ROUTE}.route.upgrade_configs[2].upgrade_type`, "duplicate upgrade type 'connect'"],
        [`${HCM}.upgrade_configs[1].upgrade_type`, "duplicate upgrade type 'websocket'"],
        [`${HCM}.upgrade_configs[2].upgrade_type`, 'is required'],
        [`${HCM}.upgrade_configs[3].enabled`, "expected true or false, got a string ('yes')"],
        [`${HCM}.upgrade_configs[3].extra`, 'unsupported field'],
      ],
    );
  });

  test('connect_matcher takes no fields and excludes the other path specifiers', () => {
    assert.deepEqual(
      issuesOf((_hcm, route) => {
        route.match = { connect_matcher: { x: 1 } };
      }),
      [[`${ROUTE}.match.connect_matcher.x`, 'unsupported field']],
    );
    const both = issuesOf((_hcm, route) => {
      route.match = { prefix: '/', connect_matcher: {} };
    });
    assert.equal(both.length, 1);
    assert.equal(both[0][0], `${ROUTE}.match`);
  });
});
