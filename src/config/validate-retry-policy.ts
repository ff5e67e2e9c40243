// Validation of `envoy.config.route.v3.RetryPolicy` (on a RouteAction or a VirtualHost) and of
// `per_request_buffer_limit_bytes`, the request-body budget a retry may replay.
//
// Field names and defaults follow Envoy's route_components.proto and the router filter docs
// (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on).
// Every sub-field Weft does not implement (retry_priority, retriable_request_headers,
// rate_limited_retry_back_off, retry_options_predicates, ...) is left
// unread, so `done()` refuses it by its full path.

import { describe, type EnumSpec, type FieldReader, readMessage } from './fields.js';
import type { RateLimitedRetryBackOff, RetryOn, RetryPolicy } from './model.js';
import { isHeaderName } from './validate-headers.js';
import { validateHeaderMatcher } from './validate-matchers.js';

const SUPPORTED_RETRY_ON: readonly RetryOn[] = [
  '5xx',
  'gateway-error',
  'reset',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'reset-before-request',
  'envoy-ratelimited',
  'retriable-status-codes',
  'retriable-headers',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
];
/** Envoy conditions Weft knows but does not implement yet: refused with their own message. */
const UNSUPPORTED_RETRY_ON = ['http3-post-connect-failure'];

/** Envoy's defaults: one retry, 25 ms base back-off, max 10 x base. */
const DEFAULT_NUM_RETRIES = 1;
const DEFAULT_BASE_INTERVAL_MS = 25;
const MAX_INTERVAL_FACTOR = 10;

/**
 * A retry policy with nothing set: what a request's x-envoy-retry-on turns on where the
 * route has no policy (proxy/http/router-headers.ts).
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retryOn: [],
  numRetries: DEFAULT_NUM_RETRIES,
  perTryTimeoutMs: null,
  baseIntervalMs: DEFAULT_BASE_INTERVAL_MS,
  maxIntervalMs: DEFAULT_BASE_INTERVAL_MS * MAX_INTERVAL_FACTOR,
  retriableStatusCodes: [],
  retriableHeaders: [],
  previousHostsPredicate: false,
  hostSelectionRetryMaxAttempts: 1,
};

const PREVIOUS_HOSTS = 'envoy.retry_host_predicates.previous_hosts';
const PREVIOUS_HOSTS_TYPE =
  'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';

/** Reads the `retry_policy` field of `r`, or null when absent. */
export function readRetryPolicy(parent: FieldReader): RetryPolicy | null {
  const r = parent.message('retry_policy');
  if (r === null) return null;
  const retryOn: RetryOn[] = [];
  const text = r.string('retry_on') ?? '';
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if ((SUPPORTED_RETRY_ON as readonly string[]).includes(name)) {
      if (!retryOn.includes(name as RetryOn)) retryOn.push(name as RetryOn);
    } else if (UNSUPPORTED_RETRY_ON.includes(name)) {
      r.issue('retry_on', `'${name}' is not supported by Weft; supported: ${SUPPORTED_RETRY_ON.join(', ')}`);
    } else {
      r.issue('retry_on', `unknown condition '${name}'; expected some of ${SUPPORTED_RETRY_ON.join(', ')}`);
    }
  }
  const numRetries = r.uint32('num_retries', DEFAULT_NUM_RETRIES);
  const perTryTimeoutMs = r.duration('per_try_timeout', null, true);
  // Absent or 0: no per-try idle timeout.
  const perTryIdleTimeoutMs = r.duration('per_try_idle_timeout', null, true);

  let baseIntervalMs = DEFAULT_BASE_INTERVAL_MS;
  let maxIntervalMs = DEFAULT_BASE_INTERVAL_MS * MAX_INTERVAL_FACTOR;
  const backOff = r.message('retry_back_off');
  if (backOff !== null) {
    // Envoy: base_interval is required and must be > 0; max_interval >= base_interval.
    if (!backOff.has('base_interval')) backOff.issue('base_interval', 'is required');
    const base = backOff.duration('base_interval', DEFAULT_BASE_INTERVAL_MS) ?? DEFAULT_BASE_INTERVAL_MS;
    if (base <= 0) backOff.issue('base_interval', 'must be greater than 0s');
    else baseIntervalMs = base;
    const max = backOff.duration('max_interval', null);
    if (max === null) maxIntervalMs = baseIntervalMs * MAX_INTERVAL_FACTOR;
    else if (max < baseIntervalMs) backOff.issue('max_interval', 'must not be less than base_interval');
    else maxIntervalMs = max;
  }

  const retriableStatusCodes: number[] = [];
  const codes = r.list('retriable_status_codes');
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (typeof code === 'number' && Number.isInteger(code) && code >= 100 && code <= 599)
      retriableStatusCodes.push(code);
    else r.issue(`retriable_status_codes[${i}]`, `expected a status code 100-599, got ${describe(code)}`);
  }
  const headerItems = r.list('retriable_headers');
  const retriableHeaders = headerItems.map((h, i) =>
    validateHeaderMatcher(h, `${r.at('retriable_headers')}[${i}]`, r.issues),
  );
  const rateLimitedRetryBackOff = readRateLimitedBackOff(r);
  const retriableRequestHeaders = r
    .list('retriable_request_headers')
    .map((h, i) => validateHeaderMatcher(h, `${r.at('retriable_request_headers')}[${i}]`, r.issues));

  let previousHostsPredicate = false;
  const predicates = r.list('retry_host_predicate');
  for (let i = 0; i < predicates.length; i++) {
    const p = readMessage(predicates[i], `${r.at('retry_host_predicate')}[${i}]`, r.issues);
    const name = p.string('name') ?? '';
    const typed = p.message('typed_config');
    const typeUrl = typed?.string('@type') ?? '';
    if (name === PREVIOUS_HOSTS || typeUrl === PREVIOUS_HOSTS_TYPE) {
      if (typeUrl !== '' && typeUrl !== PREVIOUS_HOSTS_TYPE)
        p.issue('typed_config.@type', `expected '${PREVIOUS_HOSTS_TYPE}'`);
      previousHostsPredicate = true;
    } else {
      p.issue(null, `unsupported retry host predicate '${name || typeUrl}'; supported: ${PREVIOUS_HOSTS}`);
      typed?.ignoreRest();
    }
    p.done();
  }
  // int64 in the proto; Envoy's default is 1 (one re-selection before using the last pick).
  const attempts = r.int64('host_selection_retry_max_attempts') ?? 1;
  if (attempts < 0) r.issue('host_selection_retry_max_attempts', 'must not be negative');
  return {
    retryOn,
    numRetries,
    perTryTimeoutMs,
    ...(perTryIdleTimeoutMs === null ? {} : { perTryIdleTimeoutMs }),
    baseIntervalMs,
    maxIntervalMs,
    retriableStatusCodes,
    retriableHeaders,
    ...(retriableRequestHeaders.length === 0 ? {} : { retriableRequestHeaders }),
    ...(rateLimitedRetryBackOff === null ? {} : { rateLimitedRetryBackOff }),
    previousHostsPredicate,
    hostSelectionRetryMaxAttempts: Math.max(0, Math.min(attempts, 100)),
  };
}

