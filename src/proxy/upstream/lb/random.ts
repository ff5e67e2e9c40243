// RANDOM: a random healthy host. Weighted: a host is chosen with probability weight /
// total healthy weight (with equal weights, the uniform choice Envoy's random balancer
// makes). O(hosts) per pick, no allocation, no state between picks.

import type { Host } from '../host.js';
import type { LoadBalancer, LoadBalancerContext } from './load-balancer.js';

class RandomLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];

  constructor(
    hosts: readonly Host[],
    private readonly random: () => number,
    private readonly ignoreHealth: boolean,
  ) {
    this.hostsChanged(hosts);
  }

  hostsChanged(hosts: readonly Host[]): void {
    this.hosts = hosts;
  }

  chooseHost(_context?: LoadBalancerContext | null): Host | null {
    return pickWeightedRandom(this.hosts, this.random(), this.ignoreHealth);
  }
}

/** The host at `roll` (in [0, 1)) of the cumulative weights of the usable hosts, or null. */
export function pickWeightedRandom(hosts: readonly Host[], roll: number, ignoreHealth: boolean): Host | null {
  let total = 0;
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i];
    if (h.healthy || ignoreHealth) total += h.weight;
  }
  if (total === 0) return null;
  let target = roll * total;
  let last: Host | null = null;
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i];
    if (!h.healthy && !ignoreHealth) continue;
    last = h;
    target -= h.weight;
    if (target < 0) return h;
  }
  return last; // rounding at the very top of the range
}

export function createRandomLoadBalancer(
  hosts: readonly Host[],
  random: () => number,
  ignoreHealth = false,
): LoadBalancer {
  return new RandomLoadBalancer(hosts, random, ignoreHealth);
}
