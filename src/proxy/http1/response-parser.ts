// Weft's strict HTTP/1.1 response parser for upstream connections (RFC 9112 §4, §6.3).
// Same scanning machinery and strictness as the request parser; differences are the
// status line, the message-length rules that depend on the request method and status
// (HEAD, 1xx, 204, 304, CONNECT), close-delimited bodies completed by finish(), skipping
// of interim 1xx responses, and every error mapping to 502 'upstream_protocol_error'.

import type { HeaderList } from '../http/headers.js';
import { CH_CR, CH_SP, CH_TAB, FIELD_VALUE } from './char-tables.js';
import { ChunkedDecoder } from './chunked-decoder.js';
import {
  CL_CONFLICT,
  CL_TOO_LARGE,
  checkTransferEncoding,
  FIELD_OK,
  hasListToken,
  parseContentLength,
  parseFieldLine,
  TE_CHUNKED,
} from './field-line.js';
import { LINE_NEED_MORE, LINE_TOO_LONG, LineReader } from './line-reader.js';
import { type HttpParseError, ParseErrorKind, RESPONSE_ERRORS } from './parse-error.js';
import type { ParserLimits } from './request-parser.js';

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

const S_HEAD = 0;
const S_BODY_LENGTH = 1;
const S_CHUNKED = 2;
const S_BODY_EOF = 3;
const S_COMPLETE = 4;
/** The response is complete; further bytes wait for the next expect(). */
const S_IDLE = 5;
/** After 101 or a 2xx to CONNECT: the connection is a tunnel, bytes are not parsed. */
const S_UPGRADED = 6;
const S_ERROR = 7;

export class ResponseParser {
  private readonly handler: ResponseHandler;
  private readonly limits: ParserLimits;
  private readonly reader = new LineReader();
  private readonly chunks: ChunkedDecoder;
  private state = S_HEAD;
  private _error: HttpParseError | null = null;
  private remaining = 0;
  private requestMethod = '';

  private inStatusLine = true;
  private headBytes = 0;
  private headerCount = 0;
  private statusCode = 0;
  private reason = '';
  private versionMinor: 0 | 1 = 1;
  private headers: HeaderList = [];
  private contentLength = -1;
  private te = '';
  private teSeen = false;
  private connection = '';

  constructor(handler: ResponseHandler, limits: ParserLimits) {
    this.handler = handler;
    this.limits = limits;
    this.chunks = new ChunkedDecoder(this.reader, limits.maxHeaderBytes, limits.maxHeaderCount);
  }

  get error(): HttpParseError | null {
    return this._error;
  }

  /** True after a 101 or a 2xx answer to CONNECT: the remaining bytes belong to the tunnel. */
  get upgraded(): boolean {
    return this.state === S_UPGRADED;
  }

  /**
   * Announces the method of the request whose response comes next; it decides whether a
   * body follows (RFC 9112 §6.3: none for HEAD, tunnel for a 2xx to CONNECT).
   */
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
    const len = data.length;
    let pos = 0;
    for (;;) {
      switch (this.state) {
        case S_HEAD:
          if (pos === len) return pos;
          pos = this.readHead(data, pos);
          break;
        case S_BODY_LENGTH: {
          if (pos === len) return pos;
          const avail = len - pos;
          if (avail < this.remaining) {
            this.remaining -= avail;
            this.handler.onBody(pos === 0 ? data : data.subarray(pos));
            return len;
          }
          const end = pos + this.remaining;
          this.remaining = 0;
          this.state = S_COMPLETE;
          this.handler.onBody(data.subarray(pos, end));
          pos = end;
          break;
        }
        case S_CHUNKED: {
          if (pos === len) return pos;
          const chunks = this.chunks;
          pos = chunks.execute(data, pos, this.handler);
          if (chunks.error !== -1) return this.fail(chunks.error, pos);
          if (chunks.done) {
            this.state = S_COMPLETE;
            if (chunks.trailers.length !== 0 && this.handler.onResponseTrailers !== undefined) {
              this.handler.onResponseTrailers(chunks.trailers);
            }
          }
          break;
        }
        case S_BODY_EOF:
          if (pos < len) this.handler.onBody(pos === 0 ? data : data.subarray(pos));
          return len;
        case S_COMPLETE:
          this.state = S_IDLE;
          this.resetMessage();
          this.handler.onMessageComplete();
          break;
        default:
          return pos;
      }
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
    if (st === S_HEAD && this.inStatusLine && this.reader.pendingBytes === 0) return null;
    this.fail(ParseErrorKind.PrematureEof, 0);
    return this._error;
  }

  /** Back to a fresh state (before reusing the parser for another upstream connection). */
  reset(): void {
    this.state = S_HEAD;
    this._error = null;
    this.remaining = 0;
    this.requestMethod = '';
    this.reader.clear();
    this.resetMessage();
  }

  private fail(kind: number, pos: number): number {
    this.state = S_ERROR;
    this._error = RESPONSE_ERRORS[kind];
    return pos;
  }

  private resetMessage(): void {
    this.inStatusLine = true;
    this.headBytes = 0;
    this.headerCount = 0;
    this.statusCode = 0;
    this.reason = '';
    this.headers = [];
    this.contentLength = -1;
    this.te = '';
    this.teSeen = false;
    this.connection = '';
  }

  private readHead(data: Buffer, pos: number): number {
    const reader = this.reader;
    const max = this.limits.maxHeaderBytes;
    reader.openWindow(data, pos, max - this.headBytes);
    pos = this.readHeadLines(data, pos);
    reader.closeWindow();
    return pos;
  }

