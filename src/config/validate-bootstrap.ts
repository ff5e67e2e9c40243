// Validation of `envoy.config.bootstrap.v3.Bootstrap` (node, admin, static_resources) and
// the checks that need the whole config: unique listener names and addresses, unique
// cluster names, and every cluster a route or tcp_proxy names being defined.

import type { ConfigIssue } from '../core/errors.js';
import { readMessage } from './fields.js';
import type { HttpFilterRegistry } from './http-filter-registry.js';
import type { Admin, Bootstrap, Cluster, Listener, NodeInfo } from './model.js';
import { DEFAULT_ACCESS_LOG_FORMAT, validateAccessLog } from './validate-access-log.js';
import { readAddress } from './validate-address.js';
import { readLocality, validateCluster } from './validate-cluster.js';
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
  checkClusterRefs(ctx.clusterRefs, defined, issues);

  if (issues.length > 0) return { bootstrap: null, issues };
  const bootstrap: Bootstrap = { node, admin, staticResources: { listeners, clusters } };
  return { bootstrap: deepFreeze(bootstrap), issues };
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
