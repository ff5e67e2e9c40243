// The tcp_proxy network filter: for each downstream connection, pick a host of the
// configured cluster, open a fresh upstream connection (not the HTTP pool), and relay
// bytes both ways until both sides are done.
// (https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/network_filters/tcp_proxy_filter)
//
// - Relaying, backpressure and half-close are the shared BytePump's (byte-pump.ts): a slow
//   reader pauses the other side, 'end' becomes end() on the other side (both sockets run
//   with allowHalfOpen), and a closed side's peer is flushed and ended (Envoy's FlushWrite
//   close), or destroyed at once after a socket error.
// - Idle timeout: each chunk only stores a timestamp; one Clock timer per connection
//   checks it and re-arms for the remainder, so no timer is re-armed per chunk.
// - Failures: no cluster → downstream_cx_no_route and flag NC; no healthy host → UH;
//   connect error or connect_timeout → UF. The downstream is closed in each case.
// - StreamInfo is filled as the connection runs and logged exactly once, after both
//   sockets closed. Socket errors are recorded, never thrown.
// - Native byte path (native-relay.ts, docs/native-core.md): when the addon is loaded and
//   both sides are plain TCP, the bytes move in C once the upstream is connected; the
//   relay reports the first upstream byte, the downstream's FIN and its end, and byte and
//   flow-control counters are read from it when it ends (and by the idle check). The rest
//   (host choice, connect, timeouts, the log) is the same for both paths.

import type * as net from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { TcpProxy } from '../../config/model.js';
import { formatAddress, plainIp } from '../../core/address.js';
import type { Clock, Timer } from '../../core/clock.js';
import type { Counter, StatsStore } from '../stats/store.js';
import { createStreamInfo, ResponseFlag, type StreamInfo } from '../stream-info.js';
import { downstreamTlsInfo } from '../tls/connection-info.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { type ConnectFn, connectUpstream, readyEvent } from '../upstream/connect.js';
import type { Host } from '../upstream/host.js';
import { BytePump, type BytePumpObserver } from './byte-pump.js';
import {
  type NativeRelay,
  RELAY_COUNTERS,
  RelayCounter,
  RelayDone,
  RelayEvent,
  type RelayHandle,
  readingHandle,
  socketFd,
  stopNodeReading,
} from './native-relay.js';
import { READ_LANE_DOWNSTREAM, readSocket } from './socket-read.js';

export interface TcpProxyDeps {
  readonly clusters: ClusterManager;
  readonly stats: StatsStore;
  readonly clock: Clock;
  log(info: StreamInfo): void;
  idGen(): number;
  /** Opens the upstream socket; must create it with allowHalfOpen. Tests inject one. */
  readonly connect?: ConnectFn;
  /** Uniform in [0, 1): picks among `weighted_clusters`. Default Math.random. */
  readonly random?: () => number;
  /** The native byte path (native-relay.ts); absent or null: bytes move in JavaScript. */
  readonly nativeRelay?: NativeRelay | null;
}

export interface TcpProxyFactory {
  handle(downstream: net.Socket): void;
  /** The factory's config is retired: it stops collecting its relays' counters. */
  close(): void;
}

/** Where relay counters are read into: reads are synchronous, so one array serves all sessions. */
const RELAY_SCRATCH = new Float64Array(RELAY_COUNTERS);

const defaultTcpConnect: ConnectFn = (port, address, onData) => connectUpstream(port, address, true, onData);

interface TcpProxyStats {
  readonly downstreamCxTotal: Counter;
  readonly downstreamCxRxBytesTotal: Counter;
  readonly downstreamCxTxBytesTotal: Counter;
  readonly downstreamCxNoRoute: Counter;
  readonly downstreamFlowControlPausedReadingTotal: Counter;
  readonly downstreamFlowControlResumedReadingTotal: Counter;
  readonly idleTimeout: Counter;
}

class TcpProxyFactoryImpl implements TcpProxyFactory {
  readonly stats: TcpProxyStats;
  readonly connect: ConnectFn;
  /** Sessions whose bytes the native relay moves: their counters are collected on stats reads. */
  readonly relayed = new Set<TcpProxySession>();
  private readonly removeCollector: () => void;

