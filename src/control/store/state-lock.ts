// One process per state directory: two writers appending to one log would interleave
// records and corrupt it. The LOCK file holds the owner's pid; a lock left by a process
// that no longer exists (kill -9) is taken over.

import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ControlError } from './control-error.js';

export interface StateLock {
  release(): Promise<void>;
}

export async function acquireStateLock(dir: string): Promise<StateLock> {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
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
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid))
        throw new ControlError(
          'WEFT_STORE_FAILED',
          500,
          `state directory ${dir} is in use by process ${pid}; stop it or use another --state-dir`,
        );
      await rm(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new ControlError('WEFT_STORE_FAILED', 500, `cannot lock state directory ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
