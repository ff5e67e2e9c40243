// The HTTP/2 upstream pool on its own, with real h2 servers on 127.0.0.1: streams share
// one session up to the stream limit, then a second session opens; a session over TLS
// comes from the injected createConnection(host) (ALPN h2); a refused connection fails
// the waiters with connect_failure; drain closes idle sessions.

import assert from 'node:assert/strict';
import {
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type ServerHttp2Stream,
} from 'node:http2';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { DEFAULT_HTTP2_OPTIONS } from '../src/config/validate-http2-options.js';
import { systemClock } from '../src/core/clock.js';
import type { HeaderList } from '../src/proxy/http/headers.js';
import type { ResponseHead } from '../src/proxy/http1/response-parser.js';
import { StatsStore } from '../src/proxy/stats/store.js';
import { createClusterStats } from '../src/proxy/upstream/cluster-stats.js';
import type {
  ConnectionPool,
  PoolFailureReason,
  PoolWaiter,
  UpstreamConnection,
} from '../src/proxy/upstream/connection-pool.js';
import { createHost, type Host } from '../src/proxy/upstream/host.js';
import {
  createHttp2ConnectionPool,
  type Http2PoolDeps,
} from '../src/proxy/upstream/http2-connection-pool.js';
import { waitFor } from './support/harness.js';
import { selfSigned } from './support/self-signed.js';

/** A waiter that sends one GET when handed a stream and collects the response. */
class Exchange implements PoolWaiter {
  conn: UpstreamConnection | null = null;
  failure: PoolFailureReason | null = null;
  status = 0;
  body = '';
  private settle!: () => void;
  readonly done = new Promise<void>((r) => {
    this.settle = r;
  });
  constructor(private readonly path: string) {}
  onPoolReady(conn: UpstreamConnection): void {
    this.conn = conn;
    conn.user = this;
    conn.sendHead('GET', this.path, 'test', 'http', [], { kind: 'none' }, null, true);
  }
  onPoolFailure(reason: PoolFailureReason): void {
    this.failure = reason;
    this.settle();
  }
  onResponseHead(h: ResponseHead): void {
    this.status = h.statusCode;
  }
  onBody(chunk: Buffer): void {
    this.body += chunk.toString();
  }
  onResponseTrailers(_t: HeaderList): void {}
  onMessageComplete(): void {
    this.settle();
  }
  onUpstreamData(): void {}
  onUpstreamDrain(): void {}
  onUpstreamEnd(): void {}
  onUpstreamClose(): void {
    this.settle();
  }
}

/** Answers each stream with its path, holding `/hold*` streams until released. */
function serve(server: Http2Server | Http2SecureServer, held: Array<() => void>): void {
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => {});
    const answer = () => {
      stream.respond({ ':status': 200 });
      stream.end(String(headers[':path']));
    };
    if (String(headers[':path']).startsWith('/hold')) held.push(answer);
    else answer();
  });
}

function poolTo(port: number, maxConcurrentStreams: number, extra: Partial<Http2PoolDeps> = {}) {
  const stats = new StatsStore();
  const clusterStats = createClusterStats(stats, 'c');
  let pool: ConnectionPool | null = null;
  const host: Host = createHost(
    { address: '127.0.0.1', port, weight: 1, healthy: true, locality: null, priority: 0 },
    (h) => {
      pool = createHttp2ConnectionPool(
        h,
        {
          connectTimeoutMs: 2000,
          idleTimeoutMs: null,
          maxRequestsPerConnection: null,
          http2: { ...DEFAULT_HTTP2_OPTIONS, maxConcurrentStreams },
        },
        { clock: systemClock, stats: clusterStats, ...extra },
      );
      return pool;
    },
  );
  return { pool: pool!, host, stats: clusterStats };
}

describe('HTTP/2 upstream pool', () => {
  const closers: Array<() => void> = [];
  after(() => {
    for (const c of closers) c();
  });

  it('multiplexes up to max_concurrent_streams per session, then opens another', async () => {
    const held: Array<() => void> = [];
    const server = createServer();
    serve(server, held);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => server.close());
    const { pool, stats } = poolTo((server.address() as AddressInfo).port, 2);
    const xs = [new Exchange('/hold1'), new Exchange('/hold2'), new Exchange('/hold3')];
    for (const x of xs) pool.acquire(x);
    await waitFor(() => held.length === 3, 'three streams at the server');
    assert.equal(stats.upstream_cx_total.value, 2, 'two streams on the first session, the third on a second');
    assert.equal(pool.activeCount, 3);
    for (const f of held.splice(0)) f();
    await Promise.all(xs.map((x) => x.done));
    assert.deepEqual(
      xs.map((x) => x.body),
      ['/hold1', '/hold2', '/hold3'],
    );
    for (const x of xs) pool.release(x.conn!, true);
    assert.equal(pool.activeCount, 0);
    // A fourth request reuses an open session.
    const again = new Exchange('/again');
    pool.acquire(again);
    await again.done;
    assert.equal(again.body, '/again');
    pool.release(again.conn!, true);
    assert.equal(stats.upstream_cx_total.value, 2);
    pool.close();
  });

  it('a TLS session from the injected createConnection (ALPN h2)', async () => {
    const { cert, key } = await selfSigned();
    const server = createSecureServer({ cert, key, ALPNProtocols: ['h2'] });
    serve(server, []);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => server.close());
    let alpn: string | false = false;
    const { pool } = poolTo((server.address() as AddressInfo).port, 100, {
      createConnection: (host) => {
        const s = tlsConnect({
          host: host.address,
          port: host.port,
          ALPNProtocols: ['h2'],
          ca: cert,
          servername: '',
        });
        s.once('secureConnect', () => {
          alpn = s.alpnProtocol ?? false;
        });
        return s;
      },
    });
    const x = new Exchange('/secure');
    pool.acquire(x);
    await x.done;
    assert.equal(x.status, 200);
    assert.equal(x.body, '/secure');
    assert.equal(alpn, 'h2');
    pool.release(x.conn!, true);
    pool.close();
  });

  it('a refused connection fails the waiters; drain closes idle sessions', async () => {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const dead = poolTo(deadPort, 100);
    const a = new Exchange('/a');
    const b = new Exchange('/b');
    dead.pool.acquire(a);
    dead.pool.acquire(b);
    await Promise.all([a.done, b.done]);
    assert.equal(a.failure, 'connect_failure');
    assert.equal(b.failure, 'connect_failure');
    assert.equal(dead.stats.upstream_cx_connect_fail.value, 1);

    const server = createServer();
    serve(server, []);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => server.close());
    const live = poolTo((server.address() as AddressInfo).port, 100);
    const x = new Exchange('/x');
    live.pool.acquire(x);
    await x.done;
    live.pool.release(x.conn!, true);
    assert.equal(live.stats.upstream_cx_active.value, 1);
    live.pool.drain();
    await waitFor(() => live.stats.upstream_cx_active.value === 0, 'the idle session to close');
    assert.equal(live.stats.upstream_cx_destroy.value, 1);
    const late = new Exchange('/late');
    live.pool.acquire(late);
    await late.done;
    assert.equal(late.failure, 'closed');
  });
});
