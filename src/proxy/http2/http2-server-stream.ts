// One HTTP/2 request stream on a downstream connection: the DownstreamStreamCodec of its
// ActiveStream. It maps the stream's request headers onto a RequestHead (RFC 9113 §8.3:
// :method, :path, :authority; cookie crumbs joined, §8.2.3), feeds body and end from
// the stream, and writes the response head, body (with the stream's flow control as
// backpressure), trailers and end through node:http2.
//
// A response whose head says "no body" (content-length 0, e.g. a gRPC trailers-only
// reply) is one HEADERS frame with END_STREAM, which gRPC clients require (gRPC over
// HTTP/2, "Trailers-Only"). Other responses announce possible trailers and end with
// the upstream's trailers, or an empty DATA frame with END_STREAM when there are none.
//
// CONNECT streams (extended CONNECT for WebSocket, plain CONNECT) on an HCM with
// allow_connect become tunnels (h2-tunnel.ts): such a stream gets `startTunnel` and its
// DATA waits, paused, for the tunnel; other streams pay one boolean test.

import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Timer } from '../../core/clock.js';
import { ActiveStream } from '../http/active-stream.js';
import type { HcmRuntime } from '../http/connection-manager.js';
import type { HeaderList } from '../http/headers.js';
import type { DownstreamStreamCodec } from '../http/stream-codec.js';
import type { TunnelDownstream, TunnelSink } from '../http/upgrade.js';
import type { RequestHead } from '../http1/request-parser.js';
import type { BodyFraming } from '../http1/serialize.js';
import type { DownstreamTlsInfo } from '../tls/connection-info.js';
import { allowsH2Tunnels, connectRequestHead, startH2Tunnel } from './h2-tunnel.js';
import type { Http2ServerConnection } from './http2-server-connection.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR, NGHTTP2_FLAG_END_STREAM } = constants;

export class Http2ServerStream implements DownstreamStreamCodec {
  readonly httpVersion = 2;
  readonly rt: HcmRuntime;
  readonly id: number;
  readonly remoteAddress: string;
  readonly remoteIp: string;
  readonly localAddress: string;
  readonly externalPeer: boolean;
  readonly tls: DownstreamTlsInfo | null;
  closeAfterResponse = false;
  private readonly stream: ServerHttp2Stream;
  private readonly conn: Http2ServerConnection;
  private readonly active: ActiveStream;
  private trailers: OutgoingHttpHeaders | null = null;
  private deadline: Timer | null = null;
  /** The stream idle timer (re-armed only when it fires while the stream was active). */
  private idleTimer: Timer | null = null;
  private idleTimerAt = 0;
  private responded = false;
  /** The response went out as one HEADERS frame with END_STREAM. */
  private endedWithHead = false;
  private requestEnded = false;
  /** A 'drain' listener is attached (from the first write the stream's window refused). */
  private drainListened = false;
  /** The request head came with END_STREAM: the request is complete once routed. */
  private readonly headOnly: boolean;
  private done = false;
  /** The response was complete, or the proxy itself reset the stream: not a premature reset. */
  responseComplete = false;
  /** Monotonic ms when the stream opened. */
  readonly openedAt: number;
  /** Set on a CONNECT stream of an HCM with allow_connect (h2-tunnel.ts); else undefined. */
  startTunnel: ((sink: TunnelSink, status: number, headers: HeaderList) => TunnelDownstream) | undefined =
    undefined;

  constructor(
    conn: Http2ServerConnection,
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    flags: number,
    rawHeaders: string[],
  ) {
    this.conn = conn;
    this.rt = conn.rt;
    this.id = conn.id;
    this.remoteAddress = conn.remoteAddress;
    this.remoteIp = conn.remoteIp;
    this.localAddress = conn.localAddress;
    this.externalPeer = conn.externalPeer;
    this.tls = conn.tls;
    this.stream = stream;
    this.openedAt = conn.rt.clock.monotonic();
    const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    this.headOnly = endStream;
    const head = requestHeadOf(headers, rawHeaders, endStream);
    this.active = new ActiveStream(this, head);
    // No listener a stream does not need: a request that came with END_STREAM has no
    // trailers to wait for, 'drain' is listened to only under backpressure (writeBody), and
    // 'wantTrailers' only once a response with a body starts.
    if (head.tunnel && allowsH2Tunnels(this.rt)) {
      // The stream's DATA is the tunnel's: it waits in the paused stream until the switch.
      this.startTunnel = this.openTunnel;
      stream.pause();
    } else {
      stream.on('data', this.onData);
      if (!endStream) stream.on('trailers', this.onTrailers);
      stream.on('end', this.onEnd);
    }
    stream.on('close', this.onClose);
    stream.on('error', ignoreError); // 'close' follows
  }

  start(): void {
    this.active.start();
    // A request without a body is complete now (its 'end' event only follows later).
    if (this.headOnly) this.onEnd();
    // A tunnel request has no body: its head is the whole request.
    else if (this.startTunnel !== undefined && !this.done) this.active.onRequestComplete();
  }

  /** The upstream switched (101, 2xx to CONNECT) or a connect_config tunnel is up. */
  private openTunnel(sink: TunnelSink, status: number, headers: HeaderList): TunnelDownstream {
    this.responded = true;
    this.cancelDeadline();
    return startH2Tunnel(this, this.stream, sink, status, headers, this.rt.stats);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.rt.stats.cxRxBytes.value += chunk.length;
    this.active.onRequestBody(chunk);
  };

