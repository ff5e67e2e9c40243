// One HTTP/2 request stream on a downstream connection: the DownstreamStreamCodec of its
// ActiveStream. It maps the stream's request header fields onto a RequestHead (RFC 9113
// §8.3: :method, :path, :authority; cookie crumbs joined, §8.2.3), feeds body, trailers and
// end from the session, and writes the response head, body, trailers and end through it.
//
// Backpressure both ways:
// - Request body: while the ActiveStream has paused reading, DATA is held here and the
//   stream's window is not reopened, so the client can send at most one window more.
// - Response body: writeBody() is false when the stream's (or the connection's) send
//   window is used up or the socket's buffer is full; onDownstreamDrain follows once it
//   has opened again.
//
// A response whose head says "no body" (content-length 0, e.g. a gRPC trailers-only
// reply) is one HEADERS frame with END_STREAM, which gRPC clients require (gRPC over
// HTTP/2, "Trailers-Only"). Other responses end with the upstream's trailers, or an empty
// DATA frame with END_STREAM when there are none.
//
// CONNECT streams (extended CONNECT for WebSocket, plain CONNECT) on an HCM with
// allow_connect become tunnels (h2-tunnel.ts): such a stream gets `startTunnel`, and its
// DATA is held, unread, until the tunnel takes it.

import type { Timer } from '../../core/clock.js';
import { ActiveStream } from '../http/active-stream.js';
import type { HcmRuntime } from '../http/connection-manager.js';
import type { HeaderList } from '../http/headers.js';
import type { DownstreamStreamCodec } from '../http/stream-codec.js';
import type { TunnelDownstream, TunnelSink } from '../http/upgrade.js';
import type { RequestHead } from '../http1/request-parser.js';
import type { BodyFraming } from '../http1/serialize.js';
import type { DownstreamTlsInfo } from '../tls/connection-info.js';
import { CONNECTION_SPECIFIC, lowerCaseName } from './field-rules.js';
import { INTERNAL_ERROR, NO_ERROR } from './frames.js';
import { allowsH2Tunnels, connectRequestHead, H2TunnelSide } from './h2-tunnel.js';
import type { Http2ServerConnection } from './http2-server-connection.js';
import type { ServerSession } from './server-session.js';

const EMPTY = Buffer.alloc(0);

export class Http2ServerStream implements DownstreamStreamCodec {
  readonly httpVersion = 2;
  readonly rt: HcmRuntime;
  readonly id: number;
  readonly remoteAddress: string;
  readonly remoteIp: string;
  readonly localAddress: string;
  readonly tls: DownstreamTlsInfo | null;
  closeAfterResponse = false;
  /** The HTTP/2 stream number. */
  readonly stream: number;
  readonly session: ServerSession;
  private readonly conn: Http2ServerConnection;
  private readonly active: ActiveStream;
  private trailers: HeaderList | null = null;
  private deadline: Timer | null = null;
  /** The stream idle timer (re-armed only when it fires while the stream was active). */
  private idleTimer: Timer | null = null;
  private idleTimerAt = 0;
  private responded = false;
  /** The response went out as one HEADERS frame with END_STREAM. */
  private endedWithHead = false;
  private requestEnded = false;
  /** The request head came with END_STREAM: the request is complete once routed. */
  private readonly headOnly: boolean;
  private done = false;
  /** Reading is paused: DATA waits in `held`, its window not reopened. */
  private paused = false;
  private held: Buffer[] = [];
  private heldEnd = false;
  /** Request trailers that came behind held DATA. */
  private heldTrailers: HeaderList | null = null;
  /** A write was refused (window or socket): onDownstreamDrain is owed. */
  private wantsWritable = false;
  /** The tunnel this stream became (h2-tunnel.ts), or null. */
  private tunnel: H2TunnelSide | null = null;
  /** More header fields than max_headers_count: answered 431 without routing. */
  private readonly tooManyHeaders: boolean;
  /** The response was complete, or the proxy itself reset the stream: not a premature reset. */
  responseComplete = false;
  /** Monotonic ms when the stream opened. */
  readonly openedAt: number;
  /** Set on a CONNECT stream of an HCM with allow_connect (h2-tunnel.ts); else undefined. */
  startTunnel: ((sink: TunnelSink, status: number, headers: HeaderList) => TunnelDownstream) | undefined =
    undefined;

