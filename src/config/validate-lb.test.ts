// Cluster load-balancer fields: every policy, the policy configs with Envoy's defaults and
// bounds, common_lb_config, priorities and the overprovisioning factor; refused fields
// named by path.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigIssue } from '../core/errors.js';
import { readMessage } from './fields.js';
import { validateCluster, validateClusterLoadAssignment } from './validate-cluster.js';
import { readHashPolicies } from './validate-hash-policy.js';

function cluster(fields: Record<string, unknown>, endpoints?: unknown[]) {
  const issues: ConfigIssue[] = [];
  const c = validateCluster(
    {
      name: 'c',
      load_assignment: {
        endpoints: endpoints ?? [
          {
            lb_endpoints: [
              { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 1 } } } },
            ],
          },
        ],
        ...((fields.load_assignment as object) ?? {}),
      },
      ...Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'load_assignment')),
    },
    'clusters[0]',
    issues,
  );
  return { c, issues: issues.map((i) => `${i.path}: ${i.message}`) };
}

describe('lb_policy and policy configs', () => {
  test('every implemented policy is accepted; no lb field leaves lbConfig unset', () => {
    for (const p of ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV']) {
      const { c, issues } = cluster({ lb_policy: p });
      assert.deepEqual(issues, []);
      assert.equal(c.lbPolicy, p);
      assert.equal(c.lbConfig, undefined);
    }
    assert.match(
      cluster({ lb_policy: 'CLUSTER_PROVIDED' }).issues[0],
      /lb_policy: 'CLUSTER_PROVIDED' is not supported/,
    );
  });

  test('least_request_lb_config, ring_hash_lb_config, maglev_lb_config', () => {
    const lr = cluster({
      lb_policy: 'LEAST_REQUEST',
      least_request_lb_config: {
        choice_count: 3,
        active_request_bias: { default_value: 0.5, runtime_key: 'k' },
      },
    });
    assert.deepEqual(lr.issues, []);
    assert.deepEqual(lr.c.lbConfig?.leastRequest, { choiceCount: 3, activeRequestBias: 0.5 });
    const ring = cluster({
      lb_policy: 'RING_HASH',
      ring_hash_lb_config: { minimum_ring_size: 64, hash_function: 'XX_HASH' },
    });
    assert.deepEqual(ring.issues, []);
    assert.deepEqual(ring.c.lbConfig?.ringHash, { minimumRingSize: 64, maximumRingSize: 8388608 });
    assert.equal(
      cluster({ lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 251 } }).c.lbConfig?.maglevTableSize,
      251,
    );
  });

  test('slow_start_config on round_robin_lb_config and least_request_lb_config', () => {
    const rr = cluster({ round_robin_lb_config: { slow_start_config: { slow_start_window: '30s' } } });
    assert.deepEqual(rr.issues, []);
    assert.deepEqual(rr.c.lbConfig?.slowStart, { windowMs: 30_000, aggression: 1, minWeightPercent: 10 });
    const lr = cluster({
      lb_policy: 'LEAST_REQUEST',
      least_request_lb_config: {
        slow_start_config: {
          slow_start_window: '10s',
          aggression: { default_value: 2, runtime_key: 'a' },
          min_weight_percent: { value: 5 },
        },
      },
    });
    assert.deepEqual(lr.c.lbConfig?.slowStart, { windowMs: 10_000, aggression: 2, minWeightPercent: 5 });
    assert.deepEqual(
      cluster({
        round_robin_lb_config: { slow_start_config: { aggression: { default_value: 0, runtime_key: 'a' } } },
      }).issues,
      [
        'clusters[0].round_robin_lb_config.slow_start_config.slow_start_window: is required',
        'clusters[0].round_robin_lb_config.slow_start_config.aggression.default_value: expected a number > 0, got number 0',
      ],
    );
  });

  test('bad values and mismatched configs are refused with their paths', () => {
    const { issues } = cluster({
      lb_policy: 'ROUND_ROBIN',
      ring_hash_lb_config: {
        minimum_ring_size: 2000,
        maximum_ring_size: 1000,
        hash_function: 'MURMUR_HASH_2',
      },
      least_request_lb_config: { choice_count: 1, slow_start_config: { slow_start_window: '1s', extra: 1 } },
    });
    assert.deepEqual(issues, [
      'clusters[0].least_request_lb_config: applies only to lb_policy LEAST_REQUEST, not ROUND_ROBIN',
      'clusters[0].least_request_lb_config.choice_count: must be between 2 and 4294967295, got 1',
      'clusters[0].ring_hash_lb_config: applies only to lb_policy RING_HASH, not ROUND_ROBIN',
      'clusters[0].ring_hash_lb_config.minimum_ring_size: must not exceed maximum_ring_size (2000 > 1000)',
      "clusters[0].ring_hash_lb_config.hash_function: 'MURMUR_HASH_2' is not supported by Weft; supported: XX_HASH",
      'clusters[0].least_request_lb_config.slow_start_config.extra: unsupported field',
    ]);
    assert.deepEqual(cluster({ lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 65536 } }).issues, [
      'clusters[0].maglev_lb_config.table_size: must be a prime number, got 65536',
    ]);
  });
});

