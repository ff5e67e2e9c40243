// A cluster's circuit breakers (Envoy's ResourceManager for priority DEFAULT): counts of
// connections, pending requests, active requests and retries in flight across all of the
// cluster's hosts, each checked against its threshold before it grows.
//
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking
// - max_connections: the pools open no connection past it (the request waits as pending);
// - max_pending_requests: a request that would wait past it fails at once (503 UO);
// - max_requests: a request past it fails at once (503 UO);
// - max_retries, or a retry_budget (which replaces it): a retry past it is not made.
// Retry budget: retries in flight may be `budget_percent` of the cluster's active plus
// pending requests, and at least `min_retry_concurrency` (Envoy's RetryBudget). Weft
// applies 20% / 3 when nothing is configured (see validate-circuit-breakers.ts).
//
// Gauges are Envoy's `cluster.<name>.circuit_breakers.default.{cx,rq_pending,rq,rq_retry}_open`
// (1 while at the limit) and `remaining_{cx,pending,rq,retries}`. Envoy keeps remaining_* only
// with `track_remaining`; Weft always does (a gauge write per change is cheap). Under a retry
// budget the retry limit moves with the load; its gauges show it as of the last retry event.

import type { CircuitBreakerThresholds } from '../../config/model.js';
import type { Gauge, StatsStore } from '../stats/store.js';

export class ResourceLimit {
  count = 0;

  constructor(
    public max: number,
    private readonly open: Gauge,
    private readonly remaining: Gauge,
  ) {
    this.publish();
  }

  canCreate(): boolean {
    return this.count < this.max;
  }

  inc(): void {
    this.count++;
    this.publish();
  }

  dec(): void {
    this.count--;
    this.publish();
  }

  publish(): void {
    this.open.value = this.count >= this.max ? 1 : 0;
    this.remaining.value = this.count >= this.max ? 0 : this.max - this.count;
  }
}

export class ClusterCircuitBreakers {
  readonly connections: ResourceLimit;
  readonly pending: ResourceLimit;
  readonly requests: ResourceLimit;
  readonly retries: ResourceLimit;
  private readonly budgetFraction: number;
  private readonly minRetryConcurrency: number;
  private readonly budgeted: boolean;

  constructor(thresholds: CircuitBreakerThresholds, stats: StatsStore, clusterName: string) {
    const p = `cluster.${clusterName}.circuit_breakers.default.`;
    const g = (n: string) => stats.gauge(p + n);
    this.connections = new ResourceLimit(thresholds.maxConnections, g('cx_open'), g('remaining_cx'));
    this.pending = new ResourceLimit(
      thresholds.maxPendingRequests,
      g('rq_pending_open'),
      g('remaining_pending'),
    );
    this.requests = new ResourceLimit(thresholds.maxRequests, g('rq_open'), g('remaining_rq'));
    const budget = thresholds.retryBudget;
    this.budgeted = budget !== null;
    this.budgetFraction = budget === null ? 0 : budget.budgetPercent / 100;
    this.minRetryConcurrency = budget === null ? 0 : budget.minRetryConcurrency;
    this.retries = new ResourceLimit(
      budget === null ? thresholds.maxRetries : budget.minRetryConcurrency,
      g('rq_retry_open'),
      g('remaining_retries'),
    );
  }

  /** Whether one more retry may start now; the caller then calls retries.inc(), and dec() when it ends. */
  canRetry(): boolean {
    if (this.budgeted) {
      const active = this.requests.count + this.pending.count;
      this.retries.max = Math.max(this.minRetryConcurrency, Math.floor(this.budgetFraction * active));
      this.retries.publish();
    }
    return this.retries.canCreate();
  }
}
