// HTTP/1.1 upgrades (WebSocket and other `Upgrade:` protocols) and CONNECT: the decision
// whether a stream may become a byte stream, and the tunnel that carries its bytes once it
// has. (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/upgrades)
//
// Decision (Envoy's rule): the HCM's `upgrade_configs` must list the type (`websocket`...,
// `connect` for CONNECT requests); a route's own `upgrade_configs` entry for the type then
// decides `enabled`, else the HCM entry's `enabled` does. A request whose upgrade is not
// allowed is refused with 403 (`upgrade_failed`, stat downstream_rq_ws_on_non_ws_route), as
// Envoy does. `Upgrade: h2c` is never an upgrade here: its headers are stripped and the
// request is proxied as a plain one (Envoy does the same).
//
// Tunnel: once the upstream answered 101 (or 2xx to a forwarded CONNECT), or once the TCP
// connection of a route with `connect_config` is up (the proxy answers 200 itself), bytes
// flow both ways through the shared BytePump (network/byte-pump.ts) between the
// downstream HTTP/1.1 connection (its TunnelDownstream side) and the upstream socket.
// A pooled upstream connection stays handed out to the tunnel and is released with
// reusable=false at the end, so it never goes back into the pool. The route timeout is
// disabled once upgraded (max_stream_duration still applies); the stream idle timeout (route
// idle_timeout or HCM stream_idle_timeout) closes a tunnel that moved no byte for that long. The stream is logged when both sides closed,
// with the bytes counted each way.

import type * as net from 'node:net';
import type { RouteAction, RouteUpgradeConfig, UpgradeConfig } from '../../config/model.js';
import { formatAddress } from '../../core/address.js';
import type { Clock, Timer } from '../../core/clock.js';
import { BytePump, type BytePumpObserver, type PumpEndpoint } from '../network/byte-pump.js';
import type { StreamInfo } from '../stream-info.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import { connectUpstream, readyEvent } from '../upstream/connect.js';
import type { UpstreamConnection, UpstreamConnectionUser } from '../upstream/connection-pool.js';
import type { Host } from '../upstream/host.js';
import type { HcmStats } from './connection-manager.js';
import { getHeader, type HeaderList } from './headers.js';

/** The downstream side of a tunnel, handed out by the HTTP/1.1 connection (startTunnel). */
export interface TunnelDownstream extends PumpEndpoint {
  /** Bytes the client sent after the request head, before the switch; null when none. */
  takePending(): Buffer | null;
}

/** Where the HTTP/1.1 connection delivers its socket's events once it is a tunnel. */
export interface TunnelSink {
  fromDownstream(chunk: Buffer): void;
  downstreamEnded(): void;
  downstreamDrained(): void;
  downstreamFinished(): void;
  downstreamClosed(hadError: boolean): void;
}

/** The stream that owns an upgrade (ActiveStream). */
export interface UpgradeOwner {
  /** CONNECT with connect_config: the TCP connection to the cluster is up. */
  onTunnelConnected(): void;
  /** CONNECT with connect_config: the TCP connection failed (or timed out). */
  onTunnelConnectFailed(timedOut: boolean, details: string): void;
  /** Both sides of the tunnel closed. */
  onTunnelClosed(): void;
}

/** The upgrade type of a tunnel request: `connect` for CONNECT, else the lower-cased Upgrade value. */
export function upgradeTypeOf(method: string, headers: HeaderList): string {
  if (method === 'CONNECT') return 'connect';
  return (getHeader(headers, 'upgrade') ?? '').trim().toLowerCase();
}

/**
 * Envoy's decision for an upgrade type: null when refused, else whether the route
 * terminates CONNECT (connect_config).
 */
export function decideUpgrade(
  hcm: readonly UpgradeConfig[] | undefined,
  action: RouteAction | null,
  type: string,
): { readonly terminateConnect: boolean } | null {
  if (hcm === undefined || type === '') return null;
  let hcmEntry: UpgradeConfig | undefined;
  for (let i = 0; i < hcm.length; i++) if (hcm[i].upgradeType === type) hcmEntry = hcm[i];
  if (hcmEntry === undefined) return null;
  const routeConfigs = action?.upgradeConfigs;
  let routeEntry: RouteUpgradeConfig | undefined;
  if (routeConfigs !== undefined) {
    for (let i = 0; i < routeConfigs.length; i++)
      if (routeConfigs[i].upgradeType === type) routeEntry = routeConfigs[i];
  }
  const enabled = routeEntry !== undefined ? routeEntry.enabled : hcmEntry.enabled;
  if (!enabled) return null;
  return { terminateConnect: routeEntry?.terminateConnect === true };
}

