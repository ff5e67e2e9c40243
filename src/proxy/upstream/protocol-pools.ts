// Pools of a host that speak more than one upstream protocol, each an HTTP/1.1 pool and an
// HTTP/2 pool side by side:
//
// - `use_downstream_protocol_config`: each request goes to the pool matching its
//   downstream protocol (PoolWaiter.downstreamHttp2).
// - `auto_config` on a TLS cluster: the protocol is what the server chose by ALPN (Envoy's
//   mixed pool). The first connection to the host is a probe offering `h2,http/1.1`
//   (or common_tls_context.alpn_protocols): requests wait for it, and once its handshake
//   ends the host's protocol is known — `h2` means HTTP/2, anything else (including no
//   ALPN) HTTP/1.1 — and the probe connection is adopted by that pool, which serves the
//   waiting requests and every later one. Later connections offer the same ALPN list; one
//   that negotiates the other protocol updates what the host is known to speak, so new
//   requests go to the other pool (that connection itself fails like any broken one).
//
// In both, a connection goes back to the pool it came from (its httpVersion).

import type * as net from 'node:net';
import type { Clock, Timer } from '../../core/clock.js';
import type { ClusterStats } from './cluster-stats.js';
import type {
  ConnectFn,
  ConnectionPool,
  PendingRequest,
  PoolWaiter,
  UpstreamConnection,
} from './connection-pool.js';
import { OutlierResult } from './health/outlier-detector.js';
import type { Host } from './host.js';

class ByDownstreamProtocolPool implements ConnectionPool {
  constructor(
    private readonly http1: ConnectionPool,
    private readonly http2: ConnectionPool,
  ) {}

  acquire(waiter: PoolWaiter): PendingRequest | null {
    return waiter.downstreamHttp2 === true ? this.http2.acquire(waiter) : this.http1.acquire(waiter);
  }

  release(conn: UpstreamConnection, reusable: boolean): void {
    if (conn.httpVersion === 2) this.http2.release(conn, reusable);
    else this.http1.release(conn, reusable);
  }

  get idleCount(): number {
    return this.http1.idleCount + this.http2.idleCount;
  }
  get activeCount(): number {
    return this.http1.activeCount + this.http2.activeCount;
  }
  get pendingCount(): number {
    return this.http1.pendingCount + this.http2.pendingCount;
  }
  get connectingCount(): number {
    return this.http1.connectingCount + this.http2.connectingCount;
  }

  drain(): void {
    this.http1.drain();
    this.http2.drain();
  }

  close(): void {
    this.http1.close();
    this.http2.close();
  }
}

export function createByDownstreamProtocolPool(http1: ConnectionPool, http2: ConnectionPool): ConnectionPool {
  return new ByDownstreamProtocolPool(http1, http2);
}

export interface AlpnPoolDeps {
  readonly clock: Clock;
  readonly stats: ClusterStats;
  readonly connectTimeoutMs: number;
  /** Opens a TLS connection offering the auto_config ALPN list. */
  readonly open: (port: number, address: string) => net.Socket;
  /** Builds the host's HTTP/1.1 pool over `connect`. */
  readonly createHttp1: (connect: ConnectFn) => ConnectionPool;
  /** Builds the host's HTTP/2 pool over `connect`. */
  readonly createHttp2: (connect: ConnectFn) => ConnectionPool;
}

const UNKNOWN = 0;

/** 2 when the handshake chose `h2` (RFC 7301; RFC 9113 §3.2), else 1 (HTTP/1.1). */
function negotiatedVersion(socket: net.Socket): 1 | 2 {
  return (socket as { alpnProtocol?: string | false | null }).alpnProtocol === 'h2' ? 2 : 1;
}

/** A request waiting for the probe; once the protocol is known, the handle of the chosen pool. */
class AlpnPending implements PendingRequest {
  done = false;
  inner: PendingRequest | null = null;
  constructor(
    private readonly pool: AlpnProtocolPool,
    readonly waiter: PoolWaiter,
  ) {}
  cancel(): void {
    if (this.done) return;
    this.done = true;
    if (this.inner !== null) this.inner.cancel();
    else this.pool.removeWaiting(this);
  }
}

class AlpnProtocolPool implements ConnectionPool {
  /** What the host speaks: UNKNOWN until a handshake told, then 1 or 2. */
  protocol: 0 | 1 | 2 = UNKNOWN;
  private readonly http1: ConnectionPool;
  private readonly http2: ConnectionPool;
  private readonly waiting: AlpnPending[] = [];
  private probe: net.Socket | null = null;
  private probeTimer: Timer | null = null;
  private probeTimedOut = false;
  /** The probe connection, ready, until the chosen pool's connect takes it. */
  private adopted: net.Socket | null = null;
  private draining = false;

  constructor(
    private readonly host: Host,
    private readonly deps: AlpnPoolDeps,
  ) {
    this.http1 = deps.createHttp1((port, address) => this.connectFor(1, port, address));
    this.http2 = deps.createHttp2((port, address) => this.connectFor(2, port, address));
  }

  /** The connect function of the pool for `version`: the adopted probe first, else a new connection. */
  private connectFor(version: 1 | 2, port: number, address: string): net.Socket {
    const adopted = this.adopted;
    if (adopted !== null) {
      this.adopted = null;
      return adopted;
    }
    const socket = this.deps.open(port, address);
    socket.once('secureConnect', () => {
      const v = negotiatedVersion(socket);
      if (v !== version) this.protocol = v;
    });
    return socket;
  }

