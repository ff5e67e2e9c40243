// Naming conventions of translated resources and the annotations the translator reads.
// Names are deterministic so the same mesh always yields byte-identical xDS (and an xDS
// server can diff by name); they follow Istio's shapes so operators recognise them.

/** Outbound cluster of one Service port: `outbound|PORT||NAME.NAMESPACE`. */
export function outboundClusterName(service: string, namespace: string, port: number): string {
  return `outbound|${port}||${service}.${namespace}`;
}

/** Inbound cluster (the local app behind the sidecar) for a Workload port: `inbound|PORT||`. */
export function inboundClusterName(port: number): string {
  return `inbound|${port}||`;
}

/** Inbound listener for a Workload port: `inbound|PORT`. */
export function inboundListenerName(port: number): string {
  return `inbound|${port}`;
}

/** The one outbound HTTP listener and its RDS route configuration. */
export const OUTBOUND_HTTP = 'outbound_http';

/** Outbound TCP listener of one Service port: `outbound_tcp|PORT||NAME.NAMESPACE`. */
export function outboundTcpListenerName(service: string, namespace: string, port: number): string {
  return `outbound_tcp|${port}||${service}.${namespace}`;
}

/**
 * A sidecar's listener (and, for HTTP, its RDS route configuration) dedicated to one Service
 * port, from the Workload annotation `weft.dev/upstream-port-<service>`:
 * `upstream|PORT||NAME.NAMESPACE` (PORT is the Service port, as in cluster names).
 */
export function upstreamListenerName(service: string, namespace: string, port: number): string {
  return `upstream|${port}||${service}.${namespace}`;
}

/**
 * A cluster with no endpoints, for the share of traffic whose backendRef is invalid
 * (Gateway API wants an error for that share; see docs/translation.md).
 */
export const INVALID_BACKEND_CLUSTER = 'weft|invalid-backend';

/** Workload annotation `weft.dev/app-port-<port name>`: the app's private port behind the sidecar. */
export const APP_PORT_ANNOTATION = 'weft.dev/app-port-';

/** Service annotation `weft.dev/outbound-port-<port name>`: local port of a TCP port's outbound listener. */
export const OUTBOUND_PORT_ANNOTATION = 'weft.dev/outbound-port-';

/** Workload annotation: the port of this sidecar's outbound HTTP (Host-routing) listener. */
export const OUTBOUND_HTTP_PORT_ANNOTATION = 'weft.dev/outbound-http-port';

/**
 * Workload annotation `weft.dev/upstream-port-<service>` (`<service>` a Service of the
 * Workload's namespace, or `<name>.<namespace>`): a local port of this sidecar dedicated to
 * that Service, so the app needs no Host (`weft up` gives it WEFT_UPSTREAM_<SERVICE>_URL).
 */
export const UPSTREAM_PORT_ANNOTATION = 'weft.dev/upstream-port-';

/**
 * The Host values that address one Service port through the outbound HTTP listener.
 * `svc.ns`, `svc.ns.svc` and `svc.ns.svc.cluster.local` (Kubernetes DNS forms, so apps
 * moved from Kubernetes keep their URLs) with `:PORT`; the bare `svc` only from the
 * Service's own namespace; the port-less forms only for the Service's default port.
 */
export function serviceDomains(
  service: string,
  namespace: string,
  port: number,
  sameNamespace: boolean,
  defaultPort: boolean,
): string[] {
  const hosts = [
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
  if (sameNamespace) hosts.unshift(service);
  const out = hosts.map((h) => `${h}:${port}`);
  if (defaultPort) out.push(...hosts);
  return out;
}
