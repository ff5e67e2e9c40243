// Validation of `envoy.config.core.v3.ConfigSource` where Weft accepts one: the `ads: {}`
// form only (the resource comes over the bootstrap's aggregated xDS stream), as used by
// `lds_config`, `cds_config`, HCM `rds.config_source` and `eds_cluster_config.eds_config`.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/config_source.proto

import type { EnumSpec, FieldReader } from './fields.js';

/** `resource_api_version` / `transport_api_version` (envoy.config.core.v3.ApiVersion). */
export const API_VERSION: EnumSpec<'AUTO' | 'V3'> = {
  known: ['AUTO', 'V2', 'V3'],
  // V2 was removed from Envoy; AUTO has meant V3 since.
  supported: ['AUTO', 'V3'],
};

/**
 * Reads the required ConfigSource field `name` of `parent`, which must be `{ads: {}}`.
 * Returns false (after recording the issue) when it is absent or another kind of source.
 */
export function readAdsConfigSource(parent: FieldReader, name: string): boolean {
  const present = parent.has(name);
  const cs = parent.message(name);
  if (cs === null) {
    if (!present) parent.issue(name, 'is required (Weft supports {ads: {}})');
    return false;
  }
  cs.enumeration('resource_api_version', 'AUTO', API_VERSION);
  const ads = cs.message('ads');
  if (ads === null) {
    cs.issue(
      null,
      'only the aggregated source {ads: {}} is supported (path, api_config_source and self are not)',
    );
    // One message for the whole source, not one per field of the unsupported kind.
    cs.ignoreRest();
    return false;
  }
  // AggregatedConfigSource has no fields; done() reports any given. `initial_fetch_timeout` is
  // not read (refused as unsupported): Weft uses Envoy's 15 s default for every source.
  return true;
}
