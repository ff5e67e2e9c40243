// The supervisor of `weft up`: runs child processes, each leading its own process group,
// streams their output through the log mux, waits for readiness, restarts a crashed process
// with exponential backoff (giving up after N crashes in a row that each came soon after a
// start), and stops everything in reverse dependency order: SIGTERM to the group, SIGKILL
// after a grace period, done only when no live process is left in the group.
// Time (backoff, deadlines, grace) comes from the injected clock; spawning is injectable.

import { type ChildProcess, spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import type { Clock, Timer } from '../core/clock.js';
import type { LogMux, LogSource } from './log-mux.js';
import { groupMembers, signalGroup } from './process-group.js';
import { describeCheck, type ProbeResult, probeOnce, type ReadinessCheck } from './readiness.js';
import { UpError } from './up-error.js';

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface ProcessSpec {
  readonly name: string;
  /** `control`, `app` or `sidecar`: shown by `weft status`. */
  readonly role: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the supervisor's base environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly readiness?: ReadinessCheck;
  /** Deadline for readiness after each start; default 30 s. */
  readonly readyTimeoutMs?: number;
  /** Restart after an exit that was not asked for; default true. */
  readonly restart?: boolean;
  /** Names of processes this one needs: it is stopped before them. */
  readonly dependsOn?: readonly string[];
  /** Ports to show in `weft status` (`app`, `inbound`, `admin`, ...). */
  readonly ports?: Readonly<Record<string, number>>;
}

export type ChildState = 'starting' | 'ready' | 'backoff' | 'failed' | 'exited' | 'stopping' | 'stopped';

export interface ChildInfo {
  readonly name: string;
  readonly role: string;
  readonly pid: number | undefined;
  readonly state: ChildState;
  readonly restarts: number;
  readonly ports: Readonly<Record<string, number>>;
}

export type SupervisorEvent =
  | { readonly type: 'spawned'; readonly name: string; readonly pid: number }
  | { readonly type: 'ready'; readonly name: string }
  | {
      readonly type: 'exited';
      readonly name: string;
      readonly code: number | null;
      readonly signal: string | null;
    }
  | { readonly type: 'restarting'; readonly name: string; readonly delayMs: number }
  | { readonly type: 'gave-up'; readonly name: string; readonly reason: string }
  | { readonly type: 'stopped'; readonly name: string; readonly killed: boolean };

export interface RestartPolicy {
  /** First delay; doubles per crash in a row up to maxDelayMs. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** An exit sooner than this after a start is a "fast" crash. */
  readonly fastCrashMs: number;
  /** Give up after this many fast crashes in a row. */
  readonly maxFastCrashes: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  fastCrashMs: 10_000,
  maxFastCrashes: 5,
};

export interface SupervisorOptions {
  readonly clock: Clock;
  readonly logs: LogMux;
  readonly spawn?: SpawnFn;
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** SIGTERM → SIGKILL grace; default 10 s. */
  readonly graceMs?: number;
  readonly restart?: RestartPolicy;
  readonly probeIntervalMs?: number;
  readonly probe?: (check: ReadinessCheck) => Promise<ProbeResult>;
  readonly onEvent?: (event: SupervisorEvent) => void;
}

export interface StopReport {
  /** Processes that needed SIGKILL after the grace period. */
  readonly killed: readonly string[];
  /** pids still alive when stop gave up (should be empty). */
  readonly remaining: readonly number[];
}

export interface Supervisor {
  start(spec: ProcessSpec): void;
  /** Resolves when all named processes are ready; throws WEFT_UP_NOT_READY naming each one that is not, and why. */
  waitReady(names: readonly string[]): Promise<void>;
  list(): ChildInfo[];
  stop(): Promise<StopReport>;
}

interface Exit {
  readonly code: number | null;
  readonly signal: string | null;
  /** `could not start: spawn foo ENOENT` instead of an exit status. */
  readonly error?: string;
}

interface Child {
  readonly spec: ProcessSpec;
  readonly logs: LogSource;
  proc: ChildProcess | undefined;
  pid: number | undefined;
  state: ChildState;
  restarts: number;
  fastCrashes: number;
  startedAt: number;
  generation: number;
  handledExit: number;
  lastExit: Exit | undefined;
  lastProbe: ProbeResult | undefined;
  readyDeadlinePassed: boolean;
  timer: Timer | undefined;
  probeTimer: Timer | undefined;
  /** Called on every state change of this child (readiness and stop waiters re-check). */
  watchers: Set<() => void>;
}

const STOP_POLL_MS = 25;
/** After SIGKILL, how long to wait for the group to vanish before reporting what is left. */
const KILL_WAIT_MS = 5_000;

export function createSupervisor(options: SupervisorOptions): Supervisor {
  const { clock, logs } = options;
  const spawn = options.spawn ?? (nodeSpawn as SpawnFn);
  const baseEnv = options.baseEnv ?? process.env;
  const graceMs = options.graceMs ?? 10_000;
  const policy = options.restart ?? DEFAULT_RESTART_POLICY;
  const probeIntervalMs = options.probeIntervalMs ?? 200;
  const probe = options.probe ?? ((c: ReadinessCheck) => probeOnce(c));
  const emit = options.onEvent ?? (() => {});
  const children = new Map<string, Child>();
  let stopping = false;

  function changed(child: Child): void {
    for (const w of [...child.watchers]) w();
  }

  function launch(child: Child): void {
    const { spec } = child;
    child.generation++;
    const generation = child.generation;
    child.state = 'starting';
    child.startedAt = clock.monotonic();
    child.lastProbe = undefined;
    child.readyDeadlinePassed = false;
    let proc: ChildProcess;
    try {
      proc = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: { ...baseEnv, ...spec.env },
        // Own process group (setsid): the group can be signalled as a whole.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      onExit(child, generation, {
        code: null,
        signal: null,
        error: `could not start: ${(err as Error).message}`,
      });
      return;
    }
    child.proc = proc;
    child.pid = proc.pid;
    proc.stdout?.on('data', (d: Buffer) => child.logs.stdout.push(d));
    proc.stderr?.on('data', (d: Buffer) => child.logs.stderr.push(d));
    proc.stdout?.on('end', () => child.logs.stdout.end());
    proc.stderr?.on('end', () => child.logs.stderr.end());
    proc.once('error', (err) =>
      onExit(child, generation, { code: null, signal: null, error: `could not start: ${err.message}` }),
    );
    proc.once('exit', (code, signal) => onExit(child, generation, { code, signal }));
    if (proc.pid !== undefined) {
      child.logs.note(`started (pid ${proc.pid})`);
      emit({ type: 'spawned', name: spec.name, pid: proc.pid });
    }
    if (spec.readiness === undefined) markReady(child, generation);
    else scheduleProbe(child, generation, 0);
    changed(child);
  }

  function scheduleProbe(child: Child, generation: number, delay: number): void {
    child.probeTimer = clock.setTimer(delay, () => {
      child.probeTimer = undefined;
      const check = child.spec.readiness;
      if (check === undefined || child.generation !== generation || child.state !== 'starting') return;
      void probe(check).then((result) => {
        if (child.generation !== generation || child.state !== 'starting') return;
        child.lastProbe = result;
        if (result.ok) return markReady(child, generation);
        if (clock.monotonic() - child.startedAt >= (child.spec.readyTimeoutMs ?? 30_000)) {
          child.readyDeadlinePassed = true;
          child.logs.note(`not ready: ${notReadyReason(child)}`);
          changed(child);
          return;
        }
        scheduleProbe(child, generation, probeIntervalMs);
      });
    });
  }

  function markReady(child: Child, generation: number): void {
    if (child.generation !== generation) return;
    child.state = 'ready';
    if (child.spec.readiness !== undefined) child.logs.note(`ready (${describeCheck(child.spec.readiness)})`);
    emit({ type: 'ready', name: child.spec.name });
    changed(child);
  }

  function onExit(child: Child, generation: number, exit: Exit): void {
    // One exit per start: 'error' and 'exit' may both fire, and a stale start's events are ignored.
    if (child.generation !== generation || child.handledExit === generation) return;
    child.handledExit = generation;
    const proc = child.proc;
    child.proc = undefined;
    child.lastExit = exit;
    child.probeTimer?.cancel();
    child.probeTimer = undefined;
    if (proc !== undefined) proc.removeAllListeners('exit').removeAllListeners('error');
    emit({ type: 'exited', name: child.spec.name, code: exit.code, signal: exit.signal });
    if (stopping || child.state === 'stopping') {
      changed(child);
      return;
    }
    // What the crashed process started goes with it: a stray helper would hold its ports.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    child.logs.note(describeExit(exit));
    if (child.spec.restart === false) {
      child.state = 'exited';
      changed(child);
      return;
    }
    const ran = clock.monotonic() - child.startedAt;
    child.fastCrashes = ran < policy.fastCrashMs ? child.fastCrashes + 1 : 0;
    if (child.fastCrashes >= policy.maxFastCrashes) {
      child.state = 'failed';
      const reason = `${describeExit(exit)}; crashed ${child.fastCrashes} times in a row within ${seconds(policy.fastCrashMs)} of starting, not restarting it again`;
      child.logs.note(reason);
      emit({ type: 'gave-up', name: child.spec.name, reason });
      changed(child);
      return;
    }
    const delay = Math.min(
      policy.maxDelayMs,
      policy.initialDelayMs * 2 ** Math.max(0, child.fastCrashes - 1),
    );
    child.state = 'backoff';
    child.logs.note(`restarting in ${seconds(delay)}`);
    emit({ type: 'restarting', name: child.spec.name, delayMs: delay });
    child.timer = clock.setTimer(delay, () => {
      child.timer = undefined;
      if (stopping || child.state !== 'backoff') return;
      child.restarts++;
      launch(child);
    });
    changed(child);
  }

  function notReadyReason(child: Child): string {
    const check = child.spec.readiness;
    if (
      child.state === 'failed' ||
      child.state === 'exited' ||
      child.state === 'backoff' ||
      child.proc === undefined
    )
      return `${child.lastExit === undefined ? 'exited' : describeExit(child.lastExit)} before it was ready`;
    if (check === undefined) return 'not started';
    const waited = seconds(clock.monotonic() - child.startedAt);
    const last = child.lastProbe === undefined ? '' : ` (last attempt: ${child.lastProbe.detail})`;
    return check.kind === 'tcp'
      ? `still not listening on ${check.host}:${check.port} after ${waited}${last}`
      : `GET http://${check.host}:${check.port}${check.path} not answering 2xx after ${waited}${last}`;
  }

  /** Settles with undefined when ready, or the reason it will not be (exit, deadline). */
  function readiness(child: Child): Promise<string | undefined> {
    return new Promise((resolve) => {
      const check = () => {
        if (child.state === 'ready') return finish(undefined);
        if (child.state === 'starting' && !child.readyDeadlinePassed) return;
        finish(notReadyReason(child));
      };
      const finish = (r: string | undefined) => {
        child.watchers.delete(check);
        resolve(r);
      };
      child.watchers.add(check);
      check();
    });
  }

  async function stopChild(child: Child): Promise<{ killed: boolean; remaining: number[] }> {
    child.timer?.cancel();
    child.probeTimer?.cancel();
    const pgid = child.pid;
    if (pgid === undefined || (child.proc === undefined && groupMembers(pgid).length === 0)) {
      child.state = 'stopped';
      return { killed: false, remaining: [] };
    }
    child.state = 'stopping';
    child.logs.note('stopping (SIGTERM)');
    signalGroup(pgid, 'SIGTERM');
    const gone = await waitGroupGone(child, pgid, graceMs);
    let killed = false;
    let remaining: number[] = [];
    if (!gone) {
      killed = true;
      child.logs.note(`still running after ${seconds(graceMs)}; sending SIGKILL`);
      signalGroup(pgid, 'SIGKILL');
      if (!(await waitGroupGone(child, pgid, KILL_WAIT_MS))) remaining = groupMembers(pgid);
    }
    child.state = 'stopped';
    emit({ type: 'stopped', name: child.spec.name, killed });
    changed(child);
    return { killed, remaining };
  }

  /** Waits for the leader's exit event and for no live member left in its group, up to `ms`. */
  function waitGroupGone(child: Child, pgid: number, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const deadline = clock.monotonic() + ms;
      let poll: Timer | undefined;
      const check = () => {
        if (child.proc !== undefined) return; // the exit event re-checks
        if (groupMembers(pgid).length === 0) return finish(true);
        if (clock.monotonic() >= deadline) return finish(false);
        poll ??= clock.setTimer(STOP_POLL_MS, () => {
          poll = undefined;
          check();
        });
      };
      const finish = (ok: boolean) => {
        child.watchers.delete(check);
        deadlineTimer.cancel();
        poll?.cancel();
        resolve(ok);
      };
      const deadlineTimer = clock.setTimer(ms, () => {
        if (child.proc !== undefined) finish(false);
        else check();
      });
      child.watchers.add(check);
      check();
    });
  }

  /** Levels of processes that can stop together: dependents before what they depend on. */
  function stopOrder(): Child[][] {
    const left = new Set(children.values());
    const levels: Child[][] = [];
    while (left.size > 0) {
      // A process can stop once nothing still running depends on it.
      let level = [...left].filter(
        (c) => ![...left].some((o) => o !== c && (o.spec.dependsOn ?? []).includes(c.spec.name)),
      );
      if (level.length === 0) level = [...left]; // a dependency cycle: stop the rest together
      for (const c of level) left.delete(c);
      levels.push(level);
    }
    return levels;
  }

  return {
    start(spec) {
      if (stopping) throw new Error(`supervisor is stopping; cannot start ${spec.name}`);
      if (children.has(spec.name)) throw new Error(`a process named ${spec.name} is already supervised`);
      const child: Child = {
        spec,
        logs: logs.source(spec.name),
        proc: undefined,
        pid: undefined,
        state: 'starting',
        restarts: 0,
        fastCrashes: 0,
        startedAt: clock.monotonic(),
        generation: 0,
        handledExit: 0,
        lastExit: undefined,
        lastProbe: undefined,
        readyDeadlinePassed: false,
        timer: undefined,
        probeTimer: undefined,
        watchers: new Set(),
      };
      children.set(spec.name, child);
      launch(child);
    },

    async waitReady(names) {
      const wanted = names.map((n) => {
        const c = children.get(n);
        if (c === undefined) throw new Error(`no process named ${n}`);
        return c;
      });
      const results = new Map<Child, string | undefined>();
      // The first failure ends the wait: the others are reported as still starting.
      await new Promise<void>((resolve) => {
        let pending = wanted.length;
        if (pending === 0) resolve();
        for (const c of wanted)
          void readiness(c).then((reason) => {
            results.set(c, reason);
            pending--;
            if (reason !== undefined || pending === 0) resolve();
          });
      });
      const failures: string[] = [];
      for (const c of wanted) {
        if (!results.has(c)) {
          if (c.state !== 'ready')
            failures.push(
              `  ${c.spec.name}: still starting (waited ${seconds(clock.monotonic() - c.startedAt)})`,
            );
          continue;
        }
        const reason = results.get(c);
        if (reason === undefined) continue;
        const tail = c.logs.lastLines().filter((l) => !l.startsWith('[weft up]'));
        failures.push(
          `  ${c.spec.name}: ${reason}` +
            (tail.length === 0
              ? '\n    (no output)'
              : `\n    last output:\n${tail.map((l) => `      ${l}`).join('\n')}`),
        );
      }
      if (failures.length > 0) throw new UpError('WEFT_UP_NOT_READY', `not ready:\n${failures.join('\n')}`);
    },

    list() {
      return [...children.values()].map((c) => ({
        name: c.spec.name,
        role: c.spec.role,
        pid: c.proc === undefined ? undefined : c.pid,
        state: c.state,
        restarts: c.restarts,
        ports: c.spec.ports ?? {},
      }));
    },

    async stop() {
      stopping = true;
      const killed: string[] = [];
      const remaining: number[] = [];
      for (const level of stopOrder()) {
        const results = await Promise.all(level.map((c) => stopChild(c)));
        results.forEach((r, i) => {
          if (r.killed) killed.push(level[i]!.spec.name);
          remaining.push(...r.remaining);
        });
      }
      return { killed, remaining };
    },
  };
}

export function describeExit(exit: { code: number | null; signal: string | null; error?: string }): string {
  if (exit.error !== undefined) return exit.error;
  if (exit.signal !== null) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
