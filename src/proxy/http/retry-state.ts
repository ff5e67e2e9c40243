// The retry bookkeeping of one request on a route with a `retry_policy` (Envoy's
// RetryStateImpl): the attempt number, the request body kept for replay, the hosts already
// tried, the per-try and back-off timers, and the retry slot held in the cluster's circuit
// breaker. Created only for such routes, so a route without retries pays nothing.
//
// Envoy semantics kept here (router filter docs, "Retry semantics" and circuit breaking):
// - a retry needs: a retriable outcome, a replayable request (its body fit in the buffer
//   limit), a retry left of `num_retries` (else upstream_rq_retry_limit_exceeded), and room
//   in the retry budget / max_retries breaker (else upstream_rq_retry_overflow);
// - a retry holds its breaker slot from the decision until the request ends, so "retries
//   in flight" are what the budget bounds;
// - per_try_idle_timeout starts with the per-try timeout (whole request sent on a pooled
//   connection) and restarts with every response byte of the attempt, also once the
//   response streams downstream; one timer per attempt, re-armed only when it fires early;
// - the back-off before retry n is jittered exponential (CompiledRetryPolicy.backoffMs), or
//   what a retried response's reset header asks (rate_limited_retry_back_off);
// - with the previous_hosts predicate, host selection is re-tried up to
//   `host_selection_retry_max_attempts` times to avoid hosts already attempted; then the
//   last pick is used.

import type { Clock, Timer } from '../../core/clock.js';
import type { CompiledRetryPolicy } from '../router/retry-policy.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import type { LoadBalancerContext } from '../upstream/lb/load-balancer.js';
import type { HeaderList } from './headers.js';

/** What `decide` concluded. */
export const RetryDecision = {
  /** Not a retriable outcome (or the body was too large to replay): answer with it. */
  No: 0,
  /** A retry is scheduled: the owner's onBackoffElapsed() will run. */
  Retry: 1,
  /** num_retries used up. */
  LimitExceeded: 2,
  /** The retry budget / max_retries breaker is full. */
  Overflow: 3,
} as const;
export type RetryDecision = (typeof RetryDecision)[keyof typeof RetryDecision];

/** The stream a RetryState works for (method calls, no closures on the request path). */
export interface RetryOwner {
  onBackoffElapsed(): void;
  onPerTryTimeout(): void;
  onPerTryIdleTimeout(): void;
}

export class RetryState {
  readonly policy: CompiledRetryPolicy;
  /** 1 for the first attempt; sent upstream as x-envoy-attempt-count. */
  attempt = 1;
  /** False once the request body outgrew the replay limit: no retry from then on. */
  replayable = true;
  private readonly cluster: UpstreamCluster;
  private readonly clock: Clock;
  private readonly bodyLimit: number;
  private body: Buffer[] = [];
  private bodyBytes = 0;
  private readonly tried: Host[] = [];
  private holdingSlot = false;
  private perTryTimer: Timer | null = null;
  private backoffTimer: Timer | null = null;
  private idleTimer: Timer | null = null;
  /** Monotonic ms of the current attempt's last response byte (or of its start). */
  private lastResponseBytes = 0;
  private readonly idleTimeoutMs: number | null;
  private readonly onPerTry: () => void;
  private readonly onIdle: () => void;
  private readonly onBackoff: () => void;

  constructor(
    policy: CompiledRetryPolicy,
    cluster: UpstreamCluster,
    clock: Clock,
    bodyLimitBytes: number,
    owner: RetryOwner,
  ) {
    this.policy = policy;
    this.cluster = cluster;
    this.clock = clock;
    this.bodyLimit = bodyLimitBytes;
    this.onPerTry = () => {
      this.perTryTimer = null;
      owner.onPerTryTimeout();
    };
    this.onBackoff = () => {
      this.backoffTimer = null;
      owner.onBackoffElapsed();
    };
    const idle = policy.perTryIdleTimeoutMs;
    this.idleTimeoutMs = idle;
    this.onIdle = () => {
      this.idleTimer = null;
      if (idle === null) return;
      const left = this.lastResponseBytes + idle - this.clock.monotonic();
      if (left > 0) this.idleTimer = this.clock.setTimer(left, this.onIdle);
      else owner.onPerTryIdleTimeout();
    };
  }

  /** Whether this request was retried at least once. */
  get retried(): boolean {
    return this.attempt > 1;
  }

