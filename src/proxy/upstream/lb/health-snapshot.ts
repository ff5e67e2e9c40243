// Which hosts a table-building balancer (ring hash, maglev) built its table over. Those
// balancers, like Envoy's, place only healthy hosts in the table; since health is read
// at pick time (no notification), each pick compares the hosts' current health with the
// snapshot — O(hosts), no allocation — and the table is rebuilt only when it changed.

import type { Host } from '../host.js';

export class HealthSnapshot {
  private usable = new Uint8Array(0);
  private stale = true;

  constructor(private readonly ignoreHealth: boolean) {}

  /** Forgets the snapshot: the next `changed` reports a change. */
  reset(count: number): void {
    this.usable = new Uint8Array(count);
    this.stale = true;
  }

  /** True (and the snapshot updated) when any host's usability differs from the snapshot. */
  changed(hosts: readonly Host[]): boolean {
    const usable = this.usable;
    let changed = this.stale;
    this.stale = false;
    for (let i = 0; i < hosts.length; i++) {
      const u = this.ignoreHealth || hosts[i].healthy ? 1 : 0;
      if (usable[i] !== u) {
        usable[i] = u;
        changed = true;
      }
    }
    return changed;
  }

  isUsable(index: number): boolean {
    return this.usable[index] === 1;
  }
}