describe('common_lb_config and priorities', () => {
  test('healthy_panic_threshold, locality_weighted_lb_config, zone_aware_lb_config', () => {
    const lw = cluster({
      common_lb_config: { healthy_panic_threshold: { value: 25 }, locality_weighted_lb_config: {} },
    });
    assert.deepEqual(lw.issues, []);
    assert.equal(lw.c.lbConfig?.healthyPanicThresholdPercent, 25);
    assert.equal(lw.c.lbConfig?.localityWeighted, true);
    const za = cluster({
      common_lb_config: { zone_aware_lb_config: { routing_enabled: { value: 80 }, min_cluster_size: 3 } },
    });
    assert.deepEqual(za.issues, []);
    assert.deepEqual(za.c.lbConfig?.zoneAware, { routingEnabledPercent: 80, minClusterSize: 3 });
    assert.deepEqual(cluster({ common_lb_config: { zone_aware_lb_config: {} } }).c.lbConfig?.zoneAware, {
      routingEnabledPercent: 100,
      minClusterSize: 6,
    });
  });

  test('refuses both locality configs, locality configs with hashing policies, and unknown fields', () => {
    assert.deepEqual(
      cluster({
        common_lb_config: {
          zone_aware_lb_config: {},
          locality_weighted_lb_config: {},
          healthy_panic_threshold: { value: 120 },
          update_merge_window: '1s',
        },
      }).issues,
      [
        'clusters[0].common_lb_config.healthy_panic_threshold.value: expected a percentage 0-100, got number 120',
        'clusters[0].common_lb_config: only one of zone_aware_lb_config, locality_weighted_lb_config may be set, found zone_aware_lb_config, locality_weighted_lb_config',
        'clusters[0].common_lb_config.locality_weighted_lb_config: unsupported field',
        'clusters[0].common_lb_config.update_merge_window: unsupported field',
      ],
    );
    assert.deepEqual(
      cluster({ lb_policy: 'MAGLEV', common_lb_config: { locality_weighted_lb_config: {} } }).issues,
      [
        'clusters[0].common_lb_config.locality_weighted_lb_config: is not supported with lb_policy MAGLEV in Weft',
      ],
    );
  });

  test('priorities and overprovisioning_factor are accepted (inline and over EDS)', () => {
    const ep = (a: string) => ({ endpoint: { address: { socket_address: { address: a, port_value: 1 } } } });
    const { c, issues } = cluster({ load_assignment: { policy: { overprovisioning_factor: 200 } } }, [
      { lb_endpoints: [ep('10.0.0.1')], load_balancing_weight: 3, locality: { zone: 'a' } },
      { lb_endpoints: [ep('10.0.0.2')], priority: 1 },
    ]);
    assert.deepEqual(issues, []);
    assert.equal(c.loadAssignment.overprovisioningFactor, 200);
    assert.deepEqual(
      c.loadAssignment.endpoints.map((e) => [e.priority, e.loadBalancingWeight]),
      [
        [0, 3],
        [1, null],
      ],
    );
    const issuesEds: ConfigIssue[] = [];
    const la = validateClusterLoadAssignment(
      { cluster_name: 'c', endpoints: [], policy: { overprovisioning_factor: 100, drop_overloads: [] } },
      'cla',
      issuesEds,
    );
    assert.equal(la.overprovisioningFactor, 100);
    assert.deepEqual(
      issuesEds.map((i) => i.path),
      ['cla.policy.drop_overloads'],
    );
  });
});

describe('route hash_policy', () => {
  test('header, cookie, connection_properties, query_parameter with terminal', () => {
    const read = (list: unknown[]) => {
      const issues: ConfigIssue[] = [];
      const r = readMessage({ hash_policy: list }, 'route', issues);
      const out = readHashPolicies(r);
      r.done();
      return { out, issues: issues.map((i) => `${i.path}: ${i.message}`) };
    };
    const ok = read([
      { header: { header_name: 'X-User' }, terminal: true },
      { cookie: { name: 's', ttl: '60s', path: '/' } },
      { connection_properties: { source_ip: true } },
      { query_parameter: { name: 'q' } },
    ]);
    assert.deepEqual(ok.issues, []);
    assert.deepEqual(ok.out, [
      { kind: 'header', headerName: 'x-user', terminal: true },
      { kind: 'cookie', name: 's', ttlMs: 60_000, path: '/', terminal: false },
      { kind: 'source_ip', terminal: false },
      { kind: 'query_parameter', name: 'q', terminal: false },
    ]);
    assert.equal(read([]).out, null);
    assert.deepEqual(
      read([
        { filter_state: { key: 'k' } },
        { header: { header_name: 'x', regex_rewrite: {} } },
        { cookie: { name: 'c', attributes: [] } },
        { connection_properties: {} },
        {},
      ]).issues,
      [
        'route.hash_policy[0].filter_state: is not supported by Weft',
        'route.hash_policy[1].header.regex_rewrite: unsupported field',
        'route.hash_policy[2].cookie.attributes: unsupported field',
        'route.hash_policy[3].connection_properties.source_ip: must be true (the only connection property)',
        'route.hash_policy[4]: one of header, cookie, connection_properties, query_parameter, filter_state is required',
      ],
    );
  });
});
