// The envoy.filters.listener.tls_inspector listener filter: reads the first bytes of a new
// connection without consuming them, to learn whether it is TLS and, if so, the SNI and
// ALPN of its ClientHello (client-hello.ts); the bytes are then put back on the socket
// (unshift) for the chosen filter chain — the TLS handshake or a plain network filter.
//
// Bounded in bytes (64 KiB, Envoy's max_client_hello_size) and in time
// (listener_filters_timeout on the injected clock). A timeout closes the connection unless
// continue_on_listener_filters_timeout, which goes on as raw_buffer. Stats, as Envoy's:
// tls_inspector.{tls_found, tls_not_found, sni_found, sni_not_found, alpn_found,
// alpn_not_found, client_hello_too_large}.
//
// Reading uses the 'readable' event and read(), never 'data', so the socket's flowing
// state is left as it was: the next reader's 'data' listener starts the flow.

import type { Socket } from 'node:net';
import type { Clock, Timer } from '../../core/clock.js';
import type { Counter, StatsStore } from '../stats/store.js';
import { parseClientHello } from './client-hello.js';

export interface InspectionResult {
  readonly transportProtocol: 'tls' | 'raw_buffer';
  readonly serverName: string;
  readonly alpn: readonly string[];
}

export interface InspectionTarget {
  /** The connection goes on; its bytes are back in the socket's buffer. */
  onInspected(result: InspectionResult): void;
  /** The connection was closed (timeout, oversized ClientHello, EOF or error). */
  onInspectionFailed(reason: 'timeout' | 'too_large' | 'closed'): void;
}

export interface TlsInspectorOptions {
  readonly clock: Clock;
  /** null = no timeout. */
  readonly timeoutMs: number | null;
  readonly continueOnTimeout: boolean;
  readonly stats: TlsInspectorStats;
}

export interface TlsInspectorStats {
  readonly tlsFound: Counter;
  readonly tlsNotFound: Counter;
  readonly sniFound: Counter;
  readonly sniNotFound: Counter;
  readonly alpnFound: Counter;
  readonly alpnNotFound: Counter;
  readonly clientHelloTooLarge: Counter;
}

export function createTlsInspectorStats(store: StatsStore): TlsInspectorStats {
  const c = (n: string) => store.counter(`tls_inspector.${n}`);
  return {
    tlsFound: c('tls_found'),
    tlsNotFound: c('tls_not_found'),
    sniFound: c('sni_found'),
    sniNotFound: c('sni_not_found'),
    alpnFound: c('alpn_found'),
    alpnNotFound: c('alpn_not_found'),
    clientHelloTooLarge: c('client_hello_too_large'),
  };
}

const RAW: InspectionResult = { transportProtocol: 'raw_buffer', serverName: '', alpn: [] };

/** One connection's inspection; handlers are bound once per connection. */
class Inspection {
  private readonly chunks: Buffer[] = [];
  private timer: Timer | null = null;
  private done = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: TlsInspectorOptions,
    private readonly target: InspectionTarget,
  ) {}

  start(): void {
    const { socket, options } = this;
    socket.on('readable', this.onReadable);
    socket.on('end', this.onClosed);
    socket.on('close', this.onClosed);
    socket.on('error', this.onClosed);
    if (options.timeoutMs !== null) this.timer = options.clock.setTimer(options.timeoutMs, this.onTimeout);
  }

  private readonly onReadable = (): void => {
    for (let chunk = this.socket.read() as Buffer | null; chunk !== null; chunk = this.socket.read()) {
      this.chunks.push(chunk);
    }
    if (this.done || this.chunks.length === 0) return;
    const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const r = parseClientHello(data);
    const stats = this.options.stats;
    switch (r.kind) {
      case 'need_more':
        return;
      case 'not_tls':
        stats.tlsNotFound.value++;
        this.finish(RAW);
        return;
      case 'too_large':
        stats.clientHelloTooLarge.value++;
        this.fail('too_large');
        return;
      case 'client_hello':
        stats.tlsFound.value++;
        (r.serverName !== '' ? stats.sniFound : stats.sniNotFound).value++;
        (r.alpn.length > 0 ? stats.alpnFound : stats.alpnNotFound).value++;
        this.finish({ transportProtocol: 'tls', serverName: r.serverName, alpn: r.alpn });
    }
  };

  private readonly onTimeout = (): void => {
    this.timer = null;
    if (this.done) return;
    if (this.options.continueOnTimeout) this.finish(RAW);
    else this.fail('timeout');
  };

  private readonly onClosed = (): void => {
    if (!this.done) this.fail('closed');
  };

  private detach(): void {
    this.done = true;
    this.timer?.cancel();
    this.timer = null;
    const s = this.socket;
    s.removeListener('readable', this.onReadable);
    s.removeListener('end', this.onClosed);
    s.removeListener('close', this.onClosed);
    s.removeListener('error', this.onClosed);
  }

  private finish(result: InspectionResult): void {
    this.detach();
    const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    if (data.length > 0) this.socket.unshift(data);
    // On the next tick: removing the 'readable' listener resets the flowing state then,
    // and the next reader must see it reset.
    process.nextTick(() => this.target.onInspected(result));
  }

  private fail(reason: 'timeout' | 'too_large' | 'closed'): void {
    this.detach();
    this.socket.destroy();
    this.target.onInspectionFailed(reason);
  }
}

/** Inspects `socket`; the target hears the result once. */
export function inspectTls(socket: Socket, options: TlsInspectorOptions, target: InspectionTarget): void {
  new Inspection(socket, options, target).start();
}
