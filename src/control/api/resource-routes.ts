// The Kubernetes-style resource paths under /apis/{group}/{version}/...: list, get, put,
// delete, status and (for Workloads) heartbeat. Namespaced kinds live under
// /namespaces/{ns}/; listing a namespaced kind without it lists every namespace.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlainObject } from '../../config/fields.js';
import { ConfigError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { WEFT_API_VERSION } from '../kinds/mesh-types.js';
import type { KindRegistry } from '../kinds/registry.js';
import type { KindDefinition, ResourceKey } from '../resource.js';
import { ControlError } from '../store/control-error.js';
import { describeKey, type ResourceStore } from '../store/resource-store.js';
import type { WorkloadLeases } from '../store/workload-leases.js';
import { sendJson, unprefixIssues } from './api-errors.js';
import { readJsonBody } from './read-body.js';

export interface ResourceRouteDeps {
  readonly store: ResourceStore;
  readonly kinds: KindRegistry;
  readonly logger: Logger;
  readonly leases?: WorkloadLeases;
  readonly maxBodyBytes: number;
}

interface ResourcePath {
  readonly def: KindDefinition;
  /** undefined = all namespaces (list only); '' for cluster-scoped kinds. */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly sub: string | undefined;
}

function parsePath(pathname: string, kinds: KindRegistry): ResourcePath {
  const seg = pathname
    .split('/')
    .slice(2)
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  const [group, version, ...rest] = seg;
  let namespace: string | undefined;
  let tail = rest;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    tail = rest.slice(2);
  }
  const [plural, name, sub, ...extra] = tail;
  const apiVersion = `${group}/${version}`;
  const def = plural === undefined ? undefined : kinds.lookupPlural(apiVersion, plural);
  if (def === undefined || extra.length > 0)
    throw new ControlError(
      'WEFT_NOT_FOUND',
      404,
      `no resource type at ${pathname}; GET /apis lists the kinds served`,
    );
  if (!def.namespaced && namespace !== undefined)
    throw new ControlError(
      'WEFT_NOT_FOUND',
      404,
      `${def.kind} is cluster-scoped: use /apis/${apiVersion}/${def.plural}`,
    );
  if (def.namespaced && namespace === undefined && name !== undefined)
    throw new ControlError(
      'WEFT_NOT_FOUND',
      404,
      `${def.kind} is namespaced: use /apis/${apiVersion}/namespaces/{namespace}/${def.plural}/${name}`,
    );
  return { def, namespace: def.namespaced ? namespace : '', name, sub };
}

export async function handleResourcePath(
  deps: ResourceRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
): Promise<void> {
  const p = parsePath(url.pathname, deps.kinds);
  const { def } = p;
  if (p.name === undefined) {
    if (method !== 'GET') throw notAllowed(method, 'GET');
    const labelSelector = url.searchParams.get('labelSelector') ?? undefined;
    const list = await deps.store.list({
      apiVersion: def.apiVersion,
      kind: def.kind,
      ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
      ...(labelSelector === undefined ? {} : { labelSelector }),
    });
    sendJson(res, 200, {
      apiVersion: def.apiVersion,
      kind: `${def.kind}List`,
      metadata: { resourceVersion: String(list.revision) },
      items: list.items,
    });
    return;
  }
  const key: ResourceKey = {
    apiVersion: def.apiVersion,
    kind: def.kind,
    namespace: p.namespace ?? '',
    name: p.name,
  };
  if (p.sub === 'status') {
    if (method !== 'PUT') throw notAllowed(method, 'PUT');
    const body = await readJsonBody(req, deps.maxBodyBytes);
    const status = isPlainObject(body) && isPlainObject(body.status) ? body.status : undefined;
    if (status === undefined)
      throw new ConfigError('status', [
        { path: 'status', message: 'expected {"status": {...}} in the body' },
      ]);
    const rv =
      isPlainObject(body) && isPlainObject(body.metadata) ? body.metadata.resourceVersion : undefined;
    sendJson(res, 200, await deps.store.updateStatus(key, status, typeof rv === 'string' ? rv : undefined));
    return;
  }
  if (p.sub === 'heartbeat') {
    if (def.apiVersion !== WEFT_API_VERSION || def.kind !== 'Workload' || deps.leases === undefined)
      throw new ControlError('WEFT_NOT_FOUND', 404, `${def.kind} resources have no heartbeat endpoint`);
    if (method !== 'POST') throw notAllowed(method, 'POST');
    const lease = await deps.leases.heartbeat(key.namespace, key.name);
    sendJson(res, 200, { ttlSeconds: lease.ttlSeconds, expiresAt: new Date(lease.expiresAt).toISOString() });
    return;
  }
  if (p.sub !== undefined)
    throw new ControlError('WEFT_NOT_FOUND', 404, `no subresource '${p.sub}' (status, heartbeat)`);
  switch (method) {
    case 'GET': {
      const r = await deps.store.get(key);
      if (r === undefined) throw new ControlError('WEFT_NOT_FOUND', 404, `not found: ${describeKey(key)}`);
      sendJson(res, 200, r);
      return;
    }
    case 'PUT': {
      const body = await readJsonBody(req, deps.maxBodyBytes);
      const resource = withPathIdentity(body, def, key);
      const result = await deps.store.apply([resource]).catch((err: unknown) => {
        throw unprefixIssues(err);
      });
      const item = result.items[0];
      sendJson(res, item.action === 'created' ? 201 : 200, item.resource);
      return;
    }
    case 'DELETE': {
      const rv = url.searchParams.get('resourceVersion') ?? undefined;
      const result = await deps.store.delete([
        { ...key, ...(rv === undefined ? {} : { resourceVersion: rv }) },
      ]);
      sendJson(res, 200, { revision: result.revision, items: [key] });
      return;
    }
    default:
      throw notAllowed(method, 'GET, PUT or DELETE');
  }
}

/** The body of a PUT, with apiVersion/kind/name/namespace taken from the path when absent and checked when present. */
function withPathIdentity(body: unknown, def: KindDefinition, key: ResourceKey): unknown {
  // Shapes the registry will reject anyway are passed through so it reports them by path.
  if (!isPlainObject(body) || (body.metadata !== undefined && !isPlainObject(body.metadata))) return body;
  const issues: { path: string; message: string }[] = [];
  const meta = isPlainObject(body.metadata) ? { ...body.metadata } : {};
  const check = (path: string, given: unknown, expected: string): void => {
    if (given !== undefined && given !== expected)
      issues.push({ path, message: `'${String(given)}' does not match the URL ('${expected}')` });
  };
  check('apiVersion', body.apiVersion, def.apiVersion);
  check('kind', body.kind, def.kind);
  check('metadata.name', meta.name, key.name);
  if (def.namespaced) check('metadata.namespace', meta.namespace, key.namespace);
  if (issues.length > 0) throw new ConfigError('resource', issues);
  meta.name = key.name;
  if (def.namespaced) meta.namespace = key.namespace;
  return { ...body, apiVersion: def.apiVersion, kind: def.kind, metadata: meta };
}

function notAllowed(method: string, allowed: string): ControlError {
  return new ControlError('WEFT_API_REQUEST', 405, `method ${method} not allowed here; use ${allowed}`);
}
