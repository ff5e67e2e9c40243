// A route's compiled `retry_policy`: which upstream outcomes are retriable, how many
// retries, the per-try timeout and the back-off. Built once per route table; consulted only
// when an attempt failed, so the common path never touches it.
//
// Semantics follow Envoy's router filter (x-envoy-retry-on / x-envoy-retry-grpc-on):
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on
// - 5xx: any 5xx response, or no response at all (reset, connect failure, per-try timeout);
// - gateway-error: 502/503/504 responses, or no response at all;
// - reset: no response at all (disconnect, reset, per-try timeout);
// - connect-failure: the connection to the host could not be made (also a connect timeout);
// - retriable-4xx: 409; retriable-status-codes: `retriable_status_codes`;
// - retriable-headers: a response header matches one of `retriable_headers`;
// - refused-stream: an HTTP/2 upstream refused the stream (RST_STREAM REFUSED_STREAM, or a
//   GOAWAY below its id); an HTTP/1 upstream never does;
// - reset-before-request: no response, and the request never left (Weft writes the request
//   head as soon as it has a connection, so: the connection could not be made);
// - envoy-ratelimited: the response carries `x-envoy-ratelimited` (a rate limiter upstream);
// - gRPC conditions read `grpc-status` from the response headers (a trailers-only gRPC
//   response carries it there; Weft's HTTP/1 upstreams have no trailers to read).
// Back-off is Envoy's jittered exponential one: the n-th retry waits a uniformly random
// time in [0, min(max_interval, base_interval * 2^(n-1))) ("full jitter"); a retried
// response whose reset header (rate_limited_retry_back_off) says when to come back waits
// that long instead, jittered up to 1.5 times.

import type { HeaderMatcher, RateLimitedRetryBackOff, RetryPolicy } from '../../config/model.js';
import { DEFAULT_RETRY_POLICY } from '../../config/validate-retry-policy.js';
import { getHeader, type HeaderList } from '../http/headers.js';
import { CompiledHeaderMatcher } from './header-matcher.js';
import type { RouteRequest } from './route-request.js';

export const RetryOn = {
  FiveXx: 1 << 0,
  GatewayError: 1 << 1,
  Reset: 1 << 2,
  ConnectFailure: 1 << 3,
  Retriable4xx: 1 << 4,
  RefusedStream: 1 << 5,
  RetriableStatusCodes: 1 << 6,
  RetriableHeaders: 1 << 7,
  GrpcCancelled: 1 << 8,
  GrpcDeadlineExceeded: 1 << 9,
  GrpcInternal: 1 << 10,
  GrpcResourceExhausted: 1 << 11,
  GrpcUnavailable: 1 << 12,
  ResetBeforeRequest: 1 << 13,
  EnvoyRateLimited: 1 << 14,
} as const;

const BITS: Readonly<Record<RetryPolicy['retryOn'][number], number>> = {
  '5xx': RetryOn.FiveXx,
  'gateway-error': RetryOn.GatewayError,
  reset: RetryOn.Reset,
  'connect-failure': RetryOn.ConnectFailure,
  'retriable-4xx': RetryOn.Retriable4xx,
  'refused-stream': RetryOn.RefusedStream,
  'reset-before-request': RetryOn.ResetBeforeRequest,
  'envoy-ratelimited': RetryOn.EnvoyRateLimited,
  'retriable-status-codes': RetryOn.RetriableStatusCodes,
  'retriable-headers': RetryOn.RetriableHeaders,
  cancelled: RetryOn.GrpcCancelled,
  'deadline-exceeded': RetryOn.GrpcDeadlineExceeded,
  internal: RetryOn.GrpcInternal,
  'resource-exhausted': RetryOn.GrpcResourceExhausted,
  unavailable: RetryOn.GrpcUnavailable,
};

/** gRPC status codes (grpc/doc/statuscodes.md) and the condition that retries them. */
const GRPC_CONDITIONS: ReadonlyArray<readonly [string, number]> = [
  ['1', RetryOn.GrpcCancelled],
  ['4', RetryOn.GrpcDeadlineExceeded],
  ['8', RetryOn.GrpcResourceExhausted],
  ['13', RetryOn.GrpcInternal],
  ['14', RetryOn.GrpcUnavailable],
];
const GRPC_ANY =
  RetryOn.GrpcCancelled |
  RetryOn.GrpcDeadlineExceeded |
  RetryOn.GrpcInternal |
  RetryOn.GrpcResourceExhausted |
  RetryOn.GrpcUnavailable;
/** Conditions under which "no response at all" is retriable. */
const ON_RESET = RetryOn.FiveXx | RetryOn.GatewayError | RetryOn.Reset;

/** How an attempt ended without a response (`refused_stream`: HTTP/2 REFUSED_STREAM). */
export type AttemptFailure = 'connect_failure' | 'reset' | 'refused_stream' | 'per_try_timeout';

