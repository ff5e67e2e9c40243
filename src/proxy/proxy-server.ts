// The proxy process, assembled in one readable place: config loading, the cluster
// manager, listeners with their filter chains, the admin server, reload and drain.
//
// A config version goes through three steps: validate (src/config), compile (route
// tables, access-log formats, filter factories — any problem found here is reported
// like a validation error), then swap (clusters first, then listeners). A failure at
// any step leaves the running version serving.

import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import YAML from 'yaml';
import { createDefaultHttpFilterRegistry, type HttpFilterRegistry } from '../config/http-filter-registry.js';
import { parseBootstrap } from '../config/load-bootstrap.js';
import type { Bootstrap, Listener, NetworkFilter } from '../config/model.js';
import type { Clock } from '../core/clock.js';
import { ConfigError, type ConfigIssue, WeftError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { compileHeaderValue, validateAccessLogFormat } from './access-log/formatter.js';
import { type AccessLogger, createAccessLogger } from './access-log/logger.js';
import { AdminServer } from './admin/admin-server.js';
import { createHttpConnectionManager } from './http/connection-manager.js';
import type { DrainSignal } from './listener/drain.js';
import { ListenerManager, type NetworkFilterInstance } from './listener/listener-manager.js';
import { createTcpProxyFactory } from './network/tcp-proxy.js';
import { compileRouteTable } from './router/route-table.js';
import { StatsStore } from './stats/store.js';
import { type ClusterManager, createClusterManager, type DnsResolver } from './upstream/cluster-manager.js';
import { createSystemResolver } from './upstream/dns.js';

export interface ProxyDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly resolver?: DnsResolver;
  readonly hostname?: string;
  /** Called when the admin API asks the process to exit (/quitquitquit). */
  readonly onExitRequested?: () => void;
}

export interface ProxyOptions {
  /** The Envoy v3 bootstrap (YAML or JSON). */
  readonly configPath: string;
  /** Envoy's `--admin-address-path`: the bound admin address is written here. */
  readonly adminAddressPath?: string;
  /** Envoy's `--drain-time-s`, in ms: how long draining connections may take. */
  readonly drainTimeMs: number;
}

/** One compiled config version. */
interface ConfigVersion {
  readonly version: number;
  readonly bootstrap: Bootstrap;
  /** The document as the user wrote it (for /config_dump). */
  readonly raw: unknown;
  readonly loadedAt: number;
  readonly builders: ReadonlyMap<string, (drain: DrainSignal) => NetworkFilterInstance>;
}

export type ReloadResult = { ok: true; version: number } | { ok: false; error: Error };

export class ProxyServer {
  readonly stats = new StatsStore();
  readonly clusters: ClusterManager;
  readonly listeners: ListenerManager;
  admin: AdminServer | null = null;
  private current: ConfigVersion | null = null;
  private readonly registry: HttpFilterRegistry = createDefaultHttpFilterRegistry();
  private readonly random: () => number;
  private readonly hostname: string;
  private connectionIds = 0;
  private versions = 0;
  private reloading: Promise<ReloadResult> | null = null;
  private shuttingDown: Promise<void> | null = null;
  private readonly reloadsOk;
  private readonly reloadsFailed;

  private constructor(
    readonly options: ProxyOptions,
    private readonly deps: ProxyDeps,
  ) {
    this.random = deps.random ?? Math.random;
    this.hostname = deps.hostname ?? osHostname();
    this.clusters = createClusterManager({
      stats: this.stats,
      clock: deps.clock,
      resolver: deps.resolver ?? createSystemResolver(),
      random: this.random,
    });
    this.listeners = new ListenerManager({ clock: deps.clock, logger: deps.logger });
    this.reloadsOk = this.stats.counter('server.config_reload_success');
    this.reloadsFailed = this.stats.counter('server.config_reload_failure');
  }

  /** Loads the config, starts clusters, listeners and the admin server. Throws ConfigError/WeftError. */
  static async start(options: ProxyOptions, deps: ProxyDeps): Promise<ProxyServer> {
    const proxy = new ProxyServer(options, deps);
    const version = await proxy.load();
    try {
      await proxy.activate(version);
      const admin = version.bootstrap.admin;
      if (admin !== null) {
        proxy.admin = await AdminServer.start(admin.address, proxy);
        deps.logger.info(`admin listening on ${proxy.admin.addressString}`);
        if (options.adminAddressPath !== undefined) {
          await writeFile(options.adminAddressPath, proxy.admin.addressString);
        }
      }
    } catch (err) {
      proxy.close();
      throw err;
    }
    return proxy;
  }

  get config(): ConfigVersion | null {
    return this.current;
  }

  get isDraining(): boolean {
    return this.listeners.isDraining;
  }

  /** Re-reads the config file; a bad config is reported and the running one stays. */
  reload(): Promise<ReloadResult> {
    if (this.shuttingDown !== null) return Promise.resolve({ ok: false, error: new Error('shutting down') });
    // Reloads are serialized; one asked for during another runs after it.
    const run = async (): Promise<ReloadResult> => {
      try {
        const version = await this.load();
        await this.activate(version);
        this.reloadsOk.value++;
        this.deps.logger.info(`config version ${version.version} active (${this.options.configPath})`);
        return { ok: true, version: version.version };
      } catch (err) {
        this.reloadsFailed.value++;
        this.deps.logger.error(
          `config reload rejected, version ${this.current?.version} keeps serving:\n${(err as Error).message}`,
        );
        return { ok: false, error: err as Error };
      }
    };
    const prev = this.reloading ?? Promise.resolve({ ok: true, version: 0 } as ReloadResult);
    const next = prev.then(run);
    this.reloading = next;
    return next;
  }

