// acquirePidLock: a live owner is refused; a dead owner's lock, or one whose pid now belongs
// to another process (different start time), is taken over; bare-pid lock files still count.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { acquirePidLock } from './pid-lock.js';
import { processStartTime } from './process-liveness.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-pidlock-'));
const options = {
  held: (pid: number) => new Error(`held by ${pid}`),
  contended: () => new Error('contended'),
};

describe('acquirePidLock', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses while a live process holds it, and is free again after release', async () => {
    const path = join(dir, 'a.lock');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const theirs = await acquirePidLock(path, { ...options, pid: child.pid! });
    await assert.rejects(acquirePidLock(path, options), new RegExp(`held by ${child.pid}`));
    child.kill('SIGKILL');
    await once(child, 'exit');
    // The owner died without releasing (kill -9): the lock is stale and taken over.
    const mine = await acquirePidLock(path, options);
    await mine.release();
    await theirs.release();
  });

  it('takes over a lock whose pid is alive but is another process (pid reuse)', async (t) => {
    if (processStartTime(process.pid) === undefined) {
      t.skip('no /proc: start times unknown');
      return;
    }
    const path = join(dir, 'b.lock');
    // Our own parent is alive; claim a start time it does not have.
    writeFileSync(path, JSON.stringify({ pid: process.ppid, startTime: 1 }));
    const lock = await acquirePidLock(path, options);
    await lock.release();
  });

  it('reads a bare pid lock file as that owner', async () => {
    const path = join(dir, 'c.lock');
    writeFileSync(path, `${process.ppid}\n`);
    await assert.rejects(acquirePidLock(path, options), new RegExp(`held by ${process.ppid}`));
  });
});
