// Active health checks against real servers on 127.0.0.1 (node:http, node:net, grpc-js),
// scheduled on a manual clock: the test moves time, then waits for the checks in flight to
// finish on their real sockets. Nothing sleeps.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  Server as GrpcServer,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import type { HealthCheck } from '../../../config/model.js';
import { StatsStore } from '../../stats/store.js';
import type { ConnectionPool } from '../connection-pool.js';
import { createHost, type Host } from '../host.js';
import { createManualClock, type ManualClock } from '../testing/manual-clock.js';
import { decodeCheckResponse, encodeCheckRequest } from './grpc-probe.js';
import { createHealthChecker, type HealthChecker } from './health-checker.js';
import { formatHealthFlags, HealthFlag } from './health-flags.js';
import { matchesInOrder } from './tcp-probe.js';

const noPool = {} as ConnectionPool;

function newHost(port: number): Host {
  return createHost(
    {
      address: '127.0.0.1',
      port,
      weight: 1,
      healthy: true,
      healthFlags: HealthFlag.FailedActiveHc | HealthFlag.PendingActiveHc,
      locality: null,
      priority: 0,
    },
    () => noPool,
  );
}

function hcConfig(checker: HealthCheck['checker'], overrides: Partial<HealthCheck> = {}): HealthCheck {
  return {
    timeoutMs: 1_000,
    intervalMs: 5_000,
    initialJitterMs: 0,
    intervalJitterMs: 0,
    intervalJitterPercent: 0,
    unhealthyThreshold: 3,
    healthyThreshold: 2,
    reuseConnection: true,
    noTrafficIntervalMs: 60_000,
    noTrafficHealthyIntervalMs: 60_000,
    unhealthyIntervalMs: 5_000,
    unhealthyEdgeIntervalMs: 5_000,
    healthyEdgeIntervalMs: 5_000,
    alwaysLogHealthCheckFailures: false,
    checker,
    ...overrides,
  };
}

interface Harness {
  clock: ManualClock;
  checker: HealthChecker;
  logs: string[];
  changes: number;
  stat(name: string): number;
  /** Moves time by `ms` and waits for the checks it started. */
  step(ms: number): Promise<void>;
}

function harness(config: HealthCheck, opts: { traffic?: boolean; random?: () => number } = {}): Harness {
  const clock = createManualClock();
  const stats = new StatsStore();
  const logs: string[] = [];
  const h: Harness = {
    clock,
    logs,
    changes: 0,
    checker: null as unknown as HealthChecker,
    stat(name) {
      const full = `cluster.web.health_check.${name}`;
      return name === 'healthy' ? stats.gauge(full).value : stats.counter(full).value;
    },
    async step(ms) {
      clock.advance(ms);
      await h.checker.idle();
    },
  };
  h.checker = createHealthChecker(config, {
    clock,
    random: opts.random ?? (() => 0),
    stats,
    clusterName: 'web',
    hadTraffic: () => opts.traffic ?? true,
    onHostHealthChanged: () => h.changes++,
    onCheckSuccess: () => {},
    log: (m) => logs.push(m),
  });
  return h;
}

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

const closers: Array<() => unknown> = [];
after(async () => {
  for (const c of closers) await c();
});

function httpBackend() {
  const state = { status: 200, hold: false, seen: [] as IncomingMessage[] };
  const server = createServer((req, res) => {
    state.seen.push(req);
    if (state.hold) return;
    res.writeHead(state.status);
    res.end('ok');
  });
  closers.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return { server, state };
}

const httpCheck = (overrides: Partial<Extract<HealthCheck['checker'], { kind: 'http' }>> = {}) =>
  ({
    kind: 'http',
    host: '',
    path: '/healthz',
    method: 'GET',
    expectedStatuses: [{ start: 200, end: 201 }],
    retriableStatuses: [],
    requestHeadersToAdd: [],
    requestHeadersToRemove: [],
    ...overrides,
  }) as const;

