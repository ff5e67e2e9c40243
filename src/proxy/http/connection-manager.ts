// The HTTP connection manager network filter: its config-time factory.
//
// `createHttpConnectionManager` runs once per config version: it compiles the route
// table, the access loggers and the parser limits, and resolves every stat object, so
// that per connection and per request nothing is looked up by name (STYLE: filters as
// factory + cheap instance). `handle(socket)` then serves one downstream connection.

import type { Socket } from 'node:net';
import type { RouterConfig } from '../../config/http-filter-registry.js';
import type { HttpConnectionManager, HttpFault } from '../../config/model.js';
import { FAULT_TYPE_URL } from '../../config/validate-fault-filter.js';
import { DEFAULT_STREAM_IDLE_TIMEOUT_MS } from '../../config/validate-http-connection-manager.js';
import type { Clock } from '../../core/clock.js';
import type { AccessLogger } from '../access-log/logger.js';
import type { ParserLimits } from '../http1/request-parser.js';
import { serveHttpConnection } from '../http2/codec-select.js';
import { http2SessionSettings } from '../http2/http2-server-connection.js';
import type { SessionSettings } from '../http2/server-session.js';
import type { DrainSignal } from '../listener/drain.js';
import type { NetworkFilterInstance } from '../listener/listener-manager.js';
import type { NativeSocketIo } from '../network/native-socket.js';
import type { RouteTable } from '../router/route-table.js';
import type { Counter, Gauge, StatsStore } from '../stats/store.js';
import type { StreamInfo } from '../stream-info.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { ForwardingConfig } from './client-address.js';
import { createHttpFaultFilter, type HttpFaultFilter } from './fault.js';
import { createDecoderFilterChain, type DecoderFilterChain } from './filter-chain.js';
import { internalAddressMatcher } from './internal-address.js';
import { RequestMirror } from './request-mirror.js';

/** The stats of one connection manager (`http.<stat_prefix>.*`), resolved once. */
export interface HcmStats {
  /** [HTTP/1, HTTP/2]: headers dropped / requests refused for `_` in a name (headers_with_underscores_action). */
  readonly droppedUnderscoreHeaders: readonly [Counter, Counter];
  readonly rejectedUnderscoreRequests: readonly [Counter, Counter];
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  readonly cxDestroy: Counter;
  readonly cxHttp1Total: Counter;
  readonly cxHttp2Total: Counter;
  readonly cxRxBytes: Counter;
  readonly cxTxBytes: Counter;
  readonly cxProtocolError: Counter;
  readonly cxDrainClose: Counter;
  readonly cxIdleTimeout: Counter;
  readonly cxMaxDurationReached: Counter;
  readonly rqTotal: Counter;
  readonly rqHttp1Total: Counter;
  readonly rqHttp2Total: Counter;
  readonly rqActive: Gauge;
  readonly rqCompleted: Counter;
  /** Indexed by status class 1..5. */
  readonly rqByClass: readonly Counter[];
  readonly rqTimeout: Counter;
  readonly rqIdleTimeout: Counter;
  readonly rqMaxDurationReached: Counter;
  readonly noRoute: Counter;
  readonly noCluster: Counter;
  readonly rqDirectResponse: Counter;
  readonly rqRedirect: Counter;
  /** Upgrades and CONNECT tunnels accepted (upgrade.ts). */
  readonly cxUpgradesTotal: Counter;
  readonly cxUpgradesActive: Gauge;
  /** Upgrade requests refused because the type is not enabled for the HCM/route. */
  readonly rqWsOnNonWsRoute: Counter;
}

export function createHcmStats(stats: StatsStore, statPrefix: string): HcmStats {
  const p = `http.${statPrefix}.`;
  const c = (n: string) => stats.counter(p + n);
  return {
    // Codec-level, named as Envoy's http1./http2. codec stats.
    droppedUnderscoreHeaders: [
      stats.counter('http1.dropped_headers_with_underscores'),
      stats.counter('http2.dropped_headers_with_underscores'),
    ],
    rejectedUnderscoreRequests: [
      stats.counter('http1.requests_rejected_with_underscores_in_headers'),
      stats.counter('http2.requests_rejected_with_underscores_in_headers'),
    ],
    cxTotal: c('downstream_cx_total'),
    cxActive: stats.gauge(`${p}downstream_cx_active`),
    cxDestroy: c('downstream_cx_destroy'),
    cxHttp1Total: c('downstream_cx_http1_total'),
    cxHttp2Total: c('downstream_cx_http2_total'),
    cxRxBytes: c('downstream_cx_rx_bytes_total'),
    cxTxBytes: c('downstream_cx_tx_bytes_total'),
    cxProtocolError: c('downstream_cx_protocol_error'),
    cxDrainClose: c('downstream_cx_drain_close'),
    cxIdleTimeout: c('downstream_cx_idle_timeout'),
    cxMaxDurationReached: c('downstream_cx_max_duration_reached'),
    rqTotal: c('downstream_rq_total'),
    rqHttp1Total: c('downstream_rq_http1_total'),
    rqHttp2Total: c('downstream_rq_http2_total'),
    rqActive: stats.gauge(`${p}downstream_rq_active`),
    rqCompleted: c('downstream_rq_completed'),
    rqByClass: [
      c('downstream_rq_xx_unknown'),
      c('downstream_rq_1xx'),
      c('downstream_rq_2xx'),
      c('downstream_rq_3xx'),
      c('downstream_rq_4xx'),
      c('downstream_rq_5xx'),
    ],
    rqTimeout: c('downstream_rq_timeout'),
    rqIdleTimeout: c('downstream_rq_idle_timeout'),
    rqMaxDurationReached: c('downstream_rq_max_duration_reached'),
    noRoute: c('no_route'),
    noCluster: c('no_cluster'),
    rqDirectResponse: c('rq_direct_response'),
    rqRedirect: c('rq_redirect'),
    cxUpgradesTotal: c('downstream_cx_upgrades_total'),
    cxUpgradesActive: stats.gauge(`${p}downstream_cx_upgrades_active`),
    rqWsOnNonWsRoute: c('downstream_rq_ws_on_non_ws_route'),
  };
}

