// One upstream endpoint (Envoy's "host"): its address, weight, health, locality and
// per-host stats, plus the connection pool that reaches it.
//
// Stats are plain numbers (not StatsStore objects) because there can be many hosts and
// they are only read by the admin /clusters page. Health is a set of flags (EDS status,
// active health checking, outlier detection: health/health-flags.ts); load balancers read
// only the derived `healthy` at pick time. Outlier detection receives the router's
// per-host results through `outlier` (null when the cluster has no outlier_detection).

import type { Locality } from '../../config/model.js';
import { formatAddress } from '../../core/address.js';
import type { ConnectionPool } from './connection-pool.js';
import { HealthFlag, UNHEALTHY_FLAGS } from './health/health-flags.js';
import type { HostOutlierMonitor } from './health/outlier-detector.js';

export interface HostStats {
  cxTotal: number;
  cxActive: number;
  cxConnectFail: number;
  rqTotal: number;
  rqActive: number;
  rqSuccess: number;
  rqError: number;
  rqTimeout: number;
}

export interface Host {
  readonly address: string;
  readonly port: number;
  /** "ip:port", IPv6 in brackets ("[::1]:80"). */
  readonly addressString: string;
  /** The DNS name the endpoint was configured with (STRICT_DNS / LOGICAL_DNS); '' for an IP. Used by `auto_host_rewrite`. */
  readonly hostname: string;
  weight: number;
  /**
   * No unhealthy flag is set (EDS status, active health check, outlier ejection). Assigning
   * it sets or clears FAILED_EDS_HEALTH (what a config or test asserts about the endpoint).
   */
  healthy: boolean;
  /** HealthFlag bits (health/health-flags.ts). */
  readonly healthFlags: number;
  /** Sets or clears one HealthFlag; true when `healthy` changed. */
  setHealthFlag(flag: number, on: boolean): boolean;
  /** Where the router reports this host's results for outlier detection; null = off. */
  outlier: HostOutlierMonitor | null;
  readonly locality: Locality | null;
  readonly priority: number;
  readonly stats: HostStats;
  readonly pool: ConnectionPool;
}

export interface HostInit {
  readonly address: string;
  /** See Host.hostname; absent = ''. */
  readonly hostname?: string;
  readonly port: number;
  readonly weight: number;
  readonly healthy: boolean;
  /** Extra HealthFlag bits at creation (a cluster with active checks starts hosts as failed + pending). */
  readonly healthFlags?: number;
  readonly locality: Locality | null;
  readonly priority: number;
}

/** Builds the pool for a host; called once, from the host's constructor. */
export type PoolFactory = (host: Host) => ConnectionPool;

/** Endpoint health_status values that take a host out of rotation. */
export function isHealthyStatus(status: string): boolean {
  return status !== 'UNHEALTHY' && status !== 'DRAINING' && status !== 'TIMEOUT';
}

export function createHostStats(): HostStats {
  return {
    cxTotal: 0,
    cxActive: 0,
    cxConnectFail: 0,
    rqTotal: 0,
    rqActive: 0,
    rqSuccess: 0,
    rqError: 0,
    rqTimeout: 0,
  };
}

/**
 * A host. Its address is fixed for STATIC and STRICT_DNS endpoints (a new DNS answer
 * makes new hosts); a LOGICAL_DNS cluster's single host follows the latest DNS answer
 * through setAddress(), while the Host object and its pool (whose open connections keep
 * working) stay the same. The pool reads `address` at each new connect.
 */
export class UpstreamHost implements Host {
  private currentAddress: string;
  private currentAddressString: string;
  readonly port: number;
  readonly hostname: string;
  weight: number;
  healthFlags: number;
  outlier: HostOutlierMonitor | null = null;
  private isHealthy: boolean;
  readonly locality: Locality | null;
  readonly priority: number;
  readonly stats: HostStats = createHostStats();
  readonly pool: ConnectionPool;

  constructor(init: HostInit, createPool: PoolFactory) {
    this.currentAddress = init.address;
    this.currentAddressString = formatAddress(init.address, init.port);
    this.port = init.port;
    this.hostname = init.hostname ?? '';
    this.weight = init.weight;
    this.healthFlags = (init.healthy ? 0 : HealthFlag.FailedEdsHealth) | (init.healthFlags ?? 0);
    this.isHealthy = (this.healthFlags & UNHEALTHY_FLAGS) === 0;
    this.locality = init.locality;
    this.priority = init.priority;
    this.pool = createPool(this);
  }

  get healthy(): boolean {
    return this.isHealthy;
  }

  set healthy(value: boolean) {
    this.setHealthFlag(HealthFlag.FailedEdsHealth, !value);
  }

  setHealthFlag(flag: number, on: boolean): boolean {
    this.healthFlags = on ? this.healthFlags | flag : this.healthFlags & ~flag;
    const healthy = (this.healthFlags & UNHEALTHY_FLAGS) === 0;
    if (healthy === this.isHealthy) return false;
    this.isHealthy = healthy;
    return true;
  }

  get address(): string {
    return this.currentAddress;
  }

  get addressString(): string {
    return this.currentAddressString;
  }

  /** Points new connections at `address`; existing connections are untouched. */
  setAddress(address: string): void {
    if (address === this.currentAddress) return;
    this.currentAddress = address;
    this.currentAddressString = formatAddress(address, this.port);
  }
}

export function createHost(init: HostInit, createPool: PoolFactory): UpstreamHost {
  return new UpstreamHost(init, createPool);
}