  constructor(conn: Http2ServerConnection, stream: number, fields: HeaderList, endStream: boolean) {
    this.conn = conn;
    this.session = conn.session;
    this.rt = conn.rt;
    this.id = conn.id;
    this.remoteAddress = conn.remoteAddress;
    this.remoteIp = conn.remoteIp;
    this.localAddress = conn.localAddress;
    this.tls = conn.tls;
    this.stream = stream;
    this.openedAt = conn.rt.clock.monotonic();
    this.headOnly = endStream;
    const head = requestHeadOf(fields, endStream);
    this.tooManyHeaders = head.headers.length / 2 > this.rt.limits.maxHeaderCount;
    this.active = new ActiveStream(this, head);
    if (head.tunnel && allowsH2Tunnels(this.rt)) {
      // The stream's DATA is the tunnel's: it is held until the switch.
      this.startTunnel = this.openTunnel;
      this.paused = true;
    }
  }

  start(): void {
    if (this.tooManyHeaders) {
      // max_headers_count, as the HTTP/1.1 codec answers it.
      this.responseComplete = true;
      this.done = true;
      this.session.respond(this.stream, [':status', '431', 'content-length', '0'], true);
      this.session.finish(this.stream);
      return;
    }
    this.active.start();
    // A request without a body is complete now.
    if (this.headOnly) this.onEnd();
    // A tunnel request has no body: its head is the whole request.
    else if (this.startTunnel !== undefined && !this.done) this.active.onRequestComplete();
  }

  /** The upstream switched (101, 2xx to CONNECT) or a connect_config tunnel is up. */
  private openTunnel(sink: TunnelSink, status: number, headers: HeaderList): TunnelDownstream {
    this.responded = true;
    this.cancelDeadline();
    const side = new H2TunnelSide(this, sink, this.held, this.heldEnd);
    this.held = [];
    this.heldEnd = false;
    this.tunnel = side;
    this.session.respond(this.stream, responseFieldsOf(status === 101 ? 200 : status, headers, true), false);
    return side;
  }

  // --- from the session -----------------------------------------------------------------

  onData(chunk: Buffer, endStream: boolean): void {
    if (this.paused || this.held.length > 0) {
      if (chunk.length > 0) this.held.push(chunk);
      if (endStream) this.heldEnd = true;
      return;
    }
    this.deliver(chunk, endStream);
  }

  private deliver(chunk: Buffer, endStream: boolean): void {
    if (chunk.length > 0) {
      const tunnel = this.tunnel;
      if (tunnel !== null) tunnel.fromDownstream(chunk);
      else if (!this.done) this.active.onRequestBody(chunk);
      this.session.consumed(this.stream, chunk.length);
    }
    if (endStream) {
      if (this.tunnel !== null) this.tunnel.downstreamEnded();
      else this.onEnd();
    }
  }

  /** The request's trailing HEADERS (RFC 9113 §8.1), which end it. */
  onTrailers(trailers: HeaderList): void {
    if (this.paused || this.held.length > 0) {
      // Trailers behind held DATA: they follow it.
      this.heldTrailers = trailers;
      this.heldEnd = true;
      return;
    }
    if (!this.done) this.active.onRequestTrailers(trailers);
    this.onEnd();
  }

  private onEnd(): void {
    if (this.requestEnded) return;
    this.requestEnded = true;
    if (!this.done) this.active.onRequestComplete();
  }

