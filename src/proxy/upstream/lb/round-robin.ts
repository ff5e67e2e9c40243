// ROUND_ROBIN: smooth weighted round robin, skipping unhealthy hosts (outside panic mode).
//
// Each pick adds every healthy host's weight to its running score, picks the highest
// score, and subtracts the total weight from the winner. Over any window of W = sum of
// weights picks each host is chosen exactly `weight` times, interleaved rather than in
// bursts (weights 5,1,1 give a a b a c a a). Deterministic; O(hosts) per pick with no
// allocation. When all weights are equal it degrades to a plain rotating index, started
// at a random offset so many proxies do not all begin on the first host (Envoy does the
// same: https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers#weighted-round-robin).

import type { Host } from '../host.js';
import { equalWeights, type LoadBalancer } from './load-balancer.js';
import type { SlowStart } from './slow-start.js';

class RoundRobinLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  /** Running scores, parallel to `hosts`. */
  private scores = new Float64Array(0);
  private uniform = true;
  private next = 0;

  constructor(
    hosts: readonly Host[],
    private readonly random: () => number,
    private readonly ignoreHealth: boolean,
    private readonly slowStart: SlowStart | null,
  ) {
    this.hostsChanged(hosts);
  }

  hostsChanged(hosts: readonly Host[]): void {
    this.hosts = hosts;
    this.scores = new Float64Array(hosts.length);
    this.uniform = equalWeights(hosts);
    this.next = hosts.length > 0 ? Math.floor(this.random() * hosts.length) % hosts.length : 0;
  }

  chooseHost(): Host | null {
    const hosts = this.hosts;
    const n = hosts.length;
    const ramp = this.slowStart?.active() ? this.slowStart : null;
    if (this.uniform && ramp === null) {
      let i = this.next;
      for (let tried = 0; tried < n; tried++) {
        const host = hosts[i];
        i = i + 1 === n ? 0 : i + 1;
        if (host.healthy || this.ignoreHealth) {
          this.next = i;
          return host;
        }
      }
      return null;
    }
    const scores = this.scores;
    let total = 0;
    let best = -1;
    for (let i = 0; i < n; i++) {
      const host = hosts[i];
      if (!host.healthy && !this.ignoreHealth) continue;
      const w = ramp === null ? host.weight : host.weight * ramp.factor(host);
      scores[i] += w;
      total += w;
      if (best < 0 || scores[i] > scores[best]) best = i;
    }
    if (best < 0) return null;
    scores[best] -= total;
    return hosts[best];
  }
}

export function createRoundRobinLoadBalancer(
  hosts: readonly Host[],
  random: () => number,
  ignoreHealth = false,
  slowStart: SlowStart | null = null,
): LoadBalancer {
  return new RoundRobinLoadBalancer(hosts, random, ignoreHealth, slowStart);
}
