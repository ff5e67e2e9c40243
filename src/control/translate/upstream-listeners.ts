// Per-upstream listeners of a sidecar (Workload annotation `weft.dev/upstream-port-<service>`,
// read in local-ports.ts): `upstream|PORT||SVC.NS` on the outbound address at the annotated
// local port, dedicated to one Service port, so an app calls `http://127.0.0.1:<port>/` and
// needs neither a Host nor an HTTP proxy setting.
//
// - HTTP port: an http_connection_manager with its own RDS route configuration (same name),
//   whose one virtual host (domains `*`) carries exactly the routes the Service's virtual host
//   has in `outbound_http` for this client namespace, so Gateway API routes, splits, retries
//   and filters apply the same way. RDS rather than an inline route_config keeps the listener
//   unchanged (no drain, no re-bind) when routes change, as for `outbound_http`.
// - TCP port (and, at sidecars for now, GRPC/HTTP2: sidecar-protocols.ts): tcp_proxy to its
//   cluster, or a TCP TrafficSplit's clusters.
//
// A local port some other listener of the proxy already has gets a warning and no listener.

import {
  httpConnectionManager,
  type ListenerOptions,
  listener,
  socketAddress,
  tcpProxy,
  tcpTarget,
} from './listeners.js';
import type { LocalPorts } from './local-ports.js';
import type { MeshIndex } from './mesh-index.js';
import { upstreamListenerName } from './names.js';
import { createHashPolicyLookup, serviceRoutes } from './routes.js';
import { carriedAsTcp } from './sidecar-protocols.js';
import { namespaceOf } from './snapshot.js';
import { adsConfigSource, type XdsResource } from './xds-resources.js';

export interface UpstreamListeners {
  readonly listeners: XdsResource[];
  /** RDS route configurations of the HTTP ones. */
  readonly routes: XdsResource[];
}

export function upstreamListeners(
  index: MeshIndex,
  local: LocalPorts,
  clientNamespace: string,
  options: ListenerOptions,
  portOwners: Map<number, string>,
  usedClusters: Set<string>,
  warnings: string[],
): UpstreamListeners {
  const out: UpstreamListeners = { listeners: [], routes: [] };
  if (local.upstreams.length === 0) return out;
  const hashPolicyFor = createHashPolicyLookup(index);
  for (const u of local.upstreams) {
    const { service, port } = u;
    const name = upstreamListenerName(service.metadata.name, namespaceOf(service), port.port);
    const taken = portOwners.get(u.localPort);
    if (taken !== undefined) {
      warnings.push(
        `annotation ${u.annotation}: local port ${u.localPort} is already used by ${taken}; no listener ${name}`,
      );
      continue;
    }
    portOwners.set(u.localPort, `the annotation ${u.annotation}`);
    const address = socketAddress(options.outboundAddress, u.localPort);
    if (carriedAsTcp(port.protocol, true)) {
      out.listeners.push(
        listener(name, address, tcpProxy(name, tcpTarget(index, service, port, usedClusters))),
      );
      continue;
    }
    const ctx = { index, parent: service, usedClusters, hashPolicyFor };
    const virtualHost = { name, domains: ['*'], routes: serviceRoutes(ctx, service, port, clientNamespace) };
    // validate_clusters false: the clusters arrive separately (CDS), as for `outbound_http`.
    out.routes.push({ name, resource: { name, virtual_hosts: [virtualHost], validate_clusters: false } });
    out.listeners.push(
      listener(
        name,
        address,
        httpConnectionManager(
          name,
          { rds: { config_source: adsConfigSource(), route_config_name: name } },
          'outbound',
        ),
      ),
    );
  }
  return out;
}
