// Parses one header (or trailer) field line — RFC 9112 §5 / RFC 9110 §5 — from bytes
// already known to end with LF, appending [lower-cased name, trimmed latin1 value] to a
// HeaderList. Also home to the small list-parsing helpers for the framing headers
// (Content-Length, Transfer-Encoding, Connection), which run once per header, not per byte.

import type { HeaderList } from '../http/headers.js';
import { CH_COLON, CH_CR, CH_SP, CH_TAB, FIELD_VALUE, TOKEN_LOWER } from './char-tables.js';
import { knownHeaderName } from './header-names.js';
import type { LineReader } from './line-reader.js';
import { ParseErrorKind } from './parse-error.js';

/** parseFieldLine() succeeded. Any other result is a ParseErrorKind. */
export const FIELD_OK = -1;

/**
 * Parses the reader's current line (buf[start..lf], lf = index of the terminating LF) as
 * `name ":" OWS value OWS CRLF`. The caller has handled the empty line ending the section.
 */
export function parseFieldLine(line: LineReader, out: HeaderList): number {
  const buf = line.buf;
  const start = line.start;
  const lf = line.lf;
  if (lf === start || buf[lf - 1] !== CH_CR) return ParseErrorKind.BareLf;
  const end = lf - 1;
  let c = buf[start];
  // RFC 9112 §5.2: obs-fold; a server may reject it with 400, which we do.
  if (c === CH_SP || c === CH_TAB) return ParseErrorKind.ObsFold;
  let i = start;
  let upper = false;
  for (; i < end; i++) {
    c = buf[i];
    const l = TOKEN_LOWER[c];
    if (l === 0) break;
    if (l !== c) upper = true;
  }
  if (i === end) return ParseErrorKind.MissingColon;
  if (c !== CH_COLON) {
    // RFC 9112 §5.1: no whitespace between name and colon; a server MUST reject with 400.
    if (c === CH_SP || c === CH_TAB) {
      let j = i + 1;
      while (j < end && (buf[j] === CH_SP || buf[j] === CH_TAB)) j++;
      return j < end && buf[j] === CH_COLON
        ? ParseErrorKind.WhitespaceBeforeColon
        : ParseErrorKind.InvalidHeaderName;
    }
    if (c === CH_CR) return ParseErrorKind.BareCr;
    return ParseErrorKind.InvalidHeaderName;
  }
  if (i === start) return ParseErrorKind.MissingColon;
  let name = knownHeaderName(buf, start, i);
  if (name === '') {
    name = line.text(start, i);
    if (upper) name = name.toLowerCase();
  }
  i++;
  while (i < end && (buf[i] === CH_SP || buf[i] === CH_TAB)) i++;
  const vs = i;
  while (i < end && FIELD_VALUE[buf[i]] !== 0) i++;
  if (i !== end) return buf[i] === CH_CR ? ParseErrorKind.BareCr : ParseErrorKind.InvalidHeaderValue;
  let ve = end;
  while (ve > vs && (buf[ve - 1] === CH_SP || buf[ve - 1] === CH_TAB)) ve--;
  out.push(name, vs === ve ? '' : line.text(vs, ve));
  return FIELD_OK;
}

/** Content-Length list (RFC 9110 §8.6): invalid syntax. */
export const CL_INVALID = -1;
/** Content-Length list with differing values. */
export const CL_CONFLICT = -2;
/** Content-Length above Number.MAX_SAFE_INTEGER. */
export const CL_TOO_LARGE = -3;

/**
 * Parses a Content-Length value: `1*DIGIT` or a comma list of identical such values
 * (which RFC 9110 §8.6 lets a recipient collapse). Empty elements, signs, spaces inside
 * digits and hex are invalid. Returns the length or one of CL_INVALID/CL_CONFLICT/CL_TOO_LARGE.
 */
export function parseContentLength(v: string): number {
  const n = v.length;
  let result = -1;
  let i = 0;
  for (;;) {
    while (i < n && isOws(v.charCodeAt(i))) i++;
    const ds = i;
    let value = 0;
    for (; i < n; i++) {
      const d = v.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
    }
    if (i === ds) return CL_INVALID;
    if (value > Number.MAX_SAFE_INTEGER) return CL_TOO_LARGE;
    if (result !== -1 && value !== result) return CL_CONFLICT;
    result = value;
    while (i < n && isOws(v.charCodeAt(i))) i++;
    if (i === n) return result;
    if (v.charCodeAt(i) !== 0x2c) return CL_INVALID;
    i++;
  }
}

/** Transfer-Encoding is exactly `chunked` (possibly as several identical headers? no: once). */
export const TE_CHUNKED = -1;

/**
 * Checks a (comma-joined) Transfer-Encoding value. Weft implements only `chunked`
 * (RFC 9112 §7.1), which must be the final coding and applied once (§6.1); returns
 * TE_CHUNKED or a ParseErrorKind: malformed/duplicate chunked → InvalidTransferEncoding,
 * chunked present but not last → ChunkedNotFinal, any other coding → UnsupportedTransferEncoding.
 */
export function checkTransferEncoding(v: string): number {
  const n = v.length;
  let chunked = 0;
  let other = 0;
  let lastChunked = false;
  let i = 0;
  for (;;) {
    while (i < n && isOws(v.charCodeAt(i))) i++;
    const s = i;
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c > 0xff || TOKEN_LOWER[c] === 0) break;
    }
    // Empty list elements, parameters, quoted strings: all refused (strict, see docs).
    if (i === s) return ParseErrorKind.InvalidTransferEncoding;
    const isChunked = i - s === 7 && v.slice(s, i).toLowerCase() === 'chunked';
    if (isChunked) chunked++;
    else other++;
    lastChunked = isChunked;
    while (i < n && isOws(v.charCodeAt(i))) i++;
    if (i === n) break;
    if (v.charCodeAt(i) !== 0x2c) return ParseErrorKind.InvalidTransferEncoding;
    i++;
  }
  if (chunked > 1) return ParseErrorKind.InvalidTransferEncoding;
  if (chunked === 1 && !lastChunked) return ParseErrorKind.ChunkedNotFinal;
  if (other > 0) return ParseErrorKind.UnsupportedTransferEncoding;
  return TE_CHUNKED;
}

/** True when the lower-cased comma list `list` contains `token` as a whole element. */
export function hasListToken(list: string, token: string): boolean {
  let at = list.indexOf(token);
  while (at !== -1) {
    let b = at - 1;
    while (b >= 0 && isOws(list.charCodeAt(b))) b--;
    let a = at + token.length;
    while (a < list.length && isOws(list.charCodeAt(a))) a++;
    if ((b < 0 || list.charCodeAt(b) === 0x2c) && (a === list.length || list.charCodeAt(a) === 0x2c))
      return true;
    at = list.indexOf(token, at + 1);
  }
  return false;
}

function isOws(c: number): boolean {
  return c === CH_SP || c === CH_TAB;
}
