// `typed_per_filter_config` at run time: the per-route configs that apply to a request,
// merged once per route table version so a filter finds its own with one map lookup.
//
// Envoy semantics (most specific wins, a whole entry at a time, no field merging): a
// weighted cluster entry's config beats its route's, a route's beats its virtual host's.

import type { PerFilterConfig, TypedPerFilterConfig } from '../../config/model.js';

/** The per-route configs of a route (or weighted cluster pick), by filter name. */
export type PerFilterConfigs = ReadonlyMap<string, PerFilterConfig>;

/** `base` overlaid with `own` (own wins per filter name); null when both are empty. */
export function mergePerFilterConfigs(
  base: PerFilterConfigs | null,
  own: TypedPerFilterConfig | undefined,
): PerFilterConfigs | null {
  if (own === undefined || Object.keys(own).length === 0) return base;
  const merged = new Map(base ?? []);
  for (const name of Object.keys(own)) merged.set(name, own[name]);
  return merged;
}
