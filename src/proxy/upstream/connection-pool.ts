// An HTTP/1.1 keep-alive connection pool for one upstream host: one request per
// connection at a time, idle connections reused LIFO (the most recently used socket is
// the warmest), new connections opened on demand with `connect_timeout`, idle ones
// closed after `idle_timeout`, and `max_requests_per_connection` honoured
// (upstream_cx_max_requests). With `max_connection_duration` a connection is retired once
// it is that old (upstream_cx_max_duration_reached): closed at once when idle, else when
// its request is done; one timer per connection, never per request.
//
// Socket hand-over protocol: the pool owns every listener on its sockets for their
// whole life ('data', 'drain', 'end', 'close', 'error'), attached once at connect; the
// user of a handed-out connection never adds or removes listeners (that cost showed in
// the profile on every request). Instead:
//   - In onPoolReady the user sets `conn.user` to an UpstreamConnectionUser; the pool's
//     listeners forward data/drain/end/close to it while the connection is handed out.
//   - While a connection is IDLE, bytes from the server are a protocol error (RFC 9112
//     §9.3 — nothing may be sent without a request): the connection is destroyed. The
//     socket keeps reading while idle, so a server's FIN is noticed at once and an idle
//     connection that the server closed is never handed out.
//   - release() clears `conn.user`. If the user paused the socket, the pool resumes it.
//     release(conn, false) — or a server that already sent FIN, a draining pool, or the
//     request limit reached — destroys the connection; otherwise it goes back on the idle
//     stack (or straight to the oldest waiter).
//
// Waiter callbacks are method calls on the waiter object: no closure per request. The
// only per-acquire allocation is the PendingRequest handle when a request has to wait.
// Connection stats (host.stats.cx*, cluster upstream_cx_total/active/connect_fail/
// connect_timeout/destroy) are kept here. Following Envoy, upstream_cx_total/active count
// from the connect attempt, and a connect timeout counts in both upstream_cx_connect_timeout
// and upstream_cx_connect_fail; upstream_cx_destroy counts established connections closed.
// Byte counters (upstream_cx_rx/tx_bytes_total) are bumped by whoever moves the bytes
// (the router, the TCP proxy), not here.
//
// Circuit breakers (cluster-circuit-breakers.ts, shared by the cluster's pools): acquire()
// fails at once with 'overflow' when max_requests, or — for a request that has to wait —
// max_pending_requests is reached (upstream_rq_pending_overflow, as Envoy counts both). A
// new connection is not opened past max_connections (upstream_cx_overflow): the request
// waits for a busy connection to come back. As in Envoy's pools, a pool with no connection
// at all may still open one, so a host is never starved by its siblings' connections.

import type * as net from 'node:net';
import { formatAddress } from '../../core/address.js';
import type { Clock, Timer } from '../../core/clock.js';
import type { HeaderList } from '../http/headers.js';
import type { UpstreamRequestEncoder } from '../http/stream-codec.js';
import type { ResponseParser } from '../http1/response-parser.js';
import { type BodyFraming, lastChunkWithTrailers, requestHeadBytes } from '../http1/serialize.js';
import type { NativeSocket, StreamSocket } from '../network/native-socket.js';
import { holdWritesForTurn } from '../network/socket-read.js';
import type { ClusterCircuitBreakers } from './cluster-circuit-breakers.js';
import type { ClusterStats } from './cluster-stats.js';
import { type ConnectFn, connectUpstream, type Http1ConnectFn, whenReady } from './connect.js';
import { OutlierResult } from './health/outlier-detector.js';
import type { Host } from './host.js';
import { PendingQueue } from './pending-queue.js';
import { admitPending, admitRequest } from './pool-admission.js';

export type PoolFailureReason = 'connect_failure' | 'connect_timeout' | 'overflow' | 'closed';

export interface PoolWaiter {
  /** use_downstream_protocol_config clusters: the downstream request is HTTP/2. */
  readonly downstreamHttp2?: boolean;
  onPoolReady(conn: UpstreamConnection): void;
  onPoolFailure(reason: PoolFailureReason, details: string): void;
}

/** Receives a handed-out connection's socket events (methods, so no closure per request). */
export interface UpstreamConnectionUser {
  onUpstreamData(data: Buffer): void;
  onUpstreamDrain(): void;
  /** The server sent FIN. */
  onUpstreamEnd(): void;
  /** The socket closed (after an error, a FIN, or destroy). */
  onUpstreamClose(): void;
}

