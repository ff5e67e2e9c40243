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

test('maglev table size, slow start, the panic threshold, locality modes and outlier extras', () => {
  const ok = (loadBalancer: unknown, outlierDetection?: unknown) =>
    validateDestinationPolicy(
      res({ targetRef: { kind: 'Service', name: 'cart' }, loadBalancer, outlierDetection }),
    );
  assert.deepEqual(ok({ policy: 'MAGLEV', maglev: { tableSize: 251 }, healthyPanicThreshold: 25.5 }), []);
  assert.deepEqual(
    ok(
      {
        policy: 'LEAST_REQUEST',
        slowStart: { window: '30s', aggression: 2, minWeightPercent: 5 },
        locality: { mode: 'ZoneAware', routingEnabledPercent: 80, minClusterSize: 3 },
      },
      {
        successRate: { minimumHosts: 3, requestVolume: 50, stdevFactor: 1.5, enforcingPercent: 100 },
        failurePercentage: { thresholdPercent: 50, minimumHosts: 3, requestVolume: 20 },
      },
    ),
    [],
  );
  assert.deepEqual(ok({ locality: { mode: 'Weighted' } }), []);

  const bad = validateDestinationPolicy(
    res({
      targetRef: { kind: 'Service', name: 'cart' },
      loadBalancer: {
        policy: 'RING_HASH',
        maglev: { tableSize: 100 },
        slowStart: { aggression: 0 },
        healthyPanicThreshold: 101,
        locality: { mode: 'Nearest', routingEnabledPercent: -1 },
      },
      outlierDetection: { successRate: { stdevFactor: 0 }, failurePercentage: { thresholdPercent: 120 } },
    }),
  );
  const by = new Map(bad.map((i) => [i.path, i.message]));
  assert.match(by.get('spec.loadBalancer.maglev')!, /only applies with policy MAGLEV/);
  assert.match(by.get('spec.loadBalancer.maglev.tableSize')!, /prime/);
  assert.match(by.get('spec.loadBalancer.slowStart')!, /ROUND_ROBIN or LEAST_REQUEST/);
  assert.match(by.get('spec.loadBalancer.slowStart.window')!, /required/);
  assert.match(by.get('spec.loadBalancer.slowStart.aggression')!, /greater than 0/);
  assert.match(by.get('spec.loadBalancer.healthyPanicThreshold')!, /0 to 100/);
  assert.match(by.get('spec.loadBalancer.locality')!, /does not apply with policy RING_HASH/);
  assert.match(by.get('spec.loadBalancer.locality.mode')!, /Weighted|ZoneAware/);
  assert.match(by.get('spec.loadBalancer.locality.routingEnabledPercent')!, /0 to 100/);
  assert.match(by.get('spec.outlierDetection.successRate.stdevFactor')!, /greater than 0/);
  assert.match(by.get('spec.outlierDetection.failurePercentage.thresholdPercent')!, /100/);

  const weighted = validateDestinationPolicy(
    res({
      targetRef: { kind: 'Service', name: 'cart' },
      loadBalancer: { locality: { mode: 'Weighted', minClusterSize: 2 } },
    }),
  );
  assert.match(weighted[0]?.message ?? '', /only apply with mode ZoneAware/);
});
