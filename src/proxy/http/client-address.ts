// The trusted client address of a request and what it decides, after Envoy's HTTP
// connection manager ("x-forwarded-for", config_http_conn_man_headers_x-forwarded-for):
//
// - With `use_remote_address`, the trusted client address is the connection's peer, or,
//   with `xff_num_trusted_hops` N > 0, the Nth address from the right of the incoming
//   x-forwarded-for (the peer when XFF has fewer than N). The peer is then appended to
//   XFF (unless `skip_xff_append`).
// - Without it, XFF is forwarded unchanged and the trusted client address is the (N+1)th
//   address from its right; with fewer, or with an entry there that is not an IP, the peer.
// - A request is *internal* when, after any append, XFF holds a single address that came
//   from XFF or the peer and is internal (RFC 1918, loopback, RFC 4193, or the HCM's
//   `internal_address_config.cidr_ranges`): with
//   `use_remote_address`, no incoming XFF and an internal peer; without it, an incoming
//   XFF of exactly one internal address. Every other request is external, and an external
//   request under `use_remote_address` is an *edge* request.
//
// The connection manager (active-stream.ts) applies the result, as Envoy's header
// sanitizing does: `x-envoy-internal: true` on internal requests and removed from all
// others; on every external request the router-control headers below are removed (a
// caller outside must not set retries or timeouts); on edge requests also the headers
// proxies inside set about the caller, with `x-envoy-external-address` set to the trusted
// client address; a client's `x-request-id` is replaced on edge requests unless
// `preserve_external_request_id`. `%DOWNSTREAM_REMOTE_ADDRESS%` is the trusted client
// address (port 0 when it came from XFF) and the `source_ip` hash policy hashes it;
// `%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%` stays the peer.
//
// With `original_ip_detection_extensions` (detectClientAddress) the extensions find the
// address instead: a header of the HCM's choosing (x-real-ip behind an L4 balancer), or
// XFF with its own trusted-hop count.

import { isIP } from 'node:net';
import type { OriginalIpDetection } from '../../config/model.js';
import { getHeader, getHeaderJoined, type HeaderList, truncateList } from './headers.js';

/** The HCM settings this depends on, compiled (connection-manager.ts). */
export interface ForwardingConfig {
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops: number;
  /** `original_ip_detection_extensions`; null = Envoy's XFF rules above. */
  readonly detectors: readonly OriginalIpDetection[] | null;
  /** Envoy's default internal ranges, or `internal_address_config.cidr_ranges` (internal-address.ts). */
  isInternal(ip: string): boolean;
}

export interface ClientAddress {
  /** The trusted client address, an IP without port. */
  readonly ip: string;
  /**
   * It was read from x-forwarded-for or an original IP detection header (its port is
   * unknown), not taken from the connection.
   */
  readonly fromHeader: boolean;
  /** Envoy's internal request (see the module comment). */
  readonly internal: boolean;
  /** An external request reaching an edge proxy (`use_remote_address`). */
  readonly edge: boolean;
}

/**
 * Headers only a caller inside may set for the proxy to act on (Envoy's "HTTP header
 * sanitizing"): removed from every external request before routing.
 */
const EXTERNAL_SANITIZED_HEADERS: readonly string[] = [
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-force-trace',
  'x-envoy-hedge-on-per-try-timeout',
  'x-envoy-ip-tags',
  'x-envoy-max-retries',
  'x-envoy-retriable-header-names',
  'x-envoy-retriable-status-codes',
  'x-envoy-retry-grpc-on',
  'x-envoy-retry-on',
  'x-envoy-upstream-alt-stat-name',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-upstream-rq-timeout-ms',
];

/** Removed from edge requests only: what the proxies inside tell each other about the caller. */
const EDGE_SANITIZED_HEADERS: readonly string[] = [
  'x-envoy-decorator-operation',
  'x-envoy-downstream-service-cluster',
  'x-envoy-downstream-service-node',
  'x-envoy-external-address',
];

/** Decides the trusted client address of a request from its headers and the peer's IP. */
export function resolveClientAddress(
  headers: HeaderList,
  peerIp: string,
  config: ForwardingConfig,
): ClientAddress {
  const xff = getHeaderJoined(headers, 'x-forwarded-for');
  const hops = config.xffNumTrustedHops;
  if (config.useRemoteAddress) {
    const fromHeader = hops > 0 && xff !== undefined ? addressFromRight(xff, hops - 1) : null;
    const ip = fromHeader ?? peerIp;
    const internal = xff === undefined && config.isInternal(ip);
    return { ip, fromHeader: fromHeader !== null, internal, edge: !internal };
  }
  if (xff === undefined) return { ip: peerIp, fromHeader: false, internal: false, edge: false };
  const fromHeader = addressFromRight(xff, hops);
  if (fromHeader === null) return { ip: peerIp, fromHeader: false, internal: false, edge: false };
  const internal = xff.indexOf(',') < 0 && config.isInternal(fromHeader);
  return { ip: fromHeader, fromHeader: true, internal, edge: false };
}