  private readHeadLines(data: Buffer, pos: number): number {
    const reader = this.reader;
    const max = this.limits.maxHeaderBytes;
    while (pos < data.length) {
      const next = reader.next(data, pos, max - this.headBytes);
      if (next === LINE_NEED_MORE) return data.length;
      if (next === LINE_TOO_LONG) return this.fail(ParseErrorKind.HeadersTooLarge, pos);
      const buf = reader.buf;
      const s = reader.start;
      const lf = reader.lf;
      this.headBytes += lf + 1 - s;
      let r: number;
      if (lf === s + 1 && buf[s] === CH_CR) {
        // Unlike requests, no empty lines are skipped before a status line.
        r = this.inStatusLine ? ParseErrorKind.InvalidStatusLine : this.finishHead();
      } else if (this.inStatusLine) {
        r = this.parseStatusLine(buf, s, lf);
      } else if (++this.headerCount > this.limits.maxHeaderCount) {
        r = ParseErrorKind.TooManyHeaders;
      } else if (this.headerCount === 1 && (buf[s] === CH_SP || buf[s] === CH_TAB)) {
        r = ParseErrorKind.LeadingWhitespaceLine;
      } else {
        r = parseFieldLine(reader, this.headers);
        if (r === FIELD_OK) r = this.onField();
      }
      if (r !== FIELD_OK) return this.fail(r, pos);
      pos = next;
      // Head finished; after a skipped interim 1xx the state is still S_HEAD and the
      // loop goes on with the final response's status line.
      if (this.state !== S_HEAD) return pos;
    }
    return pos;
  }

  /** status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (RFC 9112 §4). */
  private parseStatusLine(buf: Buffer, s: number, lf: number): number {
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
    this.inStatusLine = false;
    return FIELD_OK;
  }

  private onField(): number {
    const h = this.headers;
    const n = h.length;
    const name = h[n - 2];
    if (name.length === 14 && name === 'content-length') {
      const v = parseContentLength(h[n - 1]);
      if (v < 0) {
        return v === CL_CONFLICT
          ? ParseErrorKind.ConflictingContentLength
          : v === CL_TOO_LARGE
            ? ParseErrorKind.ContentLengthTooLarge
            : ParseErrorKind.InvalidContentLength;
      }
      if (this.contentLength === -1) {
        this.contentLength = v;
        h[n - 1] = String(v);
      } else if (this.contentLength !== v) {
        return ParseErrorKind.ConflictingContentLength;
      } else {
        h.length = n - 2;
      }
    } else if (name.length === 17 && name === 'transfer-encoding') {
      this.te = this.teSeen ? `${this.te},${h[n - 1]}` : h[n - 1];
      this.teSeen = true;
    } else if (name.length === 10 && name === 'connection') {
      const v = h[n - 1].toLowerCase();
      this.connection = this.connection === '' ? v : `${this.connection}, ${v}`;
    }
    return FIELD_OK;
  }

  /** Message length per RFC 9112 §6.3, in its order of precedence. */
  private finishHead(): number {
    const status = this.statusCode;
    const minor = this.versionMinor;
    let chunked = false;
    if (this.teSeen) {
      if (minor === 0) return ParseErrorKind.TransferEncodingInHttp10;
      if (this.contentLength !== -1) return ParseErrorKind.ContentLengthWithTransferEncoding;
      // Weft re-frames bodies and strips Transfer-Encoding, so it cannot relay any other
      // coding (nor read a close-delimited body behind one, §6.3 item 4): refused.
      const r = checkTransferEncoding(this.te);
      if (r !== TE_CHUNKED) return r;
      chunked = true;
    }
    const conn = this.connection;
    let keepAlive =
      minor === 1
        ? conn === '' || !hasListToken(conn, 'close')
        : conn !== '' && hasListToken(conn, 'keep-alive') && !hasListToken(conn, 'close');
    const method = this.requestMethod;
    const bodyless = method === 'HEAD' || status < 200 || status === 204 || status === 304;
    const tunnel = status === 101 || (method === 'CONNECT' && status >= 200 && status < 300);
    const closeDelimited = !bodyless && !tunnel && !chunked && this.contentLength === -1;
    if (closeDelimited) keepAlive = false;
    const head: ResponseHead = {
      statusCode: status,
      reason: this.reason,
      versionMinor: minor,
      headers: this.headers,
      contentLength: this.contentLength,
      chunked: chunked && !bodyless && !tunnel,
      keepAlive,
      connectionTokens: conn,
    };
    if (status < 200 && status !== 101) {
      // Interim response (RFC 9110 §15.2): report, then parse the final response.
      this.resetMessage();
      if (this.handler.onInformational !== undefined) this.handler.onInformational(head);
      return FIELD_OK;
    }
    if (tunnel) this.state = S_UPGRADED;
    else if (bodyless) this.state = S_COMPLETE;
    else if (chunked) {
      this.state = S_CHUNKED;
      this.chunks.begin();
    } else if (this.contentLength > 0) {
      this.state = S_BODY_LENGTH;
      this.remaining = this.contentLength;
    } else if (this.contentLength === 0) this.state = S_COMPLETE;
    else this.state = S_BODY_EOF;
    this.handler.onResponseHead(head);
    if (tunnel) {
      this.resetMessage();
      this.handler.onMessageComplete();
    }
    return FIELD_OK;
  }
}
