// The server end of an HTTP/2 connection (session.ts): the client opens streams with its
// requests. Each request's header block is checked against RFC 9113 §8 (field-rules.ts)
// before the user hears of it; more open requests than SETTINGS_MAX_CONCURRENT_STREAMS are
// refused (REFUSED_STREAM, with HPACK kept in step).

import type { HeaderList } from '../http/headers.js';
import { declaredLength, validateRequest } from './field-rules.js';
import { PROTOCOL_ERROR, REFUSED_STREAM, STREAM_CLOSED } from './frames.js';
import {
  DEFAULT_SESSION_SETTINGS,
  Http2Session,
  type Http2SessionHandler,
  SessionError,
  type SessionSettings,
} from './session.js';

export { validateRequest } from './field-rules.js';
export { DEFAULT_SESSION_SETTINGS, MAX_PENDING_CONTROL, type SessionSettings } from './session.js';

export interface SessionHandler extends Http2SessionHandler {
  /** A new request: its header fields (pseudo-headers first) and whether it has no body. */
  onRequest(stream: number, headers: HeaderList, endStream: boolean): void;
}

export class ServerSession extends Http2Session<SessionHandler> {
  /** `write` returns false when the bytes wait in a buffer (then call outputDrained()). */
  constructor(
    write: (data: Buffer) => boolean | undefined,
    handler: SessionHandler,
    settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
  ) {
    super(write, handler, settings, false);
  }

  /** An informational (1xx) response head, e.g. 100-continue; the real one follows. */
  informational(stream: number, headers: HeaderList): void {
    const s = this.streams.get(stream);
    if (s === undefined || s.responded) return;
    this.sendHeaders(s, headers, false);
  }

  /** Sends the response head; `endStream` when there is no body. */
  respond(stream: number, headers: HeaderList, endStream: boolean): void {
    const s = this.streams.get(stream);
    if (s === undefined || s.responded) return;
    s.responded = true;
    this.sendHeaders(s, headers, endStream);
  }

  protected headersOnUnknownStream(stream: number): void {
    if (stream <= this.lastStream)
      throw new SessionError(STREAM_CLOSED, `HEADERS on closed stream ${stream}`);
  }

  protected onHeaderFields(id: number, fields: HeaderList, endStream: boolean, tooLarge: boolean): void {
    const existing = this.streams.get(id);
    if (existing !== undefined) {
      this.onTrailerFields(existing, fields, endStream, tooLarge);
      return;
    }
    this.lastStream = id;
    if (this.closed) return;
    if (this.streams.size >= this.settings.maxConcurrentStreams) {
      this.streamError(id, REFUSED_STREAM);
      return;
    }
    if (tooLarge || validateRequest(fields, this.settings.enableConnectProtocol) !== null) {
      this.streamError(id, PROTOCOL_ERROR);
      return;
    }
    const declared = declaredLength(fields);
    if (endStream && declared > 0) {
      this.streamError(id, PROTOCOL_ERROR);
      return;
    }
    this.openStream(id, endStream, declared, true);
    this.handler.onRequest(id, fields, endStream);
  }
}
