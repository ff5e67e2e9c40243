// What the access log and headers need to know about a downstream TLS connection: the
// protocol version, the URI SANs of both certificates and the requested server name.
// Read once per connection from the TLSSocket (after the handshake); the client
// certificate's details for x-forwarded-client-cert (ClientCertFacts) only when asked,
// once per connection.

import { X509Certificate } from 'node:crypto';
import { type DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { subjectAltNames } from './san-matcher.js';

/** The client certificate of an mTLS connection, as x-forwarded-client-cert reports it. */
export interface ClientCertFacts {
  /** SHA-256 of the certificate (DER), lower-case hex. */
  readonly hash: string;
  /** The certificate, PEM. */
  readonly pem: string;
  /** The certificate chain as the client presented it, leaf first, PEM. */
  readonly chainPem: string;
  /** The subject, RFC 2253 (`CN=client,O=example`). */
  readonly subject: string;
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
}

export interface DownstreamTlsInfo {
  /** 'TLSv1.2' or 'TLSv1.3' (%DOWNSTREAM_TLS_VERSION%). */
  readonly version: string;
  /** The client certificate's URI SANs, comma-separated; '' when none (%DOWNSTREAM_PEER_URI_SAN%). */
  readonly peerUriSan: string;
  /** The server certificate's URI SANs (%DOWNSTREAM_LOCAL_URI_SAN%). */
  readonly localUriSan: string;
  /** The SNI the client sent, '' when none (%REQUESTED_SERVER_NAME%). */
  readonly serverName: string;
  /** The server certificate's URI SANs, one by one (x-forwarded-client-cert `By`). */
  readonly localUriSans: readonly string[];
  /** The server certificate's subject, RFC 2253 (%DOWNSTREAM_LOCAL_SUBJECT%); '' when none. */
  readonly localSubject: string;
  /** The client certificate's details; null when the client presented none. Read once. */
  clientCert(): ClientCertFacts | null;
}

function uriSans(text: string | undefined): string {
  let out = '';
  for (const san of subjectAltNames(text)) {
    if (san.type === 'URI') out = out === '' ? san.value : `${out},${san.value}`;
  }
  return out;
}

/** What the access log and headers read of the server's own certificate. */
export interface LocalCertFacts {
  readonly uriSan: string;
  readonly uriSans: readonly string[];
  readonly subject: string;
}

/** The facts of the server certificate `cert` (none when there is no certificate). */
export function localCertFacts(cert: X509Certificate | undefined): LocalCertFacts {
  return {
    uriSan: uriSans(cert?.subjectAltName),
    uriSans: sansOf(cert?.subjectAltName, 'URI'),
    subject: cert === undefined ? '' : rfc2253(cert.subject),
  };
}

const LOCAL_CERT_FACTS = Symbol('weft.localCertFacts');
type WithLocalCertFacts = TLSSocket & { [LOCAL_CERT_FACTS]?: LocalCertFacts };

/**
 * Tells downstreamTlsInfo the facts of the certificate `socket` serves, when its owner
 * knows them: reading them from the socket (`getX509Certificate`) costs ~140 µs per
 * connection, while a listener with one certificate serves the same one on every
 * connection (DownstreamTlsFactory reads it once per certificate load).
 */
export function setLocalCertFacts(socket: TLSSocket, facts: LocalCertFacts): void {
  (socket as WithLocalCertFacts)[LOCAL_CERT_FACTS] = facts;
}

/** The TLS facts of a downstream socket; null for plain TCP. */
export function downstreamTlsInfo(socket: object): DownstreamTlsInfo | null {
  if (!(socket instanceof TLSSocket)) return null;
  const servername = (socket as TLSSocket & { servername?: string | false }).servername;
  const local =
    (socket as WithLocalCertFacts)[LOCAL_CERT_FACTS] ?? localCertFacts(socket.getX509Certificate());
  let facts: ClientCertFacts | null | undefined;
  return {
    version: socket.getProtocol() ?? '',
    peerUriSan: uriSans(socket.getPeerX509Certificate()?.subjectAltName),
    localUriSan: local.uriSan,
    serverName: typeof servername === 'string' ? servername : '',
    localUriSans: local.uriSans,
    localSubject: local.subject,
    clientCert: () => {
      if (facts === undefined) facts = readClientCert(socket);
      return facts;
    },
  };
}

function sansOf(text: string | undefined, type: 'URI' | 'DNS'): string[] {
  return subjectAltNames(text)
    .filter((san) => san.type === type)
    .map((san) => san.value);
}

function readClientCert(socket: TLSSocket): ClientCertFacts | null {
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return null;
  return {
    hash: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
    pem: cert.toString(),
    chainPem: chainPem(socket.getPeerCertificate(true)),
    subject: rfc2253(cert.subject),
    uriSans: sansOf(cert.subjectAltName, 'URI'),
    dnsSans: sansOf(cert.subjectAltName, 'DNS'),
  };
}

/** The peer's chain, leaf first, as PEM (Node links each certificate to its issuer; a root links to itself). */
function chainPem(leaf: DetailedPeerCertificate): string {
  let out = '';
  const seen = new Set<DetailedPeerCertificate>();
  for (
    let c: DetailedPeerCertificate | undefined = leaf;
    c?.raw !== undefined && !seen.has(c);
    c = c.issuerCertificate
  ) {
    seen.add(c);
    out += new X509Certificate(c.raw).toString();
  }
  return out;
}

/**
 * A distinguished name as Node prints it (`C=US\nO=Example\nCN=client`, most significant
 * first) in RFC 2253 form: least significant first, comma-separated, special characters
 * escaped (what Envoy's XFCC Subject carries).
 */
export function rfc2253(nodeSubject: string): string {
  return nodeSubject
    .split('\n')
    .filter((rdn) => rdn !== '')
    .reverse()
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      if (eq < 0) return rdn;
      const value = rdn.slice(eq + 1).replace(/[,+"\\<>;]/g, (c) => `\\${c}`);
      return `${rdn.slice(0, eq)}=${value.replace(/^[ #]/, (c) => `\\${c}`).replace(/ $/, '\\ ')}`;
    })
    .join(',');
}
