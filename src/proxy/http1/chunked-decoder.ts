// Decodes a chunked message body (RFC 9112 §7.1): chunk-size lines with validated (and
// discarded) extensions, chunk data streamed to the sink as subarrays of the input (never
// buffered), the CRLF after each chunk, and the trailer section (§7.1.2) parsed with the
// same field-line rules and limits as headers. Shared by the request and response parsers.

import type { HeaderList } from '../http/headers.js';
import {
  CH_BACKSLASH,
  CH_CR,
  CH_EQ,
  CH_LF,
  CH_QUOTE,
  CH_SEMI,
  HEX_VALUE,
  QDTEXT,
  TOKEN_LOWER,
} from './char-tables.js';
import { FIELD_OK, parseFieldLine } from './field-line.js';
import { LINE_NEED_MORE, LINE_TOO_LONG, type LineReader } from './line-reader.js';
import { ParseErrorKind } from './parse-error.js';

export interface BodySink {
  onBody(chunk: Buffer): void;
}

/** A chunk-size line (size + extensions + CRLF) longer than this is refused. */
export const MAX_CHUNK_LINE_BYTES = 4096;
/** At most 16 hex digits (leading zeros included): more is refused as overflow. */
const MAX_SIZE_DIGITS = 16;

// States. No whitespace is accepted anywhere in a chunk-size line: RFC 9112 §7.1.1 allows
// BWS around ';' and '=', but llhttp (and so Envoy) refuse it and nobody sends it, so
// refusing it removes one way two parsers could disagree.
const ST_SIZE_START = 0;
const ST_SIZE = 1;
const ST_EXT_NAME_START = 3;
const ST_EXT_NAME = 4;
const ST_EXT_VALUE_START = 6;
const ST_EXT_TOKEN = 7;
const ST_EXT_QUOTED = 8;
const ST_EXT_QUOTED_ESC = 9;
const ST_EXT_AFTER_VALUE = 10;
const ST_SIZE_LF = 11;
const ST_DATA = 12;
const ST_DATA_CR = 13;
const ST_DATA_LF = 14;
const ST_TRAILERS = 15;
const ST_DONE = 16;

export class ChunkedDecoder {
  /** -1 while fine, else the ParseErrorKind that stopped decoding. */
  error = -1;
  /** Trailer fields received (empty when none). Replaced per message. */
  trailers: HeaderList = [];

  private state = ST_DONE;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private remaining = 0;
  private trailerBytes = 0;
  private trailerCount = 0;

  constructor(
    private readonly reader: LineReader,
    private readonly maxTrailerBytes: number,
    private readonly maxTrailerCount: number,
  ) {}

  get done(): boolean {
    return this.state === ST_DONE;
  }

  /** Starts decoding a new chunked body. */
  begin(): void {
    this.state = ST_SIZE_START;
    this.error = -1;
    this.trailerBytes = 0;
    this.trailerCount = 0;
    if (this.trailers.length !== 0) this.trailers = [];
  }

  /**
   * Consumes data[pos..] until the body ends (done), an error (error >= 0) or the data
   * runs out. Returns the new position.
   */
  execute(data: Buffer, pos: number, sink: BodySink): number {
    const len = data.length;
    while (pos < len) {
      const st = this.state;
      if (st === ST_DATA) {
        const avail = len - pos;
        if (avail < this.remaining) {
          this.remaining -= avail;
          sink.onBody(pos === 0 ? data : data.subarray(pos));
          return len;
        }
        const end = pos + this.remaining;
        this.remaining = 0;
        this.state = ST_DATA_CR;
        sink.onBody(data.subarray(pos, end));
        pos = end;
      } else if (st === ST_DATA_CR) {
        if (data[pos] !== CH_CR) return this.fail(ParseErrorKind.MissingChunkCrlf, pos);
        pos++;
        this.state = ST_DATA_LF;
      } else if (st === ST_DATA_LF) {
        if (data[pos] !== CH_LF) return this.fail(ParseErrorKind.MissingChunkCrlf, pos);
        pos++;
        this.state = ST_SIZE_START;
      } else if (st === ST_TRAILERS) {
        pos = this.readTrailers(data, pos);
        this.reader.release();
        return pos;
      } else if (st === ST_DONE) {
        return pos;
      } else {
        pos = this.readSizeLine(data, pos);
        if (this.error !== -1) return pos;
      }
    }
    return pos;
  }

  private fail(kind: number, pos: number): number {
    this.error = kind;
    return pos;
  }

