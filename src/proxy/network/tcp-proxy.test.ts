import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import type { Cluster } from '../../config/model.js';
import { StatsStore } from '../stats/store.js';
import { ResponseFlag, type StreamInfo } from '../stream-info.js';
import { type ClusterManager, createClusterManager } from '../upstream/cluster-manager.js';
import type { ConnectFn } from '../upstream/connection-pool.js';
import { DEFAULT_LB_CONFIG } from '../upstream/lb/policy.js';
import { clusterConfig, createFakeResolver, endpoint } from '../upstream/testing/fixtures.js';
import { createManualClock, type ManualClock } from '../upstream/testing/manual-clock.js';
import { createTcpProxyFactory } from './tcp-proxy.js';

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

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  probe.close();
  await once(probe, 'close');
  return port;
}

interface Proxy {
  port: number;
  stats: StatsStore;
  clock: ManualClock;
  clusters: ClusterManager;
  /** The proxy's downstream sockets, as the listener handed them over. */
  downstreams: net.Socket[];
  logs: StreamInfo[];
  nextLog(): Promise<StreamInfo>;
}

async function startProxy(
  cluster: Cluster | null,
  opts: { idleTimeoutMs?: number | null; clusterName?: string; connect?: ConnectFn } = {},
): Promise<Proxy> {
  const stats = new StatsStore();
  const clock = createManualClock();
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
    clock,
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
    let serverGot: Promise<string> = Promise.resolve('');
    const up = await upstreamServer((s) => {
      serverGot = readAll(s);
      s.end('banner');
    });
    const proxy = await startProxy(clusterConfig('c', [endpoint('127.0.0.1', up.port)]));
    const c = client(proxy.port);
    assert.equal(await readAll(c), 'banner');
    c.end('late');
    assert.equal(await serverGot, 'late');
    const info = await proxy.nextLog();
    assert.equal(info.bytesReceived, 4);
    assert.equal(info.bytesSent, 6);
  });

  it('applies backpressure: 20 MiB to a stalled reader is not buffered in the proxy, then arrives intact', async () => {
    const size = 20 * 1024 * 1024;
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) payload.writeUInt32LE((i * 2654435761) >>> 0, i);
    let upstreamSide!: net.Socket;
    let received!: (b: Buffer) => void;
    const serverReceived = new Promise<Buffer>((r) => {
      received = r;
    });
    const up = await upstreamServer((s) => {
      upstreamSide = s;
      s.pause(); // the slow reader: reads nothing until the test says so
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => {
        received(Buffer.concat(parts));
        s.end();
      });
    });
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
    upstreamSide.resume();
    const got = await serverReceived;
    assert.equal(got.length, size);
    assert.equal(
      createHash('sha256').update(got).digest('hex'),
      createHash('sha256').update(payload).digest('hex'),
    );
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
