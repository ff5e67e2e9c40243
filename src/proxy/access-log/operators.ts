// The catalogue of substitution command operators (`%NAME(args):Z%`) Weft supports, and
// how each reads a StreamInfo. Envoy docs: "Access logging → Command operators".
//
// Each operator compiles, once at config time, into an Accessor: a function from
// StreamInfo to a typed value. `undefined` means "not available" (Envoy prints '-' in
// text, null in JSON, '' in custom header values); numbers stay numbers so the JSON
// formatter can emit them as JSON numbers, as Envoy does.

import { GRPC_STATUS_NAMES } from '../../config/validate-access-log-filter.js';
import type { ConfigIssue } from '../../core/errors.js';
import { urlEncodePem } from '../http/client-cert-header.js';
import { grpcStatusOfHttp } from '../http/grpc.js';
import { getHeader, type HeaderList } from '../http/headers.js';
import { formatResponseFlags, RESPONSE_FLAG_CODES, type StreamInfo } from '../stream-info.js';
import { compileTimeFormat, DEFAULT_START_TIME_FORMAT } from './time-format.js';

export type OperatorValue = string | number | undefined;

/** Reads one operator's value from a request's StreamInfo. Built at config time. */
export type Accessor = (info: StreamInfo) => OperatorValue;

export interface FormatOptions {
  /** Value of %HOSTNAME% (injected; never read from the OS at module level). */
  readonly hostname?: string;
}

interface OperatorContext {
  readonly path: string;
  readonly issues: ConfigIssue[];
  readonly options: FormatOptions;
}

interface OperatorSpec {
  /** Whether `(args)` is forbidden, optional or required. */
  readonly args: 'none' | 'optional' | 'required';
  build(arg: string | undefined, ctx: OperatorContext): Accessor;
}

// ---------------------------------------------------------------------------------------
// Field readers (module-level functions, shared by every compiled format)

function nonEmpty(s: string): string | undefined {
  return s === '' ? undefined : s;
}

/** Whole milliseconds between two monotonic instants; Envoy truncates. */
function elapsed(from: number, to: number): number | undefined {
  if (to < 0) return undefined;
  const d = Math.floor(to - from);
  return Math.max(d, 0);
}

/** "ip:port" / "[v6]:port" → "ip" / "v6". A value with several colons and no brackets is taken as a bare IPv6 address. */
export function addressWithoutPort(address: string): string | undefined {
  if (address === '') return undefined;
  if (address.charCodeAt(0) === 0x5b /* [ */) {
    const end = address.indexOf(']');
    return end > 0 ? address.slice(1, end) : address;
  }
  const colon = address.indexOf(':');
  if (colon < 0 || address.indexOf(':', colon + 1) >= 0) return address;
  return address.slice(0, colon);
}

/** The port of "ip:port" / "[v6]:port" as a number, undefined when there is none. */
export function addressPort(address: string): number | undefined {
  let colon: number;
  if (address.charCodeAt(0) === 0x5b /* [ */) {
    const end = address.indexOf(']');
    if (end < 0 || address.charCodeAt(end + 1) !== 0x3a /* : */) return undefined;
    colon = end + 1;
  } else {
    colon = address.indexOf(':');
    if (colon < 0 || address.indexOf(':', colon + 1) >= 0) return undefined;
  }
  const port = Number(address.slice(colon + 1));
  return Number.isInteger(port) && colon + 1 < address.length ? port : undefined;
}

function headerBytes(headers: HeaderList): number {
  let n = 0;
  for (let i = 0; i < headers.length; i++) n += headers[i].length;
  return n;
}

