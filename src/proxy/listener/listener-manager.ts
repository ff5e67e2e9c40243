// Listener manager: binds the configured listeners and swaps their filter chains on a
// config change without dropping anything.
//
// A listener that keeps its name and address keeps its bound socket; when its config
// changed, new connections use the new filter chain while connections on the old one
// drain (they finish their current request, then close). Removed listeners stop
// accepting and drain. New listeners are bound before anything else changes, so a
// reload that cannot bind leaves the running config untouched.

import { createServer, type Server, type Socket } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { Listener } from '../../config/model.js';
import type { Clock } from '../../core/clock.js';
import { WeftError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { DrainSignal } from './drain.js';

/** A built network filter chain: serves one accepted connection. */
export interface NetworkFilterInstance {
  /** A TLSSocket (which extends net.Socket) when the chain terminates TLS. */
  handle(socket: Socket): void;
  /** True when connections register themselves with the drain signal (HTTP). */
  readonly managesDrain: boolean;
  /** Releases what this instance owns (access-log files) once its connections are gone. */
  close?(): void;
}

/** `boundAddress` is the listener's address once it listens (the real port when the config said 0). */
export type FilterChainBuilder = (
  listener: Listener,
  drain: DrainSignal,
  boundAddress: () => { address: string; port: number },
) => NetworkFilterInstance;

interface Generation {
  readonly config: Listener;
  readonly filter: NetworkFilterInstance;
  readonly drain: DrainSignal;
}

export interface ActiveListener {
  readonly name: string;
  /** The bound address (the real port when the config said 0). */
  readonly address: { address: string; port: number };
  readonly config: Listener;
}

class BoundListener implements ActiveListener {
  readonly name: string;
  readonly server: Server;
  current: Generation;
  address = { address: '', port: 0 };

  constructor(name: string, server: Server, gen: Generation) {
    this.name = name;
    this.server = server;
    this.current = gen;
  }

  get config(): Listener {
    return this.current.config;
  }
}

export class ListenerManager {
  private readonly listeners = new Map<string, BoundListener>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private draining = false;
  /** Generations still draining; each entry settles when its last connection is gone. */
  private readonly drains = new Set<Promise<void>>();

  constructor(deps: { clock: Clock; logger: Logger }) {
    this.clock = deps.clock;
    this.logger = deps.logger;
  }

  all(): readonly ActiveListener[] {
    return [...this.listeners.values()];
  }

  get(name: string): ActiveListener | undefined {
    return this.listeners.get(name);
  }

  /**
   * Brings the listeners to `configs`. Throws WeftError('WEFT_LISTEN_FAILED') — with
   * nothing changed — when a new address cannot be bound.
   */
  async update(configs: readonly Listener[], build: FilterChainBuilder, drainTimeMs: number): Promise<void> {
    const keep = new Map<string, Listener>();
    const toBind: Listener[] = [];
    for (const cfg of configs) {
      const existing = this.listeners.get(cfg.name);
      if (existing !== undefined && isDeepStrictEqual(existing.config.address, cfg.address))
        keep.set(cfg.name, cfg);
      else toBind.push(cfg);
    }

    // Bind every new address first; on any failure close what was bound and give up.
    const bound: BoundListener[] = [];
    try {
      for (const cfg of toBind) bound.push(await this.bind(cfg, build));
    } catch (err) {
      for (const b of bound) b.server.close();
      throw err;
    }

    // Listeners that went away (or moved address): stop accepting and drain.
    for (const [name, l] of this.listeners) {
      if (!keep.has(name)) {
        this.listeners.delete(name);
        this.retire(l, drainTimeMs);
      }
    }
    // Kept listeners with a changed config get a new generation; the old one drains.
    for (const [name, cfg] of keep) {
      const l = this.listeners.get(name)!;
      if (isDeepStrictEqual(l.current.config, cfg)) continue;
      const drain = new DrainSignal();
      const old = l.current;
      l.current = { config: cfg, filter: build(cfg, drain, () => l.address), drain };
      this.drainGeneration(old, drainTimeMs);
    }
    for (const b of bound) {
      this.listeners.set(b.name, b);
      this.logger.info(`listener '${b.name}' listening on ${b.address.address}:${b.address.port}`);
    }
  }

  /** Stops accepting on every listener and drains all connections; resolves when all are gone or after drainTimeMs. */
  async drainAll(drainTimeMs: number): Promise<void> {
    this.draining = true;
    for (const l of this.listeners.values()) this.retire(l, drainTimeMs);
    this.listeners.clear();
    // Also waits for generations already draining (a reload's, an earlier /drain_listeners).
    await Promise.all(this.drains);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  private bind(cfg: Listener, build: FilterChainBuilder): Promise<BoundListener> {
    const drain = new DrainSignal();
    let l: BoundListener | null = null;
    const boundAddress = () => l?.address ?? { address: cfg.address.address, port: cfg.address.portValue };
    const gen: Generation = { config: cfg, filter: build(cfg, drain, boundAddress), drain };
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    l = new BoundListener(cfg.name, server, gen);
    const bound = l;
    server.on('connection', (socket: Socket) => this.accept(bound, socket));
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          new WeftError(
            'WEFT_LISTEN_FAILED',
            `listener '${cfg.name}': cannot listen on ${cfg.address.address}:${cfg.address.portValue}: ${err.code ?? err.message}`,
            { cause: err },
          ),
        );
      };
      server.once('error', onError);
      server.listen({ host: cfg.address.address, port: cfg.address.portValue, backlog: 1024 }, () => {
        server.removeListener('error', onError);
        server.on('error', (err) => this.logger.error(`listener '${cfg.name}': ${err.message}`));
        const a = server.address();
        if (a !== null && typeof a === 'object') bound.address = { address: a.address, port: a.port };
        resolve(bound);
      });
    });
  }

  private accept(l: BoundListener, socket: Socket): void {
    const gen = l.current;
    if (!gen.filter.managesDrain) {
      // Track raw TCP connections so a drain deadline can close them.
      const member = { onDrain: () => {}, forceClose: () => socket.destroy() };
      gen.drain.add(member);
      socket.once('close', () => gen.drain.delete(member));
    }
    try {
      gen.filter.handle(socket);
    } catch (err) {
      // No exception escapes the filter chain: log it and drop this one connection.
      this.logger.error(`listener '${l.name}': connection handler failed: ${(err as Error).stack ?? err}`);
      socket.destroy();
    }
  }

  private retire(l: BoundListener, drainTimeMs: number): void {
    l.server.close();
    this.drainGeneration(l.current, drainTimeMs);
  }

  /** Drains one generation's connections (force-closed after drainTimeMs), then releases it. */
  private drainGeneration(gen: Generation, drainTimeMs: number): void {
    gen.drain.start();
    const timer = this.clock.setTimer(drainTimeMs, () => gen.drain.forceCloseAll());
    const done = gen.drain.whenIdle().then(() => {
      timer.cancel();
      gen.filter.close?.();
      this.drains.delete(done);
    });
    this.drains.add(done);
  }
}
