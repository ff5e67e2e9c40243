// The timeouts of issue 4 at config load: HCM stream_idle_timeout and
// common_http_protocol_options max_connection_duration / max_stream_duration, route
// idle_timeout, retry_policy per_try_idle_timeout, cluster max_connection_duration —
// Envoy's defaults, 0 meaning "off", and bad values named by their full path.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { REALISTIC_BOOTSTRAP_YAML } from './bootstrap-fixture.js';
import { createDefaultHttpFilterRegistry } from './http-filter-registry.js';
import type { HttpConnectionManager, RouteAction } from './model.js';
import { validateBootstrap } from './validate-bootstrap.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit raw, untyped config trees.
type Raw = any;

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const R0 = `${HCM}.route_config.virtual_hosts[0].routes[1]`;

function load(edit: (cfg: Raw) => void) {
  const cfg: Raw = parse(REALISTIC_BOOTSTRAP_YAML);
  edit(cfg);
  const { bootstrap, issues } = validateBootstrap(cfg, createDefaultHttpFilterRegistry());
  const filter = bootstrap?.staticResources.listeners[0].filterChains[0].filters[0];
  const hcm = (filter as { config?: HttpConnectionManager } | undefined)?.config;
  return { bootstrap, issues, hcm };
}
const hcmOf = (cfg: Raw): Raw => cfg.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const routeOf = (cfg: Raw, i = 1): Raw => hcmOf(cfg).route_config.virtual_hosts[0].routes[i];
const actionOf = (hcm: HttpConnectionManager | undefined, i = 1) =>
  hcm?.routeConfig.virtualHosts[0].routes[i].action as RouteAction;

describe('timeouts at config load', () => {
  test('absent: Envoy defaults (stream idle 5 min in the proxy), no durations', () => {
    const { issues, hcm, bootstrap } = load(() => {});
    assert.deepEqual(issues, []);
    assert.equal(hcm?.streamIdleTimeoutMs, undefined);
    assert.equal(hcm?.maxConnectionDurationMs, undefined);
    assert.equal(hcm?.maxStreamDurationMs, undefined);
    assert.equal(actionOf(hcm).idleTimeoutMs, undefined);
    assert.equal(bootstrap?.staticResources.clusters[0].maxConnectionDurationMs, undefined);
  });

  test('every field read; 0 turns the idle timeouts off', () => {
    const { issues, hcm, bootstrap } = load((cfg) => {
      const h = hcmOf(cfg);
      h.stream_idle_timeout = '0s';
      h.common_http_protocol_options.max_connection_duration = '60s';
      h.common_http_protocol_options.max_stream_duration = '2.5s';
      routeOf(cfg).route.idle_timeout = '0s';
      routeOf(cfg, 2).route.idle_timeout = '7s';
      routeOf(cfg, 2).route.retry_policy = { retry_on: 'reset', per_try_idle_timeout: '0.25s' };
      routeOf(cfg, 2).route.max_stream_duration = { max_stream_duration: '0s' };
      cfg.static_resources.clusters[0].common_http_protocol_options = {
        max_connection_duration: '30s',
        max_requests_per_connection: 5,
      };
    });
    assert.deepEqual(issues, []);
    assert.equal(hcm?.streamIdleTimeoutMs, null);
    assert.equal(hcm?.maxConnectionDurationMs, 60_000);
    assert.equal(hcm?.maxStreamDurationMs, 2500);
    assert.equal(actionOf(hcm).idleTimeoutMs, null);
    const second = actionOf(hcm, 2);
    assert.equal(second.idleTimeoutMs, 7000);
    assert.equal(second.retryPolicy?.perTryIdleTimeoutMs, 250);
    assert.equal(second.maxStreamDuration?.maxStreamDurationMs, null);
    assert.equal(
      second.maxStreamDuration?.overridesConnectionManager,
      true,
      'an explicit 0 disables the HCM one',
    );
    const cluster = bootstrap?.staticResources.clusters[0];
    assert.equal(cluster?.maxConnectionDurationMs, 30_000);
    assert.equal(cluster?.maxRequestsPerConnection, 5);
  });

  test('a stream_idle_timeout value is kept in ms', () => {
    const { hcm } = load((cfg) => (hcmOf(cfg).stream_idle_timeout = '90s'));
    assert.equal(hcm?.streamIdleTimeoutMs, 90_000);
  });

  test('cluster max_connection_duration through typed_extension_protocol_options', () => {
    const key = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
    const { issues, bootstrap } = load((cfg) => {
      cfg.static_resources.clusters[0].typed_extension_protocol_options = {
        [key]: {
          '@type': `type.googleapis.com/${key}`,
          common_http_protocol_options: { max_connection_duration: '45s' },
          explicit_http_config: { http_protocol_options: {} },
        },
      };
    });
    assert.deepEqual(issues, []);
    assert.equal(bootstrap?.staticResources.clusters[0].maxConnectionDurationMs, 45_000);
  });

  test('bad durations are named by their full path, all at once', () => {
    const { issues } = load((cfg) => {
      const h = hcmOf(cfg);
      h.stream_idle_timeout = 'forever';
      h.common_http_protocol_options.max_connection_duration = '-1s';
      h.common_http_protocol_options.max_stream_duration = 12;
      routeOf(cfg).route.idle_timeout = '1 minute';
      routeOf(cfg).route.retry_policy = { retry_on: 'reset', per_try_idle_timeout: '-5s' };
      cfg.static_resources.clusters[0].common_http_protocol_options = { max_connection_duration: 'x' };
    });
    assert.deepEqual(
      issues.map((i) => i.path).sort(),
      [
        `${R0}.route.idle_timeout`,
        `${R0}.route.retry_policy.per_try_idle_timeout`,
        `${HCM}.common_http_protocol_options.max_connection_duration`,
        `${HCM}.common_http_protocol_options.max_stream_duration`,
        `${HCM}.stream_idle_timeout`,
        'static_resources.clusters[0].common_http_protocol_options.max_connection_duration',
      ].sort(),
    );
  });
});
