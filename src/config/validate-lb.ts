// Validation of a Cluster's load-balancer fields (envoy.config.cluster.v3.Cluster):
// `round_robin_lb_config`, `least_request_lb_config` (both: slow_start_config), `ring_hash_lb_config`, `maglev_lb_config`, `common_lb_config`
// (healthy_panic_threshold, locality_weighted_lb_config, zone_aware_lb_config), and the
// ClusterLoadAssignment's `policy.overprovisioning_factor`.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto

import { describe, type FieldReader } from './fields.js';
import type { ClusterLbConfig, LbPolicy } from './model.js';

const MAX_RING_SIZE = 8_388_608;
export const MAX_MAGLEV_TABLE_SIZE = 5_000_011;

/** The Cluster's lb settings, or null when none of the fields is given (Envoy's defaults apply). */
export function readLbConfig(r: FieldReader, policy: LbPolicy): ClusterLbConfig | null {
  const given = [
    'round_robin_lb_config',
    'least_request_lb_config',
    'ring_hash_lb_config',
    'maglev_lb_config',
    'common_lb_config',
  ].some((f) => r.has(f));
  if (!given) return null;
  const config = {
    leastRequest: { choiceCount: 2, activeRequestBias: 1 },
    ringHash: { minimumRingSize: 1024, maximumRingSize: MAX_RING_SIZE },
    maglevTableSize: 65537,
    healthyPanicThresholdPercent: 50,
    localityWeighted: false,
    slowStart: null as ClusterLbConfig['slowStart'],
    zoneAware: null as ClusterLbConfig['zoneAware'],
  };
  const forPolicy = (field: string, wanted: LbPolicy): FieldReader | null => {
    if (r.has(field) && policy !== wanted)
      r.issue(field, `applies only to lb_policy ${wanted}, not ${policy}`);
    return r.message(field);
  };

  const rr = forPolicy('round_robin_lb_config', 'ROUND_ROBIN');
  if (rr !== null) config.slowStart = readSlowStart(rr);

  const lr = forPolicy('least_request_lb_config', 'LEAST_REQUEST');
  if (lr !== null) {
    config.slowStart = readSlowStart(lr);
    config.leastRequest.choiceCount = lr.uint32('choice_count', 2, 2);
    const bias = lr.message('active_request_bias');
    if (bias !== null) {
      // A RuntimeDouble: Weft has no runtime, so default_value is the value (as in Envoy when
      // the runtime key is unset); runtime_key is required by the proto and accepted.
      bias.requiredString('runtime_key');
      const v = bias.take('default_value');
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        bias.issue('default_value', `expected a number >= 0, got ${describe(v)}`);
      else config.leastRequest.activeRequestBias = v;
    }
  }

  const ring = forPolicy('ring_hash_lb_config', 'RING_HASH');
  if (ring !== null) {
    const min = ring.uint32('minimum_ring_size', 1024, 1, MAX_RING_SIZE);
    const max = ring.uint32('maximum_ring_size', MAX_RING_SIZE, 1, MAX_RING_SIZE);
    if (min > max) ring.issue('minimum_ring_size', `must not exceed maximum_ring_size (${min} > ${max})`);
    config.ringHash = { minimumRingSize: min, maximumRingSize: max };
    ring.enumeration('hash_function', 'XX_HASH', {
      known: ['XX_HASH', 'MURMUR_HASH_2'],
      supported: ['XX_HASH'],
    });
  }

  const maglev = forPolicy('maglev_lb_config', 'MAGLEV');
  if (maglev !== null) {
    const size = maglev.uint32('table_size', 65537, 2, MAX_MAGLEV_TABLE_SIZE);
    if (!isPrime(size)) maglev.issue('table_size', `must be a prime number, got ${size}`);
    config.maglevTableSize = size;
  }

  const common = r.message('common_lb_config');
  if (common !== null) {
    const panic = readPercent(common, 'healthy_panic_threshold');
    if (panic !== null) config.healthyPanicThresholdPercent = panic;
    const which = common.oneOf(
      ['zone_aware_lb_config', 'locality_weighted_lb_config'],
      'zone_aware_lb_config, locality_weighted_lb_config',
    );
    if (which !== null && (policy === 'RING_HASH' || policy === 'MAGLEV')) {
      common.issue(which, `is not supported with lb_policy ${policy} in Weft`);
    }
    if (which === 'locality_weighted_lb_config') {
      common.message(which);
      config.localityWeighted = true;
    } else if (which === 'zone_aware_lb_config') {
      const z = common.message(which);
      if (z !== null) {
        const routing = readPercent(z, 'routing_enabled');
        const minClusterSize = z.uint32('min_cluster_size', 6);
        if (z.boolean('fail_traffic_on_panic', false))
          z.issue('fail_traffic_on_panic', 'is not supported by Weft (only false)');
        config.zoneAware = { routingEnabledPercent: routing ?? 100, minClusterSize };
      }
    }
  }
  return config;
}

/** `slow_start_config` (envoy.config.cluster.v3.Cluster.SlowStartConfig), or null when absent. */
function readSlowStart(r: FieldReader): ClusterLbConfig['slowStart'] {
  const s = r.message('slow_start_config');
  if (s === null) return null;
  if (!s.has('slow_start_window')) s.issue('slow_start_window', 'is required');
  const windowMs = s.duration('slow_start_window', 0) ?? 0;
  if (s.has('slow_start_window') && windowMs <= 0) s.issue('slow_start_window', 'must be greater than 0s');
  let aggression = 1;
  const a = s.message('aggression');
  if (a !== null) {
    a.requiredString('runtime_key');
    const v = a.take('default_value');
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      a.issue('default_value', `expected a number > 0, got ${describe(v)}`);
    else aggression = v;
  }
  const minWeightPercent = readPercent(s, 'min_weight_percent') ?? 10;
  return { windowMs, aggression, minWeightPercent };
}

/** `load_assignment.policy.overprovisioning_factor` (percent, default 140), or null when absent. */
export function readOverprovisioningFactor(la: FieldReader): number | null {
  const policy = la.message('policy');
  if (policy === null) return null;
  return policy.optionalUint32('overprovisioning_factor', 1);
}

/** An `envoy.type.v3.Percent` ({value: 0-100}), or null when absent or invalid. */
function readPercent(r: FieldReader, name: string): number | null {
  const p = r.message(name);
  if (p === null) return null;
  const v = p.take('value');
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
    p.issue('value', `expected a percentage 0-100, got ${describe(v)}`);
    return null;
  }
  return v;
}

export function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
