// Validation of single resources delivered over xDS (LDS, CDS, RDS, EDS) with the same
// validators the bootstrap file uses, so a Listener means the same thing whether it came
// from a file or from a control plane. Each function takes the proto3 JSON of one resource
// (as the codec decodes it, `@type` included), and returns the model value or every issue,
// with paths relative to the resource (e.g. `filter_chains[0].filters[0].typed_config.stat_prefix`).
//
// Cross-resource checks (does a named cluster exist?) need the proxy's whole xDS state; they
// are left to the caller through `clusterRefs`.

import type { ConfigIssue } from '../core/errors.js';
import { isPlainObject } from './fields.js';
import type { HttpFilterRegistry } from './http-filter-registry.js';
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from './model.js';
import { validateCluster, validateClusterLoadAssignment } from './validate-cluster.js';
import { validateListener } from './validate-listener.js';
import { validateRouteConfiguration } from './validate-route-configuration.js';
import {
  type ClusterRef,
  createValidationContext,
  type ValidationContextOptions,
} from './validation-context.js';

export interface ResourceValidation<T> {
  /** The validated value; null whenever there are issues. */
  readonly value: T | null;
  readonly issues: readonly ConfigIssue[];
  /** Clusters the resource names where the name must resolve (tcp_proxy, validate_clusters routes). */
  readonly clusterRefs: readonly ClusterRef[];
}

/** The resource without its Any `@type` (the type URL was checked by the caller). */
function body(json: unknown): unknown {
  if (!isPlainObject(json) || !('@type' in json)) return json;
  const { '@type': _type, ...rest } = json;
  return rest;
}

export function validateListenerResource(
  json: unknown,
  registry: HttpFilterRegistry,
  options: ValidationContextOptions = {},
): ResourceValidation<Listener> {
  const issues: ConfigIssue[] = [];
  const ctx = createValidationContext(registry, options);
  const value = validateListener(body(json), '', issues, ctx);
  return { value: issues.length === 0 ? value : null, issues, clusterRefs: ctx.clusterRefs };
}

export function validateClusterResource(json: unknown): ResourceValidation<Cluster> {
  const issues: ConfigIssue[] = [];
  const value = validateCluster(body(json), '', issues);
  return { value: issues.length === 0 ? value : null, issues, clusterRefs: [] };
}

export function validateRouteConfigurationResource(
  json: unknown,
  registry: HttpFilterRegistry,
  options: ValidationContextOptions = {},
): ResourceValidation<RouteConfiguration> {
  const issues: ConfigIssue[] = [];
  const ctx = createValidationContext(registry, options);
  // RDS-delivered route configurations default validate_clusters to false, as in Envoy.
  const value = validateRouteConfiguration(body(json), '', issues, ctx, { validateClustersDefault: false });
  return { value: issues.length === 0 ? value : null, issues, clusterRefs: ctx.clusterRefs };
}

export function validateClusterLoadAssignmentResource(
  json: unknown,
): ResourceValidation<ClusterLoadAssignment> {
  const issues: ConfigIssue[] = [];
  const value = validateClusterLoadAssignment(body(json), '', issues);
  return { value: issues.length === 0 ? value : null, issues, clusterRefs: [] };
}
