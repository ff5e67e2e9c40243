// Outlier detection (passive health checking) for one cluster, after Envoy's detector:
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier
//
// The router reports each host's results to that host's monitor (`host.outlier`): an HTTP
// status code, or a local-origin event (connect failure, timeout, reset, connect success).
// Consecutive-error ejections (5xx, gateway failure, local-origin failure) happen at the
// result that reaches the threshold; success-rate and failure-percentage ejections, and
// un-ejections, happen on the `interval` timer. An ejected host gets FAILED_OUTLIER_CHECK
// for base_ejection_time × (times ejected in a row), capped by max_ejection_time, plus a
// jitter in [0, max_ejection_time_jitter]; it returns at the first interval after that.
// The multiplier decays by one each interval the host spends un-ejected (after the first).
//
// With split_external_local_origin_errors off, local-origin events count as HTTP codes: a
// connect failure or reset as 503, a timeout as 504 (both gateway failures), and a plain
// connect success is not a result (the response code that follows is). With it on they
// feed consecutive_local_origin_failure and the local-origin success rate instead.
//
// The request path only bumps counters on the monitor (no allocation); everything else
// runs on the interval timer or at an ejection. Time and randomness are injected.

import type { OutlierDetection } from '../../../config/model.js';
import type { Clock, Timer } from '../../../core/clock.js';
import type { Counter, Gauge, StatsStore } from '../../stats/store.js';
import type { Host } from '../host.js';
import { HealthFlag } from './health-flags.js';

/** Local-origin and external results the router reports besides status codes (Envoy's Outlier::Result). */
export const OutlierResult = {
  LocalOriginConnectFailed: 0,
  LocalOriginTimeout: 1,
  LocalOriginConnectSuccess: 2,
  LocalOriginConnectSuccessFinal: 3,
  ExtOriginRequestFailed: 4,
  ExtOriginRequestSuccess: 5,
} as const;

/** What the router calls on a host (`host.outlier`). */
export interface HostOutlierMonitor {
  putHttpResponseCode(code: number): void;
  /** An OutlierResult value. */
  putResult(result: number): void;
}

/** Envoy's OutlierEjectionType, in the order of EJECTION_NAMES. */
enum Ejection {
  Consecutive5xx = 0,
  ConsecutiveGatewayFailure = 1,
  SuccessRate = 2,
  ConsecutiveLocalOriginFailure = 3,
  LocalOriginSuccessRate = 4,
  FailurePercentage = 5,
  LocalOriginFailurePercentage = 6,
}

const EJECTION_NAMES = [
  'consecutive_5xx',
  'consecutive_gateway_failure',
  'success_rate',
  'consecutive_local_origin_failure',
  'local_origin_success_rate',
  'failure_percentage',
  'local_origin_failure_percentage',
] as const;

export interface OutlierStats {
  readonly ejections_active: Gauge;
  readonly ejections_overflow: Counter;
  readonly ejections_enforced_total: Counter;
  /** Deprecated in Envoy: ejections detected (enforced or not) that were within max_ejection_percent. */
  readonly ejections_total: Counter;
  /** Deprecated in Envoy: consecutive-5xx ejections detected. */
  readonly ejections_consecutive_5xx: Counter;
  /** Deprecated in Envoy: success-rate ejections detected. */
  readonly ejections_success_rate: Counter;
  /** `ejections_enforced_<type>`, indexed by Ejection. */
  readonly enforced: readonly Counter[];
  /** `ejections_detected_<type>`, indexed by Ejection. */
  readonly detected: readonly Counter[];
}

function createOutlierStats(store: StatsStore, clusterName: string): OutlierStats {
  const p = `cluster.${clusterName}.outlier_detection.`;
  return {
    ejections_active: store.gauge(`${p}ejections_active`),
    ejections_overflow: store.counter(`${p}ejections_overflow`),
    ejections_enforced_total: store.counter(`${p}ejections_enforced_total`),
    ejections_total: store.counter(`${p}ejections_total`),
    ejections_consecutive_5xx: store.counter(`${p}ejections_consecutive_5xx`),
    ejections_success_rate: store.counter(`${p}ejections_success_rate`),
    enforced: EJECTION_NAMES.map((n) => store.counter(`${p}ejections_enforced_${n}`)),
    detected: EJECTION_NAMES.map((n) => store.counter(`${p}ejections_detected_${n}`)),
  };
}

/** Success-rate numbers of one interval: the host's volume and success percentage. */
class SuccessRateBucket {
  total = 0;
  success = 0;
  /** The last interval's success rate (0-100), -1 when the volume was too small to say. */
  rate = -1;
}

