// Request-smuggling corpus: known desync payloads (CL.TE, TE.CL, TE.TE obfuscations,
// malformed lengths and chunk sizes, line-ending and whitespace tricks). Each must be
// refused with the expected status/details, or — for the few shapes that are harmless
// under RFC 9110/9112 — parse to one unambiguous interpretation, asserted exactly.
// Payloads written for this test; see docs/http1-parsing.md for the rationale.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequests } from './parse-recorder.js';
import { DEFAULT_PARSER_LIMITS, type ParserLimits } from './request-parser.js';

const P = 'POST / HTTP/1.1\r\nHost: h\r\n';
const CHUNKED_BODY = '5\r\nhello\r\n0\r\n\r\n';

interface Rejected {
  status: number;
  details: string;
}
interface Parsed {
  /** Expected [target, body] per message. */
  messages: Array<[string, string]>;
}

const REJECTED: Array<[string, string, Rejected, ParserLimits?]> = [
  // CL.TE / TE.CL: both framing headers present.
  [
    'CL.TE',
    `${P}Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED`,
    { status: 400, details: 'http1.content_length_and_chunked_not_allowed' },
  ],
  [
    'TE.CL',
    `${P}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`,
    { status: 400, details: 'http1.content_length_and_chunked_not_allowed' },
  ],
  [
    'CL: 0 with TE',
    `${P}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.content_length_and_chunked_not_allowed' },
  ],
  [
    'CL.TE with obfuscated TE',
    `${P}Content-Length: 4\r\nTransfer-Encoding: xchunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.content_length_and_chunked_not_allowed' },
  ],
  // TE.TE obfuscations.
  [
    'TE xchunked',
    `${P}Transfer-Encoding: xchunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 501, details: 'http1.unsupported_transfer_encoding' },
  ],
  [
    'TE chunk',
    `${P}Transfer-Encoding: chunk\r\n\r\n${CHUNKED_BODY}`,
    { status: 501, details: 'http1.unsupported_transfer_encoding' },
  ],
  [
    'TE identity',
    `${P}Transfer-Encoding: identity\r\n\r\n${CHUNKED_BODY}`,
    { status: 501, details: 'http1.unsupported_transfer_encoding' },
  ],
  [
    'TE identity, chunked',
    `${P}Transfer-Encoding: identity, chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 501, details: 'http1.unsupported_transfer_encoding' },
  ],
  [
    'TE chunked, identity',
    `${P}Transfer-Encoding: chunked, identity\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.chunked_not_final' },
  ],
  [
    'TE chunked + TE x (two lines)',
    `${P}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.chunked_not_final' },
  ],
  [
    'TE chunked twice',
    `${P}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.invalid_transfer_encoding' },
  ],
  [
    'TE chunked,chunked',
    `${P}Transfer-Encoding: chunked,chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.invalid_transfer_encoding' },
  ],
  [
    'TE quoted',
    `${P}Transfer-Encoding: "chunked"\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.invalid_transfer_encoding' },
  ],
  [
    'TE with parameter',
    `${P}Transfer-Encoding: chunked;x=1\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.invalid_transfer_encoding' },
  ],
  [
    'TE empty list element',
    `${P}Transfer-Encoding: ,chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.invalid_transfer_encoding' },
  ],
  [
    'TE space before colon',
    `${P}Transfer-Encoding : chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.whitespace_before_colon' },
  ],
  [
    'TE tab before colon',
    `${P}Transfer-Encoding\t: chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.whitespace_before_colon' },
  ],
  [
    'TE vertical tab',
    `${P}Transfer-Encoding:\x0bchunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.invalid_characters' },
  ],
  [
    'TE form feed',
    `${P}Transfer-Encoding:\x0cchunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.invalid_characters' },
  ],
  [
    'TE NUL',
    `${P}Transfer-Encoding: chunked\x00\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.invalid_characters' },
  ],
  [
    'TE obs-fold value',
    `${P}Transfer-Encoding:\r\n chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.obs_fold' },
  ],
  [
    'TE folded line',
    `${P}X: y\r\n Transfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.obs_fold' },
  ],
  [
    'TE name split by LF',
    `${P}Transfer-Encoding\n: chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.bare_lf' },
  ],
  [
    'TE bare CR in value',
    `${P}Transfer-Encoding: chunked\rX: y\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.bare_cr' },
  ],
  [
    'TE in HTTP/1.0',
    `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`,
    { status: 400, details: 'http1.transfer_encoding_in_http10' },
    { ...DEFAULT_PARSER_LIMITS, acceptHttp10: true },
  ],
  // Content-Length shapes.
  [
    'duplicate CL differing',
    `${P}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    { status: 400, details: 'http1.duplicate_content_length' },
  ],
  [
    'CL list 0, 5',
    `${P}Content-Length: 0, 5\r\n\r\nhello`,
    { status: 400, details: 'http1.duplicate_content_length' },
  ],
  ['CL +5', `${P}Content-Length: +5\r\n\r\nhello`, { status: 400, details: 'http1.invalid_content_length' }],
  ['CL -5', `${P}Content-Length: -5\r\n\r\nhello`, { status: 400, details: 'http1.invalid_content_length' }],
  [
    'CL hex',
    `${P}Content-Length: 0x5\r\n\r\nhello`,
    { status: 400, details: 'http1.invalid_content_length' },
  ],
  [
    'CL decimal point',
    `${P}Content-Length: 5.0\r\n\r\nhello`,
    { status: 400, details: 'http1.invalid_content_length' },
  ],
  [
    'CL exponent',
    `${P}Content-Length: 5e0\r\n\r\nhello`,
    { status: 400, details: 'http1.invalid_content_length' },
  ],
  [
    'CL space inside',
    `${P}Content-Length: 1 0\r\n\r\nhello`,
    { status: 400, details: 'http1.invalid_content_length' },
  ],
  [
    'CL vertical tab',
    `${P}Content-Length:\x0b5\r\n\r\nhello`,
    { status: 400, details: 'http1.invalid_characters' },
  ],
  [
    'CL space before colon',
    `${P}Content-Length : 5\r\n\r\nhello`,
    { status: 400, details: 'http1.whitespace_before_colon' },
  ],
  [
    'CL overflow',
    `${P}Content-Length: 18446744073709551621\r\n\r\nhello`,
    { status: 400, details: 'http1.content_length_too_large' },
  ],
  // Chunk sizes.
  [
    'negative chunk size',
    `${P}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`,
    { status: 400, details: 'http1.invalid_chunk_size' },
  ],
  [
    'chunk size overflow',
    `${P}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n`,
    { status: 400, details: 'http1.chunk_size_overflow' },
  ],
  [
    'chunk size 17 digits',
    `${P}Transfer-Encoding: chunked\r\n\r\n00000000000000005\r\nhello\r\n0\r\n\r\n`,
    { status: 400, details: 'http1.chunk_size_overflow' },
  ],
  [
    'chunk size 0x',
    `${P}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`,
    { status: 400, details: 'http1.invalid_chunk_size' },
  ],
  [
    'chunk size leading space',
    `${P}Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n`,
    { status: 400, details: 'http1.invalid_chunk_size' },
  ],
  [
    'chunk size trailing space',
    `${P}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`,
    { status: 400, details: 'http1.invalid_chunk_size' },
  ],
  [
    'chunk size LF only',
    `${P}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`,
    { status: 400, details: 'http1.invalid_chunk_size' },
  ],
  [
    'last chunk LF only',
    `${P}Transfer-Encoding: chunked\r\n\r\n0\n\n`,
    { status: 400, details: 'http1.invalid_chunk_size' },
  ],
  [
    'chunk data longer than size',
    `${P}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`,
    { status: 400, details: 'http1.missing_chunk_crlf' },
  ],
  [
    'chunk data LF only',
    `${P}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`,
    { status: 400, details: 'http1.missing_chunk_crlf' },
  ],
  [
    'chunk ext with LF',
    `${P}Transfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n`,
    { status: 400, details: 'http1.invalid_chunk_extension' },
  ],
  [
    'trailer section LF only',
    `${P}Transfer-Encoding: chunked\r\n\r\n0\r\n\n`,
    { status: 400, details: 'http1.bare_lf' },
  ],
  // Line endings, request line and names.
  ['LF-only request', 'GET / HTTP/1.1\nHost: h\n\n', { status: 400, details: 'http1.bare_lf' }],
  ['LF-only end of head', `${P}Content-Length: 5\r\n\nhello`, { status: 400, details: 'http1.bare_lf' }],
  ['request line bare CR', 'GET / HTTP/1.1\rHost: h\r\n\r\n', { status: 400, details: 'http1.codec_error' }],
  [
    'request line bare CR in target',
    'GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n',
    { status: 400, details: 'http1.bare_cr' },
  ],
  ['HTTP/0.9 request', 'GET /\r\n\r\n', { status: 400, details: 'http1.codec_error' }],
  ['HTTP/0.9 version', 'GET / HTTP/0.9\r\n\r\n', { status: 505, details: 'http1.unsupported_version' }],
  ['space in target', 'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n', { status: 400, details: 'http1.codec_error' }],
  ['NUL in header name', `${P}X\x00Y: z\r\n\r\n`, { status: 400, details: 'http1.invalid_header_name' }],
  ['NUL in header value', `${P}X: a\x00b\r\n\r\n`, { status: 400, details: 'http1.invalid_characters' }],
  [
    'header name with space',
    `${P}Content Length: 5\r\n\r\nhello`,
    { status: 400, details: 'http1.invalid_header_name' },
  ],
  [
    'whitespace line after request line',
    'POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: h\r\n\r\n',
    { status: 400, details: 'http1.whitespace_line' },
  ],
  [
    'two Host headers',
    'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    { status: 400, details: 'http1.multiple_host' },
  ],
  ['Host list', 'GET / HTTP/1.1\r\nHost: a, b\r\n\r\n', { status: 400, details: 'http1.invalid_host' }],
  ['HTTP/1.0 refused by default', 'GET / HTTP/1.0\r\n\r\n', { status: 426, details: 'http1.low_version' }],
];

const PARSED: Array<[string, string, Parsed]> = [
  [
    'TE case-insensitive',
    `${P}Transfer-Encoding: ChUnKeD\r\n\r\n${CHUNKED_BODY}`,
    { messages: [['/', 'hello']] },
  ],
  [
    'TE with HTAB OWS',
    `${P}Transfer-Encoding:\tchunked\t\r\n\r\n${CHUNKED_BODY}`,
    { messages: [['/', 'hello']] },
  ],
  ['CL with OWS', `${P}Content-Length:  5 \r\n\r\nhello`, { messages: [['/', 'hello']] }],
  ['CL leading zeros', `${P}Content-Length: 0005\r\n\r\nhello`, { messages: [['/', 'hello']] }],
  [
    'CL identical duplicates',
    `${P}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`,
    { messages: [['/', 'hello']] },
  ],
  ['CL identical list', `${P}Content-Length: 5, 5\r\n\r\nhello`, { messages: [['/', 'hello']] }],
  [
    'chunk size upper-case with zeros',
    `${P}Transfer-Encoding: chunked\r\n\r\n000A\r\n0123456789\r\n0\r\n\r\n`,
    { messages: [['/', '0123456789']] },
  ],
  [
    'pipelined after CL body',
    `${P}Content-Length: 5\r\n\r\nhelloGET /admin HTTP/1.1\r\nHost: h\r\n\r\n`,
    {
      messages: [
        ['/', 'hello'],
        ['/admin', ''],
      ],
    },
  ],
  [
    'GET with body bytes but no CL',
    'GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n',
    {
      messages: [
        ['/', ''],
        ['/2', ''],
      ],
    },
  ],
  ['CRLFs before request', '\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n', { messages: [['/', '']] }],
  [
    'trailer named Content-Length',
    `${P}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 99\r\n\r\n`,
    { messages: [['/', 'hello']] },
  ],
];

describe('smuggling corpus: refused', () => {
  for (const [name, payload, want, limits] of REJECTED) {
    it(`${name} -> ${want.status} ${want.details}`, () => {
      // Every cut point must give the same verdict, so splitting cannot sneak past.
      for (const cuts of [[], [Math.floor(payload.length / 2)], [1, payload.length - 1]]) {
        const r = parseRequests(payload, cuts, limits ?? DEFAULT_PARSER_LIMITS, true);
        assert.ok(r.error !== null, `accepted: ${JSON.stringify(payload)}`);
        assert.equal(r.error.details, want.details, r.error.message);
        assert.equal(r.error.status, want.status);
        assert.equal(r.messages.filter((m) => m.complete).length, 0, 'no message may complete');
      }
    });
  }
});

describe('smuggling corpus: harmless shapes parse one way', () => {
  for (const [name, payload, want] of PARSED) {
    it(name, () => {
      const r = parseRequests(payload, [], DEFAULT_PARSER_LIMITS, true);
      assert.equal(r.error, null, r.error?.message);
      assert.deepEqual(
        r.messages.map((m) => [m.head.target, m.body.toString('latin1')]),
        want.messages,
      );
      assert.ok(r.messages.every((m) => m.complete));
    });
  }

  it('collapses identical Content-Length to one header with the numeric value', () => {
    const r = parseRequests(`${P}Content-Length: 0005\r\nContent-Length: 5\r\n\r\nhello`);
    assert.deepEqual(r.messages[0].head.headers, ['content-length', '5']);
  });

  it('uses the absolute-form authority over a conflicting Host (RFC 9112 §3.2.2)', () => {
    const r = parseRequests('GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n');
    assert.equal(r.messages[0].head.authority, 'a.example');
  });
});
