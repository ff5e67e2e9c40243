// One HTTP request/response exchange on a downstream connection, from request head to
// access log: routing, the router filter's upstream request (pool, send, receive,
// forward), timeouts, local replies, and stats. Errors become local replies with an
// Envoy response flag at this one boundary; nothing here throws on bad traffic.
//
// The stream object itself is the pool waiter and the response-parser handler, so the
// request path allocates no closures.
//
// Protocols (stream-codec.ts): the downstream side is a DownstreamStreamCodec (the
// HTTP/1.1 connection itself, or one HTTP/2 stream), the upstream request an
// UpstreamConnection (a pooled HTTP/1.1 connection, whose response bytes this stream
// parses, or an HTTP/2 stream, which calls the ResponseHandler methods directly).
// gRPC (grpc.ts): a local reply to a gRPC request is a trailers-only gRPC status, and a
// route's max_stream_duration may take the route timeout from `grpc-timeout`.
//
// Retries (Envoy's router filter retry semantics): only on routes with a retry_policy,
// whose per-request bookkeeping lives in a RetryState (retry-state.ts); every retry hook
// here is one `this.retry !== null` test on the common path. A retry is decided only
// before anything of the response went downstream: at a retriable response head (the
// response is dropped with its connection), at a connect failure, at an upstream reset
// before the response, and at a per-try timeout. Otherwise the last outcome is answered.
//
// Fault injection (fault.ts): only when the HCM has the fault filter, decided once the
// routed cluster is known (so `upstream_cluster` can be honoured), before the request
// goes upstream. A delay holds the request (its body is buffered as while connecting)
// and only then hands it to the router, so the route timeout starts after the delay;
// an abort is a local reply with FI. Hooks: `rt.fault !== null` when routing and
// `this.fault !== null` at finish.
//
// The other HTTP filters (filter-chain.ts: the local rate limit...) run as two compiled
// lists, those before the fault filter once the route is chosen, those after it once the
// fault's delay (if any) is over; the stream is their DecoderFilterStream. Headers they
// add to the response are kept in `extraResponseHeaders` (null on the common path).
//
// Stream idle timeout (HCM stream_idle_timeout, route idle_timeout): the stream keeps the
// monotonic time of its last byte either way; the codec runs one lazily re-armed timer
// (per HTTP/1.1 connection, shared by its keep-alive requests) that asks
// onStreamIdleTimer() how long is left. Per body chunk the cost is one clock read.
// `retry_policy.per_try_idle_timeout` works the same way inside RetryState, fed by the
// response bytes of the current attempt.
//
// Request mirroring (request-mirror.ts): on routes with request_mirror_policies, shadow
// copies start with the first attempt and are fed the body as it arrives; `this.shadows`
// is null otherwise, one test per body chunk.
//
// Upgrades and CONNECT (upgrade.ts): only heads flagged `tunnel` are looked at (one
// boolean per request; HTTP/2 CONNECT streams map onto them, http2/h2-tunnel.ts); an
// accepted one gets a StreamUpgrade (`this.upgrade`, null on the common path) which
// turns the stream into a byte tunnel at the 101 / 2xx-to-CONNECT (or, for a route with
// connect_config, once its TCP connection is up), and the stream
// is finished and logged when both sides of the tunnel closed.

import type { RedirectAction, RequestMirrorPolicy, RouteAction } from '../../config/model.js';
import { formatAddress } from '../../core/address.js';
import type { Timer } from '../../core/clock.js';
import { stripHopByHop } from '../http1/hop-by-hop.js';
import type { HttpParseError, RequestHead } from '../http1/request-parser.js';
import { type ResponseHandler, type ResponseHead, ResponseParser } from '../http1/response-parser.js';
import type { BodyFraming } from '../http1/serialize.js';
import { computeRequestHash } from '../router/hash-policy.js';
import { type AttemptFailure, CompiledRetryPolicy } from '../router/retry-policy.js';
import {
  applyHeaderMutations,
  buildRedirectLocation,
  type ClusterPick,
  type CompiledRoute,
  type HeaderMutationPlan,
  rewritePath,
} from '../router/route-table.js';
import { createStreamInfo, ResponseFlag, type StreamInfo } from '../stream-info.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import type {
  PendingRequest,
  PoolWaiter,
  UpstreamConnection,
  UpstreamConnectionUser,
} from '../upstream/connection-pool.js';
import { OutlierResult } from '../upstream/health/outlier-detector.js';
import type { Host } from '../upstream/host.js';
import type { LoadBalancerContext } from '../upstream/lb/load-balancer.js';
import {
  type ClientAddress,
  detectClientAddress,
  resolveClientAddress,
  restoreForwardingHeaders,
  sanitizeForwardingHeaders,
} from './client-address.js';
import { applyClientCertHeader, setsClientCertHeader, XFCC } from './client-cert-header.js';
import { FAULT_ABORT_BODY, FAULT_ABORT_DETAILS, type HttpFaultFilter, StreamFault } from './fault.js';
import { runDecoderFilters } from './filter-chain.js';
import { grpcLocalReplyHeaders, grpcStatusForLocalReply, isGrpcRequest, routeTimeoutFor } from './grpc.js';
import {
  getHeader,
  getHeaderJoined,
  type HeaderList,
  removeHeader,
  retainHeaders,
  setHeader,
} from './headers.js';
import type { DecoderFilterStream } from './http-filter.js';
import { LocalReplyText } from './local-reply.js';
import { normalizeRequestPath, type PathNormalization } from './path-normalize.js';
import type { RequestShadows } from './request-mirror.js';
import { RetryDecision, type RetryOwner, RetryState } from './retry-state.js';
import { takeRouterHeaders } from './router-headers.js';
import type { DownstreamStreamCodec } from './stream-codec.js';
import { decideUpgrade, StreamUpgrade, type UpgradeOwner, upgradeTypeOf } from './upgrade.js';

const FRAMING_NONE: BodyFraming = { kind: 'none' };
const FRAMING_CHUNKED: BodyFraming = { kind: 'chunked' };
/**
 * Attempts on a fresh connection when a reused keep-alive connection was closed under us,
 * or an HTTP/2 upstream's GOAWAY left the stream unprocessed.
 */
const MAX_STALE_CONNECTION_RETRIES = 3;

/** Envoy's `via`: appended to a `via` header already there (`, `), else added. */
function appendVia(headers: HeaderList, via: string): void {
  const existing = getHeaderJoined(headers, 'via');
  setHeader(headers, 'via', existing === undefined ? via : `${existing}, ${via}`);
}

/** headers_with_underscores_action: a header name without `_`. */
function noUnderscore(name: string): boolean {
  return name.indexOf('_') < 0;
}

/** Swallows the rest of a response that is being retried (its connection is destroyed). */
const DISCARD_RESPONSE: ResponseHandler = {
  onResponseHead() {},
  onBody() {},
  onMessageComplete() {},
};

