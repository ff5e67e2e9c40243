// The supervisor with real child processes: prefixed line output, readiness (ready, exited
// before ready, deadline passed on a manual clock), restart backoff on a manual clock with
// give-up and reset, and stop in reverse dependency order leaving no process in the group.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { systemClock } from '../core/clock.js';
import { createManualClock } from '../proxy/upstream/testing/manual-clock.js';
import { createLogMux, shouldColor } from './log-mux.js';
import { allocateFreePorts } from './port-allocator.js';
import { groupMembers, isAlive } from './process-group.js';
import { createSupervisor, type Supervisor } from './supervisor.js';
import {
  createCapture,
  createEventLog,
  createScriptDir,
  driveClock,
  type ScriptDir,
} from './testing/up-test-kit.js';
import { UpError } from './up-error.js';

const LISTENER = `
import { createServer } from 'node:net';
const port = Number(process.env.PORT);
createServer((s) => s.end('hi')).listen(port, '127.0.0.1', () => console.log('listening on ' + port + '\\npartial line'));
`;
const CRASHER = `console.error('boom: missing config'); process.exit(3);`;
const IDLE = `setInterval(() => {}, 1000); console.log('idle');`;
/** Exits 1 on its first run (no marker file yet), then stays up. */
const FLAKY_ONCE = `
import { existsSync, writeFileSync } from 'node:fs';
if (!existsSync(process.env.MARKER)) { writeFileSync(process.env.MARKER, 'x'); process.exit(1); }
setInterval(() => {}, 1000);
`;
/** Starts a helper in its own process group that ignores SIGTERM, then exits on SIGTERM itself. */
const WITH_STUBBORN_HELPER = `
import { spawn } from 'node:child_process';
const helper = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('helper up')"], { stdio: ['ignore', 'inherit', 'inherit'] });
console.log('helper ' + helper.pid);
setInterval(() => {}, 1000);
`;

let scripts: ScriptDir;
const running: Supervisor[] = [];

beforeEach(async () => {
  scripts = await createScriptDir('weft-sup-');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  await scripts.cleanup();
});

function supervise(options: Partial<Parameters<typeof createSupervisor>[0]> = {}) {
  const out = createCapture();
  const log = createEventLog();
  const sup = createSupervisor({
    clock: systemClock,
    logs: createLogMux({ out, color: false }),
    graceMs: 2000,
    probeIntervalMs: 20,
    onEvent: log.onEvent,
    ...options,
  });
  running.push(sup);
  return { sup, out, log };
}

