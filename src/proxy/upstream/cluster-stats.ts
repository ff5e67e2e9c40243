// A cluster's Envoy-named stats (`cluster.<name>.*`), looked up once in the StatsStore so
// the request path only does `counter.value++`. Field names are the Envoy stat names. Per-status-code counters
// (`upstream_rq_<code>`) are created on first use and cached in a table indexed by code.
//
// Names follow Envoy's cluster statistics:
// https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats

import type { Counter, Gauge, StatsStore } from '../stats/store.js';

export interface ClusterStats {
  readonly upstream_cx_total: Counter;
  readonly upstream_cx_active: Gauge;
  readonly upstream_cx_connect_fail: Counter;
  readonly upstream_cx_connect_timeout: Counter;
  readonly upstream_cx_destroy: Counter;
  readonly upstream_cx_rx_bytes_total: Counter;
  readonly upstream_cx_tx_bytes_total: Counter;
  readonly upstream_cx_none_healthy: Counter;
  /** A connection was needed but max_connections was reached (the request waits). */
  readonly upstream_cx_overflow: Counter;
  readonly upstream_rq_total: Counter;
  /** A request failed at once: max_pending_requests or max_requests reached (503 UO). */
  readonly upstream_rq_pending_overflow: Counter;
  readonly upstream_rq_retry: Counter;
  readonly upstream_rq_retry_success: Counter;
  /** A retry was not made: the retry budget / max_retries circuit breaker was full. */
  readonly upstream_rq_retry_overflow: Counter;
  /** A retry was wanted but num_retries were used up. */
  readonly upstream_rq_retry_limit_exceeded: Counter;
  readonly upstream_rq_per_try_timeout: Counter;
  /** An attempt got no response bytes for per_try_idle_timeout. */
  readonly upstream_rq_per_try_idle_timeout: Counter;
  /** Pooled connections retired by max_connection_duration. */
  readonly upstream_cx_max_duration_reached: Counter;
  /** Pooled connections retired by max_requests_per_connection. */
  readonly upstream_cx_max_requests: Counter;
  readonly upstream_rq_active: Gauge;
  readonly upstream_rq_timeout: Counter;
  readonly upstream_rq_2xx: Counter;
  readonly upstream_rq_3xx: Counter;
  readonly upstream_rq_4xx: Counter;
  readonly upstream_rq_5xx: Counter;
  readonly membership_total: Gauge;
  readonly membership_healthy: Gauge;
  readonly update_attempt: Counter;
  readonly update_success: Counter;
  readonly update_failure: Counter;
  /** Load balancing (src/proxy/upstream/lb/cluster-load-balancer.ts). */
  readonly lb_healthy_panic: Counter;
  readonly lb_zone_routing_all_directly: Counter;
  readonly lb_zone_routing_sampled: Counter;
  readonly lb_zone_routing_cross_zone: Counter;
  readonly lb_zone_cluster_too_small: Counter;
  /** Bumps upstream_rq_<N>xx and upstream_rq_<code>. */
  recordResponse(code: number): void;
}

export function createClusterStats(store: StatsStore, clusterName: string): ClusterStats {
  const prefix = `cluster.${clusterName}.`;
  const c = (n: string) => store.counter(prefix + n);
  const g = (n: string) => store.gauge(prefix + n);
  const rq2xx = c('upstream_rq_2xx');
  const rq3xx = c('upstream_rq_3xx');
  const rq4xx = c('upstream_rq_4xx');
  const rq5xx = c('upstream_rq_5xx');
  // Index = status class; 1xx responses have no class counter in Envoy's cluster stats.
  const byClass: readonly (Counter | null)[] = [null, null, rq2xx, rq3xx, rq4xx, rq5xx];
  // Index = status code (100..599), filled on first use.
  const byCode: (Counter | undefined)[] = new Array(600);
  return {
    upstream_cx_total: c('upstream_cx_total'),
    upstream_cx_active: g('upstream_cx_active'),
    upstream_cx_connect_fail: c('upstream_cx_connect_fail'),
    upstream_cx_connect_timeout: c('upstream_cx_connect_timeout'),
    upstream_cx_destroy: c('upstream_cx_destroy'),
    upstream_cx_rx_bytes_total: c('upstream_cx_rx_bytes_total'),
    upstream_cx_tx_bytes_total: c('upstream_cx_tx_bytes_total'),
    upstream_cx_none_healthy: c('upstream_cx_none_healthy'),
    upstream_cx_overflow: c('upstream_cx_overflow'),
    upstream_rq_total: c('upstream_rq_total'),
    upstream_rq_pending_overflow: c('upstream_rq_pending_overflow'),
    upstream_rq_retry: c('upstream_rq_retry'),
    upstream_rq_retry_success: c('upstream_rq_retry_success'),
    upstream_rq_retry_overflow: c('upstream_rq_retry_overflow'),
    upstream_rq_retry_limit_exceeded: c('upstream_rq_retry_limit_exceeded'),
    upstream_rq_per_try_timeout: c('upstream_rq_per_try_timeout'),
    upstream_rq_per_try_idle_timeout: c('upstream_rq_per_try_idle_timeout'),
    upstream_cx_max_duration_reached: c('upstream_cx_max_duration_reached'),
    upstream_cx_max_requests: c('upstream_cx_max_requests'),
    upstream_rq_active: g('upstream_rq_active'),
    upstream_rq_timeout: c('upstream_rq_timeout'),
    upstream_rq_2xx: rq2xx,
    upstream_rq_3xx: rq3xx,
    upstream_rq_4xx: rq4xx,
    upstream_rq_5xx: rq5xx,
    membership_total: g('membership_total'),
    membership_healthy: g('membership_healthy'),
    update_attempt: c('update_attempt'),
    update_success: c('update_success'),
    update_failure: c('update_failure'),
    lb_healthy_panic: c('lb_healthy_panic'),
    lb_zone_routing_all_directly: c('lb_zone_routing_all_directly'),
    lb_zone_routing_sampled: c('lb_zone_routing_sampled'),
    lb_zone_routing_cross_zone: c('lb_zone_routing_cross_zone'),
    lb_zone_cluster_too_small: c('lb_zone_cluster_too_small'),
    recordResponse(code: number): void {
      if (code < 100 || code > 599) return;
      const cls = byClass[(code / 100) | 0];
      if (cls !== null) cls.value++;
      let perCode = byCode[code];
      if (perCode === undefined) {
        perCode = store.counter(`${prefix}upstream_rq_${code}`);
        byCode[code] = perCode;
      }
      perCode.value++;
    },
  };
}
