// Who holds a TCP port: "port 15000 is in use by pid 4242 (node server.js)" is a message a
// user can act on; "EADDRINUSE" is not. Linux only: the listening socket's inode comes from
// /proc/net/tcp and tcp6 (state 0A = LISTEN), and the process from scanning /proc/*/fd for a
// link to `socket:[inode]`. Without permission to read other users' fds (not root), or on
// another OS, the owner is unknown and callers say so.

import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface PortOwner {
  readonly pid: number;
  /** The command line, space-separated (may be cut to 200 characters). */
  readonly command: string;
}

const TCP_LISTEN = '0A';

/** The inodes of sockets listening on `port` (any local address), from /proc/net/tcp{,6}. */
export async function listeningInodes(port: number, procRoot = '/proc'): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(join(procRoot, 'net', table), 'utf8').catch(() => '');
    for (const inode of parseListeningInodes(text, port)) inodes.add(inode);
  }
  return inodes;
}

/** Parses one /proc/net/tcp{,6} table (header line first) for LISTEN sockets on `port`. */
export function parseListeningInodes(table: string, port: number): string[] {
  const out: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    if (f.length < 10 || f[3] !== TCP_LISTEN) continue;
    const local = f[1]!;
    const hexPort = local.slice(local.lastIndexOf(':') + 1);
    if (Number.parseInt(hexPort, 16) === port && f[9] !== '0') out.push(f[9]!);
  }
  return out;
}

/** The process listening on `port`, or undefined when it cannot be found (not Linux, no permission). */
export async function findPortOwner(port: number, procRoot = '/proc'): Promise<PortOwner | undefined> {
  const inodes = await listeningInodes(port, procRoot);
  if (inodes.size === 0) return undefined;
  const links = new Set([...inodes].map((i) => `socket:[${i}]`));
  const pids = (await readdir(procRoot).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  for (const pid of pids) {
    const fdDir = join(procRoot, pid, 'fd');
    const fds = await readdir(fdDir).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(join(fdDir, fd)).catch(() => '');
      if (links.has(link)) return { pid: Number(pid), command: await commandLine(procRoot, pid) };
    }
  }
  return undefined;
}

async function commandLine(procRoot: string, pid: string): Promise<string> {
  const raw = await readFile(join(procRoot, pid, 'cmdline'), 'utf8').catch(() => '');
  const cmd = raw
    .split('\0')
    .filter((s) => s !== '')
    .join(' ');
  return cmd.length > 200 ? `${cmd.slice(0, 197)}...` : cmd || '?';
}

/** `pid 4242 (node server.js)`, or how to find out when the owner is unknown. */
export function describePortOwner(port: number, owner: PortOwner | undefined): string {
  if (owner !== undefined) return `pid ${owner.pid} (${owner.command})`;
  return `an unknown process (run \`ss -ltnp 'sport = :${port}'\` as root to see which)`;
}
