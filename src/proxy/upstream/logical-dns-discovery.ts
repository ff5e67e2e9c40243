// LOGICAL_DNS discovery: the cluster's single endpoint hostname is resolved every
// dns_refresh_rate and the FIRST address is where new connections go
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/service_discovery#logical-dns).
// The cluster has one logical host, created on the first successful answer, whose
// address follows later answers; its pool (and the connections in it) is kept, so a DNS
// change never cuts traffic. A failure keeps the current address (update_failure); an
// empty answer counts as a success, as in Envoy, and also keeps the current address.

import type { Timer } from '../../core/clock.js';
import { type Discovery, endpointHostInit, type HostSetTarget } from './discovery.js';
import type { UpstreamHost } from './host.js';

class LogicalDnsDiscovery implements Discovery {
  readonly initialized: Promise<void>;
  private host: UpstreamHost | null = null;
  private timer: Timer | null = null;
  private stopped = false;
  private resolvedOnce = false;
  private markInitialized!: () => void;
  private readonly refresh = () => {
    this.timer = null;
    this.resolve();
  };

  constructor(private readonly cluster: HostSetTarget) {
    this.initialized = new Promise<void>((resolve) => {
      this.markInitialized = resolve;
    });
    if (this.firstEndpoint() === null) {
      this.resolvedOnce = true;
      this.markInitialized();
      return;
    }
    this.resolve();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private firstEndpoint() {
    for (const locality of this.cluster.config.loadAssignment.endpoints) {
      for (const endpoint of locality.lbEndpoints) return { locality, endpoint };
    }
    return null;
  }

  private resolve(): void {
    if (this.stopped) return;
    const target = this.firstEndpoint()!;
    const { config, stats, resolver } = this.cluster;
    stats.update_attempt.value++;
    resolver.resolve(target.endpoint.address.address, config.dnsLookupFamily).then(
      (addresses) => {
        if (this.stopped) return;
        stats.update_success.value++;
        if (addresses.length > 0) {
          if (this.host === null) {
            const host = this.cluster.createHost(
              endpointHostInit(target.locality, target.endpoint, addresses[0]),
            );
            this.host = host;
            this.cluster.setHosts([host]);
          } else {
            this.host.setAddress(addresses[0]);
          }
        }
        this.settle();
      },
      () => {
        if (this.stopped) return;
        stats.update_failure.value++;
        this.settle();
      },
    );
  }

  private settle(): void {
    if (!this.resolvedOnce) {
      this.resolvedOnce = true;
      this.markInitialized();
    }
    this.timer = this.cluster.clock.setTimer(this.cluster.config.dnsRefreshRateMs, this.refresh);
  }
}

export function startLogicalDnsDiscovery(cluster: HostSetTarget): Discovery {
  return new LogicalDnsDiscovery(cluster);
}
