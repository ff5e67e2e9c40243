// One downstream HTTP/2 connection (h2c with prior knowledge, h2c detected by its preface,
// or h2 over TLS by ALPN): a node:http2 server session on the socket (nghttp2 does the
// framing, HPACK and flow control), one Http2ServerStream + ActiveStream per request
// stream, connection stats, drain with GOAWAY, and the connection-level protections.
//
// Protections (tests send each attack, tests/http2-attacks.test.ts):
//   - Rapid reset (CVE-2023-44487): streams the client resets within 1 s of opening,
//     before their response completed, are "premature resets", as Envoy calls them (Envoy
//     judges after 500 streams; Weft after 100); when a connection has seen
//     at least PREMATURE_RESET_MIN_STREAMS streams and half or more of them were reset
//     prematurely, it is closed with GOAWAY (ENHANCE_YOUR_CALM). nghttp2's own reset
//     rate limit also applies.
//   - CONTINUATION flood (CVE-2024-27316), HPACK bomb: the header block is bounded by
//     SETTINGS_MAX_HEADER_LIST_SIZE (max_request_headers_kb) and the field count by
//     max_headers_count; nghttp2 caps CONTINUATION frames per block; the session's memory
//     is capped (maxSessionMemory) — an offending connection gets GOAWAY.
//   - PING and SETTINGS floods: nghttp2 bounds queued ACKs (GOAWAY when the client does
//     not read them), maxSettings bounds entries per SETTINGS frame, and invalid frames
//     and rejected streams are capped per session (maxSessionInvalidFrames,
//     maxSessionRejectedStreams).

