// What a listener does with a connection before a network filter chain gets it: run the
// listener filters (tls_inspector), choose the filter chain (filter-chain-selector.ts),
// run the chain's transport socket (the TLS handshake and client verification,
// tls/downstream-tls.ts), then hand the socket — a TLSSocket for TLS chains — to the
// chain's network filter. A connection no chain matches is closed and counted in
// listener.<address>.no_filter_chain_match.
//
// Listeners with one plain chain and no listener filters do not use this (proxy-server.ts
// hands their sockets straight to the network filter).
//
// Drain: connections still being inspected or handshaking are members of the drain signal
// (force-closed at the drain deadline); once handed on, HTTP connections manage their own
// membership and raw TCP ones are tracked here.

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FilterChainMatch, ListenerFilters } from '../../config/model.js';
import type { Clock, Timer } from '../../core/clock.js';
import { parseIp } from '../../core/ip-address.js';
import type { Logger } from '../../core/logger.js';
import type { Counter, StatsStore } from '../stats/store.js';
import type { DownstreamTlsFactory, DownstreamTlsStats, TlsHandshakeTarget } from '../tls/downstream-tls.js';
import {
  createTlsInspectorStats,
  type InspectionResult,
  type InspectionTarget,
  inspectTls,
  type TlsInspectorOptions,
} from '../tls/tls-inspector.js';
import type { Drainable, DrainSignal } from './drain.js';
import { type ConnectionFacts, FilterChainSelector } from './filter-chain-selector.js';
import type { NetworkFilterInstance } from './listener-manager.js';

/** One filter chain, built for one listener generation. */
export interface DispatchChain {
  readonly match: FilterChainMatch | undefined;
  /** The TLS transport socket; null for raw_buffer. */
  readonly tls: DownstreamTlsFactory | null;
  /** `transport_socket_connect_timeout`: the handshake's time limit; null = none. */
  readonly tlsTimeoutMs: number | null;
  readonly filter: NetworkFilterInstance;
}

export interface DispatcherOptions {
  readonly listenerName: string;
  readonly chains: readonly DispatchChain[];
  readonly defaultChain: DispatchChain | null;
  readonly listenerFilters: ListenerFilters | null;
  readonly drain: DrainSignal;
  readonly clock: Clock;
  readonly stats: StatsStore;
  readonly logger: Logger;
  /** The listener's bound address (stats are named after it). */
  readonly boundAddress: () => { address: string; port: number };
  /** Releases what the chains own (secret sources, access logs). */
  readonly close: () => void;
}

interface ListenerStats {
  readonly noFilterChainMatch: Counter;
  readonly preCxTimeout: Counter;
  readonly transportSocketConnectTimeout: Counter;
  readonly ssl: DownstreamTlsStats;
}

/** Envoy's stat name for a listener address: `127.0.0.1_10000` (':' of IPv6 as '_'). */
export function listenerStatPrefix(a: { address: string; port: number }): string {
  return `listener.${a.address.replaceAll(':', '_')}_${a.port}`;
}

function ignoreError(): void {}

class Dispatcher implements NetworkFilterInstance {
  readonly managesDrain = true;
  private readonly selector: FilterChainSelector<DispatchChain>;
  private readonly inspector: TlsInspectorOptions | null;
  private statsCache: ListenerStats | null = null;

  constructor(readonly options: DispatcherOptions) {
    this.selector = new FilterChainSelector(
      options.chains.map((c) => ({ match: c.match, value: c })),
      options.defaultChain,
    );
    const lf = options.listenerFilters;
    this.inspector =
      lf?.tlsInspector === true
        ? {
            clock: options.clock,
            timeoutMs: lf.timeoutMs,
            continueOnTimeout: lf.continueOnTimeout,
            stats: createTlsInspectorStats(options.stats),
          }
        : null;
  }

  /** Created on first use: the bound address is known only once the listener listens. */
  get stats(): ListenerStats {
    if (this.statsCache === null) {
      const prefix = listenerStatPrefix(this.options.boundAddress());
      const c = (n: string) => this.options.stats.counter(`${prefix}.${n}`);
      this.statsCache = {
        noFilterChainMatch: c('no_filter_chain_match'),
        preCxTimeout: c('downstream_pre_cx_timeout'),
        transportSocketConnectTimeout: c('downstream_cx_transport_socket_connect_timeout'),
        ssl: {
          handshake: c('ssl.handshake'),
          connectionError: c('ssl.connection_error'),
          noCertificate: c('ssl.no_certificate'),
          failVerifyNoCert: c('ssl.fail_verify_no_cert'),
          failVerifyError: c('ssl.fail_verify_error'),
          failVerifySan: c('ssl.fail_verify_san'),
        },
      };
    }
    return this.statsCache;
  }