  acquire(waiter: PoolWaiter): PendingRequest | null {
    const protocol = this.protocol;
    if (protocol === 2) return this.http2.acquire(waiter);
    if (protocol === 1) return this.http1.acquire(waiter);
    if (this.draining) {
      waiter.onPoolFailure('closed', 'connection pool is draining');
      return null;
    }
    const entry = new AlpnPending(this, waiter);
    this.waiting.push(entry);
    if (this.probe === null) this.openProbe();
    return entry.done ? null : entry;
  }

  release(conn: UpstreamConnection, reusable: boolean): void {
    if (conn.httpVersion === 2) this.http2.release(conn, reusable);
    else this.http1.release(conn, reusable);
  }

  removeWaiting(entry: AlpnPending): void {
    const i = this.waiting.indexOf(entry);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  private openProbe(): void {
    const host = this.host;
    let socket: net.Socket;
    try {
      socket = this.deps.open(host.port, host.address);
    } catch (err) {
      this.probeFailed(err instanceof Error ? err.message : String(err));
      return;
    }
    this.probe = socket;
    this.probeTimedOut = false;
    let lastError = '';
    socket.on('error', (err: Error) => {
      if (lastError === '') lastError = err.message;
    });
    socket.once('close', () => {
      if (this.probe !== socket) return;
      this.probe = null;
      this.cancelProbeTimer();
      this.probeFailed(
        this.probeTimedOut
          ? `connect to ${host.addressString} timed out after ${this.deps.connectTimeoutMs} ms`
          : lastError === ''
            ? `connection to ${host.addressString} closed`
            : lastError,
      );
    });
    socket.once('secureConnect', () => {
      if (this.probe !== socket) return;
      this.probe = null;
      this.cancelProbeTimer();
      this.probeSucceeded(socket);
    });
    this.probeTimer = this.deps.clock.setTimer(this.deps.connectTimeoutMs, () => {
      this.probeTimer = null;
      this.probeTimedOut = true;
      this.deps.stats.upstream_cx_connect_timeout.value++;
      socket.destroy();
    });
  }

  private cancelProbeTimer(): void {
    if (this.probeTimer !== null) {
      this.probeTimer.cancel();
      this.probeTimer = null;
    }
  }

  /** The host's protocol is known: the chosen pool adopts the probe and takes the waiters. */
  private probeSucceeded(socket: net.Socket): void {
    const version = negotiatedVersion(socket);
    this.protocol = version;
    const pool = version === 2 ? this.http2 : this.http1;
    this.adopted = socket;
    const waiting = this.waiting.splice(0);
    for (let i = 0; i < waiting.length; i++) {
      const entry = waiting[i];
      entry.inner = pool.acquire(entry.waiter);
      if (entry.inner === null) entry.done = true;
    }
    // The pools take a connection synchronously in acquire(); a probe still here had no
    // taker (every waiter cancelled, or refused by a circuit breaker).
    this.dropAdopted();
  }

  /** Counted as the pools count a failed connect (upstream_cx_total, _connect_fail). */
  private probeFailed(details: string): void {
    const stats = this.deps.stats;
    const host = this.host;
    stats.upstream_cx_total.value++;
    stats.upstream_cx_connect_fail.value++;
    host.stats.cxTotal++;
    host.stats.cxConnectFail++;
    host.outlier?.putResult(
      this.probeTimedOut ? OutlierResult.LocalOriginTimeout : OutlierResult.LocalOriginConnectFailed,
    );
    const reason = this.probeTimedOut ? 'connect_timeout' : 'connect_failure';
    const waiting = this.waiting.splice(0);
    for (let i = 0; i < waiting.length; i++) {
      waiting[i].done = true;
      waiting[i].waiter.onPoolFailure(reason, details);
    }
  }

  get idleCount(): number {
    return this.http1.idleCount + this.http2.idleCount;
  }
  get activeCount(): number {
    return this.http1.activeCount + this.http2.activeCount;
  }
  get pendingCount(): number {
    return this.waiting.length + this.http1.pendingCount + this.http2.pendingCount;
  }
  get connectingCount(): number {
    return (this.probe === null ? 0 : 1) + this.http1.connectingCount + this.http2.connectingCount;
  }

  drain(): void {
    this.draining = true;
    this.http1.drain();
    this.http2.drain();
    this.dropAdopted();
  }

  close(): void {
    this.draining = true;
    const probe = this.probe;
    this.probe = null;
    this.cancelProbeTimer();
    if (probe !== null) probe.destroy();
    this.dropAdopted();
    const waiting = this.waiting.splice(0);
    for (let i = 0; i < waiting.length; i++) {
      waiting[i].done = true;
      waiting[i].waiter.onPoolFailure('closed', 'connection pool closed');
    }
    this.http1.close();
    this.http2.close();
  }

  private dropAdopted(): void {
    const adopted = this.adopted;
    this.adopted = null;
    if (adopted !== null) adopted.destroy();
  }
}

/** The pool of a host on an auto_config TLS cluster: HTTP/1.1 or HTTP/2 as ALPN chose. */
export function createAlpnProtocolPool(host: Host, deps: AlpnPoolDeps): ConnectionPool {
  return new AlpnProtocolPool(host, deps);
}
