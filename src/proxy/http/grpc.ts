// gRPC over HTTP/2 as the proxy sees it: recognising a gRPC request, the trailers-only
// reply the proxy sends when it fails one itself (HTTP 200 with grpc-status and
// grpc-message, "Trailers-Only" in the gRPC HTTP/2 protocol spec), the HTTP → gRPC status
// mapping Envoy uses for local replies (Grpc::Utility::httpToGrpcStatus, following
// gRPC's http-grpc-status-mapping.md), and the `grpc-timeout` header.

import type { MaxStreamDuration } from '../../config/model.js';
import { ResponseFlag } from '../stream-info.js';
import { getHeader, type HeaderList } from './headers.js';

/** gRPC status codes the proxy answers with. */
export const GrpcStatus = {
  Unknown: 2,
  DeadlineExceeded: 4,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  Unauthenticated: 16,
} as const;

/** content-type application/grpc, application/grpc+proto, application/grpc-web... */
export function isGrpcRequest(headers: HeaderList): boolean {
  const ct = getHeader(headers, 'content-type');
  return ct?.startsWith('application/grpc') === true;
}

/** Flags of the proxy's own timeouts: a gRPC client sees them as DEADLINE_EXCEEDED. */
const TIMEOUT_FLAGS =
  ResponseFlag.UpstreamRequestTimeout |
  ResponseFlag.UpstreamMaxStreamDurationReached |
  ResponseFlag.StreamIdleTimeout |
  ResponseFlag.DurationTimeout;

/** The gRPC status of a local reply with HTTP `status` and Envoy response `flags`. */
export function grpcStatusForLocalReply(status: number, flags: number): number {
  if ((flags & TIMEOUT_FLAGS) !== 0) return GrpcStatus.DeadlineExceeded;
  return grpcStatusOfHttp(status);
}

/** Envoy's HTTP → gRPC status mapping (Grpc::Utility::httpToGrpcStatus). */
export function grpcStatusOfHttp(status: number): number {
  switch (status) {
    case 400:
      return GrpcStatus.Internal;
    case 401:
      return GrpcStatus.Unauthenticated;
    case 403:
      return GrpcStatus.PermissionDenied;
    case 404:
      return GrpcStatus.Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.Unavailable;
    default:
      return GrpcStatus.Unknown;
  }
}

/** The trailers-only headers of a gRPC local reply. */
export function grpcLocalReplyHeaders(grpcStatus: number, message: string): HeaderList {
  return [
    'content-type',
    'application/grpc',
    'grpc-status',
    String(grpcStatus),
    'grpc-message',
    percentEncodeGrpcMessage(message.trim()),
  ];
}

/** gRPC spec: grpc-message is percent-encoded outside printable ASCII (and '%' itself). */
export function percentEncodeGrpcMessage(text: string): string {
  let out = '';
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b >= 0x20 && b <= 0x7e && b !== 0x25) out += String.fromCharCode(b);
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** `grpc-timeout` (1–8 digits and a unit, gRPC HTTP/2 spec) in ms, rounded up; -1 when malformed. */
export function parseGrpcTimeout(value: string): number {
  const n = value.length;
  if (n < 2 || n > 9) return -1;
  const unit = UNIT_MS[value[n - 1]];
  if (unit === undefined) return -1;
  let digits = 0;
  for (let i = 0; i < n - 1; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    digits = digits * 10 + (c - 48);
  }
  return Math.ceil(digits * unit);
}

/**
 * The route timeout of a request on a route with max_stream_duration: with
 * grpc_timeout_header_max set and a valid `grpc-timeout`, that value (capped by the max
 * unless it is 0, minus grpc_timeout_header_offset); otherwise the route's timeout.
 * null = no timeout (a grpc-timeout of 0 means none, as in Envoy).
 */
export function routeTimeoutFor(
  routeTimeoutMs: number | null,
  msd: MaxStreamDuration,
  headers: HeaderList,
): number | null {
  const max = msd.grpcTimeoutHeaderMaxMs;
  if (max === null) return routeTimeoutMs;
  const header = getHeader(headers, 'grpc-timeout');
  if (header === undefined) return routeTimeoutMs;
  let t = parseGrpcTimeout(header);
  if (t < 0) return routeTimeoutMs;
  if (max > 0 && (t === 0 || t > max)) t = max;
  if (t === 0) return null;
  const offset = msd.grpcTimeoutHeaderOffsetMs;
  if (offset > 0 && t > offset) t -= offset;
  return t;
}
