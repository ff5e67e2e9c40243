import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import type { Cluster } from '../../config/model.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { HAS_CC } from '../../core/testing/c-compiler.js';
import { StatsStore } from '../stats/store.js';
import { ResponseFlag, type StreamInfo } from '../stream-info.js';
import { type ClusterManager, createClusterManager } from '../upstream/cluster-manager.js';
import type { ConnectFn } from '../upstream/connection-pool.js';
import { DEFAULT_LB_CONFIG } from '../upstream/lb/policy.js';
import { closedPort, clusterConfig, createFakeResolver, endpoint } from '../upstream/testing/fixtures.js';
import { createManualClock, type ManualClock } from '../upstream/testing/manual-clock.js';
import { loadNativeRelay, type NativeRelay } from './native-relay.js';
import { createTcpProxyFactory } from './tcp-proxy.js';

/** The native byte path, when built (scripts/build-native.mjs); its tests skip without it. */
const native = loadNativeRelay();
const NATIVE_SKIP = native.relay === null ? `native relay not built: ${native.reason}` : false;
/** Is there a C compiler here? Then `npm ci` must have built the native relay. */

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

/** An upstream server; `onSocket` decides its behaviour. Its sockets allow half-open. */
async function upstreamServer(
  onSocket: (s: net.Socket) => void,
): Promise<{ port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => {});
    onSocket(s);
  });
  const port = await listen(server);
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
  });
  return { port, sockets };
}

interface Proxy {
  port: number;
  stats: StatsStore;
  /** The proxy's clock, unless it runs on the system clock (`realClock`). */
  clock: ManualClock;
  clusters: ClusterManager;
  /** The proxy's downstream sockets, as the listener handed them over. */
  downstreams: net.Socket[];
  logs: StreamInfo[];
  nextLog(): Promise<StreamInfo>;
}

async function startProxy(
  cluster: Cluster | null,
  opts: {
    idleTimeoutMs?: number | null;
    clusterName?: string;
    connect?: ConnectFn;
    nativeRelay?: NativeRelay | null;
    /** The system clock instead of a manual one (the native relay measures idle time itself). */
    realClock?: boolean;
  } = {},
): Promise<Proxy> {
  const stats = new StatsStore();
  const manual = createManualClock();
  const clock: Clock = opts.realClock === true ? systemClock : manual;
  const clusters = createClusterManager({ stats, clock, resolver: createFakeResolver(), random: () => 0 });
  clusters.update(cluster === null ? [] : [cluster]);
  cleanups.push(() => clusters.close());
  const logs: StreamInfo[] = [];
  const logWaiters: ((i: StreamInfo) => void)[] = [];
  let ids = 0;
  const factory = createTcpProxyFactory(
    {
      statPrefix: 'tcp_in',
      cluster: opts.clusterName ?? cluster?.name ?? 'missing',
      idleTimeoutMs: opts.idleTimeoutMs === undefined ? null : opts.idleTimeoutMs,
      accessLog: [],
    },
    {
      clusters,
      stats,
      clock,
      idGen: () => ++ids,
      connect: opts.connect,
      nativeRelay: opts.nativeRelay ?? null,
      log(info) {
        logs.push(info);
        logWaiters.shift()?.(info);
      },
    },
  );
  const downstreams: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    downstreams.push(s);
    factory.handle(s);
  });
  const port = await listen(server);
  cleanups.push(() => {
    for (const s of downstreams) s.destroy();
  });
  return {
    port,
    stats,
    clock: manual,
    clusters,
    downstreams,
    logs,
    nextLog: () =>
      logs.length > 0 ? Promise.resolve(logs[0]) : new Promise<StreamInfo>((r) => logWaiters.push(r)),
  };
}

function client(port: number): net.Socket {
  const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  c.on('error', () => {});
  cleanups.push(() => c.destroy());
  return c;
}

