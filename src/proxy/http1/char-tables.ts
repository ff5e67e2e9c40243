// Precomputed 256-entry byte classification tables for the HTTP/1 codec.
// Parsing untrusted bytes one table lookup per byte keeps the hot loop branch-light
// and regex-free. Tables are built once at module load and never written afterwards.

export const CH_TAB = 0x09;
export const CH_LF = 0x0a;
export const CH_CR = 0x0d;
export const CH_SP = 0x20;
export const CH_QUOTE = 0x22;
export const CH_COLON = 0x3a;
export const CH_SEMI = 0x3b;
export const CH_EQ = 0x3d;
export const CH_BACKSLASH = 0x5c;

const TCHAR_PUNCT = "!#$%&'*+-.^_`|~";

/** tchar (RFC 9110 §5.6.2) -> the lower-cased byte; 0 for bytes that are not tchar. */
export const TOKEN_LOWER: Uint8Array = buildTokenLower();

/** field-vchar / SP / HTAB / obs-text (RFC 9110 §5.5) -> 1, else 0. NUL, CR, LF, other CTLs and DEL are 0. */
export const FIELD_VALUE: Uint8Array = buildFieldValue();

/** Visible ASCII 0x21..0x7E (what a request-target may contain, RFC 9112 §3.2 / RFC 3986) -> 1. */
export const TARGET_CHAR: Uint8Array = buildRange(0x21, 0x7e);

/** HEXDIG -> value 0..15; non-hex -> 255. */
export const HEX_VALUE: Uint8Array = buildHex();

/** qdtext / quoted-pair payload allowed inside a quoted-string (RFC 9110 §5.6.4), except '"' and '\'. */
export const QDTEXT: Uint8Array = buildQdtext();

/** Every character of `s` is marked in `table` (characters above 0xff never are). */
export function allCharsIn(table: Uint8Array, s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || table[c] === 0) return false;
  }
  return true;
}

function buildTokenLower(): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) t[c] = c;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = c;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = c + 0x20;
  for (let i = 0; i < TCHAR_PUNCT.length; i++) t[TCHAR_PUNCT.charCodeAt(i)] = TCHAR_PUNCT.charCodeAt(i);
  return t;
}

function buildFieldValue(): Uint8Array {
  const t = buildRange(0x21, 0x7e);
  t[CH_SP] = 1;
  t[CH_TAB] = 1;
  for (let c = 0x80; c <= 0xff; c++) t[c] = 1;
  return t;
}

function buildRange(lo: number, hi: number): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = lo; c <= hi; c++) t[c] = 1;
  return t;
}

function buildHex(): Uint8Array {
  const t = new Uint8Array(256).fill(255);
  for (let c = 0; c <= 9; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
}

function buildQdtext(): Uint8Array {
  const t = buildFieldValue();
  t[CH_QUOTE] = 0;
  t[CH_BACKSLASH] = 0;
  return t;
}

/**
 * Characters of an authority (RFC 3986 §3.2: reg-name / IP-literal / port, no userinfo):
 * unreserved, pct-encoded '%', sub-delims, ':' and '[' ']'. Used for Host and for the
 * authority of absolute-form and authority-form targets.
 */
export const AUTHORITY_CHAR: Uint8Array = buildAuthority();

function buildAuthority(): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  const extra = "-._~%!$&'()*+,;=:[]";
  for (let i = 0; i < extra.length; i++) t[extra.charCodeAt(i)] = 1;
  return t;
}

interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

const HAS_LATIN1_SLICE =
  typeof (Buffer.prototype as unknown as Partial<Latin1Slicer>).latin1Slice === 'function';

/**
 * buf[start..end) as a latin1 string. Uses Buffer's own latin1Slice when present (it skips
 * toString's encoding lookup, ~20% of head parsing time), else toString('latin1').
 */
export function latin1(buf: Buffer, start: number, end: number): string {
  return HAS_LATIN1_SLICE
    ? (buf as unknown as Latin1Slicer).latin1Slice(start, end)
    : buf.toString('latin1', start, end);
}
