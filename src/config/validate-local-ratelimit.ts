// Validation of the local rate limit filters:
// - HTTP `envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit`, as the filter's
//   config and as its per-route config (the same message; a route's own bucket);
// - network `envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit`.
// Fields Weft does not implement (descriptors, stage, always_consume_default_token_bucket,
// vh_rate_limits, rate_limited_as_resource_exhausted, the network filter's runtime_enabled...)
// are refused by path.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto

import type { ConfigIssue } from '../core/errors.js';
import { type EnumSpec, type FieldReader, readMessage } from './fields.js';
import type { HttpFilterFactoryConfig } from './http-filter-registry.js';
import { readHttpStatus } from './http-status.js';
import type {
  FractionalPercent,
  HeaderValueOption,
  HttpLocalRateLimit,
  NetworkLocalRateLimit,
  TokenBucket,
} from './model.js';
import { readPercentage } from './validate-fault-filter.js';
import { validateHeaderValueOption } from './validate-headers.js';

export const HTTP_LOCAL_RATELIMIT_TYPE_URL =
  'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
export const NETWORK_LOCAL_RATELIMIT_TYPE_URL =
  'type.googleapis.com/envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit';

/** Envoy refuses fill intervals under 50 ms (token bucket validation). */
const MIN_FILL_INTERVAL_MS = 50;
const ZERO: FractionalPercent = { numerator: 0, denominator: 100 };

const X_RATELIMIT_HEADERS: EnumSpec<'DISABLE_X_RATELIMIT_HEADERS' | 'DRAFT_VERSION_03'> = {
  known: ['DISABLE_X_RATELIMIT_HEADERS', 'DRAFT_VERSION_03'],
  supported: ['DISABLE_X_RATELIMIT_HEADERS', 'DRAFT_VERSION_03'],
};

/** `envoy.type.v3.TokenBucket` at `name`; null when absent (an issue too when `required`). */
function readTokenBucket(r: FieldReader, name: string, required: boolean): TokenBucket | null {
  const b = r.message(name);
  if (b === null) {
    if (required) r.issue(name, 'is required');
    return null;
  }
  if (!b.has('max_tokens')) b.issue('max_tokens', 'is required');
  const maxTokens = b.uint32('max_tokens', 1, 1);
  const tokensPerFill = b.uint32('tokens_per_fill', 1, 1);
  if (!b.has('fill_interval')) b.issue('fill_interval', 'is required');
  const fillIntervalMs = b.duration('fill_interval', 1000) ?? 1000;
  if (b.has('fill_interval') || fillIntervalMs < MIN_FILL_INTERVAL_MS) {
    if (fillIntervalMs < MIN_FILL_INTERVAL_MS) b.issue('fill_interval', 'must be at least 50ms');
  }
  return { maxTokens, tokensPerFill, fillIntervalMs };
}

/** `envoy.config.core.v3.RuntimeFractionalPercent`: default_value (runtime_key accepted, no runtime layer). */
function readRuntimeFraction(r: FieldReader, name: string): FractionalPercent {
  const f = r.message(name);
  if (f === null) return ZERO;
  f.string('runtime_key');
  return readPercentage(f, 'default_value');
}

/** A list of HeaderValueOption with literal values (no %OPERATOR% substitution here). */
function readLiteralHeaders(r: FieldReader, name: string): HeaderValueOption[] {
  const items = r.list(name);
  const out: HeaderValueOption[] = [];
  for (let i = 0; i < items.length; i++) {
    const path = `${r.at(name)}[${i}]`;
    const o = validateHeaderValueOption(items[i], path, r.issues);
    if (o.value.includes('%'))
      r.issues.push({ path: `${path}.header.value`, message: "'%' substitutions are not supported here" });
    out.push(o);
  }
  return out;
}

export function validateHttpLocalRateLimit(
  raw: Record<string, unknown>,
  path: string,
  issues: ConfigIssue[],
): HttpLocalRateLimit {
  const r = readMessage(raw, path, issues);
  const statPrefix = r.requiredString('stat_prefix');
  const tokenBucket = readTokenBucket(r, 'token_bucket', false);
  const filterEnabled = readRuntimeFraction(r, 'filter_enabled');
  const filterEnforced = readRuntimeFraction(r, 'filter_enforced');
  // Envoy treats codes below 400 as 429.
  const code = readHttpStatus(r, 'status') ?? 429;
  const status = code < 400 ? 429 : code;
  const responseHeadersToAdd = readLiteralHeaders(r, 'response_headers_to_add');
  const requestHeadersToAddWhenNotEnforced = readLiteralHeaders(
    r,
    'request_headers_to_add_when_not_enforced',
  );
  const xRateLimitHeaders =
    r.enumeration('enable_x_ratelimit_headers', 'DISABLE_X_RATELIMIT_HEADERS', X_RATELIMIT_HEADERS) ===
    'DRAFT_VERSION_03';
  const perDownstreamConnection = r.boolean('local_rate_limit_per_downstream_connection', false);
  r.done();
  return {
    statPrefix,
    tokenBucket,
    filterEnabled,
    filterEnforced,
    status,
    responseHeadersToAdd,
    requestHeadersToAddWhenNotEnforced,
    xRateLimitHeaders,
    perDownstreamConnection,
  };
}

export const HTTP_LOCAL_RATELIMIT_FILTER: HttpFilterFactoryConfig = {
  typeUrl: HTTP_LOCAL_RATELIMIT_TYPE_URL,
  defaultName: 'envoy.filters.http.local_ratelimit',
  validate: validateHttpLocalRateLimit,
  // A route's own LocalRateLimit: its own bucket, stats and settings.
  perRoute: { typeUrl: HTTP_LOCAL_RATELIMIT_TYPE_URL, validate: validateHttpLocalRateLimit },
};

/** Reads a network LocalRateLimit typed_config (its `@type` already consumed). */
export function readNetworkLocalRateLimit(r: FieldReader): NetworkLocalRateLimit {
  const statPrefix = r.requiredString('stat_prefix');
  const tokenBucket = readTokenBucket(r, 'token_bucket', true) ?? {
    maxTokens: 1,
    tokensPerFill: 1,
    fillIntervalMs: 1000,
  };
  // envoy.config.core.v3.RuntimeFeatureFlag: no runtime layer, default_value decides.
  let enabled = true;
  const flag = r.message('runtime_enabled');
  if (flag !== null) {
    if (!flag.has('default_value')) flag.issue('default_value', 'is required');
    enabled = flag.boolean('default_value', true);
    flag.string('runtime_key');
  }
  return { statPrefix, tokenBucket, enabled };
}