/** The upgrade of one stream: its type, then its tunnel. Counted in downstream_cx_upgrades_*. */
export class StreamUpgrade implements BytePumpObserver, UpstreamConnectionUser, TunnelSink {
  readonly type: string;
  readonly isConnect: boolean;
  readonly terminateConnect: boolean;
  /** The request's Upgrade value as sent (restored on the upstream request and the 101). */
  private readonly upgradeValue: string;
  private pump: BytePump | null = null;
  /** The pooled connection a 101 arrived on; released (never reused) when the tunnel ends. */
  private pooled: UpstreamConnection | null = null;
  /** The TCP connection of a terminated CONNECT. */
  private socket: net.Socket | null = null;
  private cluster: UpstreamCluster | null = null;
  private host: Host | null = null;
  private connectTimer: Timer | null = null;
  private connected = false;
  private timedOut = false;
  private idleTimer: Timer | null = null;
  private lastActivity = 0;
  private idleTimeoutMs: number | null = null;
  private ended = false;

  constructor(
    private readonly owner: UpgradeOwner,
    private readonly info: StreamInfo,
    private readonly stats: HcmStats,
    private readonly clock: Clock,
    type: string,
    terminateConnect: boolean,
    headers: HeaderList,
  ) {
    this.type = type;
    this.isConnect = type === 'connect';
    this.terminateConnect = terminateConnect;
    this.upgradeValue = this.isConnect ? '' : (getHeader(headers, 'upgrade') ?? '');
    stats.cxUpgradesTotal.value++;
    stats.cxUpgradesActive.value++;
  }

  /** RFC 9110 §7.8: Upgrade and Connection are hop-by-hop; an accepted upgrade puts them back. */
  restoreHeaders(headers: HeaderList): void {
    if (this.isConnect) return;
    headers.push('connection', 'upgrade', 'upgrade', this.upgradeValue);
  }

  /** Whether this upstream status switches the stream to a tunnel (101; 2xx to CONNECT). */
  switches(status: number): boolean {
    return this.isConnect ? status >= 200 && status < 300 : status === 101;
  }

  get established(): boolean {
    return this.pump !== null;
  }

  // --- the tunnel over a pooled connection (101, or 2xx to a forwarded CONNECT) ------------

  /** The upstream switched: `upstream` (detached from the stream) now belongs to the tunnel. */
  startOnPooled(
    downstream: TunnelDownstream,
    upstream: UpstreamConnection,
    cluster: UpstreamCluster,
    idleTimeoutMs: number | null,
  ): void {
    this.pooled = upstream;
    this.cluster = cluster;
    const socket = upstream.socket;
    // Pooled sockets are opened without half-close; a tunnel needs it (Node reads the flag at EOF).
    socket.allowHalfOpen = true;
    upstream.user = this;
    if (socket.isPaused()) socket.resume();
    socket.once('finish', this.onSocketFinish);
    this.startPump(downstream, upstreamEndpoint(upstream), idleTimeoutMs);
  }

  // --- a terminated CONNECT: a TCP connection to the cluster's host -----------------------

  /** Opens the TCP connection; the owner hears onTunnelConnected or onTunnelConnectFailed. */
  connect(cluster: UpstreamCluster, host: Host): void {
    this.cluster = cluster;
    this.host = host;
    const cs = cluster.stats;
    cs.upstream_cx_total.value++;
    cs.upstream_cx_active.value++;
    host.stats.cxTotal++;
    host.stats.cxActive++;
    let socket: net.Socket;
    try {
      const ts = cluster.transportSocket;
      socket =
        ts !== undefined && ts.kind === 'tls'
          ? ts.createConnection(host.port, host.address, { allowHalfOpen: true })
          : connectUpstream(host.port, host.address, true);
    } catch (err) {
      cs.upstream_cx_active.value--;
      host.stats.cxActive--;
      cs.upstream_cx_connect_fail.value++;
      host.stats.cxConnectFail++;
      this.owner.onTunnelConnectFailed(false, err instanceof Error ? err.message : String(err));
      return;
    }
    this.socket = socket;
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    socket.once(readyEvent(socket), this.onSocketConnect);
    this.connectTimer = this.clock.setTimer(cluster.config.connectTimeoutMs, this.onConnectTimeout);
  }

  /** After the 200 went downstream: bytes flow. */
  startOnSocket(downstream: TunnelDownstream, idleTimeoutMs: number | null): void {
    const socket = this.socket!;
    socket.on('data', this.onUpstreamData);
    socket.on('end', this.onSocketEnd);
    socket.on('drain', this.onSocketDrain);
    socket.on('finish', this.onSocketFinish);
    this.startPump(downstream, socket, idleTimeoutMs);
  }

  private readonly onSocketConnect = (): void => {
    this.connected = true;
    this.connectTimer?.cancel();
    this.connectTimer = null;
    const socket = this.socket!;
    if (socket.localAddress !== undefined)
      this.info.upstreamLocalAddress = formatAddress(socket.localAddress, socket.localPort ?? 0);
    if (this.ended) {
      socket.destroy();
      return;
    }
    this.owner.onTunnelConnected();
  };

  private readonly onConnectTimeout = (): void => {
    this.connectTimer = null;
    if (this.connected || this.socket === null) return;
    this.cluster!.stats.upstream_cx_connect_timeout.value++;
    this.timedOut = true;
    const details = `connect timeout after ${this.cluster!.config.connectTimeoutMs} ms`;
    this.socket.destroy();
    this.owner.onTunnelConnectFailed(true, details);
  };

