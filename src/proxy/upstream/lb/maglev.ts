// MAGLEV: consistent hashing with a lookup table (Eisenbud et al., "Maglev: A Fast and
// Reliable Software Network Load Balancer", NSDI 2016, §3.4), as Envoy's maglev balancer
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers#maglev).
//
// The table has a prime number M of slots (table_size, default 65537). Each healthy host,
// taken in address order, has a permutation of the slots: offset = xxHash64(ip:port) mod M,
// skip = xxHash64(ip:port, seed 1) mod (M − 1) + 1, j-th slot = (offset + j × skip) mod M.
// Hosts take turns claiming their next free slot until the table is full; a host of
// weight w claims a turn in proportion to w / max weight (Envoy's weighted maglev). A
// request's hash picks slot hash mod M. Adding or removing a host moves few keys, a bit
// more than the minimum (the paper's figure 12). No hash key: a random slot.

import type { Host } from '../host.js';
import { HealthSnapshot } from './health-snapshot.js';
import type { LoadBalancer, LoadBalancerContext } from './load-balancer.js';
import { xxHash64 } from './xxhash64.js';

export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;
/** Envoy's upper bound for `maglev_lb_config.table_size`. */
export const MAX_MAGLEV_TABLE_SIZE = 5_000_011;

class MaglevLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  private readonly health: HealthSnapshot;
  private table: Host[] = [];
  private readonly bigSize: bigint;

  constructor(
    hosts: readonly Host[],
    private readonly tableSize: number,
    private readonly random: () => number,
    ignoreHealth: boolean,
  ) {
    this.bigSize = BigInt(tableSize);
    this.health = new HealthSnapshot(ignoreHealth);
    this.hostsChanged(hosts);
  }

  hostsChanged(hosts: readonly Host[]): void {
    this.hosts = hosts;
    this.health.reset(hosts.length);
  }

  chooseHost(context?: LoadBalancerContext | null): Host | null {
    if (this.health.changed(this.hosts)) this.build();
    const table = this.table;
    if (table.length === 0) return null;
    const key = context?.hashKey ?? null;
    if (key === null) return table[Math.min(table.length - 1, Math.floor(this.random() * table.length))];
    return table[Number(key % this.bigSize)];
  }

  private build(): void {
    const m = this.tableSize;
    const entries: {
      host: Host;
      name: string;
      offset: number;
      skip: number;
      weight: number;
      next: number;
      count: number;
    }[] = [];
    let maxWeight = 0;
    for (let i = 0; i < this.hosts.length; i++) {
      if (!this.health.isUsable(i)) continue;
      const host = this.hosts[i];
      const name = host.addressString;
      entries.push({
        host,
        name,
        offset: Number(xxHash64(name) % this.bigSize),
        skip: Number(xxHash64(name, 1n) % BigInt(m - 1)) + 1,
        weight: host.weight,
        next: 0,
        count: 0,
      });
      maxWeight = Math.max(maxWeight, host.weight);
    }
    if (entries.length === 0) {
      this.table = [];
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const table = new Array<Host | null>(m).fill(null);
    let filled = 0;
    for (let iteration = 1; filled < m; iteration++) {
      for (const e of entries) {
        // A host of normalized weight w claims a slot on a turn when it has claimed fewer than iteration × w.
        if (iteration * (e.weight / maxWeight) < e.count) continue;
        e.count++;
        let slot = (e.offset + e.skip * e.next) % m;
        while (table[slot] !== null) {
          e.next++;
          slot = (e.offset + e.skip * e.next) % m;
        }
        table[slot] = e.host;
        e.next++;
        if (++filled === m) break;
      }
    }
    this.table = table as Host[];
  }
}

export function createMaglevLoadBalancer(
  hosts: readonly Host[],
  tableSize: number,
  random: () => number,
  ignoreHealth = false,
): LoadBalancer {
  return new MaglevLoadBalancer(hosts, tableSize, random, ignoreHealth);
}
