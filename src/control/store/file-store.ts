// The embedded durable store: an EmbeddedStore whose Persistence is a write-ahead log plus
// periodic compacted snapshots in one state directory (layout and recovery in
// docs/control.md):
//
//   STATE_DIR/LOCK           pid of the process that owns the directory
//   STATE_DIR/snapshot.json  the whole state at some revision S (atomic rename)
//   STATE_DIR/wal.log        transactions after S (older ones are skipped on recovery)
//
// Recovery = load the snapshot, replay every whole log record with revision > S, drop a
// torn tail. A transaction is acknowledged only after its record is fdatasync'd, so a
// kill -9 or power loss never loses an acknowledged change.

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { KindRegistry } from '../kinds/registry.js';
import { ControlError } from './control-error.js';
import { EmbeddedStore, type Persistence } from './embedded-store.js';
import { readSnapshot, type SnapshotData, syncDirectory, writeSnapshot } from './snapshot.js';
import { acquireStateLock, type StateLock } from './state-lock.js';
import { scanWal, type TxRecord, WalWriter } from './wal.js';

export const WAL_FILE = 'wal.log';

export interface FileStoreOptions {
  readonly dir: string;
  readonly kinds: KindRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Write a snapshot (and empty the log) after this many logged transactions (default 1000). */
  readonly snapshotEveryRecords?: number;
  /** ...or once the log reaches this many bytes (default 16 MiB). */
  readonly snapshotEveryBytes?: number;
  readonly historyLimit?: number;
}

export async function openFileStore(options: FileStoreOptions): Promise<EmbeddedStore> {
  const { dir, logger } = options;
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new ControlError(
      'WEFT_STORE_FAILED',
      500,
      `cannot create state directory ${dir}: ${(err as Error).message}`,
    );
  }
  const lock = await acquireStateLock(dir);
  try {
    const snapshot = await readSnapshot(dir);
    const walPath = join(dir, WAL_FILE);
    let buf: Buffer;
    try {
      buf = await readFile(walPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      buf = Buffer.alloc(0);
    }
    const scan = scanWal(buf, walPath);
    if (scan.tornBytes > 0)
      logger.warn(
        `store: dropped a torn record of ${scan.tornBytes} bytes at the end of ${walPath} (an unacknowledged write)`,
      );
    const wal = await WalWriter.open(walPath, scan.goodLength);
    if (buf.length === 0) await syncDirectory(dir); // the log's directory entry must survive a crash too
    const persistence = createWalPersistence(dir, wal, lock, options, scan.records.length);
    const store = new EmbeddedStore({
      kinds: options.kinds,
      clock: options.clock,
      logger,
      persistence,
      ...(snapshot === null ? {} : { initial: snapshot }),
      ...(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit }),
    });
    let replayed = 0;
    for (const record of scan.records) {
      // Records at or below the snapshot's revision were compacted into it; a crash between
      // the snapshot's rename and the log's truncation leaves them behind.
      if (record.revision <= store.revision()) continue;
      store.replay(record);
      replayed++;
    }
    logger.info(
      `store: opened ${dir} at revision ${store.revision()} (snapshot ${snapshot?.revision ?? 'none'}, ${replayed} log records replayed)`,
    );
    return store;
  } catch (err) {
    await lock.release();
    if (err instanceof ControlError) throw err;
    throw new ControlError(
      'WEFT_STORE_FAILED',
      500,
      `cannot open state directory ${dir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

function createWalPersistence(
  dir: string,
  wal: WalWriter,
  lock: StateLock,
  options: FileStoreOptions,
  initialRecords: number,
): Persistence {
  const everyRecords = options.snapshotEveryRecords ?? 1000;
  const everyBytes = options.snapshotEveryBytes ?? 16 * 1024 * 1024;
  let records = initialRecords;
  let broken: Error | null = null;

  async function compact(state: SnapshotData): Promise<void> {
    await writeSnapshot(dir, state);
    // Only once the snapshot is durable may the records it covers go.
    await wal.reset();
    records = 0;
  }

  return {
    async append(record: TxRecord): Promise<void> {
      if (broken !== null)
        throw new ControlError(
          'WEFT_STORE_FAILED',
          500,
          `the write-ahead log is unusable: ${broken.message}`,
        );
      try {
        await wal.append(record);
      } catch (err) {
        if (wal.broken) broken = err as Error;
        throw err;
      }
      records++;
    },
    async afterCommit(state: () => SnapshotData): Promise<void> {
      if (records >= everyRecords || wal.bytes >= everyBytes) await compact(state());
    },
    async close(state: () => SnapshotData): Promise<void> {
      try {
        if (records > 0 && broken === null) await compact(state());
      } finally {
        await wal.close();
        await lock.release();
      }
    },
  };
}
