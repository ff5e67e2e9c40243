// Validation of the bootstrap's `dynamic_resources`: one ADS gRPC source (`ads_config`) and
// `lds_config` / `cds_config` that point at it (`{ads: {}}`).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/bootstrap/v3/bootstrap.proto#config-bootstrap-v3-bootstrap-dynamicresources
// The cluster the gRPC service names is checked by the bootstrap validator, which knows
// the static clusters.

import { type EnumSpec, type FieldReader, readMessage } from './fields.js';
import type { AdsConfig, DynamicResources } from './model.js';
import { API_VERSION, readAdsConfigSource } from './validate-config-source.js';

/** envoy.config.core.v3.ApiConfigSource.ApiType, in proto order (4 is reserved). */
const API_TYPE: EnumSpec<AdsConfig['apiType']> = {
  known: [
    'DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE',
    'REST',
    'GRPC',
    'DELTA_GRPC',
    '',
    'AGGREGATED_GRPC',
    'AGGREGATED_DELTA_GRPC',
  ],
  supported: ['GRPC', 'DELTA_GRPC'],
};

export function validateDynamicResources(r: FieldReader): DynamicResources | null {
  const adsReader = r.message('ads_config');
  const ads = adsReader === null ? null : readAdsApiConfigSource(adsReader);
  const lds = readSource(r, 'lds_config');
  const cds = readSource(r, 'cds_config');
  if (adsReader === null && (lds || cds)) {
    r.issue('ads_config', 'is required when lds_config or cds_config use {ads: {}}');
  }
  r.done();
  if (ads === null) return null;
  return { ads, lds, cds };
}

function readSource(r: FieldReader, name: string): boolean {
  if (!r.has(name)) return false;
  return readAdsConfigSource(r, name);
}

function readAdsApiConfigSource(r: FieldReader): AdsConfig {
  if (!r.has('api_type')) r.issue('api_type', 'is required (GRPC or DELTA_GRPC)');
  const apiType = r.enumeration('api_type', 'GRPC', API_TYPE);
  r.enumeration('transport_api_version', 'AUTO', API_VERSION);
  const setNodeOnFirstMessageOnly = r.boolean('set_node_on_first_message_only', false);
  const services = r.list('grpc_services');
  let clusterName = '';
  if (services.length !== 1) {
    r.issue('grpc_services', `must list exactly one gRPC service, found ${services.length}`);
  }
  for (let i = 0; i < services.length; i++) {
    const s = readMessage(services[i], `${r.at('grpc_services')}[${i}]`, r.issues);
    const envoyGrpc = s.message('envoy_grpc');
    if (envoyGrpc === null) {
      s.issue('envoy_grpc', 'is required (google_grpc is not supported)');
      s.ignoreRest();
    } else {
      const name = envoyGrpc.requiredString('cluster_name');
      if (i === 0) clusterName = name;
    }
    // `timeout` and `initial_metadata` are not read: done() refuses them.
    s.done();
  }
  return { apiType, clusterName, setNodeOnFirstMessageOnly };
}

/** The field path of the gRPC service's cluster name, for cross-reference messages. */
export const ADS_CLUSTER_PATH = 'dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name';
