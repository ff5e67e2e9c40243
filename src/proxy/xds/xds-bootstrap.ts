// The bootstrap `weft proxy --xds HOST:PORT --node ID` builds in memory when no file is
// given: the node, one static cluster for the control plane (HTTP/2, as gRPC needs), ADS
// for both LDS and CDS, and an admin listener when asked for. It is the raw Envoy-shaped
// document, so it goes through the same validation as a file and shows in /config_dump.

import { isIP } from 'node:net';

/** The static cluster name Envoy's examples use for the control plane. */
export const XDS_CLUSTER_NAME = 'xds_cluster';

export interface XdsBootstrapOptions {
  /** The control plane, "host:port" ("[v6]:port" for IPv6). */
  readonly server: string;
  readonly nodeId: string;
  readonly nodeCluster?: string;
  /** node.metadata (string values), e.g. the control plane's WEFT_OUTBOUND_PORT. */
  readonly nodeMetadata?: Readonly<Record<string, string>>;
  /** node.locality: where this proxy runs (zone-aware routing keeps traffic in its zone). */
  readonly nodeLocality?: NodeLocality;
  readonly delta?: boolean;
  /** Admin listener "ip:port" (port 0 = ephemeral), or none. */
  readonly adminAddress?: string;
}

/** Envoy's core.v3.Locality, as `--locality REGION[/ZONE[/SUB_ZONE]]` gives it. */
export interface NodeLocality {
  readonly region: string;
  readonly zone?: string;
  readonly subZone?: string;
}

/** Parses `REGION[/ZONE[/SUB_ZONE]]` (each part non-empty); throws with a usage message. */
export function parseLocality(value: string, what: string): NodeLocality {
  const parts = value.split('/');
  if (parts.length > 3 || parts.some((p) => p === '' || /\s/.test(p))) {
    throw new Error(`${what} must be REGION[/ZONE[/SUB_ZONE]] (no empty parts or spaces), not '${value}'`);
  }
  const [region, zone, subZone] = parts as [string, string?, string?];
  return { region, ...(zone === undefined ? {} : { zone }), ...(subZone === undefined ? {} : { subZone }) };
}

/** The bootstrap's `node.locality` object (Envoy field names) for a locality. */
function localityJson(l: NodeLocality): Record<string, string> {
  return {
    region: l.region,
    ...(l.zone === undefined ? {} : { zone: l.zone }),
    ...(l.subZone === undefined ? {} : { sub_zone: l.subZone }),
  };
}

/** Splits "host:port" / "[v6]:port"; throws with a usage message when malformed. */
export function parseHostPort(value: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || port > 65535) throw new Error(`${what} must be HOST:PORT, not '${value}'`);
  return { host: m[1] ?? m[2], port };
}

export function buildXdsBootstrap(o: XdsBootstrapOptions): Record<string, unknown> {
  const { host, port } = parseHostPort(o.server, '--xds');
  const doc: Record<string, unknown> = {
    node: {
      id: o.nodeId,
      cluster: o.nodeCluster ?? '',
      ...(o.nodeMetadata !== undefined && Object.keys(o.nodeMetadata).length > 0
        ? { metadata: { ...o.nodeMetadata } }
        : {}),
      ...(o.nodeLocality === undefined ? {} : { locality: localityJson(o.nodeLocality) }),
    },
    dynamic_resources: {
      ads_config: {
        api_type: o.delta ? 'DELTA_GRPC' : 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER_NAME } }],
      },
      lds_config: { ads: {}, resource_api_version: 'V3' },
      cds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: {
      clusters: [
        {
          name: XDS_CLUSTER_NAME,
          type: isIP(host) === 0 ? 'STRICT_DNS' : 'STATIC',
          connect_timeout: '1s',
          http2_protocol_options: {},
          load_assignment: {
            cluster_name: XDS_CLUSTER_NAME,
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: host, port_value: port } } } },
                ],
              },
            ],
          },
        },
      ],
    },
  };
  if (o.adminAddress !== undefined) {
    const a = parseHostPort(o.adminAddress, '--admin-address');
    doc.admin = { address: { socket_address: { address: a.host, port_value: a.port } } };
  }
  return doc;
}

export interface NodeOverride {
  readonly nodeId?: string;
  readonly nodeCluster?: string;
  /** Merged over the file's node.metadata. */
  readonly nodeMetadata?: Readonly<Record<string, string>>;
  /** Replaces the file's node.locality. */
  readonly nodeLocality?: NodeLocality;
}

/**
 * `-c FILE` with `--xds`/`--node`/`--cluster`: sets node.id / node.cluster (as Envoy's
 * --service-node / --service-cluster do) and, with a server, adds the xDS cluster and an
 * ADS `dynamic_resources` to the file's bootstrap. A file that already has
 * dynamic_resources keeps its own (giving --xds too is an error).
 */
export function overlayBootstrap(
  raw: unknown,
  o: NodeOverride & { readonly server?: string; readonly delta?: boolean },
): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const doc: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (
    o.nodeId !== undefined ||
    o.nodeCluster !== undefined ||
    o.nodeMetadata !== undefined ||
    o.nodeLocality !== undefined
  ) {
    const node = { ...((doc.node as Record<string, unknown> | undefined) ?? {}) };
    if (o.nodeId !== undefined) node.id = o.nodeId;
    if (o.nodeCluster !== undefined) node.cluster = o.nodeCluster;
    if (o.nodeMetadata !== undefined) {
      const before = node.metadata;
      const base = typeof before === 'object' && before !== null && !Array.isArray(before) ? before : {};
      node.metadata = { ...base, ...o.nodeMetadata };
    }
    if (o.nodeLocality !== undefined) node.locality = localityJson(o.nodeLocality);
    doc.node = node;
  }
  if (o.server !== undefined) {
    if (doc.dynamic_resources != null) {
      throw new Error('--xds: the bootstrap file already has dynamic_resources; give one or the other');
    }
    const built = buildXdsBootstrap({ server: o.server, nodeId: '', delta: o.delta });
    const sr = { ...((doc.static_resources as Record<string, unknown> | undefined) ?? {}) };
    const clusters = Array.isArray(sr.clusters) ? sr.clusters : [];
    const xdsCluster = (built.static_resources as { clusters: unknown[] }).clusters[0];
    sr.clusters = [...clusters, xdsCluster];
    doc.static_resources = sr;
    doc.dynamic_resources = built.dynamic_resources;
  }
  return doc;
}
