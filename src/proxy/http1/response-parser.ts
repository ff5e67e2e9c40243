// Weft's strict HTTP/1.1 response parser for upstream connections (RFC 9112 §4, §6.3).
// Same scanning machinery and strictness as the request parser (the head loop, framing
// fields and body states are shared in message-parser.ts); differences are the status
// line, the message-length rules that depend on the request method and status (HEAD, 1xx,
// 204, 304, CONNECT), close-delimited bodies completed by finish(), skipping of interim
// 1xx responses, and every error mapping to 502 'upstream_protocol_error'.

import type { HeaderList } from '../http/headers.js';
import { CH_CR, CH_SP, FIELD_VALUE } from './char-tables.js';
import { FIELD_OK } from './field-line.js';
import {
  MessageParser,
  type ParserLimits,
  S_COMPLETE,
  S_ERROR,
  S_HEAD,
  S_SUBCLASS,
} from './message-parser.js';
import { type HttpParseError, ParseErrorKind, RESPONSE_ERRORS } from './parse-error.js';

export interface ResponseHead {
  statusCode: number;
  /** reason-phrase as sent (may be ''). */
  reason: string;
  versionMinor: 0 | 1;
  /** Lower-case names, wire order. Identical Content-Length duplicates collapsed to one. */
  headers: HeaderList;
  /** -1 when there is no Content-Length. */
  contentLength: number;
  chunked: boolean;
  /** RFC 9112 §9.3; false for close-delimited bodies. */
  keepAlive: boolean;
  /** Lower-cased Connection value(s) joined with ', ' ('' if none). */
  connectionTokens: string;
}

export interface ResponseHandler {
  onResponseHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  onResponseTrailers?(trailers: HeaderList): void;
  onMessageComplete(): void;
  /** Interim 1xx responses other than 101 (they are otherwise skipped). */
  onInformational?(head: ResponseHead): void;
}

/** Close-delimited body: everything until EOF (RFC 9112 §6.3 item 8). */
const S_BODY_EOF = S_SUBCLASS;
/** The response is complete; further bytes wait for the next expect(). */
const S_IDLE = S_SUBCLASS + 1;
/** After 101 or a 2xx to CONNECT: the connection is a tunnel, bytes are not parsed. */
const S_UPGRADED = S_SUBCLASS + 2;

export class ResponseParser extends MessageParser<ResponseHandler> {
  private requestMethod = '';

  // Per-message status line, reset by resetMessage().
  private statusCode = 0;
  private reason = '';

  constructor(handler: ResponseHandler, limits: ParserLimits) {
    super(handler, limits, RESPONSE_ERRORS);
  }

  /** True after a 101 or a 2xx answer to CONNECT: the remaining bytes belong to the tunnel. */
  get upgraded(): boolean {
    return this.state === S_UPGRADED;
  }

  /**
   * Announces the method of the request whose response comes next; it decides whether a
   * body follows (RFC 9112 §6.3: none for HEAD, tunnel for a 2xx to CONNECT).
   */
  /** Hands the next response's events to `handler` (a parser is kept per connection, not per request). */
  rebind(handler: ResponseHandler): void {
    this.handler = handler;
  }

  expect(method: string): void {
    this.requestMethod = method;
    if (this.state === S_IDLE) this.state = S_HEAD;
  }

  /**
   * Consumes bytes, calling the handler. Returns the number consumed: less than
   * data.length after the response completed (bytes beyond it wait for the next
   * expect()), after an upgrade, or on error (then `error` is set).
   */
  execute(data: Buffer): number {
    const pos = this.advance(data, 0);
    switch (this.state) {
      case S_BODY_EOF:
        if (pos < data.length) this.handler.onBody(pos === 0 ? data : data.subarray(pos));
        return data.length;
      case S_COMPLETE:
        this.state = S_IDLE;
        this.resetMessage();
        this.handler.onMessageComplete();
        return pos;
      default:
        return pos;
    }
  }

  /**
   * EOF from the upstream. Completes a close-delimited body (RFC 9112 §6.3 item 8) and
   * returns null; returns an error when a message was cut short; null when idle.
   */
  finish(): HttpParseError | null {
    const st = this.state;
    if (st === S_ERROR) return this._error;
    if (st === S_BODY_EOF) {
      this.state = S_IDLE;
      this.resetMessage();
      this.handler.onMessageComplete();
      return null;
    }
    if (st === S_IDLE || st === S_UPGRADED) return null;
    if (st === S_HEAD && this.inStartLine && this.reader.pendingBytes === 0) return null;
    this.fail(ParseErrorKind.PrematureEof, 0);
    return this._error;
  }

