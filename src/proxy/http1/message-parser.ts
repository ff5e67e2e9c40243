// The machinery the request and response parsers share (RFC 9112): reading the head
// line by line within the size and field-count budgets, tracking the framing fields
// (Content-Length, Transfer-Encoding, Connection), the Transfer-Encoding and keep-alive
// rules common to both directions, and streaming Content-Length and chunked bodies to the
// handler. Each subclass parses its own start line and fields, decides the message length
// and handles completion; see request-parser.ts and response-parser.ts.

import type { HeaderList } from '../http/headers.js';
import { CH_CR, CH_SP, CH_TAB } from './char-tables.js';
import { type BodySink, ChunkedDecoder } from './chunked-decoder.js';
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
import { type HttpParseError, ParseErrorKind } from './parse-error.js';

export interface ParserLimits {
  /** Max bytes of the head (request line + header lines + CRLFs); trailers get the same budget. */
  maxHeaderBytes: number;
  /** Max header field lines (Host included); trailers get the same budget. */
  maxHeaderCount: number;
  /** Accept HTTP/1.0 requests; when false they are answered 426 (as Envoy does). */
  acceptHttp10: boolean;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = Object.freeze({
  maxHeaderBytes: 60 * 1024,
  maxHeaderCount: 100,
  acceptHttp10: false,
});

// States both parsers use; a subclass numbers its own states from S_SUBCLASS on.
export const S_HEAD = 0;
export const S_BODY_LENGTH = 1;
export const S_CHUNKED = 2;
/** The message is complete; the subclass's execute() reports it and moves on. */
export const S_COMPLETE = 3;
export const S_ERROR = 4;
export const S_SUBCLASS = 5;

export abstract class MessageParser<H extends BodySink> {
  protected handler: H;
  protected readonly limits: ParserLimits;
  protected readonly reader = new LineReader();
  private readonly chunks: ChunkedDecoder;
  /** REQUEST_ERRORS or RESPONSE_ERRORS: the catalogue fail() reports from. */
  private readonly errors: readonly HttpParseError[];
  protected state = S_HEAD;
  protected _error: HttpParseError | null = null;
  private remaining = 0;

  // Per-message head state, reset by resetMessage().
  protected inStartLine = true;
  private headBytes = 0;
  private headerCount = 0;
  protected versionMinor: 0 | 1 = 1;
  protected headers: HeaderList = [];
  protected contentLength = -1;
  private te = '';
  private teSeen = false;
  /** Transfer-Encoding: chunked, set by checkFraming(). */
  protected chunked = false;
  protected connection = '';

  constructor(handler: H, limits: ParserLimits, errors: readonly HttpParseError[]) {
    this.handler = handler;
    this.limits = limits;
    this.errors = errors;
    this.chunks = new ChunkedDecoder(this.reader, limits.maxHeaderBytes, limits.maxHeaderCount);
  }

  get error(): HttpParseError | null {
    return this._error;
  }

  /** Back to a fresh state. */
  reset(): void {
    this.state = S_HEAD;
    this._error = null;
    this.remaining = 0;
    this.reader.clear();
    this.resetMessage();
  }

  /** Parses the start line buf[s..lf]; clears inStartLine once it is done. */
  protected abstract parseStartLine(buf: Buffer, s: number, lf: number): number;

  /** Validates the head after its empty line, emits it and picks the next state. */
  protected abstract finishHead(): number;

  /** Hands a non-empty trailer section of a chunked body to the handler. */
  protected abstract onTrailers(trailers: HeaderList): void;

  /**
   * Runs the head and body states over data[pos..]. Returns the new position when the
   * data is used up or the state is one the subclass handles (S_COMPLETE, S_ERROR, its own).
   */
  protected advance(data: Buffer, pos: number): number {
    const len = data.length;
    while (pos < len) {
      const st = this.state;
      if (st === S_HEAD) pos = this.readHead(data, pos);
      else if (st === S_BODY_LENGTH) pos = this.readLengthBody(data, pos);
      else if (st === S_CHUNKED) pos = this.readChunkedBody(data, pos);
      else break;
    }
    return pos;
  }