/** Everything a downstream HTTP connection needs, compiled once per config version. */
export interface HcmRuntime {
  readonly config: HttpConnectionManager;
  readonly routeTable: RouteTable;
  readonly limits: ParserLimits;
  readonly stats: HcmStats;
  readonly accessLoggers: readonly AccessLogger[];
  readonly clusters: ClusterManager;
  readonly clock: Clock;
  /** `stream_idle_timeout` in ms (Envoy's 5 min default applied); 0 = off. */
  readonly streamIdleTimeoutMs: number;
  /** Router filter options (`envoy.filters.http.router`). */
  readonly suppressEnvoyHeaders: boolean;
  readonly respectExpectedRqTimeout: boolean;
  /** The fault filter (`envoy.filters.http.fault`); null when the chain has none. */
  readonly fault: HttpFaultFilter | null;
  /** The other HTTP filters (local rate limit...), compiled in chain order around the fault filter. */
  readonly decoderFilters: DecoderFilterChain;
  /** Starts shadow copies for routes with request_mirror_policies. */
  readonly mirror: RequestMirror;
  /** The listener's per_connection_buffer_limit_bytes: how much request body is held while the upstream connects. */
  readonly bufferLimitBytes: number;
  /** The listener's drain state: when set, responses carry `connection: close`. */
  readonly drain: DrainSignal;
  nextConnectionId(): number;
  newRequestId(): string;
  /** Called for every finished request with its stream info. */
  log(info: StreamInfo): void;
  /** How the trusted client address is found (client-address.ts). */
  readonly forwarding: ForwardingConfig;
  /** Native socket I/O for plain HTTP/1.1 connections; null = Node's sockets. */
  readonly nativeIo: NativeSocketIo | null;
}

export interface HcmDeps {
  readonly clusters: ClusterManager;
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly drain: DrainSignal;
  readonly routeTable: RouteTable;
  readonly accessLoggers: readonly AccessLogger[];
  readonly bufferLimitBytes: number;
  /** Uniform in [0, 1) for the filters' sampling; default Math.random. */
  readonly random?: () => number;
  /** Native socket I/O for plain HTTP/1.1 connections; absent or null = Node's sockets. */
  readonly nativeIo?: NativeSocketIo | null;
  nextConnectionId(): number;
  newRequestId(): string;
}

export function createHttpConnectionManager(
  config: HttpConnectionManager,
  deps: HcmDeps,
): NetworkFilterInstance & { readonly runtime: HcmRuntime } {
  const routerFilter = config.httpFilters[config.httpFilters.length - 1];
  const routerConfig = (routerFilter?.config ?? {}) as Partial<RouterConfig>;
  const faultFilter = config.httpFilters.find((f) => f.typeUrl === FAULT_TYPE_URL);
  const loggers = deps.accessLoggers;
  const random = deps.random ?? Math.random;
  const limits: ParserLimits = {
    maxHeaderBytes: config.maxRequestHeadersKb * 1024,
    maxHeaderCount: config.maxHeadersCount,
    acceptHttp10: config.acceptHttp10,
  };
  const runtime: HcmRuntime = {
    config,
    routeTable: deps.routeTable,
    limits,
    stats: createHcmStats(deps.stats, config.statPrefix),
    accessLoggers: loggers,
    clusters: deps.clusters,
    clock: deps.clock,
    streamIdleTimeoutMs:
      config.streamIdleTimeoutMs === undefined
        ? DEFAULT_STREAM_IDLE_TIMEOUT_MS
        : (config.streamIdleTimeoutMs ?? 0),
    suppressEnvoyHeaders: routerConfig.suppressEnvoyHeaders === true,
    respectExpectedRqTimeout: routerConfig.respectExpectedRqTimeout === true,
    fault: createHttpFaultFilter(
      faultFilter === undefined ? null : (faultFilter.config as HttpFault),
      deps.stats,
      config.statPrefix,
      faultFilter?.name,
    ),
    decoderFilters: createDecoderFilterChain(config.httpFilters, {
      stats: deps.stats,
      clock: deps.clock,
      random,
    }),
    mirror: new RequestMirror({
      clusters: deps.clusters,
      stats: deps.stats,
      clock: deps.clock,
      limits,
      bufferLimitBytes: deps.bufferLimitBytes,
      random,
    }),
    bufferLimitBytes: deps.bufferLimitBytes,
    drain: deps.drain,
    forwarding: {
      useRemoteAddress: config.useRemoteAddress,
      xffNumTrustedHops: config.xffNumTrustedHops,
      detectors: config.originalIpDetection ?? null,
      isInternal: internalAddressMatcher(config.internalAddressRanges),
    },
    nativeIo: deps.nativeIo ?? null,
    nextConnectionId: deps.nextConnectionId,
    newRequestId: deps.newRequestId,
    log:
      loggers.length === 0
        ? () => {}
        : (info) => {
            for (let i = 0; i < loggers.length; i++) loggers[i].log(info);
          },
  };
  let h2Options: SessionSettings | null = null;
  const getH2Options = (): SessionSettings => {
    if (h2Options === null) h2Options = http2SessionSettings(runtime);
    return h2Options;
  };
  return {
    runtime,
    managesDrain: true,
    handle(socket: Socket): void {
      serveHttpConnection(socket, runtime, getH2Options);
    },
  };
}