/**
 * A handed-out upstream connection: the upstream request of one attempt (the HTTP/1.1
 * pool hands out a pooled connection; the HTTP/2 pool one object per stream).
 */
export interface UpstreamConnection extends UpstreamRequestEncoder {
  /** 1: HTTP/1.1 (responses arrive as bytes through onUpstreamData); 2: HTTP/2 (parsed). */
  readonly httpVersion: 1 | 2;
  /** A net.Socket, or a NativeSocket when the addon does the pool's I/O (plain HTTP/1.1). */
  readonly socket: StreamSocket;
  readonly host: Host;
  /** Requests handed out on this connection so far (including the current one). */
  requestCount: number;
  /** Set by the user in onPoolReady; cleared by release(). */
  user: UpstreamConnectionUser | null;
  /** HTTP/1: the connection's response parser, created by its first user and reused by the next. */
  responseParser: ResponseParser | null;
  /** The last socket error's text, '' when none. */
  readonly lastError: string;
  /** HTTP/2: the server refused the stream (REFUSED_STREAM, or GOAWAY below its id). */
  readonly refused?: boolean;
  /**
   * HTTP/2: the stream raced the server's GOAWAY (opened above the GOAWAY's last stream, or
   * after it arrived). The server guarantees it never processed it (RFC 9113 §6.8), so the
   * router sends the request again on a fresh connection, as for an HTTP/1.1 keep-alive
   * connection closed under a request. A REFUSED_STREAM reset is not this: retry_on
   * `refused-stream` decides that one, as in Envoy.
   */
  readonly unprocessed?: boolean;
  /** "ip:port" of our side of the connection, '' until connected. */
  readonly localAddress: string;
}

export interface PendingRequest {
  /** Stops waiting; the waiter will not be called. A connection being opened for it stays (goes idle). */
  cancel(): void;
}

export interface ConnectionPool {
  /**
   * Gets a connection for one request. Returns null when the waiter was already called
   * synchronously — onPoolReady with an idle connection, or onPoolFailure('closed') when
   * the pool is draining/closed; otherwise a handle to cancel the wait.
   */
  acquire(waiter: PoolWaiter): PendingRequest | null;
  /** Gives a handed-out connection back; reusable=false destroys it. */
  release(conn: UpstreamConnection, reusable: boolean): void;
  readonly idleCount: number;
  /** Connections handed out and not yet released. */
  readonly activeCount: number;
  readonly pendingCount: number;
  readonly connectingCount: number;
  /** Closes idle connections now and busy ones when released; opens no new ones. */
  drain(): void;
  /** Destroys every connection and fails every waiter with 'closed'. */
  close(): void;
}

export type { ConnectFn, Http1ConnectFn } from './connect.js';

/** HTTP/1.1 pooled connections: half-close is not used. */
export const defaultConnect: ConnectFn = (port, address, onData) =>
  connectUpstream(port, address, false, onData);

export interface ConnectionPoolOptions {
  readonly connectTimeoutMs: number;
  /** null = idle connections are kept until the server closes them. */
  readonly idleTimeoutMs: number | null;
  /** null = unlimited. */
  readonly maxRequestsPerConnection: number | null;
  /** From the connection's establishment; null or absent = no limit. */
  readonly maxConnectionDurationMs?: number | null;
}

export interface ConnectionPoolDeps {
  readonly clock: Clock;
  readonly stats: ClusterStats;
  readonly connect?: Http1ConnectFn;
  /** The cluster's circuit breakers; absent = no limits (unit tests of the pool alone). */
  readonly circuitBreakers?: ClusterCircuitBreakers;
}

const CONNECTING = 0;
const IDLE = 1;
const BUSY = 2;
const CLOSED = 3;

const CHUNK_END = '0\r\n\r\n';

class PooledConnection implements UpstreamConnection {
  readonly httpVersion = 1;
  readonly socket: net.Socket | NativeSocket;
  readonly host: Host;
  private readonly stats: ClusterStats;
  /** The current request's body is sent with chunked framing. */
  private chunkedRequest = false;
  requestCount = 0;
  user: UpstreamConnectionUser | null = null;
  responseParser: ResponseParser | null = null;
  localAddress = '';
  state = CONNECTING;
  /** Between onPoolReady and release(); survives a close so release() balances the count. */
  handedOut = false;
  /** The server sent FIN; never reuse. */
  remoteEnded = false;
  timedOut = false;
  lastError = '';
  idleSince = 0;
  connectTimer: Timer | null = null;
  /** max_connection_duration: set when it passes; the connection is not reused. */
  expired = false;
  maxDurationTimer: Timer | null = null;

