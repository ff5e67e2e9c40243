// HPACK: the RFC 7541 Appendix C examples, Huffman round trips and invalid padding, the
// decoder's limits and malformed blocks, and both directions against nghttp2 (node:http2's
// client): its header blocks decoded here, and blocks encoded here decoded by it.

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { describe, it } from 'node:test';
import type { HeaderList } from '../../http/headers.js';
import {
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_PADDED,
  FLAG_PRIORITY,
  FRAME_HEADERS,
  FRAME_SETTINGS,
  type FrameHandler,
  type FrameWriter,
} from '../frames.js';
import { startFrameServer } from '../testing/frame-server.js';
import { HpackDecoder, HpackError } from './decoder.js';
import { encodeHeaderBlock, headerBlockBound } from './encoder.js';
import { huffmanDecode, huffmanDecodedBound, huffmanEncode, huffmanEncodedLength } from './huffman.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decodeHuffman(bytes: Buffer): string | null {
  const out = Buffer.alloc(huffmanDecodedBound(bytes.length));
  const n = huffmanDecode(bytes, 0, bytes.length, out);
  return n < 0 ? null : out.toString('latin1', 0, n);
}

function encodeHuffman(s: string): Buffer {
  const out = Buffer.alloc(huffmanEncodedLength(s));
  assert.equal(huffmanEncode(s, out, 0), out.length);
  return out;
}

/** The request of RFC 7541 C.3.1 / C.4.1. */
const EXAMPLE_REQUEST: HeaderList = [
  ':method',
  'GET',
  ':scheme',
  'http',
  ':path',
  '/',
  ':authority',
  'www.example.com',
];

function decoder(maxHeaderListSize = 65536): HpackDecoder {
  return new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize });
}

function decodeAll(d: HpackDecoder, block: Buffer): HeaderList {
  const out: HeaderList = [];
  d.decode(block, 0, block.length, out);
  return out;
}

describe('HPACK Huffman code', () => {
  it('codes RFC 7541 C.4.1 "www.example.com" both ways', () => {
    const coded = hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff');
    assert.deepEqual(encodeHuffman('www.example.com'), coded);
    assert.equal(decodeHuffman(coded), 'www.example.com');
  });

  it('round-trips every byte value and random strings', () => {
    let all = '';
    for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
    assert.equal(decodeHuffman(encodeHuffman(all)), all);
    let seed = 7;
    for (let i = 0; i < 300; i++) {
      let s = '';
      const len = i % 40;
      for (let j = 0; j < len; j++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        s += String.fromCharCode(i % 3 === 0 ? seed % 256 : 0x20 + (seed % 95));
      }
      assert.equal(decodeHuffman(encodeHuffman(s)), s);
    }
  });

  it('refuses padding longer than 7 bits, padding that is not ones, and EOS', () => {
    const coded = encodeHuffman('abc'); // 5+6+5 = 16 bits: no padding
    assert.equal(decodeHuffman(Buffer.concat([coded, Buffer.from([0xff])])), null, '8 bits of padding');
    assert.equal(decodeHuffman(hex('1f')), 'a', "'a' (00011) then 111: valid padding");
    assert.equal(decodeHuffman(hex('18')), null, "'a' (00011) then 000 padding");
    assert.equal(decodeHuffman(hex('1fff')), null, 'a full byte of ones after the padding');
    assert.equal(decodeHuffman(hex('ffff fffc')), null, 'EOS (30 ones) in the string');
    assert.equal(decodeHuffman(hex('')), '');
  });
});