  /** The peer reset the stream, or the session did (a protocol error, GOAWAY). */
  onReset(code: number): void {
    this.cancelDeadline();
    if (this.tunnel !== null) this.tunnel.closed(code !== NO_ERROR);
    else if (!this.done) this.active.onDownstreamReset();
  }

  /** The stream closed (both sides ended, or reset): nothing more comes for it. */
  onClosed(): void {
    this.cancelDeadline();
    if (this.tunnel !== null) this.tunnel.closed(false);
  }

  /** The connection went away with the stream still open. */
  onConnectionClosed(): void {
    this.onReset(INTERNAL_ERROR);
  }

  /** The stream's send window opened again (if the socket is full, its 'drain' follows). */
  onWindowOpen(): void {
    if (!this.conn.socketBlocked) this.onWritable();
  }

  /** Queued response data went out and the socket takes more: a refused write may go on. */
  onWritable(): void {
    if (!this.wantsWritable) return;
    this.wantsWritable = false;
    if (this.tunnel !== null) this.tunnel.drained();
    else this.active.onDownstreamDrain();
  }

  /** A queued END_STREAM went out. */
  onEndSent(): void {
    this.tunnel?.finished();
  }

  // --- writes shared by the response and the tunnel -------------------------------------

  /** Sends `chunk` (END_STREAM with `end`); false when the caller must wait for onWritable. */
  send(chunk: Buffer, end: boolean): boolean {
    if (this.session.data(this.stream, chunk, end) && !this.conn.socketBlocked) return true;
    this.wantsWritable = true;
    return false;
  }

  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    while (held.length > 0 && !this.paused) this.deliver(held.shift()!, false);
    if (held.length === 0 && this.heldEnd && !this.paused) {
      this.heldEnd = false;
      const trailers = this.heldTrailers;
      this.heldTrailers = null;
      if (trailers !== null) this.onTrailers(trailers);
      else if (this.tunnel !== null) this.tunnel.downstreamEnded();
      else this.onEnd();
    }
  }

  // --- DownstreamStreamCodec ------------------------------------------------------------

  write100Continue(): void {
    this.session.informational(this.stream, [':status', '100']);
  }

  writeResponseHead(status: number, headers: HeaderList, framing: BodyFraming, _keepAlive: boolean): void {
    if (!this.session.isOpen(this.stream)) return;
    const fields = responseFieldsOf(status, headers, framing.kind === 'length');
    if (framing.kind === 'length') fields.push('content-length', String(framing.length));
    this.responded = true;
    const noBody = framing.kind === 'length' && framing.length === 0;
    this.endedWithHead = noBody;
    this.session.respond(this.stream, fields, noBody);
  }

  writeBody(chunk: Buffer, _chunked: boolean): boolean {
    if (this.endedWithHead || !this.responded) return true;
    return this.send(chunk, false);
  }

  writeResponseTrailers(trailers: HeaderList): void {
    if (trailers.length === 0) return;
    const out: HeaderList = [];
    for (let i = 0; i < trailers.length; i += 2) {
      const name = trailers[i];
      // Connection-specific and framing fields never travel as HTTP/2 trailers (RFC 9113 §8.1).
      if (name === 'connection' || name === 'transfer-encoding' || name === 'content-length') continue;
      out.push(lowerCaseName(name), trailers[i + 1]);
    }
    this.trailers = out;
  }

  endBody(_chunked: boolean): void {
    if (this.endedWithHead || !this.responded) return;
    const trailers = this.trailers;
    if (trailers !== null && trailers.length > 0) this.session.trailers(this.stream, trailers);
    else this.session.data(this.stream, EMPTY, true);
  }

  batchWrites(): void {}

  flush(): boolean {
    if (!this.conn.socketBlocked) return true;
    this.wantsWritable = true;
    return false;
  }

  setStreamDeadline(timeoutMs: number): void {
    this.cancelDeadline();
    this.deadline = this.rt.clock.setTimer(timeoutMs, this.onDeadline);
  }

  clearStreamDeadline(): void {
    this.cancelDeadline();
  }

  private readonly onDeadline = (): void => {
    this.deadline = null;
    if (!this.done) this.active.onRouteTimeout();
  };

  private cancelDeadline(): void {
    if (this.deadline !== null) {
      this.deadline.cancel();
      this.deadline = null;
    }
    if (this.idleTimer !== null) {
      this.idleTimer.cancel();
      this.idleTimer = null;
    }
  }

  armStreamIdleTimer(timeoutMs: number): void {
    const at = this.rt.clock.monotonic() + timeoutMs;
    if (this.idleTimer !== null) {
      if (this.idleTimerAt <= at) return;
      this.idleTimer.cancel();
    }
    this.idleTimerAt = at;
    this.idleTimer = this.rt.clock.setTimer(timeoutMs, this.onIdleTimer);
  }

  private readonly onIdleTimer = (): void => {
    this.idleTimer = null;
    if (this.done) return;
    const left = this.active.onStreamIdleTimer();
    if (left > 0 && !this.done) this.armStreamIdleTimer(left);
  };

  onStreamDone(_stream: unknown): void {
    if (this.done) return;
    this.done = true;
    this.responseComplete = true;
    this.cancelDeadline();
    // The response is complete before the request: once it is out, RST_STREAM NO_ERROR
    // stops the rest of the request body (RFC 9113 §8.1).
    if (!this.requestEnded) this.session.finish(this.stream);
  }

  reset(): void {
    this.done = true;
    this.responseComplete = true;
    this.cancelDeadline();
    this.session.reset(this.stream, INTERNAL_ERROR);
  }
}