describe('supervisor', () => {
  it('streams whole lines with an aligned prefix and waits for a TCP listener', async () => {
    const [port] = await allocateFreePorts(1);
    const { sup, out } = supervise();
    sup.start({
      name: 'web-0',
      role: 'app',
      command: process.execPath,
      args: [await scripts.script('listener.mjs', LISTENER)],
      env: { PORT: String(port) },
      readiness: { kind: 'tcp', host: '127.0.0.1', port: port! },
    });
    sup.start({
      name: 'a',
      role: 'app',
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
    });
    await sup.waitReady(['web-0', 'a']);
    await out.waitFor(/partial line/);
    assert.match(out.text, new RegExp(`^web-0 \\| listening on ${port}$`, 'm'));
    assert.match(out.text, /^web-0 \| partial line$/m);
    assert.match(out.text, /^a {5}\| \[weft up\] started \(pid \d+\)$/m, 'short names are padded');
    assert.doesNotMatch(out.text, /\x1b\[/, 'no colour when not a TTY');
    assert.deepEqual(
      sup.list().map((c) => [c.name, c.state]),
      [
        ['web-0', 'ready'],
        ['a', 'ready'],
      ],
    );
  });

  it('colours only a TTY without NO_COLOR', () => {
    assert.equal(shouldColor({ isTTY: true }, {}), true);
    assert.equal(shouldColor({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(shouldColor({ isTTY: false }, {}), false);
    const out = createCapture(true);
    createLogMux({ out, color: true }).source('x').stdout.push('hello\n');
    assert.equal(out.text, '\x1b[36mx |\x1b[0m hello\n');
  });

  it('reports a process that exits before it is ready, with its last output', async () => {
    const [port] = await allocateFreePorts(1);
    const { sup } = supervise();
    sup.start({
      name: 'ratings-0',
      role: 'app',
      command: process.execPath,
      args: [await scripts.script('crash.mjs', CRASHER)],
      readiness: { kind: 'tcp', host: '127.0.0.1', port: port! },
      restart: false,
    });
    await assert.rejects(sup.waitReady(['ratings-0']), (err: unknown) => {
      assert.ok(err instanceof UpError && err.code === 'WEFT_UP_NOT_READY');
      assert.match(err.message, /ratings-0: exited with code 3 before it was ready/);
      assert.match(err.message, /last output:\n\s+boom: missing config/);
      return true;
    });
  });

  it('reports a process still not listening at its deadline (manual clock)', async () => {
    const [port] = await allocateFreePorts(1);
    const clock = createManualClock();
    const { sup, out } = supervise({ clock, probeIntervalMs: 250 });
    sup.start({
      name: 'slow-0',
      role: 'app',
      command: process.execPath,
      args: [await scripts.script('idle.mjs', IDLE)],
      readiness: { kind: 'tcp', host: '127.0.0.1', port: port! },
      readyTimeoutMs: 5000,
    });
    await out.waitFor(/slow-0 \| idle/); // its output is part of the report; time stands still meanwhile
    const err = await driveClock(
      clock,
      sup.waitReady(['slow-0']).then(
        () => undefined,
        (e: unknown) => e,
      ),
      250,
    );
    assert.ok(err instanceof UpError, String(err));
    assert.match(
      err.message,
      new RegExp(
        `slow-0: still not listening on 127\\.0\\.0\\.1:${port} after 5s \\(last attempt: connection refused\\)`,
      ),
    );
    assert.match(err.message, /last output:\n\s+idle/);
    assert.ok(
      clock.monotonic() >= 5000 && clock.monotonic() < 5500,
      `deadline honoured, at ${clock.monotonic()}`,
    );
  });

  it('restarts with exponential backoff and gives up after N fast crashes (manual clock)', async () => {
    const clock = createManualClock();
    const { sup, log } = supervise({
      clock,
      restart: { initialDelayMs: 1000, maxDelayMs: 3000, fastCrashMs: 10_000, maxFastCrashes: 4 },
    });
    sup.start({
      name: 'c',
      role: 'app',
      command: process.execPath,
      args: [await scripts.script('crash.mjs', CRASHER)],
    });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const from = log.events.length;
      const e = await log.waitFor((x) => x.type === 'restarting', from);
      assert.equal(e.type, 'restarting');
      if (e.type === 'restarting') delays.push(e.delayMs);
      const spawnsBefore = log.events.filter((x) => x.type === 'spawned').length;
      clock.advance(delays.at(-1)! - 1);
      assert.equal(
        log.events.filter((x) => x.type === 'spawned').length,
        spawnsBefore,
        'not restarted early',
      );
      clock.advance(1);
      assert.equal(
        log.events.filter((x) => x.type === 'spawned').length,
        spawnsBefore + 1,
        'restarted on time',
      );
    }
    const gaveUp = await log.waitFor((x) => x.type === 'gave-up');
    assert.deepEqual(delays, [1000, 2000, 3000]);
    assert.match(
      (gaveUp as { reason: string }).reason,
      /exited with code 3; crashed 4 times in a row within 10s/,
    );
    assert.equal(sup.list()[0]!.state, 'failed');
    assert.equal(sup.list()[0]!.restarts, 3);
    assert.equal(clock.pendingTimers, 0, 'no restart scheduled after giving up');
  });

  it('resets the backoff after a process ran longer than the fast-crash window', async () => {
    const clock = createManualClock();
    const { sup, log } = supervise({
      clock,
      restart: { initialDelayMs: 1000, maxDelayMs: 30_000, fastCrashMs: 10_000, maxFastCrashes: 3 },
    });
    sup.start({
      name: 'f',
      role: 'app',
      command: process.execPath,
      args: [await scripts.script('flaky.mjs', FLAKY_ONCE)],
      env: { MARKER: `${scripts.dir}/marker` },
    });
    await log.waitFor((x) => x.type === 'restarting');
    clock.advance(1000);
    const second = (await log.waitFor((x) => x.type === 'spawned', 2)) as { pid: number };
    clock.advance(10_000); // it has now been up for the whole window
    process.kill(second.pid, 'SIGKILL');
    const from = log.events.length;
    const e = await log.waitFor((x) => x.type === 'restarting', from);
    assert.deepEqual(e, { type: 'restarting', name: 'f', delayMs: 1000 });
  });

  it('stops dependents first, SIGKILLs what ignores SIGTERM, and leaves no process in any group', async () => {
    const { sup, out, log } = supervise({ graceMs: 300 });
    sup.start({
      name: 'control',
      role: 'control',
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
    });
    sup.start({
      name: 'b',
      role: 'app',
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      dependsOn: ['control'],
    });
    sup.start({
      name: 'a',
      role: 'app',
      command: process.execPath,
      args: [await scripts.script('stubborn.mjs', WITH_STUBBORN_HELPER)],
      dependsOn: ['b', 'control'],
    });
    await sup.waitReady(['control', 'a', 'b']);
    const helperPid = Number((await out.waitFor(/^a +\| helper (\d+)$/m))[1]);
    await out.waitFor(/helper up/);
    const leaders = sup.list().map((c) => c.pid!);
    const report = await sup.stop();
    assert.deepEqual(
      log.events.filter((e) => e.type === 'stopped').map((e) => e.name),
      ['a', 'b', 'control'],
    );
    assert.deepEqual(report, { killed: ['a'], remaining: [] });
    assert.equal(isAlive(helperPid), false, 'the helper that ignored SIGTERM is gone');
    for (const pgid of leaders) assert.deepEqual(groupMembers(pgid), [], `group ${pgid} is empty`);
  });
});
