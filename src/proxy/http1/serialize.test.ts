// Tests for the head serializers: byte-exact output, framing headers written by the
// serializer, and round trips through Weft's own parsers.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createResponseParser, parseRequests } from './parse-recorder.js';
import {
  CHUNK_END,
  CRLF,
  chunkHeader,
  reasonPhrase,
  requestHeadBytes,
  responseHeadBytes,
} from './serialize.js';

/** The heads as text (latin1), to compare with string literals. */
const requestHead = (...a: Parameters<typeof requestHeadBytes>) => requestHeadBytes(...a).toString('latin1');
const responseHead = (...a: Parameters<typeof responseHeadBytes>) =>
  responseHeadBytes(...a).toString('latin1');

describe('serialize', () => {
  it('writes a request head with host first and the framing header last', () => {
    const s = requestHead('POST', '/a?b', 'svc:8080', ['x-a', '1', 'accept', '*/*'], {
      kind: 'length',
      length: 12,
    });
    assert.equal(
      s,
      'POST /a?b HTTP/1.1\r\nhost: svc:8080\r\nx-a: 1\r\naccept: */*\r\ncontent-length: 12\r\n\r\n',
    );
    assert.equal(requestHead('GET', '/', 'h', [], { kind: 'none' }), 'GET / HTTP/1.1\r\nhost: h\r\n\r\n');
    assert.equal(
      requestHead('PUT', '/', 'h', [], { kind: 'chunked' }),
      'PUT / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n',
    );
  });

  it('writes response heads with standard reason phrases and the given version', () => {
    assert.equal(
      responseHead(404, ['x', 'y'], { kind: 'length', length: 0 }),
      'HTTP/1.1 404 Not Found\r\nx: y\r\ncontent-length: 0\r\n\r\n',
    );
    assert.equal(responseHead(200, [], { kind: 'none' }, 0), 'HTTP/1.0 200 OK\r\n\r\n');
    assert.equal(reasonPhrase(431), 'Request Header Fields Too Large');
    assert.equal(reasonPhrase(426), 'Upgrade Required');
    assert.equal(reasonPhrase(299), 'Unknown');
  });

  it('writes the bytes of the text head, each character as its low byte, short and long fields alike', () => {
    // Fields below and above the length where the writer switches to Buffer#write, a
    // latin1 character, and one outside latin1 (written as its low byte, as a latin1
    // socket write would).
    const long = `v${'0123456789'.repeat(12)}`;
    const headers = ['x-short', 'a', 'x-long', long, `x-${'n'.repeat(70)}`, 'caf\xe9', 'x-wide', 'a\u2014b'];
    const text = (fields: string[]) => fields.map((f, i) => (i % 2 === 0 ? `${f}: ` : `${f}\r\n`)).join('');
    const framings = [
      { kind: 'none' } as const,
      { kind: 'chunked' } as const,
      { kind: 'length', length: 1234567 } as const,
    ];
    for (const framing of framings) {
      const fl =
        framing.kind === 'length'
          ? `content-length: ${framing.length}\r\n`
          : framing.kind === 'chunked'
            ? 'transfer-encoding: chunked\r\n'
            : '';
      assert.deepEqual(
        requestHeadBytes('DELETE', `/p?${long}`, 'svc.example:8443', headers, framing),
        Buffer.from(
          `DELETE /p?${long} HTTP/1.1\r\nhost: svc.example:8443\r\n${text(headers)}${fl}\r\n`,
          'latin1',
        ),
      );
      assert.deepEqual(
        responseHeadBytes(502, headers, framing, 0),
        Buffer.from(`HTTP/1.0 502 Bad Gateway\r\n${text(headers)}${fl}\r\n`, 'latin1'),
      );
    }
    assert.deepEqual(
      responseHeadBytes(299, [], { kind: 'none' }),
      Buffer.from('HTTP/1.1 299 Unknown\r\n\r\n'),
    );
  });

  it('writes chunk framing', () => {
    assert.equal(chunkHeader(255), 'ff\r\n');
    assert.equal(chunkHeader(1), '1\r\n');
    assert.equal(CHUNK_END, '0\r\n\r\n');
    assert.equal(CRLF, '\r\n');
  });

  it('round-trips through the request parser (chunked body)', () => {
    const body = Buffer.from('x'.repeat(300));
    const wire =
      requestHead('POST', '/up', 'h.example', ['x-v', 'caf\xe9'], { kind: 'chunked' }) +
      chunkHeader(body.length) +
      body.toString('latin1') +
      CRLF +
      CHUNK_END;
    const r = parseRequests(wire);
    assert.equal(r.error, null);
    const m = r.messages[0];
    assert.equal(m.head.authority, 'h.example');
    assert.deepEqual(m.head.headers, ['x-v', 'caf\xe9', 'transfer-encoding', 'chunked']);
    assert.deepEqual(m.body, body);
  });

  it('round-trips through the response parser', () => {
    const { parser, rec } = createResponseParser();
    parser.expect('GET');
    parser.execute(
      Buffer.from(`${responseHead(503, ['retry-after', '5'], { kind: 'length', length: 4 })}busy`, 'latin1'),
    );
    assert.equal(rec.messages[0].head.statusCode, 503);
    assert.equal(rec.messages[0].head.reason, 'Service Unavailable');
    assert.equal(rec.messages[0].body.toString(), 'busy');
  });
});
