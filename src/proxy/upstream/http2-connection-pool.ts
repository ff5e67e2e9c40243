// An HTTP/2 connection pool for one upstream host: one multiplexed connection (Weft's own
// ClientSession, src/proxy/http2/client-session.ts) carries many requests; another is
// opened only when every open session is
// at its stream limit (the smaller of the server's SETTINGS_MAX_CONCURRENT_STREAMS and the
// cluster's http2_protocol_options.max_concurrent_streams), has received GOAWAY, or
// reached max_requests_per_connection. Each handed-out request is an Http2UpstreamStream
// (the UpstreamConnection of one attempt): it sends the request as HEADERS/DATA (RFC 9113
// §8.3.1 pseudo-headers, Host → :authority, `te: trailers` for gRPC), then the request's
// trailers as a trailing HEADERS frame when it has some, and delivers the response to its
// user through the ResponseHandler methods. Backpressure: a paused response holds its DATA
// and keeps its window shut; a request body write is refused while the stream's window or
// the socket's buffer is full, and onUpstreamDrain follows. A stream the server refuses
// with GOAWAY (above its last stream) is reset, and the router may retry it elsewhere.
//
// Circuit breakers as in the HTTP/1.1 pool: max_requests (active streams), max_pending
// (requests waiting for a session) and max_connections (sessions). Connection stats
// likewise (upstream_cx_total/active/connect_fail/connect_timeout/destroy).
//
// Sockets come from an injected `createConnection(host)` or `connect` (a plain TCP
// socket by default), so an origination TLS socket (with ALPN h2) can be handed in by
// whoever builds the cluster.

import type * as net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Http2Options } from '../../config/model.js';
import { formatAddress } from '../../core/address.js';
import type { Clock, Timer } from '../../core/clock.js';
import type { HeaderList } from '../http/headers.js';
import { isForbiddenTrailer } from '../http1/hop-by-hop.js';
import type { ResponseHandler, ResponseHead } from '../http1/response-parser.js';
import type { BodyFraming } from '../http1/serialize.js';
import { ClientSession, type ClientSessionHandler } from '../http2/client-session.js';
import { CONNECTION_SPECIFIC, lowerCaseName } from '../http2/field-rules.js';
import { CANCEL, NO_ERROR, REFUSED_STREAM } from '../http2/frames.js';
import { DEFAULT_SESSION_SETTINGS, type SessionSettings } from '../http2/session.js';
import { holdWritesForTurn, READ_LANE_UPSTREAM, readSocket } from '../network/socket-read.js';
import type { ClusterCircuitBreakers } from './cluster-circuit-breakers.js';
import type { ClusterStats } from './cluster-stats.js';
import { type ConnectFn, connectUpstream } from './connect.js';
import type {
  ConnectionPool,
  PendingRequest,
  PoolFailureReason,
  PoolWaiter,
  UpstreamConnection,
  UpstreamConnectionUser,
} from './connection-pool.js';
import type { Host } from './host.js';
import { PendingQueue } from './pending-queue.js';
import { admitPending, admitRequest } from './pool-admission.js';

export interface Http2PoolOptions {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number | null;
  readonly maxRequestsPerConnection: number | null;
  /** From the session's establishment; null or absent = no limit. */
  readonly maxConnectionDurationMs?: number | null;
  readonly http2: Http2Options;
}

export interface Http2PoolDeps {
  readonly clock: Clock;
  readonly stats: ClusterStats;
  /** Opens the TCP connection (default: net.connect with noDelay). */
  readonly connect?: ConnectFn;
  /**
   * Opens the transport of one session to `host`, taking precedence over `connect`: TLS
   * origination hands in a tls.connect socket with ALPN `h2` here.
   */
  readonly createConnection?: (host: Host) => net.Socket;
  readonly circuitBreakers?: ClusterCircuitBreakers;
}

type User = UpstreamConnectionUser & ResponseHandler;

const EMPTY = Buffer.alloc(0);

