// Unit tests for the strict HTTP/1.1 request parser: correct parsing (including input
// split at every byte boundary and pipelining with pause/resume) and every rejection.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequests, RequestRecorder } from './parse-recorder.js';
import { DEFAULT_PARSER_LIMITS, type ParserLimits, RequestParser } from './request-parser.js';

const LIMITS_10: ParserLimits = { ...DEFAULT_PARSER_LIMITS, acceptHttp10: true };

function ok(raw: string, limits: ParserLimits = DEFAULT_PARSER_LIMITS) {
  const r = parseRequests(raw, [], limits);
  assert.equal(r.error, null, `unexpected error: ${r.error?.message}`);
  assert.equal(r.consumed, Buffer.byteLength(raw, 'latin1'));
  return r.messages;
}

function rejects(raw: string, status: number, details: string, limits: ParserLimits = DEFAULT_PARSER_LIMITS) {
  const r = parseRequests(raw, [], limits);
  assert.ok(r.error !== null, `expected ${status} ${details} for ${JSON.stringify(raw)}`);
  assert.equal(r.error.details, details, `${JSON.stringify(raw)}: ${r.error.message}`);
  assert.equal(r.error.status, status);
  assert.ok(r.consumed < Buffer.byteLength(raw, 'latin1'));
}