  // Per-connection bound handlers (allocated once per connection, never per request).
  readonly onConnect: () => void;
  readonly onData: (data: Buffer) => void;
  readonly onDrain: () => void;
  readonly onEnd: () => void;
  readonly onClose: () => void;
  readonly onError: (err: Error) => void;
  readonly onConnectTimeout: () => void;
  readonly onMaxDuration: () => void;

  constructor(pool: Pool, socket: net.Socket | NativeSocket, host: Host, stats: ClusterStats) {
    this.socket = socket;
    this.host = host;
    this.stats = stats;
    this.onConnect = () => pool.connectionConnected(this);
    this.onData = (data: Buffer) => {
      const user = this.user;
      if (user !== null) user.onUpstreamData(data);
      else if (this.state !== BUSY) pool.destroyConnection(this); // bytes on an idle connection
    };
    this.onDrain = () => this.user?.onUpstreamDrain();
    this.onEnd = () => {
      pool.connectionEnded(this);
      this.user?.onUpstreamEnd();
    };
    this.onClose = () => {
      pool.connectionClosed(this);
      this.user?.onUpstreamClose();
    };
    this.onError = (err: Error) => {
      this.lastError = err.message;
    };
    this.onConnectTimeout = () => pool.connectTimedOut(this);
    this.onMaxDuration = () => pool.connectionExpired(this);
  }

  // --- UpstreamRequestEncoder (HTTP/1.1, RFC 9112) ---

  sendHead(
    method: string,
    path: string,
    authority: string,
    _scheme: string,
    headers: HeaderList,
    framing: BodyFraming,
    body: readonly Buffer[] | null,
    end: boolean,
  ): boolean {
    const chunked = framing.kind === 'chunked';
    this.chunkedRequest = chunked;
    const head = requestHeadBytes(method, path, authority, headers, framing);
    this.stats.upstream_cx_tx_bytes_total.value += head.length;
    const socket = this.socket;
    holdWritesForTurn(socket);
    if (body === null) {
      // The common case: the whole request is its head, one write.
      if (end && chunked) {
        socket.cork();
        socket.write(head);
        const ok = socket.write(CHUNK_END, 'latin1');
        socket.uncork();
        return ok;
      }
      return socket.write(head);
    }
    socket.cork();
    let ok = socket.write(head);
    for (let i = 0; i < body.length; i++) ok = this.sendBody(body[i]);
    if (end && chunked) ok = socket.write(CHUNK_END, 'latin1');
    socket.uncork();
    return ok;
  }

  sendBody(chunk: Buffer): boolean {
    const socket = this.socket;
    holdWritesForTurn(socket);
    this.stats.upstream_cx_tx_bytes_total.value += chunk.length;
    if (this.chunkedRequest) {
      if (chunk.length === 0) return true;
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      return socket.write('\r\n', 'latin1');
    }
    return socket.write(chunk);
  }

  sendEnd(): void {
    if (!this.chunkedRequest) return;
    holdWritesForTurn(this.socket);
    this.socket.write(CHUNK_END, 'latin1');
  }

  sendTrailers(trailers: HeaderList): void {
    if (!this.chunkedRequest) return;
    holdWritesForTurn(this.socket);
    this.socket.write(lastChunkWithTrailers(trailers), 'latin1');
  }

  pauseResponse(): void {
    this.socket.pause();
  }

  resumeResponse(): void {
    this.socket.resume();
  }
}

class Pool implements ConnectionPool {
  private readonly idle: PooledConnection[] = [];
  private readonly pending: PendingQueue;
  private readonly all = new Set<PooledConnection>();
  private connecting = 0;
  private busy = 0;
  private draining = false;
  private idleTimer: Timer | null = null;
  private readonly connect: Http1ConnectFn;
  private readonly cb: ClusterCircuitBreakers | null;
  private readonly onIdleSweep = () => this.sweepIdle();

  constructor(
    private readonly host: Host,
    private readonly options: ConnectionPoolOptions,
    private readonly deps: ConnectionPoolDeps,
  ) {
    this.connect = deps.connect ?? defaultConnect;
    this.cb = deps.circuitBreakers ?? null;
    this.pending = new PendingQueue(this.cb);
  }

  get idleCount(): number {
    return this.idle.length;
  }
  get activeCount(): number {
    return this.busy;
  }
  get pendingCount(): number {
    return this.pending.length;
  }
  get connectingCount(): number {
    return this.connecting;
  }

