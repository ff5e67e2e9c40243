// The proxy's xDS state: every resource it accepted (LDS, CDS, RDS, EDS), which version of
// each is active, and the rules that turn updates into an applied config.
//
// An update is judged as a whole: every resource is validated with the src/config
// validators and cross-checked (a static name reused, a cluster that is not defined); any
// problem rejects the update (the ADS client NACKs it with the messages, each naming the
// resource and the field path) and nothing of it is used.
//
// Accepted resources become active in Envoy's warming order
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/operations/init#initialization):
// an EDS cluster is active once its endpoints arrived; a route configuration once the
// clusters it names that are known but still warming are active; a listener once its RDS
// route configurations and its clusters are. Until then the version that was active keeps
// serving (Envoy's "warming" listeners and clusters). A resource that never arrives stops
// blocking after initial_fetch_timeout (15 s, Envoy's default): the cluster then has no
// hosts, the route configuration no routes. A cluster removed by CDS stays while an active
// listener or route still sends traffic to it.
//
// Which RDS and EDS names to subscribe to follows from the accepted listeners and clusters
// (plus the static ones); resources nobody references any more are dropped.

import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../../config/model.js';
import { emptyRouteConfiguration } from '../../config/validate-http-connection-manager.js';
import type { ClusterRef } from '../../config/validation-context.js';
import type { Clock, Timer } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { JsonObject } from '../../xds/json-codec.js';
import { resourceVersion } from '../../xds/snapshot.js';
import type { AdsHandler, AdsUpdate, AdsVerdict } from './ads-client.js';
import { type DynamicConfig, listenerClusters, listenerRdsNames, routeClusters } from './dynamic-config.js';
import type { ResourceType, ResourceTypes } from './resource-types.js';

/** Envoy's ConfigSource.initial_fetch_timeout default. */
export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;
/** NACK details longer than this are cut (error_detail is meant for humans, not for dumps). */
const MAX_DETAIL_CHARS = 4096;

export interface ResourceEntry<T> {
  readonly name: string;
  /** The version the control plane gave it (SotW: the response's version_info). */
  readonly version: string;
  readonly json: JsonObject;
  readonly value: T;
  /** Clock.now() when its content last changed. */
  readonly lastUpdated: number;
  /** Content hash: an update with an equal hash changes nothing (no churn). */
  readonly hash: string;
}

interface State {
  readonly listeners: Map<string, ResourceEntry<Listener>>;
  readonly clusters: Map<string, ResourceEntry<Cluster>>;
  readonly routes: Map<string, ResourceEntry<RouteConfiguration>>;
  readonly endpoints: Map<string, ResourceEntry<ClusterLoadAssignment>>;
}

interface Active {
  readonly listeners: Map<string, ResourceEntry<Listener>>;
  readonly clusters: Map<string, ResourceEntry<Cluster>>;
  readonly routes: Map<string, ResourceEntry<RouteConfiguration>>;
}

export interface XdsDump {
  readonly listeners: {
    readonly active: readonly ResourceEntry<Listener>[];
    readonly warming: readonly ResourceEntry<Listener>[];
  };
  readonly clusters: {
    readonly active: readonly ResourceEntry<Cluster>[];
    readonly warming: readonly ResourceEntry<Cluster>[];
  };
  readonly routes: readonly ResourceEntry<RouteConfiguration>[];
  readonly endpoints: readonly ResourceEntry<ClusterLoadAssignment>[];
}

export interface DynamicResourcesDeps {
  readonly types: ResourceTypes;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly staticListeners: readonly Listener[];
  readonly staticClusters: readonly Cluster[];
  /** Applies a new dynamic config; throws (nothing changed) when it cannot. */
  apply(config: DynamicConfig): Promise<void>;
  /** Sets the names wanted for RDS or EDS. */
  subscribe(typeUrl: string, names: readonly string[]): void;
  readonly initialFetchTimeoutMs?: number;
}

export interface DynamicResources extends AdsHandler {
  /** Subscribes what the static resources need (RDS names, EDS service names). */
  start(): void;
  dump(): XdsDump;
  /** Settles once every queued update and timeout has been applied. */
  idle(): Promise<void>;
  close(): void;
}

const edsName = (c: Cluster): string => c.edsServiceName ?? c.name;

