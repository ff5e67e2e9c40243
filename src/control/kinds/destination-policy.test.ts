// DestinationPolicy validation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../resource.js';
import { validateDestinationPolicy } from './destination-policy.js';

function res(spec: unknown): Resource<unknown, unknown> {
  return { apiVersion: 'weft.dev/v1alpha1', kind: 'DestinationPolicy', metadata: { name: 'p' }, spec };
}

test('a complete policy is valid', () => {
  const issues = validateDestinationPolicy(
    res({
      targetRef: { kind: 'Service', name: 'cart', port: 80 },
      loadBalancer: {
        policy: 'RING_HASH',
        hash: [{ header: { name: 'x-user' } }, { sourceIP: true }],
        ringHash: { minimumRingSize: 1024 },
      },
      connectionPool: { maxRequestsPerConnection: 100 },
      circuitBreakers: { maxConnections: 10, maxPendingRequests: 5, maxRequests: 20, maxRetries: 2 },
      outlierDetection: {
        consecutive5xx: 5,
        interval: '10s',
        baseEjectionTime: '30s',
        maxEjectionPercent: 50,
      },
      healthChecks: [
        {
          timeout: '1s',
          interval: '5s',
          http: { path: '/healthz', expectedStatuses: [{ start: 200, end: 300 }] },
        },
      ],
      retryBudget: { budgetPercent: 20, minRetryConcurrency: 3 },
      timeouts: { connect: '2s', idle: '5m' },
    }),
  );
  assert.deepEqual(issues, []);
});

test('cross-field rules and bad values are reported by path', () => {
  const issues = validateDestinationPolicy(
    res({
      targetRef: { kind: 'Deployment', name: 'cart', namespace: 'other' },
      loadBalancer: {
        policy: 'ROUND_ROBIN',
        hash: [{ header: { name: 'x' }, cookie: { name: 'c' } }],
        ringHash: {},
      },
      healthChecks: [{ interval: '0s', http: { path: 'x' }, tcp: {} }],
      retryBudget: { budgetPercent: 150 },
      timeouts: { connect: '5 seconds' },
    }),
  );
  const by = new Map(issues.map((i) => [i.path, i.message]));
  assert.match(by.get('spec.targetRef.kind')!, /must be 'Service'/);
  assert.match(by.get('spec.targetRef.namespace')!, /own namespace/);
  assert.match(by.get('spec.loadBalancer.hash')!, /RING_HASH or MAGLEV/);
  assert.match(by.get('spec.loadBalancer.hash[0]')!, /exactly one of header, cookie, sourceIP/);
  assert.match(by.get('spec.loadBalancer.ringHash')!, /only applies with policy RING_HASH/);
  assert.equal(by.get('spec.healthChecks[0].timeout'), 'is required');
  assert.match(by.get('spec.healthChecks[0].interval')!, /greater than 0/);
  assert.match(by.get('spec.healthChecks[0]')!, /exactly one of http, tcp, grpc/);
  assert.match(by.get('spec.healthChecks[0].http.path')!, /start with '\/'/);
  assert.match(by.get('spec.retryBudget.budgetPercent')!, /0 to 100/);
  assert.match(by.get('spec.timeouts.connect')!, /Gateway API duration/);
});