  acquire(waiter: PoolWaiter): PendingRequest | null {
    if (!admitRequest(this.draining, this.cb, this.deps.stats, waiter)) return null;
    const conn = this.idle.pop();
    if (conn !== undefined) {
      this.handOut(conn, waiter);
      return null;
    }
    if (!admitPending(this.cb, this.deps.stats, waiter)) return null;
    const entry = this.pending.push(waiter);
    if (this.connecting < this.pending.length) this.openForPending();
    return entry.done ? null : entry;
  }

  release(c: UpstreamConnection, reusable: boolean): void {
    const conn = c as PooledConnection;
    if (!conn.handedOut) return;
    conn.handedOut = false;
    conn.user = null;
    this.busy--;
    if (this.cb !== null) this.cb.requests.dec();
    if (conn.state === CLOSED) return;
    const max = this.options.maxRequestsPerConnection;
    if (max !== null && conn.requestCount >= max) {
      this.deps.stats.upstream_cx_max_requests.value++;
      this.destroyConnection(conn);
      return;
    }
    if (!reusable || this.draining || conn.remoteEnded || conn.socket.destroyed || conn.expired) {
      this.destroyConnection(conn);
      return;
    }
    const socket = conn.socket;
    if (socket.isPaused()) socket.resume();
    const next = this.pending.take();
    if (next !== undefined) {
      this.handOut(conn, next);
      return;
    }
    this.makeIdle(conn);
  }

  drain(): void {
    this.draining = true;
    while (this.idle.length > 0) this.destroyConnection(this.idle[this.idle.length - 1]);
  }

  close(): void {
    this.draining = true;
    if (this.idleTimer !== null) {
      this.idleTimer.cancel();
      this.idleTimer = null;
    }
    const waiting = this.pending.takeAll();
    for (const conn of [...this.all]) this.destroyConnection(conn);
    for (const waiter of waiting) waiter.onPoolFailure('closed', 'connection pool closed');
  }

  // --- internals (called by PooledConnection handlers) ---

  /** Opens a connection for waiting requests unless max_connections says no. */
  private openForPending(): void {
    const cb = this.cb;
    if (cb !== null && !cb.connections.canCreate() && this.all.size > 0) {
      this.deps.stats.upstream_cx_overflow.value++;
      return;
    }
    this.openConnection();
  }

  connectionConnected(conn: PooledConnection): void {
    if (conn.state !== CONNECTING) return;
    this.connecting--;
    const socket = conn.socket;
    if (socket.localAddress !== undefined)
      conn.localAddress = formatAddress(socket.localAddress, socket.localPort ?? 0);
    if (conn.connectTimer !== null) {
      conn.connectTimer.cancel();
      conn.connectTimer = null;
    }
    this.host.outlier?.putResult(OutlierResult.LocalOriginConnectSuccess);
    const maxDuration = this.options.maxConnectionDurationMs;
    if (maxDuration !== undefined && maxDuration !== null)
      conn.maxDurationTimer = this.deps.clock.setTimer(maxDuration, conn.onMaxDuration);
    const next = this.pending.take();
    if (next !== undefined) {
      this.handOut(conn, next);
    } else if (this.draining) {
      this.destroyConnection(conn);
    } else {
      this.makeIdle(conn);
    }
  }

  connectTimedOut(conn: PooledConnection): void {
    conn.connectTimer = null;
    if (conn.state !== CONNECTING) return;
    conn.timedOut = true;
    this.deps.stats.upstream_cx_connect_timeout.value++;
    this.destroyConnection(conn);
  }

  /** max_connection_duration passed: an idle connection closes now, a busy one when released. */
  connectionExpired(conn: PooledConnection): void {
    conn.maxDurationTimer = null;
    if (conn.state === CLOSED) return;
    conn.expired = true;
    this.deps.stats.upstream_cx_max_duration_reached.value++;
    if (conn.state === IDLE) this.destroyConnection(conn);
  }

  connectionEnded(conn: PooledConnection): void {
    conn.remoteEnded = true;
    if (conn.state === IDLE) this.destroyConnection(conn);
  }

  connectionClosed(conn: PooledConnection): void {
    this.finalize(conn);
  }

  /** Destroys the socket; bookkeeping happens at once so an idle one is never handed out. */
  destroyConnection(conn: PooledConnection): void {
    this.finalize(conn);
    conn.socket.destroy();
  }

