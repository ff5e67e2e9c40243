// The contract between a cluster and its host-discovery strategy (static config, STRICT_DNS,
// LOGICAL_DNS; EDS later): the strategy creates hosts through the cluster (so they get
// the cluster's pools) and publishes whole host lists with setHosts.

import { isIP } from 'node:net';
import type { Cluster, LbEndpoint, LocalityLbEndpoints } from '../../config/model.js';
import type { Clock } from '../../core/clock.js';
import type { ClusterStats } from './cluster-stats.js';
import type { DnsResolver } from './dns.js';
import { type Host, type HostInit, isHealthyStatus, type UpstreamHost } from './host.js';

/** What a discovery strategy may do to its cluster. */
export interface HostSetTarget {
  readonly config: Cluster;
  readonly stats: ClusterStats;
  readonly clock: Clock;
  readonly resolver: DnsResolver;
  createHost(init: HostInit): UpstreamHost;
  /** Publishes the new host list; the array is not mutated afterwards. */
  setHosts(hosts: readonly Host[]): void;
}

export interface Discovery {
  /** Settles when the first round finished, successfully or not. Never rejects. */
  readonly initialized: Promise<void>;
  stop(): void;
}

/** The HostInit of an endpoint reached at `address` (an IP, for DNS-resolved endpoints). */
export function endpointHostInit(
  locality: LocalityLbEndpoints,
  endpoint: LbEndpoint,
  address: string,
): HostInit {
  const configured = endpoint.address.address;
  return {
    address,
    // A DNS name in the config is the host's name (auto_host_rewrite); an IP is not.
    hostname: isIP(configured) === 0 ? configured : '',
    port: endpoint.address.portValue,
    weight: endpoint.loadBalancingWeight,
    healthy: isHealthyStatus(endpoint.healthStatus),
    locality: locality.locality,
    priority: locality.priority,
  };
}