/** One HTTP/2 connection to the host: a ClientSession on the socket, and its streams. */
class Session implements ClientSessionHandler {
  readonly session: ClientSession;
  readonly socket: net.Socket;
  connected = false;
  closed = false;
  /** GOAWAY sent or received, or request limit reached: no new streams. */
  retiring = false;
  active = 0;
  streamsTotal = 0;
  maxStreams: number;
  localAddress = '';
  lastError = '';
  connectTimer: Timer | null = null;
  maxDurationTimer: Timer | null = null;
  idleTimer: Timer | null = null;
  /** Monotonic ms since which no stream is active (for the idle timeout). */
  idleSince = 0;
  timedOut = false;
  /** The socket's write buffer is over its high-water mark (until 'drain'). */
  socketBlocked = false;
  private readonly streams = new Map<number, Http2UpstreamStream>();

  constructor(
    private readonly pool: Http2Pool,
    socket: net.Socket,
    settings: SessionSettings,
    private readonly limit: number,
  ) {
    this.socket = socket;
    this.maxStreams = limit;
    this.session = new ClientSession(this.write, this, settings);
    // Reads through the process's reused buffer (network/socket-read.ts), like the HTTP/1
    // pool; a socket with bytes already buffered (an ALPN probe's) keeps 'data' events.
    readSocket(socket, READ_LANE_UPSTREAM, this.onSocketData);
    socket.on('drain', this.onSocketDrain);
    socket.on('error', (err: Error) => {
      if (this.lastError === '') this.lastError = err.message;
    });
    socket.on('close', this.onSocketClose);
    // A TLS socket handed in after its handshake (the ALPN probe) is connected already.
    const tlsSocket = socket as TLSSocket;
    if (tlsSocket.encrypted === true) {
      if (tlsSocket.alpnProtocol !== null && tlsSocket.alpnProtocol !== undefined)
        queueMicrotask(() => pool.sessionConnected(this));
      else socket.once('secureConnect', () => pool.sessionConnected(this));
    } else if (socket.connecting) socket.once('connect', () => pool.sessionConnected(this));
    else queueMicrotask(() => pool.sessionConnected(this));
  }

  private readonly onSocketData = (d: Buffer): void => {
    this.pool.stats.upstream_cx_rx_bytes_total.value += d.length;
    this.session.receive(d);
  };

  get usable(): boolean {
    return (
      this.connected &&
      !this.closed &&
      !this.retiring &&
      this.active < this.maxStreams &&
      this.session.canRequest
    );
  }

  private readonly write = (data: Buffer): boolean => {
    if (this.closed) return true;
    this.pool.stats.upstream_cx_tx_bytes_total.value += data.length;
    holdWritesForTurn(this.socket);
    if (this.socket.write(data)) return true;
    this.socketBlocked = true;
    return false;
  };

  private readonly onSocketDrain = (): void => {
    this.socketBlocked = false;
    this.session.outputDrained();
    // Streams that wrote into the full buffer go on, until one fills it again; those still
    // waiting for window hear of it when their data is out.
    for (const [id, stream] of this.streams) {
      if (this.socketBlocked) break;
      if (!this.session.hasQueued(id)) stream.onWritable();
    }
  };

  private readonly onSocketClose = (): void => {
    if (this.closed) return;
    const open = [...this.streams.values()];
    this.streams.clear();
    if (this.lastError === '') this.lastError = 'connection closed';
    for (let i = 0; i < open.length; i++) open[i].onReset(this.lastError);
    this.pool.sessionClosed(this);
  };

  /** Opens a stream for `stream`'s request. */
  open(stream: Http2UpstreamStream, fields: HeaderList, endStream: boolean): number {
    const id = this.session.request(fields, endStream);
    this.streams.set(id, stream);
    return id;
  }

  /** GOAWAY: no new streams; the socket ends once the open ones are done. */
  close(): void {
    this.retiring = true;
    if (this.closed) return;
    this.session.goaway(NO_ERROR, '');
    if (this.session.activeStreams === 0) this.endSocket();
  }

  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private ending = false;

  private endSocket(): void {
    if (this.ending) return;
    this.ending = true;
    // Frames still queued in the session (a GOAWAY, the last stream's end) go out first.
    this.session.flush();
    if (this.socket.writable) this.socket.end();
    else this.destroy();
  }

  // --- ClientSessionHandler ---------------------------------------------------------------

