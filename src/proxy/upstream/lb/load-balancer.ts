// The load-balancer contract every policy implements (round robin, least request, random,
// ring hash, maglev). A balancer works over one host list (one priority level, or one
// locality of it: cluster-load-balancer.ts chooses the level), owns its per-host
// bookkeeping, reads `host.healthy` at pick time (so health flips need no notification)
// and is told when the host list or any weight changes.

import type { Host } from '../host.js';

/** What a request tells the balancer. The router's stream implements it (no allocation). */
export interface LoadBalancerContext {
  /** The 64-bit hash of the route's hash_policy, or null: hashing balancers then pick at random. */
  readonly hashKey: bigint | null;
}

export interface LoadBalancer {
  /**
   * A healthy host (any host, for a balancer made with `ignoreHealth`: the panic mode), or
   * null when there is none (the router answers 503 with flag UH). Allocation-free for
   * the non-hashing policies.
   */
  chooseHost(context?: LoadBalancerContext | null): Host | null;
  /** The host list (or a host's weight) changed; the array is not mutated afterwards. */
  hostsChanged(hosts: readonly Host[]): void;
}

export interface LoadBalancerOptions {
  /** Uniform in [0, 1): the proxy's injected randomness. */
  readonly random: () => number;
  /** Panic mode (healthy_panic_threshold): every host is a candidate, healthy or not. */
  readonly ignoreHealth?: boolean;
}

export type LoadBalancerFactory = (hosts: readonly Host[], options: LoadBalancerOptions) => LoadBalancer;

/** Every host has the same weight (the balancers' fast, unweighted path). */
export function equalWeights(hosts: readonly Host[]): boolean {
  for (let i = 1; i < hosts.length; i++) if (hosts[i].weight !== hosts[0].weight) return false;
  return true;
}