  constructor(
    readonly config: TcpProxy,
    readonly deps: TcpProxyDeps,
  ) {
    const prefix = `tcp.${config.statPrefix}.`;
    const c = (n: string) => deps.stats.counter(prefix + n);
    this.stats = {
      downstreamCxTotal: c('downstream_cx_total'),
      downstreamCxRxBytesTotal: c('downstream_cx_rx_bytes_total'),
      downstreamCxTxBytesTotal: c('downstream_cx_tx_bytes_total'),
      downstreamCxNoRoute: c('downstream_cx_no_route'),
      downstreamFlowControlPausedReadingTotal: c('downstream_flow_control_paused_reading_total'),
      downstreamFlowControlResumedReadingTotal: c('downstream_flow_control_resumed_reading_total'),
      idleTimeout: c('idle_timeout'),
    };
    this.connect = deps.connect ?? defaultTcpConnect;
    this.removeCollector =
      deps.nativeRelay != null
        ? deps.stats.addCollector(() => {
            for (const session of this.relayed) session.collectRelayCounters();
          })
        : () => {};
    const weighted = config.weightedClusters;
    if (weighted !== undefined && weighted.length > 0) {
      const total = weighted.reduce((sum, c) => sum + c.weight, 0);
      const random = deps.random ?? Math.random;
      this.pickCluster = () => {
        let x = Math.floor(random() * total);
        for (const c of weighted) {
          if (x < c.weight) return c.name;
          x -= c.weight;
        }
        return weighted[weighted.length - 1].name;
      };
    } else {
      this.pickCluster = () => config.cluster;
    }
  }

  /** The cluster of one connection: `cluster`, or one of `weighted_clusters` by weight. */
  readonly pickCluster: () => string;

  handle(downstream: net.Socket): void {
    new TcpProxySession(this, downstream).start();
  }

  close(): void {
    this.removeCollector();
  }
}

class TcpProxySession implements BytePumpObserver {
  private readonly info: StreamInfo = createStreamInfo();
  private readonly clock: Clock;
  private cluster: UpstreamCluster | null = null;
  private host: Host | null = null;
  private upstream: net.Socket | null = null;
  private connected = false;
  /** The downstream went away while we were still connecting; not an upstream failure. */
  private abandoned = false;
  private downstreamClosed = false;
  private upstreamClosed = false;
  /** Relays bytes once the upstream is connected. */
  private pump: BytePump | null = null;
  private logged = false;
  private connectTimer: Timer | null = null;
  private idleTimer: Timer | null = null;
  private readonly trackActivity: boolean;
  private lastActivity = 0;
  /** The native relay moving this connection's bytes, while it runs. */
  private relay: RelayHandle | null = null;
  /** The bytes went (or go) through the native relay. */
  private relayed = false;
  /** The relay's counters as last read, already added to the stats and the log. */
  private readonly relayCounted = new Float64Array(RELAY_COUNTERS);

  constructor(
    private readonly factory: TcpProxyFactoryImpl,
    private readonly downstream: net.Socket,
  ) {
    this.clock = factory.deps.clock;
    this.trackActivity = factory.config.idleTimeoutMs !== null;
  }