describe('RequestParser: parsing', () => {
  it('parses a GET head with lower-cased names, trimmed values, host split out', () => {
    const [m] = ok(
      'GET /a?b=1 HTTP/1.1\r\nHost: example.com:8080\r\nX-Foo:  bar baz \t\r\nAccept: */*\r\n\r\n',
    );
    assert.equal(m.head.method, 'GET');
    assert.equal(m.head.target, '/a?b=1');
    assert.equal(m.head.versionMinor, 1);
    assert.equal(m.head.authority, 'example.com:8080');
    assert.deepEqual(m.head.headers, ['x-foo', 'bar baz', 'accept', '*/*']);
    assert.equal(m.head.contentLength, -1);
    assert.equal(m.head.chunked, false);
    assert.equal(m.head.keepAlive, true);
    assert.equal(m.body.length, 0);
    assert.equal(m.complete, true);
  });

  it('keeps obs-text bytes as latin1 and empty values as empty strings', () => {
    const [m] = ok('GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\xe9\r\nX-E:\r\nX-F: \t \r\n\r\n');
    assert.deepEqual(m.head.headers, ['x-a', 'caf\xe9', 'x-e', '', 'x-f', '']);
  });

  it('streams a Content-Length body delivered in the same buffer as the head', () => {
    const raw = 'POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello';
    const rec = new RequestRecorder();
    const p = new RequestParser(rec, DEFAULT_PARSER_LIMITS);
    assert.equal(p.execute(Buffer.from(raw)), raw.length);
    assert.equal(rec.messages.length, 1);
    assert.equal(rec.messages[0].complete, true);
    assert.equal(rec.messages[0].body.toString(), 'hello');
    assert.equal(rec.messages[0].head.contentLength, 5);
    assert.deepEqual(rec.messages[0].head.headers, ['content-length', '5']);
  });

  it('collapses identical duplicate Content-Length (separate lines and lists)', () => {
    const [m] = ok(
      'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 003\r\nX: y\r\n\r\nabc',
    );
    assert.deepEqual(m.head.headers, ['content-length', '3', 'x', 'y']);
    const [n] = ok('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2 , 2\r\n\r\nab');
    assert.equal(n.head.contentLength, 2);
    assert.equal(n.body.toString(), 'ab');
  });

  it('decodes chunked bodies with extensions and trailers', () => {
    const raw =
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=val;q="a \\"b\\"";flag\r\nhello\r\n' +
      '6;x=y\r\n world\r\n' +
      'A\r\n0123456789\r\n' +
      '0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n';
    const [m] = ok(raw);
    assert.equal(m.head.chunked, true);
    assert.equal(m.body.toString(), 'hello world0123456789');
    assert.deepEqual(m.trailers, ['x-checksum', 'abc', 'x-other', '1']);
  });

  it('gives the same result when the input is split at every byte boundary', () => {
    const messages = [
      'GET /x HTTP/1.1\r\nHost: a.b\r\nUser-Agent: t\r\nConnection: keep-alive\r\n\r\n',
      'POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world',
      'PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n',
      '\r\nGET /second HTTP/1.1\r\nhost: h\r\n\r\nGET /third HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nZ',
    ];
    for (const raw of messages) {
      const whole = parseRequests(raw);
      assert.equal(whole.error, null);
      for (let cut = 0; cut <= raw.length; cut++) {
        const split = parseRequests(raw, [cut]);
        assert.equal(split.error, null, `cut ${cut}`);
        assert.deepEqual(
          summarize(split.messages),
          summarize(whole.messages),
          `cut ${cut} of ${JSON.stringify(raw)}`,
        );
      }
      const bytewise = parseRequests(
        raw,
        Array.from({ length: raw.length }, (_, i) => i),
      );
      assert.deepEqual(summarize(bytewise.messages), summarize(whole.messages));
    }
  });

  it('parses all pipelined requests in one buffer unless paused', () => {
    const raw =
      'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\nHost: h\r\n\r\n';
    const all = ok(raw);
    assert.deepEqual(
      all.map((m) => m.head.target),
      ['/1', '/2', '/3'],
    );

    const rec = new RequestRecorder();
    rec.pauseAfterEach = true;
    const p = new RequestParser(rec, DEFAULT_PARSER_LIMITS);
    let buf = Buffer.from(raw);
    const consumedSteps: number[] = [];
    for (let i = 0; i < 3; i++) {
      const n = p.execute(buf);
      consumedSteps.push(n);
      assert.equal(p.paused, true);
      assert.equal(p.execute(buf.subarray(n)), 0, 'a paused parser consumes nothing');
      assert.equal(rec.messages.length, i + 1);
      p.resume();
      buf = buf.subarray(n);
    }
    assert.equal(buf.length, 0);
    assert.deepEqual(consumedSteps, [28, 50, 28]);
    assert.equal(28 + 50 + 28, raw.length);
    assert.equal(rec.messages[1].body.toString(), 'ok');
  });

  it('skips CRLFs before a request line (RFC 9112 §2.2)', () => {
    const [m] = ok('\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n');
    assert.equal(m.head.target, '/');
  });

  it('derives keepAlive, expectContinue, upgrade and connectionTokens', () => {
    assert.equal(ok('GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n')[0].head.keepAlive, false);
    assert.equal(ok('GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n')[0].head.keepAlive, false);
    assert.equal(ok('GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n')[0].head.keepAlive, true);
    assert.equal(ok('GET / HTTP/1.0\r\n\r\n', LIMITS_10)[0].head.keepAlive, false);
    const ten = ok('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', LIMITS_10)[0].head;
    assert.equal(ten.keepAlive, true);
    assert.equal(ten.versionMinor, 0);
    assert.equal(ten.authority, '');
    const up = ok(
      'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nExpect: 100-Continue\r\n\r\n',
    )[0].head;
    assert.equal(up.upgrade, true);
    assert.equal(up.expectContinue, true);
    assert.equal(up.connectionTokens, 'keep-alive, upgrade');
    assert.equal(ok('GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n')[0].head.upgrade, false);
    assert.equal(ok('GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n')[0].head.upgrade, false);
  });

  it('flags upgrades and CONNECT as tunnel requests (http/upgrade.ts), nothing else', () => {
    const up = ok('GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n')[0].head;
    assert.equal(up.tunnel, true);
    const connect = ok('CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n')[0].head;
    assert.equal(connect.tunnel, true);
    assert.equal(connect.upgrade, false);
    assert.equal(connect.authority, 'db:5432');
    assert.equal(ok('GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n')[0].head.tunnel, false);
    assert.equal(ok('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n')[0].head.tunnel, false);
    const ten = ok('GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', LIMITS_10)[0].head;
    assert.equal(ten.tunnel, false, 'RFC 9110 §7.8: Upgrade is ignored in HTTP/1.0');
  });

  it('takes the authority from absolute-form and CONNECT targets', () => {
    const abs = ok('GET http://Example.com:81/p?q HTTP/1.1\r\nHost: other\r\n\r\n')[0].head;
    assert.equal(abs.authority, 'Example.com:81');
    assert.equal(abs.target, 'http://Example.com:81/p?q');
    assert.equal(ok('GET https://h HTTP/1.1\r\nHost: h\r\n\r\n')[0].head.authority, 'h');
    const con = ok('CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n')[0].head;
    assert.equal(con.authority, 'db.internal:5432');
    assert.equal(ok('OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n')[0].head.target, '*');
    assert.equal(
      ok('M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n'.replace('M-SEARCH *', 'PURGE /x'))[0].head.method,
      'PURGE',
    );
  });

  it('keeps a GET without Content-Length/Transfer-Encoding at length 0', () => {
    const r = parseRequests('GET / HTTP/1.1\r\nHost: h\r\n\r\nxyz');
    assert.equal(r.messages[0].complete, true);
    assert.equal(r.messages[0].body.length, 0);
    // The extra bytes are the start of the next request line.
    assert.equal(r.error, null);
    assert.equal(r.messages.length, 1);
  });

  it('finish(): null between messages, premature_eof mid-message', () => {
    assert.equal(
      parseRequests('GET / HTTP/1.1\r\nHost: h\r\n\r\n', [], DEFAULT_PARSER_LIMITS, true).error,
      null,
    );
    assert.equal(parseRequests('', [], DEFAULT_PARSER_LIMITS, true).error, null);
    for (const partial of [
      'GET / HT',
      'GET / HTTP/1.1\r\nHost: h\r\n',
      'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab',
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n',
    ]) {
      const r = parseRequests(partial, [], DEFAULT_PARSER_LIMITS, true);
      assert.equal(r.error?.details, 'http1.premature_eof', partial);
      assert.equal(r.error?.status, 400);
    }
  });

  it('refuses all input after an error until reset()', () => {
    const rec = new RequestRecorder();
    const p = new RequestParser(rec, DEFAULT_PARSER_LIMITS);
    assert.equal(p.execute(Buffer.from('GET / HTTP/1.1\r\nBad Name: x\r\n\r\n')), 16);
    assert.equal(p.error?.details, 'http1.invalid_header_name');
    assert.equal(p.execute(Buffer.from('GET / HTTP/1.1\r\nHost: h\r\n\r\n')), 0);
    assert.equal(p.finish(), p.error);
    p.reset();
    assert.equal(p.error, null);
    const good = Buffer.from('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    assert.equal(p.execute(good), good.length);
    assert.equal(rec.messages.length, 1);
  });
});

describe('RequestParser: rejections', () => {
  const H = 'Host: h\r\n';
  const cases: Array<[string, string, number, string, ParserLimits?]> = [
    // request line
    ['double SP after method', 'GET  / HTTP/1.1\r\n\r\n', 400, 'http1.codec_error'],
    ['double SP after target', 'GET /  HTTP/1.1\r\n\r\n', 400, 'http1.codec_error'],
    ['tab separator', 'GET\t/ HTTP/1.1\r\n\r\n', 400, 'http1.invalid_method'],
    ['method with invalid char', 'G(T / HTTP/1.1\r\n\r\n', 400, 'http1.invalid_method'],
    ['leading SP', ' GET / HTTP/1.1\r\n\r\n', 400, 'http1.codec_error'],
    ['target with DEL', 'GET /\x7f HTTP/1.1\r\n\r\n', 400, 'http1.invalid_url'],
    ['target with obs byte', 'GET /\xff HTTP/1.1\r\n\r\n', 400, 'http1.invalid_url'],
    ['target with NUL', 'GET /\x00 HTTP/1.1\r\n\r\n', 400, 'http1.invalid_url'],
    ['bare CR in request line', 'GET /\r HTTP/1.1\r\n\r\n', 400, 'http1.bare_cr'],
    ['HTTP/0.9 shape', 'GET /\r\n\r\n', 400, 'http1.codec_error'],
    ['relative target', 'GET a/b HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'http1.invalid_url'],
    ['* for GET', 'GET * HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'http1.invalid_url'],
    ['CONNECT without port', 'CONNECT host HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'http1.invalid_url'],
    ['CONNECT origin-form', 'CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'http1.invalid_url'],
    ['absolute-form with userinfo', 'GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'http1.invalid_url'],
    ['absolute-form empty authority', 'GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'http1.invalid_url'],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', 505, 'http1.unsupported_version'],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: h\r\n\r\n', 505, 'http1.unsupported_version'],
    ['HTTP/0.9 version', 'GET / HTTP/0.9\r\nHost: h\r\n\r\n', 505, 'http1.unsupported_version'],
    ['lower-case version', 'GET / http/1.1\r\nHost: h\r\n\r\n', 400, 'http1.codec_error'],
    ['version garbage', 'GET / HTTP/1.1x\r\nHost: h\r\n\r\n', 400, 'http1.codec_error'],
    ['version with trailing SP', 'GET / HTTP/1.1 \r\nHost: h\r\n\r\n', 400, 'http1.codec_error'],
    ['HTTP/1.0 not accepted', 'GET / HTTP/1.0\r\n\r\n', 426, 'http1.low_version'],
    ['bare LF request line', 'GET / HTTP/1.1\nHost: h\r\n\r\n', 400, 'http1.bare_lf'],
    ['bare LF empty line first', '\nGET / HTTP/1.1\r\n\r\n', 400, 'http1.bare_lf'],
    // header fields
    ['bare LF header line', `GET / HTTP/1.1\r\n${H}X: y\n\r\n`, 400, 'http1.bare_lf'],
    ['bare LF end of head', `GET / HTTP/1.1\r\n${H}\n`, 400, 'http1.bare_lf'],
    ['bare CR in value', `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`, 400, 'http1.bare_cr'],
    ['bare CR line', `GET / HTTP/1.1\r\n${H}\rX: y\r\n\r\n`, 400, 'http1.bare_cr'],
    ['NUL in value', `GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n`, 400, 'http1.invalid_characters'],
    ['control char in value', `GET / HTTP/1.1\r\n${H}X: a\x01\r\n\r\n`, 400, 'http1.invalid_characters'],
    ['DEL in value', `GET / HTTP/1.1\r\n${H}X: a\x7f\r\n\r\n`, 400, 'http1.invalid_characters'],
    ['obs-fold', `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`, 400, 'http1.obs_fold'],
    ['whitespace before first header', `GET / HTTP/1.1\r\n ${H}\r\n`, 400, 'http1.whitespace_line'],
    ['space before colon', `GET / HTTP/1.1\r\n${H}X : y\r\n\r\n`, 400, 'http1.whitespace_before_colon'],
    ['tab before colon', `GET / HTTP/1.1\r\n${H}X\t: y\r\n\r\n`, 400, 'http1.whitespace_before_colon'],
    ['space in name', `GET / HTTP/1.1\r\n${H}X Y: z\r\n\r\n`, 400, 'http1.invalid_header_name'],
    ['non-token name', `GET / HTTP/1.1\r\n${H}X(Y): z\r\n\r\n`, 400, 'http1.invalid_header_name'],
    ['no colon', `GET / HTTP/1.1\r\n${H}XY\r\n\r\n`, 400, 'http1.missing_colon'],
    ['empty name', `GET / HTTP/1.1\r\n${H}: z\r\n\r\n`, 400, 'http1.missing_colon'],
    // host
    ['missing host on 1.1', 'GET / HTTP/1.1\r\nX: y\r\n\r\n', 400, 'http1.missing_host'],
    ['two hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n', 400, 'http1.multiple_host'],
    ['empty host', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', 400, 'http1.invalid_host'],
    ['host with space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400, 'http1.invalid_host'],
    ['host with userinfo', 'GET / HTTP/1.1\r\nHost: u@h\r\n\r\n', 400, 'http1.invalid_host'],
    ['host with slash', 'GET / HTTP/1.1\r\nHost: h/x\r\n\r\n', 400, 'http1.invalid_host'],
    // content-length
    [
      'CL not digits',
      `POST / HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`,
      400,
      'http1.invalid_content_length',
    ],
    [
      'CL plus sign',
      `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\n`,
      400,
      'http1.invalid_content_length',
    ],
    ['CL negative', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 400, 'http1.invalid_content_length'],
    ['CL hex', `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\n`, 400, 'http1.invalid_content_length'],
    ['CL empty', `POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n`, 400, 'http1.invalid_content_length'],
    [
      'CL inner space',
      `POST / HTTP/1.1\r\n${H}Content-Length: 1 2\r\n\r\n`,
      400,
      'http1.invalid_content_length',
    ],
    [
      'CL empty list element',
      `POST / HTTP/1.1\r\n${H}Content-Length: 1,,1\r\n\r\n`,
      400,
      'http1.invalid_content_length',
    ],
    [
      'CL differing list',
      `POST / HTTP/1.1\r\n${H}Content-Length: 0, 5\r\n\r\n`,
      400,
      'http1.duplicate_content_length',
    ],
    [
      'CL differing lines',
      `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`,
      400,
      'http1.duplicate_content_length',
    ],
    [
      'CL too large',
      `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`,
      400,
      'http1.content_length_too_large',
    ],
    [
      'CL huge',
      `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\n`,
      400,
      'http1.content_length_too_large',
    ],
    // transfer-encoding
    [
      'CL and TE',
      `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`,
      400,
      'http1.content_length_and_chunked_not_allowed',
    ],
    [
      'TE gzip',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`,
      501,
      'http1.unsupported_transfer_encoding',
    ],
    [
      'TE identity',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`,
      501,
      'http1.unsupported_transfer_encoding',
    ],
    [
      'TE gzip, chunked',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`,
      501,
      'http1.unsupported_transfer_encoding',
    ],
    [
      'TE chunked, gzip',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`,
      400,
      'http1.chunked_not_final',
    ],
    [
      'TE chunked twice',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`,
      400,
      'http1.invalid_transfer_encoding',
    ],
    [
      'TE with params',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;q=1\r\n\r\n`,
      400,
      'http1.invalid_transfer_encoding',
    ],
    ['TE empty', `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n\r\n`, 400, 'http1.invalid_transfer_encoding'],
    [
      'TE in HTTP/1.0',
      'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
      'http1.transfer_encoding_in_http10',
      LIMITS_10,
    ],
    // chunked body
    [
      'chunk size not hex',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n`,
      400,
      'http1.invalid_chunk_size',
    ],
    [
      'chunk size leading SP',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n`,
      400,
      'http1.invalid_chunk_size',
    ],
    [
      'chunk size trailing SP',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`,
      400,
      'http1.invalid_chunk_size',
    ],
    [
      'chunk size 0x',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`,
      400,
      'http1.invalid_chunk_size',
    ],
    [
      'chunk size +',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n`,
      400,
      'http1.invalid_chunk_size',
    ],
    [
      'chunk size overflow',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n`,
      400,
      'http1.chunk_size_overflow',
    ],
    [
      'chunk size > 2^53',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n20000000000000\r\n`,
      400,
      'http1.chunk_size_overflow',
    ],
    [
      'chunk size bare LF',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`,
      400,
      'http1.invalid_chunk_size',
    ],
    [
      'chunk size bare CR',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n`,
      400,
      'http1.invalid_chunk_size',
    ],
    [
      'chunk ext bad char',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a@b\r\nhello\r\n0\r\n\r\n`,
      400,
      'http1.invalid_chunk_extension',
    ],
    [
      'chunk ext empty name',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;=b\r\nhello\r\n0\r\n\r\n`,
      400,
      'http1.invalid_chunk_extension',
    ],
    [
      'chunk ext unterminated quote',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a="b\r\nhello\r\n0\r\n\r\n`,
      400,
      'http1.invalid_chunk_extension',
    ],
    [
      'chunk ext too long',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=${'b'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`,
      400,
      'http1.chunk_extension_too_long',
    ],
    [
      'chunk data without CRLF',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n`,
      400,
      'http1.missing_chunk_crlf',
    ],
    [
      'chunk data with bare LF',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`,
      400,
      'http1.missing_chunk_crlf',
    ],
    [
      'bad trailer',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n`,
      400,
      'http1.invalid_header_name',
    ],
    [
      'trailer bare LF',
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nT: x\n\r\n`,
      400,
      'http1.bare_lf',
    ],
  ];
  for (const [name, raw, status, details, limits] of cases) {
    it(`${name} -> ${status} ${details}`, () => rejects(raw, status, details, limits));
  }

  it('431 when the head exceeds maxHeaderBytes (whole head, incl. request line), also when split', () => {
    const limits = { ...DEFAULT_PARSER_LIMITS, maxHeaderBytes: 64 };
    const head = 'GET / HTTP/1.1\r\nHost: h\r\nX: 123456789012345678901234567890abc\r\n'; // 63 bytes
    assert.equal(head.length, 63);
    assert.equal(parseRequests(`${head}\r\n`, [], { ...limits, maxHeaderBytes: 65 }).error, null);
    rejects(`${head}\r\n`, 431, 'http1.headers_too_large', limits);
    rejects(`GET /${'a'.repeat(100)} HTTP/1.1\r\n`, 431, 'http1.headers_too_large', limits);
    const split = parseRequests(`GET /${'a'.repeat(100)}`, [10, 20, 30, 40, 50, 60, 70], limits);
    assert.equal(split.error?.status, 431);
    // CRLFs before the request line count too, so an endless stream of them is bounded.
    rejects('\r\n'.repeat(40), 431, 'http1.headers_too_large', limits);
  });

  it('431 when there are more than maxHeaderCount fields; trailers get the same limits', () => {
    const limits = { ...DEFAULT_PARSER_LIMITS, maxHeaderCount: 3 };
    assert.equal(parseRequests('GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n', [], limits).error, null);
    rejects(
      'GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n',
      431,
      'http1.too_many_headers',
      limits,
    );
    const te = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n';
    assert.equal(parseRequests(`${te}A: 1\r\nB: 2\r\nC: 3\r\n\r\n`, [], limits).error, null);
    rejects(`${te}A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n`, 431, 'http1.too_many_trailers', limits);
    rejects(`${te}A: ${'x'.repeat(100)}\r\n\r\n`, 431, 'http1.trailers_too_large', {
      ...DEFAULT_PARSER_LIMITS,
      maxHeaderBytes: 80,
    });
  });
});

function summarize(ms: ReturnType<typeof parseRequests>['messages']) {
  return ms.map((m) => ({
    head: m.head,
    body: m.body.toString('latin1'),
    trailers: m.trailers,
    complete: m.complete,
  }));
}
