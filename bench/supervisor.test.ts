// Tests for the Supervisor with real child processes (node itself, no peers needed):
// a stopped server takes its whole process group with it, and nothing is left behind.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSupervisor } from './supervisor.js';

/** Running (not gone, not a zombie awaiting its reaper). */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('createSupervisor', () => {
  it('run returns stdout and rejects with the exit status', async () => {
    const sup = createSupervisor();
    const out = await sup.run({ file: process.execPath, args: ['-e', 'process.stdout.write("hi")'] }, 10_000);
    assert.equal(out, 'hi');
    await assert.rejects(
      sup.run({ file: process.execPath, args: ['-e', 'console.error("bad"); process.exit(3)'] }, 10_000),
      /exit code 3\nbad/,
    );
  });

  it('stop kills a server and its grandchild (whole process group)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-sup-'));
    const sup = createSupervisor();
    try {
      // The server starts a grandchild, logs its pid, and ignores SIGTERM (so SIGKILL is needed).
      const script = `
        const { spawn } = require('node:child_process');
        const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
        console.log('grandchild ' + c.pid);
        process.on('SIGTERM', () => {});
        setInterval(() => {}, 1000);`;
      const daemon = sup.start({ file: process.execPath, args: ['-e', script] }, join(dir, 'log'));
      let grandchild = 0;
      while (grandchild === 0) {
        const match = /grandchild (\d+)/.exec(readFileSync(daemon.logPath, 'utf8'));
        if (match) grandchild = Number(match[1]);
        else await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(alive(daemon.pid) && alive(grandchild));
      await sup.stop(daemon, 200);
      assert.notEqual(daemon.exitStatus(), null);
      assert.equal(alive(daemon.pid), false);
      // The grandchild got SIGKILL with the group; poll until the kernel has torn it down.
      for (let i = 0; i < 100 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(alive(grandchild), false);
    } finally {
      await sup.stopAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses new children once stopAll has begun', async () => {
    const sup = createSupervisor();
    await sup.stopAll();
    await assert.rejects(sup.run({ file: process.execPath, args: ['-e', ''] }, 1000), /stopping/);
    assert.throws(() => sup.start({ file: process.execPath, args: ['-e', ''] }, '/dev/null'), /stopping/);
  });
});
