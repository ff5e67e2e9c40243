// Validation of `envoy.config.bootstrap.v3.Bootstrap` (node, admin, static_resources,
// dynamic_resources) and the checks that need the whole config: unique listener names and
// addresses, unique cluster names, every cluster a route or tcp_proxy names being defined
// (unless clusters also come from CDS), the ADS gRPC cluster being a static cluster, and
// RDS / EDS being used only with an ADS source.

import type { ConfigIssue } from '../core/errors.js';
import { readMessage } from './fields.js';
import type { HttpFilterRegistry } from './http-filter-registry.js';
import type { Admin, Bootstrap, Cluster, DynamicResources, Listener, NodeInfo } from './model.js';
import { DEFAULT_ACCESS_LOG_FORMAT, validateAccessLog } from './validate-access-log.js';
import { readAddress } from './validate-address.js';
import { readLocality, validateCluster } from './validate-cluster.js';
import { ADS_CLUSTER_PATH, validateDynamicResources } from './validate-dynamic-resources.js';
import { validateListener } from './validate-listener.js';
import {
  checkClusterRefs,
  createValidationContext,
  type ValidationContextOptions,
} from './validation-context.js';

export interface BootstrapResult {
  /** The validated, frozen config; null whenever there are issues. */
  readonly bootstrap: Bootstrap | null;
  readonly issues: ConfigIssue[];
}

export function validateBootstrap(
  raw: unknown,
  registry: HttpFilterRegistry,
  options: ValidationContextOptions = {},
): BootstrapResult {
  const issues: ConfigIssue[] = [];
  const ctx = createValidationContext(registry, options);
  const r = readMessage(raw, '', issues);

  let node: NodeInfo | null = null;
  const n = r.message('node');
  if (n !== null) {
    const loc = n.message('locality');
    node = {
      id: n.string('id') ?? '',
      cluster: n.string('cluster') ?? '',
      locality: loc === null ? null : readLocality(loc),
      metadata: n.struct('metadata') ?? {},
    };
  }

  let admin: Admin | null = null;
  const a = r.message('admin');
  if (a !== null) {
    const address = readAddress(a, 'address', { host: 'ip', allowPortZero: true });
    const logs = a.list('access_log');
    const accessLog = logs.map((l, i) => validateAccessLog(l, `${a.at('access_log')}[${i}]`, issues));
    // Deprecated `access_log_path` (still in most Envoy examples): a file log in the default
    // format; '/dev/null' means none.
    const legacyPath = a.string('access_log_path');
    if (legacyPath !== undefined && legacyPath !== '' && legacyPath !== '/dev/null') {
      accessLog.push({
        name: 'envoy.access_loggers.file',
        sink: { kind: 'file', path: legacyPath },
        format: { kind: 'text', format: DEFAULT_ACCESS_LOG_FORMAT },
      });
    }
    admin = { address, accessLog };
  }

  const listeners: Listener[] = [];
  const clusters: Cluster[] = [];
  const sr = r.message('static_resources');
  if (sr !== null) {
    const listenerItems = sr.list('listeners');
    for (let i = 0; i < listenerItems.length; i++) {
      listeners.push(validateListener(listenerItems[i], `${sr.at('listeners')}[${i}]`, issues, ctx));
    }
    const clusterItems = sr.list('clusters');
    for (let i = 0; i < clusterItems.length; i++) {
      clusters.push(validateCluster(clusterItems[i], `${sr.at('clusters')}[${i}]`, issues));
    }
  }
  const dr = r.message('dynamic_resources');
  const dynamicResources = dr === null ? null : validateDynamicResources(dr);
  r.done();

  checkListenersUnique(listeners, issues);
  const defined = new Set<string>();
  for (let i = 0; i < clusters.length; i++) {
    const name = clusters[i].name;
    if (name === '') continue;
    if (defined.has(name)) {
      issues.push({
        path: `static_resources.clusters[${i}].name`,
        message: `duplicate cluster name '${name}'`,
      });
    }
    defined.add(name);
  }
  // With CDS, a static listener may name a cluster that arrives dynamically (as in Envoy).
  if (dynamicResources === null || !dynamicResources.cds) checkClusterRefs(ctx.clusterRefs, defined, issues);
  checkDynamicUses(listeners, clusters, dynamicResources, ctx.clusterRefs, issues);

  if (issues.length > 0) return { bootstrap: null, issues };
  const bootstrap: Bootstrap = { node, admin, staticResources: { listeners, clusters }, dynamicResources };
  return { bootstrap: deepFreeze(bootstrap), issues };
}

