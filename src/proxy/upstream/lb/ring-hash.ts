// RING_HASH: Ketama-style consistent hashing, as Envoy's ring hash balancer
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers#ring-hash).
//
// Every healthy host gets a number of points on a 64-bit ring proportional to its weight:
// with normalized weights w_i (summing to 1) the ring has
// scale = min(ceil(min_i w_i × minimum_ring_size) / min_i w_i, maximum_ring_size) points,
// host i gets its share of them, and its k-th point is xxHash64("<ip:port>_<k>"). A
// request's hash picks the first point at or after it (wrapping to the first point).
// Adding or removing a host only moves the keys of the arcs it gains or loses.
// No hash key: a random point, as Envoy picks a random hash.

import type { Host } from '../host.js';
import { HealthSnapshot } from './health-snapshot.js';
import type { LoadBalancer, LoadBalancerContext } from './load-balancer.js';
import { xxHash64 } from './xxhash64.js';

export interface RingHashSettings {
  /** `ring_hash_lb_config.minimum_ring_size`, default 1024. */
  readonly minimumRingSize: number;
  /** `ring_hash_lb_config.maximum_ring_size`, default 8M. */
  readonly maximumRingSize: number;
}

export const DEFAULT_RING_HASH: RingHashSettings = { minimumRingSize: 1024, maximumRingSize: 8_388_608 };

class RingHashLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  private readonly health: HealthSnapshot;
  /** Sorted point hashes, and the host of each point. */
  private ring = new BigUint64Array(0);
  private ringHosts: Host[] = [];

  constructor(
    hosts: readonly Host[],
    private readonly settings: RingHashSettings,
    private readonly random: () => number,
    ignoreHealth: boolean,
  ) {
    this.health = new HealthSnapshot(ignoreHealth);
    this.hostsChanged(hosts);
  }

  hostsChanged(hosts: readonly Host[]): void {
    this.hosts = hosts;
    this.health.reset(hosts.length);
  }

  /** The number of points on the ring (tests). */
  get size(): number {
    return this.ring.length;
  }

  chooseHost(context?: LoadBalancerContext | null): Host | null {
    if (this.health.changed(this.hosts)) this.build();
    const ring = this.ring;
    const n = ring.length;
    if (n === 0) return null;
    const key = context?.hashKey ?? null;
    if (key === null) return this.ringHosts[Math.min(n - 1, Math.floor(this.random() * n))];
    // The first point whose hash is >= key; past the last point, wrap to the first.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ring[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return this.ringHosts[lo === n ? 0 : lo];
  }

  private build(): void {
    const hosts = this.hosts;
    let total = 0;
    for (let i = 0; i < hosts.length; i++) if (this.health.isUsable(i)) total += hosts[i].weight;
    if (total === 0) {
      this.ring = new BigUint64Array(0);
      this.ringHosts = [];
      return;
    }
    let minWeight = 1;
    for (let i = 0; i < hosts.length; i++) {
      if (this.health.isUsable(i)) minWeight = Math.min(minWeight, hosts[i].weight / total);
    }
    const scale = Math.min(
      Math.ceil(minWeight * this.settings.minimumRingSize) / minWeight,
      this.settings.maximumRingSize,
    );
    const points: { hash: bigint; host: Host }[] = [];
    let current = 0;
    let target = 0;
    for (let i = 0; i < hosts.length; i++) {
      if (!this.health.isUsable(i)) continue;
      const host = hosts[i];
      target += (scale * host.weight) / total;
      const prefix = `${host.addressString}_`;
      for (let k = 0; current < target; k++, current++) {
        points.push({ hash: xxHash64(prefix + k), host });
      }
    }
    points.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    this.ring = BigUint64Array.from(points, (p) => p.hash);
    this.ringHosts = points.map((p) => p.host);
  }
}

export function createRingHashLoadBalancer(
  hosts: readonly Host[],
  settings: RingHashSettings,
  random: () => number,
  ignoreHealth = false,
): LoadBalancer {
  return new RingHashLoadBalancer(hosts, settings, random, ignoreHealth);
}