// Envoy's long response-flag names (ResponseFlagUtils), keyed by short code.
const LONG_FLAG_NAMES: Readonly<Record<string, string>> = {
  FI: 'FaultInjected',
  UH: 'NoHealthyUpstream',
  UT: 'UpstreamRequestTimeout',
  LR: 'LocalReset',
  UR: 'UpstreamRemoteReset',
  UF: 'UpstreamConnectionFailure',
  UC: 'UpstreamConnectionTermination',
  UO: 'UpstreamOverflow',
  NR: 'NoRouteFound',
  DI: 'DelayInjected',
  RL: 'RateLimited',
  UAEX: 'UnauthorizedExternalService',
  URX: 'UpstreamRetryLimitExceeded',
  SI: 'StreamIdleTimeout',
  DC: 'DownstreamConnectionTermination',
  DPE: 'DownstreamProtocolError',
  UPE: 'UpstreamProtocolError',
  NC: 'NoClusterFound',
  DT: 'DurationTimeout',
  DR: 'DownstreamRemoteReset',
  UMSDR: 'UpstreamMaxStreamDurationReached',
  OM: 'OverloadManagerTerminated',
};

const LONG_FLAGS: ReadonlyArray<readonly [number, string]> = RESPONSE_FLAG_CODES.map(
  ([bit, code]) => [bit, LONG_FLAG_NAMES[code] ?? code] as const,
);

