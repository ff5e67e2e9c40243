// Compacted snapshots of the embedded store: the whole state at one revision, written to a
// temporary file, fsync'd, renamed over `snapshot.json` and the directory fsync'd, so a
// reader sees either the old snapshot or the new one, never a mix (POSIX rename(2) is atomic).

import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Resource } from '../resource.js';
import { ControlError } from './control-error.js';

export const SNAPSHOT_FILE = 'snapshot.json';
const FORMAT = 'weft-store-snapshot/1';

export interface SnapshotData {
  readonly revision: number;
  readonly resources: readonly Resource[];
}

export async function writeSnapshot(dir: string, data: SnapshotData): Promise<void> {
  const tmp = join(dir, `${SNAPSHOT_FILE}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(
      JSON.stringify({ format: FORMAT, revision: data.revision, resources: data.resources }),
    );
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, join(dir, SNAPSHOT_FILE));
  await syncDirectory(dir);
}

export async function readSnapshot(dir: string): Promise<SnapshotData | null> {
  // A leftover temporary file is a snapshot that never became current.
  await rm(join(dir, `${SNAPSHOT_FILE}.tmp`), { force: true });
  const path = join(dir, SNAPSHOT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ControlError('WEFT_STORE_FAILED', 500, `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let parsed: { format?: unknown; revision?: unknown; resources?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (err) {
    throw new ControlError('WEFT_STORE_FAILED', 500, `${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed.format !== FORMAT || !Number.isSafeInteger(parsed.revision) || !Array.isArray(parsed.resources))
    throw new ControlError('WEFT_STORE_FAILED', 500, `${path} is not a ${FORMAT} snapshot`);
  return { revision: parsed.revision as number, resources: parsed.resources as Resource[] };
}

/** Makes a rename or a newly created file in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