class DynamicResourcesImpl implements DynamicResources {
  private state: State = {
    listeners: new Map(),
    clusters: new Map(),
    routes: new Map(),
    endpoints: new Map(),
  };
  private active: Active = { listeners: new Map(), clusters: new Map(), routes: new Map() };
  private readonly staticClusterNames: Set<string>;
  private readonly staticListenerNames: Set<string>;
  /** "rds:name" / "eds:name" whose initial fetch timed out. */
  private readonly timedOut = new Set<string>();
  private readonly fetchTimers = new Map<string, Timer>();
  private chain: Promise<unknown> = Promise.resolve();
  private wantedRds: string[] = [];
  private wantedEds: string[] = [];
  private closed = false;

  constructor(private readonly deps: DynamicResourcesDeps) {
    this.staticClusterNames = new Set(deps.staticClusters.map((c) => c.name));
    this.staticListenerNames = new Set(deps.staticListeners.map((l) => l.name));
  }

  start(): void {
    this.updateSubscriptions(this.state, this.active);
  }

  onUpdate(update: AdsUpdate): Promise<AdsVerdict> {
    const run = this.chain.then(() => this.handle(update));
    this.chain = run.catch(() => {});
    return run;
  }

  idle(): Promise<void> {
    return this.chain.then(() => {});
  }

  close(): void {
    this.closed = true;
    for (const t of this.fetchTimers.values()) t.cancel();
    this.fetchTimers.clear();
  }

  dump(): XdsDump {
    const warming = <T>(accepted: Map<string, ResourceEntry<T>>, active: Map<string, ResourceEntry<T>>) =>
      [...accepted.values()].filter((e) => active.get(e.name)?.hash !== e.hash);
    return {
      listeners: {
        active: [...this.active.listeners.values()],
        warming: warming(this.state.listeners, this.active.listeners),
      },
      clusters: {
        active: [...this.active.clusters.values()],
        warming: warming(this.state.clusters, this.active.clusters),
      },
      routes: [...this.active.routes.values()].filter((e) => e.version !== ''),
      endpoints: [...this.state.endpoints.values()],
    };
  }

  // ---- updates ------------------------------------------------------------------------------------

  private async handle(update: AdsUpdate): Promise<AdsVerdict> {
    const { types } = this.deps;
    const type = [types.listener, types.cluster, types.route, types.endpoint].find(
      (t) => t.typeUrl === update.typeUrl,
    );
    if (type === undefined) return { ok: false, message: `resource type ${update.typeUrl} is not supported` };
    const errors: string[] = [];
    const refs = new Map<string, readonly ClusterRef[]>();
    const validated = this.validate(type as ResourceType<unknown>, update, errors, refs);
    if (errors.length > 0) return reject(errors);

    const next: State = {
      listeners: new Map(this.state.listeners),
      clusters: new Map(this.state.clusters),
      routes: new Map(this.state.routes),
      endpoints: new Map(this.state.endpoints),
    };
    const target = this.mapOf(next, type.short) as Map<string, ResourceEntry<unknown>>;
    if (update.complete) target.clear();
    for (const name of update.removed) target.delete(name);
    for (const [name, entry] of validated) target.set(name, entry);

    this.crossCheck(type, validated, refs, next, errors);
    if (errors.length > 0) return reject(errors);

    try {
      await this.commit(next);
    } catch (err) {
      return reject([`applying ${type.short} version ${update.versionInfo}: ${(err as Error).message}`]);
    }
    return { ok: true };
  }

  /** Validates every resource of the update; reuses the accepted entry when the content is unchanged. */
  private validate(
    type: ResourceType<unknown>,
    update: AdsUpdate,
    errors: string[],
    refs: Map<string, readonly ClusterRef[]>,
  ): Map<string, ResourceEntry<unknown>> {
    const out = new Map<string, ResourceEntry<unknown>>();
    const current = this.mapOf(this.state, type.short) as Map<string, ResourceEntry<unknown>>;
    const now = this.deps.clock.now();
    for (const [i, r] of update.resources.entries()) {
      const label = `${type.kind} '${r.name}'`;
      if (r.name === '') {
        errors.push(`${type.kind} resources[${i}]: the resource has no name`);
        continue;
      }
      if (out.has(r.name)) {
        errors.push(`${label}: sent twice in one response`);
        continue;
      }
      const ownName = r.json.name ?? r.json.cluster_name;
      if (ownName !== r.name) {
        errors.push(`${label}: the resource calls itself '${String(ownName ?? '')}'`);
        continue;
      }
      const hash = resourceVersion(r.json);
      const prev = current.get(r.name);
      if (prev !== undefined && prev.hash === hash) {
        out.set(r.name, { ...prev, version: r.version });
        continue;
      }
      const result = type.validate(r.json);
      if (result.value === null) {
        for (const issue of result.issues) errors.push(`${label}: ${issue.path}: ${issue.message}`);
        continue;
      }
      out.set(r.name, {
        name: r.name,
        version: r.version,
        json: r.json,
        value: result.value,
        lastUpdated: now,
        hash,
      });
      refs.set(r.name, result.clusterRefs);
    }
    return out;
  }

