import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { StatsStore } from '../stats/store.js';
import { createClusterStats } from './cluster-stats.js';
import {
  type ConnectFn,
  type ConnectionPool,
  type ConnectionPoolOptions,
  createConnectionPool,
  type PoolFailureReason,
  type PoolWaiter,
  type UpstreamConnection,
} from './connection-pool.js';
import { createHost, type Host } from './host.js';
import { closedPort } from './testing/fixtures.js';
import { createManualClock, type ManualClock } from './testing/manual-clock.js';

class TestWaiter implements PoolWaiter {
  conn: UpstreamConnection | null = null;
  failure: { reason: PoolFailureReason; details: string } | null = null;
  calls = 0;
  private settle!: () => void;
  readonly done = new Promise<void>((resolve) => {
    this.settle = resolve;
  });
  onPoolReady(conn: UpstreamConnection): void {
    this.calls++;
    this.conn = conn;
    this.settle();
  }
  onPoolFailure(reason: PoolFailureReason, details: string): void {
    this.calls++;
    this.failure = { reason, details };
    this.settle();
  }
}

interface Fixture {
  server: net.Server;
  port: number;
  serverSockets: net.Socket[];
  clock: ManualClock;
  stats: StatsStore;
  host: Host;
  pool: ConnectionPool;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** An echo server and a pool to it. */
async function setup(options: Partial<ConnectionPoolOptions> = {}, connect?: ConnectFn): Promise<Fixture> {
  const serverSockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    serverSockets.push(s);
    s.on('error', () => {});
    s.on('data', (d) => s.write(d));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const clock = createManualClock();
  const stats = new StatsStore();
  const clusterStats = createClusterStats(stats, 'c');
  const opts: ConnectionPoolOptions = {
    connectTimeoutMs: 1000,
    idleTimeoutMs: null,
    maxRequestsPerConnection: null,
    ...options,
  };
  let pool: ConnectionPool | null = null;
  const host = createHost(
    { address: '127.0.0.1', port, weight: 1, healthy: true, locality: null, priority: 0 },
    (h) => {
      pool = createConnectionPool(h, opts, { clock, stats: clusterStats, connect });
      return pool;
    },
  );
  cleanups.push(() => {
    host.pool.close();
    for (const s of serverSockets) s.destroy();
    server.close();
  });
  return { server, port, serverSockets, clock, stats, host, pool: pool! };
}

async function connected(f: Fixture): Promise<UpstreamConnection> {
  const w = new TestWaiter();
  assert.notEqual(f.pool.acquire(w), null);
  await w.done;
  assert.ok(w.conn, `expected a connection, got ${JSON.stringify(w.failure)}`);
  return w.conn;
}

/** Sends `text` and waits for the echo, the way a user of a handed-out connection must (via conn.user). */
async function roundTrip(conn: UpstreamConnection, text: string): Promise<string> {
  let got = '';
  let wake: (() => void) | null = null;
  conn.user = {
    onUpstreamData(d: Buffer) {
      got += d.toString();
      wake?.();
    },
    onUpstreamDrain() {},
    onUpstreamEnd() {},
    onUpstreamClose() {},
  };
  conn.socket.write(Buffer.from(text));
  while (got.length < text.length) {
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  conn.user = null;
  return got;
}

function counter(stats: StatsStore, name: string): number {
  return stats.counter(`cluster.c.${name}`).value;
}

describe('connection pool', () => {
  it('reuses a released connection and hands bytes to the new user intact', async () => {
    const f = await setup();
    const conn = await connected(f);
    assert.equal(await roundTrip(conn, 'one'), 'one');
    f.pool.release(conn, true);
    assert.equal(f.pool.idleCount, 1);
    assert.equal(f.pool.activeCount, 0);
    const w = new TestWaiter();
    assert.equal(f.pool.acquire(w), null, 'an idle connection is handed out synchronously');
    assert.equal(w.conn, conn);
    assert.equal(conn.requestCount, 2);
    assert.equal(await roundTrip(conn, 'two'), 'two');
    assert.equal(f.serverSockets.length, 1);
    assert.equal(counter(f.stats, 'upstream_cx_total'), 1);
    assert.equal(f.stats.gauge('cluster.c.upstream_cx_active').value, 1);
    assert.equal(f.host.stats.cxTotal, 1);
  });

  it('reuses idle connections last-in first-out', async () => {
    const f = await setup();
    const a = await connected(f);
    const b = await connected(f);
    f.pool.release(a, true);
    f.pool.release(b, true);
    const w = new TestWaiter();
    f.pool.acquire(w);
    assert.equal(w.conn, b);
  });

  it('drops an idle connection the server closed and never hands it out', async () => {
    const f = await setup();
    const conn = await connected(f);
    f.pool.release(conn, true);
    f.serverSockets[0].end();
    await once(conn.socket, 'close');
    assert.equal(f.pool.idleCount, 0);
    const w = new TestWaiter();
    assert.notEqual(f.pool.acquire(w), null, 'needs a new connection');
    await w.done;
    assert.notEqual(w.conn, conn);
    assert.equal(counter(f.stats, 'upstream_cx_destroy'), 1);
    assert.equal(f.host.stats.cxActive, 1);
  });

  it('destroys an idle connection that receives unsolicited bytes', async () => {
    const f = await setup();
    const conn = await connected(f);
    f.pool.release(conn, true);
    f.serverSockets[0].write('garbage');
    await once(conn.socket, 'close');
    assert.equal(f.pool.idleCount, 0);
  });

  it('does not reuse a connection whose server sent FIN while busy', async () => {
    const f = await setup();
    const conn = await connected(f);
    const ended = once(conn.socket, 'end');
    f.serverSockets[0].end();
    await ended;
    f.pool.release(conn, true);
    assert.equal(f.pool.idleCount, 0);
    assert.equal(conn.socket.destroyed, true);
  });

  it('fails with connect_failure and the error text on a closed port', async () => {
    const port = await closedPort();
    const f = await setup({}, (_port, address) => net.connect({ port, host: address, noDelay: true }));
    const w = new TestWaiter();
    f.pool.acquire(w);
    await w.done;
    assert.equal(w.failure?.reason, 'connect_failure');
    assert.match(w.failure!.details, /ECONNREFUSED/);
    assert.equal(counter(f.stats, 'upstream_cx_connect_fail'), 1);
    assert.equal(f.stats.gauge('cluster.c.upstream_cx_active').value, 0);
    assert.equal(f.host.stats.cxConnectFail, 1);
    assert.equal(f.pool.pendingCount, 0);
  });

  it('fails with connect_timeout when the connect does not finish in time', async () => {
    const sockets: net.Socket[] = [];
    const f = await setup({ connectTimeoutMs: 250 }, () => {
      const s = new net.Socket(); // never connects
      sockets.push(s);
      return s;
    });
    const w = new TestWaiter();
    assert.notEqual(f.pool.acquire(w), null);
    f.clock.advance(249);
    assert.equal(w.calls, 0);
    f.clock.advance(1);
    await w.done;
    assert.equal(w.failure?.reason, 'connect_timeout');
    assert.equal(sockets[0].destroyed, true);
    assert.equal(counter(f.stats, 'upstream_cx_connect_timeout'), 1);
    assert.equal(counter(f.stats, 'upstream_cx_connect_fail'), 1);
    assert.equal(f.pool.connectingCount, 0);
  });

  it('closes a connection when max_requests_per_connection is reached', async () => {
    const f = await setup({ maxRequestsPerConnection: 2 });
    const conn = await connected(f);
    f.pool.release(conn, true);
    const w = new TestWaiter();
    f.pool.acquire(w);
    assert.equal(w.conn, conn);
    f.pool.release(conn, true);
    assert.equal(f.pool.idleCount, 0);
    assert.equal(conn.socket.destroyed, true);
  });

  it('closes idle connections after idle_timeout (manual clock)', async () => {
    const f = await setup({ idleTimeoutMs: 1000 });
    const a = await connected(f);
    const b = await connected(f);
    f.pool.release(a, true);
    f.clock.advance(400);
    f.pool.release(b, true);
    f.clock.advance(599);
    assert.equal(f.pool.idleCount, 2);
    f.clock.advance(1);
    assert.equal(f.pool.idleCount, 1, 'the older one expired');
    assert.equal(a.socket.destroyed, true);
    f.clock.advance(400);
    assert.equal(f.pool.idleCount, 0);
    assert.equal(b.socket.destroyed, true);
  });

  it('hands a released connection straight to a waiting request', async () => {
    const f = await setup();
    const conn = await connected(f);
    const w = new TestWaiter();
    assert.notEqual(f.pool.acquire(w), null);
    assert.equal(f.pool.pendingCount, 1);
    f.pool.release(conn, true);
    assert.equal(w.conn, conn);
    assert.equal(f.pool.pendingCount, 0);
    // The connection opened for the waiter goes idle when it connects.
    while (f.pool.idleCount === 0) await new Promise((r) => setImmediate(r));
    assert.equal(f.pool.connectingCount, 0);
  });

  it('a cancelled waiter is never called; its connection goes idle', async () => {
    const f = await setup();
    const w = new TestWaiter();
    const pending = f.pool.acquire(w)!;
    pending.cancel();
    assert.equal(f.pool.pendingCount, 0);
    while (f.pool.idleCount === 0) await new Promise((r) => setImmediate(r));
    assert.equal(w.calls, 0);
  });

  it('drain closes idle connections now, busy ones on release, and refuses new requests', async () => {
    const f = await setup();
    const busy = await connected(f);
    const idle = await connected(f);
    f.pool.release(idle, true);
    f.pool.drain();
    assert.equal(idle.socket.destroyed, true);
    assert.equal(busy.socket.destroyed, false);
    const w = new TestWaiter();
    assert.equal(f.pool.acquire(w), null);
    assert.equal(w.failure?.reason, 'closed');
    f.pool.release(busy, true);
    assert.equal(busy.socket.destroyed, true);
    assert.equal(f.pool.activeCount, 0);
  });

  it('close fails waiters and destroys every connection', async () => {
    const f = await setup({}, () => new net.Socket());
    const w = new TestWaiter();
    f.pool.acquire(w);
    f.pool.close();
    assert.equal(w.failure?.reason, 'closed');
    assert.equal(f.stats.gauge('cluster.c.upstream_cx_active').value, 0);
  });
});
