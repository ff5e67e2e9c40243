// The client end of an HTTP/2 connection (session.ts): the upstream side of the proxy. It
// sends the connection preface, opens a stream per request (odd ids, increasing), and
// hears each response head (1xx ones too), body, trailers and end. Pushes are refused
// (SETTINGS_ENABLE_PUSH 0; a PUSH_PROMISE is a connection error).
//
// Response heads are checked (field-rules.ts) and their DATA must add up to their
// content-length (RFC 9113 §8.1.1; not for HEAD, whose response has no body), so that what
// is relayed to an HTTP/1.1 client is framed as the server framed it. A GOAWAY from the
// server resets the streams it will not process with REFUSED_STREAM: the caller may retry
// them elsewhere.

import type { HeaderList } from '../http/headers.js';
import { declaredLength, validateResponse } from './field-rules.js';
import { PROTOCOL_ERROR, REFUSED_STREAM } from './frames.js';
import {
  DEFAULT_SESSION_SETTINGS,
  Http2Session,
  type Http2SessionHandler,
  SessionError,
  type SessionSettings,
} from './session.js';

/** The largest stream id (RFC 9113 §5.1.1). */
const MAX_STREAM_ID = 2 ** 31 - 1;

export interface ClientSessionHandler extends Http2SessionHandler {
  /**
   * A response head, `:status` first: informational ones (1xx, `endStream` false) may come
   * before the final one; `endStream` when the response has no body.
   */
  onResponse(stream: number, headers: HeaderList, endStream: boolean): void;
  /** The server's SETTINGS changed peerMaxConcurrentStreams. */
  onRemoteSettings?(): void;
  /**
   * The server's GOAWAY names a last stream below this one: the server never processed it
   * (RFC 9113 §6.8), and the request may go again on another connection. onReset follows.
   */
  onUnprocessed?(stream: number): void;
}

/** declaredLength of a HEAD request's stream until its head: the response has no body. */
const HEAD_REQUEST = -2;

export class ClientSession extends Http2Session<ClientSessionHandler> {
  private nextStream = 1;

  /** `write` returns false when the bytes wait in a buffer (then call outputDrained()). */
  constructor(
    write: (data: Buffer) => boolean | undefined,
    handler: ClientSessionHandler,
    settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
  ) {
    super(write, handler, settings, true);
  }

  /** Whether another request may start here: no GOAWAY, below the server's stream limit. */
  get canRequest(): boolean {
    return (
      !this.closed && this.activeStreams < this.peerMaxConcurrentStreams && this.nextStream < MAX_STREAM_ID
    );
  }

  /**
   * Opens a stream with the request head `fields` (pseudo-headers first); `endStream` when
   * the request has no body. Returns the stream id.
   */
  request(fields: HeaderList, endStream: boolean): number {
    const id = this.nextStream;
    this.nextStream += 2;
    this.lastStream = id;
    let head = false;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === ':method') {
        head = fields[i + 1] === 'HEAD';
        break;
      }
    }
    const s = this.openStream(id, false, head ? HEAD_REQUEST : -1, false);
    this.sendHeaders(s, fields, endStream);
    return id;
  }

  protected headersOnUnknownStream(stream: number): void {
    // A stream closed here (reset while the response was on its way) is ignored once its
    // block is decoded; one never opened is the server's mistake.
    if (stream > this.lastStream) throw new SessionError(PROTOCOL_ERROR, `HEADERS on idle stream ${stream}`);
  }

  protected onHeaderFields(id: number, fields: HeaderList, endStream: boolean, tooLarge: boolean): void {
    const s = this.streams.get(id);
    if (s === undefined) return;
    if (s.headReceived) {
      this.onTrailerFields(s, fields, endStream, tooLarge);
      return;
    }
    if (tooLarge || validateResponse(fields) !== null) {
      this.streamError(id, PROTOCOL_ERROR);
      return;
    }
    const status = Number(fields[1]);
    if (status < 200) {
      // Informational (RFC 9110 §15.2): never the end of the stream.
      if (endStream) this.streamError(id, PROTOCOL_ERROR);
      else this.handler.onResponse(id, fields, false);
      return;
    }
    s.headReceived = true;
    const noBody = s.declaredLength === HEAD_REQUEST || status === 204 || status === 304;
    const declared = noBody ? 0 : declaredLength(fields);
    if (endStream && declared > 0) {
      this.streamError(id, PROTOCOL_ERROR);
      return;
    }
    s.declaredLength = declared;
    s.remoteEnded = endStream;
    this.handler.onResponse(id, fields, endStream);
    this.maybeClose(s);
  }

  protected override onPeerGoaway(lastStream: number): void {
    // Streams above the server's last one were not processed: refused, safe to retry.
    for (const s of [...this.streams.values()]) {
      if (s.id <= lastStream) continue;
      this.handler.onUnprocessed?.(s.id);
      this.close(s, REFUSED_STREAM);
    }
  }

  protected override onSettingsApplied(): void {
    this.handler.onRemoteSettings?.();
  }
}