/** One host's counters; the router's results land here. */
export class HostMonitor implements HostOutlierMonitor {
  consecutive5xx = 0;
  consecutiveGatewayFailure = 0;
  consecutiveLocalOriginFailure = 0;
  /** The ejection-time multiplier: times ejected in a row, decaying while healthy. */
  ejectTimeMultiplier = 0;
  numEjections = 0;
  lastEjectionMs = -1;
  lastUnejectionMs = -1;
  jitterMs = 0;
  readonly external = new SuccessRateBucket();
  readonly localOrigin = new SuccessRateBucket();
  /** Set when the host left the cluster: late results are dropped. */
  removed = false;

  constructor(
    private readonly detector: OutlierDetector,
    readonly host: Host,
  ) {}

  get ejected(): boolean {
    return (this.host.healthFlags & HealthFlag.FailedOutlierCheck) !== 0;
  }

  putHttpResponseCode(code: number): void {
    if (this.removed) return;
    const d = this.detector;
    const cfg = d.config;
    const ext = this.external;
    ext.total++;
    if (code < 500 || code > 599) {
      ext.success++;
      this.consecutive5xx = 0;
      this.consecutiveGatewayFailure = 0;
      return;
    }
    if (code === 502 || code === 503 || code === 504) {
      if (++this.consecutiveGatewayFailure === cfg.consecutiveGatewayFailure)
        d.onConsecutiveError(this, Ejection.ConsecutiveGatewayFailure);
    } else {
      this.consecutiveGatewayFailure = 0;
    }
    if (++this.consecutive5xx === cfg.consecutive5xx) d.onConsecutiveError(this, Ejection.Consecutive5xx);
  }

  putResult(result: number): void {
    if (this.removed) return;
    if (!this.detector.config.splitExternalLocalOriginErrors) {
      switch (result) {
        case OutlierResult.LocalOriginConnectFailed:
        case OutlierResult.ExtOriginRequestFailed:
          this.putHttpResponseCode(result === OutlierResult.ExtOriginRequestFailed ? 500 : 503);
          return;
        case OutlierResult.LocalOriginTimeout:
          this.putHttpResponseCode(504);
          return;
        case OutlierResult.LocalOriginConnectSuccessFinal:
        case OutlierResult.ExtOriginRequestSuccess:
          this.putHttpResponseCode(200);
          return;
        default:
          return; // a connect success: the response code that follows is the result
      }
    }
    switch (result) {
      case OutlierResult.LocalOriginConnectFailed:
      case OutlierResult.LocalOriginTimeout:
        this.localOrigin.total++;
        if (++this.consecutiveLocalOriginFailure === this.detector.config.consecutiveLocalOriginFailure)
          this.detector.onConsecutiveError(this, Ejection.ConsecutiveLocalOriginFailure);
        return;
      case OutlierResult.LocalOriginConnectSuccess:
      case OutlierResult.LocalOriginConnectSuccessFinal:
        this.localOrigin.total++;
        this.localOrigin.success++;
        this.consecutiveLocalOriginFailure = 0;
        return;
      case OutlierResult.ExtOriginRequestFailed:
        this.putHttpResponseCode(500);
        return;
      case OutlierResult.ExtOriginRequestSuccess:
        this.putHttpResponseCode(200);
        return;
    }
  }

  resetConsecutive(): void {
    this.consecutive5xx = 0;
    this.consecutiveGatewayFailure = 0;
    this.consecutiveLocalOriginFailure = 0;
  }
}

export interface OutlierDetectorDeps {
  readonly clock: Clock;
  random(): number;
  readonly stats: StatsStore;
  readonly clusterName: string;
  /** A host was ejected or returned (the cluster recounts its healthy hosts). */
  onHostHealthChanged(host: Host): void;
}

/** Cluster-level success-rate numbers of the last interval (-1: not computed). */
export interface SuccessRateNumbers {
  average: number;
  ejectionThreshold: number;
}

export class OutlierDetector {
  readonly stats: OutlierStats;
  private readonly monitors = new Map<Host, HostMonitor>();
  private timer: Timer | null = null;
  private closed = false;
  readonly externalNumbers: SuccessRateNumbers = { average: -1, ejectionThreshold: -1 };
  readonly localOriginNumbers: SuccessRateNumbers = { average: -1, ejectionThreshold: -1 };

  constructor(
    readonly config: OutlierDetection,
    private readonly deps: OutlierDetectorDeps,
  ) {
    this.stats = createOutlierStats(deps.stats, deps.clusterName);
    this.armTimer();
  }

  /** The monitor of a host (undefined when the host is not in the cluster). */
  monitor(host: Host): HostMonitor | undefined {
    return this.monitors.get(host);
  }