  /**
   * Checks what needs the whole state: names shared with static resources, and clusters that
   * must exist (tcp_proxy, and routes with validate_clusters) among the static and CDS ones.
   */
  private crossCheck(
    type: ResourceType<unknown>,
    validated: Map<string, ResourceEntry<unknown>>,
    refs: Map<string, readonly ClusterRef[]>,
    next: State,
    errors: string[],
  ): void {
    const defined = (name: string) => this.staticClusterNames.has(name) || next.clusters.has(name);
    for (const name of validated.keys()) {
      const label = `${type.kind} '${name}'`;
      if (type.short === 'CDS' && this.staticClusterNames.has(name)) {
        errors.push(`${label}: name: a static cluster is already called '${name}'`);
      }
      if (type.short === 'LDS' && this.staticListenerNames.has(name)) {
        errors.push(`${label}: name: a static listener is already called '${name}'`);
      }
      for (const ref of refs.get(name) ?? []) {
        if (!defined(ref.name)) errors.push(`${label}: ${ref.path}: cluster '${ref.name}' is not defined`);
      }
    }
  }

  /** Computes the active config from `next`, applies it, and on success makes `next` current. */
  private async commit(next: State): Promise<void> {
    const active = this.reconcile(next);
    this.dropUnreferenced(next, active);
    await this.deps.apply(this.configOf(next, active));
    this.state = next;
    this.active = active;
    this.updateSubscriptions(next, active);
  }

  /** Warming: which version of each resource serves now. */
  private reconcile(next: State): Active {
    const prev = this.active;
    const clusters = new Map<string, ResourceEntry<Cluster>>();
    for (const [name, e] of next.clusters) {
      const warm =
        e.value.type !== 'EDS' ||
        next.endpoints.has(edsName(e.value)) ||
        this.timedOut.has(`eds:${edsName(e.value)}`);
      const kept = prev.clusters.get(name);
      if (warm) clusters.set(name, e);
      else if (kept !== undefined) clusters.set(name, kept);
    }
    // A cluster the control plane does not (or no longer) know never blocks: routes to it
    // get 503 at request time, as in Envoy. One that is known but warming does.
    const ready = (c: string) => this.staticClusterNames.has(c) || clusters.has(c) || !next.clusters.has(c);

    const routes = new Map<string, ResourceEntry<RouteConfiguration>>();
    for (const name of this.rdsNames(next)) {
      const e = next.routes.get(name);
      const kept = prev.routes.get(name);
      if (e !== undefined && routeClusters(e.value).every(ready)) routes.set(name, e);
      else if (kept !== undefined) routes.set(name, kept);
      else if (e === undefined && this.timedOut.has(`rds:${name}`)) {
        // Never arrived: serve no routes (404) rather than keep the listener down forever.
        const value = emptyRouteConfiguration(name);
        routes.set(name, {
          name,
          version: '',
          json: {},
          value,
          lastUpdated: this.deps.clock.now(),
          hash: '',
        });
      }
    }

    const listeners = new Map<string, ResourceEntry<Listener>>();
    for (const [name, e] of next.listeners) {
      const isReady =
        listenerRdsNames(e.value).every((r) => routes.has(r)) && listenerClusters(e.value).every(ready);
      const kept = prev.listeners.get(name);
      if (isReady) listeners.set(name, e);
      else if (kept !== undefined) listeners.set(name, kept);
    }

    // Clusters CDS removed stay while something active still routes to them.
    const used = new Set<string>();
    for (const l of [...listeners.values()].map((e) => e.value).concat(this.deps.staticListeners)) {
      for (const c of listenerClusters(l)) used.add(c);
    }
    for (const r of routes.values()) for (const c of routeClusters(r.value)) used.add(c);
    for (const name of used) {
      const kept = prev.clusters.get(name);
      if (!clusters.has(name) && !next.clusters.has(name) && kept !== undefined) clusters.set(name, kept);
    }
    return { listeners, clusters, routes };
  }

