// Clusters (CDS) of a proxy: one EDS cluster per Service port (`outbound|PORT||SVC.NS`,
// endpoints over ADS), shaped by the Service's DestinationPolicy; for sidecars one STATIC
// cluster per inbound port pointing at the local app; and the empty cluster that takes
// the share of traffic sent to invalid backendRefs, when a route needs it. HTTP2/GRPC ports
// get HTTP/2 upstream options except at sidecars, which carry them as L4 for now
// (sidecar-protocols.ts).

import { clusterOf } from './backends.js';
import type { InboundPort } from './inbound.js';
import type { MeshIndex } from './mesh-index.js';
import { INVALID_BACKEND_CLUSTER, inboundClusterName } from './names.js';
import { clusterPolicyFields, HTTP_PROTOCOL_OPTIONS_KEY } from './policy.js';
import { http2Upstream } from './sidecar-protocols.js';
import { adsConfigSource, type EnvoyJson, type XdsResource } from './xds-resources.js';

export function outboundClusters(index: MeshIndex, sidecar: boolean): XdsResource[] {
  const out: XdsResource[] = [];
  for (const service of index.services) {
    for (const port of service.spec.ports) {
      const name = clusterOf(service, port);
      const policy = index.policyFor(service, port.port)?.spec;
      const http2 = http2Upstream(port.protocol, sidecar);
      out.push({
        name,
        resource: {
          name,
          type: 'EDS',
          eds_cluster_config: { eds_config: adsConfigSource(), service_name: name },
          ...clusterPolicyFields(policy, http2),
        },
      });
    }
  }
  return out;
}

export function inboundClusters(ports: readonly InboundPort[], appAddress: string): XdsResource[] {
  return ports.map((p) => {
    const name = inboundClusterName(p.port);
    const resource: EnvoyJson = {
      name,
      type: 'STATIC',
      connect_timeout: '5s',
      load_assignment: {
        cluster_name: name,
        endpoints: [
          {
            lb_endpoints: [
              { endpoint: { address: { socket_address: { address: appAddress, port_value: p.appPort } } } },
            ],
          },
        ],
      },
    };
    if (http2Upstream(p.protocol, true)) {
      resource.typed_extension_protocol_options = {
        [HTTP_PROTOCOL_OPTIONS_KEY]: {
          '@type': `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS_KEY}`,
          explicit_http_config: { http2_protocol_options: {} },
        },
      };
    }
    return { name, resource };
  });
}

export function invalidBackendCluster(): XdsResource {
  return {
    name: INVALID_BACKEND_CLUSTER,
    resource: {
      name: INVALID_BACKEND_CLUSTER,
      type: 'STATIC',
      connect_timeout: '1s',
      load_assignment: { cluster_name: INVALID_BACKEND_CLUSTER, endpoints: [] },
    },
  };
}