  /** Follows the cluster's host set: new hosts get a monitor, removed ones lose theirs. */
  hostsChanged(hosts: readonly Host[]): void {
    const keep = new Set(hosts);
    for (const [host, m] of this.monitors) {
      if (keep.has(host)) continue;
      m.removed = true;
      if (host.outlier === m) host.outlier = null;
      if (m.ejected) {
        this.stats.ejections_active.value--;
        host.setHealthFlag(HealthFlag.FailedOutlierCheck, false);
      }
      this.monitors.delete(host);
    }
    for (const host of hosts) {
      if (this.monitors.has(host)) continue;
      const m = new HostMonitor(this, host);
      this.monitors.set(host, m);
      host.outlier = m;
    }
  }

  /** Active health checking passed for an ejected host: it returns at once (successful_active_health_check_uneject_host). */
  onActiveHealthCheckSuccess(host: Host): void {
    if (!this.config.successfulActiveHealthCheckUnejectHost) return;
    const m = this.monitors.get(host);
    if (m?.ejected) this.uneject(m, this.deps.clock.monotonic());
  }

  /** A consecutive-error counter reached its threshold. */
  onConsecutiveError(m: HostMonitor, type: Ejection): void {
    if (this.closed || m.ejected) return;
    this.stats.detected[type].value++;
    if (type === Ejection.Consecutive5xx) this.stats.ejections_consecutive_5xx.value++;
    this.eject(m, type);
    // Restart the count, so that a run of errors not ejected (enforcement or overflow) can
    // trigger again without an interleaved success.
    if (type === Ejection.Consecutive5xx) m.consecutive5xx = 0;
    else if (type === Ejection.ConsecutiveGatewayFailure) m.consecutiveGatewayFailure = 0;
    else m.consecutiveLocalOriginFailure = 0;
  }

  private enforcing(type: Ejection): number {
    const c = this.config;
    switch (type) {
      case Ejection.Consecutive5xx:
        return c.enforcingConsecutive5xx;
      case Ejection.ConsecutiveGatewayFailure:
        return c.enforcingConsecutiveGatewayFailure;
      case Ejection.SuccessRate:
        return c.enforcingSuccessRate;
      case Ejection.ConsecutiveLocalOriginFailure:
        return c.enforcingConsecutiveLocalOriginFailure;
      case Ejection.LocalOriginSuccessRate:
        return c.enforcingLocalOriginSuccessRate;
      case Ejection.FailurePercentage:
        return c.enforcingFailurePercentage;
      case Ejection.LocalOriginFailurePercentage:
        return c.enforcingFailurePercentageLocalOrigin;
    }
  }

  /** Ejects `m`'s host when max_ejection_percent allows and the enforcing percentage samples true. */
  private eject(m: HostMonitor, type: Ejection): void {
    const stats = this.stats;
    const active = stats.ejections_active.value;
    const ejectedPercent = (100 * (active + 1)) / this.monitors.size;
    const allowed =
      ejectedPercent <= this.config.maxEjectionPercent || (this.config.alwaysEjectOneHost && active === 0);
    if (!allowed) {
      stats.ejections_overflow.value++;
      return;
    }
    stats.ejections_total.value++;
    if (!(this.deps.random() * 100 < this.enforcing(type))) return;
    stats.ejections_active.value++;
    stats.ejections_enforced_total.value++;
    stats.enforced[type].value++;
    const c = this.config;
    // The multiplier grows while base × multiplier is below the cap (Envoy's backoff).
    if (c.baseEjectionTimeMs * m.ejectTimeMultiplier < c.maxEjectionTimeMs) m.ejectTimeMultiplier++;
    m.numEjections++;
    m.lastEjectionMs = this.deps.clock.monotonic();
    m.jitterMs = Math.floor(this.deps.random() * (c.maxEjectionTimeJitterMs + 1));
    if (m.host.setHealthFlag(HealthFlag.FailedOutlierCheck, true)) this.deps.onHostHealthChanged(m.host);
  }

  /** How long `m`'s current ejection lasts. */
  ejectionPeriodMs(m: HostMonitor): number {
    const c = this.config;
    return Math.min(c.baseEjectionTimeMs * m.ejectTimeMultiplier, c.maxEjectionTimeMs) + m.jitterMs;
  }

  private uneject(m: HostMonitor, now: number): void {
    this.stats.ejections_active.value--;
    m.resetConsecutive();
    m.lastUnejectionMs = now;
    if (m.host.setHealthFlag(HealthFlag.FailedOutlierCheck, false)) this.deps.onHostHealthChanged(m.host);
  }