  /** RDS names wanted: static listeners, accepted listeners, and listeners still active. */
  private rdsNames(next: State, active?: Active): Set<string> {
    const names = new Set<string>();
    const add = (l: Listener) => {
      for (const n of listenerRdsNames(l)) names.add(n);
    };
    for (const l of this.deps.staticListeners) add(l);
    for (const e of next.listeners.values()) add(e.value);
    for (const e of (active ?? this.active).listeners.values()) add(e.value);
    return names;
  }

  private edsNames(next: State, active: Active): Set<string> {
    const names = new Set<string>();
    for (const c of this.deps.staticClusters) if (c.type === 'EDS') names.add(edsName(c));
    for (const e of next.clusters.values()) if (e.value.type === 'EDS') names.add(edsName(e.value));
    for (const e of active.clusters.values()) if (e.value.type === 'EDS') names.add(edsName(e.value));
    return names;
  }

  private dropUnreferenced(next: State, active: Active): void {
    const rds = this.rdsNames(next, active);
    for (const name of [...next.routes.keys()]) if (!rds.has(name)) next.routes.delete(name);
    const eds = this.edsNames(next, active);
    for (const name of [...next.endpoints.keys()]) if (!eds.has(name)) next.endpoints.delete(name);
  }

  private configOf(next: State, active: Active): DynamicConfig {
    const routes = new Map<string, RouteConfiguration>();
    for (const [name, e] of active.routes) routes.set(name, e.value);
    const endpoints = new Map<string, ClusterLoadAssignment>();
    for (const [name, e] of next.endpoints) endpoints.set(name, e.value);
    return {
      clusters: [...active.clusters.values()].map((e) => e.value),
      listeners: [...active.listeners.values()].map((e) => e.value),
      routes,
      endpoints,
    };
  }

  // ---- subscriptions and initial fetch timeouts ---------------------------------------------------------

  private updateSubscriptions(state: State, active: Active): void {
    if (this.closed) return;
    const rds = [...this.rdsNames(state, active)].sort();
    const eds = [...this.edsNames(state, active)].sort();
    if (rds.join('\0') !== this.wantedRds.join('\0')) {
      this.wantedRds = rds;
      this.deps.subscribe(this.deps.types.route.typeUrl, rds);
    }
    if (eds.join('\0') !== this.wantedEds.join('\0')) {
      this.wantedEds = eds;
      this.deps.subscribe(this.deps.types.endpoint.typeUrl, eds);
    }
    const waiting = new Set<string>();
    for (const n of rds) if (!state.routes.has(n)) waiting.add(`rds:${n}`);
    for (const n of eds) if (!state.endpoints.has(n)) waiting.add(`eds:${n}`);
    for (const [key, timer] of this.fetchTimers) {
      if (!waiting.has(key)) {
        timer.cancel();
        this.fetchTimers.delete(key);
      }
    }
    const timeout = this.deps.initialFetchTimeoutMs ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
    for (const key of waiting) {
      if (this.fetchTimers.has(key) || this.timedOut.has(key)) continue;
      this.fetchTimers.set(
        key,
        this.deps.clock.setTimer(timeout, () => this.onFetchTimeout(key)),
      );
    }
  }

  private onFetchTimeout(key: string): void {
    this.fetchTimers.delete(key);
    if (this.closed) return;
    this.timedOut.add(key);
    this.deps.logger.warn(
      `xds: ${key.replace(':', ' ')} not received within the initial fetch timeout; using it empty`,
    );
    const run = this.chain.then(() =>
      this.commit(this.state).catch((err: Error) =>
        this.deps.logger.error(`xds: applying after the initial fetch timeout failed: ${err.message}`),
      ),
    );
    this.chain = run;
  }

  private mapOf(state: State, short: string): Map<string, ResourceEntry<unknown>> {
    switch (short) {
      case 'LDS':
        return state.listeners;
      case 'CDS':
        return state.clusters;
      case 'RDS':
        return state.routes;
      default:
        return state.endpoints;
    }
  }
}

function reject(errors: string[]): AdsVerdict {
  let message = errors.join('; ');
  if (message.length > MAX_DETAIL_CHARS)
    message = `${message.slice(0, MAX_DETAIL_CHARS)}... (${errors.length} errors)`;
  return { ok: false, message };
}

export function createDynamicResources(deps: DynamicResourcesDeps): DynamicResources {
  return new DynamicResourcesImpl(deps);
}
