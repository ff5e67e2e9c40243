// The fault injection filter (`envoy.filters.http.fault`) at run time: compiled once per
// connection manager config, consulted by ActiveStream only when the HCM has the filter
// (one null check otherwise). Semantics follow Envoy's fault filter:
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/fault_filter
// - a fault applies only when the request matches `headers` and, with `upstream_cluster`,
//   is routed to that cluster;
// - the delay is decided first; the request waits, then the abort is decided;
// - each is sampled with its percentage: uniform random r in [0, 1) fires when
//   floor(r * denominator) < numerator;
// - `header_delay` / `header_abort` take the delay (ms) / status from the request's
//   x-envoy-fault-delay-request / x-envoy-fault-abort-request (or -abort-grpc-request);
//   the `-percentage` headers lower the configured numerator (never raise it);
// - a stream holds one of `active_faults` from its first injected fault to its end; at
//   `max_active_faults`, no fault is injected and `faults_overflow` counts it;
// - a route's `typed_per_filter_config` HTTPFault (under the filter's name) replaces the
//   filter's config for that route; FilterConfig `disabled` turns the filter off there.
//   Per-route filters are compiled on first use and kept per config object (they share the
//   filter's stats and active_faults).

import type { FaultAbort, FaultDelay, FractionalPercent, HttpFault } from '../../config/model.js';
import type { Timer } from '../../core/clock.js';
import { CompiledHeaderMatcher } from '../router/header-matcher.js';
import type { PerFilterConfigs } from '../router/per-filter-config.js';
import type { RouteRequest } from '../router/route-request.js';
import type { Counter, Gauge, StatsStore } from '../stats/store.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import { getHeader, type HeaderList } from './headers.js';

/** Envoy's fault header names (source/extensions/filters/common/fault/fault_config.h). */
export const FaultHeader = {
  delay: 'x-envoy-fault-delay-request',
  delayPercentage: 'x-envoy-fault-delay-request-percentage',
  abort: 'x-envoy-fault-abort-request',
  abortGrpc: 'x-envoy-fault-abort-grpc-request',
  abortPercentage: 'x-envoy-fault-abort-request-percentage',
} as const;

/** Envoy's local reply body and response code details for an injected abort. */
export const FAULT_ABORT_BODY = 'fault filter abort';
export const FAULT_ABORT_DETAILS = 'fault_filter_abort';

/** `http.<stat_prefix>.fault.*`. */
export interface FaultStats {
  readonly delaysInjected: Counter;
  readonly abortsInjected: Counter;
  readonly activeFaults: Gauge;
  readonly faultsOverflow: Counter;
}

/** What an injected abort answers: an HTTP status, or (grpcStatus >= 0) a gRPC trailers-only 200. */
export interface FaultAbortDecision {
  readonly httpStatus: number;
  /** -1 when the abort is a plain HTTP status. */
  readonly grpcStatus: number;
}

const DIGITS = /^[0-9]+$/;

/** A non-negative decimal integer header value, or -1 when absent or malformed. */
function headerInt(headers: HeaderList, name: string): number {
  const v = getHeader(headers, name);
  if (v === undefined) return -1;
  const t = v.trim();
  if (!DIGITS.test(t)) return -1;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : -1;
}

export class HttpFaultFilter {
  /** The filter's name in http_filters: the key of its typed_per_filter_config entries. */
  readonly name: string;
  readonly stats: FaultStats;
  /** Per-route filters by their validated config (filled lazily; empty on per-route filters). */
  private readonly perRoute = new WeakMap<object, HttpFaultFilter>();
  private readonly delay: FaultDelay | null;
  private readonly abortConfig: FaultAbort | null;
  private readonly headers: readonly CompiledHeaderMatcher[];
  private readonly upstreamCluster: string;
  private readonly maxActiveFaults: number;
  private readonly fixedAbort: FaultAbortDecision | null;

  constructor(config: HttpFault, stats: FaultStats, name = 'envoy.filters.http.fault') {
    this.name = name;
    this.stats = stats;
    this.delay = config.delay;
    this.abortConfig = config.abort;
    this.headers = config.headers.map((h) => new CompiledHeaderMatcher(h));
    this.upstreamCluster = config.upstreamCluster;
    this.maxActiveFaults = config.maxActiveFaults ?? Number.POSITIVE_INFINITY;
    const a = config.abort;
    this.fixedAbort =
      a === null || a.kind === 'header'
        ? null
        : a.kind === 'grpc'
          ? { httpStatus: 200, grpcStatus: a.grpcStatus }
          : { httpStatus: a.httpStatus, grpcStatus: -1 };
  }

