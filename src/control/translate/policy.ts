// DestinationPolicy (weft.dev/v1alpha1) to Envoy Cluster fields, 1:1 (the table is in
// docs/translation.md), and its hash inputs to RouteAction.hash_policy (Envoy takes
// the hash for RING_HASH / MAGLEV from the route, not from the cluster).

import type { DestinationPolicySpec } from '../kinds/destination-policy.js';
import { parseGatewayDuration, toEnvoyDuration } from '../kinds/gateway-duration.js';
import type { EnvoyJson } from './xds-resources.js';

export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const HTTP_PROTOCOL_OPTIONS_TYPE = `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS_KEY}`;

function duration(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ms = parseGatewayDuration(text);
  return ms === null ? undefined : toEnvoyDuration(ms);
}

/** Copies the defined entries of `fields` onto `out` (proto3 JSON omits unset fields). */
function put(out: EnvoyJson, fields: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
}

/** Envoy Cluster fields for a policy (none of name/type/discovery). */
export function clusterPolicyFields(spec: DestinationPolicySpec | undefined, http2: boolean): EnvoyJson {
  const out: EnvoyJson = {};
  const lb = spec?.loadBalancer;
  out.lb_policy = lb?.policy ?? 'ROUND_ROBIN';
  if (lb?.ringHash !== undefined) {
    put((out.ring_hash_lb_config = {}) as EnvoyJson, {
      minimum_ring_size: lb.ringHash.minimumRingSize,
      maximum_ring_size: lb.ringHash.maximumRingSize,
    });
  }
  if (lb?.leastRequest?.choiceCount !== undefined)
    out.least_request_lb_config = { choice_count: lb.leastRequest.choiceCount };
  if (lb?.maglev?.tableSize !== undefined) out.maglev_lb_config = { table_size: lb.maglev.tableSize };
  if (lb?.slowStart !== undefined) {
    // slow_start_config sits in the policy's own config message.
    const key = out.lb_policy === 'LEAST_REQUEST' ? 'least_request_lb_config' : 'round_robin_lb_config';
    const config = (out[key] ?? {}) as EnvoyJson;
    config.slow_start_config = slowStartConfig(lb.slowStart);
    out[key] = config;
  }
  const commonLb = commonLbConfig(lb);
  if (commonLb !== undefined) out.common_lb_config = commonLb;
  put(out, {
    connect_timeout: duration(spec?.timeouts?.connect) ?? '5s',
    per_connection_buffer_limit_bytes: spec?.connectionPool?.perConnectionBufferLimitBytes,
  });
  const cb = spec?.circuitBreakers;
  const budget = spec?.retryBudget;
  if (cb !== undefined || budget !== undefined) {
    const threshold: EnvoyJson = { priority: 'DEFAULT' };
    put(threshold, {
      max_connections: cb?.maxConnections,
      max_pending_requests: cb?.maxPendingRequests,
      max_requests: cb?.maxRequests,
      max_retries: cb?.maxRetries,
    });
    if (budget !== undefined) {
      threshold.retry_budget = { budget_percent: { value: budget.budgetPercent } };
      put(threshold.retry_budget as EnvoyJson, { min_retry_concurrency: budget.minRetryConcurrency });
    }
    out.circuit_breakers = { thresholds: [threshold] };
  }
  const od = spec?.outlierDetection;
  if (od !== undefined) {
    const o: EnvoyJson = {};
    put(o, {
      consecutive_5xx: od.consecutive5xx,
      consecutive_gateway_failure: od.consecutiveGatewayFailure,
      consecutive_local_origin_failure: od.consecutiveLocalOriginFailure,
      interval: duration(od.interval),
      base_ejection_time: duration(od.baseEjectionTime),
      max_ejection_time: duration(od.maxEjectionTime),
      max_ejection_percent: od.maxEjectionPercent,
      split_external_local_origin_errors: od.splitExternalLocalOriginErrors,
      // Envoy enforces consecutive gateway failures and failure percentage 0% of the time by
      // default; a policy that names them means them to act.
      enforcing_consecutive_gateway_failure: od.consecutiveGatewayFailure === undefined ? undefined : 100,
      success_rate_minimum_hosts: od.successRate?.minimumHosts,
      success_rate_request_volume: od.successRate?.requestVolume,
      success_rate_stdev_factor:
        od.successRate?.stdevFactor === undefined ? undefined : Math.round(od.successRate.stdevFactor * 1000),
      enforcing_success_rate: od.successRate?.enforcingPercent,
      failure_percentage_threshold: od.failurePercentage?.thresholdPercent,
      failure_percentage_minimum_hosts: od.failurePercentage?.minimumHosts,
      failure_percentage_request_volume: od.failurePercentage?.requestVolume,
      enforcing_failure_percentage:
        od.failurePercentage === undefined ? undefined : (od.failurePercentage.enforcingPercent ?? 100),
    });
    out.outlier_detection = o;
  }
  if ((spec?.healthChecks ?? []).length > 0) {
    out.health_checks = spec!.healthChecks!.map((hc) => {
      const h: EnvoyJson = {
        timeout: duration(hc.timeout),
        interval: duration(hc.interval),
        unhealthy_threshold: hc.unhealthyThreshold ?? 3,
        healthy_threshold: hc.healthyThreshold ?? 1,
      };
      if (hc.intervalJitter !== undefined) h.interval_jitter = duration(hc.intervalJitter);
      if (hc.http !== undefined) {
        const http: EnvoyJson = { path: hc.http.path };
        put(http, { host: hc.http.host });
        if (hc.http.expectedStatuses !== undefined) http.expected_statuses = hc.http.expectedStatuses;
        h.http_health_check = http;
      } else if (hc.grpc !== undefined) {
        const grpc: EnvoyJson = {};
        put(grpc, { service_name: hc.grpc.serviceName, authority: hc.grpc.authority });
        h.grpc_health_check = grpc;
      } else h.tcp_health_check = {};
      return h;
    });
  }
  const common: EnvoyJson = {};
  put(common, {
    idle_timeout: duration(spec?.timeouts?.idle),
    max_requests_per_connection: spec?.connectionPool?.maxRequestsPerConnection,
  });
  if (http2 || Object.keys(common).length > 0) {
    const options: EnvoyJson = {
      '@type': HTTP_PROTOCOL_OPTIONS_TYPE,
      explicit_http_config: http2 ? { http2_protocol_options: {} } : { http_protocol_options: {} },
    };
    if (Object.keys(common).length > 0) options.common_http_protocol_options = common;
    out.typed_extension_protocol_options = { [HTTP_PROTOCOL_OPTIONS_KEY]: options };
  }
  return out;
}

