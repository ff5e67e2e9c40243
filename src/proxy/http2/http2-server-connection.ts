// One downstream HTTP/2 connection (h2c with prior knowledge, h2c detected by its preface,
// or h2 over TLS by ALPN): Weft's own HTTP/2 session (server-session.ts: framing, HPACK,
// stream states, flow control) on the socket, one Http2ServerStream + ActiveStream per
// request stream, connection stats, idle and duration limits, drain with GOAWAY, and the
// connection-level protections.
//
// Protections (tests send each attack, tests/http2-attacks.test.ts):
//   - Rapid reset (CVE-2023-44487): streams the client resets within 1 s of opening,
//     before their response completed, are "premature resets", as Envoy calls them (Envoy
//     judges after 500 streams; Weft after 100); when a connection has seen at least
//     PREMATURE_RESET_MIN_STREAMS streams and half or more of them were reset
//     prematurely, it is closed with GOAWAY (ENHANCE_YOUR_CALM).
//   - CONTINUATION flood (CVE-2024-27316), HPACK bomb: one header block may carry at most
//     twice SETTINGS_MAX_HEADER_LIST_SIZE (max_request_headers_kb) in bytes, and its
//     decoded list is bounded by that size while it is decoded; more fields than
//     max_headers_count get a 431.
//   - PING and SETTINGS floods, and frames that each earn a RST_STREAM: more than
//     MAX_PENDING_CONTROL answers waiting to go out (in one read, or behind a client that
//     does not read) is GOAWAY (ENHANCE_YOUR_CALM); more than MAX_STREAM_ERRORS refused
//     or broken streams too.
//   - Memory: each stream holds at most its receive window of request body (the window
//     is reopened only as the body is consumed), response data waits for the peer's
//     window, and a stream whose writes find the socket's buffer full is paused until it
//     drains.

import type { Socket } from 'node:net';
import type { Http2Options } from '../../config/model.js';
import { DEFAULT_HTTP2_OPTIONS } from '../../config/validate-http2-options.js';
import { formatAddress, plainIp } from '../../core/address.js';
import type { Timer } from '../../core/clock.js';
import type { HcmRuntime } from '../http/connection-manager.js';
import type { HeaderList } from '../http/headers.js';
import type { Drainable } from '../listener/drain.js';
import { holdWritesForTurn, READ_LANE_DOWNSTREAM, readSocket } from '../network/socket-read.js';
import { type DownstreamTlsInfo, downstreamTlsInfo } from '../tls/connection-info.js';
import { ENHANCE_YOUR_CALM, NO_ERROR } from './frames.js';
import { Http2ServerStream } from './http2-server-stream.js';
import { ServerSession, type SessionHandler, type SessionSettings } from './server-session.js';

/** Streams a connection must have opened before the premature-reset ratio is judged. */
export const PREMATURE_RESET_MIN_STREAMS = 100;
/** A reset within this long of the stream's opening is premature (Envoy's default lifetime, 1 s). */
const PREMATURE_RESET_LIFETIME_MS = 1000;
/** Streams a peer may get refused or reset for breaking the protocol before GOAWAY. */
const MAX_STREAM_ERRORS = 100;

/** Session settings of an HCM's HTTP/2 connections, built once per config version. */
export function http2SessionSettings(rt: HcmRuntime): SessionSettings {
  const o: Http2Options = rt.config.http2Options ?? DEFAULT_HTTP2_OPTIONS;
  const maxHeaderListSize = rt.limits.maxHeaderBytes;
  return {
    maxConcurrentStreams: o.maxConcurrentStreams,
    initialWindowSize: o.initialStreamWindowSize,
    connectionWindowSize: Math.max(o.initialConnectionWindowSize, 65_535),
    maxHeaderListSize,
    headerTableSize: o.hpackTableSize,
    maxHeaderBlockBytes: 2 * maxHeaderListSize + 1024,
    maxStreamErrors: MAX_STREAM_ERRORS,
    // allow_connect: RFC 8441 extended CONNECT (WebSocket over HTTP/2, h2-tunnel.ts).
    enableConnectProtocol: o.allowConnect,
  };
}

