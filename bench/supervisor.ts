// Child-process bookkeeping for the bench: every server and load generator is started
// through one Supervisor so that none outlives the bench — on success, on error and on
// SIGINT/SIGTERM.
//
// Each child gets its own process group (`detached`), so signalling `-pid` reaches the
// whole tree (nginx master + workers) without touching unrelated processes.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** A program with its arguments. */
export interface Command {
  readonly file: string;
  readonly args: readonly string[];
}

/** A long-running server started by the supervisor. */
export interface Daemon {
  readonly pid: number;
  readonly logPath: string;
  /** Exit code or signal once it has exited; null while running. */
  exitStatus(): string | null;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
}

export interface Supervisor {
  /** Runs a command to completion and returns stdout; SIGKILLs it after `timeoutMs`. */
  run(command: Command, timeoutMs: number): Promise<string>;
  /** Starts a server with stdout and stderr appended to `logPath`. */
  start(command: Command, logPath: string): Daemon;
  /** SIGTERM to the daemon's group, SIGKILL if it has not exited after `graceMs`. */
  stop(daemon: Daemon, graceMs?: number): Promise<void>;
  /** Stops every child still running; afterwards `run` and `start` refuse new children. */
  stopAll(): Promise<void>;
  /** Synchronous SIGKILL of every child (for `process.on('exit')`, where nothing async runs). */
  killAllNow(): void;
}

/** Signals a whole process group (children are spawned detached, so pid = pgid). */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** The last `maxChars` of a log file, for error messages. */
export function logTail(path: string, maxChars = 1500): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length > maxChars ? `…${text.slice(-maxChars)}` : text;
  } catch {
    return '';
  }
}

export function createSupervisor(): Supervisor {
  const running = new Map<number, { child: ChildProcess; exited: Promise<void> }>();
  // Set by stopAll: a measurement still in flight must not start new children afterwards.
  let closed = false;

  function watch(child: ChildProcess): Promise<void> {
    const pid = child.pid!;
    const exited = new Promise<void>((resolve) => {
      child.once('close', () => {
        running.delete(pid);
        resolve();
      });
    });
    running.set(pid, { child, exited });
    return exited;
  }

  async function stop(daemon: { pid: number; exited: Promise<void> }, graceMs = 3000): Promise<void> {
    if (!running.has(daemon.pid)) return;
    killGroup(daemon.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const late = await Promise.race([daemon.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    // Even after a clean master exit, SIGKILL the group: a worker must not linger.
    killGroup(daemon.pid, 'SIGKILL');
    if (late) await daemon.exited;
  }

  return {
    run(command, timeoutMs) {
      return new Promise((resolve, reject) => {
        if (closed) {
          reject(new Error(`not running ${command.file}: the bench is stopping`));
          return;
        }
        const child = spawn(command.file, command.args, {
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        if (child.pid === undefined) {
          child.once('error', reject);
          return;
        }
        const pid = child.pid;
        watch(child);
        let stdout = '';
        let stderr = '';
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
        });
        child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
        });
        const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), timeoutMs);
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          if (code === 0) resolve(stdout);
          else {
            const why = signal ? `killed by ${signal}` : `exit code ${code}`;
            reject(new Error(`${command.file} ${command.args.join(' ')}: ${why}\n${stderr}${stdout}`.trim()));
          }
        });
      });
    },

    start(command, logPath) {
      if (closed) throw new Error(`not starting ${command.file}: the bench is stopping`);
      const fd = openSync(logPath, 'a');
      let child: ChildProcess;
      try {
        child = spawn(command.file, command.args, { detached: true, stdio: ['ignore', fd, fd] });
      } finally {
        closeSync(fd); // the child has its own copy
      }
      if (child.pid === undefined) {
        child.once('error', () => {}); // reported by the throw below
        throw new Error(`could not start ${command.file}: not found or not executable`);
      }
      let status: string | null = null;
      child.once('exit', (code, signal) => {
        status = signal ? `killed by ${signal}` : `exit code ${code}`;
      });
      child.once('error', () => {
        status ??= 'spawn error';
      });
      const exited = watch(child);
      return { pid: child.pid, logPath, exitStatus: () => status, exited };
    },

    stop,

    async stopAll() {
      closed = true;
      await Promise.all([...running].map(([pid, entry]) => stop({ pid, exited: entry.exited })));
    },

    killAllNow() {
      for (const pid of running.keys()) killGroup(pid, 'SIGKILL');
    },
  };
}
