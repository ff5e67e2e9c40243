// What a running `weft up` tells other terminals: STATE_DIR/up.json (the supervisor's pid,
// every child's pid, role and ports, the API and xDS addresses), rewritten atomically on
// every change, and STATE_DIR/up.lock, so two `weft up` in one project refuse to share it.
// A pid alone could have been reused by an unrelated process after a crash, so the kernel
// start time is stored with it (Linux) and both must match for "alive".

import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive, processStartTime } from './process-group.js';
import { UpError } from './up-error.js';

export const STATE_FORMAT = 'weft-up-state/1';
export const STATE_FILE = 'up.json';
export const LOCK_FILE = 'up.lock';

export interface ProcessRecord {
  readonly name: string;
  readonly role: string;
  readonly pid?: number;
  readonly startTime?: number;
  readonly state: string;
  readonly restarts: number;
  readonly ports: Readonly<Record<string, number>>;
}

export interface UpState {
  readonly format: typeof STATE_FORMAT;
  readonly pid: number;
  readonly startTime?: number;
  readonly meshFile: string;
  readonly startedAt: string;
  /** `starting`, `running`, `stopping`. */
  readonly phase: string;
  readonly control: { readonly apiUrl: string; readonly xdsAddress: string };
  readonly processes: readonly ProcessRecord[];
}

export interface UpLock {
  release(): Promise<void>;
}

/** The pid is alive and, where the start time is known, is still the same process. */
export function isSameProcess(pid: number, startTime: number | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

export async function acquireUpLock(stateDir: string, pid = process.pid): Promise<UpLock> {
  await mkdir(stateDir, { recursive: true });
  const path = join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${JSON.stringify({ pid, startTime: processStartTime(pid) })}\n`);
      await handle.close();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = parseLock(await readFile(path, 'utf8').catch(() => ''));
      if (owner !== undefined && owner.pid !== pid && isSameProcess(owner.pid, owner.startTime))
        throw new UpError(
          'WEFT_UP_LOCKED',
          `weft up is already running for this project (pid ${owner.pid}, state in ${stateDir}); ` +
            'see it with `weft status`, stop it with `weft down`, or use another --state-dir',
        );
      await rm(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new UpError('WEFT_UP_LOCKED', `cannot take the lock ${path}; another weft up is starting here`);
}

function parseLock(text: string): { pid: number; startTime?: number } | undefined {
  try {
    const v = JSON.parse(text) as { pid?: unknown; startTime?: unknown };
    if (typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0)
      return { pid: v.pid, ...(typeof v.startTime === 'number' ? { startTime: v.startTime } : {}) };
  } catch {
    // A lock being written this instant, or garbage: treated as stale only if it stays so.
  }
  return undefined;
}

/** Writes up.json via a temporary file and rename, so a reader never sees half a file. */
export async function writeUpState(stateDir: string, state: UpState): Promise<void> {
  const path = join(stateDir, STATE_FILE);
  const tmp = `${path}.${state.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, path);
}

export async function readUpState(stateDir: string): Promise<UpState | undefined> {
  let text: string;
  try {
    text = await readFile(join(stateDir, STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const v = JSON.parse(text) as UpState;
  if (v.format !== STATE_FORMAT || typeof v.pid !== 'number' || !Array.isArray(v.processes))
    throw new UpError(
      'WEFT_UP_NOT_RUNNING',
      `${join(stateDir, STATE_FILE)} is not a weft up state file (${STATE_FORMAT})`,
    );
  return v;
}

export async function removeUpState(stateDir: string): Promise<void> {
  await rm(join(stateDir, STATE_FILE), { force: true });
}
