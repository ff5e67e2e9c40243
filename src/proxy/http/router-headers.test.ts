import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RetryPolicy } from '../../config/model.js';
import { CompiledRetryPolicy, RetryOn, type RetryOverrides } from '../router/retry-policy.js';
import { takeRouterHeaders } from './router-headers.js';

/** Retry overrides with nothing asked except `o`. */
function asked(o: Partial<RetryOverrides>): RetryOverrides {
  return {
    retryOn: [],
    maxRetries: -1,
    perTryTimeoutMs: -1,
    retriableStatusCodes: [],
    retriableHeaderNames: [],
    ...o,
  };
}

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
      timeoutAltResponse: false,
      retriableStatusCodes: [],
      retriableHeaderNames: [],
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
      timeoutAltResponse: false,
      retriableStatusCodes: [],
      retriableHeaderNames: [],
    });
    assert.deepEqual(h, ['x-envoy-max-retries', '-1']);
    assert.equal(takeRouterHeaders(['x-envoy-upstream-rq-timeout-ms', '99999999999'])?.timeoutMs, -1);
    assert.equal(takeRouterHeaders(['x-envoy-upstream-rq-timeout-ms', ' 0 '])?.timeoutMs, 0);
  });
});

describe('takeRouterHeaders: retriable lists, alt response, expected timeout', () => {
  test('retriable status codes and header names are read, kept, and bad entries skipped', () => {
    const h = [
      'x-envoy-retriable-status-codes',
      '418, 409,abc,700,409',
      'x-envoy-retriable-header-names',
      'X-Try-Again, ,bad name,x-upstream-retry',
    ];
    const r = takeRouterHeaders(h)!;
    assert.deepEqual(r.retriableStatusCodes, [418, 409]);
    assert.deepEqual(r.retriableHeaderNames, ['x-try-again', 'x-upstream-retry']);
    assert.equal(h.length, 4, 'both travel on');
  });

  test('the alt-response header is consumed whatever its value', () => {
    const h = ['x-envoy-upstream-rq-timeout-alt-response', '', 'accept', '*/*'];
    assert.equal(takeRouterHeaders(h)?.timeoutAltResponse, true);
    assert.deepEqual(h, ['accept', '*/*']);
  });

  test('x-envoy-expected-rq-timeout-ms is the timeout only under respect_expected_rq_timeout', () => {
    const both = () => ['x-envoy-expected-rq-timeout-ms', '700', 'x-envoy-upstream-rq-timeout-ms', '3000'];
    assert.equal(takeRouterHeaders(both(), false)?.timeoutMs, 3000);
    const h = both();
    assert.equal(takeRouterHeaders(h, true)?.timeoutMs, 700);
    assert.deepEqual(h, ['x-envoy-expected-rq-timeout-ms', '700']);
    assert.equal(takeRouterHeaders(['x-envoy-expected-rq-timeout-ms', '700'], false), null);
    assert.equal(
      takeRouterHeaders(['x-envoy-expected-rq-timeout-ms', 'x', 'x-envoy-upstream-rq-timeout-ms', '5'], true)
        ?.timeoutMs,
      5,
    );
  });
});

describe('CompiledRetryPolicy.forRequest', () => {
  const route = new CompiledRetryPolicy(ROUTE_POLICY);

  test('no policy and no conditions asked: no retries, but a per-try timeout still bounds the attempt', () => {
    assert.equal(
      CompiledRetryPolicy.forRequest(null, asked({ retryOn: [], maxRetries: 5, perTryTimeoutMs: -1 })),
      null,
    );
    const p = CompiledRetryPolicy.forRequest(
      null,
      asked({ retryOn: [], maxRetries: 5, perTryTimeoutMs: 100 }),
    )!;
    assert.equal(p.retryOn, 0);
    assert.equal(p.numRetries, 0);
    assert.equal(p.perTryTimeoutMs, 100);
  });

  test('conditions on a route without a policy: once, with the default back-off', () => {
    const p = CompiledRetryPolicy.forRequest(
      null,
      asked({
        retryOn: ['5xx'],
        maxRetries: -1,
        perTryTimeoutMs: -1,
      }),
    )!;
    assert.equal(p.retryOn, RetryOn.FiveXx);
    assert.equal(p.numRetries, 1);
    assert.equal(p.perTryTimeoutMs, null);
    assert.equal(p.baseIntervalMs, 25);
    assert.equal(p.maxIntervalMs, 250);
  });

  test("the route's policy with the request's conditions added and its counts replaced", () => {
    const p = CompiledRetryPolicy.forRequest(
      route,
      asked({
        retryOn: ['reset'],
        maxRetries: 0,
        perTryTimeoutMs: 0,
      }),
    )!;
    assert.equal(p.retryOn, RetryOn.GatewayError | RetryOn.Reset);
    assert.equal(p.numRetries, 0);
    assert.equal(p.perTryTimeoutMs, null, '0 = no per-try timeout');
    assert.equal(p.previousHosts, true);
    assert.equal(p.hostSelectionRetryMaxAttempts, 3);
    assert.equal(p.baseIntervalMs, 10);
  });

  test('asked codes and header names add to the policy, and turn nothing on alone', () => {
    const withCodes = new CompiledRetryPolicy({
      ...ROUTE_POLICY,
      retryOn: ['retriable-status-codes', 'retriable-headers'],
      retriableStatusCodes: [418],
    });
    const p = CompiledRetryPolicy.forRequest(
      withCodes,
      asked({ retriableStatusCodes: [409], retriableHeaderNames: ['x-try-again'] }),
    )!;
    assert.equal(p.retriableResponse(418, []), true);
    assert.equal(p.retriableResponse(409, []), true);
    assert.equal(p.retriableResponse(200, ['x-try-again', '']), true);
    assert.equal(p.retriableResponse(200, ['x-other', '1']), false);
    // Without the conditions the lists do not apply.
    const q = CompiledRetryPolicy.forRequest(route, asked({ retriableStatusCodes: [409] }))!;
    assert.equal(q.retriableResponse(409, []), false);
    assert.equal(CompiledRetryPolicy.forRequest(null, asked({ retriableStatusCodes: [409] })), null);
  });

  test('nothing asked of the retry policy: the route policy itself', () => {
    assert.equal(
      CompiledRetryPolicy.forRequest(route, asked({ retryOn: [], maxRetries: -1, perTryTimeoutMs: -1 })),
      route,
    );
  });
});
