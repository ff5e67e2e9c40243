// Finds CRLF-terminated lines (start line, field lines, chunk-size lines' trailers) in
// input that may arrive split at any byte. A complete line inside one input buffer is
// handed out in place (no copy); only a line split across execute() calls is copied into
// a growable buffer, whose doubling keeps byte-at-a-time input linear, not quadratic.
// It also hands out the lines' strings: when a whole head sits in one input buffer it is
// decoded once (one latin1 call) and fields are sliced from that string in JS, which is
// several times cheaper than one Buffer-to-string call per name and value.

import { CH_LF, latin1 } from './char-tables.js';

/** Result of next(): more bytes are needed (the partial line was buffered). */
export const LINE_NEED_MORE = -1;
/** Result of next(): the line (so far) is longer than the remaining budget. */
export const LINE_TOO_LONG = -2;

export class LineReader {
  /** Buffer holding the current line after next() returned >= 0. */
  buf: Buffer = EMPTY;
  /** Index of the first byte of the current line in `buf`. */
  start = 0;
  /** Index of the terminating LF of the current line in `buf`. */
  lf = 0;

  private pending: Buffer = EMPTY;
  private pendingLen = 0;

  // The decoded window: winStr = latin1 of winBuf[winStart..winEnd).
  private winBuf: Buffer = EMPTY;
  private winStart = 0;
  private winEnd = 0;
  private winStr = '';

  /** Bytes of a partial line buffered so far. */
  get pendingBytes(): number {
    return this.pendingLen;
  }

  /**
   * Looks for the end of the next line in data[pos..]. Returns the index just past the
   * LF (the line is then at buf[start..lf]), LINE_NEED_MORE when data ran out (the
   * partial line is kept), or LINE_TOO_LONG when the line would exceed `budget` bytes.
   */
  next(data: Buffer, pos: number, budget: number): number {
    // Inside the decoded window the LF is found in the string (a JS builtin, no call
    // into C++); the window ends with CRLFCRLF, so the search always succeeds there.
    const nl =
      data === this.winBuf && pos >= this.winStart && pos < this.winEnd
        ? this.winStr.indexOf('\n', pos - this.winStart) + this.winStart
        : data.indexOf(CH_LF, pos);
    if (this.pendingLen === 0) {
      if (nl === -1) {
        if (data.length - pos > budget) return LINE_TOO_LONG;
        this.append(data, pos, data.length);
        return LINE_NEED_MORE;
      }
      if (nl + 1 - pos > budget) return LINE_TOO_LONG;
      this.buf = data;
      this.start = pos;
      this.lf = nl;
      return nl + 1;
    }
    const end = nl === -1 ? data.length : nl + 1;
    if (this.pendingLen + end - pos > budget) return LINE_TOO_LONG;
    this.append(data, pos, end);
    if (nl === -1) return LINE_NEED_MORE;
    this.buf = this.pending;
    this.start = 0;
    this.lf = this.pendingLen - 1;
    // The bytes stay valid in `pending` until the next append.
    this.pendingLen = 0;
    return end;
  }

  /** True when the buffered partial line is a lone CR (half of an empty line). */
  get pendingIsCr(): boolean {
    return this.pendingLen === 1 && this.pending[0] === 0x0d;
  }

  /**
   * Decodes data[pos..] up to the first empty line at once, when no partial line is
   * pending and the section fits in `max` bytes. Lines inside it get their strings by
   * slicing. Must be closed with release() before `data` may change.
   */
  openWindow(data: Buffer, pos: number, max: number): void {
    if (this.pendingLen !== 0) return;
    const e = data.indexOf(CRLF_CRLF, pos);
    if (e === -1 || e + 4 - pos > max) return;
    this.winBuf = data;
    this.winStart = pos;
    this.winEnd = e + 4;
    this.winStr = latin1(data, pos, e + 4);
  }

  /**
   * Ends a read of `data`: drops the decoded window and the current line's reference to
   * `data`. Input buffers are views of a whole read (or of a whole loop turn's reads, on
   * native sockets), so a parser left holding one between messages would keep that
   * memory alive as long as its connection idles.
   */
  release(): void {
    if (this.winStr !== '') {
      this.winBuf = EMPTY;
      this.winStr = '';
    }
    this.buf = EMPTY;
  }

  /** The current line's bytes buf[start..end) as a latin1 string. */
  text(start: number, end: number): string {
    if (this.buf === this.winBuf && start >= this.winStart && end <= this.winEnd) {
      return this.winStr.slice(start - this.winStart, end - this.winStart);
    }
    return latin1(this.buf, start, end);
  }

  /** Drops any partial line (parser reset). */
  clear(): void {
    this.pendingLen = 0;
    this.release();
    if (this.pending.length > 4096) this.pending = EMPTY;
  }

  private append(data: Buffer, from: number, to: number): void {
    const need = this.pendingLen + (to - from);
    if (need > this.pending.length) {
      let cap = this.pending.length === 0 ? 256 : this.pending.length * 2;
      while (cap < need) cap *= 2;
      const grown = Buffer.allocUnsafe(cap);
      this.pending.copy(grown, 0, 0, this.pendingLen);
      this.pending = grown;
    }
    data.copy(this.pending, this.pendingLen, from, to);
    this.pendingLen = need;
  }
}

const EMPTY = Buffer.alloc(0);
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');
