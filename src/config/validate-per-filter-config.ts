// Validation of `typed_per_filter_config` (on virtual hosts, routes and weighted cluster
// entries): a map from an HTTP filter's name to that filter's per-route config, an Any,
// optionally wrapped in `envoy.config.route.v3.FilterConfig` {config, is_optional, disabled}.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-virtualhost-typed-per-filter-config
//
// Each value is validated once at load time by the registry entry whose per-route config
// has that `@type` (an RDS route configuration does not know the HCM that will use it, so
// the type decides the validator, as in Envoy). Where the HCM is known — an inline
// route_config, or RDS routes bound to their listeners — `checkPerFilterConfigNames` also
// refuses names that are not filters of that HCM, or that name a filter of another type.

import type { ConfigIssue } from '../core/errors.js';
import { type FieldReader, isPlainObject, joinPath, readMessage } from './fields.js';
import type { HttpFilterFactoryConfig, HttpFilterRegistry } from './http-filter-registry.js';
import type { HttpFilter, PerFilterConfig, RouteConfiguration, TypedPerFilterConfig } from './model.js';

export const FILTER_CONFIG_TYPE_URL = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';

/** The registry entry whose per-route config has `typeUrl`, if any. */
export function findPerRouteFactory(
  registry: HttpFilterRegistry,
  typeUrl: string,
): HttpFilterFactoryConfig | undefined {
  for (const f of registry.values()) if (f.perRoute?.typeUrl === typeUrl) return f;
  return undefined;
}

/**
 * Reads `typed_per_filter_config` of the message `r`; null when absent (so configs without
 * it keep their shape). Unknown per-route types are refused by path unless `is_optional`.
 */
export function readTypedPerFilterConfig(
  r: FieldReader,
  registry: HttpFilterRegistry,
): TypedPerFilterConfig | null {
  if (!r.has('typed_per_filter_config')) return null;
  const raw = r.take('typed_per_filter_config');
  const path = r.at('typed_per_filter_config');
  if (!isPlainObject(raw)) {
    r.issue('typed_per_filter_config', 'expected a map from filter name to config');
    return null;
  }
  const out: Record<string, PerFilterConfig> = {};
  for (const name of Object.keys(raw)) {
    const entryPath = joinPath(path, name);
    if (name === '') {
      r.issues.push({ path: entryPath, message: 'a filter name must not be empty' });
      continue;
    }
    const entry = readPerFilterEntry(raw[name], entryPath, r.issues, registry);
    if (entry !== null) out[name] = entry;
  }
  return out;
}

function readPerFilterEntry(
  raw: unknown,
  path: string,
  issues: ConfigIssue[],
  registry: HttpFilterRegistry,
): PerFilterConfig | null {
  const any = readMessage(raw, path, issues);
  const typeUrl = any.requiredString('@type');
  if (typeUrl !== FILTER_CONFIG_TYPE_URL) return readPerRouteAny(any, typeUrl, false, registry);
  // envoy.config.route.v3.FilterConfig
  const isOptional = any.boolean('is_optional', false);
  const disabled = any.boolean('disabled', false);
  const inner = any.message('config');
  let entry: PerFilterConfig | null = { typeUrl: '', config: null, disabled };
  if (inner !== null) {
    const innerType = inner.requiredString('@type');
    const read = readPerRouteAny(inner, innerType, isOptional, registry);
    entry = read === null ? null : { ...read, disabled };
  } else if (!disabled) {
    any.issue('config', 'is required unless disabled is true');
  }
  any.done();
  return entry;
}

/** A per-route config Any (its `@type` already read); null when dropped as optional or broken. */
function readPerRouteAny(
  any: FieldReader,
  typeUrl: string,
  optional: boolean,
  registry: HttpFilterRegistry,
): PerFilterConfig | null {
  if (typeUrl === '') {
    any.ignoreRest();
    return null;
  }
  const factory = findPerRouteFactory(registry, typeUrl);
  if (factory === undefined || factory.perRoute === undefined) {
    // Envoy: an optional per-filter config of an unknown type is ignored, not an error.
    if (!optional) any.issue('@type', `unsupported per-route filter config type '${typeUrl}'`);
    any.ignoreRest();
    return null;
  }
  const body: Record<string, unknown> = { ...any.rawObject() };
  delete body['@type'];
  any.ignoreRest();
  const config = factory.perRoute.validate(body, any.path, any.issues);
  return { typeUrl, config, disabled: false };
}

/**
 * Checks every typed_per_filter_config name of `rc` against the HCM's `filters`: the name
 * must be one of its HTTP filters, and the config's type must be that filter's per-route
 * type. `path` is where `rc` sits (e.g. `...typed_config.route_config`).
 */
export function checkPerFilterConfigNames(
  rc: RouteConfiguration,
  filters: readonly HttpFilter[],
  registry: HttpFilterRegistry,
  path: string,
  issues: ConfigIssue[],
): void {
  const check = (map: TypedPerFilterConfig | undefined, at: string) => {
    if (map === undefined) return;
    for (const name of Object.keys(map)) {
      const entry = map[name];
      const filter = filters.find((f) => f.name === name);
      const where = joinPath(`${at}.typed_per_filter_config`, name);
      if (filter === undefined) {
        const known = filters.map((f) => f.name).join(', ');
        issues.push({
          path: where,
          message: `no HTTP filter named '${name}' in the connection manager's http_filters (${known})`,
        });
        continue;
      }
      const perRoute = registry.get(filter.typeUrl)?.perRoute;
      if (perRoute === undefined) {
        issues.push({ path: where, message: `the filter '${name}' takes no per-route config` });
      } else if (entry.typeUrl !== '' && entry.typeUrl !== perRoute.typeUrl) {
        issues.push({
          path: where,
          message: `the filter '${name}' takes a per-route config of type '${perRoute.typeUrl}', not '${entry.typeUrl}'`,
        });
      }
    }
  };
  for (let v = 0; v < rc.virtualHosts.length; v++) {
    const vh = rc.virtualHosts[v];
    const vhPath = `${path}.virtual_hosts[${v}]`;
    check(vh.typedPerFilterConfig, vhPath);
    for (let i = 0; i < vh.routes.length; i++) {
      const route = vh.routes[i];
      const routePath = `${vhPath}.routes[${i}]`;
      check(route.typedPerFilterConfig, routePath);
      const action = route.action;
      if (action.kind === 'route' && action.cluster.kind === 'weighted') {
        const cs = action.cluster.clusters;
        for (let c = 0; c < cs.length; c++)
          check(cs[c].typedPerFilterConfig, `${routePath}.route.weighted_clusters.clusters[${c}]`);
      }
    }
  }
}
