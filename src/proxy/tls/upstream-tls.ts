// The transport socket factory of a cluster: how its upstream connections are opened.
// Plain clusters open TCP connections (upstream/connect.ts, with the reused read buffer);
// clusters with an UpstreamTlsContext open TLS connections over a SecureContext built once
// per cluster and rebuilt when the certificate files change.
//
// `createConnection(port, address, options)` is the one entry point: the HTTP/1 pool and
// tcp_proxy use it, and an HTTP/2 session can too (net.Socket out; for TLS a TLSSocket
// whose `alpnProtocol` tells what was negotiated). ALPN offers common_tls_context's
// alpn_protocols when set, else what the caller's pool asks for (`alpnFallback`). A connection is ready on the event
// `readyEvent(socket)` names: 'secureConnect' for TLS, 'connect' for plain TCP.
//
// Verification follows Envoy: without validation_context.trusted_ca the server certificate
// is not verified; with it, the chain must verify and, when match_typed_subject_alt_names
// is given, some SAN must match (the host name is not compared to the SNI, as in Envoy
// without auto_sni_san_validation). Failures close the connection before it is ready, so
// pools count them as connect failures; they are counted in cluster.<name>.ssl.*.

import type { Socket } from 'node:net';
import {
  type ConnectionOptions,
  type PeerCertificate,
  type SecureContext,
  connect as tlsConnect,
} from 'node:tls';
import type { UpstreamTlsContext } from '../../config/model.js';
import { READ_LANE_UPSTREAM, readIntoReusedBuffer } from '../network/socket-read.js';
import type { StatsStore } from '../stats/store.js';
import { connectUpstream } from '../upstream/connect.js';
import { SanMatchers, subjectAltNames } from './san-matcher.js';
import { createFileSecretSource, type SecretSource } from './secret-source.js';
import { buildSecureContext } from './secure-context.js';

export interface UpstreamConnectOptions {
  /** tcp_proxy keeps half-closed connections; the HTTP/1 pool does not. */
  readonly allowHalfOpen: boolean;
  /**
   * Bytes go here through the shared reused buffer instead of 'data' events (for TLS,
   * the decrypted bytes; network/socket-read.ts). Only for connections that stay with
   * the caller: one whose ALPN result picks its pool later (auto_config) must not get it,
   * since the pool that adopts it reads it with 'data' events.
   */
  readonly onData?: (chunk: Buffer) => void;
  /**
   * TLS only: the ALPN protocols to offer when common_tls_context.alpn_protocols is empty,
   * as Envoy's pools supply them: `h2` for HTTP/2, `h2,http/1.1` for auto_config.
   */
  readonly alpnFallback?: string[];
}

export interface UpstreamTransportSocketFactory {
  /** 'tls' or 'raw_buffer'. */
  readonly kind: 'tls' | 'raw_buffer';
  /** Opens a connection; it is usable once `readyEvent(socket)` fires. Errors arrive as 'error'. */
  createConnection(port: number, address: string, options: UpstreamConnectOptions): Socket;
  /** Stops watching certificate files. */
  close(): void;
}

export const PLAIN_TRANSPORT_SOCKET: UpstreamTransportSocketFactory = {
  kind: 'raw_buffer',
  createConnection: (port, address, options) =>
    connectUpstream(port, address, options.allowHalfOpen, options.onData),
  close: () => {},
};

const SAN_MISMATCH = 'WEFT_TLS_SAN_MISMATCH';

class TlsTransportSocketFactory implements UpstreamTransportSocketFactory {
  readonly kind = 'tls' as const;
  private context: SecureContext;
  private readonly servername: string | undefined;
  private readonly alpn: string[] | undefined;
  private readonly verify: boolean;
  private readonly sans: SanMatchers;
  private readonly stats;
  private readonly checkServerIdentity = (_host: string, cert: PeerCertificate): Error | undefined => {
    if (this.sans.isEmpty) return undefined;
    const sans = subjectAltNames(cert.subjectaltname);
    if (this.sans.matches(sans)) return undefined;
    const err = new Error(
      `upstream certificate SANs (${cert.subjectaltname ?? 'none'}) match no match_typed_subject_alt_names entry`,
    );
    (err as NodeJS.ErrnoException).code = SAN_MISMATCH;
    return err;
  };

