// TLS termination for one filter chain (DownstreamTlsContext): wraps an accepted socket in
// a server-side TLSSocket over the chain's current SecureContext, runs the handshake, then
// verifies the client certificate the way Envoy does and hands the TLSSocket on.
//
// The SecureContext is built once from the secret source and rebuilt when the source says
// its material changed; a rebuild that fails (a certificate that does not match its key
// mid-rotation) keeps the previous context. Established connections are not touched.
//
// Client certificates: with a validation_context the server asks for one; a missing one
// fails only with require_client_certificate (ssl.fail_verify_no_cert). A certificate that
// does not chain to trusted_ca (or is expired...) fails with ssl.fail_verify_error, one
// whose SANs match no match_typed_subject_alt_names entry with ssl.fail_verify_san. Node
// verifies the chain during the handshake; the verdict is read when it completes.

import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { DownstreamTlsContext } from '../../config/model.js';
import type { Counter } from '../stats/store.js';
import { type LocalCertFacts, localCertFacts, setLocalCertFacts } from './connection-info.js';
import { SanMatchers, subjectAltNames } from './san-matcher.js';
import type { SecretSource, TlsMaterial } from './secret-source.js';
import { buildSecureContext } from './secure-context.js';

/** `listener.<address>.ssl.*` counters (Envoy's names). */
export interface DownstreamTlsStats {
  readonly handshake: Counter;
  readonly connectionError: Counter;
  readonly noCertificate: Counter;
  readonly failVerifyNoCert: Counter;
  readonly failVerifyError: Counter;
  readonly failVerifySan: Counter;
}

/** Receives the outcome of one handshake (a method, so no closure per connection). */
export interface TlsHandshakeTarget {
  onTlsReady(socket: TLSSocket): void;
  onTlsFailed(): void;
}

interface VerifyHandle {
  verifyError?(): Error | null;
}

export class DownstreamTlsFactory {
  private context: SecureContext;
  /** The served certificate's facts for the access log, when there is one certificate (else read per connection). */
  private localFacts: LocalCertFacts | null;
  private readonly requestCert: boolean;
  private readonly requireCert: boolean;
  private readonly verifyChain: boolean;
  private readonly sans: SanMatchers;
  private readonly alpn: string[] | undefined;

  /** Throws when the source's current material cannot make a SecureContext. */
  constructor(
    private readonly config: DownstreamTlsContext,
    private readonly source: SecretSource,
    private readonly onContextUpdate: (error: Error | null) => void,
  ) {
    const common = config.commonTlsContext;
    const material = source.current();
    this.context = buildSecureContext(common, material, 'server');
    this.localFacts = singleCertFacts(material);
    this.requestCert = common.validationContext !== null;
    this.requireCert = config.requireClientCertificate;
    this.verifyChain = common.validationContext?.trustedCa != null;
    this.sans = new SanMatchers(common.validationContext?.matchTypedSubjectAltNames ?? []);
    this.alpn = common.alpnProtocols.length > 0 ? [...common.alpnProtocols] : undefined;
    source.subscribe(() => this.rebuild());
  }

  private rebuild(): void {
    try {
      const material = this.source.current();
      const context = buildSecureContext(this.config.commonTlsContext, material, 'server');
      const facts = singleCertFacts(material);
      this.context = context;
      this.localFacts = facts;
      this.onContextUpdate(null);
    } catch (err) {
      this.onContextUpdate(err as Error);
    }
  }

  /** Starts the handshake on `raw` (whose already-read bytes were put back with unshift). */
  wrap(raw: Socket, stats: DownstreamTlsStats, target: TlsHandshakeTarget): TLSSocket {
    const tls = new TLSSocket(raw, {
      isServer: true,
      secureContext: this.context,
      requestCert: this.requestCert,
      // Verified below, so each failure gets its own stat.
      rejectUnauthorized: false,
      ALPNProtocols: this.alpn,
    });
    if (this.localFacts !== null) setLocalCertFacts(tls, this.localFacts);
    // Per connection (not per request): the handshake's outcome handlers.
    let settled = false;
    const fail = (counter: Counter | null): void => {
      if (settled) return;
      settled = true;
      if (counter !== null) counter.value++;
      tls.destroy();
      target.onTlsFailed();
    };
    const onError = (): void => fail(stats.connectionError);
    // 'end' too: the listener's sockets allow half-open connections, so a client that
    // closes before finishing the handshake would otherwise leave this one open for good.
    const onClose = (): void => fail(null);
    tls.on('error', onError);
    tls.on('close', onClose);
    tls.on('end', onClose);
    tls.once('secure', () => {
      const failure = this.verify(tls, stats);
      if (failure !== null) {
        fail(failure);
        return;
      }
      settled = true;
      // Only ours: TLSSocket keeps its own 'close' listener (it frees the SSL state).
      tls.removeListener('error', onError);
      tls.removeListener('close', onClose);
      tls.removeListener('end', onClose);
      stats.handshake.value++;
      target.onTlsReady(tls);
    });
    return tls;
  }

  /** The failed check's counter, or null when the client passes. */
  private verify(tls: TLSSocket, stats: DownstreamTlsStats): Counter | null {
    if (!this.requestCert) return null;
    const cert = tls.getPeerX509Certificate();
    if (cert === undefined) {
      stats.noCertificate.value++;
      return this.requireCert ? stats.failVerifyNoCert : null;
    }
    if (this.verifyChain) {
      // Node's own verdict on the chain (what tls.Server reads into `authorized`); fail closed without it.
      const handle = (tls as unknown as { _handle: VerifyHandle | null })._handle;
      if (typeof handle?.verifyError !== 'function') return stats.failVerifyError;
      if (handle.verifyError() !== null) return stats.failVerifyError;
    }
    if (!this.sans.isEmpty && !this.sans.matches(subjectAltNames(cert.subjectAltName)))
      return stats.failVerifySan;
    return null;
  }
}

/** The facts of the one certificate `material` serves; null when it has several (the handshake picks one). */
function singleCertFacts(material: TlsMaterial): LocalCertFacts | null {
  if (material.certificates.length !== 1) return null;
  return localCertFacts(new X509Certificate(material.certificates[0].certificateChain));
}