  start(): void {
    const { factory, downstream, info, clock } = this;
    factory.stats.downstreamCxTotal.value++;
    info.startTime = clock.now();
    info.startMonotonic = clock.monotonic();
    info.connectionId = factory.deps.idGen();
    info.protocol = '';
    if (downstream.remoteAddress !== undefined) {
      info.downstreamRemoteAddress = formatAddress(
        plainIp(downstream.remoteAddress),
        downstream.remotePort ?? 0,
      );
      info.downstreamDirectRemoteAddress = info.downstreamRemoteAddress;
    }
    if (downstream.localAddress !== undefined) {
      info.downstreamLocalAddress = formatAddress(
        plainIp(downstream.localAddress),
        downstream.localPort ?? 0,
      );
    }
    info.downstreamTls = downstreamTlsInfo(downstream);
    downstream.on('error', this.onDownstreamError);
    downstream.on('close', this.onDownstreamClose);
    // Nothing is forwarded until the upstream is connected. (Node keeps reading a paused
    // socket into its own buffer, up to its high-water mark: a client's early bytes are
    // taken off the wire, so closing on a connect failure is a clean FIN, not a reset.)
    downstream.pause();

    const clusterName = factory.pickCluster();
    const cluster = factory.deps.clusters.get(clusterName);
    if (cluster === undefined) {
      factory.stats.downstreamCxNoRoute.value++;
      info.responseFlags |= ResponseFlag.NoClusterFound;
      info.upstreamCluster = clusterName;
      downstream.destroy();
      return;
    }
    this.cluster = cluster;
    info.upstreamCluster = cluster.name;
    const host = cluster.chooseHost();
    if (host === null) {
      cluster.stats.upstream_cx_none_healthy.value++;
      info.responseFlags |= ResponseFlag.NoHealthyUpstream;
      downstream.destroy();
      return;
    }
    this.host = host;
    info.upstreamHost = host.addressString;
    info.attemptCount = 1;
    cluster.stats.upstream_cx_total.value++;
    cluster.stats.upstream_cx_active.value++;
    host.stats.cxTotal++;
    host.stats.cxActive++;
    let upstream: net.Socket;
    try {
      const ts = cluster.transportSocket;
      upstream =
        ts !== undefined && ts.kind === 'tls'
          ? ts.createConnection(host.port, host.address, { allowHalfOpen: true, onData: this.onUpstreamData })
          : factory.connect(host.port, host.address, this.onUpstreamData);
    } catch (err) {
      this.upstreamClosed = true;
      cluster.stats.upstream_cx_active.value--;
      host.stats.cxActive--;
      cluster.stats.upstream_cx_connect_fail.value++;
      host.stats.cxConnectFail++;
      info.responseFlags |= ResponseFlag.UpstreamConnectionFailure;
      info.upstreamTransportFailureReason = err instanceof Error ? err.message : String(err);
      downstream.destroy();
      return;
    }
    this.upstream = upstream;
    upstream.on('error', this.onUpstreamError);
    upstream.on('close', this.onUpstreamClose);
    upstream.once(readyEvent(upstream), this.onUpstreamConnect);
    this.connectTimer = clock.setTimer(cluster.config.connectTimeoutMs, this.onConnectTimeout);
  }

  // --- connection setup -------------------------------------------------------------------

  private readonly onUpstreamConnect = (): void => {
    const upstream = this.upstream!;
    const downstream = this.downstream;
    this.connectTimer?.cancel();
    this.connectTimer = null;
    this.connected = true;
    if (upstream.localAddress !== undefined) {
      this.info.upstreamLocalAddress = formatAddress(upstream.localAddress, upstream.localPort ?? 0);
    }
    if (this.downstreamClosed) {
      upstream.destroy();
      return;
    }
    const native = this.factory.deps.nativeRelay;
    if (native != null && this.startRelay(native)) return;
    this.pump = new BytePump(downstream, upstream, this);
    upstream.on('data', this.onUpstreamData);
    upstream.on('end', this.onUpstreamEnd);
    upstream.on('drain', this.onUpstreamDrain);
    upstream.on('finish', this.onUpstreamFinish);
    // Bytes read while connecting first, then the rest through a reused buffer when possible.
    for (let early = downstream.read() as Buffer | null; early !== null; early = downstream.read())
      this.onDownstreamData(early);
    readSocket(downstream, READ_LANE_DOWNSTREAM, this.onDownstreamData);
    downstream.on('end', this.onDownstreamEnd);
    downstream.on('drain', this.onDownstreamDrain);
    downstream.on('finish', this.onDownstreamFinish);
    downstream.resume();
    const idle = this.factory.config.idleTimeoutMs;
    if (idle !== null) {
      this.lastActivity = this.clock.monotonic();
      this.idleTimer = this.clock.setTimer(idle, this.onIdleCheck);
    }
  };

  /**
   * Hands the bytes to the native relay when both sides are plain TCP sockets; false (and
   * nothing changed) otherwise. Bytes Node read from the downstream while connecting are
   * sent first, by the relay.
   */
  private startRelay(native: NativeRelay): boolean {
    const downstream = this.downstream;
    const upstream = this.upstream!;
    if ((downstream as { encrypted?: boolean }).encrypted === true) return false;
    if (this.cluster!.transportSocket?.kind === 'tls') return false;
    const fdDown = socketFd(downstream);
    const fdUp = socketFd(upstream);
    const downHandle = readingHandle(downstream);
    const upHandle = readingHandle(upstream);
    if (fdDown < 0 || fdUp < 0 || downHandle === null || upHandle === null) return false;
    // Paused first, so Node does not start reading the upstream after its 'connect'.
    upstream.pause();
    const early: Buffer[] = [];
    for (let b = downstream.read() as Buffer | null; b !== null; b = downstream.read()) early.push(b);
    stopNodeReading(downHandle);
    stopNodeReading(upHandle);
    const first = early.length === 0 ? null : early.length === 1 ? early[0] : Buffer.concat(early);
    this.relayed = true;
    try {
      this.relay = native.start(fdDown, fdUp, first, this.onRelayEvent);
    } catch (err) {
      this.info.upstreamTransportFailureReason = err instanceof Error ? err.message : String(err);
      downstream.destroy();
      upstream.destroy();
      return true;
    }
    this.factory.relayed.add(this);
    const idle = this.factory.config.idleTimeoutMs;
    if (idle !== null) this.idleTimer = this.clock.setTimer(idle, this.onIdleCheck);
    return true;
  }