/**
 * RDS and EDS need the ADS source; the ADS gRPC cluster must be a static cluster; HTTP/2
 * upstreams exist only for that cluster (grpc-js speaks HTTP/2 to it; the proxy's own pools
 * speak HTTP/1.1, so routing to an HTTP/2 cluster would send the wrong protocol).
 */
function checkDynamicUses(
  listeners: readonly Listener[],
  clusters: readonly Cluster[],
  dynamic: DynamicResources | null,
  refs: readonly { name: string; path: string }[],
  issues: ConfigIssue[],
): void {
  const adsCluster = dynamic?.ads.clusterName;
  if (adsCluster !== undefined && adsCluster !== '') {
    const c = clusters.find((x) => x.name === adsCluster);
    if (c === undefined) {
      issues.push({ path: ADS_CLUSTER_PATH, message: `cluster '${adsCluster}' is not a static cluster` });
    } else if (c.transportSocket !== undefined) {
      // The xDS gRPC client connects in plaintext; TLS to the control plane is not there yet.
      issues.push({
        path: ADS_CLUSTER_PATH,
        message: `cluster '${adsCluster}' has a transport_socket; TLS to the control plane is not supported yet`,
      });
    } else if (c.type === 'EDS' || c.loadAssignment.endpoints.every((l) => l.lbEndpoints.length === 0)) {
      // The control plane's address must be known without the control plane.
      issues.push({
        path: ADS_CLUSTER_PATH,
        message: `cluster '${adsCluster}' must be a STATIC, STRICT_DNS or LOGICAL_DNS cluster with an endpoint`,
      });
    }
  }
  if (dynamic === null) {
    listeners.forEach((l, li) => {
      l.filterChains.forEach((chain, ci) => {
        chain.filters.forEach((f, fi) => {
          if (f.kind === 'http_connection_manager' && f.config.rds !== null) {
            issues.push({
              path: `static_resources.listeners[${li}].filter_chains[${ci}].filters[${fi}].typed_config.rds`,
              message: 'needs dynamic_resources.ads_config (routes come over ADS)',
            });
          }
        });
      });
    });
  }
  clusters.forEach((c, i) => {
    if (c.type === 'EDS' && dynamic === null) {
      issues.push({
        path: `static_resources.clusters[${i}].eds_cluster_config`,
        message: 'needs dynamic_resources.ads_config (endpoints come over ADS)',
      });
    }
  });
  if (adsCluster !== undefined) {
    for (const ref of refs) {
      if (ref.name === adsCluster)
        issues.push({
          path: ref.path,
          message: `cluster '${adsCluster}' is the xDS gRPC cluster; traffic cannot be routed to it`,
        });
    }
  }
}

function checkListenersUnique(listeners: readonly Listener[], issues: ConfigIssue[]): void {
  const names = new Set<string>();
  const addresses = new Map<string, string>();
  for (let i = 0; i < listeners.length; i++) {
    const l = listeners[i];
    const path = `static_resources.listeners[${i}]`;
    if (l.name !== '') {
      if (names.has(l.name))
        issues.push({ path: `${path}.name`, message: `duplicate listener name '${l.name}'` });
      names.add(l.name);
    }
    // Port 0 asks the OS for a fresh port each time, so it never collides.
    if (l.address.address === '' || l.address.portValue === 0) continue;
    const key = `${l.address.address}:${l.address.portValue}`;
    const other = addresses.get(key);
    if (other !== undefined) {
      issues.push({ path: `${path}.address`, message: `listener '${other}' already uses ${key}` });
    } else addresses.set(key, l.name);
  }
}

/** Freezes the validated model so nothing downstream can change config in place. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  // Buffers (direct response bodies) cannot be frozen; they are treated as read-only by convention.
  if (ArrayBuffer.isView(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
