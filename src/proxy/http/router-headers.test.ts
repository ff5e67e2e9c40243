import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RetryPolicy } from '../../config/model.js';
import { CompiledRetryPolicy, RetryOn } from '../router/retry-policy.js';
import { takeRouterHeaders } from './router-headers.js';

const ROUTE_POLICY: RetryPolicy = {
  retryOn: ['gateway-error'],
  numRetries: 2,
  perTryTimeoutMs: 500,
  baseIntervalMs: 10,
  maxIntervalMs: 100,
  retriableStatusCodes: [],
  retriableHeaders: [],
  previousHostsPredicate: true,
  hostSelectionRetryMaxAttempts: 3,
};

describe('takeRouterHeaders', () => {
  test('reads the retry headers and consumes the timeout ones, in one pass', () => {
    const h = [
      'x-envoy-retry-on',
      '5xx, reset,bogus',
      'accept',
      '*/*',
      'x-envoy-retry-grpc-on',
      'unavailable,5xx',
      'x-envoy-max-retries',
      '4',
      'x-envoy-upstream-rq-timeout-ms',
      '2500',
      'x-envoy-upstream-rq-per-try-timeout-ms',
      '300',
    ];
    assert.deepEqual(takeRouterHeaders(h), {
      retryOn: ['5xx', 'reset', 'unavailable'],
      maxRetries: 4,
      timeoutMs: 2500,
      perTryTimeoutMs: 300,
    });
    assert.deepEqual(h, [
      'x-envoy-retry-on',
      '5xx, reset,bogus',
      'accept',
      '*/*',
      'x-envoy-retry-grpc-on',
      'unavailable,5xx',
      'x-envoy-max-retries',
      '4',
    ]);
  });

  test('none of them: null, nothing changed', () => {
    const h = ['accept', '*/*', 'x-envoy-attempt-count', '1'];
    assert.equal(takeRouterHeaders(h), null);
    assert.deepEqual(h, ['accept', '*/*', 'x-envoy-attempt-count', '1']);
  });

  test('values that are not whole numbers are ignored, but the timeout headers still go', () => {
    const h = [
      'x-envoy-upstream-rq-timeout-ms',
      '1.5',
      'x-envoy-max-retries',
      '-1',
      'x-envoy-upstream-rq-per-try-timeout-ms',
      '',
    ];
    assert.deepEqual(takeRouterHeaders(h), {
      retryOn: [],
      maxRetries: -1,
      timeoutMs: -1,
      perTryTimeoutMs: -1,
    });
    assert.deepEqual(h, ['x-envoy-max-retries', '-1']);
    assert.equal(takeRouterHeaders(['x-envoy-upstream-rq-timeout-ms', '99999999999'])?.timeoutMs, -1);
    assert.equal(takeRouterHeaders(['x-envoy-upstream-rq-timeout-ms', ' 0 '])?.timeoutMs, 0);
  });
});

describe('CompiledRetryPolicy.forRequest', () => {
  const route = new CompiledRetryPolicy(ROUTE_POLICY);

  test('no policy and no conditions asked: no retries, but a per-try timeout still bounds the attempt', () => {
    assert.equal(
      CompiledRetryPolicy.forRequest(null, { retryOn: [], maxRetries: 5, perTryTimeoutMs: -1 }),
      null,
    );
    const p = CompiledRetryPolicy.forRequest(null, { retryOn: [], maxRetries: 5, perTryTimeoutMs: 100 })!;
    assert.equal(p.retryOn, 0);
    assert.equal(p.numRetries, 0);
    assert.equal(p.perTryTimeoutMs, 100);
  });

  test('conditions on a route without a policy: once, with the default back-off', () => {
    const p = CompiledRetryPolicy.forRequest(null, {
      retryOn: ['5xx'],
      maxRetries: -1,
      perTryTimeoutMs: -1,
    })!;
    assert.equal(p.retryOn, RetryOn.FiveXx);
    assert.equal(p.numRetries, 1);
    assert.equal(p.perTryTimeoutMs, null);
    assert.equal(p.baseIntervalMs, 25);
    assert.equal(p.maxIntervalMs, 250);
  });

  test("the route's policy with the request's conditions added and its counts replaced", () => {
    const p = CompiledRetryPolicy.forRequest(route, {
      retryOn: ['reset'],
      maxRetries: 0,
      perTryTimeoutMs: 0,
    })!;
    assert.equal(p.retryOn, RetryOn.GatewayError | RetryOn.Reset);
    assert.equal(p.numRetries, 0);
    assert.equal(p.perTryTimeoutMs, null, '0 = no per-try timeout');
    assert.equal(p.previousHosts, true);
    assert.equal(p.hostSelectionRetryMaxAttempts, 3);
    assert.equal(p.baseIntervalMs, 10);
  });

  test('nothing asked of the retry policy: the route policy itself', () => {
    assert.equal(
      CompiledRetryPolicy.forRequest(route, { retryOn: [], maxRetries: -1, perTryTimeoutMs: -1 }),
      route,
    );
  });
});