/**
 * Response header fields for HTTP/2: `:status` first; connection-specific fields (RFC 9113
 * §8.2.2) dropped, and content-length when `dropContentLength`; names in lower case.
 */
function responseFieldsOf(status: number, headers: HeaderList, dropContentLength: boolean): HeaderList {
  const out: HeaderList = [':status', String(status)];
  for (let i = 0; i < headers.length; i += 2) {
    const name = lowerCaseName(headers[i]);
    if (CONNECTION_SPECIFIC.has(name) || (dropContentLength && name === 'content-length')) continue;
    out.push(name, headers[i + 1]);
  }
  return out;
}

/** The request head of an HTTP/2 request (RFC 9113 §8.3.1), in the proxy's HTTP/1-shaped form. */
function requestHeadOf(fields: HeaderList, endStream: boolean): RequestHead {
  const list: HeaderList = [];
  let cookie: string | null = null;
  let host = '';
  let contentLength = -1;
  let method = 'GET';
  let path = '';
  let authority: string | null = null;
  let protocol: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name === ':method') method = value;
      else if (name === ':path') path = value;
      else if (name === ':authority') authority = value;
      else if (name === ':protocol') protocol = value;
      continue;
    }
    if (name === 'cookie') {
      cookie = cookie === null ? value : `${cookie}; ${value}`;
      continue;
    }
    if (name === 'host') {
      host = value;
      continue;
    }
    if (name === 'content-length') {
      const n = Number(value);
      if (Number.isSafeInteger(n) && n >= 0) contentLength = n;
    }
    list.push(name, value);
  }
  if (cookie !== null) list.push('cookie', cookie);
  const auth = authority ?? host;
  if (method === 'CONNECT') return connectRequestHead(protocol, path, list, auth);
  return {
    method,
    target: path,
    versionMinor: 1,
    authority: auth,
    headers: list,
    contentLength: endStream ? 0 : contentLength,
    // Without END_STREAM and without content-length the body length is unknown: it goes
    // to an HTTP/1.1 upstream chunked.
    chunked: !endStream && contentLength < 0,
    keepAlive: true,
    expectContinue: false,
    upgrade: false,
    tunnel: false,
    connectionTokens: '',
  };
}
