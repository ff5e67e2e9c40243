// The HTTP/1 codec's error catalogue: every way a message can be refused, with the
// status the proxy answers, an Envoy-like response-code-details token and a message
// a user can act on. Errors are frozen shared objects, so failing costs no allocation
// and a test can check the catalogue against docs/http1-parsing.md.

/**
 * 400/413/426/431/501/505 are downstream (request) answers; 502 is used for every
 * upstream (response) parse error. 426 is what Envoy answers to HTTP/1.0 when it is not
 * accepted (RFC 9110 §15.5.22).
 */
export interface HttpParseError {
  readonly status: 400 | 413 | 426 | 431 | 501 | 502 | 505;
  readonly details: string;
  readonly message: string;
}

/** Stable numeric kinds (indexes into the catalogue) used inside the parsers. */
export const ParseErrorKind = {
  BadRequestLine: 0,
  InvalidMethod: 1,
  InvalidTarget: 2,
  UnsupportedVersion: 3,
  MalformedVersion: 4,
  Http10NotAllowed: 5,
  BareLf: 6,
  BareCr: 7,
  ObsFold: 8,
  InvalidHeaderName: 9,
  WhitespaceBeforeColon: 10,
  MissingColon: 11,
  InvalidHeaderValue: 12,
  HeadersTooLarge: 13,
  TooManyHeaders: 14,
  MissingHost: 15,
  MultipleHost: 16,
  InvalidHost: 17,
  InvalidContentLength: 18,
  ConflictingContentLength: 19,
  ContentLengthTooLarge: 20,
  ContentLengthWithTransferEncoding: 21,
  InvalidTransferEncoding: 22,
  UnsupportedTransferEncoding: 23,
  TransferEncodingInHttp10: 24,
  ChunkedNotFinal: 25,
  InvalidChunkSize: 26,
  ChunkSizeOverflow: 27,
  InvalidChunkExtension: 28,
  ChunkExtensionTooLong: 29,
  MissingChunkCrlf: 30,
  TrailersTooLarge: 31,
  TooManyTrailers: 32,
  PrematureEof: 33,
  InvalidStatusLine: 34,
  LeadingWhitespaceLine: 35,
} as const;

export type ParseErrorKindValue = (typeof ParseErrorKind)[keyof typeof ParseErrorKind];

type Entry = readonly [status: HttpParseError['status'], details: string, message: string];

