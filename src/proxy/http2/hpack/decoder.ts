// HPACK header block decoding (RFC 7541 §6): indexed fields, the three literal forms,
// dynamic table size updates, Huffman strings, and the dynamic table with its eviction
// rule (§4). One decoder per connection direction: blocks must be decoded in the order
// they arrive. Decoded fields are appended to a flat [name, value, ...] list as latin1
// strings. Every malformed block is an HpackError (a COMPRESSION_ERROR for the
// connection, RFC 9113 §4.3); a header list over the configured limit is one too, with
// `tooLarge` set, checked as fields are decoded so a small block cannot expand without
// bound (an "HPACK bomb").

import type { HeaderList } from '../../http/headers.js';
import { huffmanDecode, huffmanDecodedBound } from './huffman.js';
import { STATIC_TABLE, STATIC_TABLE_LENGTH } from './static-table.js';

/** RFC 7541 §4.1: each entry counts its name and value octets plus 32. */
export const ENTRY_OVERHEAD = 32;
/** Integers beyond this are refused (no sane header block needs them). */
const MAX_INTEGER = 2 ** 28;

export class HpackError extends Error {
  constructor(
    message: string,
    /** The decoded list went over maxHeaderListSize. */
    readonly tooLarge = false,
  ) {
    super(message);
    this.name = 'HpackError';
  }
}

export interface HpackDecoderOptions {
  /** SETTINGS_HEADER_TABLE_SIZE this side advertised: the most the peer may make the table. */
  readonly maxTableSize: number;
  /** Limit on the decoded list, counted as RFC 9113 §6.5.2 SETTINGS_MAX_HEADER_LIST_SIZE does. */
  readonly maxHeaderListSize: number;
}

export class HpackDecoder {
  private readonly maxAllowedTableSize: number;
  private readonly maxHeaderListSize: number;
  /** The table size the peer set (≤ maxAllowedTableSize). */
  private tableLimit: number;
  private tableSize = 0;
  // The dynamic table, newest first: a ring of names and values.
  private names: string[] = new Array(16);
  private values: string[] = new Array(16);
  private head = 0;
  private count = 0;
  /** Scratch for Huffman-decoded strings. */
  private scratch = Buffer.allocUnsafe(256);
  // The block being decoded.
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private end = 0;

  constructor(options: HpackDecoderOptions) {
    this.maxAllowedTableSize = options.maxTableSize;
    this.maxHeaderListSize = options.maxHeaderListSize;
    this.tableLimit = options.maxTableSize;
  }

  /** Entries in the dynamic table, and their size (RFC 7541 §4.1). */
  get dynamicTable(): { readonly entries: number; readonly size: number } {
    return { entries: this.count, size: this.tableSize };
  }

  /** Decodes one complete header block, appending its fields to `out`. */
  decode(block: Buffer, start: number, end: number, out: HeaderList): void {
    this.buf = block;
    this.pos = start;
    this.end = end;
    let listSize = 0;
    let fields = 0;
    while (this.pos < this.end) {
      const b = block[this.pos];
      let name: string;
      let value: string;
      if (b >= 0x80) {
        // Indexed field (§6.1).
        const index = this.integer(7);
        if (index === 0) throw new HpackError('indexed field with index 0');
        name = this.nameAt(index);
        value = this.valueAt(index);
      } else if (b >= 0x40) {
        // Literal with incremental indexing (§6.2.1).
        const index = this.integer(6);
        name = index === 0 ? this.string() : this.nameAt(index);
        value = this.string();
        this.insert(name, value);
      } else if (b >= 0x20) {
        // Dynamic table size update (§6.3): only before the block's first field (§4.2).
        if (fields > 0) throw new HpackError('dynamic table size update after a field');
        const size = this.integer(5);
        if (size > this.maxAllowedTableSize) {
          throw new HpackError(
            `dynamic table size update to ${size} exceeds the limit ${this.maxAllowedTableSize}`,
          );
        }
        this.tableLimit = size;
        this.evict(0);
        continue;
      } else {
        // Literal without indexing (0000) or never indexed (0001) (§6.2.2, §6.2.3).
        const index = this.integer(4);
        name = index === 0 ? this.string() : this.nameAt(index);
        value = this.string();
      }
      fields++;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.maxHeaderListSize) {
        throw new HpackError(`header list larger than ${this.maxHeaderListSize} bytes`, true);
      }
      out.push(name, value);
    }
  }

  /** An integer with an n-bit prefix at pos (§5.1). */
  private integer(prefixBits: number): number {
    const buf = this.buf;
    const max = (1 << prefixBits) - 1;
    let value = buf[this.pos++] & max;
    if (value < max) return value;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new HpackError('integer runs past the end of the block');
      const b = buf[this.pos++];
      value += (b & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw new HpackError('integer too large');
      if (b < 0x80) return value;
      shift += 7;
    }
  }

  /** A string literal at pos (§5.2). */
  private string(): string {
    if (this.pos >= this.end) throw new HpackError('string literal missing at the end of the block');
    const huffman = this.buf[this.pos] >= 0x80;
    const length = this.integer(7);
    const start = this.pos;
    if (length > this.end - start) throw new HpackError('string literal runs past the end of the block');
    this.pos = start + length;
    if (!huffman) return this.buf.toString('latin1', start, start + length);
    const bound = huffmanDecodedBound(length);
    if (this.scratch.length < bound)
      this.scratch = Buffer.allocUnsafe(Math.max(bound, this.scratch.length * 2));
    const n = huffmanDecode(this.buf, start, start + length, this.scratch);
    if (n < 0) throw new HpackError('invalid Huffman-coded string');
    return this.scratch.toString('latin1', 0, n);
  }

  private nameAt(index: number): string {
    if (index <= STATIC_TABLE_LENGTH) return STATIC_TABLE[index][0];
    return this.names[this.slot(index)];
  }

  private valueAt(index: number): string {
    if (index <= STATIC_TABLE_LENGTH) return STATIC_TABLE[index][1];
    return this.values[this.slot(index)];
  }

  /** Ring position of dynamic index (62 = newest). */
  private slot(index: number): number {
    const i = index - STATIC_TABLE_LENGTH - 1;
    if (i >= this.count) throw new HpackError(`index ${index} is not in the table`);
    return (this.head - 1 - i) & (this.names.length - 1);
  }

  /** Adds an entry, evicting the oldest as needed (§4.4). */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.tableLimit) {
      // Larger than the whole table: the table is emptied and nothing is added.
      this.count = 0;
      this.tableSize = 0;
      return;
    }
    this.evict(size);
    if (this.count === this.names.length) this.grow();
    const mask = this.names.length - 1;
    this.names[this.head] = name;
    this.values[this.head] = value;
    this.head = (this.head + 1) & mask;
    this.count++;
    this.tableSize += size;
  }

  /** Evicts oldest entries until `incoming` more bytes fit within the limit. */
  private evict(incoming: number): void {
    const mask = this.names.length - 1;
    while (this.count > 0 && this.tableSize + incoming > this.tableLimit) {
      const oldest = (this.head - this.count) & mask;
      this.tableSize -= this.names[oldest].length + this.values[oldest].length + ENTRY_OVERHEAD;
      this.count--;
    }
  }

  private grow(): void {
    const n = this.names.length;
    const names: string[] = new Array(n * 2);
    const values: string[] = new Array(n * 2);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head - this.count + i) & (n - 1);
      names[i] = this.names[from];
      values[i] = this.values[from];
    }
    this.names = names;
    this.values = values;
    this.head = this.count;
  }
}
