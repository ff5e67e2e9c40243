// HPACK header block encoding (RFC 7541 §6) without a dynamic table: a field that is in
// the static table with its value is one indexed byte; every other field is a literal
// without indexing, naming the static entry when its name is there. Strings are
// Huffman-coded when that is shorter. The peer's decoder needs no table state from us, so
// blocks can be encoded in any order and a lost stream never desynchronises the connection.

import type { HeaderList } from '../../http/headers.js';
import { huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { STATIC_NAME_INDEX, STATIC_TABLE, STATIC_TABLE_LENGTH } from './static-table.js';

/** Most bytes encodeHeaderBlock writes for `headers` (names and values as latin1). */
export function headerBlockBound(headers: HeaderList): number {
  let n = 0;
  // Per field: one representation byte plus up to 5 for the index or length prefixes.
  for (let i = 0; i < headers.length; i += 2) n += 16 + headers[i].length + headers[i + 1].length;
  return n;
}

/** Encodes the [name, value, ...] list at out[pos]; returns the position after the block. */
export function encodeHeaderBlock(headers: HeaderList, out: Buffer, pos: number): number {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    const nameIndex = STATIC_NAME_INDEX.get(name);
    if (nameIndex !== undefined) {
      const pair = staticPairIndex(nameIndex, name, value);
      if (pair > 0) {
        pos = encodeInteger(out, pos, 0x80, 7, pair);
        continue;
      }
      pos = encodeInteger(out, pos, 0x00, 4, nameIndex);
    } else {
      out[pos++] = 0x00;
      pos = encodeString(out, pos, name);
    }
    pos = encodeString(out, pos, value);
  }
  return pos;
}

/** The static entry with this name (first at `first`) and value, or 0. */
function staticPairIndex(first: number, name: string, value: string): number {
  for (let i = first; i <= STATIC_TABLE_LENGTH && STATIC_TABLE[i][0] === name; i++) {
    if (STATIC_TABLE[i][1] === value && value !== '') return i;
  }
  return 0;
}

/** An integer with an n-bit prefix after the high bits in `flags` (§5.1). */
function encodeInteger(out: Buffer, pos: number, flags: number, prefixBits: number, value: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[pos++] = flags | value;
    return pos;
  }
  out[pos++] = flags | max;
  let rest = value - max;
  while (rest >= 0x80) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[pos++] = rest;
  return pos;
}

/** A string literal (§5.2), Huffman-coded when shorter. */
function encodeString(out: Buffer, pos: number, s: string): number {
  const huffmanLength = huffmanEncodedLength(s);
  if (huffmanLength < s.length) {
    pos = encodeInteger(out, pos, 0x80, 7, huffmanLength);
    return huffmanEncode(s, out, pos);
  }
  pos = encodeInteger(out, pos, 0x00, 7, s.length);
  return pos + out.write(s, pos, 'latin1');
}