/** Reads until the peer ends; resolves with everything read. */
async function readAll(s: net.Socket): Promise<string> {
  let text = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    text += d;
  });
  await once(s, 'end');
  return text;
}

async function readExactly(s: net.Socket, n: number): Promise<string> {
  let text = '';
  const onData = (d: Buffer) => {
    text += d.toString();
  };
  s.on('data', onData);
  while (text.length < n) await once(s, 'data');
  s.removeListener('data', onData);
  return text;
}

/** The proxy closed the connection: FIN ('end') or RST ('close' with an error). */
function hungUp(s: net.Socket): Promise<unknown> {
  return Promise.race([once(s, 'end'), once(s, 'close')]);
}

function counter(stats: StatsStore, name: string): number {
  return stats.counter(name).value;
}

/** The upstream sends a banner and shuts its write side; the client can still send after. */
async function checkHalfCloseFromUpstream(start: (cluster: Cluster) => Promise<Proxy>): Promise<void> {
  let serverGot: Promise<string> = Promise.resolve('');
  const up = await upstreamServer((s) => {
    serverGot = readAll(s);
    s.end('banner');
  });
  const proxy = await start(clusterConfig('c', [endpoint('127.0.0.1', up.port)]));
  const c = client(proxy.port);
  assert.equal(await readAll(c), 'banner');
  c.end('late');
  assert.equal(await serverGot, 'late');
  const info = await proxy.nextLog();
  assert.equal(info.bytesReceived, 4);
  assert.equal(info.bytesSent, 6);
}

/**
 * An upstream that reads nothing until `resume()`, and a 20 MiB payload to send it;
 * `received` is everything it read, once the sender ended.
 */
async function stalledUpstream(): Promise<{
  port: number;
  payload: Buffer;
  resume(): void;
  received: Promise<Buffer>;
}> {
  const size = 20 * 1024 * 1024;
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4096) payload.writeUInt32LE((i * 2654435761) >>> 0, i);
  let upstreamSide: net.Socket | null = null;
  let done!: (b: Buffer) => void;
  const received = new Promise<Buffer>((r) => {
    done = r;
  });
  const up = await upstreamServer((s) => {
    upstreamSide = s;
    s.pause(); // the slow reader: reads nothing until the test says so
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => {
      done(Buffer.concat(parts));
      s.end();
    });
  });
  return { port: up.port, payload, resume: () => upstreamSide?.resume(), received };
}

function assertSameBytes(got: Buffer, want: Buffer): void {
  assert.equal(got.length, want.length);
  assert.equal(
    createHash('sha256').update(got).digest('hex'),
    createHash('sha256').update(want).digest('hex'),
  );
}

