// What is known about one downstream request (or TCP connection) as it is served:
// the access-log formatter and the stats read it; the connection manager fills it in.
// One object per request, reset and reused per connection where possible.

import type { HeaderList } from './http/headers.js';
import type { DownstreamTlsInfo } from './tls/connection-info.js';

/** Envoy response flags (bit set), as printed in %RESPONSE_FLAGS%. */
export const ResponseFlag = {
  NoHealthyUpstream: 1 << 0, // UH
  UpstreamConnectionFailure: 1 << 1, // UF
  UpstreamOverflow: 1 << 2, // UO
  NoRouteFound: 1 << 3, // NR
  UpstreamRetryLimitExceeded: 1 << 4, // URX
  UpstreamRequestTimeout: 1 << 5, // UT
  LocalReset: 1 << 6, // LR
  UpstreamConnectionTermination: 1 << 7, // UC
  DelayInjected: 1 << 8, // DI
  FaultInjected: 1 << 9, // FI
  RateLimited: 1 << 10, // RL
  UnauthorizedExternalService: 1 << 11, // UAEX
  DownstreamConnectionTermination: 1 << 12, // DC
  UpstreamRemoteReset: 1 << 13, // UR
  StreamIdleTimeout: 1 << 14, // SI
  DownstreamProtocolError: 1 << 15, // DPE
  UpstreamProtocolError: 1 << 16, // UPE
  NoClusterFound: 1 << 17, // NC
  DurationTimeout: 1 << 18, // DT
  DownstreamRemoteReset: 1 << 19, // DR
  UpstreamMaxStreamDurationReached: 1 << 20, // UMSDR
  OverloadManager: 1 << 21, // OM
} as const;

/** Short codes in Envoy's print order. */
export const RESPONSE_FLAG_CODES: ReadonlyArray<readonly [number, string]> = [
  [ResponseFlag.FaultInjected, 'FI'],
  [ResponseFlag.NoHealthyUpstream, 'UH'],
  [ResponseFlag.UpstreamRequestTimeout, 'UT'],
  [ResponseFlag.LocalReset, 'LR'],
  [ResponseFlag.UpstreamRemoteReset, 'UR'],
  [ResponseFlag.UpstreamConnectionFailure, 'UF'],
  [ResponseFlag.UpstreamConnectionTermination, 'UC'],
  [ResponseFlag.UpstreamOverflow, 'UO'],
  [ResponseFlag.NoRouteFound, 'NR'],
  [ResponseFlag.DelayInjected, 'DI'],
  [ResponseFlag.RateLimited, 'RL'],
  [ResponseFlag.UnauthorizedExternalService, 'UAEX'],
  [ResponseFlag.UpstreamRetryLimitExceeded, 'URX'],
  [ResponseFlag.StreamIdleTimeout, 'SI'],
  [ResponseFlag.DownstreamConnectionTermination, 'DC'],
  [ResponseFlag.DownstreamProtocolError, 'DPE'],
  [ResponseFlag.UpstreamProtocolError, 'UPE'],
  [ResponseFlag.NoClusterFound, 'NC'],
  [ResponseFlag.DurationTimeout, 'DT'],
  [ResponseFlag.DownstreamRemoteReset, 'DR'],
  [ResponseFlag.UpstreamMaxStreamDurationReached, 'UMSDR'],
  [ResponseFlag.OverloadManager, 'OM'],
];

/** "-" when none, else the codes joined with ",". */
export function formatResponseFlags(flags: number): string {
  if (flags === 0) return '-';
  let out = '';
  for (const [bit, code] of RESPONSE_FLAG_CODES) {
    if ((flags & bit) !== 0) out = out === '' ? code : `${out},${code}`;
  }
  return out;
}

export interface StreamInfo {
  /** Wall clock at the first byte of the request (epoch ms). */
  startTime: number;
  /** Monotonic ms at start (Clock.monotonic), for durations. */
  startMonotonic: number;
  /** Monotonic ms when the last request byte was received; -1 if not yet. */
  lastRequestByteMonotonic: number;
  /** Monotonic ms when the first response byte was sent downstream; -1 if not yet. */
  firstResponseByteMonotonic: number;
  /** Monotonic ms at completion; -1 if not yet. */
  endMonotonic: number;

  /** 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2' — or '' for TCP. */
  protocol: string;
  method: string;
  /** Request target path as received (with query). */
  path: string;
  /** Path before a rewrite, '' when not rewritten (X-ENVOY-ORIGINAL-PATH). */
  originalPath: string;
  /** Host / :authority as received. */
  authority: string;
  scheme: string;
  requestHeaders: HeaderList;
  responseHeaders: HeaderList;
  responseTrailers: HeaderList;

  /** 0 until a response status is known. */
  responseCode: number;
  /** Envoy's RESPONSE_CODE_DETAILS, e.g. 'via_upstream', 'route_not_found'. */
  responseCodeDetails: string;
  responseFlags: number;
  /** Body bytes received from downstream (HTTP) / all bytes (TCP). */
  bytesReceived: number;
  /** Body bytes sent downstream (HTTP) / all bytes (TCP). */
  bytesSent: number;

  /**
   * "ip:port" of the trusted client (Envoy's downstream remote address): the peer, or an
   * address from x-forwarded-for with port 0 (http/client-address.ts).
   */
  downstreamRemoteAddress: string;
  /** "ip:port" of the downstream peer itself. */
  downstreamDirectRemoteAddress: string;
  /** "ip:port" the downstream connected to. */
  downstreamLocalAddress: string;
  /** Stable per-connection id. */
  connectionId: number;
  /** The downstream connection's TLS facts; null for plain TCP. */
  downstreamTls: DownstreamTlsInfo | null;

  routeName: string;
  upstreamCluster: string;
  /** "ip:port" of the chosen upstream host, '' when none. */
  upstreamHost: string;
  /** Upstream attempts made: 1 + retries for HTTP, 1 for a TCP connection; 0 when no host was chosen. */
  attemptCount: number;
  /** "ip:port" of our side of the upstream connection, '' when none. */
  upstreamLocalAddress: string;
  /** Upstream transport failure text, '' when none. */
  upstreamTransportFailureReason: string;
  /** Downstream-to-upstream connection termination details, '' when none. */
  connectionTerminationDetails: string;
}

/**
 * The header lists of a stream that has none (yet): shared, so a stream does not allocate
 * three empty arrays, and frozen, as a stream's lists are only ever replaced, never
 * appended to (a push would throw rather than leak into every stream).
 */
const NO_FIELDS = Object.freeze([]) as unknown as HeaderList;

export function createStreamInfo(): StreamInfo {
  return {
    startTime: 0,
    startMonotonic: 0,
    lastRequestByteMonotonic: -1,
    firstResponseByteMonotonic: -1,
    endMonotonic: -1,
    protocol: '',
    method: '',
    path: '',
    originalPath: '',
    authority: '',
    scheme: 'http',
    requestHeaders: NO_FIELDS,
    responseHeaders: NO_FIELDS,
    responseTrailers: NO_FIELDS,
    responseCode: 0,
    responseCodeDetails: '',
    responseFlags: 0,
    bytesReceived: 0,
    bytesSent: 0,
    downstreamRemoteAddress: '',
    downstreamDirectRemoteAddress: '',
    downstreamLocalAddress: '',
    connectionId: 0,
    downstreamTls: null,
    routeName: '',
    upstreamCluster: '',
    upstreamHost: '',
    attemptCount: 0,
    upstreamLocalAddress: '',
    upstreamTransportFailureReason: '',
    connectionTerminationDetails: '',
  };
}
