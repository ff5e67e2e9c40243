// Ports for `weft up`: free ones picked by the kernel (bind port 0), and a check that the
// ports a mesh file fixes are free, naming the process that holds a taken one. Free ports are
// bound all at once before any is released, so one allocation never hands out a port twice.
// (Another program may still grab one before the child binds it; the child's bind then fails
// and the supervisor reports it.)

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

export async function allocateFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listen(host, 0));
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