/** Retry settings a request asks for in its router headers (http/router-headers.ts). */
export interface RetryOverrides {
  /** Conditions from x-envoy-retry-on and x-envoy-retry-grpc-on (known names only). */
  readonly retryOn: readonly RetryPolicy['retryOn'][number][];
  /** x-envoy-max-retries; -1 = not given. */
  readonly maxRetries: number;
  /** x-envoy-upstream-rq-per-try-timeout-ms; -1 = not given, 0 = none. */
  readonly perTryTimeoutMs: number;
  /** x-envoy-retriable-status-codes: more codes for `retriable-status-codes`. */
  readonly retriableStatusCodes: readonly number[];
  /** x-envoy-retriable-header-names (lower-cased): more response headers for `retriable-headers`, by presence. */
  readonly retriableHeaderNames: readonly string[];
}

/** Whether `name` is a condition x-envoy-retry-on (grpc: x-envoy-retry-grpc-on) accepts. */
export function isRetryCondition(name: string, grpc: boolean): name is RetryPolicy['retryOn'][number] {
  const bit = (BITS as Record<string, number | undefined>)[name];
  return bit !== undefined && ((bit & GRPC_ANY) !== 0) === grpc;
}

/** A retriable_headers entry that matches when the response has header `name`. */
function presentMatcher(name: string): HeaderMatcher {
  return {
    name,
    invertMatch: false,
    treatMissingHeaderAsEmpty: false,
    match: { kind: 'present', present: true },
  };
}

export class CompiledRetryPolicy {
  /**
   * The policy for one request: the route's (or virtual host's) `policy` with the request's
   * router-header overrides merged in as Envoy does: x-envoy-retry-on conditions add to the
   * policy's (and turn retries on, once by default, where there is no policy);
   * x-envoy-max-retries replaces num_retries once retries are on; the per-try timeout
   * header replaces per_try_timeout (and, with no policy and no conditions, bounds the one
   * attempt); x-envoy-retriable-status-codes and x-envoy-retriable-header-names add to
   * retriable_status_codes and retriable_headers (they matter only under those conditions,
   * and turn nothing on alone). Null when neither retries nor a per-try timeout apply.
   */
  static forRequest(policy: CompiledRetryPolicy | null, o: RetryOverrides): CompiledRetryPolicy | null {
    if (policy === null && o.retryOn.length === 0) {
      // A per-try timeout alone still bounds the one attempt (504 UT when it passes).
      if (o.perTryTimeoutMs <= 0) return null;
      return new CompiledRetryPolicy({
        ...DEFAULT_RETRY_POLICY,
        numRetries: 0,
        perTryTimeoutMs: o.perTryTimeoutMs,
      });
    }
    const moreCodes = o.retriableStatusCodes.length > 0;
    const moreHeaders = o.retriableHeaderNames.length > 0;
    if (o.retryOn.length === 0 && o.maxRetries < 0 && o.perTryTimeoutMs < 0 && !moreCodes && !moreHeaders)
      return policy;
    const base = policy?.config ?? DEFAULT_RETRY_POLICY;
    const retryOn = [...base.retryOn];
    for (const c of o.retryOn) if (!retryOn.includes(c)) retryOn.push(c);
    return new CompiledRetryPolicy({
      ...base,
      retryOn,
      retriableStatusCodes: moreCodes
        ? [...base.retriableStatusCodes, ...o.retriableStatusCodes]
        : base.retriableStatusCodes,
      retriableHeaders: moreHeaders
        ? [...base.retriableHeaders, ...o.retriableHeaderNames.map(presentMatcher)]
        : base.retriableHeaders,
      numRetries: o.maxRetries >= 0 ? o.maxRetries : base.numRetries,
      perTryTimeoutMs:
        o.perTryTimeoutMs < 0 ? base.perTryTimeoutMs : o.perTryTimeoutMs === 0 ? null : o.perTryTimeoutMs,
    });
  }

  readonly retryOn: number;
  readonly numRetries: number;
  readonly perTryTimeoutMs: number | null;
  /** `per_try_idle_timeout`; null = none. */
  readonly perTryIdleTimeoutMs: number | null;
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly previousHosts: boolean;
  readonly hostSelectionRetryMaxAttempts: number;
  private readonly statusCodes: ReadonlySet<number>;
  private readonly headers: readonly CompiledHeaderMatcher[];
  /** `rate_limited_retry_back_off`; null = none. */
  private readonly rateLimited: RateLimitedRetryBackOff | null;
  /** `retriable_request_headers`; null = every request may be retried. */
  private readonly requestHeaders: readonly CompiledHeaderMatcher[] | null;

