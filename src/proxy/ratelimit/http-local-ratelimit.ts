// The HTTP local rate limit filter (`envoy.filters.http.local_ratelimit`) at run time.
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/local_rate_limit_filter
//
// Per request, in Envoy's order: `filter_enabled` is sampled (not enabled: the filter does
// nothing); `enabled` counts it; a token is taken from the bucket (`ok`), or the request is
// over the limit (`rate_limited`), then `filter_enforced` is sampled: enforced requests are
// answered with `status` (429), x-envoy-ratelimited and response flag RL (`enforced`);
// the others go on with request_headers_to_add_when_not_enforced. With DRAFT_VERSION_03,
// the response (upstream or local) carries x-ratelimit-limit/-remaining/-reset.
//
// A limiter is compiled once per config: the filter's own, and each route's LocalRateLimit
// from typed_per_filter_config (its own bucket and stats), created on first use and kept
// per config object. Buckets are shared by all connections, or one per downstream
// connection with local_rate_limit_per_downstream_connection.

import type { FractionalPercent, HttpLocalRateLimit } from '../../config/model.js';
import type { Clock } from '../../core/clock.js';
import {
  type DecoderFilterDeps,
  type DecoderFilterStream,
  FilterStatus,
  type HttpDecoderFilter,
} from '../http/http-filter.js';
import type { PerFilterConfigs } from '../router/per-filter-config.js';
import { applyHeaderMutations, type HeaderMutationPlan } from '../router/route-table.js';
import type { Counter } from '../stats/store.js';
import { addXRateLimitHeaders, literalHeaderPlan, rejectOverLimit } from './rate-limit-response.js';
import { TokenBucket } from './token-bucket.js';

/** Envoy's local reply body and response code details for a locally rate-limited request. */
export const LOCAL_RATE_LIMITED = 'local_rate_limited';

/** `<stat_prefix>.http_local_rate_limit.*`. */
export interface HttpLocalRateLimitStats {
  readonly enabled: Counter;
  readonly enforced: Counter;
  readonly rateLimited: Counter;
  readonly ok: Counter;
}

/** Whether a request is in `p` (uniform random r fires when floor(r * denominator) < numerator). */
function sampled(p: FractionalPercent, random: () => number): boolean {
  if (p.numerator === 0) return false;
  if (p.numerator >= p.denominator) return true;
  return Math.floor(random() * p.denominator) < p.numerator;
}

/** One LocalRateLimit config, compiled. */
class LocalRateLimiter {
  private readonly config: HttpLocalRateLimit;
  private readonly stats: HttpLocalRateLimitStats;
  private readonly clock: Clock;
  private readonly random: () => number;
  /** The shared bucket; null without token_bucket or when buckets are per connection. */
  private readonly bucket: TokenBucket | null;
  private readonly perConnection: WeakMap<object, TokenBucket> | null;
  private readonly responseHeaders: HeaderMutationPlan | null;
  private readonly requestHeaders: HeaderMutationPlan | null;

  constructor(config: HttpLocalRateLimit, deps: DecoderFilterDeps) {
    this.config = config;
    const p = `${config.statPrefix}.http_local_rate_limit.`;
    this.stats = {
      enabled: deps.stats.counter(`${p}enabled`),
      enforced: deps.stats.counter(`${p}enforced`),
      rateLimited: deps.stats.counter(`${p}rate_limited`),
      ok: deps.stats.counter(`${p}ok`),
    };
    this.clock = deps.clock;
    this.random = deps.random;
    const tb = config.tokenBucket;
    this.bucket = tb === null || config.perDownstreamConnection ? null : new TokenBucket(tb, deps.clock);
    this.perConnection = tb !== null && config.perDownstreamConnection ? new WeakMap() : null;
    this.responseHeaders = literalHeaderPlan(config.responseHeadersToAdd);
    this.requestHeaders = literalHeaderPlan(config.requestHeadersToAddWhenNotEnforced);
  }

  decide(stream: DecoderFilterStream): FilterStatus {
    const config = this.config;
    if (!sampled(config.filterEnabled, this.random)) return FilterStatus.Continue;
    const stats = this.stats;
    stats.enabled.value++;
    const bucket = this.bucketFor(stream);
    if (bucket === null) {
      stats.ok.value++;
      return FilterStatus.Continue;
    }
    const allowed = bucket.consume();
    if (config.xRateLimitHeaders) {
      const reset = Math.ceil(bucket.msUntilFill() / 1000);
      addXRateLimitHeaders(stream, bucket.maxTokens, bucket.remaining(), reset);
    }
    if (allowed) {
      stats.ok.value++;
      return FilterStatus.Continue;
    }
    stats.rateLimited.value++;
    if (!sampled(config.filterEnforced, this.random)) {
      if (this.requestHeaders !== null)
        applyHeaderMutations(stream.headers, this.requestHeaders, stream.info);
      return FilterStatus.Continue;
    }
    stats.enforced.value++;
    rejectOverLimit(stream, config.status, LOCAL_RATE_LIMITED, LOCAL_RATE_LIMITED, this.responseHeaders);
    return FilterStatus.StopIteration;
  }

  private bucketFor(stream: DecoderFilterStream): TokenBucket | null {
    const perConnection = this.perConnection;
    if (perConnection === null) return this.bucket;
    let bucket = perConnection.get(stream.connectionKey);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.config.tokenBucket!, this.clock);
      perConnection.set(stream.connectionKey, bucket);
    }
    return bucket;
  }
}

class HttpLocalRateLimitFilter implements HttpDecoderFilter {
  readonly name: string;
  private readonly own: LocalRateLimiter;
  private readonly deps: DecoderFilterDeps;
  private readonly perRoute = new WeakMap<object, LocalRateLimiter>();

  constructor(name: string, config: HttpLocalRateLimit, deps: DecoderFilterDeps) {
    this.name = name;
    this.deps = deps;
    this.own = new LocalRateLimiter(config, deps);
  }

  decodeHeaders(stream: DecoderFilterStream, perRoute: PerFilterConfigs | null): FilterStatus {
    if (perRoute === null) return this.own.decide(stream);
    const entry = perRoute.get(this.name);
    if (entry === undefined) return this.own.decide(stream);
    if (entry.disabled) return FilterStatus.Continue;
    // Envoy: a route's LocalRateLimit replaces the filter's config (and bucket) for that route.
    const config = entry.config as HttpLocalRateLimit;
    let limiter = this.perRoute.get(config);
    if (limiter === undefined) {
      limiter = new LocalRateLimiter(config, this.deps);
      this.perRoute.set(config, limiter);
    }
    return limiter.decide(stream);
  }
}

export function createHttpLocalRateLimitFilter(
  name: string,
  config: HttpLocalRateLimit,
  deps: DecoderFilterDeps,
): HttpDecoderFilter {
  return new HttpLocalRateLimitFilter(name, config, deps);
}
