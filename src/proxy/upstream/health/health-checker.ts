// Active health checking of one cluster (its `health_checks[0]`), after Envoy's
// HealthCheckerImplBase: https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/health_checking
//
// One session per host runs a check, waits for its outcome or `timeout`, and schedules the
// next one on the injected clock:
// - Hosts start with FAILED_ACTIVE_HC and PENDING_ACTIVE_HC; the first passing check makes
//   a host healthy at once, whatever healthy_threshold says (Envoy does the same).
// - A healthy host becomes unhealthy after `unhealthy_threshold` network failures (connect
//   failure, reset, timeout) or retriable-status answers in a row, but at once on an answer
//   that is a failure (an HTTP status outside expected_statuses, gRPC NOT_SERVING, ...).
// - An unhealthy host becomes healthy after `healthy_threshold` passes in a row.
// - The next check comes after `no_traffic_interval` (`no_traffic_healthy_interval` for a
//   healthy host) while the cluster has never opened a traffic connection; otherwise after
//   `interval` (`unhealthy_interval` for an unhealthy host), or the edge intervals while a
//   transition is pending; plus the jitters. `initial_jitter` delays the first check.
// Sessions stop when their host leaves the cluster or the cluster is drained or closed.

import type { HealthCheck } from '../../../config/model.js';
import type { Clock, Timer } from '../../../core/clock.js';
import type { Counter, Gauge, StatsStore } from '../../stats/store.js';
import type { Host } from '../host.js';
import { createGrpcProbeFactory } from './grpc-probe.js';
import { HealthFlag } from './health-flags.js';
import { createHttpProbeFactory } from './http-probe.js';
import { type ProbeFactory, ProbeOutcome, type ProbeSession } from './probe.js';
import { createTcpProbeFactory } from './tcp-probe.js';

export interface HealthCheckStats {
  readonly attempt: Counter;
  readonly success: Counter;
  readonly failure: Counter;
  readonly passive_failure: Counter;
  readonly network_failure: Counter;
  readonly verify_cluster: Counter;
  readonly healthy: Gauge;
  readonly degraded: Gauge;
}

export interface HealthCheckerDeps {
  readonly clock: Clock;
  random(): number;
  readonly stats: StatsStore;
  readonly clusterName: string;
  /** Whether the cluster ever opened a traffic connection (picks no_traffic_interval). */
  hadTraffic(): boolean;
  /** A host's health changed (the cluster recounts its healthy hosts). */
  onHostHealthChanged(host: Host): void;
  /** A check passed (outlier detection may return an ejected host). */
  onCheckSuccess(host: Host): void;
  /** Logs a failure (always_log_health_check_failures, or a host turning unhealthy). */
  log(message: string): void;
}

enum Transition {
  Unchanged = 0,
  Changed = 1,
  ChangePending = 2,
}

class Session {
  numHealthy = 0;
  numUnhealthy = 0;
  firstCheck = true;
  inFlight = false;
  stopped = false;
  intervalTimer: Timer | null = null;
  timeoutTimer: Timer | null = null;
  /** Resolves the first-check waiters once the first outcome is in. */
  firstDone: (() => void) | null = null;
  readonly firstResult: Promise<void>;
  readonly done = (outcome: ProbeOutcome, detail: string) => this.checker.onOutcome(this, outcome, detail);

  constructor(
    readonly checker: HealthChecker,
    readonly host: Host,
    readonly probe: ProbeSession,
  ) {
    this.firstResult = new Promise((resolve) => {
      this.firstDone = resolve;
    });
  }
}