  /** The running relay's counters, in a scratch array valid until the next read. */
  private readRelay(relay: RelayHandle): Float64Array {
    this.factory.deps.nativeRelay!.counters(relay, RELAY_SCRATCH);
    return RELAY_SCRATCH;
  }

  /** Adds what the relay moved since the last read to the stats and the log. */
  collectRelayCounters(): void {
    const relay = this.relay;
    if (relay === null) return;
    const c = this.readRelay(relay);
    const was = this.relayCounted;
    this.onDownstreamBytes(c[RelayCounter.DownstreamBytes] - was[RelayCounter.DownstreamBytes]);
    this.onUpstreamBytes(c[RelayCounter.UpstreamBytes] - was[RelayCounter.UpstreamBytes]);
    const stats = this.factory.stats;
    stats.downstreamFlowControlPausedReadingTotal.value +=
      c[RelayCounter.DownstreamPaused] - was[RelayCounter.DownstreamPaused];
    stats.downstreamFlowControlResumedReadingTotal.value +=
      c[RelayCounter.DownstreamResumed] - was[RelayCounter.DownstreamResumed];
    was.set(c);
  }

  private readonly onRelayEvent = (kind: number, value: number): void => {
    if (kind === RelayEvent.FirstUpstreamByte) this.info.firstResponseByteMonotonic = this.clock.monotonic();
    else if (kind === RelayEvent.DownstreamEof) this.info.lastRequestByteMonotonic = this.clock.monotonic();
    else if (kind === RelayEvent.Done) this.onRelayDone(value);
  };

  /** The relay ended: the rest of its counters go to the stats and the log, then both sockets close. */
  private onRelayDone(value: number): void {
    this.collectRelayCounters();
    this.relay = null;
    this.factory.relayed.delete(this);
    const reason = value & 0xff;
    const errno = value >> 8;
    if (reason === RelayDone.UpstreamError && this.info.upstreamTransportFailureReason === '')
      this.info.upstreamTransportFailureReason = errnoText(errno);
    this.downstream.destroy();
    this.upstream?.destroy();
  }

  private readonly onConnectTimeout = (): void => {
    this.connectTimer = null;
    if (this.connected || this.upstream === null) return;
    this.cluster!.stats.upstream_cx_connect_timeout.value++;
    this.info.upstreamTransportFailureReason = `connect timeout after ${this.cluster!.config.connectTimeoutMs} ms`;
    this.upstream.destroy();
  };

  // --- relaying (hot path: no allocation per chunk) ----------------------------------------

  private readonly onDownstreamData = (chunk: Buffer): void => {
    if (this.trackActivity) this.lastActivity = this.clock.monotonic();
    this.pump!.fromDownstream(chunk);
  };

  private readonly onUpstreamData = (chunk: Buffer): void => {
    const info = this.info;
    if (info.firstResponseByteMonotonic < 0) info.firstResponseByteMonotonic = this.clock.monotonic();
    if (this.trackActivity) this.lastActivity = this.clock.monotonic();
    this.pump?.fromUpstream(chunk);
  };

  private readonly onUpstreamDrain = (): void => this.pump?.upstreamDrained();
  private readonly onDownstreamDrain = (): void => this.pump?.downstreamDrained();

  // --- BytePumpObserver ------------------------------------------------------------------------

  onDownstreamBytes(n: number): void {
    this.info.bytesReceived += n;
    this.factory.stats.downstreamCxRxBytesTotal.value += n;
    this.cluster!.stats.upstream_cx_tx_bytes_total.value += n;
  }

  onUpstreamBytes(n: number): void {
    this.info.bytesSent += n;
    this.factory.stats.downstreamCxTxBytesTotal.value += n;
    this.cluster!.stats.upstream_cx_rx_bytes_total.value += n;
  }

  onDownstreamPaused(): void {
    this.factory.stats.downstreamFlowControlPausedReadingTotal.value++;
  }