/** Long response-flag names joined with ",", '-' when none (%RESPONSE_FLAGS_LONG%). */
export function formatResponseFlagsLong(flags: number): string {
  if (flags === 0) return '-';
  let out = '';
  for (const [bit, name] of LONG_FLAGS) {
    if ((flags & bit) !== 0) out = out === '' ? name : `${out},${name}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Header operators: REQ / RESP / TRAILER / REQ_WITHOUT_QUERY

type HeaderSource = 'REQ' | 'RESP' | 'TRAILER';

/** Accessor for one (lower-cased) header name, mapping pseudo-headers to StreamInfo fields. */
function headerAccessor(source: HeaderSource, name: string): Accessor {
  if (source === 'REQ') {
    switch (name) {
      case ':method':
        return (info) => nonEmpty(info.method);
      case ':path':
        return (info) => nonEmpty(info.path);
      case ':authority':
      case 'host':
        return (info) => nonEmpty(info.authority);
      case ':scheme':
        return (info) => nonEmpty(info.scheme);
      case 'x-envoy-original-path':
        // The connection manager records the pre-rewrite path in StreamInfo; a header
        // of that name (set by the router or sent by a trusted peer) also counts.
        return (info) =>
          info.originalPath !== '' ? info.originalPath : getHeader(info.requestHeaders, name);
      default:
        return (info) => getHeader(info.requestHeaders, name);
    }
  }
  if (source === 'RESP') {
    if (name === ':status') return (info) => (info.responseCode === 0 ? undefined : `${info.responseCode}`);
    return (info) => getHeader(info.responseHeaders, name);
  }
  return (info) => getHeader(info.responseTrailers, name);
}

/**
 * The gRPC status of a finished request as Envoy reads it (Grpc::Common::getGrpcStatus):
 * grpc-status from the trailers, then the headers, else mapped from the HTTP status;
 * undefined when there was no response at all.
 */
export function grpcStatusOf(info: StreamInfo): number | undefined {
  const raw =
    getHeader(info.responseTrailers, 'grpc-status') ?? getHeader(info.responseHeaders, 'grpc-status');
  if (raw !== undefined) {
    const v = raw.trim();
    if (/^\d{1,10}$/.test(v)) return Number(v);
  }
  return info.responseCode === 0 ? undefined : grpcStatusOfHttp(info.responseCode);
}

/** `DEADLINE_EXCEEDED` → `DeadlineExceeded` (Envoy's %GRPC_STATUS(CAMEL_STRING)%). */
function camel(snake: string): string {
  return snake.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _sep: string, c: string) => c.toUpperCase());
}

function grpcStatusSpec(): OperatorSpec {
  return {
    args: 'optional',
    build(arg, ctx) {
      const form = arg === undefined || arg === '' ? 'CAMEL_STRING' : arg;
      if (form === 'NUMBER') return grpcStatusOf;
      if (form !== 'CAMEL_STRING' && form !== 'SNAKE_STRING') {
        ctx.issues.push({
          path: ctx.path,
          message: `%GRPC_STATUS(${arg})%: expected CAMEL_STRING, SNAKE_STRING or NUMBER`,
        });
      }
      const names = form === 'SNAKE_STRING' ? GRPC_STATUS_NAMES : GRPC_STATUS_NAMES.map(camel);
      // A status beyond the standard ones prints as its number, as in Envoy.
      return (info) => {
        const code = grpcStatusOf(info);
        return code === undefined ? undefined : (names[code] ?? `${code}`);
      };
    },
  };
}

/** %DOWNSTREAM_PEER_CERT%: the client certificate, URL-encoded PEM (as in XFCC's Cert). */
function peerCertPem(info: StreamInfo): string | undefined {
  const cert = info.downstreamTls?.clientCert();
  return cert == null ? undefined : urlEncodePem(cert.pem);
}

function stripQuery(v: OperatorValue): OperatorValue {
  if (typeof v !== 'string') return v;
  const q = v.indexOf('?');
  return q < 0 ? v : v.slice(0, q);
}

/** Parses `H?ALT` (Envoy allows one alternative), lower-cases, and builds the accessor. */
function buildHeaderOperator(
  source: HeaderSource,
  arg: string,
  ctx: OperatorContext,
  operatorName: string,
  withoutQuery: boolean,
): Accessor {
  const names = arg.split('?');
  if (names.length > 2) {
    ctx.issues.push({
      path: ctx.path,
      message: `%${operatorName}(${arg})%: more than one alternative header given (use NAME?ALTERNATIVE)`,
    });
  }
  for (const n of names) {
    if (n.trim() === '' || /\s/.test(n)) {
      ctx.issues.push({ path: ctx.path, message: `%${operatorName}(${arg})%: invalid header name "${n}"` });
    }
  }
  const primary = headerAccessor(source, names[0].toLowerCase());
  let get: Accessor = primary;
  if (names.length >= 2) {
    const alternative = headerAccessor(source, names[1].toLowerCase());
    get = (info) => {
      const v = primary(info);
      return v !== undefined ? v : alternative(info);
    };
  }
  if (!withoutQuery) return get;
  const inner = get;
  return (info) => stripQuery(inner(info));
}

// ---------------------------------------------------------------------------------------
// The catalogue

function field(get: Accessor): OperatorSpec {
  return { args: 'none', build: () => get };
}

function headerSpec(source: HeaderSource, name: string, withoutQuery = false): OperatorSpec {
  return {
    args: 'required',
    build: (arg, ctx) => buildHeaderOperator(source, arg ?? '', ctx, name, withoutQuery),
  };
}

const OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map<string, OperatorSpec>([
  [
    'START_TIME',
    {
      args: 'optional',
      build(arg, ctx) {
        const fmt = compileTimeFormat(
          arg === undefined || arg === '' ? DEFAULT_START_TIME_FORMAT : arg,
          ctx.path,
          ctx.issues,
        );
        return (info) => fmt.format(info.startTime);
      },
    },
  ],
  ['REQ', headerSpec('REQ', 'REQ')],
  ['REQ_WITHOUT_QUERY', headerSpec('REQ', 'REQ_WITHOUT_QUERY', true)],
  ['RESP', headerSpec('RESP', 'RESP')],
  ['TRAILER', headerSpec('TRAILER', 'TRAILER')],
  ['PROTOCOL', field((info) => nonEmpty(info.protocol))],
  ['RESPONSE_CODE', field((info) => info.responseCode)],
  ['GRPC_STATUS', grpcStatusSpec()],
  ['GRPC_STATUS_NUMBER', field(grpcStatusOf)],
  ['RESPONSE_CODE_DETAILS', field((info) => nonEmpty(info.responseCodeDetails))],
  ['RESPONSE_FLAGS', field((info) => formatResponseFlags(info.responseFlags))],
  ['RESPONSE_FLAGS_LONG', field((info) => formatResponseFlagsLong(info.responseFlags))],
  ['BYTES_RECEIVED', field((info) => info.bytesReceived)],
  ['BYTES_SENT', field((info) => info.bytesSent)],
  ['DURATION', field((info) => elapsed(info.startMonotonic, info.endMonotonic))],
  ['REQUEST_DURATION', field((info) => elapsed(info.startMonotonic, info.lastRequestByteMonotonic))],
  ['RESPONSE_DURATION', field((info) => elapsed(info.startMonotonic, info.firstResponseByteMonotonic))],
  [
    'RESPONSE_TX_DURATION',
    field((info) =>
      info.firstResponseByteMonotonic < 0
        ? undefined
        : elapsed(info.firstResponseByteMonotonic, info.endMonotonic),
    ),
  ],
  // Envoy counts the header map's keys and values; the request's pseudo-headers are
  // StreamInfo fields here, so they are added back in by name.
  [
    'REQUEST_HEADERS_BYTES',
    field(
      (info) =>
        headerBytes(info.requestHeaders) +
        (info.method === '' ? 0 : 7 + info.method.length) +
        (info.path === '' ? 0 : 5 + info.path.length) +
        (info.authority === '' ? 0 : 10 + info.authority.length),
    ),
  ],
  [
    'RESPONSE_HEADERS_BYTES',
    field((info) => headerBytes(info.responseHeaders) + (info.responseCode === 0 ? 0 : 10)),
  ],
  ['RESPONSE_TRAILERS_BYTES', field((info) => headerBytes(info.responseTrailers))],
  ['UPSTREAM_HOST', field((info) => nonEmpty(info.upstreamHost))],
  ['UPSTREAM_REMOTE_ADDRESS', field((info) => nonEmpty(info.upstreamHost))],
  ['UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT', field((info) => addressWithoutPort(info.upstreamHost))],
  ['UPSTREAM_REMOTE_PORT', field((info) => addressPort(info.upstreamHost))],
  ['UPSTREAM_CLUSTER', field((info) => nonEmpty(info.upstreamCluster))],
  ['UPSTREAM_LOCAL_ADDRESS', field((info) => nonEmpty(info.upstreamLocalAddress))],
  ['UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT', field((info) => addressWithoutPort(info.upstreamLocalAddress))],
  ['UPSTREAM_LOCAL_PORT', field((info) => addressPort(info.upstreamLocalAddress))],
  ['UPSTREAM_TRANSPORT_FAILURE_REASON', field((info) => nonEmpty(info.upstreamTransportFailureReason))],
  ['UPSTREAM_REQUEST_ATTEMPT_COUNT', field((info) => info.attemptCount)],
  ['DOWNSTREAM_REMOTE_ADDRESS', field((info) => nonEmpty(info.downstreamRemoteAddress))],
  ['DOWNSTREAM_TLS_VERSION', field((info) => nonEmpty(info.downstreamTls?.version ?? ''))],
  ['DOWNSTREAM_PEER_URI_SAN', field((info) => nonEmpty(info.downstreamTls?.peerUriSan ?? ''))],
  ['DOWNSTREAM_PEER_SUBJECT', field((info) => info.downstreamTls?.clientCert()?.subject)],
  ['DOWNSTREAM_LOCAL_SUBJECT', field((info) => nonEmpty(info.downstreamTls?.localSubject ?? ''))],
  ['DOWNSTREAM_PEER_FINGERPRINT_256', field((info) => info.downstreamTls?.clientCert()?.hash)],
  ['DOWNSTREAM_PEER_CERT', field((info) => peerCertPem(info))],
  ['DOWNSTREAM_LOCAL_URI_SAN', field((info) => nonEmpty(info.downstreamTls?.localUriSan ?? ''))],
  ['REQUESTED_SERVER_NAME', field((info) => nonEmpty(info.downstreamTls?.serverName ?? ''))],
  [
    'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT',
    field((info) => addressWithoutPort(info.downstreamRemoteAddress)),
  ],
  ['DOWNSTREAM_REMOTE_PORT', field((info) => addressPort(info.downstreamRemoteAddress))],
  // The peer itself; DOWNSTREAM_REMOTE_ADDRESS is the trusted client address, which an
  // HTTP request may take from x-forwarded-for (http/client-address.ts).
  ['DOWNSTREAM_DIRECT_REMOTE_ADDRESS', field((info) => nonEmpty(info.downstreamDirectRemoteAddress))],
  [
    'DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT',
    field((info) => addressWithoutPort(info.downstreamDirectRemoteAddress)),
  ],
  ['DOWNSTREAM_DIRECT_REMOTE_PORT', field((info) => addressPort(info.downstreamDirectRemoteAddress))],
  ['DOWNSTREAM_LOCAL_ADDRESS', field((info) => nonEmpty(info.downstreamLocalAddress))],
  ['DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT', field((info) => addressWithoutPort(info.downstreamLocalAddress))],
  ['DOWNSTREAM_LOCAL_PORT', field((info) => addressPort(info.downstreamLocalAddress))],
  ['CONNECTION_ID', field((info) => info.connectionId)],
  ['ROUTE_NAME', field((info) => nonEmpty(info.routeName))],
  ['CONNECTION_TERMINATION_DETAILS', field((info) => nonEmpty(info.connectionTerminationDetails))],
  [
    'HOSTNAME',
    {
      args: 'none',
      build(_arg, ctx) {
        const host = ctx.options.hostname;
        return host === undefined || host === '' ? () => undefined : () => host;
      },
    },
  ],
]);

// Valid Envoy operators Weft does not implement: named separately so the error says
// "not supported" rather than "unknown".
const UNSUPPORTED = new Set([
  'DYNAMIC_METADATA',
  'CLUSTER_METADATA',
  'UPSTREAM_METADATA',
  'FILTER_STATE',
  'UPSTREAM_FILTER_STATE',
  'START_TIME_LOCAL',
  'EMIT_TIME',
  'VIRTUAL_CLUSTER_NAME',
  'DOWNSTREAM_TLS_CIPHER',
  'DOWNSTREAM_TLS_SESSION_ID',
  'DOWNSTREAM_TRANSPORT_FAILURE_REASON',
  'UPSTREAM_PEER_URI_SAN',
  'UPSTREAM_TLS_VERSION',
  'UPSTREAM_WIRE_BYTES_SENT',
  'UPSTREAM_WIRE_BYTES_RECEIVED',
  'DOWNSTREAM_WIRE_BYTES_SENT',
  'DOWNSTREAM_WIRE_BYTES_RECEIVED',
  'ENVIRONMENT',
  'CEL',
  'METADATA',
  'STREAM_ID',
  'TRACE_ID',
  'UNIQUE_ID',
  'LOCAL_REPLY_BODY',
  'ACCESS_LOG_TYPE',
  'COMMON_DURATION',
  'CUSTOM_FLAGS',
]);

/**
 * Builds the accessor for `%name(arg)%`. Unknown or unsupported operators and argument
 * mistakes are appended to `issues` at `path`; the result is then an accessor that
 * always yields "not available", so a caller may still run the format.
 */
export function buildOperator(
  name: string,
  arg: string | undefined,
  path: string,
  issues: ConfigIssue[],
  options: FormatOptions,
): Accessor {
  const spec = OPERATORS.get(name);
  if (spec === undefined) {
    issues.push({
      path,
      message: UNSUPPORTED.has(name)
        ? `command operator %${name}% is not supported by Weft yet`
        : `unknown command operator %${name}%`,
    });
    return notAvailable;
  }
  if (spec.args === 'none' && arg !== undefined) {
    issues.push({ path, message: `command operator %${name}% takes no parameters, got "(${arg})"` });
  } else if (spec.args === 'required' && (arg === undefined || arg === '')) {
    issues.push({
      path,
      message: `command operator %${name}% requires a parameter, e.g. %${name}(X-REQUEST-ID)%`,
    });
    return notAvailable;
  }
  return spec.build(arg, { path, issues, options });
}

function notAvailable(): OperatorValue {
  return undefined;
}

/** Names of every supported operator (for docs and tests). */
export function supportedOperators(): string[] {
  return [...OPERATORS.keys()];
}
