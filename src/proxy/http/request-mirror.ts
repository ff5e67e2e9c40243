// Request mirroring (`RouteAction.request_mirror_policies`): a fire-and-forget shadow copy
// of a routed request to another cluster, as Envoy's router shadows requests.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-msg-config-route-v3-routeaction-requestmirrorpolicy
//
// - Each policy is sampled with its runtime_fraction.default_value; the cluster is the
//   policy's `cluster` or the value of its `cluster_header` (unknown → no shadow).
// - The copy carries the primary's method, path and headers as sent upstream (route
//   mutations applied), its Host with `-shadow` appended to the host part (before any
//   port) unless disable_shadow_host_suffix_append, and its body as it streams in.
// - It goes through the mirror cluster's own pool, so that cluster counts it like any
//   request (upstream_rq_total, upstream_rq_<code>, upstream_rq_timeout...). Its response
//   is parsed and discarded.
// - It never delays or fails the primary: nothing here pauses the downstream connection.
//   The copy's body is bounded by the listener's buffer limit: when its upstream is slower
//   than the client (bytes waiting to be written pass the limit) the shadow is dropped
//   (`upstream_rq_tx_reset` on the mirror cluster) rather than buffered without bound.
//   A shadow whose primary ends before its request body is complete is dropped too. The
//   route timeout bounds how long a shadow may wait for its response.
// Hooks in ActiveStream: start at the first attempt, body chunks, request end, stream end.

import type { FractionalPercent, RequestMirrorPolicy } from '../../config/model.js';
import type { Clock, Timer } from '../../core/clock.js';
import type { ParserLimits } from '../http1/request-parser.js';
import { type ResponseHandler, type ResponseHead, ResponseParser } from '../http1/response-parser.js';
import { type BodyFraming, requestHeadBytes } from '../http1/serialize.js';
import type { StatsStore } from '../stats/store.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type {
  PendingRequest,
  PoolFailureReason,
  PoolWaiter,
  UpstreamConnection,
  UpstreamConnectionUser,
} from '../upstream/connection-pool.js';
import type { Host } from '../upstream/host.js';
import { getHeader, type HeaderList } from './headers.js';

export interface RequestMirrorDeps {
  readonly clusters: ClusterManager;
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly limits: ParserLimits;
  /** Most bytes of a shadow's body waiting to be written before the shadow is dropped. */
  readonly bufferLimitBytes: number;
  /** Uniform in [0, 1), for runtime_fraction sampling. */
  random(): number;
}

/** What the shadows of one request copy from the primary once it is ready to go upstream. */
export interface MirroredRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: HeaderList;
  readonly framing: BodyFraming;
  /** Body received so far (not yet sent anywhere); null when none. */
  readonly body: readonly Buffer[] | null;
  readonly requestComplete: boolean;
  /** The route timeout (null: none). */
  readonly timeoutMs: number | null;
}

function sampled(p: FractionalPercent, random: () => number): boolean {
  if (p.numerator === 0) return false;
  if (p.numerator >= p.denominator) return true;
  return Math.floor(random() * p.denominator) < p.numerator;
}

/** `authority` with `-shadow` appended to its host part (before a port), as Envoy does. */
export function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon > 0 && colon > authority.lastIndexOf(']')) {
    const port = authority.slice(colon + 1);
    if (/^[0-9]+$/.test(port)) return `${authority.slice(0, colon)}-shadow:${port}`;
  }
  return `${authority}-shadow`;
}

/** The shadows of one request; created only when a policy picked a cluster. */
export class RequestShadows {
  private readonly shadows: ShadowRequest[];

  constructor(shadows: ShadowRequest[]) {
    this.shadows = shadows;
  }

  onRequestBody(chunk: Buffer): void {
    for (let i = 0; i < this.shadows.length; i++) this.shadows[i].onRequestBody(chunk);
  }

  onRequestComplete(): void {
    for (let i = 0; i < this.shadows.length; i++) this.shadows[i].onRequestComplete();
  }

  /** The primary stream ended: shadows still missing request bytes are dropped. */
  onPrimaryDone(): void {
    for (let i = 0; i < this.shadows.length; i++) this.shadows[i].onPrimaryDone();
  }
}

