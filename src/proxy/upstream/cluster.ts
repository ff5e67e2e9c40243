// One upstream cluster: its host set (from STATIC config, DNS discovery or EDS), the load
// balancer over it, the per-host connection pools, and its `cluster.<name>.*` stats.
//
// A cluster is immutable in config: a config change builds a new UpstreamCluster and the
// old one is drained (src/proxy/upstream/cluster-manager.ts). Discovery strategies only
// call `setHosts`; hosts they keep across updates keep their pools. An EDS cluster's
// endpoints are not config: they change in place through `updateEndpoints`.
//
// Health (src/proxy/upstream/health/): with `health_checks` the cluster runs a
// HealthChecker over its hosts (new hosts start failed and pending, and the cluster's
// `initialized` waits for the first check of its initial hosts, as Envoy's warming does);
// with `outlier_detection` an OutlierDetector, whose per-host monitors the router feeds.
// Both follow setHosts and stop at drain/close.

import type { Cluster, ClusterLoadAssignment, Locality } from '../../config/model.js';
import { DEFAULT_CIRCUIT_BREAKERS } from '../../config/validate-circuit-breakers.js';
import { DEFAULT_HTTP2_OPTIONS } from '../../config/validate-http2-options.js';
import type { Clock } from '../../core/clock.js';
import type { StatsStore } from '../stats/store.js';
import { createClusterTransportSocket, type UpstreamTransportSocketFactory } from '../tls/upstream-tls.js';
import { ClusterCircuitBreakers } from './cluster-circuit-breakers.js';
import { type ClusterStats, createClusterStats } from './cluster-stats.js';
import {
  type ConnectFn,
  type ConnectionPool,
  createConnectionPool,
  type Http1ConnectFn,
} from './connection-pool.js';
import { type EdsDiscovery, startEdsDiscovery } from './discovery/eds-discovery.js';
import { type Discovery, endpointHostInit, type HostSetTarget } from './discovery.js';
import type { DnsResolver } from './dns.js';
import { createHealthChecker, type HealthChecker } from './health/health-checker.js';
import { HealthFlag } from './health/health-flags.js';
import { createOutlierDetector, type OutlierDetector } from './health/outlier-detector.js';
import { createHost, type Host, type HostInit, type UpstreamHost } from './host.js';
import { createHttp2ConnectionPool } from './http2-connection-pool.js';
import { type ClusterLoadBalancer, createClusterLoadBalancer } from './lb/cluster-load-balancer.js';
import type { LoadBalancerContext } from './lb/load-balancer.js';
import { DEFAULT_LB_CONFIG } from './lb/policy.js';
import { startLogicalDnsDiscovery } from './logical-dns-discovery.js';
import { createAlpnProtocolPool, createByDownstreamProtocolPool } from './protocol-pools.js';
import { startStrictDnsDiscovery } from './strict-dns-discovery.js';

/** ALPN an HTTP/2 pool offers over TLS when alpn_protocols is empty (RFC 9113 §3.2). */
const ALPN_H2 = ['h2'];
/** ALPN of an auto_config cluster: HTTP/2 preferred, HTTP/1.1 accepted (Envoy's default). */
const ALPN_AUTO = ['h2', 'http/1.1'];

export interface UpstreamCluster {
  readonly name: string;
  readonly config: Cluster;
  /**
   * A host by the cluster's lb_policy, priorities and panic threshold (a hashing policy
   * uses `context.hashKey`), or null (→ 503 UH; the caller counts upstream_cx_none_healthy).
   */
  chooseHost(context?: LoadBalancerContext | null): Host | null;
  readonly hosts: readonly Host[];
  readonly stats: ClusterStats;
  /** Connection, pending, request and retry limits (priority DEFAULT), shared by all host pools. */
  readonly circuitBreakers: ClusterCircuitBreakers;
  /** Active health checking (`health_checks`); null when not configured. */
  readonly healthChecker: HealthChecker | null;
  /** Outlier detection (`outlier_detection`); null when not configured. */
  readonly outlierDetector: OutlierDetector | null;
  /** The proxy's injected randomness (uniform in [0, 1)): retry back-off jitter. */
  random(): number;
  /** Bumps upstream_rq_<N>xx and upstream_rq_<code>. */
  recordResponse(code: number): void;
  /** How connections to its hosts are opened (plain TCP or TLS, from `transport_socket`). */
  readonly transportSocket?: UpstreamTransportSocketFactory;
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
  /** Opens plain-TCP HTTP/1.1 pool connections (native socket I/O); default `connect`. */
  readonly connectHttp1?: Http1ConnectFn;
  /** EDS clusters: the latest assignment known for a service name (the cluster starts from it). */
  loadAssignmentFor?(serviceName: string): ClusterLoadAssignment | null;
  /** The proxy's own `node.locality` (zone-aware routing). */
  localLocality?(): Locality | null;
  /** Health-check failure lines; default: dropped. */
  log?(message: string): void;
}