  constructor(private readonly config: RetryPolicy) {
    let bits = 0;
    for (const c of config.retryOn) bits |= BITS[c];
    this.retryOn = bits;
    this.numRetries = config.numRetries;
    this.perTryTimeoutMs = config.perTryTimeoutMs;
    this.perTryIdleTimeoutMs = config.perTryIdleTimeoutMs ?? null;
    this.baseIntervalMs = config.baseIntervalMs;
    this.maxIntervalMs = config.maxIntervalMs;
    this.previousHosts = config.previousHostsPredicate;
    this.hostSelectionRetryMaxAttempts = config.hostSelectionRetryMaxAttempts;
    this.statusCodes = new Set(config.retriableStatusCodes);
    this.headers = config.retriableHeaders.map((h) => new CompiledHeaderMatcher(h));
    this.rateLimited = config.rateLimitedRetryBackOff ?? null;
    const requestHeaders = config.retriableRequestHeaders ?? [];
    this.requestHeaders =
      requestHeaders.length === 0 ? null : requestHeaders.map((h) => new CompiledHeaderMatcher(h));
  }

  /**
   * The policy for `request` under `retriable_request_headers`: itself when the request
   * matches one of them (or there are none); else no retries, with the per-try timeout
   * still bounding the one attempt (null when there is none).
   */
  forRequestHeaders(request: RouteRequest): CompiledRetryPolicy | null {
    const matchers = this.requestHeaders;
    if (matchers === null) return this;
    for (const m of matchers) if (m.matches(request)) return this;
    if (this.perTryTimeoutMs === null) return null;
    return new CompiledRetryPolicy({ ...this.config, numRetries: 0, retriableRequestHeaders: [] });
  }

  /** Whether a response with this status and headers asks for a retry. */
  retriableResponse(status: number, headers: HeaderList): boolean {
    const on = this.retryOn;
    if ((on & RetryOn.FiveXx) !== 0 && status >= 500 && status <= 599) return true;
    if ((on & RetryOn.GatewayError) !== 0 && (status === 502 || status === 503 || status === 504))
      return true;
    if ((on & RetryOn.Retriable4xx) !== 0 && status === 409) return true;
    if ((on & RetryOn.RetriableStatusCodes) !== 0 && this.statusCodes.has(status)) return true;
    if ((on & RetryOn.EnvoyRateLimited) !== 0 && getHeader(headers, 'x-envoy-ratelimited') !== undefined)
      return true;
    if ((on & RetryOn.RetriableHeaders) !== 0 && this.headers.length > 0) {
      const view: RouteRequest = { authority: '', path: '', method: '', scheme: '', headers };
      for (const m of this.headers) if (m.matches(view)) return true;
    }
    if ((on & GRPC_ANY) !== 0) {
      const grpcStatus = getHeader(headers, 'grpc-status');
      if (grpcStatus !== undefined) {
        const code = grpcStatus.trim();
        for (const [value, bit] of GRPC_CONDITIONS) if (code === value && (on & bit) !== 0) return true;
      }
    }
    return false;
  }

  /** Whether an attempt that got no response is retriable. */
  retriableFailure(failure: AttemptFailure): boolean {
    if ((this.retryOn & ON_RESET) !== 0) return true;
    if (failure === 'connect_failure' && (this.retryOn & RetryOn.ResetBeforeRequest) !== 0) return true;
    if (failure === 'refused_stream') return (this.retryOn & RetryOn.RefusedStream) !== 0;
    return failure === 'connect_failure' && (this.retryOn & RetryOn.ConnectFailure) !== 0;
  }

  /**
   * The wait before retrying a response under rate_limited_retry_back_off: the first reset
   * header that parses to an interval of at most max_interval (SECONDS: a count of seconds;
   * UNIX_TIMESTAMP: seconds since the epoch, a time not already past), with Envoy's jitter
   * [interval, 1.5 x interval). -1 when there is none (the exponential back-off applies).
   */
  rateLimitedBackoffMs(headers: HeaderList, nowMs: number, random: () => number): number {
    const b = this.rateLimited;
    if (b === null) return -1;
    for (const h of b.resetHeaders) {
      const value = getHeader(headers, h.name)?.trim();
      if (value === undefined || !/^\d{1,15}$/.test(value)) continue;
      const seconds = Number(value);
      let ms = seconds * 1000;
      if (h.format === 'UNIX_TIMESTAMP') {
        const nowSeconds = Math.floor(nowMs / 1000);
        if (seconds < nowSeconds) continue;
        ms = (seconds - nowSeconds) * 1000;
      }
      // Envoy keeps intervals above 1 ms only, and skips those past max_interval.
      if (ms <= 1 || ms > b.maxIntervalMs) continue;
      return ms + Math.floor(random() * (ms / 2));
    }
    return -1;
  }

  /** The wait before retry number `retry` (1-based), with full jitter from `random` in [0, 1). */
  backoffMs(retry: number, random: () => number): number {
    const exp = Math.min(retry - 1, 30);
    const ceiling = Math.min(this.maxIntervalMs, this.baseIntervalMs * 2 ** exp);
    return Math.floor(random() * ceiling);
  }
}
