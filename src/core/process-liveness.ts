// Is a process alive, and is it still the same process? Read from /proc where there is one:
// a pid can be reused after its process died, so "the owner of this lock / state file" is a
// pid plus the kernel's start time of that process. Zombies do not count as alive.

import { readFileSync } from 'node:fs';

export interface ProcStat {
  readonly state: string;
  readonly pgrp: number;
  /** Clock ticks since boot when the process started. */
  readonly startTime: number;
}

/** /proc/PID/stat, or undefined when the process is gone or there is no /proc. */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses, so split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '?', pgrp: Number(rest[2]), startTime: Number(rest[19]) };
}

/** True while `pid` exists and is not a zombie (EPERM: exists, owned by another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = procStat(pid);
  return stat === undefined || stat.state !== 'Z';
}

/** The kernel's start time of `pid`, to tell a reused pid apart; undefined without /proc. */
export function processStartTime(pid: number): number | undefined {
  return procStat(pid)?.startTime;
}

/** The pid is alive and, where the start time is known, is still the same process. */
export function isSameProcess(pid: number, startTime: number | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}