/** The request mirror of one connection manager (compiled once per config version). */
export class RequestMirror {
  private readonly deps: RequestMirrorDeps;

  constructor(deps: RequestMirrorDeps) {
    this.deps = deps;
  }

  /** Starts the shadows of `policies` for `req`; null when none applies. */
  start(policies: readonly RequestMirrorPolicy[], req: MirroredRequest): RequestShadows | null {
    let started: ShadowRequest[] | null = null;
    const deps = this.deps;
    for (let i = 0; i < policies.length; i++) {
      const policy = policies[i];
      if (!sampled(policy.fraction, deps.random)) continue;
      const name =
        policy.clusterHeader === '' ? policy.cluster : getHeader(req.headers, policy.clusterHeader);
      if (name === undefined || name === '') continue;
      const cluster = deps.clusters.get(name);
      if (cluster === undefined) continue;
      const host = cluster.chooseHost();
      if (host === null) {
        cluster.stats.upstream_cx_none_healthy.value++;
        continue;
      }
      const authority = policy.disableShadowHostSuffixAppend ? req.authority : shadowAuthority(req.authority);
      const shadow = new ShadowRequest(cluster, host, req, authority, deps);
      (started ??= []).push(shadow);
      shadow.start();
    }
    return started === null ? null : new RequestShadows(started);
  }
}

/** Discards a shadow's response body. */
class ShadowRequest implements PoolWaiter, UpstreamConnectionUser, ResponseHandler {
  private readonly cluster: UpstreamCluster;
  private readonly host: Host;
  private readonly deps: RequestMirrorDeps;
  private readonly method: string;
  private readonly head: Buffer;
  private readonly chunked: boolean;
  private readonly timeoutMs: number | null;
  private body: Buffer[] | null;
  private bodyBytes = 0;
  private requestComplete: boolean;
  private pending: PendingRequest | null = null;
  private upstream: UpstreamConnection | null = null;
  private parser: ResponseParser | null = null;
  private timer: Timer | null = null;
  private keepAlive = false;
  private done = false;

  constructor(
    cluster: UpstreamCluster,
    host: Host,
    req: MirroredRequest,
    authority: string,
    deps: RequestMirrorDeps,
  ) {
    this.cluster = cluster;
    this.host = host;
    this.deps = deps;
    this.method = req.method;
    // The headers are serialized now: the primary may still change its own list.
    this.head = requestHeadBytes(req.method, req.path, authority, req.headers, req.framing);
    this.chunked = req.framing.kind === 'chunked';
    this.body = req.body === null ? null : req.body.slice();
    for (const c of this.body ?? []) this.bodyBytes += c.length;
    this.requestComplete = req.requestComplete;
    this.timeoutMs = req.timeoutMs;
  }

  start(): void {
    const stats = this.cluster.stats;
    stats.upstream_rq_total.value++;
    stats.upstream_rq_active.value++;
    this.host.stats.rqTotal++;
    this.host.stats.rqActive++;
    if (this.requestComplete) this.armTimeout();
    this.pending = this.host.pool.acquire(this);
  }

  onRequestBody(chunk: Buffer): void {
    if (this.done) return;
    const upstream = this.upstream;
    if (upstream === null) {
      if (this.body === null) this.body = [];
      this.body.push(chunk);
      this.bodyBytes += chunk.length;
      if (this.bodyBytes > this.deps.bufferLimitBytes) this.drop();
      return;
    }
    this.writeBody(upstream, chunk);
    if (upstream.socket.writableLength > this.deps.bufferLimitBytes) this.drop();
  }

  onRequestComplete(): void {
    if (this.done) return;
    this.requestComplete = true;
    const upstream = this.upstream;
    if (upstream !== null && this.chunked) upstream.socket.write('0\r\n\r\n', 'latin1');
    this.armTimeout();
  }

  onPrimaryDone(): void {
    if (!this.done && !this.requestComplete) this.drop();
  }

  // --- PoolWaiter ---------------------------------------------------------------------------