  /** Byte loop over `chunk-size [ chunk-ext ] CRLF` (RFC 9112 §7.1, §7.1.1). */
  private readSizeLine(data: Buffer, pos: number): number {
    const len = data.length;
    let st = this.state;
    const startPos = pos;
    for (; pos < len; pos++) {
      const c = data[pos];
      switch (st) {
        case ST_SIZE_START: {
          const v = HEX_VALUE[c];
          if (v === 255) return this.fail(ParseErrorKind.InvalidChunkSize, pos);
          this.size = v;
          this.digits = 1;
          this.lineBytes = 0;
          st = ST_SIZE;
          break;
        }
        case ST_SIZE: {
          const v = HEX_VALUE[c];
          if (v !== 255) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail(ParseErrorKind.ChunkSizeOverflow, pos);
            this.size = this.size * 16 + v;
            if (this.size > Number.MAX_SAFE_INTEGER) return this.fail(ParseErrorKind.ChunkSizeOverflow, pos);
          } else if (c === CH_CR) st = ST_SIZE_LF;
          else if (c === CH_SEMI) st = ST_EXT_NAME_START;
          else return this.fail(ParseErrorKind.InvalidChunkSize, pos);
          break;
        }
        case ST_EXT_NAME_START:
          if (TOKEN_LOWER[c] !== 0) st = ST_EXT_NAME;
          else return this.fail(ParseErrorKind.InvalidChunkExtension, pos);
          break;
        case ST_EXT_NAME:
          if (TOKEN_LOWER[c] !== 0) break;
          if (c === CH_EQ) st = ST_EXT_VALUE_START;
          else if (c === CH_SEMI) st = ST_EXT_NAME_START;
          else if (c === CH_CR) st = ST_SIZE_LF;
          else return this.fail(ParseErrorKind.InvalidChunkExtension, pos);
          break;
        case ST_EXT_VALUE_START:
          if (c === CH_QUOTE) st = ST_EXT_QUOTED;
          else if (TOKEN_LOWER[c] !== 0) st = ST_EXT_TOKEN;
          else return this.fail(ParseErrorKind.InvalidChunkExtension, pos);
          break;
        case ST_EXT_TOKEN:
          if (TOKEN_LOWER[c] !== 0) break;
          if (c === CH_SEMI) st = ST_EXT_NAME_START;
          else if (c === CH_CR) st = ST_SIZE_LF;
          else return this.fail(ParseErrorKind.InvalidChunkExtension, pos);
          break;
        case ST_EXT_QUOTED:
          if (c === CH_QUOTE) st = ST_EXT_AFTER_VALUE;
          else if (c === CH_BACKSLASH) st = ST_EXT_QUOTED_ESC;
          else if (QDTEXT[c] === 0) return this.fail(ParseErrorKind.InvalidChunkExtension, pos);
          break;
        case ST_EXT_QUOTED_ESC:
          // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ); QDTEXT lacks only '"' and '\'.
          if (QDTEXT[c] === 0 && c !== CH_QUOTE && c !== CH_BACKSLASH) {
            return this.fail(ParseErrorKind.InvalidChunkExtension, pos);
          }
          st = ST_EXT_QUOTED;
          break;
        case ST_EXT_AFTER_VALUE:
          if (c === CH_SEMI) st = ST_EXT_NAME_START;
          else if (c === CH_CR) st = ST_SIZE_LF;
          else return this.fail(ParseErrorKind.InvalidChunkExtension, pos);
          break;
        case ST_SIZE_LF:
          if (c !== CH_LF) return this.fail(ParseErrorKind.InvalidChunkSize, pos);
          this.lineBytes += pos + 1 - startPos;
          if (this.lineBytes > MAX_CHUNK_LINE_BYTES)
            return this.fail(ParseErrorKind.ChunkExtensionTooLong, pos);
          if (this.size === 0) {
            this.state = ST_TRAILERS;
          } else {
            this.remaining = this.size;
            this.state = ST_DATA;
          }
          return pos + 1;
      }
    }
    this.state = st;
    this.lineBytes += pos - startPos;
    if (this.lineBytes > MAX_CHUNK_LINE_BYTES) return this.fail(ParseErrorKind.ChunkExtensionTooLong, pos);
    return pos;
  }

  /** Trailer section (RFC 9112 §7.1.2): field lines until an empty line. */
  private readTrailers(data: Buffer, pos: number): number {
    const reader = this.reader;
    while (pos < data.length) {
      const next = reader.next(data, pos, this.maxTrailerBytes - this.trailerBytes);
      if (next === LINE_NEED_MORE) return data.length;
      if (next === LINE_TOO_LONG) return this.fail(ParseErrorKind.TrailersTooLarge, pos);
      const buf = reader.buf;
      const s = reader.start;
      const lf = reader.lf;
      this.trailerBytes += lf + 1 - s;
      if (lf === s + 1 && buf[s] === CH_CR) {
        this.state = ST_DONE;
        return next;
      }
      if (++this.trailerCount > this.maxTrailerCount) return this.fail(ParseErrorKind.TooManyTrailers, pos);
      const r = parseFieldLine(reader, this.trailers);
      if (r !== FIELD_OK) return this.fail(r, pos);
      pos = next;
    }
    return pos;
  }
}
