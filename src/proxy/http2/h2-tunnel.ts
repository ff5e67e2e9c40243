// Tunnels over HTTP/2 streams (downstream): RFC 8441 extended CONNECT (`:method CONNECT` +
// `:protocol`, e.g. WebSocket over HTTP/2) and plain HTTP/2 CONNECT (RFC 9113 §8.5), on an
// HCM with `http2_protocol_options.allow_connect` (the session then advertises
// SETTINGS_ENABLE_CONNECT_PROTOCOL).
//
// The upgrade decision and the byte relay are the HTTP/1.1 ones (http/upgrade.ts,
// network/byte-pump.ts); this module only adapts the HTTP/2 stream to them, as Envoy does:
// - Request: an extended CONNECT becomes the HTTP/1.1 upgrade request `GET :path` with
//   `Upgrade: <:protocol>` (and `Connection: upgrade`, restored by StreamUpgrade), so
//   `upgrade_configs` decide it by its protocol; a plain CONNECT stays CONNECT with the
//   authority as its target (`connect` in upgrade_configs; connect_config terminates it).
// - Response: the upstream's 101 becomes a 200 on the stream (RFC 8441 §5), without the
//   HTTP/1.1 connection-specific fields; a 2xx to CONNECT goes as it is. Any other answer
//   is relayed as a normal response by the stream codec.
// - Bytes: the stream's DATA frames are the downstream side of the BytePump. Flow control
//   is the backpressure (write() false until the window or the socket opens; pause() stops
//   reading, so the client's window is not reopened); END_STREAM both ways is the
//   half-close (FIN); an RST_STREAM from the client closes the tunnel with an error, and a
//   tunnel that must be torn down resets the stream (CANCEL).
//
// Until the tunnel is established the stream is paused: DATA the client sent early is held
// in the stream (bounded by its window) and handed to the pump when it starts.
//
// Rapid reset (http2-server-connection.ts): a tunnel the client resets within a second of
// opening counts as a premature reset, as a stream whose response is not complete does in
// Envoy; the tunnel's response is complete once its END_STREAM went out, and resets the
// proxy sends itself never count.

import type { HcmRuntime } from '../http/connection-manager.js';
import type { HeaderList } from '../http/headers.js';
import type { TunnelDownstream, TunnelSink } from '../http/upgrade.js';
import type { RequestHead } from '../http1/request-parser.js';
import { CANCEL, NO_ERROR } from './frames.js';
import type { ServerSession } from './server-session.js';

const EMPTY = Buffer.alloc(0);

/** The stream codec a tunnel runs on (http2-server-stream.ts). */
export interface H2TunnelStream {
  /** Set once the tunnel's END_STREAM went out, or the proxy reset it: not a premature reset. */
  responseComplete: boolean;
  readonly session: ServerSession;
  /** The HTTP/2 stream number. */
  readonly stream: number;
  /** Sends DATA; false when the caller must wait (the tunnel hears drained()). */
  send(chunk: Buffer, end: boolean): boolean;
  pauseReading(): void;
  resumeReading(): void;
}

/** Whether this HCM's HTTP/2 streams may become tunnels (`allow_connect`). */
export function allowsH2Tunnels(rt: HcmRuntime): boolean {
  return rt.config.http2Options?.allowConnect === true;
}

/**
 * The request head of a CONNECT stream in the proxy's HTTP/1-shaped form. `list` holds the
 * regular header fields. A tunnel request has no body of its own (its DATA is the tunnel's).
 */
export function connectRequestHead(
  protocol: string | undefined,
  path: string,
  list: HeaderList,
  authority: string,
): RequestHead {
  const extended = protocol !== undefined;
  if (extended) list.push('upgrade', protocol);
  return {
    method: extended ? 'GET' : 'CONNECT',
    // RFC 8441 §4: an extended CONNECT carries :path; a plain one only :authority (§8.5).
    target: extended ? path || '/' : authority,
    versionMinor: 1,
    authority,
    headers: list,
    contentLength: 0,
    chunked: false,
    keepAlive: true,
    expectContinue: false,
    upgrade: extended,
    tunnel: true,
    connectionTokens: '',
  };
}

/**
 * The downstream side of a tunnel over one HTTP/2 stream, once the switching response
 * (101 → 200) is sent. The stream hands it the DATA it held, and its events from now on.
 */
export class H2TunnelSide implements TunnelDownstream {
  /** Our END_STREAM is sent or queued. */
  private ended = false;
  private finishedOut = false;
  private closedDown = false;

  constructor(
    private readonly owner: H2TunnelStream,
    private readonly sink: TunnelSink,
    private held: Buffer[],
    /** The client's END_STREAM came with the held DATA. */
    private heldEnd: boolean,
  ) {}

  // --- from the stream --------------------------------------------------------------------

  fromDownstream(chunk: Buffer): void {
    this.sink.fromDownstream(chunk);
  }
  downstreamEnded(): void {
    this.sink.downstreamEnded();
  }
  drained(): void {
    this.sink.downstreamDrained();
  }
  /** Our END_STREAM went out. */
  finished(): void {
    if (this.finishedOut) return;
    this.finishedOut = true;
    this.owner.responseComplete = true;
    this.sink.downstreamFinished();
  }
  closed(hadError: boolean): void {
    if (this.closedDown) return;
    this.closedDown = true;
    this.sink.downstreamClosed(hadError);
  }

  // --- TunnelDownstream -------------------------------------------------------------------

  write(chunk: Buffer): boolean {
    if (this.ended || this.closedDown) return true;
    return this.owner.send(chunk, false);
  }
  pause(): void {
    this.owner.pauseReading();
  }
  resume(): void {
    if (this.closedDown) return;
    this.owner.resumeReading();
    if (this.heldEnd) {
      this.heldEnd = false;
      this.sink.downstreamEnded();
    }
  }
  /** END_STREAM after the pending DATA. */
  end(): void {
    if (this.ended || this.closedDown) return;
    this.ended = true;
    const { session, stream } = this.owner;
    if (session.data(stream, EMPTY, true)) queueMicrotask(() => this.finished());
    // Else it waits for window, and the stream hears onEndSent.
  }
  /** RST_STREAM: NO_ERROR once our side is complete (RFC 9113 §8.1), else CANCEL. */
  destroy(): void {
    this.owner.responseComplete = true; // the proxy's own reset: not a premature one
    if (this.closedDown) return;
    const code = this.finishedOut ? NO_ERROR : CANCEL;
    this.closed(code !== NO_ERROR);
    this.owner.session.reset(this.owner.stream, code);
  }
  get writableFinished(): boolean {
    return this.finishedOut;
  }
  /** DATA the client sent before the switch; its window reopens as it is handed over. */
  takePending(): Buffer | null {
    const held = this.held;
    if (held.length === 0) return null;
    this.held = [];
    const data = held.length === 1 ? held[0] : Buffer.concat(held);
    this.owner.session.consumed(this.owner.stream, data.length);
    return data;
  }
}
