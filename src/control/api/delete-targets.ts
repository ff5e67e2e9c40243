// Parses the body of POST /v1/delete: `{items: [{apiVersion, kind, namespace?, name, resourceVersion?}]}`.
// Whole resources are accepted as items too (metadata.name/namespace), so the documents of
// an applied file can be sent back to delete them.

import { describe, isPlainObject } from '../../config/fields.js';
import { ConfigError } from '../../core/errors.js';
import { DEFAULT_NAMESPACE } from '../kinds/metadata.js';
import type { KindRegistry } from '../kinds/registry.js';
import type { ResourceIssue } from '../resource.js';
import type { DeleteTarget } from '../store/resource-store.js';

export function parseDeleteTargets(body: unknown, kinds: KindRegistry): DeleteTarget[] {
  const items = Array.isArray(body) ? body : isPlainObject(body) ? body.items : undefined;
  if (!Array.isArray(items))
    throw new ConfigError('delete', [
      { path: 'items', message: 'expected {"items": [{apiVersion, kind, namespace, name}, ...]}' },
    ]);
  const issues: ResourceIssue[] = [];
  const targets: DeleteTarget[] = [];
  items.forEach((item, i) => {
    const path = `items[${i}]`;
    if (!isPlainObject(item)) {
      issues.push({ path, message: `expected an object, got ${describe(item)}` });
      return;
    }
    const meta = isPlainObject(item.metadata) ? item.metadata : item;
    const metaPath = isPlainObject(item.metadata) ? `${path}.metadata` : path;
    const { apiVersion, kind } = item;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      issues.push({ path, message: 'apiVersion and kind are required strings' });
      return;
    }
    const def = kinds.lookup(apiVersion, kind);
    if (def === undefined) {
      issues.push({ path: `${path}.kind`, message: `unknown kind ${kind} in apiVersion ${apiVersion}` });
      return;
    }
    if (typeof meta.name !== 'string' || meta.name === '') {
      issues.push({ path: `${metaPath}.name`, message: 'is required' });
      return;
    }
    const ns = meta.namespace;
    if (ns !== undefined && typeof ns !== 'string') {
      issues.push({ path: `${metaPath}.namespace`, message: `expected a string, got ${describe(ns)}` });
      return;
    }
    const rv = meta.resourceVersion;
    targets.push({
      apiVersion,
      kind,
      namespace: def.namespaced ? (ns ?? DEFAULT_NAMESPACE) : '',
      name: meta.name,
      ...(typeof rv === 'string' ? { resourceVersion: rv } : {}),
    });
  });
  if (issues.length > 0) throw new ConfigError('delete', issues);
  return targets;
}