describe('HTTP health check', () => {
  it('a new host is healthy after its first pass; a bad status makes it unhealthy at once', async () => {
    const { server, state } = httpBackend();
    const port = await listen(server);
    const h = harness(
      hcConfig(
        httpCheck({
          requestHeadersToAdd: [
            { key: 'x-check', value: 'yes', appendAction: 'APPEND_IF_EXISTS_OR_ADD', keepEmptyValue: false },
          ],
        }),
      ),
    );
    const host = newHost(port);
    assert.equal(host.healthy, false);
    assert.equal(formatHealthFlags(host.healthFlags), '/failed_active_hc/pending_active_hc');
    h.checker.hostsChanged([host]);
    await h.checker.idle();
    assert.equal(host.healthy, true, 'healthy_threshold 2 does not apply to the first check');
    assert.equal(formatHealthFlags(host.healthFlags), 'healthy');
    assert.equal(h.stat('healthy'), 1);
    const req = state.seen[0];
    assert.equal(req.url, '/healthz');
    assert.equal(req.headers.host, 'web', 'Host defaults to the cluster name');
    assert.equal(req.headers['user-agent'], 'Envoy/HC');
    assert.equal(req.headers['x-check'], 'yes');

    state.status = 503;
    await h.step(5_000);
    assert.equal(host.healthy, false, 'an answer outside expected_statuses ignores unhealthy_threshold');
    assert.equal(h.stat('failure'), 1);
    assert.equal(h.stat('network_failure'), 0);
    assert.equal(h.stat('healthy'), 0);
    assert.match(h.logs[0], /health check of web 127\.0\.0\.1:\d+ failed: status 503/);

    state.status = 200;
    await h.step(5_000);
    assert.equal(host.healthy, false, 'one pass of healthy_threshold 2');
    await h.step(5_000);
    assert.equal(host.healthy, true);
    assert.equal(h.stat('attempt'), 4);
    assert.equal(h.stat('success'), 3);
    h.checker.close();
  });

  it('retriable statuses and network failures count toward unhealthy_threshold; edge intervals apply', async () => {
    const { server, state } = httpBackend();
    const port = await listen(server);
    const h = harness(
      hcConfig(httpCheck({ retriableStatuses: [{ start: 503, end: 504 }] }), {
        unhealthyEdgeIntervalMs: 1_000,
        healthyEdgeIntervalMs: 2_000,
        unhealthyIntervalMs: 3_000,
      }),
    );
    const host = newHost(port);
    h.checker.hostsChanged([host]);
    await h.checker.idle();
    assert.equal(host.healthy, true);

    state.status = 503;
    await h.step(5_000);
    assert.equal(host.healthy, true, '1 of 3');
    // A pending transition: the next check comes after unhealthy_edge_interval.
    await h.step(1_000);
    assert.equal(h.stat('attempt'), 3);
    assert.equal(host.healthy, true, '2 of 3');
    // The third failure is a timeout (the server holds the answer): a network failure.
    state.hold = true;
    h.clock.advance(1_000);
    assert.equal(h.stat('attempt'), 4);
    h.clock.advance(1_000);
    await h.checker.idle();
    assert.equal(host.healthy, false, '3 of 3');
    assert.equal(h.stat('network_failure'), 1);

    // Unhealthy and unchanged: unhealthy_interval (3 s) between checks.
    state.hold = false;
    state.status = 200;
    await h.step(2_999);
    assert.equal(h.stat('attempt'), 4);
    await h.step(1);
    assert.equal(h.stat('attempt'), 5);
    assert.equal(host.healthy, false, '1 of 2 passes');
    // A pending recovery: healthy_edge_interval (2 s).
    await h.step(2_000);
    assert.equal(h.stat('attempt'), 6);
    assert.equal(host.healthy, true);
    h.checker.close();
  });

  it('uses no_traffic_interval while the cluster has had no traffic, plus the jitters', async () => {
    const { server } = httpBackend();
    const port = await listen(server);
    const h = harness(
      hcConfig(httpCheck(), {
        noTrafficIntervalMs: 60_000,
        noTrafficHealthyIntervalMs: 40_000,
        intervalJitterMs: 1_000,
        intervalJitterPercent: 10,
      }),
      { traffic: false, random: () => 0.5 },
    );
    const host = newHost(port);
    h.checker.hostsChanged([host]);
    await h.checker.idle();
    // 40 s (no traffic, healthy) + 10% of it × 0.5 + 1 s × 0.5 = 42.5 s.
    await h.step(42_499);
    assert.equal(h.stat('attempt'), 1);
    await h.step(1);
    assert.equal(h.stat('attempt'), 2);
    h.checker.close();
  });

  it('a refused connection is a network failure; removing the host stops its checks', async () => {
    const { server } = httpBackend();
    const port = await listen(server);
    await new Promise((r) => server.close(r));
    const h = harness(hcConfig(httpCheck(), { unhealthyThreshold: 1, initialJitterMs: 2_000 }));
    const host = newHost(port);
    h.checker.hostsChanged([host]);
    assert.equal(h.stat('attempt'), 0, 'initial_jitter delays the first check');
    await h.step(0);
    assert.equal(h.stat('attempt'), 1, 'random 0: the first check at once');
    assert.equal(h.stat('network_failure'), 1);
    assert.equal(host.healthFlags, HealthFlag.FailedActiveHc, 'still failed, no longer pending');
    h.checker.hostsChanged([]);
    assert.equal(h.clock.pendingTimers, 0);
    await h.step(60_000);
    assert.equal(h.stat('attempt'), 1);
  });
});