describe('tcp_proxy', () => {
  it('relays an echo exchange and logs bytes, host, cluster and addresses once', async () => {
    const up = await upstreamServer((s) => {
      s.on('data', (d) => s.write(d));
      s.on('end', () => s.end());
    });
    const proxy = await startProxy(clusterConfig('echo', [endpoint('127.0.0.1', up.port)]));
    const c = client(proxy.port);
    await once(c, 'connect');
    const clientPort = c.localPort;
    c.write('hello');
    assert.equal(await readExactly(c, 5), 'hello');
    c.end('!!');
    const rest = readAll(c);
    assert.equal(await rest, '!!');
    const info = await proxy.nextLog();
    assert.equal(proxy.logs.length, 1);
    assert.equal(info.bytesReceived, 7);
    assert.equal(info.bytesSent, 7);
    assert.equal(info.upstreamCluster, 'echo');
    assert.equal(info.upstreamHost, `127.0.0.1:${up.port}`);
    assert.equal(info.downstreamRemoteAddress, `127.0.0.1:${clientPort}`);
    assert.equal(info.downstreamLocalAddress, `127.0.0.1:${proxy.port}`);
    assert.match(info.upstreamLocalAddress, /^127\.0\.0\.1:\d+$/);
    assert.equal(info.responseFlags, 0);
    assert.equal(info.connectionId, 1);
    assert.ok(info.endMonotonic >= info.startMonotonic);
    assert.equal(counter(proxy.stats, 'tcp.tcp_in.downstream_cx_total'), 1);
    assert.equal(counter(proxy.stats, 'tcp.tcp_in.downstream_cx_rx_bytes_total'), 7);
    assert.equal(counter(proxy.stats, 'tcp.tcp_in.downstream_cx_tx_bytes_total'), 7);
    assert.equal(counter(proxy.stats, 'cluster.echo.upstream_cx_total'), 1);
    assert.equal(counter(proxy.stats, 'cluster.echo.upstream_cx_tx_bytes_total'), 7);
    assert.equal(counter(proxy.stats, 'cluster.echo.upstream_cx_rx_bytes_total'), 7);
    assert.equal(proxy.stats.gauge('cluster.echo.upstream_cx_active').value, 0);
    const host = proxy.clusters.get('echo')!.hosts[0];
    assert.equal(host.stats.cxTotal, 1);
    assert.equal(host.stats.cxActive, 0);
  });

  it('half-close from downstream: the upstream still answers after the client shut its write side', async () => {
    const up = await upstreamServer((s) => {
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        got += d;
      });
      s.on('end', () => s.end(`pong:${got}`));
    });
    const proxy = await startProxy(clusterConfig('c', [endpoint('127.0.0.1', up.port)]));
    const c = client(proxy.port);
    c.end('ping');
    assert.equal(await readAll(c), 'pong:ping');
    const info = await proxy.nextLog();
    assert.equal(info.bytesReceived, 4);
    assert.equal(info.bytesSent, 9);
  });

  it('half-close from upstream: the client can still send after the server shut its write side', async () => {
    await checkHalfCloseFromUpstream((cluster) => startProxy(cluster));
  });

  it('applies backpressure: 20 MiB to a stalled reader is not buffered in the proxy, then arrives intact', async () => {
    const up = await stalledUpstream();
    const { payload } = up;
    const size = payload.length;
    let proxyUpstream!: net.Socket;
    const proxy = await startProxy(clusterConfig('big', [endpoint('127.0.0.1', up.port)]), {
      connect: (port, address) => {
        proxyUpstream = net.connect({ port, host: address, allowHalfOpen: true, noDelay: true });
        return proxyUpstream;
      },
    });
    const c = client(proxy.port);
    c.end(payload);
    // Wait until the relay stops making progress (the reader is stalled).
    const rx = proxy.stats.counter('tcp.tcp_in.downstream_cx_rx_bytes_total');
    let last = -1;
    let still = 0;
    while (still < 300) {
      await new Promise((r) => setImmediate(r));
      if (rx.value === last && rx.value > 0) still++;
      else {
        still = 0;
        last = rx.value;
      }
    }
    assert.ok(rx.value < size, `proxy read ${rx.value} of ${size} bytes while the reader was stalled`);
    assert.ok(
      proxyUpstream.writableLength <= 256 * 1024,
      `proxy buffered ${proxyUpstream.writableLength} bytes in user space`,
    );
    assert.equal(proxy.downstreams[0].isPaused(), true, 'downstream reading is paused');
    assert.ok(counter(proxy.stats, 'tcp.tcp_in.downstream_flow_control_paused_reading_total') > 0);
    up.resume();
    assertSameBytes(await up.received, payload);
    const info = await proxy.nextLog();
    assert.equal(info.bytesReceived, size);
  });

  it('closes both sides after idle_timeout without traffic (manual clock)', async () => {
    const up = await upstreamServer((s) => s.on('data', (d) => s.write(d)));
    const proxy = await startProxy(clusterConfig('c', [endpoint('127.0.0.1', up.port)]), {
      idleTimeoutMs: 1000,
    });
    const c = client(proxy.port);
    c.write('a');
    await readExactly(c, 1); // connected; idle timer armed at t=0
    proxy.clock.advance(600);
    c.write('b');
    await readExactly(c, 1); // activity at t=600
    proxy.clock.advance(400); // t=1000: only 400 ms idle
    assert.equal(proxy.downstreams[0].destroyed, false);
    proxy.clock.advance(599); // t=1599
    assert.equal(proxy.downstreams[0].destroyed, false);
    proxy.clock.advance(1); // t=1600: 1000 ms idle
    assert.equal(proxy.downstreams[0].destroyed, true);
    await once(c, 'end');
    const info = await proxy.nextLog();
    assert.equal(info.bytesSent, 2);
    assert.equal(counter(proxy.stats, 'tcp.tcp_in.idle_timeout'), 1);
  });

  it('closes the downstream and logs UF when the upstream refuses the connection', async () => {
    const port = await closedPort();
    const proxy = await startProxy(clusterConfig('dead', [endpoint('127.0.0.1', port)]));
    const c = client(proxy.port);
    c.write('hello?');
    await hungUp(c);
    const info = await proxy.nextLog();
    assert.equal(info.responseFlags, ResponseFlag.UpstreamConnectionFailure);
    assert.match(info.upstreamTransportFailureReason, /ECONNREFUSED/);
    assert.equal(info.bytesReceived, 0);
    assert.equal(counter(proxy.stats, 'cluster.dead.upstream_cx_connect_fail'), 1);
    assert.equal(proxy.stats.gauge('cluster.dead.upstream_cx_active').value, 0);
  });

  it('logs UF and counts a connect timeout (manual clock)', async () => {
    const proxy = await startProxy(
      clusterConfig('slow', [endpoint('127.0.0.1', 9)], { connectTimeoutMs: 300 }),
      {
        connect: () => new net.Socket(),
      },
    );
    const c = client(proxy.port);
    await once(c, 'connect');
    while (proxy.downstreams.length === 0) await new Promise((r) => setImmediate(r));
    proxy.clock.advance(300);
    await hungUp(c);
    const info = await proxy.nextLog();
    assert.equal(info.responseFlags, ResponseFlag.UpstreamConnectionFailure);
    assert.equal(counter(proxy.stats, 'cluster.slow.upstream_cx_connect_timeout'), 1);
    assert.equal(counter(proxy.stats, 'cluster.slow.upstream_cx_connect_fail'), 1);
  });

  it('does not count a connect failure when the client leaves while connecting', async () => {
    const sockets: net.Socket[] = [];
    const proxy = await startProxy(clusterConfig('slow', [endpoint('127.0.0.1', 9)]), {
      connect: () => {
        const s = new net.Socket();
        sockets.push(s);
        return s;
      },
    });
    const c = client(proxy.port);
    await once(c, 'connect');
    while (sockets.length === 0) await new Promise((r) => setImmediate(r));
    c.resetAndDestroy();
    const info = await proxy.nextLog();
    assert.equal(sockets[0].destroyed, true, 'the pending upstream connect is abandoned');
    assert.equal(info.responseFlags, 0);
    assert.equal(counter(proxy.stats, 'cluster.slow.upstream_cx_connect_fail'), 0);
    assert.equal(proxy.stats.gauge('cluster.slow.upstream_cx_active').value, 0);
  });

  it('logs UH when no host is healthy and NC when the cluster does not exist', async () => {
    // Panic threshold 0: with the default 50% the only (unhealthy) host would be used anyway.
    const lbConfig = { ...DEFAULT_LB_CONFIG, healthyPanicThresholdPercent: 0 };
    const proxy = await startProxy(
      clusterConfig('sick', [endpoint('127.0.0.1', 9, 1, 'UNHEALTHY')], { lbConfig }),
    );
    const c = client(proxy.port);
    await hungUp(c);
    const info = await proxy.nextLog();
    assert.equal(info.responseFlags, ResponseFlag.NoHealthyUpstream);
    assert.equal(counter(proxy.stats, 'cluster.sick.upstream_cx_none_healthy'), 1);

    const proxy2 = await startProxy(null, { clusterName: 'nope' });
    const c2 = client(proxy2.port);
    await hungUp(c2);
    const info2 = await proxy2.nextLog();
    assert.equal(info2.responseFlags, ResponseFlag.NoClusterFound);
    assert.equal(counter(proxy2.stats, 'tcp.tcp_in.downstream_cx_no_route'), 1);
  });
});