  /** listener.<address>.server_ssl_socket_factory.ssl_context_update_by_sds, or a failed update's log line. */
  contextUpdated(error: Error | null): void {
    const prefix = listenerStatPrefix(this.options.boundAddress());
    if (error === null) {
      this.options.stats.counter(`${prefix}.server_ssl_socket_factory.ssl_context_update_by_sds`).value++;
    } else {
      this.options.stats.counter(`${prefix}.server_ssl_socket_factory.ssl_context_update_failed`).value++;
      this.options.logger.error(
        `listener '${this.options.listenerName}': new certificate material not used, the previous stays: ${error.message}`,
      );
    }
  }

  handle(socket: Socket): void {
    // The socket changes hands between handlers; an error in between must not go unhandled.
    socket.on('error', ignoreError);
    const conn = new PendingConnection(this, socket);
    this.options.drain.add(conn);
    if (this.inspector !== null) inspectTls(socket, this.inspector, conn);
    else conn.onInspected(null);
  }

  select(socket: Socket, hello: InspectionResult | null): DispatchChain | null {
    const facts: ConnectionFacts = {
      localIp: socket.localAddress === undefined ? null : parseIp(socket.localAddress),
      localPort: socket.localPort ?? 0,
      remoteIp: socket.remoteAddress === undefined ? null : parseIp(socket.remoteAddress),
      remotePort: socket.remotePort ?? 0,
      serverName: hello?.serverName ?? '',
      transportProtocol: hello?.transportProtocol ?? 'raw_buffer',
      alpn: hello?.alpn ?? [],
    };
    return this.selector.select(facts);
  }

  close(): void {
    this.options.close();
  }
}

/** One connection until its filter chain has it. */
class PendingConnection implements Drainable, InspectionTarget, TlsHandshakeTarget {
  private chain: DispatchChain | null = null;
  private tls: TLSSocket | null = null;
  private settled = false;
  private handshakeTimer: Timer | null = null;
  private readonly onHandshakeTimeout = (): void => {
    this.handshakeTimer = null;
    if (this.settled) return;
    this.d.stats.transportSocketConnectTimeout.value++;
    this.forceClose();
    this.finish();
  };

  constructor(
    private readonly d: Dispatcher,
    private readonly socket: Socket,
  ) {}

  onDrain(): void {}

  forceClose(): void {
    this.tls?.destroy();
    this.socket.destroy();
  }

  onInspectionFailed(reason: 'timeout' | 'too_large' | 'closed'): void {
    if (reason === 'timeout') this.d.stats.preCxTimeout.value++;
    this.finish();
  }

  onInspected(result: InspectionResult | null): void {
    if (this.socket.destroyed) {
      this.finish();
      return;
    }
    const chain = this.d.select(this.socket, result);
    if (chain === null) {
      this.d.stats.noFilterChainMatch.value++;
      this.socket.destroy();
      this.finish();
      return;
    }
    this.chain = chain;
    if (chain.tls === null) {
      this.handOver(this.socket);
      return;
    }
    if (chain.tlsTimeoutMs !== null)
      this.handshakeTimer = this.d.options.clock.setTimer(chain.tlsTimeoutMs, this.onHandshakeTimeout);
    try {
      this.tls = chain.tls.wrap(this.socket, this.d.stats.ssl, this);
    } catch (err) {
      // Runs outside the listener's accept (after inspection): nothing may escape.
      this.d.options.logger.error(
        `listener '${this.d.options.listenerName}': TLS setup failed: ${(err as Error).message}`,
      );
      this.forceClose();
      this.finish();
    }
  }

  onTlsReady(socket: TLSSocket): void {
    socket.on('error', ignoreError);
    this.handOver(socket);
  }

  onTlsFailed(): void {
    this.socket.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    this.handshakeTimer?.cancel();
    this.handshakeTimer = null;
    this.d.options.drain.delete(this);
  }

  private handOver(socket: Socket): void {
    this.finish();
    const filter = this.chain!.filter;
    if (!filter.managesDrain) {
      const drain = this.d.options.drain;
      const member: Drainable = { onDrain: () => {}, forceClose: () => socket.destroy() };
      drain.add(member);
      socket.once('close', () => drain.delete(member));
    }
    try {
      filter.handle(socket);
    } catch (err) {
      this.d.options.logger.error(
        `listener '${this.d.options.listenerName}': connection handler failed: ${(err as Error).stack ?? err}`,
      );
      socket.destroy();
    }
  }
}

export function createConnectionDispatcher(options: DispatcherOptions): NetworkFilterInstance & {
  contextUpdated(error: Error | null): void;
} {
  return new Dispatcher(options);
}