  constructor(
    private readonly config: UpstreamTlsContext,
    private readonly source: SecretSource,
    clusterName: string,
    store: StatsStore,
    private readonly onContextUpdate: (error: Error | null) => void,
  ) {
    const common = config.commonTlsContext;
    this.context = buildSecureContext(common, source.current(), 'client');
    this.servername = config.sni === '' ? undefined : config.sni;
    this.alpn = common.alpnProtocols.length > 0 ? [...common.alpnProtocols] : undefined;
    this.verify = common.validationContext?.trustedCa != null;
    this.sans = new SanMatchers(common.validationContext?.matchTypedSubjectAltNames ?? []);
    const c = (n: string) => store.counter(`cluster.${clusterName}.${n}`);
    this.stats = {
      handshake: c('ssl.handshake'),
      connectionError: c('ssl.connection_error'),
      failVerifyError: c('ssl.fail_verify_error'),
      failVerifySan: c('ssl.fail_verify_san'),
      contextUpdate: c('client_ssl_socket_factory.ssl_context_update_by_sds'),
    };
    source.subscribe(() => this.rebuild());
  }

  private rebuild(): void {
    try {
      this.context = buildSecureContext(this.config.commonTlsContext, this.source.current(), 'client');
      this.stats.contextUpdate.value++;
      this.onContextUpdate(null);
    } catch (err) {
      this.onContextUpdate(err as Error);
    }
  }

  createConnection(port: number, address: string, options: UpstreamConnectOptions): Socket {
    const tlsOptions: ConnectionOptions & { noDelay: boolean; allowHalfOpen: boolean } = {
      port,
      host: address,
      noDelay: true,
      allowHalfOpen: options.allowHalfOpen,
      secureContext: this.context,
      servername: this.servername,
      ALPNProtocols: this.alpn ?? options.alpnFallback,
      rejectUnauthorized: this.verify,
      checkServerIdentity: this.checkServerIdentity,
    };
    const socket = tlsConnect(tlsOptions);
    socket.setNoDelay(true);
    // Falls back to 'data' events (which the caller also listens to) when it cannot.
    if (options.onData !== undefined) readIntoReusedBuffer(socket, READ_LANE_UPSTREAM, options.onData);
    // Per connection, not per request: which failure ended the handshake.
    let secured = false;
    socket.once('secureConnect', () => {
      secured = true;
      this.stats.handshake.value++;
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (secured) return;
      if (err.code === SAN_MISMATCH) this.stats.failVerifySan.value++;
      else if (isVerifyError(err)) this.stats.failVerifyError.value++;
      else this.stats.connectionError.value++;
    });
    return socket;
  }

  close(): void {
    this.source.close();
  }
}

/** OpenSSL X509 verification failures as Node reports them (e.g. CERT_HAS_EXPIRED). */
function isVerifyError(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? '';
  return (
    code.startsWith('CERT_') ||
    code.includes('SELF_SIGNED') ||
    code.startsWith('UNABLE_TO_') ||
    code === 'ERR_TLS_CERT_ALTNAME_INVALID' ||
    code.includes('_SIGNATURE')
  );
}

/** The TLS factory of a cluster; throws when the material cannot make a SecureContext. */
export function createTlsTransportSocketFactory(
  config: UpstreamTlsContext,
  source: SecretSource,
  clusterName: string,
  store: StatsStore,
  onContextUpdate: (error: Error | null) => void,
): UpstreamTransportSocketFactory {
  return new TlsTransportSocketFactory(config, source, clusterName, store, onContextUpdate);
}

/**
 * The transport socket factory for a cluster's config: TLS over a file-watching secret
 * source when it has a transport_socket, else plain TCP. Throws when the certificate
 * material cannot be read or used (the proxy checks this when it compiles a config).
 */
export function createClusterTransportSocket(
  clusterName: string,
  config: UpstreamTlsContext | undefined,
  store: StatsStore,
): UpstreamTransportSocketFactory {
  if (config === undefined) return PLAIN_TRANSPORT_SOCKET;
  const failed = store.counter(`cluster.${clusterName}.client_ssl_socket_factory.ssl_context_update_failed`);
  const source = createFileSecretSource(config.commonTlsContext, () => failed.value++);
  try {
    return createTlsTransportSocketFactory(config, source, clusterName, store, (err) => {
      if (err !== null) failed.value++;
    });
  } catch (err) {
    source.close();
    throw err;
  }
}
