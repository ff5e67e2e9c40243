// The load-balancer contract every policy implements (round robin now; least request,
// ring hash and maglev later). A balancer owns its per-host bookkeeping, reads
// `host.healthy` at pick time (so health flips need no notification) and is told when
// the host list or any weight changes.

import type { Host } from '../host.js';

export interface LoadBalancer {
  /** A healthy host, or null when there is none (the router answers 503 with flag UH). Allocation-free. */
  chooseHost(): Host | null;
  /** The cluster's host list (or a host's weight) changed; the array is not mutated afterwards. */
  hostsChanged(hosts: readonly Host[]): void;
}

export type LoadBalancerFactory = (hosts: readonly Host[]) => LoadBalancer;
