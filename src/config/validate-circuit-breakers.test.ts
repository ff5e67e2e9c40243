// Cluster circuit_breakers validation: Envoy's defaults, Weft's default retry budget, a
// budget replacing max_retries, and refused priorities / fields named by path.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigIssue } from '../core/errors.js';
import { DEFAULT_CIRCUIT_BREAKERS } from './validate-circuit-breakers.js';
import { validateCluster } from './validate-cluster.js';

function cluster(circuitBreakers: unknown) {
  const issues: ConfigIssue[] = [];
  const c = validateCluster(
    {
      name: 'c',
      load_assignment: {
        endpoints: [
          {
            lb_endpoints: [
              { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 1 } } } },
            ],
          },
        ],
      },
      circuit_breakers: circuitBreakers,
    },
    'clusters[0]',
    issues,
  );
  return { cb: c.circuitBreakers, issues };
}

describe('circuit_breakers', () => {
  test('absent: not set on the model (the cluster applies the defaults)', () => {
    assert.equal(cluster(null).cb, undefined);
    assert.deepEqual(DEFAULT_CIRCUIT_BREAKERS, {
      maxConnections: 1024,
      maxPendingRequests: 1024,
      maxRequests: 1024,
      maxRetries: 3,
      retryBudget: { budgetPercent: 20, minRetryConcurrency: 3 },
    });
  });

  test('limits given, no retry setting: Weft keeps the default budget', () => {
    const { cb, issues } = cluster({
      thresholds: [{ priority: 'DEFAULT', max_connections: 1, max_requests: 2 }],
    });
    assert.deepEqual(issues, []);
    assert.equal(cb?.maxConnections, 1);
    assert.equal(cb?.maxRequests, 2);
    assert.equal(cb?.maxPendingRequests, 1024);
    assert.deepEqual(cb?.retryBudget, { budgetPercent: 20, minRetryConcurrency: 3 });
  });

  test('max_retries alone turns the budget off; a retry_budget replaces max_retries', () => {
    assert.equal(cluster({ thresholds: [{ max_retries: 5 }] }).cb?.retryBudget, null);
    const { cb, issues } = cluster({
      thresholds: [
        { max_retries: 5, retry_budget: { budget_percent: { value: 12.5 }, min_retry_concurrency: 1 } },
      ],
    });
    assert.deepEqual(issues, []);
    assert.deepEqual(cb?.retryBudget, { budgetPercent: 12.5, minRetryConcurrency: 1 });
  });

  test('HIGH priority, duplicates, bad values and unknown fields are refused by path', () => {
    const { issues } = cluster({
      thresholds: [
        { priority: 'HIGH', max_connections: -1 },
        { retry_budget: { budget_percent: { value: 150 } }, max_connection_pools: 1 },
      ],
      per_host_thresholds: [{}],
    });
    assert.deepEqual(issues.map((i) => i.path).sort(), [
      'clusters[0].circuit_breakers.per_host_thresholds',
      'clusters[0].circuit_breakers.thresholds[0].max_connections',
      'clusters[0].circuit_breakers.thresholds[0].priority',
      'clusters[0].circuit_breakers.thresholds[1].max_connection_pools',
      'clusters[0].circuit_breakers.thresholds[1].priority',
      'clusters[0].circuit_breakers.thresholds[1].retry_budget.budget_percent.value',
    ]);
  });
});
