// The admission checks every connection pool (HTTP/1.1 and HTTP/2) makes when a request
// asks for a connection, in Envoy's order: a draining pool refuses it, the cluster's
// max_requests breaker refuses it at once, and a request that has to wait for a
// connection is refused by max_pending_requests or else counted as pending. A refusal
// fails the waiter (503 UO for the breakers) and counts upstream_rq_pending_overflow.

import type { ClusterCircuitBreakers } from './cluster-circuit-breakers.js';
import type { ClusterStats } from './cluster-stats.js';
import type { PoolWaiter } from './connection-pool.js';

/** False (the waiter already failed) when the pool is draining or max_requests is reached. */
export function admitRequest(
  draining: boolean,
  cb: ClusterCircuitBreakers | null,
  stats: ClusterStats,
  waiter: PoolWaiter,
): boolean {
  if (draining) {
    waiter.onPoolFailure('closed', 'connection pool is draining');
    return false;
  }
  if (cb !== null && !cb.requests.canCreate()) {
    stats.upstream_rq_pending_overflow.value++;
    waiter.onPoolFailure('overflow', 'max_requests circuit breaker open');
    return false;
  }
  return true;
}

/** For a request that must wait: false (the waiter already failed) at max_pending_requests, else it counts as pending. */
export function admitPending(
  cb: ClusterCircuitBreakers | null,
  stats: ClusterStats,
  waiter: PoolWaiter,
): boolean {
  if (cb === null) return true;
  if (!cb.pending.canCreate()) {
    stats.upstream_rq_pending_overflow.value++;
    waiter.onPoolFailure('overflow', 'max_pending_requests circuit breaker open');
    return false;
  }
  cb.pending.inc();
  return true;
}
