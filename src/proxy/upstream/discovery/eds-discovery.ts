// EDS discovery: the hosts of an EDS cluster come from ClusterLoadAssignments the xDS
// client pushes in (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/service_discovery#endpoint-discovery-service-eds).
//
// An update changes the host set in place: a host whose address:port survives keeps its
// Host object, pool and warm connections (weight and health are updated on it); new
// endpoints get new hosts; removed ones are drained (idle connections closed, busy ones
// finish their request). The cluster itself, and every listener routing to it, stay as
// they are. Warming (waiting for the first assignment) is the xDS layer's job: it only
// hands the cluster manager an EDS cluster once its endpoints are known, so `initialized`
// settles at once.

import type { ClusterLoadAssignment, LocalityLbEndpoints } from '../../../config/model.js';
import { type Discovery, endpointHostInit, type HostSetTarget } from '../discovery.js';
import { HealthFlag } from '../health/health-flags.js';
import { type Host, isHealthyStatus } from '../host.js';

export interface EdsDiscovery extends Discovery {
  /** Replaces the endpoints with `assignment` (null: no endpoints). */
  update(assignment: ClusterLoadAssignment | null): void;
}

class EdsDiscoveryImpl implements EdsDiscovery {
  readonly initialized = Promise.resolve();
  private byKey = new Map<string, Host>();
  private stopped = false;

  constructor(private readonly cluster: HostSetTarget) {}

  update(assignment: ClusterLoadAssignment | null): void {
    if (this.stopped) return;
    const stats = this.cluster.stats;
    stats.update_attempt.value++;
    const previous = this.byKey;
    const next = new Map<string, Host>();
    const hosts: Host[] = [];
    for (const locality of assignment?.endpoints ?? []) {
      for (const endpoint of locality.lbEndpoints) {
        const key = `${endpoint.address.address}:${endpoint.address.portValue}`;
        // The same address twice in one assignment is one host (the first entry wins).
        if (next.has(key)) continue;
        let host = previous.get(key);
        if (host !== undefined && !samePlace(host, locality)) {
          // Moved to another priority or locality (fixed on a Host): a new host replaces it.
          host.pool.drain();
          host = undefined;
        }
        if (host !== undefined) {
          host.weight = endpoint.loadBalancingWeight;
          host.setHealthFlag(HealthFlag.FailedEdsHealth, !isHealthyStatus(endpoint.healthStatus));
        } else {
          host = this.cluster.createHost(endpointHostInit(locality, endpoint, endpoint.address.address));
        }
        next.set(key, host);
        hosts.push(host);
      }
    }
    for (const [key, gone] of previous) if (!next.has(key)) gone.pool.drain();
    this.byKey = next;
    this.cluster.setHosts(hosts);
    stats.update_success.value++;
  }

  stop(): void {
    this.stopped = true;
  }
}

export function startEdsDiscovery(
  cluster: HostSetTarget,
  initial: ClusterLoadAssignment | null,
): EdsDiscovery {
  const d = new EdsDiscoveryImpl(cluster);
  d.update(initial);
  return d;
}

function samePlace(host: Host, at: LocalityLbEndpoints): boolean {
  const a = host.locality;
  const b = at.locality;
  if (host.priority !== at.priority) return false;
  if (a === null || b === null) return a === b;
  return a.region === b.region && a.zone === b.zone && a.subZone === b.subZone;
}
