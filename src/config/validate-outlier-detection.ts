// Validation of a cluster's `outlier_detection` (envoy.config.cluster.v3.OutlierDetection),
// with Envoy's defaults for every field.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/outlier_detection.proto
//
// Refused: `detect_degraded_hosts` (Weft has no degraded state) and `monitors` (extension
// monitors). Percentages are checked to be 0-100.

import type { FieldReader } from './fields.js';
import type { OutlierDetection } from './model.js';

/** Reads the cluster's `outlier_detection` message (present). */
export function readOutlierDetection(cluster: FieldReader): OutlierDetection {
  const o = cluster.message('outlier_detection')!;
  const pct = (name: string, def: number) => o.uint32(name, def, 0, 100);
  const positive = (name: string, def: number) => {
    const ms = o.duration(name, def) ?? def;
    if (ms <= 0) {
      o.issue(name, 'must be greater than 0s');
      return def;
    }
    return ms;
  };
  const baseEjectionTimeMs = positive('base_ejection_time', 30_000);
  // Envoy: max_ejection_time defaults to 300 s, or to base_ejection_time when that is larger.
  const maxEjectionTimeMs = positive('max_ejection_time', Math.max(300_000, baseEjectionTimeMs));
  if (maxEjectionTimeMs < baseEjectionTimeMs)
    o.issue('max_ejection_time', 'must not be smaller than base_ejection_time');
  for (const name of ['detect_degraded_hosts', 'monitors']) {
    if (o.has(name)) {
      o.issue(name, 'is not supported by Weft; remove it');
      o.ignore(name);
    }
  }
  return {
    consecutive5xx: o.uint32('consecutive_5xx', 5),
    consecutiveGatewayFailure: o.uint32('consecutive_gateway_failure', 5),
    consecutiveLocalOriginFailure: o.uint32('consecutive_local_origin_failure', 5),
    intervalMs: positive('interval', 10_000),
    baseEjectionTimeMs,
    maxEjectionTimeMs,
    maxEjectionTimeJitterMs: o.duration('max_ejection_time_jitter', 0) ?? 0,
    maxEjectionPercent: pct('max_ejection_percent', 10),
    enforcingConsecutive5xx: pct('enforcing_consecutive_5xx', 100),
    enforcingConsecutiveGatewayFailure: pct('enforcing_consecutive_gateway_failure', 0),
    enforcingConsecutiveLocalOriginFailure: pct('enforcing_consecutive_local_origin_failure', 100),
    enforcingSuccessRate: pct('enforcing_success_rate', 100),
    enforcingLocalOriginSuccessRate: pct('enforcing_local_origin_success_rate', 100),
    enforcingFailurePercentage: pct('enforcing_failure_percentage', 0),
    enforcingFailurePercentageLocalOrigin: pct('enforcing_failure_percentage_local_origin', 0),
    successRateMinimumHosts: o.uint32('success_rate_minimum_hosts', 5),
    successRateRequestVolume: o.uint32('success_rate_request_volume', 100),
    successRateStdevFactor: o.uint32('success_rate_stdev_factor', 1900) / 1000,
    failurePercentageThreshold: pct('failure_percentage_threshold', 85),
    failurePercentageMinimumHosts: o.uint32('failure_percentage_minimum_hosts', 5),
    failurePercentageRequestVolume: o.uint32('failure_percentage_request_volume', 50),
    splitExternalLocalOriginErrors: o.boolean('split_external_local_origin_errors', false),
    successfulActiveHealthCheckUnejectHost: o.boolean('successful_active_health_check_uneject_host', true),
    alwaysEjectOneHost: o.boolean('always_eject_one_host', false),
  };
}

/** Envoy's defaults (an empty `outlier_detection: {}`), for tests and fixtures. */
export const DEFAULT_OUTLIER_DETECTION: OutlierDetection = {
  consecutive5xx: 5,
  consecutiveGatewayFailure: 5,
  consecutiveLocalOriginFailure: 5,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionTimeJitterMs: 0,
  maxEjectionPercent: 10,
  enforcingConsecutive5xx: 100,
  enforcingConsecutiveGatewayFailure: 0,
  enforcingConsecutiveLocalOriginFailure: 100,
  enforcingSuccessRate: 100,
  enforcingLocalOriginSuccessRate: 100,
  enforcingFailurePercentage: 0,
  enforcingFailurePercentageLocalOrigin: 0,
  successRateMinimumHosts: 5,
  successRateRequestVolume: 100,
  successRateStdevFactor: 1.9,
  failurePercentageThreshold: 85,
  failurePercentageMinimumHosts: 5,
  failurePercentageRequestVolume: 50,
  splitExternalLocalOriginErrors: false,
  successfulActiveHealthCheckUnejectHost: true,
  alwaysEjectOneHost: false,
};
