// How a sidecar carries each Service port protocol. A temporary rule, tied to HTTP/2 support
// in the Weft proxy (docs/translation.md): the proxy does not speak HTTP/2 upstream yet and
// refuses clusters with `http2_protocol_options`, so a single GRPC Service would make every
// sidecar NACK its whole CDS update. Until it does, sidecars carry GRPC and HTTP2 ports as L4:
// no http2 options on their clusters, tcp_proxy on their inbound and per-upstream listeners,
// so gRPC passes through both sidecars byte for byte. Consumers (Envoy, proxyless gRPC
// clients) keep HTTP/2 clusters. When the proxy speaks HTTP/2, flip the constant.

import type { ServicePortProtocol } from '../kinds/mesh-types.js';

/** Whether Weft sidecars may be sent HTTP/2 upstream clusters. */
export const SIDECARS_SPEAK_HTTP2_UPSTREAM = false;

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
