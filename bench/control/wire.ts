// Just enough protobuf for a lean ADS load client (bench:control): encodes DiscoveryRequest
// and walks a DiscoveryResponse for its version_info, nonce, type_url and the *names* of the
// resources it carries, without decoding the resources themselves. Clusters are walked one
// level further for their EDS service name, and listeners for the RDS names their
// HttpConnectionManagers use, because a client must know what to subscribe to next.
// Wire format: https://protobuf.dev/programming-guides/encoding/ ; field numbers from
// envoy/service/discovery/v3/discovery.proto, config/cluster/v3/cluster.proto,
// config/listener/v3/listener.proto and extensions/filters/network/http_connection_manager/v3.

export const TYPE_CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const TYPE_LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const TYPE_RDS = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const TYPE_EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const TYPE_HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** What the load client reads from a DiscoveryResponse. */
export interface ResponseHead {
  readonly versionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  /** The resources' own payloads (Any.value), as views into the response buffer. */
  readonly values: Uint8Array[];
}

// ---- encoding -------------------------------------------------------------------------------------

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(out: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/** One length-delimited field (wire type 2) as bytes. */
export function lengthDelimited(field: number, payload: Uint8Array): Buffer {
  const tag = (field << 3) | 2;
  const out = Buffer.allocUnsafe(varintLength(tag) + varintLength(payload.length) + payload.length);
  let at = writeVarint(out, 0, tag);
  at = writeVarint(out, at, payload.length);
  out.set(payload, at);
  return out;
}

function stringField(field: number, value: string): Buffer {
  return value === '' ? Buffer.alloc(0) : lengthDelimited(field, Buffer.from(value, 'utf8'));
}

/** DiscoveryRequest.node (field 2) for a node id and cluster (envoy.config.core.v3.Node id=1, cluster=2). */
export function encodeNode(id: string, cluster: string): Buffer {
  return lengthDelimited(2, Buffer.concat([stringField(1, id), stringField(2, cluster)]));
}

/** DiscoveryRequest.resource_names (field 3), pre-encoded once and shared between requests. */
export function encodeNames(names: readonly string[]): Buffer {
  return Buffer.concat(names.map((n) => lengthDelimited(3, Buffer.from(n, 'utf8'))));
}

/**
 * A SotW DiscoveryRequest: version_info=1, node=2, resource_names=3, type_url=4,
 * response_nonce=5. `node` and `names` come pre-encoded (encodeNode, encodeNames).
 */
export function encodeRequest(
  typeUrl: string,
  versionInfo: string,
  nonce: string,
  names: Buffer,
  node?: Buffer,
): Buffer {
  return Buffer.concat([
    stringField(1, versionInfo),
    node ?? Buffer.alloc(0),
    names,
    stringField(4, typeUrl),
    stringField(5, nonce),
  ]);
}

// ---- decoding -------------------------------------------------------------------------------------

/** A field visitor over one message; returns false at malformed input. */
function walk(
  buf: Uint8Array,
  start: number,
  end: number,
  onBytes: (field: number, from: number, to: number) => void,
): boolean {
  let at = start;
  while (at < end) {
    let tag = 0;
    let shift = 1;
    let b: number;
    do {
      if (at >= end) return false;
      b = buf[at++];
      tag += (b & 0x7f) * shift;
      shift *= 128;
    } while (b & 0x80);
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        do {
          if (at >= end) return false;
        } while (buf[at++] & 0x80);
        break;
      case 1:
        at += 8;
        break;
      case 5:
        at += 4;
        break;
      case 2: {
        let len = 0;
        shift = 1;
        do {
          if (at >= end) return false;
          b = buf[at++];
          len += (b & 0x7f) * shift;
          shift *= 128;
        } while (b & 0x80);
        if (at + len > end) return false;
        onBytes(field, at, at + len);
        at += len;
        break;
      }
      default:
        return false; // groups (3/4) are not used by xDS
    }
  }
  return at === end;
}

function text(buf: Uint8Array, from: number, to: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString('utf8');
}

/** version_info=1, resources=2 (Any: type_url=1, value=2), type_url=4, nonce=5. */
export function decodeResponseHead(buf: Uint8Array): ResponseHead | null {
  let versionInfo = '';
  let typeUrl = '';
  let nonce = '';
  const values: Uint8Array[] = [];
  const ok = walk(buf, 0, buf.length, (field, from, to) => {
    if (field === 1) versionInfo = text(buf, from, to);
    else if (field === 4) typeUrl = text(buf, from, to);
    else if (field === 5) nonce = text(buf, from, to);
    else if (field === 2) {
      walk(buf, from, to, (f, a, b) => {
        if (f === 2) values.push(buf.subarray(a, b));
      });
    }
  });
  return ok ? { versionInfo, typeUrl, nonce, values } : null;
}

/** The `name` (field 1) of a Listener, Cluster or RouteConfiguration, or a CLA's cluster_name. */
export function resourceName(value: Uint8Array): string {
  let name = '';
  walk(value, 0, value.length, (field, from, to) => {
    if (field === 1 && name === '') name = text(value, from, to);
  });
  return name;
}

/** The EDS name a Cluster asks for: eds_cluster_config(3).service_name(2), else its name; null if not EDS. */
export function edsServiceName(cluster: Uint8Array): string | null {
  let name = '';
  let eds: string | null = null;
  walk(cluster, 0, cluster.length, (field, from, to) => {
    if (field === 1) name = text(cluster, from, to);
    else if (field === 3) {
      eds = '';
      walk(cluster, from, to, (f, a, b) => {
        if (f === 2) eds = text(cluster, a, b);
      });
    }
  });
  if (eds === null) return null;
  return eds === '' ? name : eds;
}

/**
 * RDS names a Listener uses: filter_chains(3) and default_filter_chain(25) → filters(3) →
 * typed_config(4) of the HttpConnectionManager → rds(3).route_config_name(2).
 */
export function rdsNames(listener: Uint8Array, into: Set<string>): void {
  const onChain = (from: number, to: number): void => {
    walk(listener, from, to, (f, a, b) => {
      if (f !== 3) return; // filters
      walk(listener, a, b, (ff, fa, fb) => {
        if (ff !== 4) return; // typed_config (Any)
        let url = '';
        let vFrom = -1;
        let vTo = -1;
        walk(listener, fa, fb, (af, aa, ab) => {
          if (af === 1) url = text(listener, aa, ab);
          else if (af === 2) {
            vFrom = aa;
            vTo = ab;
          }
        });
        if (url !== TYPE_HCM || vFrom < 0) return;
        walk(listener, vFrom, vTo, (hf, ha, hb) => {
          if (hf !== 3) return; // rds
          walk(listener, ha, hb, (rf, ra, rb) => {
            if (rf === 2) into.add(text(listener, ra, rb));
          });
        });
      });
    });
  };
  walk(listener, 0, listener.length, (field, from, to) => {
    if (field === 3 || field === 25) onChain(from, to);
  });
}
