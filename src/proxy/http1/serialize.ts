// Serializes HTTP/1.1 heads to latin1 strings for socket.write(str, 'latin1'): request
// heads towards upstreams and response heads towards downstreams, plus chunk framing.
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

/** Request head; the Host header is written first, from `authority` (RFC 9112 §3.2). */
export function requestHead(
  method: string,
  target: string,
  authority: string,
  headers: HeaderList,
  framing: BodyFraming,
): string {
  let s = `${method} ${target} HTTP/1.1\r\nhost: ${authority}\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${s}${framingLine(framing)}\r\n`;
}

/** Response head with the standard reason phrase (RFC 9110 §15). */
export function responseHead(
  status: number,
  headers: HeaderList,
  framing: BodyFraming,
  versionMinor: 0 | 1 = 1,
): string {
  let s = `HTTP/1.${versionMinor} ${status} ${reasonPhrase(status)}\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${s}${framingLine(framing)}\r\n`;
}

function framingLine(framing: BodyFraming): string {
  if (framing.kind === 'length') return `content-length: ${framing.length}\r\n`;
  if (framing.kind === 'chunked') return 'transfer-encoding: chunked\r\n';
  return '';
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
