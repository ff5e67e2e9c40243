// How a sidecar carries each Service port protocol. The Weft proxy speaks HTTP/2 both ways
// (docs/proxy.md, "HTTP/2 and gRPC"), so sidecars carry GRPC and HTTP2 ports at L7 like any
// HTTP port: an HTTP connection manager (codec AUTO: h2c prior knowledge or HTTP/1.1) on
// their inbound and per-upstream listeners, and HTTP/2 upstream clusters, so routes,
// retries, faults and per-request load balancing apply to gRPC calls. The switch stays
// for a proxy fleet that must carry them as L4 (tcp_proxy, byte for byte).

import type { ServicePortProtocol } from '../kinds/mesh-types.js';

/** Whether Weft sidecars may be sent HTTP/2 upstream clusters. */
export const SIDECARS_SPEAK_HTTP2_UPSTREAM = true;

export function isHttp2Protocol(protocol: ServicePortProtocol): boolean {
  return protocol === 'HTTP2' || protocol === 'GRPC';
}

/** The port is carried as plain TCP (tcp_proxy) by this proxy. */
export function carriedAsTcp(protocol: ServicePortProtocol, sidecar: boolean): boolean {
  if (protocol === 'TCP') return true;
  return sidecar && !SIDECARS_SPEAK_HTTP2_UPSTREAM && isHttp2Protocol(protocol);
}

/** The port's cluster gets `http2_protocol_options` for this proxy. */
export function http2Upstream(protocol: ServicePortProtocol, sidecar: boolean): boolean {
  return isHttp2Protocol(protocol) && !carriedAsTcp(protocol, sidecar);
}