export class Http2ServerConnection implements Drainable, SessionHandler {
  readonly rt: HcmRuntime;
  readonly id: number;
  readonly remoteAddress: string;
  readonly remoteIp: string;
  readonly localAddress: string;
  readonly tls: DownstreamTlsInfo | null;
  readonly session: ServerSession;
  /** The socket's write buffer is over its high-water mark (until 'drain'). */
  socketBlocked = false;
  private readonly socket: Socket;
  private readonly streams = new Map<number, Http2ServerStream>();
  private opened = 0;
  private prematureResets = 0;
  /** GOAWAY sent or received: the socket ends once no stream is open. */
  private goingAway = false;
  private closed = false;
  /** Monotonic ms since which no stream is open (for the idle timeout). */
  private idleSince: number;
  private idleTimer: Timer | null = null;
  /** max_connection_duration, then drain_timeout before the socket is destroyed; null = none. */
  private maxDurationTimer: Timer | null = null;

  /** `initial`: bytes already read from the socket while sniffing the preface. */
  constructor(socket: Socket, rt: HcmRuntime, settings: SessionSettings, initial: Buffer | null) {
    this.rt = rt;
    this.socket = socket;
    this.id = rt.nextConnectionId();
    this.remoteIp = plainIp(socket.remoteAddress ?? '');
    this.remoteAddress = formatAddress(this.remoteIp, socket.remotePort ?? 0);
    this.localAddress = formatAddress(plainIp(socket.localAddress ?? ''), socket.localPort ?? 0);
    this.tls = downstreamTlsInfo(socket);
    const s = rt.stats;
    s.cxTotal.value++;
    s.cxActive.value++;
    s.cxHttp2Total.value++;
    socket.setNoDelay(true);
    this.session = new ServerSession(this.write, this, settings);
    readSocket(socket, READ_LANE_DOWNSTREAM, this.onSocketData);
    socket.on('drain', this.onSocketDrain);
    socket.on('end', this.onSocketEnd);
    socket.on('error', ignoreError); // 'close' follows
    socket.on('close', this.onSocketClose);
    this.idleSince = rt.clock.monotonic();
    const idle = rt.config.idleTimeoutMs;
    if (idle !== null) this.idleTimer = rt.clock.setTimer(idle, this.onIdleTimer);
    const maxDuration = rt.config.maxConnectionDurationMs;
    if (maxDuration !== undefined) this.maxDurationTimer = rt.clock.setTimer(maxDuration, this.onMaxDuration);
    rt.drain.add(this);
    if (initial !== null) this.session.receive(initial);
    socket.resume();
  }

  // --- the socket --------------------------------------------------------------------------

  private readonly write = (data: Buffer): boolean => {
    if (this.closed) return true;
    this.rt.stats.cxTxBytes.value += data.length;
    holdWritesForTurn(this.socket);
    if (this.socket.write(data)) return true;
    this.socketBlocked = true;
    return false;
  };

  private readonly onSocketData = (chunk: Buffer): void => {
    this.rt.stats.cxRxBytes.value += chunk.length;
    this.session.receive(chunk);
  };

  private readonly onSocketDrain = (): void => {
    this.socketBlocked = false;
    this.session.outputDrained();
    // Streams that wrote into the full buffer go on, until one fills it again; those still
    // waiting for window hear of it when their data is out.
    for (const s of this.streams.values()) {
      if (this.socketBlocked) break;
      if (!this.session.hasQueued(s.stream)) s.onWritable();
    }
  };

  /** The client half-closed: it sends nothing more, so nothing more can be asked of us. */
  private readonly onSocketEnd = (): void => {
    this.endSocket();
  };