  onResponse(stream: number, headers: HeaderList, endStream: boolean): void {
    this.streams.get(stream)?.onResponse(headers, endStream);
  }
  onData(stream: number, chunk: Buffer, endStream: boolean): void {
    this.streams.get(stream)?.onData(chunk, endStream);
  }
  onTrailers(stream: number, trailers: HeaderList): void {
    this.streams.get(stream)?.onTrailers(trailers);
  }
  onUnprocessed(stream: number): void {
    const s = this.streams.get(stream);
    if (s !== undefined) s.unprocessed = true;
  }
  onReset(stream: number, code: number): void {
    const refused = code === REFUSED_STREAM;
    this.streams
      .get(stream)
      ?.onReset(refused ? 'stream refused (REFUSED_STREAM)' : `stream reset with code ${code}`, refused);
  }
  onStreamClosed(stream: number): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.retiring && !this.closed && this.active === 0) this.endSocket();
  }
  onWritable(stream: number): void {
    if (!this.socketBlocked) this.streams.get(stream)?.onWritable();
  }
  onRemoteSettings(): void {
    this.maxStreams = Math.min(this.limit, this.session.peerMaxConcurrentStreams);
  }
  /** GOAWAY sent or received: no new streams; the socket ends when the open ones are done. */
  onClose(code: number, message: string, byPeer: boolean): void {
    this.retiring = true;
    if (code !== NO_ERROR && this.lastError === '') this.lastError = message || `GOAWAY with code ${code}`;
    // A connection error found here: every stream is reset already.
    if ((code !== NO_ERROR && !byPeer) || this.session.activeStreams === 0) this.endSocket();
  }
}

/** One request on an HTTP/2 session: the upstream request of one attempt. */
export class Http2UpstreamStream implements UpstreamConnection {
  readonly httpVersion = 2;
  readonly socket: net.Socket;
  readonly host: Host;
  /**
   * Always 1: each stream is a request of its own. (HTTP/1.1 counts requests per
   * connection to replay a request that raced a keep-alive close; the HTTP/2 form of that
   * race is a stream a GOAWAY left out, which `unprocessed` says.)
   */
  readonly requestCount = 1;
  user: UpstreamConnectionUser | null = null;
  responseParser = null;
  localAddress: string;
  released = false;
  /** The server refused the stream: nothing of the request was processed. */
  refused = false;
  /** The stream raced the server's GOAWAY: the server never saw it (see UpstreamConnection). */
  unprocessed = false;
  private id = 0;
  private ended = false;
  private requestEnded = false;
  private closed = false;
  private error = '';
  /** Response DATA held while the user has paused the response (its window stays shut). */
  private paused = false;
  private held: Buffer[] = [];
  private heldEnd = false;
  private heldTrailers: HeaderList | null = null;
  /** A write was refused (window or socket): onUpstreamDrain is owed. */
  private wantsDrain = false;

  constructor(
    readonly owner: Session,
    host: Host,
  ) {
    this.socket = owner.socket;
    this.host = host;
    this.localAddress = owner.localAddress;
  }

  get lastError(): string {
    return this.error !== '' ? this.error : this.owner.lastError;
  }

