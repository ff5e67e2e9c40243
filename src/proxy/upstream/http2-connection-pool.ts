// An HTTP/2 connection pool for one upstream host: one multiplexed ClientHttp2Session
// (node:http2) carries many requests; another is opened only when every open session is
// at its stream limit (the smaller of the server's SETTINGS_MAX_CONCURRENT_STREAMS and the
// cluster's http2_protocol_options.max_concurrent_streams), has received GOAWAY, or
// reached max_requests_per_connection. Each handed-out request is an Http2UpstreamStream
// (the UpstreamConnection of one attempt): it sends the request as HEADERS/DATA (RFC 9113
// §8.3.1 pseudo-headers, Host → :authority, `te: trailers` for gRPC), then the request's
// trailers as a trailing HEADERS frame when it has some, and delivers the response to its
// user through the ResponseHandler methods.
//
// Circuit breakers as in the HTTP/1.1 pool: max_requests (active streams), max_pending
// (requests waiting for a session) and max_connections (sessions). Connection stats
// likewise (upstream_cx_total/active/connect_fail/connect_timeout/destroy).
//
// Sockets come from an injected `createConnection(host)` or `connect` (a plain TCP
// socket by default), so an origination TLS socket (with ALPN h2) can be handed in by
// whoever builds the cluster.

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type ClientSessionOptions,
  constants,
  connect as h2connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type * as net from 'node:net';
import type { Http2Options } from '../../config/model.js';
import { formatAddress } from '../../core/address.js';
import type { Clock, Timer } from '../../core/clock.js';
import type { HeaderList } from '../http/headers.js';
import { isForbiddenTrailer } from '../http1/hop-by-hop.js';
import type { ResponseHandler, ResponseHead } from '../http1/response-parser.js';
import type { BodyFraming } from '../http1/serialize.js';
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

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_INTERNAL_ERROR } = constants;

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

/** One HTTP/2 session to the host. */
class Session {
  readonly session: ClientHttp2Session;
  readonly socket: net.Socket;
  connected = false;
  closed = false;
  /** GOAWAY received or request limit reached: no new streams. */
  retiring = false;
  active = 0;
  streamsTotal = 0;
  maxStreams: number;
  localAddress = '';
  lastError = '';
  connectTimer: Timer | null = null;
  maxDurationTimer: Timer | null = null;
  timedOut = false;

  constructor(
    pool: Http2Pool,
    socket: net.Socket,
    options: ClientSessionOptions,
    authority: string,
    limit: number,
  ) {
    this.socket = socket;
    this.maxStreams = limit;
    this.session = h2connect(`http://${authority}`, { ...options, createConnection: () => socket });
    const session = this.session;
    session.on('connect', () => pool.sessionConnected(this));
    session.on('remoteSettings', (s) => {
      const remote = s.maxConcurrentStreams;
      if (remote !== undefined) this.maxStreams = Math.min(limit, remote);
    });
    session.on('goaway', () => {
      this.retiring = true;
    });
    session.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    socket.on('error', (err: Error) => {
      if (this.lastError === '') this.lastError = err.message;
    });
    session.on('close', () => pool.sessionClosed(this));
  }

  get usable(): boolean {
    return this.connected && !this.closed && !this.retiring && this.active < this.maxStreams;
  }
}

/** One request on an HTTP/2 session: the upstream request of one attempt. */
export class Http2UpstreamStream implements UpstreamConnection {
  readonly httpVersion = 2;
  readonly socket: net.Socket;
  readonly host: Host;
  /**
   * Always 1: each stream is a request of its own. (HTTP/1.1 counts requests per
   * connection to replay a request that raced a keep-alive close; a reset HTTP/2 stream
   * is not that race.)
   */
  readonly requestCount = 1;
  user: UpstreamConnectionUser | null = null;
  responseParser = null;
  localAddress: string;
  released = false;
  private stream: ClientHttp2Stream | null = null;
  private ended = false;
  private requestEnded = false;
  private error = '';
  /** Request trailers to send when node asks for them ('wantTrailers'); null = none. */
  private trailers: OutgoingHttpHeaders | null = null;