// Index = ParseErrorKind value. Messages say what was wrong and what a client must send.
const ENTRIES: readonly Entry[] = [
  [
    400,
    'http1.codec_error',
    "malformed request line: expected 'METHOD SP request-target SP HTTP/1.1' + CRLF",
  ],
  [400, 'http1.invalid_method', 'request method is not a token (RFC 9110 §9.1)'],
  [
    400,
    'http1.invalid_url',
    'request-target is not valid (RFC 9112 §3.2): it must be origin-form, absolute-form, authority-form (CONNECT only) or * (OPTIONS only), in visible ASCII',
  ],
  [
    505,
    'http1.unsupported_version',
    'HTTP version not supported: only HTTP/1.1 (and HTTP/1.0 when enabled) are accepted',
  ],
  [400, 'http1.codec_error', "malformed HTTP version: expected 'HTTP/1.1'"],
  [426, 'http1.low_version', 'HTTP/1.0 is not accepted by this listener: use HTTP/1.1'],
  [400, 'http1.bare_lf', 'line terminated by a bare LF: HTTP/1.1 lines must end with CRLF (RFC 9112 §2.2)'],
  [400, 'http1.bare_cr', 'bare CR not followed by LF (RFC 9112 §2.2)'],
  [
    400,
    'http1.obs_fold',
    'obsolete line folding (a field line starting with whitespace) is not accepted (RFC 9112 §5.2)',
  ],
  [
    400,
    'http1.invalid_header_name',
    'header field name contains a character that is not a token character (RFC 9110 §5.1)',
  ],
  [
    400,
    'http1.whitespace_before_colon',
    'whitespace between a header field name and the colon is not allowed (RFC 9112 §5.1)',
  ],
  [400, 'http1.missing_colon', "header field line without ':' or with an empty name"],
  [
    400,
    'http1.invalid_characters',
    'header field value contains a forbidden character (NUL, CR, LF, control or DEL; RFC 9110 §5.5)',
  ],
  [431, 'http1.headers_too_large', 'request header section is larger than the configured limit'],
  [431, 'http1.too_many_headers', 'request has more header fields than the configured limit'],
  [400, 'http1.missing_host', 'HTTP/1.1 request without a Host header (RFC 9112 §3.2)'],
  [400, 'http1.multiple_host', 'request with more than one Host header (RFC 9112 §3.2)'],
  [400, 'http1.invalid_host', 'Host header value is not a valid authority (RFC 9110 §7.2)'],
  [
    400,
    'http1.invalid_content_length',
    'Content-Length must be a list of identical decimal digit strings (RFC 9110 §8.6)',
  ],
  [400, 'http1.duplicate_content_length', 'conflicting Content-Length values (RFC 9112 §6.3)'],
  [400, 'http1.content_length_too_large', 'Content-Length exceeds 2^53-1'],
  [
    400,
    'http1.content_length_and_chunked_not_allowed',
    'Content-Length and Transfer-Encoding together are not allowed (RFC 9112 §6.1)',
  ],
  [
    400,
    'http1.invalid_transfer_encoding',
    'Transfer-Encoding is malformed or applies chunked more than once (RFC 9112 §6.1)',
  ],
  [501, 'http1.unsupported_transfer_encoding', "Transfer-Encoding other than 'chunked' is not implemented"],
  [
    400,
    'http1.transfer_encoding_in_http10',
    'Transfer-Encoding is not allowed in an HTTP/1.0 message (RFC 9112 §6.1)',
  ],
  [400, 'http1.chunked_not_final', 'chunked is not the final transfer coding of the request (RFC 9112 §6.3)'],
  [
    400,
    'http1.invalid_chunk_size',
    'chunk size is not a hexadecimal number followed by CRLF (RFC 9112 §7.1)',
  ],
  [400, 'http1.chunk_size_overflow', 'chunk size has more than 16 hex digits or exceeds 2^53-1'],
  [400, 'http1.invalid_chunk_extension', 'malformed chunk extension (RFC 9112 §7.1.1)'],
  [400, 'http1.chunk_extension_too_long', 'chunk-size line with extensions is longer than 4096 bytes'],
  [400, 'http1.missing_chunk_crlf', 'chunk data not followed by CRLF (RFC 9112 §7.1)'],
  [431, 'http1.trailers_too_large', 'trailer section is larger than the configured header limit'],
  [431, 'http1.too_many_trailers', 'trailer section has more fields than the configured header limit'],
  [400, 'http1.premature_eof', 'connection closed in the middle of a message'],
  [400, 'http1.invalid_status_line', "malformed status line: expected 'HTTP/1.1 SP 3DIGIT SP reason' + CRLF"],
  [
    400,
    'http1.whitespace_line',
    'whitespace between the start line and the first header field (RFC 9112 §2.2)',
  ],
];

function freezeAll(map: (e: Entry) => HttpParseError): readonly HttpParseError[] {
  return Object.freeze(ENTRIES.map((e) => Object.freeze(map(e))));
}

/** Request-side errors, indexed by ParseErrorKind. */
export const REQUEST_ERRORS: readonly HttpParseError[] = freezeAll(([status, details, message]) => ({
  status,
  details,
  message,
}));

/**
 * Response-side errors: always 502 with details 'upstream_protocol_error'; the message
 * keeps the specific token so logs still say what the upstream did wrong.
 */
export const RESPONSE_ERRORS: readonly HttpParseError[] = freezeAll(([, details, message]) => ({
  status: 502,
  details: 'upstream_protocol_error',
  message: `upstream response: ${message.replace('request', 'response')} (${details})`,
}));

/** Every request-side details token with its status (for docs and tests). */
export function listRequestErrors(): readonly HttpParseError[] {
  return REQUEST_ERRORS;
}
