// What a running `weft up` tells other terminals: STATE_DIR/up.json (the supervisor's pid,
// every child's pid, role and ports, the API and xDS addresses), rewritten atomically on
// every change, and STATE_DIR/up.lock, so two `weft up` in one project refuse to share it.
// A pid alone could have been reused by an unrelated process after a crash, so the kernel
// start time is stored with it (Linux) and both must match for "alive".

import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquirePidLock, type PidLock } from '../core/pid-lock.js';
import { isSameProcess } from '../core/process-liveness.js';
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

export type UpLock = PidLock;

export { isSameProcess };

export async function acquireUpLock(stateDir: string, pid = process.pid): Promise<UpLock> {
  await mkdir(stateDir, { recursive: true });
  const path = join(stateDir, LOCK_FILE);
  return acquirePidLock(path, {
    pid,
    held: (owner) =>
      new UpError(
        'WEFT_UP_LOCKED',
        `weft up is already running for this project (pid ${owner}, state in ${stateDir}); ` +
          'see it with `weft status`, stop it with `weft down`, or use another --state-dir',
      ),
    contended: () =>
      new UpError('WEFT_UP_LOCKED', `cannot take the lock ${path}; another weft up is starting here`),
  });
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