  constructor(
    private readonly pool: Http2Pool,
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
    const out: OutgoingHttpHeaders = {
      ':method': method,
      ':path': path,
      ':authority': authority,
      ':scheme': scheme,
    };
    let grpc = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (name === 'host') continue;
      const value = headers[i + 1];
      if (name === 'content-type' && value.startsWith('application/grpc')) grpc = true;
      const prev = out[name];
      if (prev === undefined) out[name] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[name] = [prev as string, value];
    }
    // TE is hop-by-hop and was removed; `trailers` is the one value HTTP/2 allows (RFC 9113
    // §8.2.2), and gRPC servers expect it.
    if (grpc) out.te = 'trailers';
    if (framing.kind === 'length') out['content-length'] = framing.length;
    const empty = body === null || body.length === 0;
    const endStream = end && empty;
    let stream: ClientHttp2Stream;
    try {
      // A request with a body may end with trailers (sendTrailers): node then asks for
      // them with 'wantTrailers' once the body is written; none makes an empty END_STREAM DATA.
      stream = this.owner.session.request(out, { endStream, waitForTrailers: !endStream });
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      process.nextTick(() => this.onClose());
      return true;
    }
    this.stream = stream;
    stream.on('response', this.onResponse);
    stream.on('data', this.onData);
    stream.on('trailers', this.onTrailers);
    stream.on('end', this.onEnd);
    stream.on('drain', this.onDrain);
    stream.on('error', this.onError);
    stream.on('close', this.onClose);
    if (!endStream) stream.on('wantTrailers', this.onWantTrailers);
    let ok = true;
    if (!empty) for (let i = 0; i < body.length; i++) ok = this.sendBody(body[i]);
    if (end) {
      this.requestEnded = true;
      if (!empty) stream.end();
    }
    return ok;
  }

  sendBody(chunk: Buffer): boolean {
    const stream = this.stream;
    if (stream === null || stream.destroyed) return true;
    this.pool.stats.upstream_cx_tx_bytes_total.value += chunk.length;
    return stream.write(chunk);
  }

  sendEnd(): void {
    this.requestEnded = true;
    const stream = this.stream;
    if (stream !== null && !stream.destroyed) stream.end();
  }

  sendTrailers(trailers: HeaderList): void {
    const out: OutgoingHttpHeaders = {};
    for (let i = 0; i < trailers.length; i += 2) {
      const name = trailers[i];
      if (isForbiddenTrailer(name)) continue;
      const prev = out[name];
      const value = trailers[i + 1];
      if (prev === undefined) out[name] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[name] = [prev as string, value];
    }
    this.trailers = out;
    this.sendEnd();
  }

  private readonly onWantTrailers = (): void => {
    const stream = this.stream;
    if (stream === null || stream.destroyed) return;
    try {
      stream.sendTrailers(this.trailers ?? {});
    } catch (err) {
      // A trailer node:http2 refuses (an invalid name or value): reset the stream.
      this.error = err instanceof Error ? err.message : String(err);
      stream.close(NGHTTP2_INTERNAL_ERROR);
    }
  };

  pauseResponse(): void {
    this.stream?.pause();
  }

  resumeResponse(): void {
    this.stream?.resume();
  }

  /** Cancels the stream when the user gives it back before it ended (RST_STREAM CANCEL). */
  cancel(): void {
    const stream = this.stream;
    if (this.ended && this.requestEnded) return; // both sides done: the stream closes by itself
    if (stream !== null && !stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
  }

  private readonly onResponse = (headers: IncomingHttpHeaders, flags: number): void => {
    const user = this.user as User | null;
    if (user === null) return;
    const status = Number(headers[':status']);
    if (status >= 100 && status < 200) return; // informational: not forwarded
    user.onResponseHead(responseHeadOf(headers, status, (flags & NGHTTP2_FLAG_END_STREAM) !== 0));
  };

  private readonly onData = (chunk: Buffer): void => {
    this.pool.stats.upstream_cx_rx_bytes_total.value += chunk.length;
    const user = this.user as User | null;
    if (user !== null) user.onBody(chunk);
  };

  private readonly onTrailers = (trailers: IncomingHttpHeaders): void => {
    const user = this.user as User | null;
    if (user !== null && user.onResponseTrailers !== undefined)
      user.onResponseTrailers(headerListOf(trailers));
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    const user = this.user as User | null;
    if (user !== null) user.onMessageComplete();
  };

  private readonly onDrain = (): void => {
    this.user?.onUpstreamDrain();
  };

  private readonly onError = (err: Error): void => {
    this.error = err.message;
  };

  private readonly onClose = (): void => {
    if (this.ended) return;
    const stream = this.stream;
    if (stream !== null && this.error === '' && stream.rstCode !== undefined && stream.rstCode !== 0)
      this.error = `stream reset with code ${stream.rstCode}`;
    this.user?.onUpstreamClose();
  };
}

function headerListOf(h: IncomingHttpHeaders): HeaderList {
  const list: HeaderList = [];
  for (const name in h) {
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    const v = h[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) list.push(name, x);
    else list.push(name, String(v));
  }
  return list;
}

function responseHeadOf(h: IncomingHttpHeaders, status: number, endStream: boolean): ResponseHead {
  let contentLength = -1;
  if (endStream) contentLength = 0;
  else {
    const cl = h['content-length'];
    if (cl !== undefined) {
      const n = Number(cl);
      if (Number.isSafeInteger(n) && n >= 0) contentLength = n;
    }
  }
  return {
    statusCode: status,
    reason: '',
    versionMinor: 1,
    headers: headerListOf(h),
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
  private readonly sessionOptions: ClientSessionOptions;

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
    this.sessionOptions = {
      settings: {
        headerTableSize: o.hpackTableSize,
        initialWindowSize: o.initialStreamWindowSize,
        enablePush: false,
      },
      maxSessionMemory: 16,
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
    this.busy--;
    if (this.cb !== null) this.cb.requests.dec();
    if (owner.closed) return;
    if ((this.draining || owner.retiring) && owner.active === 0) {
      owner.session.close();
      return;
    }
    this.servePending();
  }

  drain(): void {
    this.draining = true;
    for (const s of [...this.sessions]) {
      s.retiring = true;
      if (s.active === 0) s.session.close();
    }
  }

  close(): void {
    this.draining = true;
    const waiting = this.pending.takeAll();
    for (const s of [...this.sessions]) s.session.destroy();
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
    waiter.onPoolReady(new Http2UpstreamStream(this, s, this.host));
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
    const s = new Session(
      this,
      socket,
      this.sessionOptions,
      host.addressString,
      this.options.http2.maxConcurrentStreams,
    );
    this.sessions.push(s);
    if (this.cb !== null) this.cb.connections.inc();
    this.connecting++;
    s.connectTimer = this.deps.clock.setTimer(this.options.connectTimeoutMs, () => {
      s.connectTimer = null;
      if (s.connected || s.closed) return;
      s.timedOut = true;
      stats.upstream_cx_connect_timeout.value++;
      s.session.destroy();
    });
    const idle = this.options.idleTimeoutMs;
    if (idle !== null) {
      s.session.setTimeout(idle, () => {
        if (s.active === 0 && !s.closed) s.session.close();
      });
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
      s.session.close();
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
        if (s.active === 0) s.session.close();
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
