// One upstream cluster: its host set (from STATIC config, DNS discovery or EDS), the load
// balancer over it, the per-host connection pools, and its `cluster.<name>.*` stats.
//
// A cluster is immutable in config: a config change builds a new UpstreamCluster and the
// old one is drained (src/proxy/upstream/cluster-manager.ts). Discovery strategies only
// call `setHosts`; hosts they keep across updates keep their pools. An EDS cluster's
// endpoints are not config: they change in place through `updateEndpoints`.

import type { Cluster, ClusterLoadAssignment } from '../../config/model.js';
import { DEFAULT_CIRCUIT_BREAKERS } from '../../config/validate-circuit-breakers.js';
import { DEFAULT_HTTP2_OPTIONS } from '../../config/validate-http2-options.js';
import type { Clock } from '../../core/clock.js';
import type { StatsStore } from '../stats/store.js';
import { ClusterCircuitBreakers } from './cluster-circuit-breakers.js';
import { type ClusterStats, createClusterStats } from './cluster-stats.js';
import { type ConnectFn, type ConnectionPool, createConnectionPool } from './connection-pool.js';
import { type EdsDiscovery, startEdsDiscovery } from './discovery/eds-discovery.js';
import { type Discovery, endpointHostInit, type HostSetTarget } from './discovery.js';
import type { DnsResolver } from './dns.js';
import { createHost, type Host, type HostInit, type UpstreamHost } from './host.js';
import { createHttp2ConnectionPool } from './http2-connection-pool.js';
import type { LoadBalancer } from './lb/load-balancer.js';
import { createRoundRobinLoadBalancer } from './lb/round-robin.js';
import { startLogicalDnsDiscovery } from './logical-dns-discovery.js';
import { createByDownstreamProtocolPool } from './protocol-pools.js';
import { startStrictDnsDiscovery } from './strict-dns-discovery.js';

export interface UpstreamCluster {
  readonly name: string;
  readonly config: Cluster;
  /** A healthy host by the cluster's lb_policy, or null (→ 503 UH; the caller counts upstream_cx_none_healthy). */
  chooseHost(): Host | null;
  readonly hosts: readonly Host[];
  readonly stats: ClusterStats;
  /** Connection, pending, request and retry limits (priority DEFAULT), shared by all host pools. */
  readonly circuitBreakers: ClusterCircuitBreakers;
  /** The proxy's injected randomness (uniform in [0, 1)): retry back-off jitter. */
  random(): number;
  /** Bumps upstream_rq_<N>xx and upstream_rq_<code>. */
  recordResponse(code: number): void;
  /** EDS clusters: replaces the endpoints in place (kept hosts keep their pools). No-op for other types. */
  updateEndpoints(assignment: ClusterLoadAssignment | null): void;
  /** Settles once the first discovery round finished (at once for STATIC and EDS). Never rejects. */
  readonly initialized: Promise<void>;
  /** Stops discovery; closes idle connections, busy ones when released. */
  drain(): void;
  /** Stops discovery and destroys every connection. */
  close(): void;
}

export interface UpstreamClusterDeps {
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly resolver: DnsResolver;
  random(): number;
  /** Opens upstream TCP connections; tests inject one. Default net.connect with noDelay. */
  readonly connect?: ConnectFn;
  /** EDS clusters: the latest assignment known for a service name (the cluster starts from it). */
  loadAssignmentFor?(serviceName: string): ClusterLoadAssignment | null;
}

class ClusterImpl implements UpstreamCluster, HostSetTarget {
  readonly name: string;
  readonly stats: ClusterStats;
  readonly circuitBreakers: ClusterCircuitBreakers;
  readonly random: () => number;
  readonly clock: Clock;
  readonly resolver: DnsResolver;
  readonly initialized: Promise<void>;
  hosts: readonly Host[] = [];
  private readonly lb: LoadBalancer;
  private readonly discovery: Discovery | null;
  private readonly eds: EdsDiscovery | null = null;
  private readonly poolFactory: (host: Host) => ConnectionPool;