  onPoolReady(conn: UpstreamConnection): void {
    this.pending = null;
    if (this.done) {
      conn.host.pool.release(conn, true);
      return;
    }
    this.upstream = conn;
    conn.user = this;
    let parser = conn.responseParser;
    if (parser === null) {
      parser = new ResponseParser(this, this.deps.limits);
      conn.responseParser = parser;
    } else {
      parser.reset();
      parser.rebind(this);
    }
    this.parser = parser;
    parser.expect(this.method);
    const socket = conn.socket;
    this.cluster.stats.upstream_cx_tx_bytes_total.value += this.head.length;
    socket.cork();
    socket.write(this.head);
    const body = this.body;
    this.body = null;
    if (body !== null) for (let i = 0; i < body.length; i++) this.writeBody(conn, body[i]);
    if (this.requestComplete && this.chunked) socket.write('0\r\n\r\n', 'latin1');
    socket.uncork();
  }

  onPoolFailure(_reason: PoolFailureReason, _details: string): void {
    this.pending = null;
    this.finish(false);
  }

  // --- UpstreamConnectionUser ---------------------------------------------------------------

  onUpstreamData(data: Buffer): void {
    const parser = this.parser;
    if (parser === null || this.upstream === null) return;
    this.cluster.stats.upstream_cx_rx_bytes_total.value += data.length;
    parser.execute(data);
    if (parser.error !== null && this.upstream !== null) this.drop();
  }

  onUpstreamDrain(): void {}

  onUpstreamEnd(): void {
    // EOF may complete a close-delimited response (then onMessageComplete released the connection).
    if (this.parser !== null && this.upstream !== null) this.parser.finish();
    this.onUpstreamClose();
  }

  onUpstreamClose(): void {
    const upstream = this.upstream;
    if (upstream === null) return;
    this.upstream = null;
    upstream.user = null;
    upstream.host.pool.release(upstream, false);
    this.finish(false);
  }

  // --- ResponseHandler (the response is discarded) ------------------------------------------

  onResponseHead(head: ResponseHead): void {
    // A connection that switched protocols (101) must never go back to the pool.
    this.keepAlive = head.keepAlive && head.statusCode !== 101;
    this.cluster.recordResponse(head.statusCode);
  }

  onBody(_chunk: Buffer): void {}

  onMessageComplete(): void {
    const upstream = this.upstream;
    if (upstream !== null) {
      this.upstream = null;
      upstream.user = null;
      upstream.host.pool.release(upstream, this.requestComplete && this.keepAlive);
    }
    this.finish(true);
  }

  // --- helpers ------------------------------------------------------------------------------

  private writeBody(upstream: UpstreamConnection, chunk: Buffer): void {
    const socket = upstream.socket;
    this.cluster.stats.upstream_cx_tx_bytes_total.value += chunk.length;
    if (!this.chunked) {
      socket.write(chunk);
      return;
    }
    if (chunk.length === 0) return;
    socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    socket.write('\r\n', 'latin1');
  }

  private armTimeout(): void {
    if (this.timeoutMs === null || this.timer !== null || this.done) return;
    this.timer = this.deps.clock.setTimer(this.timeoutMs, () => this.onTimeout());
  }

  private onTimeout(): void {
    this.timer = null;
    if (this.done) return;
    this.cluster.stats.upstream_rq_timeout.value++;
    this.host.stats.rqTimeout++;
    this.abandon();
  }

  /** Drops the shadow: it fell behind, or its primary ended before the request was whole. */
  private drop(): void {
    if (this.done) return;
    this.deps.stats.counter(`cluster.${this.cluster.name}.upstream_rq_tx_reset`).value++;
    this.abandon();
  }

  private abandon(): void {
    if (this.pending !== null) {
      this.pending.cancel();
      this.pending = null;
    }
    const upstream = this.upstream;
    if (upstream !== null) {
      this.upstream = null;
      upstream.user = null;
      upstream.host.pool.release(upstream, false);
    }
    this.finish(false);
  }

  private finish(success: boolean): void {
    if (this.done) return;
    this.done = true;
    this.body = null;
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    const hs = this.host.stats;
    hs.rqActive--;
    if (success) hs.rqSuccess++;
    else hs.rqError++;
    this.cluster.stats.upstream_rq_active.value--;
  }
}
