// STRICT_DNS discovery: every endpoint's hostname is resolved every dns_refresh_rate, and
// each address becomes a host carrying that endpoint's weight, locality and priority
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/service_discovery#strict-dns).
// Hosts whose address survives a refresh are kept (with their pools); vanished ones are
// drained. A failed resolution keeps the previous hosts and counts update_failure.
// Each endpoint has its own timer, armed after its resolution settles, on the injected Clock.

import type { LbEndpoint, LocalityLbEndpoints } from '../../config/model.js';
import type { Timer } from '../../core/clock.js';
import { type Discovery, endpointHostInit, type HostSetTarget } from './discovery.js';
import type { Host } from './host.js';

class ResolveTarget {
  hosts: readonly Host[] = [];
  timer: Timer | null = null;
  resolvedOnce = false;
  readonly refresh = () => {
    this.timer = null;
    this.owner.resolve(this);
  };

  constructor(
    private readonly owner: StrictDnsDiscovery,
    readonly locality: LocalityLbEndpoints,
    readonly endpoint: LbEndpoint,
  ) {}
}

class StrictDnsDiscovery implements Discovery {
  readonly initialized: Promise<void>;
  private readonly targets: ResolveTarget[] = [];
  private stopped = false;
  private unresolved: number;
  private markInitialized!: () => void;

  constructor(private readonly cluster: HostSetTarget) {
    this.initialized = new Promise<void>((resolve) => {
      this.markInitialized = resolve;
    });
    for (const locality of cluster.config.loadAssignment.endpoints) {
      for (const endpoint of locality.lbEndpoints)
        this.targets.push(new ResolveTarget(this, locality, endpoint));
    }
    this.unresolved = this.targets.length;
    if (this.unresolved === 0) this.markInitialized();
    for (const t of this.targets) this.resolve(t);
  }

  resolve(target: ResolveTarget): void {
    if (this.stopped) return;
    const { config, stats, resolver } = this.cluster;
    stats.update_attempt.value++;
    resolver.resolve(target.endpoint.address.address, config.dnsLookupFamily).then(
      (addresses) => this.onResolved(target, addresses),
      () => this.onFailed(target),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.targets) {
      t.timer?.cancel();
      t.timer = null;
    }
  }

  private onResolved(target: ResolveTarget, addresses: readonly string[]): void {
    if (this.stopped) return;
    this.cluster.stats.update_success.value++;
    const previous = new Map<string, Host>();
    for (const h of target.hosts) previous.set(h.address, h);
    const next: Host[] = [];
    let changed = addresses.length !== target.hosts.length;
    for (const address of addresses) {
      const kept = previous.get(address);
      if (kept !== undefined) {
        previous.delete(address);
        if (kept.weight !== target.endpoint.loadBalancingWeight) {
          kept.weight = target.endpoint.loadBalancingWeight;
          changed = true;
        }
        next.push(kept);
      } else {
        changed = true;
        next.push(this.cluster.createHost(endpointHostInit(target.locality, target.endpoint, address)));
      }
    }
    for (const gone of previous.values()) gone.pool.drain();
    if (changed) {
      target.hosts = next;
      this.publish();
    }
    this.settle(target);
  }

  private onFailed(target: ResolveTarget): void {
    if (this.stopped) return;
    this.cluster.stats.update_failure.value++;
    this.settle(target);
  }

  private settle(target: ResolveTarget): void {
    if (!target.resolvedOnce) {
      target.resolvedOnce = true;
      if (--this.unresolved === 0) this.markInitialized();
    }
    target.timer = this.cluster.clock.setTimer(this.cluster.config.dnsRefreshRateMs, target.refresh);
  }

  private publish(): void {
    const all: Host[] = [];
    for (const t of this.targets) for (const h of t.hosts) all.push(h);
    this.cluster.setHosts(all);
  }
}

export function startStrictDnsDiscovery(cluster: HostSetTarget): Discovery {
  return new StrictDnsDiscovery(cluster);
}
