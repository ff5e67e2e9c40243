// Weft's strict HTTP/1.1 request parser for raw downstream sockets (RFC 9112, RFC 9110).
// It scans the head straight out of the input Buffer (line finding with indexOf, byte
// validation with precomputed tables, no regexes, no per-request closures), streams
// Content-Length and chunked bodies to the handler as subarrays of the input, supports
// pipelining with pause/resume, and refuses every ambiguous framing shape (request
// smuggling) with a catalogued error instead of throwing. The head loop, framing fields
// and body states are shared with the response parser (message-parser.ts); this file adds
// the request line, Host, Expect and Upgrade. See docs/http1-parsing.md.

import type { HeaderList } from '../http/headers.js';
import { AUTHORITY_CHAR, allCharsIn, CH_CR, CH_SP, TARGET_CHAR, TOKEN_LOWER } from './char-tables.js';
import { FIELD_OK, hasListToken } from './field-line.js';
import type { LineReader } from './line-reader.js';
import { MessageParser, type ParserLimits, S_COMPLETE, S_ERROR, S_HEAD } from './message-parser.js';
import { type HttpParseError, ParseErrorKind, REQUEST_ERRORS } from './parse-error.js';

export { DEFAULT_PARSER_LIMITS, type ParserLimits } from './message-parser.js';
export type { HttpParseError } from './parse-error.js';

export interface RequestHead {
  /** e.g. 'GET' (case-sensitive token). */
  method: string;
  /** request-target as sent: origin-form, absolute-form, authority-form (CONNECT) or '*' (OPTIONS). */
  target: string;
  versionMinor: 0 | 1;
  /** Host value; for absolute-form and CONNECT targets the target's authority (RFC 9112 §3.2.2). */
  authority: string;
  /** Lower-case names, wire order, without host. Identical Content-Length duplicates collapsed to one. */
  headers: HeaderList;
  /** -1 when there is no Content-Length. */
  contentLength: number;
  /** Transfer-Encoding: chunked. */
  chunked: boolean;
  /** RFC 9112 §9.3: HTTP/1.1 unless Connection: close; HTTP/1.0 only with keep-alive. */
  keepAlive: boolean;
  /** Expect: 100-continue present. */
  expectContinue: boolean;
  /** Connection lists 'upgrade' and an Upgrade header exists. */
  upgrade: boolean;
  /** `upgrade`, or a CONNECT request: the stream may become a byte stream (http/upgrade.ts). */
  tunnel: boolean;
  /** Lower-cased Connection value(s) joined with ', ' ('' if none), for stripHopByHop. */
  connectionTokens: string;
}

export interface RequestHandler {
  onRequestHead(head: RequestHead): void;
  /** Body bytes (de-chunked); may be a subarray of the buffer given to execute(). */
  onBody(chunk: Buffer): void;
  onRequestTrailers?(trailers: HeaderList): void;
  /** Return true to pause the parser right after this message (pipelining, upgrade, CONNECT). */
  onMessageComplete(): boolean;
}

const TARGET_ORIGIN = 0;
const TARGET_ABSOLUTE = 1;
const TARGET_AUTHORITY = 2;
const TARGET_ASTERISK = 3;

export class RequestParser extends MessageParser<RequestHandler> {
  private _paused = false;

  // Per-message request state, reset by resetMessage().
  private method = '';
  private target = '';
  private targetForm = TARGET_ORIGIN;
  private targetAuthority = '';
  private host = '';
  private hostCount = 0;
  private expectContinue = false;
  private upgradeHeader = false;

  constructor(handler: RequestHandler, limits: ParserLimits) {
    super(handler, limits, REQUEST_ERRORS);
  }

  get paused(): boolean {
    return this._paused;
  }

  /**
   * Consumes bytes, calling the handler. Returns the number consumed: data.length unless
   * paused (after onMessageComplete returned true) or failed (then `error` is set and all
   * further input is refused).
   */
  execute(data: Buffer): number {
    if (this._paused || this.state === S_ERROR) return 0;
    let pos = 0;
    for (;;) {
      pos = this.advance(data, pos);
      if (this.state !== S_COMPLETE) return pos;
      this.state = S_HEAD;
      this.resetMessage();
      if (this.handler.onMessageComplete()) {
        this._paused = true;
        return pos;
      }
    }
  }