describe('HpackDecoder', () => {
  it('decodes RFC 7541 C.3 (requests without Huffman) with the dynamic table', () => {
    const d = decoder();
    assert.deepEqual(decodeAll(d, hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d')), EXAMPLE_REQUEST);
    assert.deepEqual(d.dynamicTable, { entries: 1, size: 57 });
    assert.deepEqual(decodeAll(d, hex('8286 84be 5808 6e6f 2d63 6163 6865')), [
      ...EXAMPLE_REQUEST,
      'cache-control',
      'no-cache',
    ]);
    assert.deepEqual(d.dynamicTable, { entries: 2, size: 110 });
  });

  it('decodes RFC 7541 C.4.1 (Huffman)', () => {
    assert.deepEqual(
      decodeAll(decoder(), hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')),
      EXAMPLE_REQUEST,
    );
  });

  it('evicts the oldest entries when the table is full, and applies size updates', () => {
    const d = decoder();
    const big = 'v'.repeat(2000);
    // Literal with incremental indexing, new name 'x-a' / 'x-b' / 'x-c', each 2035 bytes.
    const literal = (name: string): Buffer =>
      Buffer.concat([Buffer.from([0x40, name.length]), Buffer.from(name), hex('7f d1 0e'), Buffer.from(big)]);
    decodeAll(d, Buffer.concat([literal('x-a'), literal('x-b')]));
    assert.deepEqual(d.dynamicTable, { entries: 2, size: 2 * 2035 });
    decodeAll(d, literal('x-c'));
    assert.deepEqual(d.dynamicTable, { entries: 2, size: 2 * 2035 }, 'x-a was evicted');
    assert.deepEqual(decodeAll(d, hex('be bf')), ['x-c', big, 'x-b', big]);
    assert.throws(() => decodeAll(d, hex('c0')), /index 64 is not in the table/);
    decodeAll(d, hex('20')); // size update to 0 empties the table
    assert.deepEqual(d.dynamicTable, { entries: 0, size: 0 });
    assert.throws(() => decodeAll(d, hex('3fe21f')), /size update to 4097 exceeds the limit 4096/);
    assert.throws(() => decodeAll(d, hex('82 20')), /size update after a field/);
  });

  it('refuses malformed blocks with an HpackError', () => {
    const bad: Array<[string, RegExp]> = [
      ['80', /index 0/],
      ['ff', /integer runs past the end/],
      ['ffffffffff0f', /integer too large/],
      ['0003 6162', /runs past the end/],
      ['00', /string literal missing/],
      ['0001 61 81 18', /invalid Huffman/],
    ];
    for (const [block, message] of bad) {
      assert.throws(
        () => decodeAll(decoder(), hex(block)),
        (err: unknown) => err instanceof HpackError && message.test(err.message),
        block,
      );
    }
  });

  it('stops a block that expands past maxHeaderListSize (HPACK bomb) as it decodes', () => {
    const d = decoder(16 * 1024);
    // One 4000-byte entry, then 1000 one-byte references to it: ~4 MB if fully decoded.
    const insert = Buffer.concat([hex('40 01 78 7f a1 1e'), Buffer.alloc(3998, 0x61)]);
    const block = Buffer.concat([insert, Buffer.alloc(1000, 0xbe)]);
    assert.throws(
      () => decodeAll(d, block),
      (err: unknown) => err instanceof HpackError && err.tooLarge && /larger than 16384/.test(err.message),
    );
  });
});

/** A connection that hands each request's header block to onHeaders, which replies with a block. */
function headersConnection(
  onHeaders: (block: Buffer, stream: number, reply: (block: Buffer) => void) => void,
) {
  return (writer: FrameWriter): FrameHandler => ({
    onFrame(type, flags, stream, payload, start, end) {
      if (type === FRAME_SETTINGS && (flags & FLAG_ACK) === 0) writer.settingsAck();
      if (type !== FRAME_HEADERS) return;
      assert.equal(flags & FLAG_END_HEADERS, FLAG_END_HEADERS, 'no CONTINUATION in these tests');
      let from = start;
      let to = end;
      if (flags & FLAG_PADDED) to -= payload[from++];
      if (flags & FLAG_PRIORITY) from += 5;
      onHeaders(Buffer.from(payload.subarray(from, to)), stream, (block) =>
        writer.headers(stream, block, 0, block.length, true),
      );
    },
  });
}

describe('HPACK against nghttp2 (node:http2)', () => {
  it("decodes the client's blocks, dynamic table included, and the client decodes ours", async () => {
    const d = decoder();
    const seen: HeaderList[] = [];
    const server = await startFrameServer(
      headersConnection((block, stream, reply) => {
        const fields = decodeAll(d, block);
        seen.push(fields);
        const n = seen.length;
        const response: HeaderList = [
          ':status',
          n % 2 === 0 ? '200' : '404',
          'content-type',
          'text/plain; charset=utf-8',
          'x-echo-stream',
          String(stream),
          'x-bytes',
          `caf\u00e9 \u00ff ${'z'.repeat(n * 37)}`,
          'set-cookie',
          `id=${n}`,
        ];
        const out = Buffer.alloc(headerBlockBound(response));
        reply(out.subarray(0, encodeHeaderBlock(response, out, 0)));
      }),
    );
    const client = http2.connect(server.url);
    try {
      for (let i = 0; i < 40; i++) {
        const sent = {
          ':method': i % 3 === 0 ? 'POST' : 'GET',
          ':path': `/items/${i}?q=${'p'.repeat(i * 11)}`,
          'user-agent': 'weft-hpack-test/1.0',
          'x-trace': `t-${i % 4}`,
          'x-large': 'L'.repeat(300 + ((i * 97) % 900)),
          cookie: `session=${i}`,
        };
        const got = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
          const req = client.request(sent, { endStream: true });
          req.on('response', resolve);
          req.on('error', reject);
          req.resume();
        });
        const fields = seen[i];
        const byName = new Map<string, string>();
        for (let f = 0; f < fields.length; f += 2) byName.set(fields[f], fields[f + 1]);
        for (const [name, value] of Object.entries(sent))
          assert.equal(byName.get(name), value, `${i} ${name}`);
        assert.equal(byName.get(':authority'), new URL(server.url).host);
        const n = i + 1;
        assert.equal(got[':status'], n % 2 === 0 ? 200 : 404);
        assert.equal(got['content-type'], 'text/plain; charset=utf-8');
        assert.equal(got['x-bytes'], `caf\u00e9 \u00ff ${'z'.repeat(n * 37)}`, 'latin1 bytes');
        assert.deepEqual(got['set-cookie'], [`id=${n}`]);
      }
      assert.ok(d.dynamicTable.entries > 0, "the client's encoder used the dynamic table");
    } finally {
      client.close();
      server.close();
    }
  });
});