/** `per_request_buffer_limit_bytes` of a route or virtual host; null when absent. */
export function readPerRequestBufferLimit(r: FieldReader): number | null {
  return r.optionalUint32('per_request_buffer_limit_bytes');
}

const RESET_HEADER_FORMAT: EnumSpec<'SECONDS' | 'UNIX_TIMESTAMP'> = {
  known: ['SECONDS', 'UNIX_TIMESTAMP'],
  supported: ['SECONDS', 'UNIX_TIMESTAMP'],
};
/** Envoy's default max_interval for rate-limited back-off. */
const DEFAULT_RATE_LIMITED_MAX_INTERVAL_MS = 300_000;

function readRateLimitedBackOff(r: FieldReader): RateLimitedRetryBackOff | null {
  const b = r.message('rate_limited_retry_back_off');
  if (b === null) return null;
  const items = b.list('reset_headers');
  if (items.length === 0) b.issue('reset_headers', 'needs at least one reset header');
  const resetHeaders = items.map((raw, i) => {
    const h = readMessage(raw, `${b.at('reset_headers')}[${i}]`, b.issues);
    const name = h.requiredString('name');
    if (name !== '' && !isHeaderName(name)) h.issue('name', `'${name}' is not a valid header name`);
    const format = h.enumeration('format', 'SECONDS', RESET_HEADER_FORMAT);
    h.done();
    return { name: name.toLowerCase(), format };
  });
  const max = b.duration('max_interval', DEFAULT_RATE_LIMITED_MAX_INTERVAL_MS);
  if (max !== null && max <= 0) b.issue('max_interval', 'must be greater than 0s');
  b.done();
  return { resetHeaders, maxIntervalMs: max ?? DEFAULT_RATE_LIMITED_MAX_INTERVAL_MS };
}