  /** The filter for a request whose route has `configs`: its own HTTPFault, none when disabled, else this. */
  forRoute(configs: PerFilterConfigs | null): HttpFaultFilter | null {
    if (configs === null) return this;
    const entry = configs.get(this.name);
    if (entry === undefined) return this;
    if (entry.disabled) return null;
    const config = entry.config as HttpFault;
    let filter = this.perRoute.get(config);
    if (filter === undefined) {
      filter = new HttpFaultFilter(config, this.stats, this.name);
      this.perRoute.set(config, filter);
    }
    return filter;
  }

  /** Whether faults may apply to `req`, routed to the cluster named `cluster`. */
  matches(req: RouteRequest, cluster: string): boolean {
    if (this.upstreamCluster !== '' && this.upstreamCluster !== cluster) return false;
    for (let i = 0; i < this.headers.length; i++) if (!this.headers[i].matches(req)) return false;
    return this.delay !== null || this.abortConfig !== null;
  }

  /** The delay to inject in ms, or -1 for none (not configured, not sampled, no valid header). */
  delayMs(headers: HeaderList, random: () => number): number {
    const d = this.delay;
    if (d === null) return -1;
    if (d.fixedDelayMs !== null) return sampled(d.percentage, random) ? d.fixedDelayMs : -1;
    const ms = headerInt(headers, FaultHeader.delay);
    if (ms < 0) return -1;
    return sampled(headerPercentage(headers, FaultHeader.delayPercentage, d.percentage), random) ? ms : -1;
  }

  /** The abort to inject, or null. */
  abort(headers: HeaderList, random: () => number): FaultAbortDecision | null {
    const a = this.abortConfig;
    if (a === null) return null;
    if (a.kind !== 'header') return sampled(a.percentage, random) ? this.fixedAbort : null;
    // Envoy: an abort header with an invalid value (HTTP status outside 200-599) is ignored.
    const http = headerInt(headers, FaultHeader.abort);
    const grpc = http >= 200 && http <= 599 ? -1 : headerInt(headers, FaultHeader.abortGrpc);
    if (!(http >= 200 && http <= 599) && grpc < 0) return null;
    if (!sampled(headerPercentage(headers, FaultHeader.abortPercentage, a.percentage), random)) return null;
    return grpc < 0 ? { httpStatus: http, grpcStatus: -1 } : { httpStatus: 200, grpcStatus: grpc };
  }

  /** Takes one of active_faults; false (and faults_overflow) at max_active_faults. */
  tryActivate(): boolean {
    const active = this.stats.activeFaults;
    if (active.value >= this.maxActiveFaults) {
      this.stats.faultsOverflow.value++;
      return false;
    }
    active.value++;
    return true;
  }

  release(): void {
    this.stats.activeFaults.value--;
  }
}

function sampled(p: FractionalPercent, random: () => number): boolean {
  if (p.numerator === 0) return false;
  return Math.floor(random() * p.denominator) < p.numerator;
}

/** The configured percentage, its numerator lowered by the request's `-percentage` header. */
function headerPercentage(
  headers: HeaderList,
  name: string,
  configured: FractionalPercent,
): FractionalPercent {
  const n = headerInt(headers, name);
  if (n < 0 || n >= configured.numerator) return configured;
  return { numerator: n, denominator: configured.denominator };
}

/** The fault state of one stream, created only when a fault filter applies to it. */
export class StreamFault {
  readonly filter: HttpFaultFilter;
  readonly random: () => number;
  /** The pending delay; null when none. */
  timer: Timer | null = null;
  /** The routed cluster, handed to the stream when the delay ends. */
  cluster: UpstreamCluster | null = null;
  /** This stream holds one of active_faults. */
  active = false;
  /** The route's per-filter configs, for the filters after the fault once the delay ends. */
  perRoute: PerFilterConfigs | null = null;

  constructor(filter: HttpFaultFilter, random: () => number) {
    this.filter = filter;
    this.random = random;
  }

  /** Takes an active_faults slot unless already held; false on overflow. */
  activate(): boolean {
    if (this.active) return true;
    this.active = this.filter.tryActivate();
    return this.active;
  }

  /** The stream ended: cancel a pending delay and give back the active_faults slot. */
  end(): void {
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    if (this.active) {
      this.active = false;
      this.filter.release();
    }
  }
}

/** The fault filter of an HCM config, or null when it has none (compiled once per config version). */
export function createHttpFaultFilter(
  config: HttpFault | null,
  stats: StatsStore,
  statPrefix: string,
  name?: string,
): HttpFaultFilter | null {
  if (config === null) return null;
  const p = `http.${statPrefix}.fault.`;
  return new HttpFaultFilter(
    config,
    {
      delaysInjected: stats.counter(`${p}delays_injected`),
      abortsInjected: stats.counter(`${p}aborts_injected`),
      activeFaults: stats.gauge(`${p}active_faults`),
      faultsOverflow: stats.counter(`${p}faults_overflow`),
    },
    name,
  );
}
