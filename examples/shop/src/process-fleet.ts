// Starts shop services as child processes and stops them again — for the end-to-end test
// and for local.ts, which both run the shop without the mesh. A service is ready when it
// prints `listening on HOST:PORT` (it binds PORT=0, so that line is also how its port is
// learned); the fleet remembers every child so one call stops them all.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Running {
  readonly name: string;
  readonly child: ChildProcess;
  /** http://HOST:PORT */
  readonly url: string;
  /** Every stdout line so far (the request log). */
  readonly lines: string[];
}

export type ShopService = 'web' | 'catalog' | 'reviews' | 'ratings';

const LISTENING = /listening on (\S+):(\d+)$/;
/** How long a child gets after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5000;

export interface Fleet {
  readonly all: readonly Running[];
  /** Starts `service` with `env` (plus PORT=0 unless given); resolves once it listens. */
  start(service: ShopService, env: Record<string, string>, name?: string): Promise<Running>;
  /** SIGTERM, then the exit code (SIGKILL if the child ignores SIGTERM). */
  stop(r: Running): Promise<number | null>;
  stopAll(): Promise<(number | null)[]>;
}

/** `onLine` sees every stdout/stderr line of every child (local.ts prints them with a prefix). */
export function createFleet(onLine?: (name: string, line: string) => void): Fleet {
  const all: Running[] = [];

  function start(
    service: ShopService,
    env: Record<string, string>,
    name: string = service,
  ): Promise<Running> {
    const script = fileURLToPath(new URL(`./${service}.js`, import.meta.url));
    // A clean environment: a FAIL_RATE or WEFT_UPSTREAM_* left in the caller's shell
    // must not leak into a service.
    const child = spawn(process.execPath, [script], {
      env: {
        PATH: process.env.PATH ?? '',
        ...(process.env.SHOP_DIR === undefined ? {} : { SHOP_DIR: process.env.SHOP_DIR }),
        PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const errors: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => {
      errors.push(line);
      onLine?.(name, line);
    });
    return new Promise((resolve, reject) => {
      // 'close', not 'exit': it comes after stderr is read, so the reason is in the message.
      const onExit = (code: number | null) =>
        reject(new Error(`${name} exited (${code}) before listening: ${errors.join('\n')}`));
      child.once('close', onExit);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        lines.push(line);
        onLine?.(name, line);
        const m = LISTENING.exec(line);
        if (m === null || lines.length > 1) return;
        child.off('close', onExit);
        const running = { name, child, url: `http://${m[1]}:${m[2]}`, lines };
        all.push(running);
        resolve(running);
      });
    });
  }

  async function stop(r: Running): Promise<number | null> {
    if (r.child.exitCode !== null || r.child.signalCode !== null) return r.child.exitCode;
    const exited = once(r.child, 'exit') as Promise<[number | null]>;
    r.child.kill('SIGTERM');
    const force = setTimeout(() => r.child.kill('SIGKILL'), STOP_GRACE_MS);
    const [code] = await exited;
    clearTimeout(force);
    return code;
  }

  return { all, start, stop, stopAll: () => Promise.all(all.map(stop)) };
}