  private armTimer(): void {
    if (this.closed) return;
    this.timer = this.deps.clock.setTimer(this.config.intervalMs, () => this.onInterval());
  }

  /** Runs one interval: returns ejected hosts whose time is up, then the success-rate checks. */
  onInterval(): void {
    this.timer = null;
    if (this.closed) return;
    const now = this.deps.clock.monotonic();
    for (const m of this.monitors.values()) {
      if (!m.ejected) {
        // Healthy for a whole interval since its last return: the multiplier decays.
        if (
          m.ejectTimeMultiplier > 0 &&
          m.lastUnejectionMs >= 0 &&
          now - m.lastUnejectionMs >= this.config.intervalMs
        )
          m.ejectTimeMultiplier--;
        continue;
      }
      if (now - m.lastEjectionMs >= this.ejectionPeriodMs(m)) this.uneject(m, now);
    }
    this.processSuccessRates(false);
    if (this.config.splitExternalLocalOriginErrors) this.processSuccessRates(true);
    for (const m of this.monitors.values()) {
      m.external.total = m.external.success = 0;
      m.localOrigin.total = m.localOrigin.success = 0;
    }
    this.armTimer();
  }

  /**
   * Success-rate and failure-percentage ejections over the interval's numbers (Envoy's
   * processSuccessRateEjections): hosts with enough volume qualify; with enough qualifying
   * hosts, those below mean − stdev_factor × stdev, or failing at least
   * failure_percentage_threshold percent, are ejected.
   */
  private processSuccessRates(localOrigin: boolean): void {
    const c = this.config;
    const numbers = localOrigin ? this.localOriginNumbers : this.externalNumbers;
    numbers.average = -1;
    numbers.ejectionThreshold = -1;
    if (
      this.monitors.size < c.successRateMinimumHosts &&
      this.monitors.size < c.failurePercentageMinimumHosts
    )
      return;
    const srHosts: HostMonitor[] = [];
    const fpHosts: HostMonitor[] = [];
    let sum = 0;
    const minVolume = Math.min(c.successRateRequestVolume, c.failurePercentageRequestVolume);
    for (const m of this.monitors.values()) {
      const b = localOrigin ? m.localOrigin : m.external;
      if (m.ejected || b.total === 0) continue;
      const rate = (100 * b.success) / b.total;
      if (b.total >= minVolume) b.rate = rate;
      if (b.total >= c.successRateRequestVolume) {
        srHosts.push(m);
        sum += rate;
      }
      if (b.total >= c.failurePercentageRequestVolume) fpHosts.push(m);
    }
    const bucket = (m: HostMonitor) => (localOrigin ? m.localOrigin : m.external);
    const rateOf = (m: HostMonitor) => (100 * bucket(m).success) / bucket(m).total;
    if (srHosts.length > 0 && srHosts.length >= c.successRateMinimumHosts) {
      const { mean, threshold } = successRateEjectionThreshold(
        sum,
        srHosts.map(rateOf),
        c.successRateStdevFactor,
      );
      numbers.average = mean;
      numbers.ejectionThreshold = threshold;
      const type = localOrigin ? Ejection.LocalOriginSuccessRate : Ejection.SuccessRate;
      for (const m of srHosts) {
        if (rateOf(m) < threshold && !m.ejected) {
          this.stats.detected[type].value++;
          this.stats.ejections_success_rate.value++;
          this.eject(m, type);
        }
      }
    }
    if (fpHosts.length > 0 && fpHosts.length >= c.failurePercentageMinimumHosts) {
      const type = localOrigin ? Ejection.LocalOriginFailurePercentage : Ejection.FailurePercentage;
      for (const m of fpHosts) {
        if (100 - rateOf(m) >= c.failurePercentageThreshold && !m.ejected) {
          this.stats.detected[type].value++;
          this.eject(m, type);
        }
      }
    }
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
  }
}

/**
 * Envoy's success-rate ejection threshold: mean − factor × (population) standard deviation.
 * For rates {50, 100, 100, 100, 100} and factor 1.9: mean 90, stdev 20, threshold 52.
 */
export function successRateEjectionThreshold(
  sum: number,
  rates: readonly number[],
  factor: number,
): { mean: number; threshold: number } {
  const mean = sum / rates.length;
  let variance = 0;
  for (const r of rates) variance += (r - mean) * (r - mean);
  variance /= rates.length;
  return { mean, threshold: mean - factor * Math.sqrt(variance) };
}

export function createOutlierDetector(config: OutlierDetection, deps: OutlierDetectorDeps): OutlierDetector {
  return new OutlierDetector(config, deps);
}
