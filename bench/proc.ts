// /proc sampling for the bench: CPU time and resident memory of a proxy's whole process tree.
//
// A proxy is measured as the sum over all of its processes (nginx master + worker, one
// haproxy, one node), found by walking parent pids from the process we spawned. Linux
// only; see proc(5) for the field layouts parsed here.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat the bench uses. */
export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** User-mode CPU time in clock ticks (field 14). */
  readonly utimeTicks: number;
  /** Kernel-mode CPU time in clock ticks (field 15). */
  readonly stimeTicks: number;
}

/**
 * Parses one /proc/<pid>/stat line. The command name (field 2) is in parentheses and may
 * itself contain spaces and parentheses, so fields are counted from the *last* `)`.
 */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // After ") " come field 3 (state), 4 (ppid), ... 14 (utime), 15 (stime).
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  if (rest.length < 13) return null;
  const ppid = Number(rest[1]);
  const utimeTicks = Number(rest[11]);
  const stimeTicks = Number(rest[12]);
  if (![pid, ppid, utimeTicks, stimeTicks].every(Number.isInteger)) return null;
  return { pid, ppid, utimeTicks, stimeTicks };
}

/** Parses `VmRSS:  1234 kB` out of /proc/<pid>/status; null when absent (kernel threads, zombies). */
export function parseVmRssKb(statusText: string): number | null {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  return match ? Number(match[1]) : null;
}

/** The root pid and every descendant, given (pid, ppid) pairs of all processes. */
export function descendantsOf(root: number, parents: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const found = [root];
  for (let i = 0; i < found.length; i++) {
    for (const child of children.get(found[i]) ?? []) found.push(child);
  }
  return found;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process exited between listing and reading
  }
}

/** Reads /proc/<pid>/stat; null if the process is gone. */
export function readProcStat(pid: number): ProcStat | null {
  const text = readText(`/proc/${pid}/stat`);
  return text === null ? null : parseProcStat(text);
}

/** The process tree rooted at `root` as it is now (root first). */
export function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat) parents.set(stat.pid, stat.ppid);
  }
  if (!parents.has(root)) return [];
  return descendantsOf(root, parents);
}

/** Sum of utime+stime over `pids`, in clock ticks (processes that exited count as 0). */
export function cpuTicks(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const stat = readProcStat(pid);
    if (stat) total += stat.utimeTicks + stat.stimeTicks;
  }
  return total;
}

/** Sum of VmRSS over `pids`, in kB. */
export function rssKb(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const text = readText(`/proc/${pid}/status`);
    const kb = text === null ? null : parseVmRssKb(text);
    if (kb !== null) total += kb;
  }
  return total;
}

/** Samples the summed RSS of `pids` on an interval and remembers the peak. */
export interface RssSampler {
  /** Stops sampling and returns the peak seen, in kB (one final sample is taken first). */
  stop(): number;
}

export function createRssSampler(pids: readonly number[], intervalMs: number): RssSampler {
  let peakKb = rssKb(pids);
  const timer = setInterval(() => {
    const kb = rssKb(pids);
    if (kb > peakKb) peakKb = kb;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const kb = rssKb(pids);
      if (kb > peakKb) peakKb = kb;
      return peakKb;
    },
  };
}

/** CPU clock ticks per second (`getconf CLK_TCK`); 100 on every mainstream Linux build. */
export const DEFAULT_CLOCK_TICKS = 100;

/** The kernel's clock ticks per second (`getconf CLK_TCK`), DEFAULT_CLOCK_TICKS if unknown. */
export function clockTicksPerSecond(): number {
  const res = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
  const n = Number((res.stdout ?? '').trim());
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_CLOCK_TICKS;
}