  sendHead(
    method: string,
    path: string,
    authority: string,
    scheme: string,
    headers: HeaderList,
    framing: BodyFraming,
    body: readonly Buffer[] | null,
    end: boolean,
  ): boolean {
    const fields: HeaderList = [':method', method, ':scheme', scheme, ':path', path, ':authority', authority];
    let grpc = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = lowerCaseName(headers[i]);
      // Host becomes :authority; TE and content-length are set below.
      if (CONNECTION_SPECIFIC.has(name) || name === 'host' || name === 'te' || name === 'content-length')
        continue;
      const value = headers[i + 1];
      if (name === 'content-type' && value.startsWith('application/grpc')) grpc = true;
      fields.push(name, value);
    }
    // TE is hop-by-hop and was removed; `trailers` is the one value HTTP/2 allows (RFC 9113
    // §8.2.2), and gRPC servers expect it.
    if (grpc) fields.push('te', 'trailers');
    if (framing.kind === 'length') fields.push('content-length', String(framing.length));
    const empty = body === null || body.length === 0;
    const endStream = end && empty;
    if (!this.owner.session.canRequest) {
      // GOAWAY arrived between the hand-out and now: fail the attempt as a reset; nothing
      // was sent, so the request may go again.
      this.closed = true;
      this.requestEnded = true;
      this.unprocessed = true;
      queueMicrotask(() => this.onReset('connection going away (GOAWAY)', true));
      return true;
    }
    this.id = this.owner.open(this, fields, endStream);
    if (endStream) this.requestEnded = true;
    let ok = !this.owner.socketBlocked;
    if (!empty) for (let i = 0; i < body.length; i++) ok = this.sendBody(body[i]);
    if (end && !empty) this.sendEnd();
    return ok;
  }

  sendBody(chunk: Buffer): boolean {
    if (this.closed || this.requestEnded) return true;
    const sent = this.owner.session.data(this.id, chunk, false);
    if (sent && !this.owner.socketBlocked) return true;
    this.wantsDrain = true;
    return false;
  }

  sendEnd(): void {
    if (this.requestEnded) return;
    this.requestEnded = true;
    if (!this.closed) this.owner.session.data(this.id, EMPTY, true);
  }

  sendTrailers(trailers: HeaderList): void {
    if (this.requestEnded) return;
    const out: HeaderList = [];
    for (let i = 0; i < trailers.length; i += 2) {
      const name = lowerCaseName(trailers[i]);
      if (!isForbiddenTrailer(name)) out.push(name, trailers[i + 1]);
    }
    this.requestEnded = true;
    if (this.closed) return;
    if (out.length === 0) this.owner.session.data(this.id, EMPTY, true);
    else this.owner.session.trailers(this.id, out);
  }

  pauseResponse(): void {
    this.paused = true;
  }

  resumeResponse(): void {
    if (!this.paused) return;
    this.paused = false;
    while (this.held.length > 0 && !this.paused) this.deliver(this.held.shift()!);
    if (this.held.length === 0 && !this.paused && this.heldEnd) {
      this.heldEnd = false;
      const trailers = this.heldTrailers;
      this.heldTrailers = null;
      if (trailers !== null) this.onTrailers(trailers);
      else this.complete();
    }
  }

  /** Cancels the stream when the user gives it back before it ended (RST_STREAM CANCEL). */
  cancel(): void {
    if (this.closed || (this.ended && this.requestEnded)) return; // both sides done: closed by itself
    this.closed = true;
    this.owner.session.reset(this.id, CANCEL);
  }

  // --- from the session -------------------------------------------------------------------

  onResponse(headers: HeaderList, endStream: boolean): void {
    const user = this.user as User | null;
    const status = Number(headers[1]);
    if (status < 200) return; // informational: not forwarded
    if (user !== null) user.onResponseHead(responseHeadOf(headers, status, endStream));
    if (endStream) this.complete();
  }

  onData(chunk: Buffer, endStream: boolean): void {
    if (this.paused || this.held.length > 0) {
      if (chunk.length > 0) this.held.push(chunk);
      if (endStream) this.heldEnd = true;
      return;
    }
    if (chunk.length > 0) this.deliver(chunk);
    if (endStream) this.complete();
  }

  private deliver(chunk: Buffer): void {
    if (!this.closed) this.owner.session.consumed(this.id, chunk.length);
    const user = this.user as User | null;
    if (user !== null) user.onBody(chunk);
  }

  onTrailers(trailers: HeaderList): void {
    if (this.paused || this.held.length > 0) {
      this.heldTrailers = trailers;
      this.heldEnd = true;
      return;
    }
    const user = this.user as User | null;
    if (user !== null && user.onResponseTrailers !== undefined) user.onResponseTrailers(trailers);
    this.complete();
  }

  private complete(): void {
    if (this.ended) return;
    this.ended = true;
    const user = this.user as User | null;
    if (user !== null) user.onMessageComplete();
  }

  /** The stream or its connection ended before the response did. */
  onReset(error: string, refused = false): void {
    this.closed = true;
    this.refused = refused;
    if (this.ended) return;
    if (this.error === '') this.error = error;
    this.user?.onUpstreamClose();
  }

  /** Its window or the socket opened again. */
  onWritable(): void {
    if (!this.wantsDrain) return;
    this.wantsDrain = false;
    this.user?.onUpstreamDrain();
  }
}

/** The response head in the proxy's HTTP/1-shaped form (the ResponseHandler's). */
function responseHeadOf(fields: HeaderList, status: number, endStream: boolean): ResponseHead {
  const headers: HeaderList = [];
  let contentLength = endStream ? 0 : -1;
  for (let i = 2; i < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name === 'content-length' && !endStream) {
      const n = Number(value);
      if (Number.isSafeInteger(n) && n >= 0) contentLength = n;
    }
    headers.push(name, value);
  }
  return {
    statusCode: status,
    reason: '',
    versionMinor: 1,
    headers,
    contentLength,
    chunked: false,
    keepAlive: true,
    connectionTokens: '',
  };
}

