// What the translator produces: Envoy v3 resources in proto3 JSON form exactly as Envoy's
// YAML spells them (snake_case names, durations as "5s", typed_config objects carrying an
// `@type`), grouped by their xDS type URL and named, ready for an xDS server to serve.

export const LISTENER_TYPE = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE_TYPE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

export type XdsTypeUrl =
  | typeof LISTENER_TYPE
  | typeof ROUTE_TYPE
  | typeof CLUSTER_TYPE
  | typeof ENDPOINT_TYPE;

/** A JSON object as Envoy's proto3 JSON mapping writes it. */
export type EnvoyJson = { [key: string]: unknown };

export interface XdsResource {
  /** The resource name xDS uses (Listener.name, RouteConfiguration.name, Cluster.name, cluster_name). */
  readonly name: string;
  /** The resource itself, without a top-level `@type` (the group's type URL is its type). */
  readonly resource: EnvoyJson;
}

export interface Translation {
  /** Every type URL is present; resources are sorted by name so output is deterministic. */
  readonly resources: Readonly<Record<XdsTypeUrl, readonly XdsResource[]>>;
  /** Things the translator had to leave out or adjust, one line each (shown by `weft check`). */
  readonly warnings: readonly string[];
}

/** An ADS config source, as EDS clusters and RDS listeners reference the control plane. */
export function adsConfigSource(): EnvoyJson {
  return { ads: {}, resource_api_version: 'V3' };
}

export function byName(a: XdsResource, b: XdsResource): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