  /** Back to a fresh state (before reusing the parser for another upstream connection). */
  override reset(): void {
    this.requestMethod = '';
    super.reset();
  }

  protected override resetMessage(): void {
    super.resetMessage();
    this.statusCode = 0;
    this.reason = '';
  }

  protected override onTrailers(trailers: HeaderList): void {
    if (this.handler.onResponseTrailers !== undefined) this.handler.onResponseTrailers(trailers);
  }

  /**
   * status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (RFC 9112 §4).
   * Unlike requests, no empty lines are skipped before it: one is an invalid status line.
   */
  protected override parseStartLine(buf: Buffer, s: number, lf: number): number {
    if (lf === s || buf[lf - 1] !== CH_CR) return ParseErrorKind.BareLf;
    const end = lf - 1;
    if (
      end - s < 12 ||
      buf[s] !== 0x48 ||
      buf[s + 1] !== 0x54 ||
      buf[s + 2] !== 0x54 ||
      buf[s + 3] !== 0x50 ||
      buf[s + 4] !== 0x2f ||
      buf[s + 6] !== 0x2e ||
      buf[s + 8] !== CH_SP
    ) {
      return ParseErrorKind.InvalidStatusLine;
    }
    const major = buf[s + 5] - 0x30;
    const minor = buf[s + 7] - 0x30;
    if (major < 0 || major > 9 || minor < 0 || minor > 9) return ParseErrorKind.InvalidStatusLine;
    if (major !== 1 || minor > 1) return ParseErrorKind.UnsupportedVersion;
    const d0 = buf[s + 9] - 0x30;
    const d1 = buf[s + 10] - 0x30;
    const d2 = buf[s + 11] - 0x30;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return ParseErrorKind.InvalidStatusLine;
    let reason = '';
    if (end > s + 12) {
      // A missing SP before an empty reason is tolerated (common in the wild, harmless).
      if (buf[s + 12] !== CH_SP) return ParseErrorKind.InvalidStatusLine;
      for (let i = s + 13; i < end; i++) {
        const c = buf[i];
        if (FIELD_VALUE[c] === 0)
          return c === CH_CR ? ParseErrorKind.BareCr : ParseErrorKind.InvalidStatusLine;
      }
      reason = this.reader.text(s + 13, end);
    }
    this.statusCode = d0 * 100 + d1 * 10 + d2;
    this.reason = reason;
    this.versionMinor = minor as 0 | 1;
    this.inStartLine = false;
    return FIELD_OK;
  }

  /** Message length per RFC 9112 §6.3, in its order of precedence. */
  protected override finishHead(): number {
    const status = this.statusCode;
    const r = this.checkFraming();
    if (r !== FIELD_OK) return r;
    const chunked = this.chunked;
    let keepAlive = this.keepAlive();
    const method = this.requestMethod;
    const bodyless = method === 'HEAD' || status < 200 || status === 204 || status === 304;
    const tunnel = status === 101 || (method === 'CONNECT' && status >= 200 && status < 300);
    const closeDelimited = !bodyless && !tunnel && !chunked && this.contentLength === -1;
    if (closeDelimited) keepAlive = false;
    const head: ResponseHead = {
      statusCode: status,
      reason: this.reason,
      versionMinor: this.versionMinor,
      headers: this.headers,
      contentLength: this.contentLength,
      chunked: chunked && !bodyless && !tunnel,
      keepAlive,
      connectionTokens: this.connection,
    };
    if (status < 200 && status !== 101) {
      // Interim response (RFC 9110 §15.2): report, then parse the final response.
      this.resetMessage();
      if (this.handler.onInformational !== undefined) this.handler.onInformational(head);
      return FIELD_OK;
    }
    if (tunnel) this.state = S_UPGRADED;
    else if (bodyless) this.state = S_COMPLETE;
    else if (!this.beginBody()) this.state = this.contentLength === 0 ? S_COMPLETE : S_BODY_EOF;
    this.handler.onResponseHead(head);
    if (tunnel) {
      this.resetMessage();
      this.handler.onMessageComplete();
    }
    return FIELD_OK;
  }
}