  /** Clears a pause; the caller then calls execute() with the unconsumed remainder. */
  resume(): void {
    this._paused = false;
  }

  /** EOF from the peer: an error when it cut a message short, else null. */
  finish(): HttpParseError | null {
    if (this._error !== null) return this._error;
    // Between messages, only CRLFs (or half of one) may have been received: not a message.
    if (
      this.state === S_HEAD &&
      this.inStartLine &&
      (this.reader.pendingBytes === 0 || this.reader.pendingIsCr)
    ) {
      return null;
    }
    this.fail(ParseErrorKind.PrematureEof, 0);
    return this._error;
  }

  /** Back to a fresh state (connection reuse in tests). */
  override reset(): void {
    this._paused = false;
    super.reset();
  }

  protected override resetMessage(): void {
    super.resetMessage();
    this.method = '';
    this.target = '';
    this.targetAuthority = '';
    this.host = '';
    this.hostCount = 0;
    this.expectContinue = false;
    this.upgradeHeader = false;
  }

  protected override onTrailers(trailers: HeaderList): void {
    if (this.handler.onRequestTrailers !== undefined) this.handler.onRequestTrailers(trailers);
  }

  /** request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3). */
  protected override parseStartLine(buf: Buffer, s: number, lf: number): number {
    // RFC 9112 §2.2 lets a server skip empty lines (CRLFs) before the request line.
    if (lf === s + 1 && buf[s] === CH_CR) return FIELD_OK;
    if (buf[lf - 1] !== CH_CR || lf === s) return ParseErrorKind.BareLf;
    const end = lf - 1;
    let i = s;
    while (i < end && TOKEN_LOWER[buf[i]] !== 0) i++;
    if (i === end || buf[i] !== CH_SP) {
      return i === s || i === end ? ParseErrorKind.BadRequestLine : ParseErrorKind.InvalidMethod;
    }
    if (i === s) return ParseErrorKind.BadRequestLine;
    const ms = s;
    const me = i;
    const ts = ++i;
    while (i < end && TARGET_CHAR[buf[i]] !== 0) i++;
    if (i === ts) return ParseErrorKind.BadRequestLine;
    if (i === end) return ParseErrorKind.BadRequestLine; // HTTP/0.9 shape: no version
    if (buf[i] !== CH_SP) return buf[i] === CH_CR ? ParseErrorKind.BareCr : ParseErrorKind.InvalidTarget;
    const te = i++;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), exactly, then CRLF.
    if (
      end - i !== 8 ||
      buf[i] !== 0x48 ||
      buf[i + 1] !== 0x54 ||
      buf[i + 2] !== 0x54 ||
      buf[i + 3] !== 0x50 ||
      buf[i + 4] !== 0x2f ||
      buf[i + 6] !== 0x2e
    ) {
      return ParseErrorKind.MalformedVersion;
    }
    const major = buf[i + 5] - 0x30;
    const minor = buf[i + 7] - 0x30;
    if (major < 0 || major > 9 || minor < 0 || minor > 9) return ParseErrorKind.MalformedVersion;
    if (major !== 1 || minor > 1) return ParseErrorKind.UnsupportedVersion;
    if (minor === 0 && !this.limits.acceptHttp10) return ParseErrorKind.Http10NotAllowed;
    this.versionMinor = minor as 0 | 1;
    this.method = methodString(buf, ms, me, this.reader);
    const form = this.classifyTarget(buf, ts, te);
    if (form < 0) return ParseErrorKind.InvalidTarget;
    this.targetForm = form;
    this.target = this.reader.text(ts, te);
    this.inStartLine = false;
    return FIELD_OK;
  }

  /** RFC 9112 §3.2: which form the target has, -1 when none fits the method. */
  private classifyTarget(buf: Buffer, ts: number, te: number): number {
    const first = buf[ts];
    if (this.method === 'CONNECT') {
      // authority-form = uri-host ":" port (RFC 9112 §3.2.3), CONNECT only.
      const colon = buf.indexOf(0x3a, ts);
      if (!authorityOk(buf, ts, te) || colon === -1 || colon >= te) return -1;
      this.targetAuthority = this.reader.text(ts, te);
      return TARGET_AUTHORITY;
    }
    if (first === 0x2f) return TARGET_ORIGIN;
    if (first === 0x2a) return te - ts === 1 && this.method === 'OPTIONS' ? TARGET_ASTERISK : -1;
    // absolute-form: scheme "://" authority path-abempty [ "?" query ] (RFC 3986 §3).
    let i = ts;
    if (!isAlpha(buf[i])) return -1;
    while (
      i < te &&
      (isAlpha(buf[i]) || isDigit(buf[i]) || buf[i] === 0x2b || buf[i] === 0x2d || buf[i] === 0x2e)
    )
      i++;
    if (te - i < 3 || buf[i] !== 0x3a || buf[i + 1] !== 0x2f || buf[i + 2] !== 0x2f) return -1;
    const as = i + 3;
    let ae = as;
    while (ae < te && buf[ae] !== 0x2f && buf[ae] !== 0x3f && buf[ae] !== 0x23) ae++;
    // userinfo ('@') is refused by authorityOk (RFC 9110 §4.2.4).
    if (!authorityOk(buf, as, ae)) return -1;
    this.targetAuthority = this.reader.text(as, ae);
    return TARGET_ABSOLUTE;
  }

  /** Inspects the field just appended for Host, Expect and Upgrade; framing fields go to the base. */
  protected override onField(): number {
    const h = this.headers;
    const n = h.length;
    const name = h[n - 2];
    if (name.length === 4 && name === 'host') {
      this.hostCount++;
      this.host = h[n - 1];
      h.pop();
      h.pop();
    } else if (name.length === 6 && name === 'expect') {
      if (h[n - 1].toLowerCase() === '100-continue') this.expectContinue = true;
    } else if (name.length === 7 && name === 'upgrade') {
      this.upgradeHeader = true;
    } else {
      return super.onField();
    }
    return FIELD_OK;
  }

  /** Validates Host and framing (RFC 9112 §3.2, §6), emits the head, picks the body state. */
  protected override finishHead(): number {
    const minor = this.versionMinor;
    if (this.hostCount > 1) return ParseErrorKind.MultipleHost;
    if (this.hostCount === 0) {
      if (minor === 1) return ParseErrorKind.MissingHost;
    } else if (!hostOk(this.host)) {
      return ParseErrorKind.InvalidHost;
    }
    const r = this.checkFraming();
    if (r !== FIELD_OK) return r;
    const conn = this.connection;
    const form = this.targetForm;
    const upgrade = this.upgradeHeader && conn !== '' && hasListToken(conn, 'upgrade');
    const head: RequestHead = {
      method: this.method,
      target: this.target,
      versionMinor: minor,
      authority: form === TARGET_ABSOLUTE || form === TARGET_AUTHORITY ? this.targetAuthority : this.host,
      headers: this.headers,
      contentLength: this.contentLength,
      chunked: this.chunked,
      keepAlive: this.keepAlive(),
      expectContinue: this.expectContinue,
      upgrade,
      // RFC 9110 §7.8: an Upgrade in an HTTP/1.0 request is ignored.
      tunnel: (upgrade && minor === 1) || form === TARGET_AUTHORITY,
      connectionTokens: conn,
    };
    // No Content-Length and no Transfer-Encoding: a request has no body (RFC 9112 §6.3 item 7).
    if (!this.beginBody()) this.state = S_COMPLETE;
    this.handler.onRequestHead(head);
    return FIELD_OK;
  }
}

/** Interned strings for the common methods, so the hot path does not allocate them. */
function methodString(buf: Buffer, s: number, e: number, line: LineReader): string {
  const n = e - s;
  const c = buf[s];
  if (n === 3 && c === 0x47 && buf[s + 1] === 0x45 && buf[s + 2] === 0x54) return 'GET';
  if (n === 4 && c === 0x50 && buf[s + 1] === 0x4f && buf[s + 2] === 0x53 && buf[s + 3] === 0x54)
    return 'POST';
  return line.text(s, e);
}

function authorityOk(buf: Buffer, s: number, e: number): boolean {
  if (s >= e) return false;
  for (let i = s; i < e; i++) if (AUTHORITY_CHAR[buf[i]] === 0) return false;
  return true;
}

/** Host = uri-host [ ":" port ] (RFC 9110 §7.2); empty or with other characters is invalid. */
function hostOk(v: string): boolean {
  return v.length > 0 && allCharsIn(AUTHORITY_CHAR, v);
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
