// Validation of a cluster's `circuit_breakers` (envoy.config.cluster.v3.CircuitBreakers).
//
// Weft has one routing priority: only thresholds for `DEFAULT` are accepted; `HIGH` is
// refused rather than silently never applied. Envoy's rule that the first Thresholds per
// priority wins is kept as "one per priority" (a second DEFAULT entry is an error: it would
// be ignored). Defaults are Envoy's (1024 / 1024 / 1024 / 3), except that Weft applies a
// retry budget of 20% with a minimum concurrency of 3 when neither `max_retries` nor
// `retry_budget` is set, so retries can never multiply an outage.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/circuit_breaker.proto

import { describe, type EnumSpec, type FieldReader, readMessage } from './fields.js';
import type { CircuitBreakerThresholds } from './model.js';

const PRIORITY: EnumSpec<'DEFAULT'> = { known: ['DEFAULT', 'HIGH'], supported: ['DEFAULT'] };

const DEFAULT_MAX = 1024;
const DEFAULT_MAX_RETRIES = 3;
/** Envoy's RetryBudget defaults. */
const DEFAULT_BUDGET_PERCENT = 20;
const DEFAULT_MIN_RETRY_CONCURRENCY = 3;

export const DEFAULT_CIRCUIT_BREAKERS: CircuitBreakerThresholds = {
  maxConnections: DEFAULT_MAX,
  maxPendingRequests: DEFAULT_MAX,
  maxRequests: DEFAULT_MAX,
  maxRetries: DEFAULT_MAX_RETRIES,
  retryBudget: { budgetPercent: DEFAULT_BUDGET_PERCENT, minRetryConcurrency: DEFAULT_MIN_RETRY_CONCURRENCY },
};

/** Reads the cluster's `circuit_breakers`; the defaults when absent. */
export function readCircuitBreakers(cluster: FieldReader): CircuitBreakerThresholds {
  const cb = cluster.message('circuit_breakers');
  if (cb === null) return DEFAULT_CIRCUIT_BREAKERS;
  let out: CircuitBreakerThresholds = DEFAULT_CIRCUIT_BREAKERS;
  let seen = false;
  const items = cb.list('thresholds');
  for (let i = 0; i < items.length; i++) {
    const t = readMessage(items[i], `${cb.at('thresholds')}[${i}]`, cb.issues);
    t.enumeration('priority', 'DEFAULT', PRIORITY);
    if (seen) t.issue('priority', 'thresholds for DEFAULT are already given; Envoy would ignore this entry');
    const thresholds = readThresholds(t);
    if (!seen) out = thresholds;
    seen = true;
    t.done();
  }
  return out;
}

function readThresholds(t: FieldReader): CircuitBreakerThresholds {
  const maxConnections = t.uint32('max_connections', DEFAULT_MAX);
  const maxPendingRequests = t.uint32('max_pending_requests', DEFAULT_MAX);
  const maxRequests = t.uint32('max_requests', DEFAULT_MAX);
  const hasMaxRetries = t.has('max_retries');
  const maxRetries = t.uint32('max_retries', DEFAULT_MAX_RETRIES);
  // Weft keeps every remaining_* gauge; Envoy's opt-in flag is accepted and has no effect.
  t.boolean('track_remaining', false);
  let retryBudget: CircuitBreakerThresholds['retryBudget'] = hasMaxRetries
    ? null
    : DEFAULT_CIRCUIT_BREAKERS.retryBudget;
  const b = t.message('retry_budget');
  if (b !== null) {
    let budgetPercent = DEFAULT_BUDGET_PERCENT;
    // budget_percent is an envoy.type.v3.Percent: {value: double in [0, 100]}.
    const p = b.message('budget_percent');
    if (p !== null) {
      const v = p.take('value');
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100)
        p.issue('value', `expected a percentage 0-100, got ${describe(v)}`);
      else budgetPercent = v;
    }
    const minRetryConcurrency = b.uint32('min_retry_concurrency', DEFAULT_MIN_RETRY_CONCURRENCY);
    retryBudget = { budgetPercent, minRetryConcurrency };
  }
  return { maxConnections, maxPendingRequests, maxRequests, maxRetries, retryBudget };
}
