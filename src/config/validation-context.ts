// What the per-resource validators share while checking one config: the HTTP filter
// registry, the cluster references found so far (checked against the defined clusters
// once all clusters are known), and file reading for DataSource `filename` fields.
//
// Passed in, never global (STYLE.md rule 4), so the xDS client can validate one resource
// at a time with its own context.

import { readFileSync } from 'node:fs';
import type { ConfigIssue } from '../core/errors.js';
import type { HttpFilterRegistry } from './http-filter-registry.js';

/** A cluster named by a route or tcp_proxy, with the path of the naming field. */
export interface ClusterRef {
  readonly name: string;
  readonly path: string;
}

export interface ValidationContext {
  readonly registry: HttpFilterRegistry;
  /** Filled by route and tcp_proxy validators; checked by `checkClusterRefs`. */
  readonly clusterRefs: ClusterRef[];
  /** Reads a DataSource `filename` synchronously (at load time only). */
  readonly readFile: (path: string) => Buffer;
}

export interface ValidationContextOptions {
  readonly readFile?: (path: string) => Buffer;
}

export function createValidationContext(
  registry: HttpFilterRegistry,
  options: ValidationContextOptions = {},
): ValidationContext {
  return { registry, clusterRefs: [], readFile: options.readFile ?? ((p) => readFileSync(p)) };
}

/** Reports every reference to a cluster that is not in `defined`. */
export function checkClusterRefs(
  refs: readonly ClusterRef[],
  defined: ReadonlySet<string>,
  issues: ConfigIssue[],
): void {
  for (const ref of refs) {
    if (!defined.has(ref.name))
      issues.push({ path: ref.path, message: `cluster '${ref.name}' is not defined` });
  }
}
