// Process groups and liveness. Every child of `weft up` leads its own process group, so a
// signal to the group reaches whatever the child started too (a shell's children, a
// `npm run` chain), and "no orphans" can be checked: no live process is left in the group.
// Zombies do not count as live (they are dead, only not yet reaped by their new parent).

import { readdirSync, readFileSync } from 'node:fs';

/** Sends `signal` to every process of group `pgid`; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** True while `pid` exists and is not a zombie (EPERM: exists, owned by another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readStat(pid);
  return stat === undefined || stat.state !== 'Z';
}

/** Live (non-zombie) members of process group `pgid`; falls back to a signal-0 check without /proc. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return signalGroup(pgid, 0) ? [pgid] : [];
  }
  const out: number[] = [];
  for (const d of entries) {
    const s = readStat(Number(d));
    if (s !== undefined && s.pgrp === pgid && s.state !== 'Z') out.push(Number(d));
  }
  return out;
}

/** The kernel's start time of `pid` (clock ticks since boot), to tell a reused pid apart; undefined without /proc. */
export function processStartTime(pid: number): number | undefined {
  return readStat(pid)?.startTime;
}

interface ProcStat {
  readonly state: string;
  readonly pgrp: number;
  readonly startTime: number;
}

function readStat(pid: number): ProcStat | undefined {
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
