// Network namespaces as "hosts" for multi-host tests: a bridge namespace and one namespace
// per host, each host joined to the bridge by a veth pair and given an address on a private
// subnet. Everything (links, addresses) lives inside namespaces this module creates; the
// root namespace gets no interface or address. Removal kills every process still inside a
// namespace first, then deletes the namespaces (their veths and the bridge go with them).
// All calls are synchronous so that removal also works from a process 'exit' handler.

import { execFileSync, spawnSync } from 'node:child_process';

/** Why network-namespace tests cannot run here, or undefined when they can. */
export function netnsSkipReason(probeName: string): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'not root (ip netns needs root; CI runs as root)';
  const version = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (version.error !== undefined) return '`ip` (iproute2) is not installed';
  const add = spawnSync('ip', ['netns', 'add', probeName], { encoding: 'utf8' });
  if (add.status !== 0) return `ip netns add fails here: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probeName]);
  return undefined;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Host {
  /** The namespace's name. */
  readonly ns: string;
  readonly address: string;
}

export interface Network {
  readonly hosts: Record<string, Host>;
  /** Pids of every process inside any of the namespaces. */
  pids(): number[];
  /** SIGKILLs every process inside the namespaces and deletes them; idempotent, never throws. */
  remove(): void;
}

/**
 * Creates `<prefix>-br` with a bridge and, per entry of `hosts` (name → IPv4 address), a
 * namespace `<prefix>-<name>` with loopback up and `eth0` on the bridge at `address/24`.
 */
export function createNetwork(prefix: string, hosts: Record<string, string>): Network {
  const bridgeNs = `${prefix}-br`;
  const made: string[] = [];
  const network: Network = {
    hosts: {},
    pids() {
      const out: number[] = [];
      for (const ns of made) {
        const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
        if (r.status === 0) out.push(...r.stdout.split(/\s+/).filter(Boolean).map(Number));
      }
      return out;
    },
    remove() {
      for (const pid of network.pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      for (const ns of made.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
    },
  };
  try {
    made.push(bridgeNs);
    ip(['netns', 'add', bridgeNs]);
    ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    for (const [name, address] of Object.entries(hosts)) {
      const ns = `${prefix}-${name}`;
      made.push(ns);
      ip(['netns', 'add', ns]);
      ip(['-n', bridgeNs, 'link', 'add', `v-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['-n', bridgeNs, 'link', 'set', `v-${name}`, 'master', 'br0', 'up']);
      ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      (network.hosts as Record<string, Host>)[name] = { ns, address };
    }
  } catch (err) {
    network.remove();
    throw err;
  }
  return network;
}

/** Namespaces whose name starts with `prefix` (to check that none is left behind). */
export function namespacesNamed(prefix: string): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}