  onDownstreamResumed(): void {
    this.factory.stats.downstreamFlowControlResumedReadingTotal.value++;
  }

  onPumpClosed(): void {
    // maybeFinish() logs once both sockets closed (also on the paths without a pump).
  }

  // --- half-close and close ------------------------------------------------------------------

  private readonly onDownstreamEnd = (): void => {
    this.info.lastRequestByteMonotonic = this.clock.monotonic();
    this.pump?.downstreamEnded();
  };

  private readonly onUpstreamEnd = (): void => this.pump?.upstreamEnded();
  private readonly onDownstreamFinish = (): void => this.pump?.downstreamFinished();
  private readonly onUpstreamFinish = (): void => this.pump?.upstreamFinished();

  private readonly onDownstreamError = (): void => {
    // Recorded through the 'close' event's hadError; nothing may escape a socket handler.
  };

  private readonly onUpstreamError = (err: Error): void => {
    if (this.info.upstreamTransportFailureReason === '')
      this.info.upstreamTransportFailureReason = err.message;
  };

  private readonly onDownstreamClose = (hadError: boolean): void => {
    this.downstreamClosed = true;
    const upstream = this.upstream;
    if (this.relayed) {
      // Destroyed by someone else while the relay runs: the relay's duplicate goes too.
      // (Once it has ended, it destroyed the upstream itself.)
      if (this.relay !== null) this.factory.deps.nativeRelay!.close(this.relay);
    } else if (this.pump !== null) this.pump.downstreamClosedEvent(hadError);
    else if (upstream !== null && !this.upstreamClosed) {
      // Still connecting: the attempt is abandoned, not an upstream failure.
      this.abandoned = true;
      upstream.destroy();
    }
    this.maybeFinish();
  };

  private readonly onUpstreamClose = (hadError: boolean): void => {
    this.upstreamClosed = true;
    this.connectTimer?.cancel();
    this.connectTimer = null;
    const cluster = this.cluster!;
    const host = this.host!;
    cluster.stats.upstream_cx_active.value--;
    host.stats.cxActive--;
    const downstream = this.downstream;
    if (this.abandoned) {
      // Connect attempt cancelled because the downstream closed first.
    } else if (!this.connected) {
      cluster.stats.upstream_cx_connect_fail.value++;
      host.stats.cxConnectFail++;
      this.info.responseFlags |= ResponseFlag.UpstreamConnectionFailure;
      if (!this.downstreamClosed) downstream.destroy();
    } else {
      cluster.stats.upstream_cx_destroy.value++;
      if (this.relay !== null) this.factory.deps.nativeRelay!.close(this.relay);
      else if (this.pump !== null) this.pump.upstreamClosedEvent(hadError);
      else if (!this.downstreamClosed) downstream.destroy();
    }
    this.maybeFinish();
  };

  private readonly onIdleCheck = (): void => {
    this.idleTimer = null;
    if (this.downstreamClosed && this.upstreamClosed) return;
    const timeout = this.factory.config.idleTimeoutMs!;
    const relay = this.relay;
    let idleFor: number;
    if (relay !== null) idleFor = this.readRelay(relay)[RelayCounter.IdleMs];
    else idleFor = this.clock.monotonic() - this.lastActivity;
    if (idleFor < timeout) {
      this.idleTimer = this.clock.setTimer(timeout - idleFor, this.onIdleCheck);
      return;
    }
    this.factory.stats.idleTimeout.value++;
    if (relay !== null) {
      this.factory.deps.nativeRelay!.close(relay);
      return;
    }
    this.downstream.destroy();
    this.upstream?.destroy();
  };

  private maybeFinish(): void {
    if (this.logged || !this.downstreamClosed) return;
    if (this.upstream !== null && !this.upstreamClosed) return;
    this.logged = true;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    this.info.endMonotonic = this.clock.monotonic();
    try {
      this.factory.deps.log(this.info);
    } catch {
      // An access-log failure must not take the proxy down.
    }
  }
}

/** The relay's errno as a transport failure reason: `relay ECONNRESET`. */
function errnoText(errno: number): string {
  if (errno <= 0) return 'relay error';
  try {
    return `relay ${getSystemErrorName(-errno)}`;
  } catch {
    return `relay errno ${errno}`;
  }
}

export function createTcpProxyFactory(config: TcpProxy, deps: TcpProxyDeps): TcpProxyFactory {
  return new TcpProxyFactoryImpl(config, deps);
}