  /** Keeps a request body chunk for replay, until the limit is passed (then none is kept). */
  keepBody(chunk: Buffer): void {
    if (!this.replayable) return;
    this.bodyBytes += chunk.length;
    if (this.bodyBytes > this.bodyLimit) {
      // Envoy: a request whose body outgrows the retry buffer is no longer retried.
      this.replayable = false;
      this.body = [];
      return;
    }
    this.body.push(chunk);
  }

  /** The body received so far, to send again on a new attempt (a fresh list the caller may extend). */
  replayBody(): { chunks: Buffer[]; bytes: number } {
    return { chunks: this.body.slice(), bytes: this.bodyBytes };
  }

  /** A host for the next attempt, avoiding hosts already tried when previous_hosts is on. */
  chooseHost(context?: LoadBalancerContext | null): Host | null {
    let host = this.cluster.chooseHost(context);
    if (this.policy.previousHosts) {
      for (let i = 0; i < this.policy.hostSelectionRetryMaxAttempts; i++) {
        if (host === null || !this.tried.includes(host)) break;
        // A hashing balancer would give the same host for the same hash: re-pick without it.
        host = this.cluster.chooseHost(null);
      }
    }
    return host;
  }

  recordHost(host: Host): void {
    if (this.policy.previousHosts) this.tried.push(host);
  }

  /**
   * Decides after an attempt ended with an outcome that is `retriable` or not; counts the
   * stats. `response`: the headers of the response being retried, whose reset headers may
   * set the back-off (rate_limited_retry_back_off); null for an attempt with no response.
   */
  decide(retriable: boolean, response: HeaderList | null = null): RetryDecision {
    this.cancelPerTry();
    if (!retriable || !this.replayable) return RetryDecision.No;
    const stats = this.cluster.stats;
    if (this.attempt > this.policy.numRetries) {
      stats.upstream_rq_retry_limit_exceeded.value++;
      return RetryDecision.LimitExceeded;
    }
    // The attempt that just failed gives its slot back before asking for the next one.
    this.releaseSlot();
    const cb = this.cluster.circuitBreakers;
    if (!cb.canRetry()) {
      stats.upstream_rq_retry_overflow.value++;
      return RetryDecision.Overflow;
    }
    cb.retries.inc();
    this.holdingSlot = true;
    stats.upstream_rq_retry.value++;
    const random = this.cluster.random;
    const limited =
      response === null ? -1 : this.policy.rateLimitedBackoffMs(response, this.clock.now(), random);
    const delay = limited >= 0 ? limited : this.policy.backoffMs(this.attempt, random);
    this.attempt++;
    this.backoffTimer = this.clock.setTimer(delay, this.onBackoff);
    return RetryDecision.Retry;
  }

  /** Starts the per-try timeout of the current attempt (once its request is fully sent). */
  startPerTry(): void {
    this.continuePerTryIdle();
    const ms = this.policy.perTryTimeoutMs;
    if (ms === null || this.perTryTimer !== null) return;
    this.perTryTimer = this.clock.setTimer(ms, this.onPerTry);
  }

  /** (Re)starts the per_try_idle_timeout of the current attempt from now, if the policy has one. */
  continuePerTryIdle(): void {
    const ms = this.idleTimeoutMs;
    if (ms === null) return;
    this.lastResponseBytes = this.clock.monotonic();
    if (this.idleTimer === null) this.idleTimer = this.clock.setTimer(ms, this.onIdle);
  }

  /** Response bytes of the current attempt arrived: its idle timer starts over (lazily). */
  onResponseBytes(): void {
    if (this.idleTimer !== null) this.lastResponseBytes = this.clock.monotonic();
  }

  cancelPerTry(): void {
    if (this.perTryTimer !== null) {
      this.perTryTimer.cancel();
      this.perTryTimer = null;
    }
    if (this.idleTimer !== null) {
      this.idleTimer.cancel();
      this.idleTimer = null;
    }
  }

  /** The request is over: stop the timers, give the retry slot back, drop the kept body. */
  end(): void {
    this.cancelPerTry();
    if (this.backoffTimer !== null) {
      this.backoffTimer.cancel();
      this.backoffTimer = null;
    }
    this.releaseSlot();
    this.body = [];
  }

  private releaseSlot(): void {
    if (this.holdingSlot) {
      this.holdingSlot = false;
      this.cluster.circuitBreakers.retries.dec();
    }
  }
}