type LoadBalancer = NonNullable<DestinationPolicySpec['loadBalancer']>;

function slowStartConfig(slow: NonNullable<LoadBalancer['slowStart']>): EnvoyJson {
  const out: EnvoyJson = { slow_start_window: duration(slow.window) };
  if (slow.aggression !== undefined)
    out.aggression = { default_value: slow.aggression, runtime_key: 'weft.lb.slow_start.aggression' };
  if (slow.minWeightPercent !== undefined) out.min_weight_percent = { value: slow.minWeightPercent };
  return out;
}

/** `common_lb_config`: the panic threshold and the locality mode, or undefined when neither is set. */
function commonLbConfig(lb: LoadBalancer | undefined): EnvoyJson | undefined {
  if (lb?.healthyPanicThreshold === undefined && lb?.locality === undefined) return undefined;
  const out: EnvoyJson = {};
  if (lb.healthyPanicThreshold !== undefined)
    out.healthy_panic_threshold = { value: lb.healthyPanicThreshold };
  const locality = lb.locality;
  if (locality?.mode === 'Weighted') out.locality_weighted_lb_config = {};
  else if (locality?.mode === 'ZoneAware') {
    const zone: EnvoyJson = {};
    if (locality.routingEnabledPercent !== undefined)
      zone.routing_enabled = { value: locality.routingEnabledPercent };
    if (locality.minClusterSize !== undefined) zone.min_cluster_size = locality.minClusterSize;
    out.zone_aware_lb_config = zone;
  }
  return out;
}

/** RouteAction.hash_policy entries for a policy with hash inputs, else undefined. */
export function hashPolicy(spec: DestinationPolicySpec | undefined): EnvoyJson[] | undefined {
  const inputs = spec?.loadBalancer?.hash ?? [];
  if (inputs.length === 0) return undefined;
  return inputs.map((h) => {
    const out: EnvoyJson = {};
    if (h.header !== undefined) out.header = { header_name: h.header.name.toLowerCase() };
    else if (h.cookie !== undefined) {
      const c: EnvoyJson = { name: h.cookie.name };
      put(c, { ttl: duration(h.cookie.ttl), path: h.cookie.path });
      out.cookie = c;
    } else out.connection_properties = { source_ip: true };
    if (h.terminal === true) out.terminal = true;
    return out;
  });
}
