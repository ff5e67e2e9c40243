// The proxy process, assembled in one readable place: config loading, the cluster
// manager, listeners with their filter chains, the admin server, reload and drain.
//
// A config version goes through three steps: validate (src/config), compile (route
// tables, access-log formats, filter factories — any problem found here is reported
// like a validation error), then swap (clusters first, then listeners). A failure at
// any step leaves the running version serving.
//
// With `dynamic_resources` in the bootstrap, the xDS runtime (src/proxy/xds) feeds a
// second part of the config: dynamic clusters and listeners, RDS route configurations
// (swapped in place in shared route tables) and EDS endpoints (pushed into clusters in
// place). Static and dynamic parts go through the same compile and swap; applying a
// dynamic config is serialized with file reloads.

import { readFile, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { createDefaultHttpFilterRegistry, type HttpFilterRegistry } from '../config/http-filter-registry.js';
import { parseBootstrapDocument, validateBootstrapDocument } from '../config/load-bootstrap.js';
import type {
  Bootstrap,
  Cluster,
  ClusterLoadAssignment,
  CommonTlsContext,
  DownstreamTlsContext,
  FilterChain,
  Listener,
  Locality,
  TerminalNetworkFilter,
} from '../config/model.js';
import type { Clock } from '../core/clock.js';
import { ConfigError, type ConfigIssue, WeftError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { XdsProtos } from '../xds/protos.js';
import { compileHeaderValue, validateAccessLogFormat } from './access-log/formatter.js';
import { type AccessLogger, createAccessLogger } from './access-log/logger.js';
import { AdminServer } from './admin/admin-server.js';
import { createHttpConnectionManager } from './http/connection-manager.js';
import { createRequestIdGenerator } from './http/request-id.js';
import { createConnectionDispatcher, type DispatchChain } from './listener/connection-dispatcher.js';
import type { DrainSignal } from './listener/drain.js';
import { ListenerManager, type NetworkFilterInstance } from './listener/listener-manager.js';
import {
  type ConnectionRateLimitDeps,
  terminalFilter,
  withConnectionRateLimits,
} from './network/local-ratelimit.js';
import type { NativeRelay } from './network/native-relay.js';
import type { NativeSocketIo } from './network/native-socket.js';
import { createTcpProxyFactory } from './network/tcp-proxy.js';
import type { RouteTable } from './router/route-table.js';
import { compileRouteTable } from './router/route-table.js';
import { StatsStore } from './stats/store.js';
import { DownstreamTlsFactory } from './tls/downstream-tls.js';
import { createFileSecretSource, readTlsMaterial, type SecretSource } from './tls/secret-source.js';
import { buildSecureContext } from './tls/secure-context.js';
import {
  type ClusterManager,
  configEqual,
  createClusterManager,
  type DnsResolver,
} from './upstream/cluster-manager.js';
import { nativeHttp1Connect } from './upstream/connect.js';
import { createSystemResolver } from './upstream/dns.js';
import { type DynamicConfig, EMPTY_DYNAMIC_CONFIG, listenerRdsNames } from './xds/dynamic-config.js';
import { createRdsRouteTable, type RdsRouteTable } from './xds/rds-route-table.js';
import type { XdsRuntime } from './xds/xds-runtime.js';

export interface ProxyDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly resolver?: DnsResolver;
  readonly hostname?: string;
  /** Called when the admin API asks the process to exit (/quitquitquit). */
  readonly onExitRequested?: () => void;
  /** The xDS client's dependencies (used when the bootstrap has dynamic_resources). */
  readonly xds?: XdsDeps;
  /** tcp_proxy's native byte path (native-relay.ts); absent or null: JavaScript. */
  readonly nativeRelay?: NativeRelay | null;
  /** Plain HTTP/1.1 sockets' I/O in C, both sides (native-socket.ts); absent or null: Node's. */
  readonly nativeIo?: NativeSocketIo | null;
}

export interface XdsDeps {
  /** The Envoy protos (loaded on first use; ~250 ms). */
  readonly protos: () => XdsProtos | Promise<XdsProtos>;
  /** The ADS client's clock (reconnect back-off, initial fetch timeouts); default deps.clock. */
  readonly clock?: Clock;
  /** Back-off jitter; default deps.random. */
  readonly random?: () => number;
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  readonly initialFetchTimeoutMs?: number;
  /** Sent as node.user_agent_version. */
  readonly version?: string;
}

export interface ProxyOptions {
  /** The Envoy v3 bootstrap file (YAML or JSON). One of configPath and bootstrap is required. */
  readonly configPath?: string;
  /** A bootstrap document built in memory (`weft proxy --xds` without -c). */
  readonly bootstrap?: unknown;
  /** Rewrites the parsed file before validation (`--xds`/`--node` given with -c). */
  readonly transformBootstrap?: (raw: unknown) => unknown;
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
  readonly builders: ReadonlyMap<string, Builder>;
}

type Builder = (
  drain: DrainSignal,
  boundAddress: () => { address: string; port: number },
) => NetworkFilterInstance;

/** One filter chain of a listener, compiled: its network filter and (TLS chains) its TLS context. */
interface CompiledChain {
  readonly match: FilterChain['match'];
  readonly tls: DownstreamTlsContext | null;
  readonly tlsTimeoutMs: number | null;
  readonly build: (drain: DrainSignal) => NetworkFilterInstance;
}

/** A compiled dynamic listener, kept while its config is unchanged. */
interface DynamicBuilder {
  readonly config: Listener;
  readonly build: Builder;
}

export type ReloadResult = { ok: true; version: number } | { ok: false; error: Error };

export class ProxyServer {
  readonly stats = new StatsStore();
  readonly clusters: ClusterManager;
  readonly listeners: ListenerManager;
  admin: AdminServer | null = null;
  /** The xDS client, when the bootstrap has dynamic_resources. */
  xds: XdsRuntime | null = null;
  private current: ConfigVersion | null = null;
  /** `node.locality` (zone-aware routing); node cannot change on reload. */
  private localLocality: Locality | null = null;
  private dynamic: DynamicConfig = EMPTY_DYNAMIC_CONFIG;
  private dynamicBuilders = new Map<string, DynamicBuilder>();
  /** Shared by every HCM with `rds` naming the same route configuration. */
  private readonly rdsTables = new Map<string, RdsRouteTable>();
  private appliedRoutes = new Map<string, unknown>();
  private appliedEndpoints = new Map<string, ClusterLoadAssignment>();
  private readonly registry: HttpFilterRegistry = createDefaultHttpFilterRegistry();
  private readonly random: () => number;
  /** x-request-id values for every HTTP listener (http/request-id.ts). */
  private readonly newRequestId = createRequestIdGenerator();
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
      localLocality: () => this.localLocality,
      log: (message) => deps.logger.warn(message),
      connectHttp1: deps.nativeIo != null ? nativeHttp1Connect(deps.nativeIo) : undefined,
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
      await proxy.activate(version, proxy.dynamic, proxy.dynamicBuilders);
      const admin = version.bootstrap.admin;
      if (admin !== null) {
        proxy.admin = await AdminServer.start(admin.address, proxy);
        deps.logger.info(`admin listening on ${proxy.admin.addressString}`);
        if (options.adminAddressPath !== undefined) {
          await writeFile(options.adminAddressPath, proxy.admin.addressString);
        }
      }
      if (version.bootstrap.dynamicResources !== null) await proxy.startXds(version.bootstrap);
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
        this.checkXdsUnchanged(version.bootstrap);
        await this.activate(version, this.dynamic, this.dynamicBuilders);
        this.reloadsOk.value++;
        this.deps.logger.info(`config version ${version.version} active (${this.source})`);
        return { ok: true, version: version.version };
      } catch (err) {
        this.reloadsFailed.value++;
        this.deps.logger.error(
          `config reload rejected, version ${this.current?.version} keeps serving:\n${(err as Error).message}`,
        );
        return { ok: false, error: err as Error };
      }
    };
    return this.serialize(run);
  }

  /**
   * Applies the config the xDS runtime assembled: compiles new route tables and listeners,
   * updates EDS endpoints in place, swaps route tables, then clusters and listeners. Throws
   * (with the running config untouched, except EDS endpoints) when any step fails.
   */
  async applyDynamic(config: DynamicConfig): Promise<void> {
    const result = await this.serialize(async (): Promise<ReloadResult> => {
      // A draining proxy binds nothing new; the update is refused (and so NACKed).
      if (this.shuttingDown !== null || this.listeners.isDraining) {
        return { ok: false, error: new Error('the proxy is draining') };
      }
      try {
        await this.activateDynamic(config);
        return { ok: true, version: this.current?.version ?? 0 };
      } catch (err) {
        return { ok: false, error: err as Error };
      }
    });
    if (!result.ok) throw result.error;
  }

  /** Runs config changes one at a time; one asked for during another runs after it. */
  private serialize(run: () => Promise<ReloadResult>): Promise<ReloadResult> {
    const prev = this.reloading ?? Promise.resolve({ ok: true, version: 0 } as ReloadResult);
    const next = prev.then(run);
    this.reloading = next;
    return next;
  }

  /** The config source, for messages. */
  private get source(): string {
    return this.options.configPath ?? 'bootstrap (--xds)';
  }

  /**
   * The xDS client and gRPC are loaded only when the bootstrap asks for them, so a proxy on
   * a static file does not carry them (startup time and memory).
   */
  private async startXds(bootstrap: Bootstrap): Promise<void> {
    const xds = this.deps.xds;
    if (xds === undefined) throw new Error('dynamic_resources needs the xDS dependencies (ProxyDeps.xds)');
    const protos = await xds.protos();
    const { createXdsRuntime } = await import('./xds/xds-runtime.js');
    this.xds = createXdsRuntime({
      bootstrap,
      registry: this.registry,
      protos,
      clock: xds.clock ?? this.deps.clock,
      random: xds.random ?? this.random,
      logger: this.deps.logger,
      backoff: xds.backoff,
      initialFetchTimeoutMs: xds.initialFetchTimeoutMs,
      version: xds.version,
      stats: this.stats,
      apply: (config) => this.applyDynamic(config),
    });
    this.xds.start();
  }

  /** The xDS client's identity and source cannot change under it: that needs a restart (as in Envoy). */
  private checkXdsUnchanged(next: Bootstrap): void {
    const running = this.current?.bootstrap;
    if (running === undefined || (running.dynamicResources === null && next.dynamicResources === null))
      return;
    const adsCluster = (b: Bootstrap) =>
      b.staticResources.clusters.find((c) => c.name === b.dynamicResources?.ads.clusterName) ?? null;
    if (
      !configEqual(running.dynamicResources, next.dynamicResources) ||
      !configEqual(running.node, next.node) ||
      !configEqual(adsCluster(running), adsCluster(next))
    ) {
      throw new ConfigError(this.source, [
        {
          path: 'dynamic_resources',
          message: 'node, dynamic_resources and the xDS cluster cannot change on reload; restart the proxy',
        },
      ]);
    }
  }

  /** Graceful shutdown: stop accepting, let in-flight requests finish (up to the drain time), close. */
  shutdown(): Promise<void> {
    if (this.shuttingDown === null) {
      // No xDS update may re-bind a listener while they drain.
      this.xds?.close();
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
    this.xds?.close();
    void this.listeners.drainAll(0);
    this.clusters.close();
    this.admin?.close();
  }

  private async load(): Promise<ConfigVersion> {
    const path = this.options.configPath;
    if (path === undefined) {
      // An in-memory bootstrap (--xds): JSON is YAML, so it takes the file's path through the validators.
      const raw = this.options.bootstrap ?? {};
      return this.compile(validateBootstrapDocument(raw, this.source, this.registry), raw, this.source);
    }
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
    let raw = parseBootstrapDocument(text, path);
    if (this.options.transformBootstrap !== undefined) raw = this.options.transformBootstrap(raw);
    const bootstrap = validateBootstrapDocument(raw, path, this.registry);
    return this.compile(bootstrap, raw, path);
  }

  /** Compiles every listener's filter chain once; problems are reported as config errors. */
  private compile(bootstrap: Bootstrap, raw: unknown, source: string): ConfigVersion {
    const issues: ConfigIssue[] = [];
    const builders = new Map<string, Builder>();
    bootstrap.staticResources.listeners.forEach((listener, li) => {
      builders.set(
        listener.name,
        this.compileListener(listener, `static_resources.listeners[${li}]`, issues),
      );
    });
    bootstrap.staticResources.clusters.forEach((c, ci) => {
      checkClusterTls(c, `static_resources.clusters[${ci}].transport_socket`, issues);
    });
    if (issues.length > 0) throw new ConfigError(source, issues);
    return { version: ++this.versions, bootstrap, raw, loadedAt: this.deps.clock.now(), builders };
  }

  /**
   * Compiles a listener's filter chains. A listener with one plain chain and no listener
   * filters hands its sockets straight to that chain's network filter; any other goes
   * through the connection dispatcher (listener filters, chain matching, TLS).
   */
  private compileListener(listener: Listener, path: string, issues: ConfigIssue[]): Builder {
    const sep = path.endsWith(':') ? ' ' : '.';
    const chain = (c: FilterChain, at: string): CompiledChain => {
      const fi = c.filters.length - 1;
      const terminal = this.compileNetworkFilter(
        listener,
        terminalFilter(c.filters),
        `${path}${sep}${at}.filters[${fi}].typed_config`,
        issues,
      );
      const build = withConnectionRateLimits(c.filters, this.connectionLimitDeps(), terminal);
      const tls = c.transportSocket ?? null;
      if (tls !== null)
        checkTlsMaterial(tls.commonTlsContext, 'server', `${path}${sep}${at}.transport_socket`, issues);
      return { match: c.match, tls, tlsTimeoutMs: c.transportSocketConnectTimeoutMs ?? null, build };
    };
    const chains = listener.filterChains.map((c, ci) => chain(c, `filter_chains[${ci}]`));
    const defaultChain =
      listener.defaultFilterChain == null ? null : chain(listener.defaultFilterChain, 'default_filter_chain');
    if (
      chains.length === 1 &&
      defaultChain === null &&
      listener.listenerFilters === undefined &&
      chains[0].tls === null &&
      chains[0].tlsTimeoutMs === null &&
      chains[0].match === undefined
    ) {
      const only = chains[0].build;
      return (drain) => only(drain);
    }
    const { clock, logger } = this.deps;
    const stats = this.stats;
    return (drain, boundAddress) => {
      const sources: SecretSource[] = [];
      const filters: NetworkFilterInstance[] = [];
      let onContextUpdate = (_err: Error | null): void => {};
      const instantiate = (c: CompiledChain): DispatchChain => {
        const filter = c.build(drain);
        filters.push(filter);
        let tls: DownstreamTlsFactory | null = null;
        if (c.tls !== null) {
          const source = createFileSecretSource(c.tls.commonTlsContext, (message) =>
            logger.error(`listener '${listener.name}': ${message}`),
          );
          sources.push(source);
          tls = new DownstreamTlsFactory(c.tls, source, (err) => onContextUpdate(err));
        }
        return { match: c.match, tls, tlsTimeoutMs: c.tlsTimeoutMs, filter };
      };
      const dispatcher = createConnectionDispatcher({
        listenerName: listener.name,
        chains: chains.map(instantiate),
        defaultChain: defaultChain === null ? null : instantiate(defaultChain),
        listenerFilters: listener.listenerFilters ?? null,
        drain,
        clock,
        stats,
        logger,
        boundAddress,
        close: () => {
          for (const s of sources) s.close();
          for (const f of filters) f.close?.();
        },
      });
      onContextUpdate = (err) => dispatcher.contextUpdated(err);
      return dispatcher;
    };
  }

  /**
   * Validates and compiles one network filter; returns the builder that makes a filter
   * chain instance per listener generation (each generation owns its access loggers).
   */
  private connectionLimitDeps(): ConnectionRateLimitDeps {
    return { stats: this.stats, clock: this.deps.clock };
  }

  private compileNetworkFilter(
    listener: Listener,
    filter: TerminalNetworkFilter,
    path: string,
    issues: ConfigIssue[],
  ): (drain: DrainSignal) => NetworkFilterInstance {
    const accessLogConfigs = filter.config.accessLog;
    for (const [i, c] of accessLogConfigs.entries())
      validateAccessLogFormat(c, `${path}.access_log[${i}]`, issues);
    const hostname = this.hostname;
    const openLoggers = (): AccessLogger[] =>
      accessLogConfigs.map((c, i) =>
        createAccessLogger(c, { hostname, random: this.random }, `${path}.access_log[${i}]`, []),
      );
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
          random: this.random,
          nativeRelay: this.deps.nativeRelay ?? null,
        });
        return {
          managesDrain: false,
          handle: (socket) => factory.handle(socket),
          close: () => {
            factory.close();
            closeLoggers(loggers)();
          },
        };
      };
    }
    const hcm = filter.config;
    const routeTable: RouteTable =
      hcm.rds !== null
        ? this.rdsTable(hcm.rds.routeConfigName)
        : compileRouteTable(hcm.routeConfig, {
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
        random: this.random,
        nextConnectionId,
        newRequestId: this.newRequestId,
        nativeIo: this.deps.nativeIo ?? null,
      });
      return {
        managesDrain: true,
        handle: (socket) => instance.handle(socket),
        close: closeLoggers(loggers),
      };
    };
  }

  private rdsTable(name: string): RdsRouteTable {
    let t = this.rdsTables.get(name);
    if (t === undefined) {
      t = createRdsRouteTable(name);
      this.rdsTables.set(name, t);
    }
    return t;
  }

  private async activateDynamic(config: DynamicConfig): Promise<void> {
    const version = this.current;
    if (version === null) throw new Error('the proxy is not started');
    // 1. Compile what changed (route tables, listeners); any problem is a config error.
    const issues: ConfigIssue[] = [];
    const tables = new Map<string, RouteTable>();
    for (const [name, rc] of config.routes) {
      if (this.appliedRoutes.get(name) === rc) continue;
      tables.set(
        name,
        compileRouteTable(rc, {
          random: this.random,
          compileHeaderValue: (value) => compileHeaderValue(value, `RouteConfiguration '${name}'`, issues),
        }),
      );
    }
    const builders = new Map<string, DynamicBuilder>();
    for (const listener of config.listeners) {
      const kept = this.dynamicBuilders.get(listener.name);
      if (kept !== undefined && configEqual(kept.config, listener)) {
        builders.set(listener.name, kept);
        continue;
      }
      const build = this.compileListener(listener, `Listener '${listener.name}':`, issues);
      builders.set(listener.name, { config: listener, build });
    }
    for (const c of config.clusters) checkClusterTls(c, `Cluster '${c.name}': transport_socket`, issues);
    if (issues.length > 0) throw new ConfigError('xds', issues);

    // 2. EDS endpoints change hosts in place (clusters and listeners stay).
    for (const [name, cla] of config.endpoints) {
      if (this.appliedEndpoints.get(name) !== cla) this.clusters.setEndpoints(name, cla);
    }
    for (const name of this.appliedEndpoints.keys()) {
      if (!config.endpoints.has(name)) this.clusters.setEndpoints(name, null);
    }
    this.appliedEndpoints = new Map(config.endpoints);

    // 3. RDS: new route tables, swapped in place; restored if the listeners cannot be applied.
    const previousTables = new Map<string, RouteTable | null>();
    for (const [name, table] of tables) {
      const holder = this.rdsTable(name);
      previousTables.set(name, holder.current);
      holder.set(table);
    }
    try {
      await this.activate(version, config, builders);
    } catch (err) {
      for (const [name, table] of previousTables) if (table !== null) this.rdsTable(name).set(table);
      throw err;
    }
    this.appliedRoutes = new Map(config.routes);
    this.dynamic = config;
    this.dynamicBuilders = builders;
  }

  private async activate(
    version: ConfigVersion,
    dynamic: DynamicConfig,
    dynamicBuilders: ReadonlyMap<string, DynamicBuilder>,
  ): Promise<void> {
    const previous = this.current;
    this.localLocality = version.bootstrap.node?.locality ?? null;
    const previousClusters =
      previous === null ? [] : [...previous.bootstrap.staticResources.clusters, ...this.dynamic.clusters];
    this.clusters.update([...version.bootstrap.staticResources.clusters, ...dynamic.clusters]);
    await this.clusters.whenInitialized();
    // A static listener with RDS is bound once its routes arrived (Envoy's listener warming).
    const staticListeners = version.bootstrap.staticResources.listeners.filter((l) =>
      listenerRdsNames(l).every((n) => this.rdsTables.get(n)?.ready === true),
    );
    try {
      await this.listeners.update(
        [...staticListeners, ...dynamic.listeners],
        (listener, drain, boundAddress) =>
          (version.builders.get(listener.name) ?? dynamicBuilders.get(listener.name)!.build)(
            drain,
            boundAddress,
          ),
        this.options.drainTimeMs,
      );
    } catch (err) {
      if (previous !== null) this.clusters.update(previousClusters);
      throw err;
    }
    this.current = version;
  }
}

/** Reads a TLS context's certificate material and builds a SecureContext from it once, so a bad pair is a config error. */
function checkTlsMaterial(
  ctx: CommonTlsContext,
  side: 'server' | 'client',
  path: string,
  issues: ConfigIssue[],
): void {
  try {
    buildSecureContext(ctx, readTlsMaterial(ctx), side);
  } catch (err) {
    issues.push({ path, message: `cannot use the TLS certificates: ${(err as Error).message}` });
  }
}

function checkClusterTls(cluster: Cluster, path: string, issues: ConfigIssue[]): void {
  if (cluster.transportSocket !== undefined)
    checkTlsMaterial(cluster.transportSocket.commonTlsContext, 'client', path, issues);
}
