// Unit tests for the upstream response parser: status line, RFC 9112 §6.3 message
// length (HEAD, 1xx, 204, 304, CONNECT, close-delimited), interim responses, splitting,
// and the 502 mapping of every upstream protocol error.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createResponseParser } from './parse-recorder.js';
import { DEFAULT_PARSER_LIMITS } from './request-parser.js';

function feed(raw: string, method = 'GET', cuts: number[] = [], eof = false) {
  const { parser, rec } = createResponseParser();
  parser.expect(method);
  const buf = Buffer.from(raw, 'latin1');
  let consumed = 0;
  let prev = 0;
  for (const cut of [...cuts, buf.length]) {
    consumed += parser.execute(buf.subarray(prev, cut));
    prev = cut;
    if (parser.error !== null) break;
  }
  const finishError = eof ? parser.finish() : null;
  return { parser, rec, consumed, finishError };
}

describe('ResponseParser', () => {
  it('parses a Content-Length response, split at every byte boundary', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Y:  z \r\n\r\nhello';
    for (let cut = 0; cut <= raw.length; cut++) {
      const { rec, consumed, parser } = feed(raw, 'GET', [cut]);
      assert.equal(parser.error, null);
      assert.equal(consumed, raw.length);
      assert.equal(rec.messages.length, 1, `cut ${cut}`);
      const m = rec.messages[0];
      assert.equal(m.head.statusCode, 200);
      assert.equal(m.head.reason, 'OK');
      assert.equal(m.head.versionMinor, 1);
      assert.deepEqual(m.head.headers, ['content-type', 'text/plain', 'content-length', '5', 'x-y', 'z']);
      assert.equal(m.head.keepAlive, true);
      assert.equal(m.body.toString(), 'hello');
      assert.equal(m.complete, true);
    }
  });

  it('decodes chunked responses with trailers', () => {
    const raw =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nGrpc-Status: 0\r\n\r\n';
    const { rec } = feed(raw);
    assert.equal(rec.messages[0].head.chunked, true);
    assert.equal(rec.messages[0].body.toString(), 'abcde');
    assert.deepEqual(rec.messages[0].trailers, ['grpc-status', '0']);
  });

  it('has no body for HEAD, 204 and 304 even with framing headers (RFC 9112 §6.3)', () => {
    for (const [method, status] of [
      ['HEAD', 200],
      ['GET', 204],
      ['GET', 304],
    ] as const) {
      const raw = `HTTP/1.1 ${status} X\r\nContent-Length: 10\r\n\r\n`;
      const { rec, consumed } = feed(`${raw}HTTP/1.1 200 OK\r\n`, method);
      assert.equal(rec.messages.length, 1);
      assert.equal(rec.messages[0].complete, true);
      assert.equal(rec.messages[0].body.length, 0);
      assert.equal(rec.messages[0].head.contentLength, 10);
      // Bytes after the response wait for the next expect().
      assert.equal(consumed, raw.length);
    }
    const chunkedHead = feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'HEAD');
    assert.equal(chunkedHead.rec.messages[0].complete, true);
    assert.equal(chunkedHead.rec.messages[0].head.chunked, false);
  });

  it('skips interim 1xx responses and reports them', () => {
    const raw =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok';
    for (let cut = 0; cut <= raw.length; cut += 7) {
      const { rec } = feed(raw, 'POST', [cut]);
      assert.deepEqual(
        rec.informational.map((h) => h.statusCode),
        [100, 103],
      );
      assert.deepEqual(rec.informational[1].headers, ['link', '</a>']);
      assert.equal(rec.messages.length, 1);
      assert.equal(rec.messages[0].head.statusCode, 201);
      assert.equal(rec.messages[0].body.toString(), 'ok');
    }
  });

  it('treats 101 and a 2xx to CONNECT as the start of a tunnel', () => {
    const raw =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello';
    const { rec, parser, consumed } = feed(raw);
    assert.equal(rec.messages[0].head.statusCode, 101);
    assert.equal(rec.messages[0].complete, true);
    assert.equal(parser.upgraded, true);
    assert.equal(consumed, raw.indexOf('\x81'));
    const connect = feed('HTTP/1.1 200 Connection Established\r\n\r\nrawbytes', 'CONNECT');
    assert.equal(connect.parser.upgraded, true);
    assert.equal(connect.consumed, 39);
  });

  it('reads a body without framing until EOF (close-delimited)', () => {
    const { parser, rec } = createResponseParser();
    parser.expect('GET');
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\nabc'));
    parser.execute(Buffer.from('def'));
    assert.equal(rec.messages[0].complete, false);
    assert.equal(rec.messages[0].head.keepAlive, false);
    assert.equal(parser.finish(), null);
    assert.equal(rec.messages[0].complete, true);
    assert.equal(rec.messages[0].body.toString(), 'abcdef');
  });

  it('parses keep-alive responses in sequence after expect()', () => {
    const { parser, rec } = createResponseParser();
    const two = Buffer.from(
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n',
    );
    parser.expect('GET');
    const n = parser.execute(two);
    assert.equal(rec.messages.length, 1);
    parser.expect('GET');
    assert.equal(parser.execute(two.subarray(n)), two.length - n);
    assert.equal(rec.messages[1].head.statusCode, 404);
    assert.equal(rec.messages[1].head.versionMinor, 0);
    assert.equal(rec.messages[1].head.keepAlive, false);
    assert.equal(parser.finish(), null);
  });

  it('accepts an empty reason with or without the SP', () => {
    assert.equal(feed('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n').rec.messages[0].head.reason, '');
    assert.equal(feed('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n').rec.messages[0].head.statusCode, 200);
  });

  it('reports premature EOF inside a framed body, nothing when idle', () => {
    assert.equal(
      feed('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', 'GET', [], true).finishError?.status,
      502,
    );
    assert.equal(
      feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', 'GET', [], true).finishError
        ?.status,
      502,
    );
    assert.equal(feed('HTTP/1.1 20', 'GET', [], true).finishError?.status, 502);
    assert.equal(feed('', 'GET', [], true).finishError, null);
  });

  const bad: Array<[string, string, string?]> = [
    ['CL and TE', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['conflicting CL', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'],
    ['TE gzip', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'],
    ['TE chunked not final', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
    ['TE in 1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['chunk overflow', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n'],
    ['chunk without CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab'],
    ['HTTP/2 status line', 'HTTP/2.0 200 OK\r\n\r\n'],
    ['garbage status line', 'HTTX/1.1 200 OK\r\n\r\n'],
    ['status 2 digits', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['status 600', 'HTTP/1.1 600 X\r\n\r\n'],
    ['status 099', 'HTTP/1.1 099 X\r\n\r\n'],
    ['status text glued', 'HTTP/1.1 200OK\r\n\r\n'],
    ['reason with NUL', 'HTTP/1.1 200 O\x00K\r\n\r\n'],
    ['bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0\n\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n'],
    ['space before colon', 'HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n'],
    ['empty line first', '\r\nHTTP/1.1 200 OK\r\n\r\n'],
  ];
  for (const [name, raw] of bad) {
    it(`502 upstream_protocol_error: ${name}`, () => {
      const { parser, consumed, finishError } = feed(raw, 'GET', [], true);
      const err = parser.error ?? finishError;
      assert.ok(err !== null, `accepted ${JSON.stringify(raw)}`);
      assert.equal(err.status, 502);
      assert.equal(err.details, 'upstream_protocol_error');
      assert.match(err.message, /^upstream response: .*\(http1\.[a-z_0-9]+\)$/);
      assert.ok(consumed < raw.length || parser.error === null);
      assert.equal(parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), 0, 'input refused after an error');
    });
  }

  it('431-class limits also apply upstream (as 502)', () => {
    const { parser, rec } = createResponseParser({ ...DEFAULT_PARSER_LIMITS, maxHeaderBytes: 40 });
    parser.expect('GET');
    parser.execute(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(50)}\r\n\r\n`));
    assert.equal(parser.error?.status, 502);
    assert.match(parser.error?.message ?? '', /headers_too_large/);
    assert.equal(rec.messages.length, 0);
  });

  it('reset() makes a failed parser usable again', () => {
    const { parser, rec } = createResponseParser();
    parser.expect('GET');
    parser.execute(Buffer.from('garbage\r\n'));
    assert.notEqual(parser.error, null);
    parser.reset();
    parser.expect('GET');
    parser.execute(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'));
    assert.equal(parser.error, null);
    assert.equal(rec.messages[0].head.statusCode, 204);
  });
});

describe('ResponseParser property: split-invariant, never throws', () => {
  it('gives the same result whole and split for mutated responses (seeded)', () => {
    let seed = 0x1234;
    const rnd = () => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
      return ((seed ^ (seed >>> 13)) >>> 0) / 4294967296;
    };
    const edge = ['\r', '\n', '\x00', ' ', '\t', ':', '\x7f', '\xff', '0', ';'];
    for (let i = 0; i < 800; i++) {
      const body = 'x'.repeat(Math.floor(rnd() * 20));
      const kind = rnd();
      let raw =
        kind < 0.4
          ? `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nA: b\r\n\r\n${body}`
          : kind < 0.8
            ? `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\nT: v\r\n\r\n`
            : `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Nope\r\n\r\n${body}`;
      if (rnd() < 0.7) {
        const at = Math.floor(rnd() * raw.length);
        raw =
          raw.slice(0, at) + edge[Math.floor(rnd() * edge.length)] + raw.slice(at + (rnd() < 0.5 ? 1 : 0));
      }
      const outcome = (cuts: number[]) => {
        const r = feed(raw, 'GET', cuts, true);
        return {
          error: r.parser.error?.message ?? r.finishError?.message ?? null,
          messages: r.rec.messages.map((m) => [
            m.head.statusCode,
            m.head.headers,
            m.body.toString('latin1'),
            m.trailers,
          ]),
        };
      };
      const whole = outcome([]);
      const cut = Math.floor(rnd() * (raw.length + 1));
      assert.deepEqual(outcome([cut]), whole, JSON.stringify(raw));
    }
  });
});