  constructor(
    readonly config: Cluster,
    deps: UpstreamClusterDeps,
  ) {
    this.name = config.name;
    this.clock = deps.clock;
    this.resolver = deps.resolver;
    this.stats = createClusterStats(deps.stats, config.name);
    this.random = () => deps.random();
    this.circuitBreakers = new ClusterCircuitBreakers(
      config.circuitBreakers ?? DEFAULT_CIRCUIT_BREAKERS,
      deps.stats,
      config.name,
    );
    const poolOptions = {
      connectTimeoutMs: config.connectTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      maxRequestsPerConnection: config.maxRequestsPerConnection,
    };
    const poolDeps = {
      clock: deps.clock,
      stats: this.stats,
      connect: deps.connect,
      circuitBreakers: this.circuitBreakers,
    };
    const protocol = config.httpProtocol ?? 'HTTP1';
    if (protocol === 'HTTP1') {
      this.poolFactory = (host) => createConnectionPool(host, poolOptions, poolDeps);
    } else {
      const h2Options = { ...poolOptions, http2: config.http2Options ?? DEFAULT_HTTP2_OPTIONS };
      this.poolFactory =
        protocol === 'HTTP2'
          ? (host) => createHttp2ConnectionPool(host, h2Options, poolDeps)
          : (host) =>
              createByDownstreamProtocolPool(
                createConnectionPool(host, poolOptions, poolDeps),
                createHttp2ConnectionPool(host, h2Options, poolDeps),
              );
    }
    this.lb = createRoundRobinLoadBalancer([], deps.random);
    switch (config.type) {
      case 'STATIC': {
        const hosts: Host[] = [];
        for (const locality of config.loadAssignment.endpoints) {
          for (const endpoint of locality.lbEndpoints) {
            hosts.push(this.createHost(endpointHostInit(locality, endpoint, endpoint.address.address)));
          }
        }
        this.setHosts(hosts);
        this.discovery = null;
        this.initialized = Promise.resolve();
        break;
      }
      case 'STRICT_DNS':
        this.setHosts([]);
        this.discovery = startStrictDnsDiscovery(this);
        this.initialized = this.discovery.initialized;
        break;
      case 'LOGICAL_DNS':
        this.setHosts([]);
        this.discovery = startLogicalDnsDiscovery(this);
        this.initialized = this.discovery.initialized;
        break;
      case 'EDS': {
        const serviceName = config.edsServiceName ?? config.name;
        this.eds = startEdsDiscovery(this, deps.loadAssignmentFor?.(serviceName) ?? null);
        this.discovery = this.eds;
        this.initialized = this.eds.initialized;
        break;
      }
    }
  }

  updateEndpoints(assignment: ClusterLoadAssignment | null): void {
    this.eds?.update(assignment);
  }

  chooseHost(): Host | null {
    return this.lb.chooseHost();
  }

  recordResponse(code: number): void {
    this.stats.recordResponse(code);
  }

  createHost(init: HostInit): UpstreamHost {
    return createHost(init, this.poolFactory);
  }

  setHosts(hosts: readonly Host[]): void {
    this.hosts = hosts;
    this.lb.hostsChanged(hosts);
    let healthy = 0;
    for (const h of hosts) if (h.healthy) healthy++;
    this.stats.membership_total.value = hosts.length;
    this.stats.membership_healthy.value = healthy;
  }

  drain(): void {
    this.discovery?.stop();
    for (const h of this.hosts) h.pool.drain();
  }

  close(): void {
    this.discovery?.stop();
    for (const h of this.hosts) h.pool.close();
  }
}

export function createUpstreamCluster(config: Cluster, deps: UpstreamClusterDeps): UpstreamCluster {
  return new ClusterImpl(config, deps);
}