describe('TCP health check', () => {
  it('sends the payload and passes when the receive blocks arrive in order', async () => {
    let reply = 'xxpoyyngzz';
    const sockets = new Set<Socket>();
    const server = createTcpServer((s) => {
      sockets.add(s);
      s.on('data', (d) => {
        if (d.toString() === 'ping') s.write(reply);
      });
    });
    const port = await listen(server);
    closers.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    });
    const h = harness(
      hcConfig(
        { kind: 'tcp', send: Buffer.from('ping'), receive: [Buffer.from('po'), Buffer.from('ng')] },
        { unhealthyThreshold: 1 },
      ),
    );
    const host = newHost(port);
    h.checker.hostsChanged([host]);
    await h.checker.idle();
    assert.equal(host.healthy, true);
    await h.step(5_000);
    assert.equal(h.stat('success'), 2);
    assert.equal(sockets.size, 1, 'reuse_connection: one connection for both checks');

    reply = 'gnop';
    h.clock.advance(5_000);
    h.clock.advance(1_000);
    await h.checker.idle();
    assert.equal(host.healthy, false, 'no match before the timeout');
    assert.equal(h.stat('network_failure'), 1);
    h.checker.close();
  });

  it('connect-only: passes on connect, fails when refused', async () => {
    const server = createTcpServer((s) => s.destroy());
    const port = await listen(server);
    const h = harness(hcConfig({ kind: 'tcp', send: null, receive: [] }, { unhealthyThreshold: 1 }));
    const host = newHost(port);
    h.checker.hostsChanged([host]);
    await h.checker.idle();
    assert.equal(host.healthy, true);
    await new Promise((r) => server.close(r));
    await h.step(5_000);
    assert.equal(host.healthy, false);
    assert.equal(h.stat('network_failure'), 1);
    h.checker.close();
  });

  it('matchesInOrder finds each block after the previous one', () => {
    const b = (s: string) => Buffer.from(s);
    assert.equal(matchesInOrder(b('abcdef'), [b('ab'), b('ef')]), true);
    assert.equal(matchesInOrder(b('efab'), [b('ab'), b('ef')]), false);
    assert.equal(matchesInOrder(b('abab'), [b('ab'), b('ab')]), true);
    assert.equal(matchesInOrder(b('ab'), [b('ab'), b('ab')]), false);
  });
});

describe('gRPC health check', () => {
  it('SERVING passes; NOT_SERVING fails at once; the service name is sent', async () => {
    const seen: string[] = [];
    let status = 1;
    const server = new GrpcServer();
    const raw = (b: Buffer) => b;
    server.addService(
      {
        Check: {
          path: '/grpc.health.v1.Health/Check',
          requestStream: false,
          responseStream: false,
          requestSerialize: raw,
          requestDeserialize: raw,
          responseSerialize: raw,
          responseDeserialize: raw,
        },
      },
      {
        Check: (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => {
          // HealthCheckRequest{service = 1}: tag 0x0a, length, bytes.
          const req = call.request;
          seen.push(req.length > 2 ? req.subarray(2, 2 + req[1]).toString() : '');
          done(null, Buffer.from([0x08, status]));
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    closers.push(() => server.forceShutdown());
    const h = harness(hcConfig({ kind: 'grpc', serviceName: 'shop.Cart', authority: 'cart.internal' }));
    const host = newHost(port);
    h.checker.hostsChanged([host]);
    await h.checker.idle();
    assert.equal(host.healthy, true);
    assert.equal(seen[0], 'shop.Cart');

    status = 2; // NOT_SERVING
    await h.step(5_000);
    assert.equal(host.healthy, false);
    assert.equal(h.stat('failure'), 1);
    assert.equal(h.stat('network_failure'), 0);

    status = 1;
    await h.step(5_000);
    await h.step(5_000);
    assert.equal(host.healthy, true);
    assert.equal(seen.length, 4);

    // The server goes away: the kept connection closes, and the next check is a network failure.
    server.forceShutdown();
    await h.step(5_000);
    assert.ok(h.stat('network_failure') >= 1, 'a check on a dead server is a network failure');
    h.checker.close();
  });

  it('encodes HealthCheckRequest and decodes HealthCheckResponse', () => {
    assert.deepEqual([...encodeCheckRequest('')], [0, 0, 0, 0, 0]);
    assert.deepEqual([...encodeCheckRequest('ab')], [0, 0, 0, 0, 4, 0x0a, 2, 0x61, 0x62]);
    assert.equal(decodeCheckResponse(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1);
    assert.equal(decodeCheckResponse(Buffer.from([0, 0, 0, 0, 0])), 0, 'empty message: UNKNOWN');
    assert.equal(decodeCheckResponse(Buffer.from([0, 0, 0, 0, 2, 0x08])), -1, 'truncated');
  });
});