  /** Graceful shutdown: stop accepting, let in-flight requests finish (up to the drain time), close. */
  shutdown(): Promise<void> {
    if (this.shuttingDown === null) {
      this.shuttingDown = (async () => {
        this.deps.logger.info(`draining listeners (up to ${this.options.drainTimeMs} ms)`);
        await this.listeners.drainAll(this.options.drainTimeMs);
        this.close();
      })();
    }
    return this.shuttingDown;
  }

  /** /quitquitquit: the process owner decides how to exit (the CLI drains, then exits 0). */
  requestExit(): void {
    if (this.deps.onExitRequested !== undefined) this.deps.onExitRequested();
    else void this.shutdown();
  }

  /** /drain_listeners: stop accepting and drain, but keep the process (and admin) up. */
  drainListeners(): Promise<void> {
    return this.listeners.drainAll(this.options.drainTimeMs);
  }

  /** Closes everything now (listeners that are still open are closed without draining). */
  close(): void {
    void this.listeners.drainAll(0);
    this.clusters.close();
    this.admin?.close();
  }

  private async load(): Promise<ConfigVersion> {
    const path = this.options.configPath;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new WeftError(
        'WEFT_CONFIG_READ',
        `${path}: cannot read the config file: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const bootstrap = parseBootstrap(text, path, this.registry);
    const raw: unknown = YAML.parse(text);
    return this.compile(bootstrap, raw, path);
  }

  /** Compiles every listener's filter chain once; problems are reported as config errors. */
  private compile(bootstrap: Bootstrap, raw: unknown, source: string): ConfigVersion {
    const issues: ConfigIssue[] = [];
    const builders = new Map<string, (drain: DrainSignal) => NetworkFilterInstance>();
    bootstrap.staticResources.listeners.forEach((listener, li) => {
      const chain = listener.filterChains[0];
      const fi = chain.filters.length - 1;
      const path = `static_resources.listeners[${li}].filter_chains[0].filters[${fi}].typed_config`;
      builders.set(listener.name, this.compileNetworkFilter(listener, chain.filters[fi], path, issues));
    });
    if (issues.length > 0) throw new ConfigError(source, issues);
    return { version: ++this.versions, bootstrap, raw, loadedAt: this.deps.clock.now(), builders };
  }

  /**
   * Validates and compiles one network filter; returns the builder that makes a filter
   * chain instance per listener generation (each generation owns its access loggers).
   */
  private compileNetworkFilter(
    listener: Listener,
    filter: NetworkFilter,
    path: string,
    issues: ConfigIssue[],
  ): (drain: DrainSignal) => NetworkFilterInstance {
    const accessLogConfigs = filter.config.accessLog;
    for (const [i, c] of accessLogConfigs.entries())
      validateAccessLogFormat(c, `${path}.access_log[${i}]`, issues);
    const hostname = this.hostname;
    const openLoggers = (): AccessLogger[] =>
      accessLogConfigs.map((c, i) => createAccessLogger(c, { hostname }, `${path}.access_log[${i}]`, []));
    const closeLoggers = (loggers: AccessLogger[]) => () => {
      for (const l of loggers) void l.close();
    };
    const clock = this.deps.clock;
    const nextConnectionId = () => ++this.connectionIds;

    if (filter.kind === 'tcp_proxy') {
      const config = filter.config;
      return () => {
        const loggers = openLoggers();
        const factory = createTcpProxyFactory(config, {
          clusters: this.clusters,
          stats: this.stats,
          clock,
          log: (info) => {
            for (const l of loggers) l.log(info);
          },
          idGen: nextConnectionId,
        });
        return {
          managesDrain: false,
          handle: (socket) => factory.handle(socket),
          close: closeLoggers(loggers),
        };
      };
    }
    const hcm = filter.config;
    const routeTable = compileRouteTable(hcm.routeConfig, {
      random: this.random,
      compileHeaderValue: (value) => compileHeaderValue(value, `${path}.route_config`, issues),
    });
    return (drain) => {
      const loggers = openLoggers();
      const instance = createHttpConnectionManager(hcm, {
        clusters: this.clusters,
        stats: this.stats,
        clock,
        drain,
        routeTable,
        accessLoggers: loggers,
        bufferLimitBytes: listener.perConnectionBufferLimitBytes,
        nextConnectionId,
        newRequestId: randomUUID,
      });
      return {
        managesDrain: true,
        handle: (socket) => instance.handle(socket),
        close: closeLoggers(loggers),
      };
    };
  }

  private async activate(version: ConfigVersion): Promise<void> {
    const previous = this.current;
    this.clusters.update(version.bootstrap.staticResources.clusters);
    await this.clusters.whenInitialized();
    try {
      await this.listeners.update(
        version.bootstrap.staticResources.listeners,
        (listener, drain) => version.builders.get(listener.name)!(drain),
        this.options.drainTimeMs,
      );
    } catch (err) {
      if (previous !== null) this.clusters.update(previous.bootstrap.staticResources.clusters);
      throw err;
    }
    this.current = version;
  }
}