  protected fail(kind: number, pos: number): number {
    this.state = S_ERROR;
    this._error = this.errors[kind];
    return pos;
  }

  /** Clears the per-message head state; subclasses clear their own fields too. */
  protected resetMessage(): void {
    this.inStartLine = true;
    this.headBytes = 0;
    this.headerCount = 0;
    this.headers = [];
    this.contentLength = -1;
    this.te = '';
    this.teSeen = false;
    this.chunked = false;
    this.connection = '';
  }

  /**
   * Inspects the field just appended for the framing headers. A subclass that inspects
   * more fields handles its own names and passes the others on to this one.
   */
  protected onField(): number {
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
        // An identical duplicate: collapsed (RFC 9110 §8.6).
        h.pop();
        h.pop();
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

  /**
   * Transfer-Encoding rules of both directions (RFC 9112 §6.1): not in HTTP/1.0, never
   * with Content-Length. Weft re-frames bodies and strips Transfer-Encoding, so it cannot
   * relay any coding but chunked (nor read a close-delimited body behind one, §6.3 item 4):
   * others are refused. Sets `chunked`; returns FIELD_OK or a ParseErrorKind.
   */
  protected checkFraming(): number {
    if (!this.teSeen) return FIELD_OK;
    if (this.versionMinor === 0) return ParseErrorKind.TransferEncodingInHttp10;
    if (this.contentLength !== -1) return ParseErrorKind.ContentLengthWithTransferEncoding;
    const r = checkTransferEncoding(this.te);
    if (r !== TE_CHUNKED) return r;
    this.chunked = true;
    return FIELD_OK;
  }

  /** RFC 9112 §9.3: HTTP/1.1 unless Connection: close; HTTP/1.0 only with keep-alive. */
  protected keepAlive(): boolean {
    const conn = this.connection;
    return this.versionMinor === 1
      ? conn === '' || !hasListToken(conn, 'close')
      : conn !== '' && hasListToken(conn, 'keep-alive') && !hasListToken(conn, 'close');
  }

  /**
   * Enters the body state for a chunked or a non-empty Content-Length body. Returns false
   * when there is neither; the subclass then decides (no body, or read until close).
   */
  protected beginBody(): boolean {
    if (this.chunked) {
      this.state = S_CHUNKED;
      this.chunks.begin();
    } else if (this.contentLength > 0) {
      this.state = S_BODY_LENGTH;
      this.remaining = this.contentLength;
    } else {
      return false;
    }
    return true;
  }

  /** Reads head lines until the head is complete, more data is needed, or an error. */
  private readHead(data: Buffer, pos: number): number {
    const reader = this.reader;
    const max = this.limits.maxHeaderBytes;
    reader.openWindow(data, pos, max - this.headBytes);
    pos = this.readHeadLines(data, pos);
    reader.release();
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
      if (this.inStartLine) {
        r = this.parseStartLine(buf, s, lf);
      } else if (lf === s + 1 && buf[s] === CH_CR) {
        r = this.finishHead(); // the empty line ends the head
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
      // Head finished; after a skipped interim 1xx response the state is still S_HEAD
      // and the loop goes on with the final response's status line.
      if (this.state !== S_HEAD) return pos;
    }
    return pos;
  }

  /** Content-Length body: streamed as subarrays of the input until `remaining` is 0. */
  private readLengthBody(data: Buffer, pos: number): number {
    const len = data.length;
    if (len - pos < this.remaining) {
      this.remaining -= len - pos;
      this.handler.onBody(pos === 0 ? data : data.subarray(pos));
      return len;
    }
    const end = pos + this.remaining;
    this.remaining = 0;
    this.state = S_COMPLETE;
    this.handler.onBody(data.subarray(pos, end));
    return end;
  }

  private readChunkedBody(data: Buffer, pos: number): number {
    const chunks = this.chunks;
    pos = chunks.execute(data, pos, this.handler);
    if (chunks.error !== -1) return this.fail(chunks.error, pos);
    if (chunks.done) {
      this.state = S_COMPLETE;
      if (chunks.trailers.length !== 0) this.onTrailers(chunks.trailers);
    }
    return pos;
  }
}