class ClusterImpl implements UpstreamCluster, HostSetTarget {
  readonly name: string;
  readonly stats: ClusterStats;
  readonly circuitBreakers: ClusterCircuitBreakers;
  readonly random: () => number;
  readonly clock: Clock;
  readonly resolver: DnsResolver;
  readonly initialized: Promise<void>;
  readonly healthChecker: HealthChecker | null = null;
  readonly outlierDetector: OutlierDetector | null = null;
  hosts: readonly Host[] = [];
  /** HealthFlag bits new hosts start with (failed + pending when actively checked). */
  private readonly initialHealthFlags: number;
  private readonly lb: ClusterLoadBalancer;
  private readonly discovery: Discovery | null;
  private readonly eds: EdsDiscovery | null = null;
  private readonly poolFactory: (host: Host) => ConnectionPool;
  readonly transportSocket: UpstreamTransportSocketFactory;

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
      maxConnectionDurationMs: config.maxConnectionDurationMs ?? null,
    };
    this.transportSocket = createClusterTransportSocket(config.name, config.transportSocket, deps.stats);
    const tls = this.transportSocket.kind === 'tls' ? this.transportSocket : null;
    // Over TLS each pool offers its protocol by ALPN unless alpn_protocols says otherwise.
    const tlsConnect = (alpnFallback: string[] | undefined): ConnectFn | undefined =>
      tls === null
        ? deps.connect
        : (port: number, address: string, onData?: (chunk: Buffer) => void) =>
            tls.createConnection(port, address, { allowHalfOpen: false, alpnFallback, onData });
    const poolDeps = {
      clock: deps.clock,
      stats: this.stats,
      connect: tls === null ? (deps.connectHttp1 ?? deps.connect) : tlsConnect(undefined),
      circuitBreakers: this.circuitBreakers,
    };
    const h2PoolDeps = { ...poolDeps, connect: tlsConnect(ALPN_H2) };
    const protocol = config.httpProtocol ?? 'HTTP1';
    const h2Options = { ...poolOptions, http2: config.http2Options ?? DEFAULT_HTTP2_OPTIONS };
    if (protocol === 'HTTP1' || (protocol === 'AUTO' && tls === null)) {
      this.poolFactory = (host) => createConnectionPool(host, poolOptions, poolDeps);
    } else if (protocol === 'HTTP2') {
      this.poolFactory = (host) => createHttp2ConnectionPool(host, h2Options, h2PoolDeps);
    } else if (protocol === 'USE_DOWNSTREAM') {
      this.poolFactory = (host) =>
        createByDownstreamProtocolPool(
          createConnectionPool(host, poolOptions, poolDeps),
          createHttp2ConnectionPool(host, h2Options, h2PoolDeps),
        );
    } else {
      const open = tlsConnect(ALPN_AUTO)!;
      const alpnDeps = {
        clock: deps.clock,
        stats: this.stats,
        connectTimeoutMs: config.connectTimeoutMs,
        open: (port: number, address: string) => open(port, address),
      };
      this.poolFactory = (host) =>
        createAlpnProtocolPool(host, {
          ...alpnDeps,
          createHttp1: (connect) => createConnectionPool(host, poolOptions, { ...poolDeps, connect }),
          createHttp2: (connect) => createHttp2ConnectionPool(host, h2Options, { ...poolDeps, connect }),
        });
    }
    this.lb = createClusterLoadBalancer(config.lbPolicy, config.lbConfig ?? DEFAULT_LB_CONFIG, {
      random: deps.random,
      stats: this.stats,
      localLocality: deps.localLocality?.() ?? null,
      clock: deps.clock,
    });
    if (config.type !== 'EDS') this.lb.setLoadAssignment(config.loadAssignment);
    const onHostHealthChanged = () => this.recountHealthy();
    const hc = config.healthChecks?.[0];
    this.initialHealthFlags = hc === undefined ? 0 : HealthFlag.FailedActiveHc | HealthFlag.PendingActiveHc;
    if (config.outlierDetection !== undefined) {
      this.outlierDetector = createOutlierDetector(config.outlierDetection, {
        clock: deps.clock,
        random: this.random,
        stats: deps.stats,
        clusterName: config.name,
        onHostHealthChanged,
      });
    }
    if (hc !== undefined) {
      const stats = this.stats;
      this.healthChecker = createHealthChecker(hc, {
        clock: deps.clock,
        random: this.random,
        stats: deps.stats,
        clusterName: config.name,
        hadTraffic: () => stats.upstream_cx_total.value > 0,
        onHostHealthChanged,
        onCheckSuccess: (host) => this.outlierDetector?.onActiveHealthCheckSuccess(host),
        log: deps.log ?? (() => {}),
      });
    }
    let discovered: Promise<void>;
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
        discovered = Promise.resolve();
        break;
      }
      case 'STRICT_DNS':
        this.setHosts([]);
        this.discovery = startStrictDnsDiscovery(this);
        discovered = this.discovery.initialized;
        break;
      case 'LOGICAL_DNS':
        this.setHosts([]);
        this.discovery = startLogicalDnsDiscovery(this);
        discovered = this.discovery.initialized;
        break;
      case 'EDS': {
        const serviceName = config.edsServiceName ?? config.name;
        const initial = deps.loadAssignmentFor?.(serviceName) ?? null;
        this.lb.setLoadAssignment(initial);
        this.eds = startEdsDiscovery(this, initial);
        this.discovery = this.eds;
        discovered = this.eds.initialized;
        break;
      }
    }
    const checker = this.healthChecker;
    this.initialized = checker === null ? discovered : discovered.then(() => checker.firstRound());
  }

  updateEndpoints(assignment: ClusterLoadAssignment | null): void {
    if (this.eds === null) return;
    this.lb.setLoadAssignment(assignment);
    this.eds.update(assignment);
  }

  chooseHost(context?: LoadBalancerContext | null): Host | null {
    return this.lb.chooseHost(context);
  }

  recordResponse(code: number): void {
    this.stats.recordResponse(code);
  }

  createHost(init: HostInit): UpstreamHost {
    if (this.initialHealthFlags !== 0) init = { ...init, healthFlags: this.initialHealthFlags };
    return createHost(init, this.poolFactory);
  }

  setHosts(hosts: readonly Host[]): void {
    this.hosts = hosts;
    this.lb.hostsChanged(hosts);
    this.outlierDetector?.hostsChanged(hosts);
    this.healthChecker?.hostsChanged(hosts);
    this.stats.membership_total.value = hosts.length;
    this.recountHealthy();
  }

  private recountHealthy(): void {
    let healthy = 0;
    for (const h of this.hosts) if (h.healthy) healthy++;
    this.stats.membership_healthy.value = healthy;
  }

  private stopHealth(): void {
    this.healthChecker?.close();
    this.outlierDetector?.close();
  }

  drain(): void {
    this.discovery?.stop();
    this.stopHealth();
    this.transportSocket.close();
    for (const h of this.hosts) h.pool.drain();
  }

  close(): void {
    this.discovery?.stop();
    this.stopHealth();
    this.transportSocket.close();
    for (const h of this.hosts) h.pool.close();
  }
}

export function createUpstreamCluster(config: Cluster, deps: UpstreamClusterDeps): UpstreamCluster {
  return new ClusterImpl(config, deps);
}