  private openConnection(): void {
    const host = this.host;
    const stats = this.deps.stats;
    stats.upstream_cx_total.value++;
    stats.upstream_cx_active.value++;
    host.stats.cxTotal++;
    host.stats.cxActive++;
    let socket: net.Socket | NativeSocket;
    let target: PooledConnection | null = null;
    try {
      socket = this.connect(host.port, host.address, (chunk) => target?.onData(chunk));
    } catch (err) {
      stats.upstream_cx_active.value--;
      host.stats.cxActive--;
      stats.upstream_cx_connect_fail.value++;
      host.stats.cxConnectFail++;
      host.outlier?.putResult(OutlierResult.LocalOriginConnectFailed);
      this.pending.failBeyond(
        this.connecting,
        'connect_failure',
        err instanceof Error ? err.message : String(err),
      );
      return;
    }
    const conn = new PooledConnection(this, socket, host, stats);
    target = conn;
    this.all.add(conn);
    if (this.cb !== null) this.cb.connections.inc();
    this.connecting++;
    socket.on('error', conn.onError);
    socket.on('data', conn.onData);
    socket.on('drain', conn.onDrain);
    socket.on('end', conn.onEnd);
    socket.on('close', conn.onClose);
    whenReady(socket, conn.onConnect);
    conn.connectTimer = this.deps.clock.setTimer(this.options.connectTimeoutMs, conn.onConnectTimeout);
  }

  private handOut(conn: PooledConnection, waiter: PoolWaiter): void {
    conn.state = BUSY;
    conn.handedOut = true;
    conn.requestCount++;
    this.busy++;
    if (this.cb !== null) this.cb.requests.inc();
    waiter.onPoolReady(conn);
  }

  private makeIdle(conn: PooledConnection): void {
    conn.state = IDLE;
    conn.idleSince = this.deps.clock.monotonic();
    this.idle.push(conn);
    this.armIdleTimer();
  }

  /** One timer per pool, due when the oldest idle connection (bottom of the stack) expires. */
  private armIdleTimer(): void {
    const timeout = this.options.idleTimeoutMs;
    if (timeout === null || this.idleTimer !== null || this.idle.length === 0) return;
    const due = this.idle[0].idleSince + timeout - this.deps.clock.monotonic();
    this.idleTimer = this.deps.clock.setTimer(Math.max(due, 0), this.onIdleSweep);
  }

  private sweepIdle(): void {
    this.idleTimer = null;
    const timeout = this.options.idleTimeoutMs;
    if (timeout === null) return;
    const now = this.deps.clock.monotonic();
    while (this.idle.length > 0 && now - this.idle[0].idleSince >= timeout) {
      this.destroyConnection(this.idle[0]);
    }
    this.armIdleTimer();
  }

  /** Removes a connection from every structure and settles its stats; idempotent. */
  private finalize(conn: PooledConnection): void {
    const prev = conn.state;
    if (prev === CLOSED) return;
    conn.state = CLOSED;
    if (conn.maxDurationTimer !== null) {
      conn.maxDurationTimer.cancel();
      conn.maxDurationTimer = null;
    }
    this.all.delete(conn);
    if (this.cb !== null) this.cb.connections.dec();
    const stats = this.deps.stats;
    const hostStats = this.host.stats;
    stats.upstream_cx_active.value--;
    hostStats.cxActive--;
    if (prev === CONNECTING) {
      this.connecting--;
      if (conn.connectTimer !== null) {
        conn.connectTimer.cancel();
        conn.connectTimer = null;
      }
      stats.upstream_cx_connect_fail.value++;
      hostStats.cxConnectFail++;
      this.host.outlier?.putResult(
        conn.timedOut ? OutlierResult.LocalOriginTimeout : OutlierResult.LocalOriginConnectFailed,
      );
      this.pending.failConnectAttempt(
        this.connecting,
        this.host.addressString,
        conn.timedOut,
        this.options.connectTimeoutMs,
        conn.lastError,
      );
      return;
    }
    stats.upstream_cx_destroy.value++;
    if (prev === IDLE) {
      const i = this.idle.lastIndexOf(conn);
      if (i >= 0) this.idle.splice(i, 1);
    }
    // Requests waiting only because of max_connections may now get a connection.
    if (!this.draining && this.pending.length > this.connecting) this.openForPending();
  }
}

export function createConnectionPool(
  host: Host,
  options: ConnectionPoolOptions,
  deps: ConnectionPoolDeps,
): ConnectionPool {
  return new Pool(host, options, deps);
}
