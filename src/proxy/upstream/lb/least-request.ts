// LEAST_REQUEST (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers#weighted-least-request).
//
// Equal weights: power of `choice_count` choices (default 2) — draw that many healthy hosts
// at random (with replacement) and take the one with the fewest active requests
// (`host.stats.rqActive`); a tie keeps the first drawn.
// Different weights: every host's weight is divided by (active + 1)^active_request_bias
// at pick time, and a smooth weighted round robin runs over those effective weights, so a
// busy host is picked less in proportion to its load (bias 0 = plain weighted RR; bias 1,
// the default, = weight / (active + 1)). O(hosts) per pick, no allocation.

import type { Host } from '../host.js';
import { equalWeights, type LoadBalancer, type LoadBalancerContext } from './load-balancer.js';
import type { SlowStart } from './slow-start.js';

export interface LeastRequestSettings {
  /** `least_request_lb_config.choice_count`, default 2 (at least 2). */
  readonly choiceCount: number;
  /** `least_request_lb_config.active_request_bias.default_value`, default 1.0. */
  readonly activeRequestBias: number;
}

export const DEFAULT_LEAST_REQUEST: LeastRequestSettings = { choiceCount: 2, activeRequestBias: 1 };

class LeastRequestLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  private scores = new Float64Array(0);
  private uniform = true;

  constructor(
    hosts: readonly Host[],
    private readonly settings: LeastRequestSettings,
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
  }

  chooseHost(_context?: LoadBalancerContext | null): Host | null {
    const ramp = this.slowStart?.active() ? this.slowStart : null;
    return this.uniform && ramp === null ? this.choose() : this.weighted(ramp);
  }

  /** Power of N choices among the usable hosts. */
  private choose(): Host | null {
    const hosts = this.hosts;
    const ignore = this.ignoreHealth;
    let usable = 0;
    for (let i = 0; i < hosts.length; i++) if (ignore || hosts[i].healthy) usable++;
    if (usable === 0) return null;
    let best: Host | null = null;
    for (let c = 0; c < this.settings.choiceCount; c++) {
      let k = Math.floor(this.random() * usable);
      if (k >= usable) k = usable - 1;
      for (let i = 0; i < hosts.length; i++) {
        const h = hosts[i];
        if (!ignore && !h.healthy) continue;
        if (k-- === 0) {
          if (best === null || h.stats.rqActive < best.stats.rqActive) best = h;
          break;
        }
      }
    }
    return best;
  }

  /** Smooth weighted round robin over weight / (active + 1)^bias. */
  private weighted(ramp: SlowStart | null): Host | null {
    const hosts = this.hosts;
    const scores = this.scores;
    const bias = this.settings.activeRequestBias;
    let total = 0;
    let best = -1;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i];
      if (!this.ignoreHealth && !h.healthy) continue;
      const active = h.stats.rqActive + 1;
      const weight = ramp === null ? h.weight : h.weight * ramp.factor(h);
      const w = bias === 0 ? weight : bias === 1 ? weight / active : weight / active ** bias;
      scores[i] += w;
      total += w;
      if (best < 0 || scores[i] > scores[best]) best = i;
    }
    if (best < 0) return null;
    scores[best] -= total;
    return hosts[best];
  }
}

export function createLeastRequestLoadBalancer(
  hosts: readonly Host[],
  settings: LeastRequestSettings,
  random: () => number,
  ignoreHealth = false,
  slowStart: SlowStart | null = null,
): LoadBalancer {
  return new LeastRequestLoadBalancer(hosts, settings, random, ignoreHealth, slowStart);
}
