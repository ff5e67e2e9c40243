// Serializes HTTP/1.1 heads into buffers: request heads towards upstreams and response
// heads towards downstreams, plus chunk framing.
// The serializer owns message framing: it writes Content-Length / Transfer-Encoding from
// a BodyFraming, so callers pass header lists already stripped of them (stripHopByHop).
// Values are written as given: header values produced by the parsers are validated, and
// values added by filters must be validated where their config is (no CR/LF/NUL).

import type { HeaderList } from '../http/headers.js';
import { isForbiddenTrailer } from './hop-by-hop.js';

export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export const CRLF = '\r\n';
/** Last chunk with an empty trailer section (RFC 9112 §7.1). */
export const CHUNK_END = '0\r\n\r\n';

/**
 * The last chunk with a trailer section (RFC 9112 §7.1.2), without the fields a proxy does
 * not forward as trailers (isForbiddenTrailer).
 */
export function lastChunkWithTrailers(trailers: HeaderList): string {
  let s = '0\r\n';
  for (let i = 0; i < trailers.length; i += 2) {
    const name = trailers[i];
    if (!isForbiddenTrailer(name)) s += `${name}: ${trailers[i + 1]}\r\n`;
  }
  return `${s}\r\n`;
}

/** `chunk-size CRLF` in lower-case hex (RFC 9112 §7.1). */
export function chunkHeader(size: number): string {
  return `${size.toString(16)}\r\n`;
}

// The heads are written byte by byte into one buffer of their exact length, not built as
// strings: string concatenation leaves ~4 short-lived strings per field, and the socket
// write then flattens the result into one more copy (~1.3 KB of young garbage per proxied
// request, docs/benchmarks.md "The twelfth round"). Each character is written as its low
// byte, as a latin1 string write would.

/** Request head; the Host header is written first, from `authority` (RFC 9112 §3.2). */
export function requestHeadBytes(
  method: string,
  target: string,
  authority: string,
  headers: HeaderList,
  framing: BodyFraming,
): Buffer {
  const lengthText = framing.kind === 'length' ? String(framing.length) : '';
  // METHOD SP target " HTTP/1.1" CRLF "host: " authority CRLF ... CRLF
  const size =
    method.length +
    target.length +
    authority.length +
    20 +
    fieldsBytes(headers) +
    framingBytes(framing, lengthText) +
    2;
  const buf = Buffer.allocUnsafe(size);
  let o = put(buf, 0, method);
  buf[o++] = 0x20;
  o = put(buf, o, target);
  o = put(buf, o, ' HTTP/1.1\r\nhost: ');
  o = put(buf, o, authority);
  o = putFields(buf, putCrlf(buf, o), headers);
  putCrlf(buf, putFraming(buf, o, framing, lengthText));
  return buf;
}

/** Response head with the standard reason phrase (RFC 9110 §15). */
export function responseHeadBytes(
  status: number,
  headers: HeaderList,
  framing: BodyFraming,
  versionMinor: 0 | 1 = 1,
): Buffer {
  const reason = reasonPhrase(status);
  const statusText = String(status);
  const lengthText = framing.kind === 'length' ? String(framing.length) : '';
  // "HTTP/1.x" SP status SP reason CRLF ... CRLF
  const size =
    statusText.length + reason.length + 12 + fieldsBytes(headers) + framingBytes(framing, lengthText) + 2;
  const buf = Buffer.allocUnsafe(size);
  let o = put(buf, 0, versionMinor === 0 ? 'HTTP/1.0 ' : 'HTTP/1.1 ');
  o = put(buf, o, statusText);
  buf[o++] = 0x20;
  o = put(buf, o, reason);
  o = putFields(buf, putCrlf(buf, o), headers);
  putCrlf(buf, putFraming(buf, o, framing, lengthText));
  return buf;
}

/** Bytes of `name: value CRLF` for every field. */
function fieldsBytes(headers: HeaderList): number {
  let n = 0;
  for (let i = 0; i < headers.length; i++) n += headers[i].length;
  return n + headers.length * 2;
}

function putFields(buf: Buffer, o: number, headers: HeaderList): number {
  for (let i = 0; i < headers.length; i += 2) {
    o = put(buf, o, headers[i]);
    buf[o++] = 0x3a;
    buf[o++] = 0x20;
    o = putCrlf(buf, put(buf, o, headers[i + 1]));
  }
  return o;
}

const CONTENT_LENGTH_PREFIX = 'content-length: ';
const TRANSFER_ENCODING_CHUNKED = 'transfer-encoding: chunked\r\n';

function framingBytes(framing: BodyFraming, lengthText: string): number {
  if (framing.kind === 'length') return CONTENT_LENGTH_PREFIX.length + lengthText.length + 2;
  if (framing.kind === 'chunked') return TRANSFER_ENCODING_CHUNKED.length;
  return 0;
}

function putFraming(buf: Buffer, o: number, framing: BodyFraming, lengthText: string): number {
  if (framing.kind === 'length')
    return putCrlf(buf, put(buf, put(buf, o, CONTENT_LENGTH_PREFIX), lengthText));
  if (framing.kind === 'chunked') return put(buf, o, TRANSFER_ENCODING_CHUNKED);
  return o;
}

function putCrlf(buf: Buffer, o: number): number {
  buf[o] = 0x0d;
  buf[o + 1] = 0x0a;
  return o + 2;
}

/** Strings at least this long are copied by Buffer#write; shorter ones by a loop here. */
const NATIVE_COPY_MIN = 64;

/** Writes `s` (each character as its low byte) at `o`; returns the offset after it. */
function put(buf: Buffer, o: number, s: string): number {
  const n = s.length;
  if (n >= NATIVE_COPY_MIN) return o + buf.write(s, o, n, 'latin1');
  for (let i = 0; i < n; i++) buf[o + i] = s.charCodeAt(i);
  return o + n;
}

/** The standard reason phrase, or 'Unknown' for unregistered codes. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

const REASONS: Readonly<Record<number, string>> = Object.freeze({
  100: 'Continue',
  101: 'Switching Protocols',
  102: 'Processing',
  103: 'Early Hints',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  510: 'Not Extended',
  511: 'Network Authentication Required',
});
