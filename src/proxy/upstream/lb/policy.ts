// Builds the balancer of a cluster's lb_policy over one host list (a priority level or one
// locality of it), with the policy's settings from the validated Cluster.

import type { ClusterLbConfig, LbPolicy } from '../../../config/model.js';
import type { Host } from '../host.js';
import { createLeastRequestLoadBalancer, DEFAULT_LEAST_REQUEST } from './least-request.js';
import type { LoadBalancer } from './load-balancer.js';
import { createMaglevLoadBalancer, DEFAULT_MAGLEV_TABLE_SIZE } from './maglev.js';
import { createRandomLoadBalancer } from './random.js';
import { createRingHashLoadBalancer, DEFAULT_RING_HASH } from './ring-hash.js';
import { createRoundRobinLoadBalancer } from './round-robin.js';
import type { SlowStart } from './slow-start.js';

/** Envoy's defaults for every lb setting (a cluster config without any of them). */
export const DEFAULT_LB_CONFIG: ClusterLbConfig = {
  leastRequest: DEFAULT_LEAST_REQUEST,
  ringHash: DEFAULT_RING_HASH,
  maglevTableSize: DEFAULT_MAGLEV_TABLE_SIZE,
  healthyPanicThresholdPercent: 50,
  localityWeighted: false,
  slowStart: null,
  zoneAware: null,
};

/** True for the policies that use the request's hash key. */
export function isHashingPolicy(policy: LbPolicy): boolean {
  return policy === 'RING_HASH' || policy === 'MAGLEV';
}

export function createPolicyLoadBalancer(
  policy: LbPolicy,
  config: ClusterLbConfig,
  hosts: readonly Host[],
  random: () => number,
  ignoreHealth: boolean,
  slowStart: SlowStart | null = null,
): LoadBalancer {
  switch (policy) {
    case 'ROUND_ROBIN':
      return createRoundRobinLoadBalancer(hosts, random, ignoreHealth, slowStart);
    case 'LEAST_REQUEST':
      return createLeastRequestLoadBalancer(hosts, config.leastRequest, random, ignoreHealth, slowStart);
    case 'RANDOM':
      return createRandomLoadBalancer(hosts, random, ignoreHealth);
    case 'RING_HASH':
      return createRingHashLoadBalancer(hosts, config.ringHash, random, ignoreHealth);
    case 'MAGLEV':
      return createMaglevLoadBalancer(hosts, config.maglevTableSize, random, ignoreHealth);
  }
}
