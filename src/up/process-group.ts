// Process groups and liveness. Every child of `weft up` leads its own process group, so a
// signal to the group reaches whatever the child started too (a shell's children, a
// `npm run` chain), and "no orphans" can be checked: no live process is left in the group.
// Zombies do not count as live (they are dead, only not yet reaped by their new parent).

import { readdirSync } from 'node:fs';
import { procStat } from '../core/process-liveness.js';

export { isAlive, processStartTime } from '../core/process-liveness.js';

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
    const s = procStat(Number(d));
    if (s !== undefined && s.pgrp === pgid && s.state !== 'Z') out.push(Number(d));
  }
  return out;
}
