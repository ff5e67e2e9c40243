// Ports for `weft up` and `weft run`: free ones for the sidecars and apps, and a check that
// the ports a mesh file fixes are free, naming the process that holds a taken one.
//
// Free ports come from outside the kernel's ephemeral range (ip_local_port_range): a port the
// kernel picked for `listen(0)` is one it may hand to any outgoing connection as its source
// port in the seconds before the child binds it, and the child's bind then fails. Ports below
// the range are never picked by the kernel on its own. All are bound at once, exclusively,
// before any is released, so one allocation never hands out a port twice. (Another program may
// still bind one before the child does; the child's bind then fails and the supervisor reports
// it.) Where no such range can be found, the kernel picks (port 0).

import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { describePortOwner, findPortOwner, type PortOwner } from './port-owner.js';
import { UpError } from './up-error.js';

export interface FixedPort {
  readonly port: number;
  /** What wants it, for the message: `workloads[1].port (ratings)`. */
  readonly what: string;
}

export interface PortAllocatorDeps {
  readonly host?: string;
  /** Finds who holds a port (tests may inject; default reads /proc). */
  readonly findOwner?: (port: number) => Promise<PortOwner | undefined>;
}

/** Lowest port handed out by allocateFreePorts: below it live well-known services. */
const LOWEST_PICKED_PORT = 10000;

/**
 * The ports the kernel never picks on its own: [low, high] below (or above) its ephemeral
 * range, or undefined when that range cannot be read or leaves fewer than 1000 ports.
 */
export function nonEphemeralRange(
  rangeFile = '/proc/sys/net/ipv4/ip_local_port_range',
): readonly [number, number] | undefined {
  let text: string;
  try {
    text = readFileSync(rangeFile, 'latin1');
  } catch {
    return undefined;
  }
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  if (m === null) return undefined;
  const low = Number(m[1]);
  const high = Number(m[2]);
  if (low - LOWEST_PICKED_PORT >= 1000) return [LOWEST_PICKED_PORT, low - 1];
  if (65535 - high >= 1000) return [high + 1, 65535];
  return undefined;
}

export async function allocateFreePorts(
  count: number,
  host = '127.0.0.1',
  range = nonEphemeralRange(),
): Promise<number[]> {
  const servers: Server[] = [];
  const taken = new Set<number>();
  try {
    // Random tries inside the range; a busy port costs one more try. Past 20 tries per
    // port the range is crowded, and the kernel picks instead.
    for (let tries = 0; servers.length < count && range !== undefined && tries < count * 20; tries++) {
      const port = randomInt(range[0], range[1] + 1);
      if (taken.has(port)) continue;
      const server = await listen(host, port).catch(() => undefined);
      if (server === undefined) continue;
      servers.push(server);
      taken.add(port);
    }
    while (servers.length < count) servers.push(await listen(host, 0));
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** Throws WEFT_UP_PORT_IN_USE naming every taken port and, where it can be found, its holder. */
export async function assertPortsFree(
  ports: readonly FixedPort[],
  deps: PortAllocatorDeps = {},
): Promise<void> {
  const host = deps.host ?? '127.0.0.1';
  const findOwner = deps.findOwner ?? ((p: number) => findPortOwner(p));
  const problems: string[] = [];
  for (const { port, what } of ports) {
    let server: Server;
    try {
      server = await listen(host, port);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') {
        const owner = await findOwner(port).catch(() => undefined);
        problems.push(`port ${port} (${what}) is in use by ${describePortOwner(port, owner)}`);
      } else problems.push(`port ${port} (${what}) cannot be bound on ${host}: ${(err as Error).message}`);
      continue;
    }
    await new Promise<void>((r) => server.close(() => r()));
  }
  if (problems.length > 0)
    throw new UpError(
      'WEFT_UP_PORT_IN_USE',
      `${problems.join('\n')}\nstop that process, or change the port in the mesh file (0 picks a free one)`,
    );
}

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    // exclusive: a port shared with a cluster primary is still someone else's.
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
