// The codec seam of an ActiveStream: what the per-request state machine needs from "the
// downstream side of one stream" and from "the upstream request of one attempt", so that
// the same routing/retry/timeout/access-log code serves HTTP/1.1 and HTTP/2 on either side.
//
// Downstream: Http1ServerConnection implements DownstreamStreamCodec itself (one stream
// at a time per connection, so the connection *is* the stream's codec and nothing is
// allocated per request); an HTTP/2 connection hands each stream its own small object
// (src/proxy/http2/http2-server-stream.ts).
//
// Upstream: an UpstreamConnection (src/proxy/upstream/connection-pool.ts) is the upstream
// request of one attempt: the HTTP/1.1 pool hands out its pooled connection, the HTTP/2
// pool one object per stream. Responses come back through the ResponseHandler methods of
// the stream (the HTTP/1 response parser's handler interface) plus onUpstreamClose for a
// reset.

import type { BodyFraming } from '../http1/serialize.js';
import type { DownstreamTlsInfo } from '../tls/connection-info.js';
import type { HcmRuntime } from './connection-manager.js';
import type { HeaderList } from './headers.js';
import type { TunnelDownstream, TunnelSink } from './upgrade.js';

/** The downstream side of one stream, as ActiveStream uses it. */
export interface DownstreamStreamCodec {
  readonly rt: HcmRuntime;
  /** 1 for HTTP/1.x, 2 for HTTP/2. */
  readonly httpVersion: 1 | 2;
  readonly id: number;
  readonly remoteAddress: string;
  readonly remoteIp: string;
  readonly localAddress: string;
  /** The connection's TLS session (version, SNI, peer SANs); null on plaintext. */
  readonly tls: DownstreamTlsInfo | null;
  /** HTTP/1: close the connection once this response is written. Ignored by HTTP/2. */
  closeAfterResponse: boolean;
  write100Continue(): void;
  /** Sends the response head; `framing` is the body framing (HTTP/2 uses it for content-length only). */
  writeResponseHead(status: number, headers: HeaderList, framing: BodyFraming, keepAlive: boolean): void;
  /** Body bytes; false when the peer's buffer/window is full (wait for onDownstreamDrain). */
  writeBody(chunk: Buffer, chunked: boolean): boolean;
  /** Response trailers, sent when the body ends (HTTP/1 drops them, as Envoy does by default). */
  writeResponseTrailers(trailers: HeaderList): void;
  endBody(chunked: boolean): void;
  batchWrites(): void;
  flush(): boolean;
  setStreamDeadline(timeoutMs: number): void;
  clearStreamDeadline(): void;
  /**
   * The stream idle timeout: calls the stream's onStreamIdleTimer() no later than
   * `timeoutMs` from now (and again as long as it returns more time).
   */
  armStreamIdleTimer(timeoutMs: number): void;
  pauseReading(): void;
  resumeReading(): void;
  /** The stream finished (response written, request read or abandoned). */
  onStreamDone(stream: unknown): void;
  /** Aborts the stream now (HTTP/1: the connection; HTTP/2: RST_STREAM). */
  reset(): void;
  /**
   * HTTP/1 only (upgrade.ts): sends the switching response head and makes the connection
   * a tunnel whose events go to `sink`. Absent on HTTP/2 streams.
   */
  startTunnel?(sink: TunnelSink, status: number, headers: HeaderList): TunnelDownstream;
}

/** The sending half of the upstream request of one attempt. */
export interface UpstreamRequestEncoder {
  /**
   * Sends the request head and the body chunks already received (`body`, may be null);
   * `end` when the request is complete. False when the upstream is not taking more bytes.
   */
  sendHead(
    method: string,
    path: string,
    authority: string,
    scheme: string,
    headers: HeaderList,
    framing: BodyFraming,
    body: readonly Buffer[] | null,
    end: boolean,
  ): boolean;
  /** One request body chunk; false on backpressure (the user gets onUpstreamDrain). */
  sendBody(chunk: Buffer): boolean;
  /** The request is complete. */
  sendEnd(): void;
  /**
   * The request is complete and ends with these trailers (instead of sendEnd): HTTP/2
   * sends them as a trailing HEADERS frame; HTTP/1.1 in the last chunk of a chunked body,
   * and drops them when the body is not chunked (as Envoy does).
   */
  sendTrailers(trailers: HeaderList): void;
  /** Response backpressure: stop / restart delivering response bytes. */
  pauseResponse(): void;
  resumeResponse(): void;
}
