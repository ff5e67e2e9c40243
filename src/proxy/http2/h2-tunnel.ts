// Tunnels over HTTP/2 streams (downstream): RFC 8441 extended CONNECT (`:method CONNECT` +
// `:protocol`, e.g. WebSocket over HTTP/2) and plain HTTP/2 CONNECT (RFC 9113 §8.5), on an
// HCM with `http2_protocol_options.allow_connect` (node:http2's `enableConnectProtocol`
// advertises SETTINGS_ENABLE_CONNECT_PROTOCOL).
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
//   is the backpressure (write() false until 'drain'; pause() stops reading, so the
//   client's window is not reopened); END_STREAM both ways is the half-close (FIN); an
//   RST_STREAM from the client closes the tunnel with an error, and a tunnel that must be
//   torn down resets the stream (CANCEL).
//
// Until the tunnel is established the stream is paused: DATA the client sent early stays
// in the stream (held by flow control) and is read once the pump starts.
//
// Rapid reset (http2-server-connection.ts): a tunnel the client resets within a second of
// opening counts as a premature reset, as a stream whose response is not complete does in
// Envoy; the tunnel's response is complete once its END_STREAM went out, and resets the
// proxy sends itself never count.

import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { HcmRuntime, HcmStats } from '../http/connection-manager.js';
import type { HeaderList } from '../http/headers.js';
import type { TunnelDownstream, TunnelSink } from '../http/upgrade.js';
import type { RequestHead } from '../http1/request-parser.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL } = constants;

/** The stream codec owning the tunnel: told when the stream's response is complete. */
export interface H2TunnelOwner {
  responseComplete: boolean;
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
  headers: IncomingHttpHeaders,
  list: HeaderList,
  authority: string,
): RequestHead {
  const protocol = headers[':protocol'];
  const extended = typeof protocol === 'string';
  if (extended) list.push('upgrade', protocol);
  return {
    method: extended ? 'GET' : 'CONNECT',
    // RFC 8441 §4: an extended CONNECT carries :path; a plain one only :authority (§8.5).
    target: extended ? ((headers[':path'] as string | undefined) ?? '/') : authority,
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
 * Answers the stream with the switching response (`status` 101 → 200) and returns the
 * stream as the tunnel's downstream side, its events going to `sink` from now on.
 */
export function startH2Tunnel(
  owner: H2TunnelOwner,
  stream: ServerHttp2Stream,
  sink: TunnelSink,
  status: number,
  headers: HeaderList,
  stats: HcmStats,
): TunnelDownstream {
  const out: OutgoingHttpHeaders = { ':status': status === 101 ? 200 : status };
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    // Connection-specific fields (RFC 9113 §8.2.2), and no Content-Length on a 2xx to
    // CONNECT (RFC 9110 §9.3.6).
    if (
      name === 'connection' ||
      name === 'upgrade' ||
      name === 'keep-alive' ||
      name === 'proxy-connection' ||
      name === 'transfer-encoding' ||
      name === 'content-length'
    )
      continue;
    const prev = out[name];
    const value = headers[i + 1];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev as string, value];
  }
  const side = new H2TunnelSide(owner, stream, sink, stats);
  if (!stream.closed && !stream.destroyed) {
    try {
      stream.respond(out);
    } catch {
      // A header node:http2 refuses (an invalid value from upstream): the tunnel cannot start.
      side.destroy();
    }
  }
  return side;
}

/** The downstream side of a tunnel over one HTTP/2 stream. */
class H2TunnelSide implements TunnelDownstream {
  constructor(
    private readonly owner: H2TunnelOwner,
    private readonly stream: ServerHttp2Stream,
    private readonly sink: TunnelSink,
    private readonly stats: HcmStats,
  ) {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('drain', this.onDrain);
    stream.on('finish', this.onFinish);
    stream.on('close', this.onClose);
    // A stream that closed before the switch (client reset while the upstream answered).
    if (stream.destroyed) queueMicrotask(this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.stats.cxRxBytes.value += chunk.length;
    this.sink.fromDownstream(chunk);
  };
  private readonly onEnd = (): void => this.sink.downstreamEnded();
  private readonly onDrain = (): void => this.sink.downstreamDrained();
  private readonly onFinish = (): void => {
    // node also finishes the writable side of a stream the client reset: not a complete response.
    const rst = this.stream.rstCode;
    if (rst === undefined || rst === NGHTTP2_NO_ERROR) this.owner.responseComplete = true;
    this.sink.downstreamFinished();
  };
  private closed = false;
  private readonly onClose = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.sink.downstreamClosed(this.stream.rstCode !== NGHTTP2_NO_ERROR);
  };

  write(chunk: Buffer): boolean {
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) return true;
    this.stats.cxTxBytes.value += chunk.length;
    return stream.write(chunk);
  }
  pause(): void {
    this.stream.pause();
  }
  resume(): void {
    if (!this.stream.destroyed) this.stream.resume();
  }
  /** END_STREAM after the pending DATA. */
  end(): void {
    const stream = this.stream;
    if (!stream.destroyed && !stream.writableEnded) stream.end();
  }
  /** RST_STREAM: NO_ERROR once our side is complete (RFC 9113 §8.1), else CANCEL. */
  destroy(): void {
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    this.owner.responseComplete = true; // the proxy's own reset: not a premature one
    stream.close(stream.writableFinished ? NGHTTP2_NO_ERROR : NGHTTP2_CANCEL);
  }
  get writableFinished(): boolean {
    return this.stream.writableFinished;
  }
  /** Early DATA waits in the paused stream; nothing was read ahead. */
  takePending(): Buffer | null {
    return null;
  }
}