/**
 * The trusted client address under `original_ip_detection_extensions` (Envoy's extension
 * path; never with use_remote_address): the first extension that finds an address gives
 * it, else the peer. A custom_header extension with `reject_with_status` returns that
 * status instead when its header is missing or not an IP: the request is to be refused.
 * The request is internal only when the extension vouches for the address (custom_header:
 * `allow_extension_to_set_address_as_trusted`; xff: XFF holds that one address) and the
 * address is internal. It is never an edge request.
 */
export function detectClientAddress(
  headers: HeaderList,
  peerIp: string,
  config: ForwardingConfig,
  detectors: readonly OriginalIpDetection[],
): ClientAddress | number {
  for (const d of detectors) {
    if (d.kind === 'custom_header') {
      const value = getHeader(headers, d.headerName);
      if (value !== undefined && isIP(value) !== 0) {
        return { ip: value, fromHeader: true, internal: d.trusted && config.isInternal(value), edge: false };
      }
      if (d.rejectStatus !== null) return d.rejectStatus;
    } else {
      const xff = getHeaderJoined(headers, 'x-forwarded-for');
      const ip = xff === undefined ? null : addressFromRight(xff, d.xffNumTrustedHops);
      if (ip !== null) {
        const internal = xff!.indexOf(',') < 0 && config.isInternal(ip);
        return { ip, fromHeader: true, internal, edge: false };
      }
    }
  }
  return { ip: peerIp, fromHeader: false, internal: false, edge: false };
}

/**
 * The address `skip` entries left of the rightmost one in an x-forwarded-for value (0 =
 * the rightmost), or null when there are not that many or it is not an IP address.
 */
export function addressFromRight(xff: string, skip: number): string | null {
  let end = xff.length;
  for (let n = 0; n < skip; n++) {
    const comma = xff.lastIndexOf(',', end - 1);
    if (comma < 0) return null;
    end = comma;
  }
  const start = xff.lastIndexOf(',', end - 1) + 1;
  const entry = xff.slice(start, end).trim();
  return isIP(entry) === 0 ? null : entry;
}

const EXTERNAL_SANITIZED = new Set(EXTERNAL_SANITIZED_HEADERS);
const EDGE_SANITIZED = new Set(EDGE_SANITIZED_HEADERS);

/**
 * Applies a request's client-address decision to its headers, before routing:
 * `x-envoy-internal: true` on internal requests, removed from every other; on external
 * requests the router-control headers (EXTERNAL_SANITIZED_HEADERS) are removed, and on
 * edge requests also EDGE_SANITIZED_HEADERS, with `x-envoy-external-address` set to the
 * trusted client address. One pass over the headers.
 */
export function sanitizeForwardingHeaders(headers: HeaderList, client: ClientAddress): void {
  const internal = client.internal;
  const edge = client.edge;
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    const name = headers[r];
    if (
      name.length > 15 &&
      name.startsWith('x-envoy-') &&
      (name === 'x-envoy-internal' ||
        (!internal && (EXTERNAL_SANITIZED.has(name) || (edge && EDGE_SANITIZED.has(name)))))
    ) {
      continue;
    }
    if (w !== r) {
      headers[w] = name;
      headers[w + 1] = headers[r + 1];
    }
    w += 2;
  }
  truncateList(headers, w);
  if (internal) headers.push('x-envoy-internal', 'true');
  else if (edge) headers.push('x-envoy-external-address', client.ip);
}

/**
 * Puts back the client-address headers a client's Connection header nominated for
 * removal (hop-by-hop stripping runs after routing, and must not let a client drop what
 * the proxy itself set), and the `kept` pairs (other headers the connection manager set
 * or vouched for, taken before the stripping) that are gone.
 */
export function restoreForwardingHeaders(headers: HeaderList, client: ClientAddress, kept: HeaderList): void {
  for (let i = 0; i < kept.length; i += 2) {
    if (getHeader(headers, kept[i]) === undefined) headers.push(kept[i], kept[i + 1]);
  }
  if (client.internal) {
    if (getHeader(headers, 'x-envoy-internal') === undefined) headers.push('x-envoy-internal', 'true');
  } else if (client.edge && getHeader(headers, 'x-envoy-external-address') === undefined) {
    headers.push('x-envoy-external-address', client.ip);
  }
}