export class Http2Pool implements ConnectionPool {
  readonly stats: ClusterStats;
  private readonly sessions: Session[] = [];
  private readonly pending: PendingQueue;
  private connecting = 0;
  private busy = 0;
  private draining = false;
  private readonly connect: ConnectFn;
  private readonly createConnection: ((host: Host) => net.Socket) | null;
  private readonly cb: ClusterCircuitBreakers | null;
  private readonly sessionSettings: SessionSettings;

  constructor(
    private readonly host: Host,
    private readonly options: Http2PoolOptions,
    private readonly deps: Http2PoolDeps,
  ) {
    this.stats = deps.stats;
    this.connect = deps.connect ?? ((port, address) => connectUpstream(port, address, false));
    this.createConnection = deps.createConnection ?? null;
    this.cb = deps.circuitBreakers ?? null;
    this.pending = new PendingQueue(this.cb);
    const o = options.http2;
    this.sessionSettings = {
      ...DEFAULT_SESSION_SETTINGS,
      headerTableSize: o.hpackTableSize,
      initialWindowSize: o.initialStreamWindowSize,
      connectionWindowSize: Math.max(o.initialConnectionWindowSize, 65_535),
    };
  }

  get idleCount(): number {
    let n = 0;
    for (const s of this.sessions) if (s.connected && s.active === 0) n++;
    return n;
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
    if (!admitRequest(this.draining, this.cb, this.stats, waiter)) return null;
    const s = this.usableSession();
    if (s !== null) {
      this.handOut(s, waiter);
      return null;
    }
    if (!admitPending(this.cb, this.stats, waiter)) return null;
    const entry = this.pending.push(waiter);
    if (this.connecting === 0) this.openForPending();
    return entry.done ? null : entry;
  }

  release(c: UpstreamConnection, _reusable: boolean): void {
    const s = c as Http2UpstreamStream;
    if (s.released) return;
    s.released = true;
    s.user = null;
    s.cancel();
    const owner = s.owner;
    owner.active--;
    if (owner.active === 0) owner.idleSince = this.deps.clock.monotonic();
    this.busy--;
    if (this.cb !== null) this.cb.requests.dec();
    if (owner.closed) return;
    if ((this.draining || owner.retiring) && owner.active === 0) {
      owner.close();
      return;
    }
    this.servePending();
  }

  drain(): void {
    this.draining = true;
    for (const s of [...this.sessions]) {
      s.retiring = true;
      if (s.active === 0) s.close();
    }
  }

  close(): void {
    this.draining = true;
    const waiting = this.pending.takeAll();
    for (const s of [...this.sessions]) s.destroy();
    for (const waiter of waiting) waiter.onPoolFailure('closed', 'connection pool closed');
  }

  private usableSession(): Session | null {
    const sessions = this.sessions;
    for (let i = 0; i < sessions.length; i++) if (sessions[i].usable) return sessions[i];
    return null;
  }

  private handOut(s: Session, waiter: PoolWaiter): void {
    s.active++;
    s.streamsTotal++;
    const max = this.options.maxRequestsPerConnection;
    if (max !== null && s.streamsTotal >= max && !s.retiring) {
      s.retiring = true;
      this.stats.upstream_cx_max_requests.value++;
    }
    this.busy++;
    if (this.cb !== null) this.cb.requests.inc();
    waiter.onPoolReady(new Http2UpstreamStream(s, this.host));
  }

  /** Hands waiting requests to sessions with free streams; opens a session when none has any. */
  private servePending(): void {
    while (this.pending.length > 0) {
      const s = this.usableSession();
      if (s === null) break;
      this.handOut(s, this.pending.take()!);
    }
    if (this.pending.length > 0 && this.connecting === 0 && !this.draining) this.openForPending();
  }

  private openForPending(): void {
    const cb = this.cb;
    if (cb !== null && !cb.connections.canCreate() && this.sessions.length > 0) {
      this.stats.upstream_cx_overflow.value++;
      return;
    }
    this.openSession();
  }