  private readonly onSocketError = (err: Error): void => {
    if (this.info.upstreamTransportFailureReason === '')
      this.info.upstreamTransportFailureReason = err.message;
  };

  private readonly onSocketClose = (hadError: boolean): void => {
    const cs = this.cluster!.stats;
    const host = this.host!;
    cs.upstream_cx_active.value--;
    host.stats.cxActive--;
    this.connectTimer?.cancel();
    this.connectTimer = null;
    if (!this.connected) {
      if (this.ended && !this.timedOut) return; // the stream ended while connecting: not an upstream failure
      cs.upstream_cx_connect_fail.value++;
      host.stats.cxConnectFail++;
      // A timeout was answered when it fired; a refused connection is answered now.
      if (!this.timedOut)
        this.owner.onTunnelConnectFailed(
          false,
          this.info.upstreamTransportFailureReason || 'connection closed',
        );
      return;
    }
    cs.upstream_cx_destroy.value++;
    this.onUpstreamGone(hadError);
  };

  // --- the pump ------------------------------------------------------------------------------

  private startPump(
    downstream: TunnelDownstream,
    upstream: PumpEndpoint,
    idleTimeoutMs: number | null,
  ): void {
    const pump = new BytePump(downstream, upstream, this);
    this.pump = pump;
    if (idleTimeoutMs !== null) {
      this.idleTimeoutMs = idleTimeoutMs;
      this.lastActivity = this.clock.monotonic();
      this.idleTimer = this.clock.setTimer(idleTimeoutMs, this.onIdleCheck);
    }
    const pending = downstream.takePending();
    if (pending !== null) this.fromDownstream(pending);
    downstream.resume();
  }

  fromDownstream(chunk: Buffer): void {
    if (this.idleTimeoutMs !== null) this.lastActivity = this.clock.monotonic();
    this.pump?.fromDownstream(chunk);
  }

  /** Bytes from the upstream (the pooled connection's user callback, or the CONNECT socket). */
  readonly onUpstreamData = (chunk: Buffer): void => {
    if (this.idleTimeoutMs !== null) this.lastActivity = this.clock.monotonic();
    this.pump?.fromUpstream(chunk);
  };

  downstreamEnded(): void {
    this.info.lastRequestByteMonotonic = this.clock.monotonic();
    this.pump?.downstreamEnded();
  }

  downstreamDrained(): void {
    this.pump?.downstreamDrained();
  }

  downstreamFinished(): void {
    this.pump?.downstreamFinished();
  }

  downstreamClosed(hadError: boolean): void {
    if (this.pump === null) return;
    this.pump.downstreamClosedEvent(hadError);
  }

  private readonly onSocketEnd = (): void => this.pump?.upstreamEnded();
  private readonly onSocketDrain = (): void => this.pump?.upstreamDrained();
  private readonly onSocketFinish = (): void => this.pump?.upstreamFinished();

  private onUpstreamGone(hadError: boolean): void {
    this.pump?.upstreamClosedEvent(hadError);
  }

  // UpstreamConnectionUser (a pooled connection handed to the tunnel).
  onUpstreamEnd(): void {
    this.pump?.upstreamEnded();
  }
  onUpstreamDrain(): void {
    this.pump?.upstreamDrained();
  }
  onUpstreamClose(): void {
    this.onUpstreamGone(this.pooled !== null && this.pooled.lastError !== '');
  }

  // BytePumpObserver
  onDownstreamBytes(n: number): void {
    this.info.bytesReceived += n;
    this.cluster!.stats.upstream_cx_tx_bytes_total.value += n;
  }
  onUpstreamBytes(n: number): void {
    this.info.bytesSent += n;
    this.cluster!.stats.upstream_cx_rx_bytes_total.value += n;
  }
  onDownstreamPaused(): void {}
  onDownstreamResumed(): void {}
  onPumpClosed(): void {
    this.owner.onTunnelClosed();
  }

  private readonly onIdleCheck = (): void => {
    this.idleTimer = null;
    if (this.ended) return;
    const timeout = this.idleTimeoutMs!;
    const idleFor = this.clock.monotonic() - this.lastActivity;
    if (idleFor < timeout) {
      this.idleTimer = this.clock.setTimer(timeout - idleFor, this.onIdleCheck);
      return;
    }
    this.stats.rqIdleTimeout.value++;
    this.pump?.destroyBoth();
  };

  /** The stream is finished: tear down what is left and settle the gauges. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stats.cxUpgradesActive.value--;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    this.connectTimer?.cancel();
    this.connectTimer = null;
    if (this.pump !== null) this.pump.destroyBoth();
    else if (this.socket !== null && !this.connected) this.socket.destroy();
    const pooled = this.pooled;
    if (pooled !== null) {
      this.pooled = null;
      pooled.user = null;
      pooled.host.pool.release(pooled, false);
    }
  }
}

/** A pooled connection as a pump side: the pool keeps its listeners and forwards to the tunnel. */
function upstreamEndpoint(conn: UpstreamConnection): PumpEndpoint {
  return conn.socket;
}
