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
  readonly upstream_rq_total: Counter;
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
  /** Bumps upstream_rq_<N>xx and upstream_rq_<code>. */
  recordResponse(code: number): void;
}

class ClusterStatsImpl implements ClusterStats {
  readonly upstream_cx_total: Counter;
  readonly upstream_cx_active: Gauge;
  readonly upstream_cx_connect_fail: Counter;
  readonly upstream_cx_connect_timeout: Counter;
  readonly upstream_cx_destroy: Counter;
  readonly upstream_cx_rx_bytes_total: Counter;
  readonly upstream_cx_tx_bytes_total: Counter;
  readonly upstream_cx_none_healthy: Counter;
  readonly upstream_rq_total: Counter;
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
  /** Index = status class (1..5); 0 unused. */
  private readonly byClass: (Counter | null)[];
  /** Index = status code (100..599), filled lazily. */
  private readonly byCode: (Counter | undefined)[] = new Array(600);

  constructor(
    private readonly store: StatsStore,
    private readonly prefix: string,
  ) {
    const c = (n: string) => store.counter(prefix + n);
    const g = (n: string) => store.gauge(prefix + n);
    this.upstream_cx_total = c('upstream_cx_total');
    this.upstream_cx_active = g('upstream_cx_active');
    this.upstream_cx_connect_fail = c('upstream_cx_connect_fail');
    this.upstream_cx_connect_timeout = c('upstream_cx_connect_timeout');
    this.upstream_cx_destroy = c('upstream_cx_destroy');
    this.upstream_cx_rx_bytes_total = c('upstream_cx_rx_bytes_total');
    this.upstream_cx_tx_bytes_total = c('upstream_cx_tx_bytes_total');
    this.upstream_cx_none_healthy = c('upstream_cx_none_healthy');
    this.upstream_rq_total = c('upstream_rq_total');
    this.upstream_rq_active = g('upstream_rq_active');
    this.upstream_rq_timeout = c('upstream_rq_timeout');
    this.upstream_rq_2xx = c('upstream_rq_2xx');
    this.upstream_rq_3xx = c('upstream_rq_3xx');
    this.upstream_rq_4xx = c('upstream_rq_4xx');
    this.upstream_rq_5xx = c('upstream_rq_5xx');
    this.membership_total = g('membership_total');
    this.membership_healthy = g('membership_healthy');
    this.update_attempt = c('update_attempt');
    this.update_success = c('update_success');
    this.update_failure = c('update_failure');
    // 1xx responses have no class counter in Envoy's cluster stats.
    this.byClass = [
      null,
      null,
      this.upstream_rq_2xx,
      this.upstream_rq_3xx,
      this.upstream_rq_4xx,
      this.upstream_rq_5xx,
    ];
  }

  recordResponse(code: number): void {
    if (code < 100 || code > 599) return;
    const cls = this.byClass[(code / 100) | 0];
    if (cls !== null) cls.value++;
    let perCode = this.byCode[code];
    if (perCode === undefined) {
      perCode = this.store.counter(`${this.prefix}upstream_rq_${code}`);
      this.byCode[code] = perCode;
    }
    perCode.value++;
  }
}

export function createClusterStats(store: StatsStore, clusterName: string): ClusterStats {
  return new ClusterStatsImpl(store, `cluster.${clusterName}.`);
}