export class ActiveStream
  implements
    PoolWaiter,
    UpstreamConnectionUser,
    RetryOwner,
    LoadBalancerContext,
    DecoderFilterStream,
    UpgradeOwner
{
  private readonly conn: DownstreamStreamCodec;
  private readonly head: RequestHead | null;
  readonly info: StreamInfo;

  // RouteRequest view (the route table reads these fields directly).
  method = '';
  path = '';
  authority = '';
  scheme = 'http';
  headers: HeaderList = [];

  private route: CompiledRoute | null = null;
  private clusterRequestMutations: HeaderMutationPlan | null = null;
  private clusterResponseMutations: HeaderMutationPlan | null = null;
  private cluster: UpstreamCluster | null = null;
  private host: Host | null = null;
  /** The route's hash_policy result (LoadBalancerContext), and a generated hash cookie to set. */
  hashKey: bigint | null = null;
  private hashCookie: string | null = null;
  private upstream: UpstreamConnection | null = null;
  private pending: PendingRequest | null = null;
  private responseParser: ResponseParser | null = null;
  private requestFraming: BodyFraming = FRAMING_NONE;
  private bufferedBody: Buffer[] | null = null;
  private bufferedBytes = 0;
  private requestSentAt = 0;
  /** A route timeout is armed on the connection for this stream. */
  private deadlineSet = false;
  private staleRetries = 0;
  private upstreamPaused = false;
  private upstreamKeepAlive = false;
  /** Retry bookkeeping; null unless the route has a retry_policy. */
  private retry: RetryState | null = null;
  /** Fault injection state; null unless the fault filter applies to this request. */
  private fault: StreamFault | null = null;
  /** Response headers added by decoder filters (x-ratelimit-*...); null when none. */
  private extraResponseHeaders: HeaderList | null = null;
  /** Shadow copies of this request (request_mirror_policies); null when none. */
  private shadows: RequestShadows | null = null;
  /** The route's max_stream_duration timer; null unless the route sets one. */
  private durationTimer: Timer | null = null;
  /** The HCM's request_timeout, until the whole request has arrived; null unless configured. */
  private requestTimer: Timer | null = null;
  /** An accepted upgrade or CONNECT (upgrade.ts); null on the common path. */
  private upgrade: StreamUpgrade | null = null;
  /** The request's trailers (HTTP/2 trailing HEADERS, HTTP/1.1 chunked trailer section); null = none. */
  private requestTrailers: HeaderList | null = null;
  /** The stream idle timeout in ms (route idle_timeout or HCM stream_idle_timeout); 0 = off. */
  private idleTimeoutMs = 0;
  /** x-envoy-upstream-rq-timeout-ms of the request (router-headers.ts); -1 = the route's timeout. */
  private timeoutOverrideMs = -1;
  /** x-envoy-upstream-rq-timeout-alt-response: an upstream timeout is answered 204, not 504. */
  private timeoutAltResponse = false;
  /** The trusted client address and whether the request is internal (client-address.ts); set by start(). */
  private client: ClientAddress | null = null;
  /** Monotonic ms of the stream's last activity (bytes either way), when idleTimeoutMs > 0. */
  private lastActivity = 0;

  private readonly bodyless: boolean;
  private requestComplete = false;
  private responseStarted = false;
  private responseComplete = false;
  private chunkedOut = false;
  private responseBodyless = false;
  private keepAlive = true;
  private finished = false;

  constructor(conn: DownstreamStreamCodec, head: RequestHead | null) {
    this.conn = conn;
    this.head = head;
    const info = createStreamInfo();
    this.info = info;
    const clock = conn.rt.clock;
    info.startTime = clock.now();
    info.startMonotonic = clock.monotonic();
    info.downstreamRemoteAddress = conn.remoteAddress;
    info.downstreamDirectRemoteAddress = conn.remoteAddress;
    info.downstreamLocalAddress = conn.localAddress;
    info.connectionId = conn.id;
    info.downstreamTls = conn.tls;
    if (conn.tls !== null) this.scheme = 'https';
    this.bodyless = head === null || (head.contentLength <= 0 && !head.chunked);
  }

  /** PoolWaiter: the downstream request is HTTP/2 (for use_downstream_protocol_config). */
  get downstreamHttp2(): boolean {
    return this.conn.httpVersion === 2;
  }

  // --- request side ---------------------------------------------------------------------

  start(): void {
    const head = this.head!;
    const rt = this.conn.rt;
    const info = this.info;
    rt.stats.rqTotal.value++;
    if (this.conn.httpVersion === 2) rt.stats.rqHttp2Total.value++;
    else rt.stats.rqHttp1Total.value++;
    const requestTimeoutMs = rt.config.requestTimeoutMs;
    if (requestTimeoutMs !== undefined && !this.requestComplete)
      this.requestTimer = rt.clock.setTimer(requestTimeoutMs, () => this.onRequestTimeout());
    if (rt.streamIdleTimeoutMs > 0) this.setIdleTimeout(rt.streamIdleTimeoutMs, info.startMonotonic);
    rt.stats.rqActive.value++;

    this.method = head.method;
    this.path = head.target;
    this.authority = head.authority;
    this.headers = head.headers;
    this.keepAlive = head.keepAlive;
    info.protocol =
      this.conn.httpVersion === 2 ? 'HTTP/2' : head.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
    info.method = head.method;
    info.path = head.target;
    info.authority = head.authority;
    info.requestHeaders = head.headers;

    const headers = head.headers;
    const underscores = rt.config.headersWithUnderscores;
    if (underscores !== undefined && this.checkUnderscoreHeaders(underscores)) return;
    const pathRules = rt.config.pathNormalization;
    if (pathRules !== undefined && this.normalizePath(pathRules)) return;
    if (head.expectContinue) {
      // Envoy's default: the proxy answers 100-continue itself and does not forward Expect.
      removeHeader(headers, 'expect');
      this.conn.write100Continue();
    }
    if (this.mutateRequestHeaders(headers)) return;

    const route = rt.routeTable.select(this);
    if (head.tunnel && this.acceptUpgrade(route)) return;
    if (route === null) {
      rt.stats.noRoute.value++;
      this.localReply(404, '', ResponseFlag.NoRouteFound, 'route_not_found');
      return;
    }
    this.route = route;
    info.routeName = route.name;
    const action = route.action;
    const pick = action.kind === 'route' ? rt.routeTable.pickCluster(route) : null;
    const filters = rt.decoderFilters.beforeFault;
    if (
      filters.length > 0 &&
      runDecoderFilters(filters, this, pick === null ? route.perFilterConfig : pick.perFilterConfig)
    )
      return;
    if (action.kind === 'direct_response') {
      rt.stats.rqDirectResponse.value++;
      this.localReply(action.status, action.body, 0, 'direct_response', route.responseHeaderMutations);
      return;
    }
    if (action.kind === 'redirect') {
      rt.stats.rqRedirect.value++;
      this.redirect(action);
      return;
    }
    this.routeToCluster(route, action, pick!);
  }

  /** A request head that failed to parse: answer and close. */
  startProtocolError(err: HttpParseError): void {
    this.startConnectionError(err.status, err.message, ResponseFlag.DownstreamProtocolError, err.details);
  }

  /** No request to serve (bad or missing head): answer `status` and close the connection. */
  startConnectionError(status: number, message: string, flags: number, details: string): void {
    const rt = this.conn.rt;
    rt.stats.rqTotal.value++;
    rt.stats.rqActive.value++;
    this.requestComplete = true;
    this.keepAlive = false;
    this.conn.closeAfterResponse = true;
    this.info.protocol = this.conn.httpVersion === 2 ? 'HTTP/2' : 'HTTP/1.1';
    this.localReply(status, `${message}\n`, flags, details);
  }

  private redirect(action: RedirectAction): void {
    const location = buildRedirectLocation(this, action, this.route!);
    this.localReply(action.responseCode, '', 0, 'redirect', this.route!.responseHeaderMutations, location);
  }

  private routeToCluster(route: CompiledRoute, action: RouteAction, pick: ClusterPick): void {
    const rt = this.conn.rt;
    const info = this.info;
    info.upstreamCluster = pick.cluster;
    const cluster = rt.clusters.get(pick.cluster);
    if (cluster === undefined) {
      rt.stats.noCluster.value++;
      this.localReply(503, LocalReplyText.clusterNotFound, ResponseFlag.NoClusterFound, 'cluster_not_found');
      return;
    }
    // The fault filter sits before the router: it sees the request as received.
    let faultDelayMs = -1;
    const faultFilter = rt.fault === null ? null : rt.fault.forRoute(pick.perFilterConfig);
    if (faultFilter?.matches(this, pick.cluster)) {
      faultDelayMs = this.startFault(faultFilter, cluster);
      if (this.responseComplete) return; // aborted
      if (faultDelayMs >= 0) this.fault!.perRoute = pick.perFilterConfig;
    }
    const after = rt.decoderFilters.afterFault;
    if (faultDelayMs < 0 && after.length > 0 && runDecoderFilters(after, this, pick.perFilterConfig)) return;
    // While a fault delay holds the request, `cluster` stays unset so that the end of the
    // request does not arm the route timeout (the router has not seen the request yet).
    if (faultDelayMs < 0) this.cluster = cluster;
    this.clusterRequestMutations = pick.requestHeaderMutations;
    this.clusterResponseMutations = pick.responseHeaderMutations;
    if (action.hashPolicy !== undefined) this.hashRequest(action);

    // Build the upstream request head (RFC 9110 §7.6: hop-by-hop fields are not forwarded).
    const head = this.head!;
    const headers = this.headers;
    // A Connection header may nominate headers the proxy set or vouched for: put back after.
    const kept = head.connectionTokens === '' ? null : this.proxySetHeaders(headers);
    stripHopByHop(headers, head.connectionTokens);
    if (this.upgrade !== null) this.upgrade.restoreHeaders(headers);
    if (kept !== null) restoreForwardingHeaders(headers, this.client!, kept);
    const hcm = rt.config;
    if (hcm.useRemoteAddress) {
      if (!hcm.skipXffAppend) {
        const xff = getHeaderJoined(headers, 'x-forwarded-for');
        setHeader(
          headers,
          'x-forwarded-for',
          xff === undefined ? this.conn.remoteIp : `${xff}, ${this.conn.remoteIp}`,
        );
      }
    }
    if (this.clusterRequestMutations !== null)
      applyHeaderMutations(headers, this.clusterRequestMutations, info);
    applyHeaderMutations(headers, route.requestHeaderMutations, info);
    const rewritten = rewritePath(this.path, route);
    if (rewritten !== null) {
      info.originalPath = this.path;
      if (!rt.suppressEnvoyHeaders) headers.push('x-envoy-original-path', this.path);
      this.path = rewritten;
    }
    if (action.hostRewriteLiteral !== null) this.authority = action.hostRewriteLiteral;
    this.requestFraming = head.chunked
      ? FRAMING_CHUNKED
      : head.contentLength >= 0
        ? { kind: 'length', length: head.contentLength }
        : FRAMING_NONE;
    if (!this.bodyless) this.bufferedBody = [];
    let retryPolicy = route.retryPolicy;
    const asked = takeRouterHeaders(headers, rt.respectExpectedRqTimeout);
    if (asked !== null) {
      // The request's own retry and timeout settings (router-headers.ts).
      this.timeoutOverrideMs = asked.timeoutMs;
      this.timeoutAltResponse = asked.timeoutAltResponse;
      const globalMs = this.routeTimeoutMs() ?? 0;
      const perTryIgnored = globalMs > 0 && asked.perTryTimeoutMs >= globalMs;
      retryPolicy = CompiledRetryPolicy.forRequest(
        retryPolicy,
        perTryIgnored ? { ...asked, perTryTimeoutMs: -1 } : asked,
      );
    }
    // retriable_request_headers: a request matching none of them is not retried.
    if (retryPolicy !== null) retryPolicy = retryPolicy.forRequestHeaders(this);
    if (retryPolicy !== null) {
      // Envoy: the body kept for retries is bounded by the listener's buffer limit, and by
      // per_request_buffer_limit_bytes when the route (or virtual host) sets it.
      const routeLimit = route.perRequestBufferLimitBytes;
      const limit = routeLimit === null ? rt.bufferLimitBytes : Math.min(routeLimit, rt.bufferLimitBytes);
      this.retry = new RetryState(retryPolicy, cluster, rt.clock, limit, this);
    }
    const msd = action.maxStreamDuration;
    if (msd !== undefined && msd.maxStreamDurationMs !== null) {
      this.durationTimer = rt.clock.setTimer(msd.maxStreamDurationMs, () => this.onMaxStreamDuration());
    } else if (hcm.maxStreamDurationMs !== undefined && msd?.overridesConnectionManager !== true) {
      // The HCM's max_stream_duration counts from the start of the stream.
      const left = hcm.maxStreamDurationMs - (rt.clock.monotonic() - info.startMonotonic);
      this.durationTimer = rt.clock.setTimer(Math.max(0, left), () => this.onMaxStreamDuration());
    }
    // The route's idle_timeout replaces the HCM's stream_idle_timeout (0 turns it off).
    if (action.idleTimeoutMs !== undefined)
      this.setIdleTimeout(action.idleTimeoutMs ?? 0, rt.clock.monotonic());
    if (faultDelayMs >= 0) {
      this.fault!.timer = rt.clock.setTimer(faultDelayMs, () => this.onFaultDelayElapsed());
      return;
    }
    this.firstAttempt(cluster);
  }

  /**
   * The connection manager's own request headers, before routing sees them (Envoy's
   * mutateRequestHeaders): the trusted client address (x-forwarded-for,
   * use_remote_address, xff_num_trusted_hops, or original_ip_detection_extensions) and what
   * it decides, internal_only_headers, x-forwarded-client-cert, via, x-forwarded-proto and
   * x-request-id. True when the request was answered (a detection extension refused it).
   */
  private mutateRequestHeaders(headers: HeaderList): boolean {
    const rt = this.conn.rt;
    const config = rt.config;
    const forwarding = rt.forwarding;
    const detected =
      forwarding.detectors === null
        ? resolveClientAddress(headers, this.conn.remoteIp, forwarding)
        : detectClientAddress(headers, this.conn.remoteIp, forwarding, forwarding.detectors);
    if (typeof detected === 'number') {
      // A detection extension found no client address and refuses the request (Envoy).
      this.client = { ip: this.conn.remoteIp, fromHeader: false, internal: false, edge: false };
      this.localReply(detected, null, 0, 'rejecting_because_detection_failed');
      return true;
    }
    const client = detected;
    this.client = client;
    if (client.fromHeader) this.info.downstreamRemoteAddress = formatAddress(client.ip, 0);
    sanitizeForwardingHeaders(headers, client);
    const internalOnly = rt.routeTable.internalOnlyHeaders;
    if (internalOnly.length > 0 && !client.internal)
      for (const name of internalOnly) removeHeader(headers, name);
    applyClientCertHeader(headers, config.forwardClientCert ?? null, this.conn.tls);
    if (config.via !== undefined) appendVia(headers, config.via);
    // A downstream x-forwarded-proto is trusted only from trusted hops under use_remote_address.
    if (config.useRemoteAddress) {
      if (config.xffNumTrustedHops === 0 || getHeader(headers, 'x-forwarded-proto') === undefined)
        setHeader(headers, 'x-forwarded-proto', this.scheme);
    } else if (getHeader(headers, 'x-forwarded-proto') === undefined) {
      headers.push('x-forwarded-proto', this.scheme);
    }
    if (config.generateRequestId) {
      // Envoy: keep a client's x-request-id unless the request is an edge request (from
      // outside, use_remote_address) and preserve_external_request_id is off.
      if (getHeader(headers, 'x-request-id') === undefined) headers.push('x-request-id', rt.newRequestId());
      else if (client.edge && !config.preserveExternalRequestId) {
        setHeader(headers, 'x-request-id', rt.newRequestId());
      }
    }
    return false;
  }

  /**
   * headers_with_underscores_action: drops the request headers whose name has `_`, or
   * answers 400; true when the request was answered.
   */
  private checkUnderscoreHeaders(action: 'REJECT_REQUEST' | 'DROP_HEADER'): boolean {
    const stats = this.conn.rt.stats;
    const h2 = this.conn.httpVersion === 2 ? 1 : 0;
    if (action === 'DROP_HEADER') {
      stats.droppedUnderscoreHeaders[h2].value += retainHeaders(this.headers, noUnderscore);
      return false;
    }
    const headers = this.headers;
    for (let i = 0; i < headers.length; i += 2) {
      if (!noUnderscore(headers[i])) {
        stats.rejectedUnderscoreRequests[h2].value++;
        this.localReply(400, '', 0, h2 === 1 ? 'http2.unexpected_underscore' : 'http1.unexpected_underscore');
        return true;
      }
    }
    return false;
  }

  /**
   * normalize_path / merge_slashes / path_with_escaped_slashes_action (path-normalize.ts);
   * true when the request was answered (400, or the 307 to the unescaped path).
   */
  private normalizePath(rules: PathNormalization): boolean {
    const result = normalizeRequestPath(this.path, rules);
    if (result.action === 'reject') {
      this.localReply(400, '', 0, 'path_normalization_failed');
      return true;
    }
    this.path = result.path;
    this.info.path = result.path;
    if (result.action === 'redirect') {
      this.localReply(307, '', 0, 'path_normalization_redirect', null, result.path);
      return true;
    }
    return false;
  }

  /**
   * The request headers whose value the connection manager set or vouched for, as pairs:
   * x-forwarded-proto, x-request-id (when it generates ids), x-forwarded-client-cert (when
   * it sets it).
   */
  private proxySetHeaders(headers: HeaderList): HeaderList {
    const config = this.conn.rt.config;
    const kept: HeaderList = [];
    const keep = (name: string) => {
      const value = getHeader(headers, name);
      if (value !== undefined) kept.push(name, value);
    };
    keep('x-forwarded-proto');
    if (config.generateRequestId) keep('x-request-id');
    if (setsClientCertHeader(config.forwardClientCert)) keep(XFCC);
    return kept;
  }

  /** The request hash for RING_HASH / MAGLEV (router/hash-policy.ts), from the request as received. */
  private hashRequest(action: RouteAction): void {
    const conn = this.conn;
    const hash = computeRequestHash(action.hashPolicy!, {
      headers: this.headers,
      method: this.method,
      authority: this.authority,
      path: this.path,
      remoteIp: this.client!.ip,
      remoteAddress: this.info.downstreamRemoteAddress,
      localAddress: conn.localAddress,
    });
    this.hashKey = hash.hashKey;
    this.hashCookie = hash.setCookie;
  }

  /** Picks the first host and starts the first upstream attempt. */
  private firstAttempt(cluster: UpstreamCluster): void {
    if (this.upgrade?.terminateConnect) {
      this.connectTunnel(cluster);
      return;
    }
    const mirrors = (this.route!.action as RouteAction).requestMirrorPolicies;
    // A tunnel's bytes cannot be mirrored: upgrades are not shadowed.
    if (mirrors !== undefined && this.upgrade === null) this.startShadows(mirrors);
    const host = this.retry === null ? cluster.chooseHost(this) : this.retry.chooseHost(this);
    if (host === null) {
      this.noHealthyUpstream(cluster);
      return;
    }
    this.beginAttempt(host);
  }

  private noHealthyUpstream(cluster: UpstreamCluster): void {
    cluster.stats.upstream_cx_none_healthy.value++;
    this.localReply(
      503,
      LocalReplyText.noHealthyUpstream,
      ResponseFlag.NoHealthyUpstream,
      'no_healthy_upstream',
    );
  }

  /** `host` serves this stream's next request to the cluster: the stream's and the stats' view. */
  private takeHost(cluster: UpstreamCluster, host: Host): void {
    this.host = host;
    this.hostCountersReleased = false;
    this.info.upstreamHost = host.addressString;
    this.info.attemptCount++;
    cluster.stats.upstream_rq_total.value++;
    cluster.stats.upstream_rq_active.value++;
    host.stats.rqTotal++;
    host.stats.rqActive++;
  }

  /** One upstream attempt on `host` (the first, or a retry). */
  private beginAttempt(host: Host): void {
    const cluster = this.cluster!;
    this.takeHost(cluster, host);
    // auto_host_rewrite: each attempt carries its own host's DNS name.
    if (host.hostname !== '' && (this.route?.action as RouteAction | undefined)?.autoHostRewrite === true)
      this.authority = host.hostname;
    if (this.retry !== null) this.retry.recordHost(host);
    this.acquire();
  }

  private acquire(): void {
    this.pending = this.host!.pool.acquire(this);
  }

  onRequestBody(chunk: Buffer): void {
    this.info.bytesReceived += chunk.length;
    if (this.responseComplete || this.finished) return; // answered already: discard
    if (this.idleTimeoutMs !== 0) this.lastActivity = this.conn.rt.clock.monotonic();
    if (this.shadows !== null) this.shadows.onRequestBody(chunk);
    if (this.retry !== null) this.retry.keepBody(chunk);
    const upstream = this.upstream;
    if (upstream !== null) {
      if (!upstream.sendBody(chunk)) this.conn.pauseReading();
      return;
    }
    const buffered = this.bufferedBody;
    if (buffered === null) return;
    buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    if (this.bufferedBytes > this.conn.rt.bufferLimitBytes) this.conn.pauseReading();
  }

  /** The request's trailers, just before onRequestComplete; they go upstream with its end. */
  onRequestTrailers(trailers: HeaderList): void {
    if (trailers.length !== 0) this.requestTrailers = trailers;
  }

  onRequestComplete(): void {
    this.requestComplete = true;
    if (this.requestTimer !== null) {
      this.requestTimer.cancel();
      this.requestTimer = null;
    }
    if (this.shadows !== null) this.shadows.onRequestComplete();
    const rt = this.conn.rt;
    const now = rt.clock.monotonic();
    this.info.lastRequestByteMonotonic = now;
    if (this.idleTimeoutMs !== 0) this.lastActivity = now;
    if (this.responseComplete) {
      this.finish();
      return;
    }
    const upstream = this.upstream;
    if (upstream !== null) {
      const trailers = this.requestTrailers;
      if (trailers === null) upstream.sendEnd();
      else upstream.sendTrailers(trailers);
      if (this.retry !== null) this.retry.startPerTry();
    }
    if (this.cluster !== null && this.route !== null) this.armRouteTimeout();
  }

  /**
   * The request's route timeout in ms, null = none: x-envoy-upstream-rq-timeout-ms when the
   * request set it, else the route's, capped by grpc-timeout where max_stream_duration says.
   */
  private routeTimeoutMs(): number | null {
    const action = this.route!.action as RouteAction;
    const asked = this.timeoutOverrideMs;
    if (asked >= 0) return asked === 0 ? null : asked;
    const msd = action.maxStreamDuration;
    return msd === undefined ? action.timeoutMs : routeTimeoutFor(action.timeoutMs, msd, this.headers);
  }

  /** The route timeout (Envoy's router starts it once it has the whole request). */
  private armRouteTimeout(): void {
    const timeout = this.routeTimeoutMs();
    if (timeout !== null) {
      this.deadlineSet = true;
      this.conn.setStreamDeadline(timeout);
    }
  }

  // --- fault injection ------------------------------------------------------------------------

  /**
   * Decides the fault of a request the filter applies to: returns the delay to inject in ms
   * (the abort is decided when it ends), or -1 after answering with an abort or when there
   * is no fault to inject.
   */
  private startFault(filter: HttpFaultFilter, cluster: UpstreamCluster): number {
    const fault = new StreamFault(filter, cluster.random);
    this.fault = fault;
    const delayMs = filter.delayMs(this.headers, fault.random);
    if (delayMs >= 0 && fault.activate()) {
      filter.stats.delaysInjected.value++;
      this.info.responseFlags |= ResponseFlag.DelayInjected;
      fault.cluster = cluster;
      return delayMs;
    }
    this.maybeAbort(fault);
    return -1;
  }

  /** Answers with the configured abort when it is sampled (and active_faults allows): FI. */
  private maybeAbort(fault: StreamFault): boolean {
    const decision = fault.filter.abort(this.headers, fault.random);
    if (decision === null || !fault.activate()) return false;
    fault.filter.stats.abortsInjected.value++;
    if (decision.grpcStatus >= 0) {
      // A gRPC trailers-only response: HTTP 200 with grpc-status in the headers.
      const grpc: HeaderList = [
        'content-type',
        'application/grpc',
        'grpc-status',
        String(decision.grpcStatus),
        'grpc-message',
        FAULT_ABORT_BODY,
      ];
      this.localReply(200, null, ResponseFlag.FaultInjected, FAULT_ABORT_DETAILS, null, null, grpc);
    } else {
      this.localReply(decision.httpStatus, FAULT_ABORT_BODY, ResponseFlag.FaultInjected, FAULT_ABORT_DETAILS);
    }
    return true;
  }

  /** The injected delay passed: abort now, or hand the request to the router. */
  private onFaultDelayElapsed(): void {
    const fault = this.fault!;
    fault.timer = null;
    if (this.finished || this.responseComplete) return;
    if (this.maybeAbort(fault)) return;
    const after = this.conn.rt.decoderFilters.afterFault;
    if (after.length > 0 && runDecoderFilters(after, this, fault.perRoute)) return;
    const cluster = fault.cluster!;
    this.cluster = cluster;
    if (this.requestComplete) this.armRouteTimeout();
    this.firstAttempt(cluster);
  }

  // --- PoolWaiter -------------------------------------------------------------------------

  onPoolReady(upstream: UpstreamConnection): void {
    this.pending = null;
    if (this.finished || this.responseComplete) {
      upstream.host.pool.release(upstream, true);
      return;
    }
    this.upstream = upstream;
    const info = this.info;
    info.upstreamLocalAddress = upstream.localAddress;
    const conn = this.conn;
    upstream.user = this;
    if (upstream.httpVersion === 1) {
      // One parser per upstream connection, reused by each request on it.
      let parser = upstream.responseParser;
      if (parser === null) {
        parser = new ResponseParser(this, conn.rt.limits);
        upstream.responseParser = parser;
      } else {
        parser.reset();
        parser.rebind(this);
      }
      this.responseParser = parser;
      parser.expect(this.method);
    } else if (this.upgrade !== null) {
      // WebSocket over HTTP/2 needs extended CONNECT (RFC 8441), which Weft does not send.
      this.upstream = null;
      upstream.user = null;
      upstream.host.pool.release(upstream, true);
      this.releaseHostCounters(false);
      this.localReply(503, 'upgrade over an HTTP/2 upstream is not supported\n', 0, 'upgrade_failed');
      return;
    }

    const now = conn.rt.clock.monotonic();
    this.requestSentAt = now;
    const retry = this.retry;
    // Envoy's x-envoy-attempt-count: 1 on the first attempt, then 2, 3... on retries. Weft
    // sends it on routes with retries, and on every route of a virtual host with
    // include_request_attempt_count.
    if (!conn.rt.suppressEnvoyHeaders && (retry !== null || this.route?.includeRequestAttemptCount === true))
      setHeader(this.headers, 'x-envoy-attempt-count', String(retry === null ? 1 : retry.attempt));
    if (retry !== null && this.requestComplete) retry.startPerTry();
    if (!conn.rt.suppressEnvoyHeaders) {
      // Envoy's x-envoy-expected-rq-timeout-ms: what this attempt has, so the upstream can
      // give up early. The per-try timeout, else what is left of the route timeout.
      const perTry = retry?.policy.perTryTimeoutMs ?? null;
      const total = this.route === null ? null : this.routeTimeoutMs();
      const expected =
        perTry !== null ? perTry : total === null ? 0 : Math.floor(total - (now - this.info.startMonotonic));
      if (expected > 0) setHeader(this.headers, 'x-envoy-expected-rq-timeout-ms', String(expected));
    }
    const buffered = this.bodyless ? null : this.bufferedBody;
    const trailers = this.requestTrailers;
    const ok = upstream.sendHead(
      this.method,
      this.path,
      this.authority,
      this.scheme,
      this.headers,
      this.requestFraming,
      buffered,
      this.requestComplete && trailers === null,
    );
    if (this.requestComplete && trailers !== null) upstream.sendTrailers(trailers);
    if (buffered === null) {
      if (!ok) this.conn.pauseReading();
      return;
    }
    // From here on body bytes go straight upstream; they are not kept for replay.
    this.bufferedBody = null;
    this.bufferedBytes = 0;
    if (!ok) this.conn.pauseReading();
    else this.conn.resumeReading();
  }

  onPoolFailure(
    reason: 'connect_failure' | 'connect_timeout' | 'overflow' | 'closed',
    details: string,
  ): void {
    this.pending = null;
    if (this.finished || this.responseComplete) return;
    this.releaseHostCounters(false);
    const info = this.info;
    info.upstreamTransportFailureReason = details;
    if (
      this.retry !== null &&
      (reason === 'connect_failure' || reason === 'connect_timeout') &&
      this.retryAfterFailure('connect_failure')
    )
      return;
    if (reason === 'overflow') {
      this.localReply(
        503,
        LocalReplyText.overflow,
        ResponseFlag.UpstreamOverflow,
        'upstream_reset_before_response_started{overflow}',
      );
      return;
    }
    const text = reason === 'connect_timeout' ? LocalReplyText.connectTimeout : LocalReplyText.connectFailure;
    this.localReply(
      503,
      text,
      ResponseFlag.UpstreamConnectionFailure,
      'upstream_reset_before_response_started{connection_failure}',
    );
  }

  // --- upstream response (ResponseParser handler) ------------------------------------------

  onUpstreamData(data: Buffer): void {
    const parser = this.responseParser;
    const upstream = this.upstream;
    if (parser === null || upstream === null) return;
    this.cluster!.stats.upstream_cx_rx_bytes_total.value += data.length;
    const conn = this.conn;
    conn.batchWrites();
    const n = parser.execute(data);
    if (!conn.flush() && this.upstream !== null) {
      this.upstreamPaused = true;
      this.upstream.pauseResponse();
    }
    if (this.responseParser !== parser) {
      // The response is being retried (the parser was handed the discarding handler), or
      // the connection switched to a tunnel: bytes after the 101 / 2xx are the tunnel's.
      if (n < data.length && this.upgrade !== null) this.upgrade.onUpstreamData(data.subarray(n));
    } else if (parser.error !== null) {
      this.onUpstreamProtocolError(parser.error.message);
    } else if (n < data.length && this.upstream === null) {
      // Bytes after a complete response on a connection we already released: the pool
      // sees the connection as unusable on its own read; nothing to forward.
    }
  }

  onResponseHead(rh: ResponseHead): void {
    if (this.retry !== null && this.retryResponse(rh)) return;
    const rt = this.conn.rt;
    const info = this.info;
    this.responseStarted = true;
    this.upstreamKeepAlive = rh.keepAlive;
    const status = rh.statusCode;
    info.responseCode = status;
    info.responseCodeDetails = 'via_upstream';
    this.cluster!.recordResponse(status);
    this.host!.outlier?.putHttpResponseCode(status);
    const headers = rh.headers;
    info.responseHeaders = headers;
    stripHopByHop(headers, rh.connectionTokens);
    if (this.clusterResponseMutations !== null)
      applyHeaderMutations(headers, this.clusterResponseMutations, info);
    if (this.route !== null) applyHeaderMutations(headers, this.route.responseHeaderMutations, info);
    if (this.hashCookie !== null) headers.push('set-cookie', this.hashCookie);
    if (this.extraResponseHeaders !== null) headers.push(...this.extraResponseHeaders);
    if (!rt.suppressEnvoyHeaders) {
      headers.push(
        'x-envoy-upstream-service-time',
        String(Math.round(rt.clock.monotonic() - this.requestSentAt)),
      );
    }
    this.applyResponseHeaderRules(headers);

    // Framing towards downstream (RFC 9112 §6.3): bodyless responses keep their length headers.
    let framing: BodyFraming;
    let keepAlive = this.keepAlive;
    const isHead = this.method === 'HEAD';
    if (isHead || status === 204 || status === 304 || status < 200) {
      if (status === 101 && this.upgrade === null) {
        this.unexpectedSwitch();
        return;
      }
      this.responseBodyless = true;
      framing =
        rh.contentLength >= 0 && status !== 204 ? { kind: 'length', length: rh.contentLength } : FRAMING_NONE;
    } else if (rh.contentLength >= 0) {
      framing = { kind: 'length', length: rh.contentLength };
    } else if (this.head!.versionMinor === 1) {
      framing = FRAMING_CHUNKED;
      this.chunkedOut = true;
    } else {
      framing = FRAMING_NONE; // HTTP/1.0 client: close-delimited
      keepAlive = false;
    }
    const now = rt.clock.monotonic();
    info.firstResponseByteMonotonic = now;
    if (this.idleTimeoutMs !== 0) this.lastActivity = now;
    if (this.upgrade?.switches(status)) {
      this.startPooledTunnel(status, headers);
      return;
    }
    this.conn.writeResponseHead(status, headers, framing, keepAlive);
  }

  onBody(chunk: Buffer): void {
    if (this.retry !== null) this.retry.onResponseBytes();
    if (this.idleTimeoutMs !== 0) this.lastActivity = this.conn.rt.clock.monotonic();
    if (this.responseBodyless) return;
    this.info.bytesSent += chunk.length;
    if (!this.conn.writeBody(chunk, this.chunkedOut)) {
      this.upstreamPaused = true;
      this.upstream?.pauseResponse();
    }
  }

  onResponseTrailers(trailers: HeaderList): void {
    // For the access log (%TRAILER(...)%, %GRPC_STATUS%, %RESPONSE_TRAILERS_BYTES%).
    this.info.responseTrailers = trailers;
    // HTTP/1 downstream drops them (as Envoy does by default); HTTP/2 sends them (gRPC status).
    if (!this.responseBodyless) this.conn.writeResponseTrailers(trailers);
  }

  onMessageComplete(): void {
    this.responseComplete = true;
    this.conn.endBody(this.chunkedOut);
    this.cancelTimer();
    const upstream = this.upstream;
    if (upstream !== null) {
      const reusable = this.requestComplete && this.upstreamKeepAlive;
      this.detachUpstream(upstream);
      this.releaseHostCounters(this.info.responseCode < 500);
      upstream.host.pool.release(upstream, reusable);
    }
    if (this.requestComplete) this.finish();
    else {
      // The upstream answered before the request body ended: stop reading it and close.
      this.conn.closeAfterResponse = true;
      this.finish();
    }
  }

  onDownstreamDrain(): void {
    if (this.upstreamPaused) {
      this.upstreamPaused = false;
      this.upstream?.resumeResponse();
    }
  }

  onUpstreamEnd(): void {
    const parser = this.responseParser;
    if (parser !== null && this.upstream !== null) {
      // EOF completes a close-delimited response (RFC 9112 §6.3 rule 8).
      const err = parser.finish();
      if (err === null && this.responseComplete) return;
    }
    this.onUpstreamGone('connection termination');
  }

  onUpstreamClose(): void {
    this.onUpstreamGone('connection termination');
  }

  onUpstreamDrain(): void {
    this.conn.resumeReading();
  }

  private onUpstreamGone(reason: string): void {
    const upstream = this.upstream;
    if (upstream === null || this.responseComplete) return;
    if (upstream.lastError !== '') this.info.upstreamTransportFailureReason = upstream.lastError;
    this.detachUpstream(upstream);
    upstream.host.pool.release(upstream, false);
    if (!this.responseStarted) {
      // A reused keep-alive connection the server closed as we sent, or an HTTP/2 stream the
      // server's GOAWAY left unprocessed: try a fresh connection when nothing unreplayable
      // was sent.
      const raced = upstream.requestCount > 1 || upstream.unprocessed === true;
      if (raced && this.staleRetries < MAX_STALE_CONNECTION_RETRIES && this.canReplay()) {
        this.staleRetries++;
        this.acquire();
        return;
      }
      this.releaseHostCounters(false);
      upstream.host.outlier?.putResult(OutlierResult.LocalOriginConnectFailed);
      if (
        this.retry !== null &&
        this.retryAfterFailure(upstream.refused === true ? 'refused_stream' : 'reset')
      )
        return;
      this.localReply(
        502,
        LocalReplyText.connectionTermination,
        ResponseFlag.UpstreamConnectionTermination,
        `upstream_reset_before_response_started{${reason}}`,
      );
      return;
    }
    this.releaseHostCounters(false);
    this.info.responseFlags |= ResponseFlag.UpstreamConnectionTermination;
    this.info.responseCodeDetails = 'upstream_reset_after_response_started{connection_termination}';
    this.conn.reset();
    this.finish();
  }

  /** Only bodyless requests are replayed on a fresh connection (their bytes are all in the head). */
  private canReplay(): boolean {
    return this.bodyless;
  }

  private onUpstreamProtocolError(message: string): void {
    const upstream = this.upstream;
    if (upstream !== null) {
      this.detachUpstream(upstream);
      upstream.host.pool.release(upstream, false);
      upstream.host.outlier?.putResult(OutlierResult.ExtOriginRequestFailed);
    }
    this.releaseHostCounters(false);
    this.info.upstreamTransportFailureReason = message;
    this.localReply(
      502,
      LocalReplyText.upstreamProtocolError,
      ResponseFlag.UpstreamProtocolError,
      'upstream_protocol_error',
    );
  }

  /** The route timeout passed (called by the connection's deadline timer). */
  onRouteTimeout(): void {
    this.deadlineSet = false;
    if (this.finished || this.responseComplete) return;
    const cluster = this.cluster;
    if (cluster !== null) cluster.stats.upstream_rq_timeout.value++;
    if (this.host !== null) this.host.stats.rqTimeout++;
    if (!this.responseStarted) this.host?.outlier?.putResult(OutlierResult.LocalOriginTimeout);
    this.upstreamTimeoutReply('upstream_response_timeout');
  }

  /** Envoy's answer to an upstream timeout: 504 UT, or an empty 204 when the request asked for it. */
  private upstreamTimeoutReply(details: string): void {
    if (this.timeoutAltResponse) this.localReply(204, null, ResponseFlag.UpstreamRequestTimeout, details);
    else this.localReply(504, LocalReplyText.upstreamTimeout, ResponseFlag.UpstreamRequestTimeout, details);
  }

  /** The HCM's request_timeout passed before the whole request arrived (Envoy: 408, or a reset once the response started). */
  private onRequestTimeout(): void {
    this.requestTimer = null;
    if (this.finished || this.requestComplete) return;
    this.conn.rt.stats.rqTimeout.value++;
    this.localReply(408, 'request timeout\n', 0, 'request_overall_timeout');
  }

  /**
   * The stream's max_stream_duration passed (the route's, else the HCM's): Envoy's HCM answers
   * 504 (408 while the request is still arriving) with `downstream duration timeout` and DT,
   * or resets a stream whose response started. (UMSDR is the router's upstream limit.)
   */
  private onMaxStreamDuration(): void {
    this.durationTimer = null;
    if (this.finished || this.responseComplete) return;
    this.conn.rt.stats.rqMaxDurationReached.value++;
    this.localReply(
      this.timeoutStatus(),
      'downstream duration timeout',
      ResponseFlag.DurationTimeout,
      'max_duration_timeout',
    );
  }

  // --- upgrades and CONNECT (upgrade.ts) ------------------------------------------------------

  /**
   * An Upgrade or CONNECT request: true when it was refused (403, Envoy's `upgrade_failed`).
   * `Upgrade: h2c` is not an upgrade here; its headers are stripped like other hop-by-hop ones.
   */
  private acceptUpgrade(route: CompiledRoute | null): boolean {
    const type = upgradeTypeOf(this.method, this.headers);
    if (type === 'h2c') return false;
    const rt = this.conn.rt;
    const action = route !== null && route.action.kind === 'route' ? route.action : null;
    // Only codecs with startTunnel become tunnels (HTTP/1.1; HTTP/2 with allow_connect).
    const decision =
      this.conn.startTunnel === undefined ? null : decideUpgrade(rt.config.upgradeConfigs, action, type);
    if (decision === null) {
      rt.stats.rqWsOnNonWsRoute.value++;
      // What follows the head is not HTTP the client meant for us: close after the answer.
      this.keepAlive = false;
      this.conn.closeAfterResponse = true;
      this.localReply(403, '', 0, 'upgrade_failed');
      return true;
    }
    this.upgrade = new StreamUpgrade(
      this,
      this.info,
      rt.stats,
      rt.clock,
      type,
      decision.terminateConnect,
      this.headers,
    );
    return false;
  }

  /** A 101 (or 2xx to CONNECT) on a pooled connection: the connection becomes the tunnel's. */
  private startPooledTunnel(status: number, headers: HeaderList): void {
    const upgrade = this.upgrade!;
    const upstream = this.upstream!;
    // Envoy disables the route timeout once upgraded; max_stream_duration still applies.
    if (this.deadlineSet) {
      this.deadlineSet = false;
      this.conn.clearStreamDeadline();
    }
    if (this.retry !== null) this.retry.end();
    // The parser's remaining callbacks (its onMessageComplete) go nowhere.
    this.responseParser?.rebind(DISCARD_RESPONSE);
    this.responseParser = null;
    this.detachUpstream(upstream);
    upgrade.restoreHeaders(headers);
    const side = this.conn.startTunnel!(upgrade, status, headers);
    upgrade.startOnPooled(side, upstream, this.cluster!, this.takeIdleTimeoutForTunnel());
  }

  /** A route with connect_config: the proxy opens TCP to a host of the cluster itself. */
  private connectTunnel(cluster: UpstreamCluster): void {
    const host = cluster.chooseHost(this);
    if (host === null) {
      this.noHealthyUpstream(cluster);
      return;
    }
    this.takeHost(cluster, host);
    this.requestSentAt = this.conn.rt.clock.monotonic();
    this.upgrade!.connect(cluster, host);
  }

  onTunnelConnected(): void {
    if (this.finished || this.responseComplete) return;
    const rt = this.conn.rt;
    const info = this.info;
    if (this.deadlineSet) {
      this.deadlineSet = false;
      this.conn.clearStreamDeadline();
    }
    this.responseStarted = true;
    info.responseCode = 200;
    info.responseCodeDetails = 'via_upstream';
    const headers: HeaderList = [];
    if (this.clusterResponseMutations !== null)
      applyHeaderMutations(headers, this.clusterResponseMutations, info);
    if (this.route !== null) applyHeaderMutations(headers, this.route.responseHeaderMutations, info);
    if (this.extraResponseHeaders !== null) headers.push(...this.extraResponseHeaders);
    this.applyResponseHeaderRules(headers);
    info.responseHeaders = headers;
    info.firstResponseByteMonotonic = rt.clock.monotonic();
    const upgrade = this.upgrade!;
    const side = this.conn.startTunnel!(upgrade, 200, headers);
    upgrade.startOnSocket(side, this.takeIdleTimeoutForTunnel());
  }

  onTunnelConnectFailed(timedOut: boolean, details: string): void {
    if (this.finished || this.responseComplete) return;
    this.releaseHostCounters(false);
    this.host?.outlier?.putResult(
      timedOut ? OutlierResult.LocalOriginTimeout : OutlierResult.LocalOriginConnectFailed,
    );
    this.info.upstreamTransportFailureReason = details;
    this.conn.closeAfterResponse = true;
    this.localReply(
      503,
      timedOut ? LocalReplyText.connectTimeout : LocalReplyText.connectFailure,
      ResponseFlag.UpstreamConnectionFailure,
      'upstream_reset_before_response_started{connection_failure}',
    );
  }

  /**
   * The stream idle timeout (route idle_timeout or HCM stream_idle_timeout; null = off) moves
   * to the tunnel, which sees its bytes: as in Envoy, an upgraded stream that moves no byte
   * for that long is ended. The stream's own idle check stops here.
   */
  private takeIdleTimeoutForTunnel(): number | null {
    const ms = this.idleTimeoutMs;
    this.idleTimeoutMs = 0;
    return ms === 0 ? null : ms;
  }

  onTunnelClosed(): void {
    if (this.finished) return;
    this.responseComplete = true;
    this.finish();
  }

  /** A 101 to a request that was not an accepted upgrade: the connection cannot be used (502). */
  private unexpectedSwitch(): void {
    this.responseStarted = false;
    this.responseParser?.rebind(DISCARD_RESPONSE);
    this.responseParser = null;
    this.onUpstreamProtocolError('101 Switching Protocols to a request that did not ask for an upgrade');
  }

  /** Sets the stream idle timeout (0 = off), counting from `now` (monotonic ms). */
  private setIdleTimeout(ms: number, now: number): void {
    this.idleTimeoutMs = ms;
    if (ms === 0) return;
    this.lastActivity = now;
    this.conn.armStreamIdleTimer(ms);
  }

  /**
   * Envoy's status for a stream the HCM times out (Http::Utility::maybeRequestTimeoutCode):
   * 504 when the whole request had arrived (the wait was on the upstream), 408 when the
   * client was still sending it.
   */
  private timeoutStatus(): number {
    return this.requestComplete ? 504 : 408;
  }

  /**
   * The codec's stream idle timer fired: returns the ms until the stream could be idle for
   * its timeout (the codec re-arms), or 0 when there is nothing left to watch. Envoy:
   * "stream timeout" (504 or 408, see timeoutStatus) with SI before the response started,
   * a reset after.
   */
  onStreamIdleTimer(): number {
    const timeout = this.idleTimeoutMs;
    if (this.finished || timeout === 0) return 0;
    const left = this.lastActivity + timeout - this.conn.rt.clock.monotonic();
    if (left > 0) return left;
    this.idleTimeoutMs = 0;
    this.conn.rt.stats.rqIdleTimeout.value++;
    this.localReply(
      this.timeoutStatus(),
      'stream timeout',
      ResponseFlag.StreamIdleTimeout,
      'stream_idle_timeout',
    );
    return 0;
  }

  // --- retries (RetryOwner) -----------------------------------------------------------------

  /** A response head on a route with retries: true when it is dropped for a retry. */
  private retryResponse(rh: ResponseHead): boolean {
    const retry = this.retry!;
    const retriable = retry.policy.retriableResponse(rh.statusCode, rh.headers);
    const decision = retry.decide(retriable, rh.headers);
    if (decision !== RetryDecision.Retry) {
      const cluster = this.cluster!;
      if (decision !== RetryDecision.No) this.info.responseFlags |= ResponseFlag.UpstreamRetryLimitExceeded;
      else if (!retriable && retry.retried) cluster.stats.upstream_rq_retry_success.value++;
      // This attempt's response goes downstream: its per_try_idle_timeout keeps watching it.
      retry.continuePerTryIdle();
      return false;
    }
    this.cluster!.recordResponse(rh.statusCode);
    this.host!.outlier?.putHttpResponseCode(rh.statusCode);
    const upstream = this.upstream;
    if (upstream !== null) {
      // The rest of this response is not wanted; its connection cannot be reused mid-response.
      this.responseParser?.rebind(DISCARD_RESPONSE);
      this.responseParser = null;
      this.detachUpstream(upstream);
      upstream.host.pool.release(upstream, false);
    }
    this.releaseHostCounters(false);
    this.prepareReplay();
    return true;
  }

  /** An attempt ended without a response: true when a retry was scheduled (URX when refused). */
  private retryAfterFailure(failure: AttemptFailure): boolean {
    const retry = this.retry!;
    const decision = retry.decide(retry.policy.retriableFailure(failure));
    if (decision === RetryDecision.Retry) {
      this.prepareReplay();
      return true;
    }
    if (decision !== RetryDecision.No) this.info.responseFlags |= ResponseFlag.UpstreamRetryLimitExceeded;
    return false;
  }

  /** The next attempt sends the request body received so far again. */
  private prepareReplay(): void {
    this.responseParser = null;
    if (this.bodyless) return;
    const body = this.retry!.replayBody();
    this.bufferedBody = body.chunks;
    this.bufferedBytes = body.bytes;
  }

  onBackoffElapsed(): void {
    if (this.finished || this.responseComplete) return;
    const host = this.retry!.chooseHost(this);
    if (host === null) {
      this.noHealthyUpstream(this.cluster!);
      return;
    }
    this.beginAttempt(host);
  }

  /** The per-try timeout of the current attempt passed (Envoy: 504 UT unless retried). */
  onPerTryTimeout(): void {
    if (this.finished || this.responseComplete || this.responseStarted) return;
    this.cluster!.stats.upstream_rq_per_try_timeout.value++;
    this.abandonAttempt('upstream_per_try_timeout');
  }

  /**
   * The current attempt got no response bytes for per_try_idle_timeout (Envoy: retried
   * like a per-try timeout before the response started, else 504 UT; a reset after).
   */
  onPerTryIdleTimeout(): void {
    if (this.finished || this.responseComplete) return;
    this.cluster!.stats.upstream_rq_per_try_idle_timeout.value++;
    if (this.responseStarted) {
      this.localReply(
        504,
        LocalReplyText.upstreamTimeout,
        ResponseFlag.UpstreamRequestTimeout,
        'upstream_per_try_idle_timeout',
      );
      return;
    }
    this.abandonAttempt('upstream_per_try_idle_timeout');
  }

  /** Gives up the current attempt after a per-try timeout: retry it, or answer 504 UT. */
  private abandonAttempt(details: string): void {
    this.host?.outlier?.putResult(OutlierResult.LocalOriginTimeout);
    if (this.pending !== null) {
      this.pending.cancel();
      this.pending = null;
    }
    const upstream = this.upstream;
    if (upstream !== null) {
      this.detachUpstream(upstream);
      upstream.host.pool.release(upstream, false);
    }
    this.releaseHostCounters(false);
    if (this.retryAfterFailure('per_try_timeout')) return;
    this.upstreamTimeoutReply(details);
  }

  // --- downstream failures ----------------------------------------------------------------

  onDownstreamProtocolError(err: HttpParseError): void {
    if (this.finished) return;
    this.keepAlive = false;
    this.conn.closeAfterResponse = true;
    this.localReply(err.status, `${err.message}\n`, ResponseFlag.DownstreamProtocolError, err.details);
  }

  onDownstreamReset(): void {
    if (this.finished) return;
    // A tunnel finishes the stream itself once its upstream side closed too.
    if (this.upgrade?.established) return;
    this.info.responseFlags |= ResponseFlag.DownstreamConnectionTermination;
    if (this.info.responseCodeDetails === '') this.info.responseCodeDetails = 'downstream_remote_disconnect';
    this.abandonUpstream();
    this.finish();
  }

  // --- helpers ------------------------------------------------------------------------------

  /** Answers locally. `body` is text or bytes; `location` adds a Location header. */
  private localReply(
    status: number,
    body: string | Buffer | null,
    flags: number,
    details: string,
    mutations: HeaderMutationPlan | null = null,
    location: string | null = null,
    extraHeaders: HeaderList | null = null,
  ): void {
    const info = this.info;
    info.responseFlags |= flags;
    info.responseCodeDetails = details;
    this.abandonUpstream();
    if (this.responseStarted) {
      // Too late for a reply: the client sees the connection reset.
      this.conn.reset();
      this.finish();
      return;
    }
    if (status >= 400 && extraHeaders === null && isGrpcRequest(this.headers)) {
      // A gRPC client gets a trailers-only reply: HTTP 200 with the status in grpc-status.
      const text = body === null ? '' : typeof body === 'string' ? body : body.toString('utf8');
      extraHeaders = grpcLocalReplyHeaders(grpcStatusForLocalReply(status, flags), text);
      status = 200;
      body = null;
    }
    this.responseStarted = true;
    this.responseComplete = true;
    info.responseCode = status;
    const headers: HeaderList = extraHeaders ?? [];
    if (this.extraResponseHeaders !== null) headers.push(...this.extraResponseHeaders);
    if (location !== null) headers.push('location', location);
    const bytes = body === null ? null : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const length = bytes === null ? 0 : bytes.length;
    if (length > 0) headers.push('content-type', 'text/plain');
    if (mutations !== null) applyHeaderMutations(headers, mutations, info);
    this.applyResponseHeaderRules(headers);
    info.responseHeaders = headers;
    if (!this.requestComplete && !this.bodyless) {
      // Unread request body: do not try to find the next request in it.
      this.conn.closeAfterResponse = true;
    }
    info.firstResponseByteMonotonic = this.conn.rt.clock.monotonic();
    const headOnly = this.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    this.conn.writeResponseHead(
      status,
      headers,
      status === 204 || status < 200 ? FRAMING_NONE : { kind: 'length', length },
      this.keepAlive,
    );
    if (!headOnly && bytes !== null && length > 0) {
      info.bytesSent += length;
      this.conn.writeBody(bytes, false);
    }
    if (this.requestComplete || this.conn.closeAfterResponse) this.finish();
  }

  /** Starts the shadow copies of the request as it goes upstream (the body so far is buffered). */
  private startShadows(policies: readonly RequestMirrorPolicy[]): void {
    this.shadows = this.conn.rt.mirror.start(policies, {
      method: this.method,
      path: this.path,
      authority: this.authority,
      headers: this.headers,
      framing: this.requestFraming,
      body: this.bufferedBody,
      requestComplete: this.requestComplete,
      timeoutMs: (this.route!.action as RouteAction).timeoutMs,
    });
  }

  // --- DecoderFilterStream ------------------------------------------------------------------

  get connectionKey(): object {
    return this.conn;
  }

  sendLocalReply(
    status: number,
    body: string,
    flags: number,
    details: string,
    headers: HeaderList | null,
  ): void {
    this.localReply(status, body, flags, details, null, null, headers);
  }

  addResponseHeader(name: string, value: string): void {
    if (this.extraResponseHeaders === null) this.extraResponseHeaders = [name, value];
    else this.extraResponseHeaders.push(name, value);
  }

  /** The HCM's response header rules: `server` (server_header_transformation) and `via`. */
  private applyResponseHeaderRules(headers: HeaderList): void {
    const hcm = this.conn.rt.config;
    switch (hcm.serverHeaderTransformation) {
      case 'OVERWRITE':
        setHeader(headers, 'server', hcm.serverName);
        break;
      case 'APPEND_IF_ABSENT':
        if (getHeader(headers, 'server') === undefined) headers.push('server', hcm.serverName);
        break;
      case 'PASS_THROUGH':
        break;
    }
    if (hcm.via !== undefined) appendVia(headers, hcm.via);
    // include_attempt_count_in_response: how many attempts the router made (none: no header).
    const attempts = this.info.attemptCount;
    if (
      attempts > 0 &&
      this.route?.includeAttemptCountInResponse === true &&
      !this.conn.rt.suppressEnvoyHeaders
    )
      setHeader(headers, 'x-envoy-attempt-count', String(attempts));
  }

  /** Drops the upstream side: cancel a pending pool request or destroy the connection. */
  private abandonUpstream(): void {
    this.cancelTimer();
    if (this.retry !== null) this.retry.end();
    if (this.pending !== null) {
      this.pending.cancel();
      this.pending = null;
      this.releaseHostCounters(false);
    }
    const upstream = this.upstream;
    if (upstream !== null) {
      this.detachUpstream(upstream);
      upstream.host.pool.release(upstream, false);
      this.releaseHostCounters(false);
    }
  }

  /** Stops handling the connection's events (the pool's release() resumes a paused socket). */
  private detachUpstream(upstream: UpstreamConnection): void {
    upstream.user = null;
    this.upstreamPaused = false;
    this.upstream = null;
  }

  private hostCountersReleased = false;

  private releaseHostCounters(success: boolean): void {
    if (this.hostCountersReleased || this.host === null) return;
    this.hostCountersReleased = true;
    const hs = this.host.stats;
    hs.rqActive--;
    if (success) hs.rqSuccess++;
    else hs.rqError++;
    this.cluster!.stats.upstream_rq_active.value--;
  }

  private cancelTimer(): void {
    if (this.durationTimer !== null) {
      this.durationTimer.cancel();
      this.durationTimer = null;
    }
    if (this.deadlineSet) {
      this.deadlineSet = false;
      this.conn.clearStreamDeadline();
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.cancelTimer();
    if (this.requestTimer !== null) {
      this.requestTimer.cancel();
      this.requestTimer = null;
    }
    if (this.retry !== null) this.retry.end();
    if (this.fault !== null) this.fault.end();
    if (this.shadows !== null) this.shadows.onPrimaryDone();
    if (this.upgrade !== null) {
      this.upgrade.end();
      this.releaseHostCounters(this.upgrade.established);
    }
    const rt = this.conn.rt;
    const info = this.info;
    info.endMonotonic = rt.clock.monotonic();
    const s = rt.stats;
    s.rqActive.value--;
    s.rqCompleted.value++;
    const cls = (info.responseCode / 100) | 0;
    s.rqByClass[cls >= 1 && cls <= 5 ? cls : 0].value++;
    rt.log(info);
    this.conn.onStreamDone(this);
  }
}