  private readonly onSocketClose = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimers();
    const open = [...this.streams.values()];
    this.streams.clear();
    for (let i = 0; i < open.length; i++) open[i].onConnectionClosed();
    this.rt.stats.cxActive.value--;
    this.rt.stats.cxDestroy.value++;
    this.rt.drain.delete(this);
  };

  private endSocket(): void {
    // Frames still queued in the session (the last response's end) go out first.
    this.session.flush();
    if (this.socket.writable) this.socket.end();
    else if (!this.socket.destroyed) this.socket.destroy();
  }

  // --- SessionHandler -------------------------------------------------------------------

  onRequest(stream: number, headers: HeaderList, endStream: boolean): void {
    this.opened++;
    const s = new Http2ServerStream(this, stream, headers, endStream);
    this.streams.set(stream, s);
    s.start();
  }

  onTrailers(stream: number, trailers: HeaderList): void {
    this.streams.get(stream)?.onTrailers(trailers);
  }

  onData(stream: number, chunk: Buffer, endStream: boolean): void {
    this.streams.get(stream)?.onData(chunk, endStream);
  }

  onReset(stream: number, code: number): void {
    const s = this.streams.get(stream);
    if (s === undefined) return;
    // Judged before the stream hears it: its ActiveStream then completes it.
    const premature =
      !s.responseComplete &&
      code !== NO_ERROR &&
      !this.goingAway &&
      this.rt.clock.monotonic() - s.openedAt <= PREMATURE_RESET_LIFETIME_MS;
    s.onReset(code);
    if (!premature) return;
    this.prematureResets++;
    if (this.opened >= PREMATURE_RESET_MIN_STREAMS && this.prematureResets * 2 >= this.opened) {
      // CVE-2023-44487: most streams of this connection are opened and reset at once.
      this.session.goaway(ENHANCE_YOUR_CALM, 'too many streams reset early');
    }
  }

  onStreamClosed(stream: number): void {
    const s = this.streams.get(stream);
    if (s === undefined) return;
    this.streams.delete(stream);
    s.onClosed();
    if (this.streams.size > 0) return;
    if (this.goingAway) this.endSocket();
    else if (this.idleTimer !== null) this.idleSince = this.rt.clock.monotonic();
  }

  onWritable(stream: number): void {
    this.streams.get(stream)?.onWindowOpen();
  }

  onEndSent(stream: number): void {
    this.streams.get(stream)?.onEndSent();
  }

  onClose(code: number, _message: string, byPeer: boolean): void {
    this.goingAway = true;
    if (code !== NO_ERROR && !byPeer) {
      // A connection error found here: every stream is reset already; GOAWAY is written.
      this.rt.stats.cxProtocolError.value++;
      this.endSocket();
      return;
    }
    if (this.streams.size === 0) this.endSocket();
  }

  // --- timers ---------------------------------------------------------------------------

  /** The idle timeout: re-armed for what is left while streams are open or were recently. */
  private readonly onIdleTimer = (): void => {
    this.idleTimer = null;
    const idle = this.rt.config.idleTimeoutMs;
    if (this.closed || idle === null) return;
    let left = idle;
    if (this.streams.size === 0) {
      left = this.idleSince + idle - this.rt.clock.monotonic();
      if (left <= 0) {
        this.rt.stats.cxIdleTimeout.value++;
        this.session.goaway(NO_ERROR, 'idle timeout');
        return;
      }
    }
    this.idleTimer = this.rt.clock.setTimer(left, this.onIdleTimer);
  };

  /** max_connection_duration passed (Envoy): GOAWAY; open streams get drain_timeout to finish. */
  private readonly onMaxDuration = (): void => {
    this.maxDurationTimer = null;
    if (this.closed || this.goingAway) return;
    this.rt.stats.cxMaxDurationReached.value++;
    this.session.goaway(NO_ERROR, 'max connection duration');
    if (!this.closed)
      this.maxDurationTimer = this.rt.clock.setTimer(
        this.rt.config.drainTimeoutMs,
        this.onMaxDurationDrained,
      );
  };

  private readonly onMaxDurationDrained = (): void => {
    this.maxDurationTimer = null;
    this.forceClose();
  };

  private cancelTimers(): void {
    if (this.idleTimer !== null) {
      this.idleTimer.cancel();
      this.idleTimer = null;
    }
    if (this.maxDurationTimer !== null) {
      this.maxDurationTimer.cancel();
      this.maxDurationTimer = null;
    }
  }

  // --- Drainable --------------------------------------------------------------------------

  /** GOAWAY: no new streams; open ones finish, then the connection closes. */
  onDrain(): void {
    if (this.closed || this.goingAway) return;
    this.rt.stats.cxDrainClose.value++;
    this.session.goaway(NO_ERROR, 'draining');
  }

  forceClose(): void {
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

/** Socket errors are followed by 'close', which is where the connection's end is handled. */
function ignoreError(): void {}
