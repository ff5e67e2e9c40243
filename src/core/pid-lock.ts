// A lock file that says which process owns a directory: created exclusively, holding the
// owner's pid and start time. A lock whose owner is gone (kill -9, or its pid now belongs to
// another process) is stale and taken over; a live owner is refused with the caller's error.

import { open, readFile, rm } from 'node:fs/promises';
import { isSameProcess, processStartTime } from './process-liveness.js';

export interface PidLock {
  release(): Promise<void>;
}

export interface PidLockOptions {
  /** The error when a live process holds the lock. */
  readonly held: (ownerPid: number) => Error;
  /** The error when the lock keeps changing under us (another process is taking it right now). */
  readonly contended: () => Error;
  /** The owner to record (default this process). */
  readonly pid?: number;
}

export async function acquirePidLock(path: string, options: PidLockOptions): Promise<PidLock> {
  const pid = options.pid ?? process.pid;
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
        throw options.held(owner.pid);
      await rm(path, { force: true }); // stale: its owner is gone
    }
  }
  throw options.contended();
}

/** `{"pid":N,"startTime":T}`, or a bare pid (older lock files). */
function parseLock(text: string): { pid: number; startTime?: number } | undefined {
  const bare = text.trim();
  if (/^\d+$/.test(bare)) return { pid: Number(bare) };
  try {
    const v = JSON.parse(text) as { pid?: unknown; startTime?: unknown };
    if (typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0)
      return { pid: v.pid, ...(typeof v.startTime === 'number' ? { startTime: v.startTime } : {}) };
  } catch {
    // A lock being written this instant, or garbage: stale unless it turns valid.
  }
  return undefined;
}
