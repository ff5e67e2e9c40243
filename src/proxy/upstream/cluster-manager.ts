// The cluster manager: owns every UpstreamCluster and applies config updates.
//
// update() is used for the initial load and every reload. A cluster whose config is
// deep-equal to the running one is kept as is (hosts, pools, DNS state, warm
// connections); a changed cluster is rebuilt and the old one drained — idle connections
// closed, busy ones finish their request — never cut; a removed cluster is drained too.
// whenInitialized() mirrors Envoy's cluster warming: it settles once every DNS cluster of
// the current config finished its first resolution, successful or not
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/cluster_manager#cluster-warming).
// EDS endpoints are kept per service name (setEndpoints): EDS clusters using that name are
// updated in place, and a cluster created later starts from the latest assignment.

import type { Cluster, ClusterLoadAssignment, Locality } from '../../config/model.js';
import type { Clock } from '../../core/clock.js';
import type { StatsStore } from '../stats/store.js';
import { createUpstreamCluster, type UpstreamCluster } from './cluster.js';
import type { ConnectFn, Http1ConnectFn } from './connection-pool.js';
import type { DnsResolver } from './dns.js';

export type { DnsResolver } from './dns.js';
export { createSystemResolver } from './dns.js';

export interface ClusterManagerDeps {
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly resolver: DnsResolver;
  random(): number;
  /** Opens upstream connections for the pools; default net.connect with noDelay. */
  readonly connect?: ConnectFn;
  /** Opens plain-TCP HTTP/1.1 pool connections (native socket I/O); default `connect`. */
  readonly connectHttp1?: Http1ConnectFn;
  /** The proxy's own `node.locality` (zone-aware routing); fixed for the proxy's life. */
  localLocality?(): Locality | null;
  /** Health-check failure lines (the proxy's logger); default: dropped. */
  log?(message: string): void;
}

export interface ClusterManager {
  update(clusters: readonly Cluster[]): void;
  /** EDS: the endpoints of `serviceName` (null: forget them); EDS clusters using it update in place. */
  setEndpoints(serviceName: string, assignment: ClusterLoadAssignment | null): void;
  get(name: string): UpstreamCluster | undefined;
  all(): readonly UpstreamCluster[];
  whenInitialized(): Promise<void>;
  /** Stops discovery and destroys every connection of every cluster. */
  close(): void;
}

/** Structural equality for validated config (plain objects, arrays, primitives, Buffers). */
export function configEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b))
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!configEqual(a[i], bb[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!configEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

class ClusterManagerImpl implements ClusterManager {
  private clusters = new Map<string, UpstreamCluster>();
  private list: readonly UpstreamCluster[] = [];
  private closed = false;
  private readonly endpoints = new Map<string, ClusterLoadAssignment>();
  private readonly clusterDeps;

  constructor(deps: ClusterManagerDeps) {
    this.clusterDeps = { ...deps, loadAssignmentFor: (name: string) => this.endpoints.get(name) ?? null };
  }

  setEndpoints(serviceName: string, assignment: ClusterLoadAssignment | null): void {
    if (this.closed) return;
    if (assignment === null) this.endpoints.delete(serviceName);
    else this.endpoints.set(serviceName, assignment);
    for (const c of this.list) {
      if (c.config.type === 'EDS' && (c.config.edsServiceName ?? c.name) === serviceName)
        c.updateEndpoints(assignment);
    }
  }

  update(configs: readonly Cluster[]): void {
    if (this.closed) return;
    const next = new Map<string, UpstreamCluster>();
    for (const config of configs) {
      const current = this.clusters.get(config.name);
      if (current !== undefined && configEqual(current.config, config)) {
        next.set(config.name, current);
      } else {
        next.set(config.name, createUpstreamCluster(config, this.clusterDeps));
      }
    }
    for (const [name, old] of this.clusters) {
      if (next.get(name) !== old) old.drain();
    }
    this.clusters = next;
    this.list = [...next.values()];
  }

  get(name: string): UpstreamCluster | undefined {
    return this.clusters.get(name);
  }

  all(): readonly UpstreamCluster[] {
    return this.list;
  }

  async whenInitialized(): Promise<void> {
    await Promise.all(this.list.map((c) => c.initialized));
  }

  close(): void {
    this.closed = true;
    for (const c of this.list) c.close();
    this.clusters = new Map();
    this.list = [];
  }
}

export function createClusterManager(deps: ClusterManagerDeps): ClusterManager {
  return new ClusterManagerImpl(deps);
}