  private openSession(): void {
    const host = this.host;
    const stats = this.stats;
    stats.upstream_cx_total.value++;
    stats.upstream_cx_active.value++;
    host.stats.cxTotal++;
    host.stats.cxActive++;
    let socket: net.Socket;
    try {
      socket =
        this.createConnection === null ? this.connect(host.port, host.address) : this.createConnection(host);
    } catch (err) {
      stats.upstream_cx_active.value--;
      host.stats.cxActive--;
      stats.upstream_cx_connect_fail.value++;
      host.stats.cxConnectFail++;
      this.failPending('connect_failure', err instanceof Error ? err.message : String(err));
      return;
    }
    const s = new Session(this, socket, this.sessionSettings, this.options.http2.maxConcurrentStreams);
    this.sessions.push(s);
    if (this.cb !== null) this.cb.connections.inc();
    this.connecting++;
    s.connectTimer = this.deps.clock.setTimer(this.options.connectTimeoutMs, () => {
      s.connectTimer = null;
      if (s.connected || s.closed) return;
      s.timedOut = true;
      stats.upstream_cx_connect_timeout.value++;
      s.destroy();
    });
    const idle = this.options.idleTimeoutMs;
    if (idle !== null) {
      s.idleSince = this.deps.clock.monotonic();
      s.idleTimer = this.deps.clock.setTimer(idle, () => this.onIdleTimer(s, idle));
    }
  }

  sessionConnected(s: Session): void {
    if (s.connected || s.closed) return;
    s.connected = true;
    this.connecting--;
    if (s.connectTimer !== null) {
      s.connectTimer.cancel();
      s.connectTimer = null;
    }
    const socket = s.socket;
    if (socket.localAddress !== undefined)
      s.localAddress = formatAddress(socket.localAddress, socket.localPort ?? 0);
    if (this.draining) {
      s.close();
      return;
    }
    const maxDuration = this.options.maxConnectionDurationMs;
    if (maxDuration !== undefined && maxDuration !== null) {
      // max_connection_duration: no new streams after it; closed once its streams are done.
      s.maxDurationTimer = this.deps.clock.setTimer(maxDuration, () => {
        s.maxDurationTimer = null;
        if (s.closed) return;
        this.stats.upstream_cx_max_duration_reached.value++;
        s.retiring = true;
        if (s.active === 0) s.close();
      });
    }
    this.servePending();
  }

  sessionClosed(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    const i = this.sessions.indexOf(s);
    if (i >= 0) this.sessions.splice(i, 1);
    if (this.cb !== null) this.cb.connections.dec();
    const stats = this.stats;
    stats.upstream_cx_active.value--;
    this.host.stats.cxActive--;
    if (s.connectTimer !== null) {
      s.connectTimer.cancel();
      s.connectTimer = null;
    }
    if (s.maxDurationTimer !== null) {
      s.maxDurationTimer.cancel();
      s.maxDurationTimer = null;
    }
    if (s.idleTimer !== null) {
      s.idleTimer.cancel();
      s.idleTimer = null;
    }
    if (!s.connected) {
      this.connecting--;
      stats.upstream_cx_connect_fail.value++;
      this.host.stats.cxConnectFail++;
      // Waiters stay while another session is still connecting: it will serve them.
      if (this.connecting === 0)
        this.pending.failConnectAttempt(
          0,
          this.host.addressString,
          s.timedOut,
          this.options.connectTimeoutMs,
          s.lastError,
        );
      return;
    }
    stats.upstream_cx_destroy.value++;
    if (!this.draining) this.servePending();
  }

  /** The idle timeout: a session without active streams for `idle` ms is closed (GOAWAY). */
  private onIdleTimer(s: Session, idle: number): void {
    s.idleTimer = null;
    if (s.closed) return;
    const left = s.active > 0 ? idle : s.idleSince + idle - this.deps.clock.monotonic();
    if (left <= 0) {
      s.close();
      return;
    }
    s.idleTimer = this.deps.clock.setTimer(left, () => this.onIdleTimer(s, idle));
  }

  /** Fails the waiters no connecting session will serve. */
  private failPending(reason: PoolFailureReason, details: string): void {
    if (this.connecting > 0) return;
    this.pending.failBeyond(0, reason, details);
  }
}

export function createHttp2ConnectionPool(
  host: Host,
  options: Http2PoolOptions,
  deps: Http2PoolDeps,
): ConnectionPool {
  return new Http2Pool(host, options, deps);
}
