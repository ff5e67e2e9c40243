// Test fixtures for the upstream package: cluster configs with Envoy's defaults, hosts
// with an inert pool (for load-balancer tests), and a fake DNS resolver driven by the test.

import { once } from 'node:events';
import * as net from 'node:net';
import type { Cluster, LbEndpoint } from '../../../config/model.js';
import type { ConnectionPool } from '../connection-pool.js';
import type { DnsResolver } from '../dns.js';
import { createHost, type Host } from '../host.js';

export function endpoint(
  address: string,
  port: number,
  weight = 1,
  healthStatus: LbEndpoint['healthStatus'] = 'UNKNOWN',
): LbEndpoint {
  return { address: { address, portValue: port }, loadBalancingWeight: weight, healthStatus };
}

export function clusterConfig(
  name: string,
  endpoints: readonly LbEndpoint[],
  overrides: Partial<Cluster> = {},
): Cluster {
  return {
    name,
    type: 'STATIC',
    connectTimeoutMs: 5000,
    lbPolicy: 'ROUND_ROBIN',
    loadAssignment: {
      clusterName: name,
      endpoints: [{ locality: null, lbEndpoints: endpoints, loadBalancingWeight: null, priority: 0 }],
    },
    dnsRefreshRateMs: 5000,
    dnsLookupFamily: 'AUTO',
    perConnectionBufferLimitBytes: 1024 * 1024,
    idleTimeoutMs: 3_600_000,
    maxRequestsPerConnection: null,
    ...overrides,
  };
}

const inertPool: ConnectionPool = {
  acquire: () => {
    throw new Error('inert pool');
  },
  release: () => {},
  idleCount: 0,
  activeCount: 0,
  pendingCount: 0,
  connectingCount: 0,
  drain: () => {},
  close: () => {},
};

/** A host whose pool must not be used (load-balancer tests). */
export function testHost(address: string, weight = 1, healthy = true): Host {
  return createHost({ address, port: 80, weight, healthy, locality: null, priority: 0 }, () => inertPool);
}

/** A test host at a priority level and in a zone (region "r", no sub-zone). */
export function testHostAt(
  address: string,
  at: { priority?: number; zone?: string; weight?: number; healthy?: boolean },
): Host {
  return createHost(
    {
      address,
      port: 80,
      weight: at.weight ?? 1,
      healthy: at.healthy ?? true,
      locality: at.zone === undefined ? null : { region: 'r', zone: at.zone, subZone: '' },
      priority: at.priority ?? 0,
    },
    () => inertPool,
  );
}

/** A resolver whose answers the test sets per hostname; each call settles on the next microtask. */
export interface FakeResolver extends DnsResolver {
  answers: Map<string, string[] | Error>;
  calls: string[];
}

export function createFakeResolver(): FakeResolver {
  const answers = new Map<string, string[] | Error>();
  const calls: string[] = [];
  return {
    answers,
    calls,
    resolve(hostname) {
      calls.push(hostname);
      const a = answers.get(hostname);
      if (a === undefined) return Promise.reject(new Error(`ENOTFOUND ${hostname}`));
      if (a instanceof Error) return Promise.reject(a);
      return Promise.resolve([...a]);
    },
  };
}

/** Lets pending promise callbacks (fake DNS answers) run. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A loopback port nothing listens on (it was bound a moment ago, then closed). */
export async function closedPort(): Promise<number> {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  probe.close();
  await once(probe, 'close');
  return port;
}
