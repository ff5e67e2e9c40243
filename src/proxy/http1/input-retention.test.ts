// The parsers keep no reference to their input between messages. Input buffers are views
// of a whole read (on native sockets, of a whole loop turn's reads), so a parser holding
// one while its connection idles would keep that memory alive; an upstream pool's idle
// connections each held one (docs/benchmarks.md, "The fifteenth round").

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createResponseParser, RequestRecorder } from './parse-recorder.js';
import { DEFAULT_PARSER_LIMITS, RequestParser } from './request-parser.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs `use` on a fresh input buffer; true once nothing keeps that buffer alive. */
async function inputCollected(raw: string, use: (input: Buffer) => void): Promise<boolean> {
  const ref = ((): WeakRef<ArrayBufferLike> => {
    // Its own ArrayBuffer (Buffer.from would take a slice of Node's shared pool).
    const input = Buffer.alloc(raw.length);
    input.write(raw, 'latin1');
    use(input);
    return new WeakRef(input.buffer);
  })();
  // A WeakRef target stays alive until the job that made it ends.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return ref.deref() === undefined;
}

describe('HTTP/1 parsers and their input', () => {
  it('the request parser lets go of a request it has parsed', async () => {
    const rec = new RequestRecorder();
    const parser = new RequestParser(rec, DEFAULT_PARSER_LIMITS);
    const raw = 'GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n';
    assert.ok(await inputCollected(raw, (input) => parser.execute(input)));
    assert.ok(await inputCollected(raw, (input) => parser.execute(input)));
    assert.equal(rec.messages.length, 2);
    assert.equal(rec.messages[1].head.target, '/a');
  });

  it('the response parser lets go of a chunked response with its last chunk and trailers', async () => {
    const { parser, rec } = createResponseParser();
    for (const raw of [
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n',
    ]) {
      parser.expect('GET');
      assert.ok(await inputCollected(raw, (input) => parser.execute(input)), raw);
    }
    assert.equal(rec.messages.length, 3);
    assert.deepEqual(rec.messages[2].trailers, ['x-t', '1']);
  });

  it('a head split across reads is copied, so the parser keeps only its own copy', async () => {
    const rec = new RequestRecorder();
    const parser = new RequestParser(rec, DEFAULT_PARSER_LIMITS);
    assert.ok(await inputCollected('GET /b HTTP/1.1\r\nHo', (input) => parser.execute(input)));
    parser.execute(Buffer.from('st: x\r\n\r\n', 'latin1'));
    assert.equal(rec.messages[0].head.target, '/b');
  });
});