export class HealthChecker {
  readonly stats: HealthCheckStats;
  private readonly sessions = new Map<Host, Session>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly config: HealthCheck,
    private readonly probeFactory: ProbeFactory,
    private readonly deps: HealthCheckerDeps,
  ) {
    const p = `cluster.${deps.clusterName}.health_check.`;
    const store = deps.stats;
    this.stats = {
      attempt: store.counter(`${p}attempt`),
      success: store.counter(`${p}success`),
      failure: store.counter(`${p}failure`),
      passive_failure: store.counter(`${p}passive_failure`),
      network_failure: store.counter(`${p}network_failure`),
      verify_cluster: store.counter(`${p}verify_cluster`),
      healthy: store.gauge(`${p}healthy`),
      degraded: store.gauge(`${p}degraded`),
    };
  }

  /** Follows the cluster's host set: starts sessions for new hosts, stops those of removed ones. */
  hostsChanged(hosts: readonly Host[]): void {
    if (this.closed) return;
    const keep = new Set(hosts);
    for (const [host, s] of this.sessions) {
      if (keep.has(host)) continue;
      this.stopSession(s);
      this.sessions.delete(host);
    }
    for (const host of hosts) {
      if (this.sessions.has(host)) continue;
      const s = new Session(this, host, this.probeFactory(host));
      this.sessions.set(host, s);
      this.start(s);
    }
    this.updateHealthyGauge();
  }

  /** Settles once every current host has had its first check (cluster warming). */
  async firstRound(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.firstResult));
  }

  /** Settles when no check is in flight (tests: after advancing the clock). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) this.stopSession(s);
    this.sessions.clear();
    this.wakeIdle();
  }

  private start(s: Session): void {
    const jitter = this.config.initialJitterMs;
    if (jitter > 0) {
      s.intervalTimer = this.deps.clock.setTimer(Math.floor(this.deps.random() * jitter), () =>
        this.runCheck(s),
      );
    } else {
      this.runCheck(s);
    }
  }

  private stopSession(s: Session): void {
    s.stopped = true;
    s.intervalTimer?.cancel();
    s.intervalTimer = null;
    s.timeoutTimer?.cancel();
    s.timeoutTimer = null;
    if (s.inFlight) {
      s.inFlight = false;
      this.inFlight--;
    }
    s.probe.close();
    s.firstDone?.();
    s.firstDone = null;
  }

  private runCheck(s: Session): void {
    s.intervalTimer = null;
    if (s.stopped) return;
    this.stats.attempt.value++;
    s.inFlight = true;
    this.inFlight++;
    s.timeoutTimer = this.deps.clock.setTimer(this.config.timeoutMs, () => {
      s.timeoutTimer = null;
      if (!s.inFlight) return;
      s.probe.cancel();
      this.onOutcome(s, ProbeOutcome.NetworkFailure, `timeout after ${this.config.timeoutMs}ms`);
    });
    s.probe.check(s.done);
  }

  /** The outcome of a session's check in flight (late outcomes after a timeout are dropped). */
  onOutcome(s: Session, outcome: ProbeOutcome, detail: string): void {
    if (!s.inFlight || s.stopped) return;
    s.inFlight = false;
    this.inFlight--;
    s.timeoutTimer?.cancel();
    s.timeoutTimer = null;
    const host = s.host;
    const wasHealthy = host.healthy;
    let transition: Transition;
    if (outcome === ProbeOutcome.Success) transition = this.handleSuccess(s);
    else transition = this.handleFailure(s, outcome, detail);
    if (host.setHealthFlag(HealthFlag.PendingActiveHc, false) || wasHealthy !== host.healthy)
      this.deps.onHostHealthChanged(host);
    s.firstCheck = false;
    s.firstDone?.();
    s.firstDone = null;
    if (transition === Transition.Changed) this.updateHealthyGauge();
    if (outcome === ProbeOutcome.Success) this.deps.onCheckSuccess(host);
    s.intervalTimer = this.deps.clock.setTimer(
      this.nextInterval(outcome === ProbeOutcome.Success, transition),
      () => this.runCheck(s),
    );
    if (this.inFlight === 0) this.wakeIdle();
  }

  private handleSuccess(s: Session): Transition {
    s.numUnhealthy = 0;
    this.stats.success.value++;
    if ((s.host.healthFlags & HealthFlag.FailedActiveHc) === 0) return Transition.Unchanged;
    if (++s.numHealthy >= this.config.healthyThreshold || s.firstCheck) {
      s.host.setHealthFlag(HealthFlag.FailedActiveHc, false);
      return Transition.Changed;
    }
    return Transition.ChangePending;
  }

  private handleFailure(s: Session, outcome: ProbeOutcome, detail: string): Transition {
    s.numHealthy = 0;
    const stats = this.stats;
    stats.failure.value++;
    if (outcome === ProbeOutcome.NetworkFailure) stats.network_failure.value++;
    const host = s.host;
    if (this.config.alwaysLogHealthCheckFailures)
      this.deps.log(`health check of ${this.deps.clusterName} ${host.addressString} failed: ${detail}`);
    if ((host.healthFlags & HealthFlag.FailedActiveHc) !== 0) return Transition.Unchanged;
    if (outcome === ProbeOutcome.ActiveFailure || ++s.numUnhealthy >= this.config.unhealthyThreshold) {
      host.setHealthFlag(HealthFlag.FailedActiveHc, true);
      if (!this.config.alwaysLogHealthCheckFailures)
        this.deps.log(`health check of ${this.deps.clusterName} ${host.addressString} failed: ${detail}`);
      return Transition.Changed;
    }
    return Transition.ChangePending;
  }

  /** Envoy's HealthCheckerImplBase::interval() with its jitters. */
  nextInterval(success: boolean, transition: Transition): number {
    const c = this.config;
    let base: number;
    if (!this.deps.hadTraffic()) {
      base = success ? c.noTrafficHealthyIntervalMs : c.noTrafficIntervalMs;
    } else if (success) {
      base = transition === Transition.ChangePending ? c.healthyEdgeIntervalMs : c.intervalMs;
    } else {
      base = transition === Transition.ChangePending ? c.unhealthyEdgeIntervalMs : c.unhealthyIntervalMs;
    }
    const percentJitter = Math.floor((c.intervalJitterPercent * base) / 100);
    let ms = base;
    if (percentJitter > 0) ms += Math.floor(this.deps.random() * percentJitter);
    if (c.intervalJitterMs > 0) ms += Math.floor(this.deps.random() * c.intervalJitterMs);
    return ms;
  }

  private updateHealthyGauge(): void {
    let n = 0;
    for (const host of this.sessions.keys()) if ((host.healthFlags & HealthFlag.FailedActiveHc) === 0) n++;
    this.stats.healthy.value = n;
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** A checker for `config` with the probe of its kind. */
export function createHealthChecker(config: HealthCheck, deps: HealthCheckerDeps): HealthChecker {
  const checker = config.checker;
  let probes: ProbeFactory;
  switch (checker.kind) {
    case 'http':
      probes = createHttpProbeFactory(checker, deps.clusterName, config.reuseConnection);
      break;
    case 'tcp':
      probes = createTcpProbeFactory(checker, config.reuseConnection);
      break;
    case 'grpc':
      probes = createGrpcProbeFactory(checker, deps.clusterName);
      break;
  }
  return new HealthChecker(config, probes, deps);
}
