// The field rules of HTTP/2 messages (RFC 9113 §8.2-8.3), checked on what a peer sends:
// requests (server side), responses (client side) and trailers. The rules go further than
// "well-formed HTTP/2" where an HTTP/1.1 hop would otherwise read something else than
// what was framed: no CR, LF or NUL in values, token names, a request line that stays a
// request line.

import type { HeaderList } from '../http/headers.js';
import { AUTHORITY_CHAR, allCharsIn, FIELD_VALUE, TARGET_CHAR, TOKEN_LOWER } from '../http1/char-tables.js';

/** `name` in lower case, as HTTP/2 field names must be (RFC 9113 §8.2.1); the same string when it is. */
export function lowerCaseName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return name.toLowerCase();
  }
  return name;
}

/** Connection-specific fields, which HTTP/2 forbids (RFC 9113 §8.2.2). */
export const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/**
 * RFC 9113 §8.2-8.3 for a request, and what an HTTP/1.1 upstream needs to be safe from it:
 * pseudo-headers first, each known and at most once; :method a token, and :scheme and
 * :path unless CONNECT (then :authority, and no :scheme/:path unless :protocol, RFC 8441,
 * which needs `allowProtocol`); :path an origin-form (or `*`) of visible characters;
 * :authority and host of authority characters; names lower-case tokens; values without
 * NUL, CR, LF or other controls and without surrounding whitespace (§8.2.1); no
 * connection-specific fields; `te` only "trailers"; content-length digits, repeated only
 * with the same value. Returns what is wrong, or null.
 */
export function validateRequest(fields: HeaderList, allowProtocol = true): string | null {
  let method = '';
  let scheme = false;
  let path = '';
  let authority = false;
  let protocol = false;
  let regular = false;
  let contentLength: string | null = null;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (!isFieldValue(value)) return `invalid value of ${name}`;
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) return `pseudo-header ${name} after a regular field`;
      if (name === ':method') {
        if (method !== '') return 'duplicate :method';
        if (!isToken(value)) return 'invalid :method';
        method = value;
      } else if (name === ':scheme') {
        if (scheme) return 'duplicate :scheme';
        scheme = true;
      } else if (name === ':path') {
        if (path !== '') return 'duplicate :path';
        if (value === '') return 'empty :path';
        if (!isPath(value)) return 'invalid :path';
        path = value;
      } else if (name === ':authority') {
        if (authority) return 'duplicate :authority';
        if (!isAuthority(value)) return 'invalid :authority';
        authority = true;
      } else if (name === ':protocol') {
        if (!allowProtocol) return ':protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL';
        if (protocol) return 'duplicate :protocol';
        protocol = true;
      } else return `unknown pseudo-header ${name}`;
      continue;
    }
    regular = true;
    if (!isLowerToken(name)) return `invalid field name ${JSON.stringify(name)}`;
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
    if (name === 'te' && value !== 'trailers') return 'te other than "trailers"';
    if (name === 'host' && !isAuthority(value)) return 'invalid host';
    if (name === 'content-length') {
      if (!isDigits(value)) return 'invalid content-length';
      if (contentLength !== null && contentLength !== value) return 'differing content-length values';
      contentLength = value;
    }
  }
  if (method === '') return 'no :method';
  if (method === 'CONNECT' && !protocol) {
    if (!authority || scheme || path !== '') return 'CONNECT needs :authority and no :scheme or :path';
    return null;
  }
  if (!scheme || path === '') return 'no :scheme or :path';
  if (path === '*' && method !== 'OPTIONS') return ':path * on a method other than OPTIONS';
  return null;
}

/** The request's content-length (validated by validateRequest), or -1 when it has none. */
export function declaredLength(fields: HeaderList): number {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === 'content-length') return Number(fields[i + 1]);
  return -1;
}

/** Trailers: regular fields only, with valid names and values. */
export function validTrailers(fields: HeaderList): boolean {
  for (let i = 0; i < fields.length; i += 2) {
    if (!isLowerToken(fields[i]) || !isFieldValue(fields[i + 1])) return false;
  }
  return true;
}

export function isLowerToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0xff || TOKEN_LOWER[c] !== c) return false;
  }
  return true;
}

function isToken(value: string): boolean {
  return value.length > 0 && allCharsIn(TOKEN_LOWER, value);
}

/** RFC 9113 §8.2.1: no NUL, CR, LF or other controls, no leading or trailing SP / HTAB. */
export function isFieldValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) return false;
  }
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  return first !== 0x20 && first !== 0x09 && last !== 0x20 && last !== 0x09;
}

/** origin-form (`/` then visible characters) or `*`. */
function isPath(value: string): boolean {
  if (value === '*') return true;
  return value.charCodeAt(0) === 0x2f && allCharsIn(TARGET_CHAR, value);
}

function isAuthority(value: string): boolean {
  return allCharsIn(AUTHORITY_CHAR, value);
}

function isDigits(value: string): boolean {
  if (value.length === 0 || value.length > 15) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * A response head (RFC 9113 §8.3.2): `:status` first and only, three digits; regular
 * fields as in requests. Returns what is wrong, or null.
 */
export function validateResponse(fields: HeaderList): string | null {
  if (fields.length < 2 || fields[0] !== ':status') return 'no :status first';
  const status = fields[1];
  if (status.length !== 3 || !isDigits(status)) return 'invalid :status';
  for (let i = 2; i < fields.length; i += 2) {
    const name = fields[i];
    if (!isLowerToken(name)) return `invalid field name ${JSON.stringify(name)}`;
    if (!isFieldValue(fields[i + 1])) return `invalid value of ${name}`;
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
  }
  return null;
}
