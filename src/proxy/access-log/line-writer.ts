// Writes an access-log line's pieces straight into a sink's pending buffer as UTF-8, so a
// line never exists as a string: no string pieces to join, flatten and encode per request.
// ASCII text and non-negative integers (what Envoy's formats mostly print) are copied byte
// by byte in JS; other text goes through Buffer#write. A piece that does not fit sets
// `overflow` and everything after it is ignored: the caller then takes the string path
// (sinks.ts), which handles flushing and lines longer than a whole buffer.

/** UTF-8 bytes one UTF-16 code unit can need (a surrogate pair takes 4 bytes for 2 units). */
const MAX_UTF8_BYTES_PER_UNIT = 3;

export class LineWriter {
  /** The buffer written into, from `pos` up to `end`. */
  buf: Buffer;
  pos = 0;
  end = 0;
  /** Set when a piece did not fit; the line is then incomplete and must not be kept. */
  overflow = false;

  constructor(buf: Buffer) {
    this.buf = buf;
    this.end = buf.length;
  }

  /** Points the writer at buf[pos, end) for a new line. */
  reset(buf: Buffer, pos: number, end: number): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.overflow = false;
  }

  text(s: string): void {
    const n = s.length;
    let pos = this.pos;
    if (this.overflow || pos + n > this.end) {
      this.overflow = true;
      return;
    }
    const buf = this.buf;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = pos;
        this.utf8(i === 0 ? s : s.slice(i));
        return;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  /** Decimal, as `${n}` prints it. */
  number(n: number): void {
    if (!(n >= 0 && Number.isSafeInteger(n))) {
      this.text(`${n}`);
      return;
    }
    let digits = 1;
    for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
    if (this.overflow || this.pos + digits > this.end) {
      this.overflow = true;
      return;
    }
    const buf = this.buf;
    let v = n;
    for (let i = this.pos + digits - 1; i >= this.pos; i--) {
      buf[i] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.pos += digits;
  }

  private utf8(s: string): void {
    const room = this.end - this.pos;
    if (s.length * MAX_UTF8_BYTES_PER_UNIT > room && Buffer.byteLength(s, 'utf8') > room) {
      this.overflow = true;
      return;
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}
