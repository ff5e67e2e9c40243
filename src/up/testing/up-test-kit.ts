// Helpers for the up tests: an output stream that keeps what is written, a recorder of
// supervisor events that can be awaited, temp directories with small node scripts, and a
// driver that advances a manual clock while real I/O (probes, exits) settles in between.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManualClock } from '../../proxy/upstream/testing/manual-clock.js';
import type { SupervisorEvent } from '../supervisor.js';

export interface Capture extends NodeJS.WritableStream {
  readonly text: string;
  /** Resolves once the captured text matches. */
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
}

export function createCapture(isTTY = false): Capture {
  let text = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const stream = {
    isTTY,
    get text() {
      return text;
    },
    write(chunk: string | Uint8Array) {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      for (const w of [...waiters]) {
        const m = text.match(w.re);
        if (m !== null) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
      return true;
    },
    waitFor(re: RegExp) {
      const m = text.match(re);
      if (m !== null) return Promise.resolve(m);
      return new Promise<RegExpMatchArray>((resolve) => waiters.push({ re, resolve }));
    },
  };
  return stream as unknown as Capture;
}

export interface EventLog {
  readonly events: SupervisorEvent[];
  readonly onEvent: (e: SupervisorEvent) => void;
  /** Resolves with the first event (from `from` on) that matches. */
  waitFor(match: (e: SupervisorEvent) => boolean, from?: number): Promise<SupervisorEvent>;
}

export function createEventLog(): EventLog {
  const events: SupervisorEvent[] = [];
  const waiters: {
    match: (e: SupervisorEvent) => boolean;
    from: number;
    resolve: (e: SupervisorEvent) => void;
  }[] = [];
  return {
    events,
    onEvent(e) {
      events.push(e);
      for (const w of [...waiters])
        if (events.length - 1 >= w.from && w.match(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
    },
    waitFor(match, from = 0) {
      const found = events.slice(from).find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, from, resolve }));
    },
  };
}

export interface ScriptDir {
  readonly dir: string;
  /** Writes `name` (an .mjs node script) and returns its path. */
  script(name: string, source: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createScriptDir(prefix = 'weft-up-'): Promise<ScriptDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    dir,
    async script(name, source) {
      const path = join(dir, name);
      await writeFile(path, source);
      return path;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Lets pending I/O callbacks run (a probe's connect result, a child's exit). */
export function settleIo(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * Advances `clock` in `stepMs` steps until `done` settles, letting real I/O finish between
 * steps; fails after `maxSteps` (a bug, not a slow machine: time only moves here).
 */
export async function driveClock<T>(
  clock: ManualClock,
  done: Promise<T>,
  stepMs: number,
  maxSteps = 1000,
): Promise<T> {
  let settled = false;
  const result = done.finally(() => {
    settled = true;
  });
  result.catch(() => {});
  for (let i = 0; i < maxSteps && !settled; i++) {
    await settleIo();
    if (!settled && clock.pendingTimers > 0) clock.advance(stepMs);
  }
  if (!settled) throw new Error(`still not settled after ${maxSteps} clock steps`);
  return result;
}