  /** The request's trailing HEADERS (RFC 9113 §8.1), before its end. */
  private readonly onTrailers = (trailers: IncomingHttpHeaders): void => {
    const list: HeaderList = [];
    for (const name in trailers) {
      if (name.charCodeAt(0) === 58 /* ':' */) continue;
      const v = trailers[name];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) list.push(name, v[i]);
      else list.push(name, v);
    }
    if (!this.done) this.active.onRequestTrailers(list);
  };

  private readonly onEnd = (): void => {
    if (this.requestEnded) return;
    this.requestEnded = true;
    if (!this.done) this.active.onRequestComplete();
  };

  private readonly onDrain = (): void => {
    this.active.onDownstreamDrain();
  };

  private readonly onWantTrailers = (): void => {
    // An empty trailer set makes node end the stream with an empty DATA frame.
    try {
      this.stream.sendTrailers(this.trailers ?? {});
    } catch {
      // A trailer field HTTP/2 forbids (from an HTTP/1.1 upstream's chunked trailers).
      this.stream.close(NGHTTP2_INTERNAL_ERROR);
    }
  };

  private readonly onClose = (): void => {
    this.cancelDeadline();
    this.conn.onStreamClosed(this, this.stream.rstCode);
    if (!this.done) this.active.onDownstreamReset();
  };

  // --- DownstreamStreamCodec ----------------------------------------------------------------

  write100Continue(): void {
    if (!this.stream.closed) this.stream.additionalHeaders({ ':status': 100 });
  }

  writeResponseHead(status: number, headers: HeaderList, framing: BodyFraming, _keepAlive: boolean): void {
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    const out: OutgoingHttpHeaders = { ':status': status };
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (name === 'connection') continue; // connection-specific (RFC 9113 §8.2.2)
      const prev = out[name];
      const value = headers[i + 1];
      if (prev === undefined) out[name] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[name] = [prev as string, value];
    }
    const noBody = framing.kind === 'length' && framing.length === 0;
    if (framing.kind === 'length') out['content-length'] = framing.length;
    this.responded = true;
    try {
      if (noBody) {
        this.endedWithHead = true;
        stream.respond(out, { endStream: true });
      } else {
        // Always waitForTrailers, even when none can follow (an HTTP/1.1 upstream with a
        // content-length): without it node closes the stream before the last write's
        // completion, and that completion then builds an ERR_STREAM_DESTROYED with a stack
        // trace per response — more than the empty END_STREAM DATA frame costs.
        stream.on('wantTrailers', this.onWantTrailers);
        stream.respond(out, { waitForTrailers: true });
      }
    } catch {
      // A header node:http2 refuses (e.g. an invalid value from upstream): reset the stream.
      this.responseComplete = true;
      stream.close(NGHTTP2_INTERNAL_ERROR);
    }
  }

  writeBody(chunk: Buffer, _chunked: boolean): boolean {
    const stream = this.stream;
    if (this.endedWithHead || stream.closed || stream.destroyed) return true;
    this.rt.stats.cxTxBytes.value += chunk.length;
    if (stream.write(chunk)) return true;
    if (!this.drainListened) {
      this.drainListened = true;
      stream.on('drain', this.onDrain);
    }
    return false;
  }

  writeResponseTrailers(trailers: HeaderList): void {
    if (trailers.length === 0) return;
    const out: OutgoingHttpHeaders = {};
    for (let i = 0; i < trailers.length; i += 2) {
      const name = trailers[i];
      // Connection-specific and framing fields never travel as HTTP/2 trailers (RFC 9113 §8.1).
      if (name === 'connection' || name === 'transfer-encoding' || name === 'content-length') continue;
      out[name] = trailers[i + 1];
    }
    this.trailers = out;
  }

  endBody(_chunked: boolean): void {
    const stream = this.stream;
    if (this.endedWithHead || !this.responded || stream.closed || stream.destroyed) return;
    stream.end();
  }

  batchWrites(): void {}

  flush(): boolean {
    return !this.stream.writableNeedDrain;
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

  pauseReading(): void {
    this.stream.pause();
  }

  resumeReading(): void {
    if (!this.stream.destroyed) this.stream.resume();
  }

  onStreamDone(_stream: unknown): void {
    if (this.done) return;
    this.done = true;
    this.responseComplete = true;
    this.cancelDeadline();
    const stream = this.stream;
    // The response is complete before the request: stop the rest of the request body
    // with RST_STREAM NO_ERROR (RFC 9113 §8.1); node sends it after the queued response.
    if (!this.requestEnded && !stream.closed) stream.close(NGHTTP2_NO_ERROR);
  }

  reset(): void {
    this.done = true;
    this.responseComplete = true;
    this.cancelDeadline();
    if (!this.stream.closed) this.stream.close(NGHTTP2_INTERNAL_ERROR);
  }
}

/** Stream errors are followed by 'close', which is where the stream's end is handled. */
function ignoreError(): void {}

/** The request head of an HTTP/2 request (RFC 9113 §8.3.1), in the proxy's HTTP/1-shaped form. */
function requestHeadOf(headers: IncomingHttpHeaders, raw: string[], endStream: boolean): RequestHead {
  const list: HeaderList = [];
  let cookie: string | null = null;
  let host = '';
  let contentLength = -1;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    const value = raw[i + 1];
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
  const authority = (headers[':authority'] as string | undefined) ?? host;
  const method = (headers[':method'] as string | undefined) ?? 'GET';
  if (method === 'CONNECT') return connectRequestHead(headers, list, authority);
  return {
    method,
    target: (headers[':path'] as string | undefined) ?? '',
    versionMinor: 1,
    authority,
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
