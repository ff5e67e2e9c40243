// The compiled retry policy's decisions that need no sockets: the conditions added for
// rate limiters and unsent requests, retriable_request_headers, and the back-off a reset
// header asks for (rate_limited_retry_back_off).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RetryPolicy } from '../../config/model.js';
import { DEFAULT_RETRY_POLICY } from '../../config/validate-retry-policy.js';
import { CompiledRetryPolicy } from './retry-policy.js';
import type { RouteRequest } from './route-request.js';

function policy(p: Partial<RetryPolicy>): CompiledRetryPolicy {
  return new CompiledRetryPolicy({ ...DEFAULT_RETRY_POLICY, ...p });
}

function get(headers: string[] = []): RouteRequest {
  return { authority: 'a', path: '/', method: 'GET', scheme: 'http', headers };
}

describe('retry conditions', () => {
  test('envoy-ratelimited: a response with x-envoy-ratelimited, whatever its status', () => {
    const p = policy({ retryOn: ['envoy-ratelimited'] });
    assert.equal(p.retriableResponse(429, ['x-envoy-ratelimited', 'true']), true);
    assert.equal(p.retriableResponse(200, ['x-envoy-ratelimited', '']), true);
    assert.equal(p.retriableResponse(429, []), false);
  });

  test('reset-before-request: connect failures only (the request never left)', () => {
    const p = policy({ retryOn: ['reset-before-request'] });
    assert.equal(p.retriableFailure('connect_failure'), true);
    assert.equal(p.retriableFailure('reset'), false);
    assert.equal(p.retriableFailure('per_try_timeout'), false);
    assert.equal(p.retriableFailure('refused_stream'), false);
  });

  test('retriable_request_headers: a request matching none loses its retries, keeps its per-try timeout', () => {
    const getsOnly = {
      name: ':method',
      invertMatch: false,
      treatMissingHeaderAsEmpty: false,
      match: { kind: 'string', matcher: { kind: 'exact', value: 'GET', ignoreCase: false } },
    } as const;
    const p = policy({
      retryOn: ['5xx'],
      numRetries: 3,
      perTryTimeoutMs: 200,
      retriableRequestHeaders: [getsOnly],
    });
    assert.equal(p.forRequestHeaders(get()), p);
    const post = p.forRequestHeaders({ ...get(), method: 'POST' })!;
    assert.equal(post.numRetries, 0);
    assert.equal(post.perTryTimeoutMs, 200);
    const noPerTry = policy({ retryOn: ['5xx'], retriableRequestHeaders: [getsOnly] });
    assert.equal(noPerTry.forRequestHeaders({ ...get(), method: 'POST' }), null);
    assert.equal(policy({ retryOn: ['5xx'] }).forRequestHeaders({ ...get(), method: 'POST' })?.numRetries, 1);
  });
});

describe('rate_limited_retry_back_off', () => {
  const NOW = 1_700_000_000_500; // ms
  const p = policy({
    retryOn: ['retriable-status-codes'],
    retriableStatusCodes: [429],
    rateLimitedRetryBackOff: {
      resetHeaders: [
        { name: 'retry-after', format: 'SECONDS' },
        { name: 'x-ratelimit-reset', format: 'UNIX_TIMESTAMP' },
      ],
      maxIntervalMs: 60_000,
    },
  });
  const zero = () => 0;

  test('the first header that parses gives the wait', () => {
    assert.equal(p.rateLimitedBackoffMs(['retry-after', ' 3 '], NOW, zero), 3000);
    assert.equal(p.rateLimitedBackoffMs(['x-ratelimit-reset', '1700000010'], NOW, zero), 10_000);
    assert.equal(
      p.rateLimitedBackoffMs(['retry-after', 'soon', 'x-ratelimit-reset', '1700000002'], NOW, zero),
      2000,
      'a value that is not a number is skipped',
    );
  });

  test('skipped: past timestamps, zero, longer than max_interval; then -1', () => {
    assert.equal(p.rateLimitedBackoffMs(['x-ratelimit-reset', '1699999990'], NOW, zero), -1);
    assert.equal(p.rateLimitedBackoffMs(['retry-after', '0'], NOW, zero), -1);
    assert.equal(p.rateLimitedBackoffMs(['retry-after', '61'], NOW, zero), -1);
    assert.equal(
      p.rateLimitedBackoffMs(['retry-after', '61', 'x-ratelimit-reset', '1700000001'], NOW, zero),
      1000,
    );
    assert.equal(p.rateLimitedBackoffMs([], NOW, zero), -1);
    assert.equal(policy({}).rateLimitedBackoffMs(['retry-after', '3'], NOW, zero), -1, 'not configured');
  });

  test('jittered in [interval, 1.5 x interval)', () => {
    assert.equal(
      p.rateLimitedBackoffMs(['retry-after', '4'], NOW, () => 0.999),
      4000 + 1998,
    );
  });
});
