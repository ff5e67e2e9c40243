// `weft down [DIR] [--state-dir DIR] [--timeout SECONDS]`: stops the `weft up` of this
// project from another terminal. It sends SIGTERM to the weft up process, which stops its
// children in order, and waits for it to exit; on timeout it names the pids still alive.
// If weft up is already gone (killed, crashed) but left children behind, their process
// groups get SIGTERM, then SIGKILL, and the stale state files are removed.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Clock, systemClock } from '../core/clock.js';
import { WeftError } from '../core/errors.js';
import { keepAlive } from './keep-alive.js';
import { signalGroup } from './process-group.js';
import { leftovers, stateDirFrom } from './status-command.js';
import { reportError } from './up-command.js';
import { UpError } from './up-error.js';
import { isSameProcess, LOCK_FILE, readUpState, removeUpState } from './up-state.js';

const HELP = `Usage: weft down [DIR] [--state-dir DIR] [--timeout SECONDS]

Stops the \`weft up\` running in DIR (default: the current directory) and waits until it
and all its processes have exited.

Options:
      --state-dir DIR      the state directory weft up was given (default DIR/.weft)
      --timeout SECONDS    how long to wait (default 60)
`;

const POLL_MS = 100;

export interface DownDeps {
  readonly out?: NodeJS.WritableStream;
  readonly err?: NodeJS.WritableStream;
  readonly clock?: Clock;
}

export async function runDownCommand(argv: string[], deps: DownDeps = {}): Promise<number> {
  const out = deps.out ?? process.stdout;
  const err = deps.err ?? process.stderr;
  const clock = deps.clock ?? systemClock;
  const release = keepAlive();
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      out.write(HELP);
      return 0;
    }
    const timeoutS = Number(values.timeout ?? '60');
    if (!Number.isFinite(timeoutS) || timeoutS <= 0)
      throw new WeftError(
        'WEFT_USAGE',
        `--timeout must be a positive number of seconds, not '${values.timeout}'`,
      );
    const stateDir = stateDirFrom(positionals[0], values['state-dir']);
    const state = await readUpState(stateDir);
    if (state === undefined) {
      out.write(`weft down: no weft up is running here (no ${join(stateDir, 'up.json')}); nothing to stop\n`);
      return 0;
    }
    const children = () => leftovers(state);
    if (isSameProcess(state.pid, state.startTime)) {
      out.write(`weft down: stopping weft up (pid ${state.pid})\n`);
      process.kill(state.pid, 'SIGTERM');
      const ok = await waitUntil(
        clock,
        timeoutS * 1000,
        () => !isSameProcess(state.pid, state.startTime) && children().length === 0,
      );
      if (!ok) {
        const left = [
          ...(isSameProcess(state.pid, state.startTime) ? [`weft up (pid ${state.pid})`] : []),
          ...children().map((c) => `${c.name} (pid ${c.pid})`),
        ];
        throw new UpError('WEFT_UP_STOP_TIMEOUT', `still running after ${timeoutS}s: ${left.join(', ')}`);
      }
      out.write('weft down: stopped\n');
      return 0;
    }
    // weft up is gone; stop what it left behind and clear its stale files.
    const left = children();
    if (left.length > 0) {
      out.write(
        `weft down: weft up (pid ${state.pid}) is gone; stopping the ${left.length} process(es) it left\n`,
      );
      for (const c of left) signalGroup(c.pid, 'SIGTERM');
      if (!(await waitUntil(clock, timeoutS * 1000, () => children().length === 0))) {
        for (const c of children()) signalGroup(c.pid, 'SIGKILL');
        await waitUntil(clock, 5_000, () => children().length === 0);
      }
      const still = children();
      if (still.length > 0)
        throw new UpError(
          'WEFT_UP_STOP_TIMEOUT',
          `still running after SIGKILL: ${still.map((c) => `${c.name} (pid ${c.pid})`).join(', ')}`,
        );
    } else out.write(`weft down: weft up (pid ${state.pid}) is not running; removing its stale state\n`);
    await removeUpState(stateDir);
    await rm(join(stateDir, LOCK_FILE), { force: true });
    out.write('weft down: stopped\n');
    return 0;
  } catch (e) {
    return reportError(e, err);
  } finally {
    release();
  }
}

function waitUntil(clock: Clock, ms: number, done: () => boolean): Promise<boolean> {
  const deadline = clock.monotonic() + ms;
  return new Promise((resolve) => {
    const check = () => {
      if (done()) return resolve(true);
      if (clock.monotonic() >= deadline) return resolve(false);
      clock.setTimer(POLL_MS, check);
    };
    check();
  });
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        'state-dir': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw new WeftError('WEFT_USAGE', `${(e as Error).message}\n\n${HELP}`);
  }
}
