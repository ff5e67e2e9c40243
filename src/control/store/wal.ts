// The write-ahead log of the embedded store: one record per committed transaction,
// appended and fdatasync'd before the transaction is acknowledged.
//
// Record framing (docs/control.md): [u32 BE payload length][u32 BE CRC-32 of payload]
// [payload: UTF-8 JSON {revision, ops}]. A crash can leave only the *last* record torn
// (short header, short payload, or bytes that fail the CRC and run to end of file); such a
// tail is dropped on recovery and the file truncated back to the last whole record. A bad
// record followed by more bytes is not a torn write but corruption, and recovery refuses
// to guess (WEFT_STORE_FAILED) rather than silently lose acknowledged transactions.

import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { Resource, ResourceKey } from '../resource.js';
import { ControlError } from './control-error.js';

export type TxOp =
  | { readonly op: 'put'; readonly resource: Resource }
  | { readonly op: 'delete'; readonly key: ResourceKey };

export interface TxRecord {
  readonly revision: number;
  readonly ops: readonly TxOp[];
}

const HEADER_BYTES = 8;
/** Larger than any transaction the API accepts (its body limit), so a bigger length is garbage. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export function encodeRecord(record: TxRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(record), 'utf8');
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

export interface WalScan {
  readonly records: TxRecord[];
  /** Bytes up to the end of the last whole record. */
  readonly goodLength: number;
  /** Bytes of a torn tail after it (0 when the log ended cleanly). */
  readonly tornBytes: number;
}

/** Reads every whole record of a log; `source` names the file in errors. */
export function scanWal(buf: Buffer, source: string): WalScan {
  const records: TxRecord[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < HEADER_BYTES) break;
    const len = buf.readUInt32BE(off);
    const sum = buf.readUInt32BE(off + 4);
    const end = off + HEADER_BYTES + len;
    if (len > MAX_RECORD_BYTES || end > buf.length) break;
    const payload = buf.subarray(off + HEADER_BYTES, end);
    let record: TxRecord | null = null;
    if (crc32(payload) === sum) {
      try {
        record = JSON.parse(payload.toString('utf8')) as TxRecord;
      } catch {
        record = null;
      }
    }
    if (record === null || !Number.isSafeInteger(record.revision) || !Array.isArray(record.ops)) {
      if (end === buf.length) break; // the last record, torn: drop it
      throw new ControlError(
        'WEFT_STORE_FAILED',
        500,
        `${source}: corrupt record at byte ${off} followed by ${buf.length - end} more bytes; ` +
          'this is not a torn write from a crash. Restore the state directory from a backup, ' +
          `or truncate the log to ${off} bytes to keep the ${records.length} records before it`,
      );
    }
    records.push(record);
    off = end;
  }
  return { records, goodLength: off, tornBytes: buf.length - off };
}

/** An open log: appends are durable (fdatasync) when the returned promise resolves. */
export class WalWriter {
  private size: number;
  /** Set when a failed append could not be cut back off the file: no further appends are safe. */
  broken = false;
  private constructor(
    private readonly handle: FileHandle,
    size: number,
  ) {
    this.size = size;
  }

  /** Opens (creating) the log, truncated to `goodLength` so appends follow the last whole record. */
  static async open(path: string, goodLength: number): Promise<WalWriter> {
    const handle = await open(path, 'a+');
    const { size } = await handle.stat();
    if (size !== goodLength) {
      await handle.truncate(goodLength);
      await handle.datasync();
    }
    return new WalWriter(handle, goodLength);
  }

  get bytes(): number {
    return this.size;
  }

  async append(record: TxRecord): Promise<void> {
    const buf = encodeRecord(record);
    try {
      // O_APPEND: the write lands at the end even after a truncate.
      const { bytesWritten } = await this.handle.write(buf, 0, buf.length);
      if (bytesWritten !== buf.length)
        throw new Error(`short write (${bytesWritten} of ${buf.length} bytes)`);
      await this.handle.datasync();
    } catch (err) {
      // Cut off whatever part of the record reached the file, so the next append does not
      // follow garbage (which recovery would rightly call corruption). If even that fails
      // the caller must stop writing.
      try {
        await this.handle.truncate(this.size);
      } catch {
        this.broken = true;
      }
      throw err;
    }
    this.size += buf.length;
  }

  /** Empties the log (after a snapshot made its records redundant). */
  async reset(): Promise<void> {
    await this.handle.truncate(0);
    await this.handle.datasync();
    this.size = 0;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
