// Listeners (LDS) of a proxy.
// - Inbound, sidecars only: `inbound|PORT` on the Workload port, forwarding to the app's
//   private port (HTTP ports through an http_connection_manager; TCP, and for now GRPC and
//   HTTP2 (sidecar-protocols.ts), through tcp_proxy).
// - Outbound HTTP: one listener `outbound_http` on 127.0.0.1:15001 whose routes (RDS,
//   over ADS) pick the Service by the Host the app sent. One listener for every HTTP
//   Service keeps LDS stable while Services come and go (only RDS changes) and needs no
//   local port per Service; the Host names the Service addressed, which is what GAMMA
//   routes on.
// - Outbound TCP: TCP has no Host, so each TCP Service port gets its own listener on
//   127.0.0.1 at the Service port, or at the port in the Service annotation
//   `weft.dev/outbound-port-<port name>`; when two want the same port the older Service
//   keeps it and the other is reported. Not for sidecars whose Workload declares its local
//   ports (local-ports.ts); their per-Service listeners are in upstream-listeners.ts.

import { ROUTER_TYPE_URL } from '../../config/http-filter-registry.js';
import { FAULT_TYPE_URL } from '../../config/validate-fault-filter.js';
import type { ServicePort } from '../kinds/mesh-types.js';
import { expandSplit, splitShares } from './backends.js';
import type { InboundPort } from './inbound.js';
import { compareAge, type MeshIndex, type Service } from './mesh-index.js';
import {
  inboundClusterName,
  inboundListenerName,
  OUTBOUND_HTTP,
  OUTBOUND_PORT_ANNOTATION,
  outboundTcpListenerName,
} from './names.js';
import { carriedAsTcp } from './sidecar-protocols.js';
import { tcpSplitFor } from './smi-routes.js';
import { namespaceOf } from './snapshot.js';
import { adsConfigSource, type EnvoyJson, type XdsResource } from './xds-resources.js';

export const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

export interface ListenerOptions {
  readonly outboundHttpPort: number;
  readonly outboundAddress: string;
  readonly inboundAddress: string;
}

export function socketAddress(address: string, port: number): EnvoyJson {
  return { socket_address: { address, port_value: port } };
}

export function listener(name: string, address: EnvoyJson, filter: EnvoyJson): XdsResource {
  return { name, resource: { name, address, filter_chains: [{ filters: [filter] }] } };
}

export const FAULT_FILTER_NAME = 'envoy.filters.http.fault';
export const FAULT_TYPE = FAULT_TYPE_URL;
const ROUTER_FILTER = { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE_URL } };

/**
 * An HCM. Outbound ones (the client side, where routes apply) also carry the fault filter
 * with an empty config: it acts only on routes whose per-route config declares a fault
 * (route annotations, kinds/fault-annotations.ts), so adding or removing a fault changes
 * RDS only and never swaps the listener.
 */
export function httpConnectionManager(
  statPrefix: string,
  routes: EnvoyJson,
  direction: 'inbound' | 'outbound',
): EnvoyJson {
  const faults =
    direction === 'outbound' ? [{ name: FAULT_FILTER_NAME, typed_config: { '@type': FAULT_TYPE } }] : [];
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': HCM_TYPE,
      stat_prefix: statPrefix,
      ...routes,
      http_filters: [...faults, ROUTER_FILTER],
    },
  };
}

export function tcpProxy(statPrefix: string, target: EnvoyJson): EnvoyJson {
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: { '@type': TCP_PROXY_TYPE, stat_prefix: statPrefix, ...target },
  };
}

export function inboundListeners(ports: readonly InboundPort[], options: ListenerOptions): XdsResource[] {
  return ports.map((p) => {
    const name = inboundListenerName(p.port);
    const cluster = inboundClusterName(p.port);
    const address = socketAddress(options.inboundAddress, p.port);
    const statPrefix = `inbound_${p.port}`;
    if (carriedAsTcp(p.protocol, true)) return listener(name, address, tcpProxy(statPrefix, { cluster }));
    const routeConfig = {
      name,
      virtual_hosts: [
        {
          name,
          domains: ['*'],
          routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: '0s' } }],
        },
      ],
    };
    return listener(
      name,
      address,
      httpConnectionManager(statPrefix, { route_config: routeConfig }, 'inbound'),
    );
  });
}

export function outboundHttpListener(options: ListenerOptions): XdsResource {
  return listener(
    OUTBOUND_HTTP,
    socketAddress(options.outboundAddress, options.outboundHttpPort),
    httpConnectionManager(
      OUTBOUND_HTTP,
      {
        rds: { config_source: adsConfigSource(), route_config_name: OUTBOUND_HTTP },
      },
      'outbound',
    ),
  );
}

/**
 * Where a tcp_proxy for a Service port sends connections: its cluster, or the weighted
 * clusters of a TrafficSplit that applies to the port (no matches, or a TCPRoute listing it).
 */
export function tcpTarget(
  index: MeshIndex,
  service: Service,
  port: ServicePort,
  usedClusters: Set<string>,
): EnvoyJson {
  const split = tcpSplitFor({ index }, service, port);
  const shares =
    split === undefined
      ? expandSplit(index, service, port)
      : splitShares(index, split.spec.backends, namespaceOf(service), port);
  for (const s of shares) usedClusters.add(s.cluster);
  return shares.length === 1
    ? { cluster: shares[0].cluster }
    : { weighted_clusters: { clusters: shares.map((s) => ({ name: s.cluster, weight: s.weight })) } };
}

/**
 * `portOwners` maps the local ports already taken to what took them; the listeners made here
 * are added to it.
 */
export function outboundTcpListeners(
  index: MeshIndex,
  options: ListenerOptions,
  portOwners: Map<number, string>,
  usedClusters: Set<string>,
  warnings: string[],
): XdsResource[] {
  const out: XdsResource[] = [];
  for (const service of [...index.services].sort(compareAge)) {
    const ns = namespaceOf(service);
    for (const port of service.spec.ports) {
      if (port.protocol !== 'TCP') continue;
      const key = `${service.metadata.name}.${ns}:${port.port}`;
      const annotated = service.metadata.annotations?.[`${OUTBOUND_PORT_ANNOTATION}${port.name}`];
      const local = annotated !== undefined && /^\d+$/.test(annotated) ? Number(annotated) : port.port;
      if (local < 1 || local > 65535) {
        warnings.push(`Service ${key}: outbound port '${annotated}' is not a port number; no TCP listener`);
        continue;
      }
      const taken = portOwners.get(local);
      if (taken !== undefined) {
        warnings.push(
          `Service ${key}: local port ${local} is already used by ${taken}; set the annotation ${OUTBOUND_PORT_ANNOTATION}${port.name} to another port`,
        );
        continue;
      }
      portOwners.set(local, `Service ${key}`);
      const target = tcpTarget(index, service, port, usedClusters);
      const name = outboundTcpListenerName(service.metadata.name, ns, port.port);
      out.push(listener(name, socketAddress(options.outboundAddress, local), tcpProxy(name, target)));
    }
  }
  return out;
}
