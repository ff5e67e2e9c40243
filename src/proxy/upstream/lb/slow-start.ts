// Slow start for ROUND_ROBIN and LEAST_REQUEST (`slow_start_config`,
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/slow_start):
// a host added to a running cluster ramps its weight up over `slow_start_window` instead of
// taking its full share at once. Its weight is multiplied by
// max(min_weight_percent / 100, (time since added / window)^(1 / aggression)).
// Hosts of the cluster's first host set are not in slow start. One instance per cluster,
// shared by the balancers of all its levels and localities; a pick asks `active()` (one
// clock read) and pays a map lookup per host only while some host is in its window.

import type { ClusterLbConfig } from '../../../config/model.js';
import type { Clock } from '../../../core/clock.js';
import type { Host } from '../host.js';

export type SlowStartSettings = NonNullable<ClusterLbConfig['slowStart']>;

export class SlowStart {
  private known = new Set<Host>();
  private addedAt = new Map<Host, number>();
  private started = false;
  /** Monotonic time after which no host is in its window. */
  private activeUntil = 0;

  constructor(
    private readonly settings: SlowStartSettings,
    private readonly clock: Clock,
  ) {}

  hostsChanged(hosts: readonly Host[]): void {
    const now = this.clock.monotonic();
    const known = new Set<Host>();
    const addedAt = new Map<Host, number>();
    for (const h of hosts) {
      known.add(h);
      const at = this.addedAt.get(h) ?? (this.started && !this.known.has(h) ? now : undefined);
      if (at !== undefined && now - at < this.settings.windowMs) {
        addedAt.set(h, at);
        this.activeUntil = Math.max(this.activeUntil, at + this.settings.windowMs);
      }
    }
    this.known = known;
    this.addedAt = addedAt;
    if (hosts.length > 0) this.started = true;
  }

  /** True while some host is in its slow-start window. */
  active(): boolean {
    return this.addedAt.size > 0 && this.clock.monotonic() < this.activeUntil;
  }

  /** The weight multiplier of `host` now (1 outside its window). */
  factor(host: Host): number {
    const at = this.addedAt.get(host);
    if (at === undefined) return 1;
    const { windowMs, aggression, minWeightPercent } = this.settings;
    const elapsed = this.clock.monotonic() - at;
    if (elapsed >= windowMs) return 1;
    return Math.max(minWeightPercent / 100, (elapsed / windowMs) ** (1 / aggression));
  }
}