import {
  constants,
  type IncomingHttpHeaders,
  performServerHandshake,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  type ServerSessionOptions,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { Http2Options } from '../../config/model.js';
import { DEFAULT_HTTP2_OPTIONS } from '../../config/validate-http2-options.js';
import { formatAddress, plainIp } from '../../core/address.js';
import type { Timer } from '../../core/clock.js';
import type { HcmRuntime } from '../http/connection-manager.js';
import { isInternalAddress } from '../http/internal-address.js';
import type { Drainable } from '../listener/drain.js';
import { type DownstreamTlsInfo, downstreamTlsInfo } from '../tls/connection-info.js';
import { Http2ServerStream } from './http2-server-stream.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_ENHANCE_YOUR_CALM } = constants;

/** Streams a connection must have opened before the premature-reset ratio is judged. */
export const PREMATURE_RESET_MIN_STREAMS = 100;
/** A reset within this long of the stream's opening is premature (Envoy's default lifetime, 1 s). */
const PREMATURE_RESET_LIFETIME_MS = 1000;
/** Session memory bound (MB, node's unit) for buffered frames and header state. */
const MAX_SESSION_MEMORY_MB = 16;
/** Invalid frames and refused streams a peer may cause before the session is torn down. */
const MAX_INVALID_FRAMES = 100;
const MAX_REJECTED_STREAMS = 100;
/** Entries one SETTINGS frame may carry (RFC 9113 defines 6 settings). */
const MAX_SETTINGS_ENTRIES = 32;

/** Session options of an HCM's HTTP/2 connections, built once per config version. */
export function http2ServerOptions(rt: HcmRuntime): ServerSessionOptions {
  const o: Http2Options = rt.config.http2Options ?? DEFAULT_HTTP2_OPTIONS;
  return {
    settings: {
      headerTableSize: o.hpackTableSize,
      maxConcurrentStreams: o.maxConcurrentStreams,
      initialWindowSize: o.initialStreamWindowSize,
      maxHeaderListSize: rt.limits.maxHeaderBytes,
      enablePush: false,
      // allow_connect: RFC 8441 extended CONNECT (WebSocket over HTTP/2, h2-tunnel.ts).
      enableConnectProtocol: o.allowConnect,
    },
    // Pseudo-headers count as pairs too.
    maxHeaderListPairs: rt.limits.maxHeaderCount + 8,
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
    maxSessionInvalidFrames: MAX_INVALID_FRAMES,
    maxSessionRejectedStreams: MAX_REJECTED_STREAMS,
    maxSettings: MAX_SETTINGS_ENTRIES,
  };
}

export class Http2ServerConnection implements Drainable {
  readonly rt: HcmRuntime;
  readonly id: number;
  readonly remoteAddress: string;
  readonly remoteIp: string;
  readonly localAddress: string;
  readonly externalPeer: boolean;
  readonly tls: DownstreamTlsInfo | null;
  private readonly session: ServerHttp2Session;
  private streams = 0;
  private open = 0;
  private prematureResets = 0;
  private closed = false;
  /** max_connection_duration, then drain_timeout before the session is destroyed; null = none. */
  private maxDurationTimer: Timer | null = null;

  /** `initial`: bytes already read from the socket while sniffing the preface. */
  constructor(socket: Socket, rt: HcmRuntime, options: ServerSessionOptions, initial: Buffer | null) {
    this.rt = rt;
    this.id = rt.nextConnectionId();
    this.remoteIp = plainIp(socket.remoteAddress ?? '');
    this.remoteAddress = formatAddress(this.remoteIp, socket.remotePort ?? 0);
    this.localAddress = formatAddress(plainIp(socket.localAddress ?? ''), socket.localPort ?? 0);
    this.externalPeer = rt.config.useRemoteAddress && !isInternalAddress(this.remoteIp);
    this.tls = downstreamTlsInfo(socket);
    const s = rt.stats;
    s.cxTotal.value++;
    s.cxActive.value++;
    s.cxHttp2Total.value++;
    socket.setNoDelay(true);
    // The session reads what is buffered on the socket first (node's http2 setup).
    if (initial !== null) socket.unshift(initial);
    const session = performServerHandshake(socket, options);
    this.session = session;
    const window = (rt.config.http2Options ?? DEFAULT_HTTP2_OPTIONS).initialConnectionWindowSize;
    if (window > 65_535) session.setLocalWindowSize(window);
    session.on('stream', this.onStream);
    session.on('error', this.onError);
    session.on('close', this.onClose);
    const idle = rt.config.idleTimeoutMs;
    if (idle !== null) session.setTimeout(idle, this.onIdle);
    const maxDuration = rt.config.maxConnectionDurationMs;
    if (maxDuration !== undefined) this.maxDurationTimer = rt.clock.setTimer(maxDuration, this.onMaxDuration);
    rt.drain.add(this);
  }

  private readonly onStream = (
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    flags: number,
    rawHeaders: string[],
  ): void => {
    this.streams++;
    this.open++;
    const s = new Http2ServerStream(this, stream, headers, flags, rawHeaders);
    s.start();
  };

  /** A stream closed; `rstCode` is its RST_STREAM code (NO_ERROR when it ended normally). */
  onStreamClosed(stream: Http2ServerStream, rstCode: number): void {
    this.open--;
    if (stream.responseComplete || rstCode === NGHTTP2_NO_ERROR || this.closed) return;
    if (this.rt.clock.monotonic() - stream.openedAt > PREMATURE_RESET_LIFETIME_MS) return;
    this.prematureResets++;
    if (this.streams >= PREMATURE_RESET_MIN_STREAMS && this.prematureResets * 2 >= this.streams) {
      // CVE-2023-44487: most streams of this connection are opened and reset at once.
      this.rt.stats.cxProtocolError.value++;
      this.closed = true;
      this.session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
      this.session.destroy();
    }
  }

  /** nghttp2 tore the session down (flood detected, CONTINUATION cap, bad frames); 'close' follows. */
  private readonly onError = (): void => {
    this.rt.stats.cxProtocolError.value++;
  };

  private readonly onIdle = (): void => {
    if (this.closed || this.open > 0) return;
    this.rt.stats.cxIdleTimeout.value++;
    this.closed = true;
    this.session.close();
  };

  /** max_connection_duration passed (Envoy): GOAWAY; open streams get drain_timeout to finish. */
  private readonly onMaxDuration = (): void => {
    this.maxDurationTimer = null;
    const session = this.session;
    if (this.closed || session.closed || session.destroyed) return;
    this.rt.stats.cxMaxDurationReached.value++;
    session.close();
    this.maxDurationTimer = this.rt.clock.setTimer(this.rt.config.drainTimeoutMs, this.onMaxDurationDrained);
  };

  private readonly onMaxDurationDrained = (): void => {
    this.maxDurationTimer = null;
    if (!this.session.destroyed) this.session.destroy();
  };

  private readonly onClose = (): void => {
    if (this.maxDurationTimer !== null) {
      this.maxDurationTimer.cancel();
      this.maxDurationTimer = null;
    }
    this.closed = true;
    this.rt.stats.cxActive.value--;
    this.rt.stats.cxDestroy.value++;
    this.rt.drain.delete(this);
  };

  // --- Drainable --------------------------------------------------------------------------

  /** GOAWAY: no new streams; open ones finish, then the session closes. */
  onDrain(): void {
    if (this.session.closed || this.session.destroyed) return;
    this.rt.stats.cxDrainClose.value++;
    this.session.close();
  }

  forceClose(): void {
    this.session.destroy();
  }
}
