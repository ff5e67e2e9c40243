// Route and virtual-host retry_policy validation: defaults, every field read, and bad or
// unsupported sub-fields reported with their full path.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigIssue } from '../core/errors.js';
import { createDefaultHttpFilterRegistry } from './http-filter-registry.js';
import type { RouteAction } from './model.js';
import { validateRoute } from './validate-route.js';
import { validateRouteConfiguration } from './validate-route-configuration.js';
import { createValidationContext } from './validation-context.js';

const P = 'routes[0]';

function route(retryPolicy: unknown, extra: Record<string, unknown> = {}) {
  const issues: ConfigIssue[] = [];
  const ctx = createValidationContext(createDefaultHttpFilterRegistry());
  const r = validateRoute(
    { match: { prefix: '/' }, route: { cluster: 'c', retry_policy: retryPolicy }, ...extra },
    P,
    issues,
    ctx,
    [],
  );
  return { route: r, action: r.action as RouteAction, issues };
}

describe('retry_policy', () => {
  test("Envoy's defaults", () => {
    const { action, issues } = route({ retry_on: '5xx' });
    assert.deepEqual(issues, []);
    assert.deepEqual(action.retryPolicy, {
      retryOn: ['5xx'],
      numRetries: 1,
      perTryTimeoutMs: null,
      baseIntervalMs: 25,
      maxIntervalMs: 250,
      retriableStatusCodes: [],
      retriableHeaders: [],
      previousHostsPredicate: false,
      hostSelectionRetryMaxAttempts: 1,
    });
  });

  test('every supported field', () => {
    const {
      route: r,
      action,
      issues,
    } = route(
      {
        retry_on:
          '5xx, gateway-error,reset,connect-failure,retriable-4xx,refused-stream,reset-before-request,envoy-ratelimited,retriable-status-codes,retriable-headers,cancelled,deadline-exceeded,internal,resource-exhausted,unavailable',
        numRetries: 3,
        per_try_timeout: '0.5s',
        retry_back_off: { base_interval: '0.1s', max_interval: '2s' },
        retriable_status_codes: [409, 418],
        retriable_headers: [{ name: 'x-retry', exact_match: 'yes' }],
        retriable_request_headers: [{ name: ':method', string_match: { exact: 'GET' } }],
        retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
        host_selection_retry_max_attempts: '5',
      },
      { per_request_buffer_limit_bytes: 4096 },
    );
    assert.deepEqual(issues, []);
    const p = action.retryPolicy!;
    assert.equal(p.retryOn.length, 15);
    assert.equal(p.numRetries, 3);
    assert.equal(p.perTryTimeoutMs, 500);
    assert.equal(p.baseIntervalMs, 100);
    assert.equal(p.maxIntervalMs, 2000);
    assert.deepEqual(p.retriableStatusCodes, [409, 418]);
    assert.equal(p.retriableHeaders[0].name, 'x-retry');
    assert.equal(p.retriableRequestHeaders?.[0].name, ':method');
    assert.equal(p.previousHostsPredicate, true);
    assert.equal(p.hostSelectionRetryMaxAttempts, 5);
    assert.equal(r.perRequestBufferLimitBytes, 4096);
  });

  test('bad and unsupported fields are named by path', () => {
    const { issues } = route({
      retry_on: '5xx,http3-post-connect-failure,bogus',
      num_retries: -1,
      per_try_timeout: '5ms',
      retry_back_off: { max_interval: '1s' },
      retriable_status_codes: [700, 'x'],
      retry_host_predicate: [{ name: 'envoy.retry_host_predicates.omit_canary_hosts' }],
      retry_priority: { name: 'envoy.retry_priorities.previous_priorities' },
      per_try_idle_timeout: 'soon',
      retriable_request_headers: [{ name: 'x-idempotent', bogus: 1 }],
    });
    const paths = issues.map((i) => i.path).sort();
    const RP = `${P}.route.retry_policy`;
    assert.deepEqual(paths, [
      `${RP}.num_retries`,
      `${RP}.per_try_idle_timeout`,
      `${RP}.per_try_timeout`,
      `${RP}.retriable_request_headers[0].bogus`,
      `${RP}.retriable_status_codes[0]`,
      `${RP}.retriable_status_codes[1]`,
      `${RP}.retry_back_off.base_interval`,
      `${RP}.retry_host_predicate[0]`,
      `${RP}.retry_on`,
      `${RP}.retry_on`,
      `${RP}.retry_priority`,
    ]);
    assert.ok(issues.some((i) => /'http3-post-connect-failure' is not supported/.test(i.message)));
    assert.ok(issues.some((i) => /unknown condition 'bogus'/.test(i.message)));
  });

  test('rate_limited_retry_back_off: read, with its defaults; bad entries named by path', () => {
    const ok = route({
      retry_on: '5xx',
      rate_limited_retry_back_off: {
        reset_headers: [{ name: 'Retry-After' }, { name: 'X-RateLimit-Reset', format: 'UNIX_TIMESTAMP' }],
      },
    });
    assert.deepEqual(ok.issues, []);
    assert.deepEqual(ok.action.retryPolicy!.rateLimitedRetryBackOff, {
      resetHeaders: [
        { name: 'retry-after', format: 'SECONDS' },
        { name: 'x-ratelimit-reset', format: 'UNIX_TIMESTAMP' },
      ],
      maxIntervalMs: 300_000,
    });
    const bad = route({
      retry_on: '5xx',
      rate_limited_retry_back_off: {
        reset_headers: [{ name: 'bad name', format: 'HOURS' }],
        max_interval: '0s',
      },
    });
    const RB = `${P}.route.retry_policy.rate_limited_retry_back_off`;
    assert.deepEqual(bad.issues.map((i) => i.path).sort(), [
      `${RB}.max_interval`,
      `${RB}.reset_headers[0].format`,
      `${RB}.reset_headers[0].name`,
    ]);
    assert.deepEqual(
      route({ retry_on: '5xx', rate_limited_retry_back_off: {} }).issues.map((i) => i.path),
      [`${RB}.reset_headers`],
    );
  });

  test('max_interval below base_interval is refused', () => {
    const { issues } = route({
      retry_on: '5xx',
      retry_back_off: { base_interval: '1s', max_interval: '0.5s' },
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      [`${P}.route.retry_policy.retry_back_off.max_interval`],
    );
  });

  test('virtual_hosts[].retry_policy and per_request_buffer_limit_bytes', () => {
    const issues: ConfigIssue[] = [];
    const ctx = createValidationContext(createDefaultHttpFilterRegistry());
    const rc = validateRouteConfiguration(
      {
        virtual_hosts: [
          {
            name: 'v',
            domains: ['*'],
            retry_policy: { retry_on: 'gateway-error', num_retries: 2, bogus: 1 },
            per_request_buffer_limit_bytes: 100,
            routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }],
          },
        ],
      },
      'rc',
      issues,
      ctx,
    );
    assert.deepEqual(issues, [
      { path: 'rc.virtual_hosts[0].retry_policy.bogus', message: 'unsupported field' },
    ]);
    assert.equal(rc.virtualHosts[0].retryPolicy?.numRetries, 2);
    assert.equal(rc.virtualHosts[0].perRequestBufferLimitBytes, 100);
  });
});
