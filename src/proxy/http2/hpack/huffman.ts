// HPACK's Huffman code (RFC 7541 §5.2, Appendix B): encoding, and decoding four bits at a
// time. The code is turned into a binary tree once, and the tree into a table: for each
// inner node and each 4-bit input, the node it leads to and the byte it completes, if any
// (codes are 5 to 30 bits long, so four bits complete at most one). Decoding is then one
// table lookup per nibble. A string must end on a prefix of EOS (all ones) shorter than
// 8 bits, and must not contain EOS itself.

import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './huffman-code.js';

const EOS = 256;
/** In DECODE_EMIT: no byte completed by this nibble. */
const NONE = -1;
/** In DECODE_EMIT: the nibble completes EOS, which is a decoding error. */
const EOS_SEEN = -2;

interface Tree {
  /** Child node per bit, or -1; a leaf has symbol >= 0. */
  readonly zero: number[];
  readonly one: number[];
  readonly symbol: number[];
}

function buildTree(): Tree {
  const tree: Tree = { zero: [-1], one: [-1], symbol: [-1] };
  for (let sym = 0; sym <= EOS; sym++) {
    const len = HUFFMAN_LENGTHS[sym];
    const code = HUFFMAN_CODES[sym];
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) % 2;
      const next = bit === 0 ? tree.zero : tree.one;
      if (next[node] === -1) {
        next[node] = tree.symbol.length;
        tree.zero.push(-1);
        tree.one.push(-1);
        tree.symbol.push(-1);
      }
      node = next[node];
    }
    tree.symbol[node] = sym;
  }
  return tree;
}

/** Inner nodes numbered 0..n-1 (root 0), and the nibble tables over them. */
function buildDecodeTables(): {
  next: Uint16Array;
  emit: Int16Array;
  /** Per state: reached from the root by 1-bits only, at most 7 of them (valid padding). */
  canEnd: Uint8Array;
} {
  const tree = buildTree();
  const stateOf = new Map<number, number>();
  const inner: number[] = [];
  for (let node = 0; node < tree.symbol.length; node++) {
    if (tree.symbol[node] === -1) {
      stateOf.set(node, inner.length);
      inner.push(node);
    }
  }
  const next = new Uint16Array(inner.length * 16);
  const emit = new Int16Array(inner.length * 16);
  for (let s = 0; s < inner.length; s++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = inner[s];
      let out = NONE;
      for (let b = 3; b >= 0; b--) {
        node = ((nibble >> b) & 1) === 0 ? tree.zero[node] : tree.one[node];
        const sym = tree.symbol[node];
        if (sym === EOS) {
          out = EOS_SEEN;
          node = 0;
          break;
        }
        if (sym >= 0) {
          if (out === NONE) out = sym;
          node = 0;
        }
      }
      next[s * 16 + nibble] = stateOf.get(node) ?? 0;
      emit[s * 16 + nibble] = out;
    }
  }
  const canEnd = new Uint8Array(inner.length);
  let node = 0;
  for (let ones = 0; ones <= 7; ones++) {
    canEnd[stateOf.get(node)!] = 1;
    node = tree.one[node];
  }
  return { next, emit, canEnd };
}

const { next: DECODE_NEXT, emit: DECODE_EMIT, canEnd: DECODE_CAN_END } = buildDecodeTables();

/** Most bytes `n` Huffman-coded bytes can decode to (the shortest code is 5 bits). */
export function huffmanDecodedBound(n: number): number {
  return Math.floor((n * 8) / 5);
}

/**
 * Decodes src[start, end) into out from offset 0; out needs huffmanDecodedBound(end - start)
 * bytes. Returns the decoded length, or -1 if the input is not a valid HPACK Huffman string.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let state = 0;
  let o = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i];
    let t = state * 16 + (byte >> 4);
    let sym = DECODE_EMIT[t];
    if (sym !== NONE) {
      if (sym === EOS_SEEN) return -1;
      out[o++] = sym;
    }
    state = DECODE_NEXT[t];
    t = state * 16 + (byte & 0x0f);
    sym = DECODE_EMIT[t];
    if (sym !== NONE) {
      if (sym === EOS_SEEN) return -1;
      out[o++] = sym;
    }
    state = DECODE_NEXT[t];
  }
  return DECODE_CAN_END[state] === 1 ? o : -1;
}

/** Bytes the Huffman coding of the latin1 string s takes. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff];
  return Math.ceil(bits / 8);
}

/** Writes the Huffman coding of the latin1 string s at out[pos]; returns the position after it. */
export function huffmanEncode(s: string, out: Uint8Array, pos: number): number {
  // Bits wait in a 32-bit int: fewer than 8 are left after each flush, so a code of up to
  // 24 bits always fits; the few longer codes (control and some high bytes) go in two parts.
  let acc = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = HUFFMAN_LENGTHS[sym];
    const code = HUFFMAN_CODES[sym];
    if (len <= 24) {
      acc = (acc << len) | code;
      n += len;
    } else {
      acc = (acc << (len - 12)) | (code >>> 12);
      n += len - 12;
      while (n >= 8) {
        n -= 8;
        out[pos++] = acc >>> n;
        acc &= (1 << n) - 1;
      }
      acc = (acc << 12) | (code & 0xfff);
      n += 12;
    }
    while (n >= 8) {
      n -= 8;
      out[pos++] = acc >>> n;
      acc &= (1 << n) - 1;
    }
  }
  // Pad with the most significant bits of EOS (all ones).
  if (n > 0) out[pos++] = (acc << (8 - n)) | (0xff >>> n);
  return pos;
}
