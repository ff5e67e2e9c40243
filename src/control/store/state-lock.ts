// One process per state directory: two writers appending to one log would interleave
// records and corrupt it. The LOCK file holds the owner's pid and start time (pid-lock.ts);
// a lock left by a process that no longer exists (kill -9) is taken over.

import { join } from 'node:path';
import { acquirePidLock, type PidLock } from '../../core/pid-lock.js';
import { ControlError } from './control-error.js';

export type StateLock = PidLock;

export function acquireStateLock(dir: string): Promise<StateLock> {
  return acquirePidLock(join(dir, 'LOCK'), {
    held: (pid) =>
      new ControlError(
        'WEFT_STORE_FAILED',
        500,
        `state directory ${dir} is in use by process ${pid}; stop it or use another --state-dir`,
      ),
    contended: () => new ControlError('WEFT_STORE_FAILED', 500, `cannot lock state directory ${dir}`),
  });
}
