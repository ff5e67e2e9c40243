// The gRPC target the ADS client dials, derived from the bootstrap's xDS cluster
// (`ads_config.grpc_services[0].envoy_grpc.cluster_name`). The channel is @grpc/grpc-js's:
// the proxy's own upstream pools speak HTTP/1.1 and cannot carry gRPC, so the xDS cluster's
// endpoints are handed to grpc-js as a target (https://github.com/grpc/grpc/blob/master/doc/naming.md):
// `ipv4:` / `ipv6:` address lists for STATIC clusters, `dns:host:port` for DNS clusters
// (grpc-js resolves and re-resolves the name itself).

import { isIPv6 } from 'node:net';
import type { Cluster } from '../../config/model.js';

export function grpcTargetOf(cluster: Cluster): string {
  const endpoints = cluster.loadAssignment.endpoints.flatMap((l) => l.lbEndpoints);
  if (endpoints.length === 0) throw new Error(`xDS cluster '${cluster.name}' has no endpoint`);
  if (cluster.type !== 'STATIC') {
    const a = endpoints[0].address;
    return `dns:${a.address}:${a.portValue}`;
  }
  // One address family per target; the first endpoint's decides.
  const v6 = isIPv6(endpoints[0].address.address);
  const same = endpoints.filter((e) => isIPv6(e.address.address) === v6);
  const list = same.map((e) =>
    v6 ? `[${e.address.address}]:${e.address.portValue}` : `${e.address.address}:${e.address.portValue}`,
  );
  return `${v6 ? 'ipv6' : 'ipv4'}:${list.join(',')}`;
}
