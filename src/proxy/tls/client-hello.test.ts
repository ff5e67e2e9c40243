// The ClientHello parser on real ClientHellos (captured from node:tls clients over a
// loopback socket), split at every byte, re-framed into several records, and fuzzed.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { connect } from 'node:tls';
import { seededRandom } from '../../core/seeded-random.js';
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from './client-hello.js';

/** The first bytes a node:tls client sends with these options. */
async function captureClientHello(opts: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        if (all.length >= 5 && all.length >= 5 + all.readUInt16BE(3)) {
          s.destroy();
          resolve(all);
        }
      });
    });
  });
  const c = connect({ port, host: '127.0.0.1', ...opts });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

/** Splits one handshake record into records of at most `size` payload bytes. */
function reframe(hello: Buffer, size: number): Buffer {
  const payload = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  for (let i = 0; i < payload.length; i += size) {
    const part = payload.subarray(i, Math.min(payload.length, i + size));
    const head = Buffer.from([22, 3, 1, 0, 0]);
    head.writeUInt16BE(part.length, 3);
    out.push(head, part);
  }
  return Buffer.concat(out);
}

describe('parseClientHello', () => {
  it('finds SNI and ALPN in a real ClientHello, and needs more at every shorter prefix', async () => {
    const hello = await captureClientHello({
      servername: 'API.Example.com',
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    const r = parseClientHello(hello);
    assert.deepEqual(r, { kind: 'client_hello', serverName: 'api.example.com', alpn: ['h2', 'http/1.1'] });
    for (let n = 0; n < hello.length; n++)
      assert.equal(parseClientHello(hello.subarray(0, n)).kind, 'need_more', `prefix ${n}`);
  });

  it('reports no SNI and no ALPN when the client sent none', async () => {
    const hello = await captureClientHello({});
    assert.deepEqual(parseClientHello(hello), { kind: 'client_hello', serverName: '', alpn: [] });
  });

  it('reassembles a ClientHello split over several records', async () => {
    const hello = await captureClientHello({ servername: 'a.test', ALPNProtocols: ['h2'] });
    for (const size of [1, 3, 50, 200]) {
      const framed = reframe(hello, size);
      assert.deepEqual(parseClientHello(framed), {
        kind: 'client_hello',
        serverName: 'a.test',
        alpn: ['h2'],
      });
      assert.equal(parseClientHello(framed.subarray(0, framed.length - 1)).kind, 'need_more');
    }
  });

  it('says not_tls for plaintext and for a non-ClientHello handshake', () => {
    assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'not_tls');
    assert.equal(parseClientHello(Buffer.from('PRI * HTTP/2.0\r\n')).kind, 'not_tls');
    assert.equal(parseClientHello(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0])).kind, 'not_tls');
    assert.equal(parseClientHello(Buffer.from([22, 9, 1, 0, 4])).kind, 'not_tls');
  });

  it('says too_large past the limit instead of buffering forever', () => {
    // A ClientHello that claims 1 MiB.
    const claim = Buffer.from([22, 3, 1, 0, 4, 1, 0x10, 0x00, 0x00]);
    assert.equal(parseClientHello(claim).kind, 'too_large');
    // Many small records that never complete the message.
    const rec = Buffer.from([22, 3, 1, 0, 4, 1, 0x00, 0xff, 0xff]);
    const parts = [rec];
    const filler = Buffer.from([22, 3, 1, 0, 200, ...new Array(200).fill(0)]);
    while (Buffer.concat(parts).length <= MAX_CLIENT_HELLO_BYTES) parts.push(filler);
    assert.equal(parseClientHello(Buffer.concat(parts)).kind, 'too_large');
  });

  it('never throws on mutated or truncated ClientHellos (fuzz)', async () => {
    const hello = await captureClientHello({ servername: 'fuzz.test', ALPNProtocols: ['h2', 'x'] });
    const random = seededRandom(7);
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.from(hello);
      const flips = 1 + Math.floor(random() * 4);
      for (let j = 0; j < flips; j++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
      const cut = b.subarray(0, Math.floor(random() * (b.length + 1)));
      const r = parseClientHello(cut);
      assert.ok(['need_more', 'not_tls', 'too_large', 'client_hello'].includes(r.kind));
    }
  });
});
