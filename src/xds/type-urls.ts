// The type URLs of the xDS v3 resource types Weft serves, and which of them are "full state"
// in the state-of-the-world protocol (Listener and Cluster: a response carries every resource,
// so an absent one is deleted). See the xDS protocol doc, "Grouping Resources into Responses".

export const TYPE_URLS = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

/** Short names for humans (status output, logs). */
export const TYPE_SHORT_NAMES: Readonly<Record<string, string>> = {
  [TYPE_URLS.listener]: 'LDS',
  [TYPE_URLS.route]: 'RDS',
  [TYPE_URLS.cluster]: 'CDS',
  [TYPE_URLS.endpoint]: 'EDS',
  [TYPE_URLS.secret]: 'SDS',
};

/** In SotW, a response for these types must list every resource (absence means deletion). */
export function isFullStateType(typeUrl: string): boolean {
  return typeUrl === TYPE_URLS.listener || typeUrl === TYPE_URLS.cluster;
}

/**
 * Whether an empty first subscription means "wildcard" (all resources). The xDS doc keeps this
 * legacy behaviour for LDS and CDS only; other types need explicit names (or "*").
 */
export function allowsLegacyWildcard(typeUrl: string): boolean {
  return isFullStateType(typeUrl);
}

export function shortTypeName(typeUrl: string): string {
  return TYPE_SHORT_NAMES[typeUrl] ?? typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}