describe('tcp_proxy on the native byte path', () => {
  const relay = native.relay;
  const nativeProxy = (cluster: Cluster, opts: { idleTimeoutMs?: number; connect?: ConnectFn } = {}) =>
    startProxy(cluster, { ...opts, nativeRelay: relay, realClock: true });

  it('is built wherever a C compiler is (npm ci runs scripts/build-native.mjs)', {
    skip: !HAS_CC && 'no C compiler',
  }, () => {
    assert.notEqual(relay, null, NATIVE_SKIP || '');
  });

  it('relays an echo exchange, both half-closes, and logs and counts the bytes', {
    skip: NATIVE_SKIP,
  }, async () => {
    const up = await upstreamServer((s) => {
      s.on('data', (d) => s.write(d));
      s.on('end', () => s.end('bye'));
    });
    const proxy = await nativeProxy(clusterConfig('echo', [endpoint('127.0.0.1', up.port)]));
    const c = client(proxy.port);
    c.write('hello');
    assert.equal(await readExactly(c, 5), 'hello');
    // While the connection runs, reading all stats (as /stats does) collects its counters.
    assert.equal(counter(proxy.stats, 'tcp.tcp_in.downstream_cx_rx_bytes_total'), 0);
    proxy.stats.allCounters();
    assert.equal(counter(proxy.stats, 'tcp.tcp_in.downstream_cx_rx_bytes_total'), 5);
    assert.equal(counter(proxy.stats, 'tcp.tcp_in.downstream_cx_tx_bytes_total'), 5);
    c.end('!!'); // FIN from the client: the upstream still answers, then ends too
    assert.equal(await readAll(c), '!!bye');
    const info = await proxy.nextLog();
    assert.equal(info.bytesReceived, 7);
    assert.equal(info.bytesSent, 10);
    assert.equal(info.responseFlags, 0);
    assert.ok(info.firstResponseByteMonotonic >= info.startMonotonic);
    assert.ok(info.lastRequestByteMonotonic >= info.firstResponseByteMonotonic);
    assert.equal(counter(proxy.stats, 'tcp.tcp_in.downstream_cx_rx_bytes_total'), 7);
    assert.equal(counter(proxy.stats, 'tcp.tcp_in.downstream_cx_tx_bytes_total'), 10);
    assert.equal(counter(proxy.stats, 'cluster.echo.upstream_cx_rx_bytes_total'), 10);
    assert.equal(proxy.stats.gauge('cluster.echo.upstream_cx_active').value, 0);
  });

  it('half-close from upstream: the client can still send after the server shut its write side', {
    skip: NATIVE_SKIP,
  }, async () => {
    await checkHalfCloseFromUpstream((cluster) => nativeProxy(cluster));
  });

  it('sends the bytes the client wrote while the upstream was still connecting first', {
    skip: NATIVE_SKIP,
  }, async () => {
    const up = await upstreamServer((s) => s.on('data', (d) => s.write(d)));
    const proxy = await nativeProxy(clusterConfig('c', [endpoint('127.0.0.1', up.port)]), {
      // The upstream connects 50 ms late, so the client's bytes arrive first.
      connect: (port, address) => {
        const s = new net.Socket({ allowHalfOpen: true });
        setTimeout(() => s.connect({ port, host: address, noDelay: true }), 50);
        return s;
      },
    });
    const c = client(proxy.port);
    c.write('early ');
    c.write('bytes');
    assert.equal(await readExactly(c, 11), 'early bytes');
    c.write('+later');
    assert.equal(await readExactly(c, 6), '+later');
  });

  it('applies backpressure: 20 MiB to a stalled reader arrives intact, reading paused meanwhile', {
    skip: NATIVE_SKIP,
  }, async () => {
    const up = await stalledUpstream();
    const { payload } = up;
    const size = payload.length;
    const proxy = await nativeProxy(clusterConfig('big', [endpoint('127.0.0.1', up.port)]));
    const c = client(proxy.port);
    let flushed = false;
    c.end(payload, () => {
      flushed = true;
    });
    // The reader is stalled: the client cannot finish writing 20 MiB (the relay holds at
    // most one 64 KiB read, the kernel's socket buffers the rest of what is in flight).
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(flushed, false, 'the client could write everything while the reader was stalled');
    up.resume();
    assertSameBytes(await up.received, payload);
    const info = await proxy.nextLog();
    assert.equal(info.bytesReceived, size);
    assert.ok(counter(proxy.stats, 'tcp.tcp_in.downstream_flow_control_paused_reading_total') > 0);
    assert.ok(counter(proxy.stats, 'tcp.tcp_in.downstream_flow_control_resumed_reading_total') > 0);
  });

  it('closes both sides after idle_timeout without traffic, and not before', {
    skip: NATIVE_SKIP,
  }, async () => {
    let upstreamEnded = false;
    const up = await upstreamServer((s) => {
      s.on('data', (d) => s.write(d));
      s.on('end', () => {
        upstreamEnded = true;
      });
    });
    const proxy = await nativeProxy(clusterConfig('c', [endpoint('127.0.0.1', up.port)]), {
      idleTimeoutMs: 300,
    });
    const c = client(proxy.port);
    let lastTraffic = 0;
    for (let i = 0; i < 4; i++) {
      // Traffic every 150 ms keeps it open past the 300 ms timeout.
      if (i > 0) await new Promise((r) => setTimeout(r, 150));
      c.write('x');
      await readExactly(c, 1);
      lastTraffic = Date.now();
      assert.equal(proxy.downstreams[0].destroyed, false);
    }
    await hungUp(c);
    const info = await proxy.nextLog();
    // The relay's clock counts whole milliseconds: allow for one.
    assert.ok(Date.now() - lastTraffic >= 299, 'closed only after 300 ms without traffic');
    assert.equal(counter(proxy.stats, 'tcp.tcp_in.idle_timeout'), 1);
    assert.equal(info.bytesSent, 4);
    while (!upstreamEnded) await new Promise((r) => setTimeout(r, 10)); // the upstream got its FIN
  });

  it('closes the client when the upstream resets, with the reason in the log', {
    skip: NATIVE_SKIP,
  }, async () => {
    const up = await upstreamServer((s) => s.on('data', () => s.resetAndDestroy()));
    const proxy = await nativeProxy(clusterConfig('c', [endpoint('127.0.0.1', up.port)]));
    const c = client(proxy.port);
    c.write('boom');
    await hungUp(c);
    const info = await proxy.nextLog();
    assert.match(info.upstreamTransportFailureReason, /^relay ECONNRESET$/);
    assert.equal(proxy.stats.gauge('cluster.c.upstream_cx_active').value, 0);
  });

  it('ends the relay when the proxy destroys the downstream socket itself', {
    skip: NATIVE_SKIP,
  }, async () => {
    let upstreamEnded: Promise<unknown> = Promise.resolve(); // its FIN reaches the server
    const up = await upstreamServer((s) => {
      upstreamEnded = once(s, 'end');
      s.on('data', (d) => s.write(d));
    });
    const proxy = await nativeProxy(clusterConfig('c', [endpoint('127.0.0.1', up.port)]));
    const c = client(proxy.port);
    c.write('hi');
    assert.equal(await readExactly(c, 2), 'hi');
    proxy.downstreams[0].destroy(); // as a listener shutdown would
    await hungUp(c);
    await upstreamEnded;
    const info = await proxy.nextLog();
    assert.equal(info.bytesSent, 2);
  });
});
