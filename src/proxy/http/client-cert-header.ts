// x-forwarded-client-cert (XFCC): what the connection manager tells the upstream about the
// client certificate of an mTLS connection, after Envoy's `forward_client_cert_details`
// ("HTTP header manipulation → x-forwarded-client-cert"):
// - SANITIZE (the default): the header is removed, so a client can never forge it;
// - FORWARD_ONLY: forwarded as it came, on mTLS connections only (else removed);
// - APPEND_FORWARD: on mTLS connections this proxy's element is appended (`,`);
// - SANITIZE_SET: on mTLS connections it is replaced by this proxy's element;
// - ALWAYS_FORWARD_ONLY: forwarded as it came, always.
// An element is `;`-separated `key=value` pairs: `By` (each URI SAN of this proxy's
// certificate), `Hash` (SHA-256 of the client certificate), then, as
// `set_current_client_cert_details` asks, `Cert` and `Chain` (URL-encoded PEM, quoted),
// `Subject` (quoted), `URI` and `DNS` (each SAN of the client certificate). A mesh sidecar
// uses SANITIZE_SET with `uri` so its service learns the caller's SPIFFE ID.

import type { ForwardClientCert } from '../../config/model.js';
import type { ClientCertFacts, DownstreamTlsInfo } from '../tls/connection-info.js';
import { getHeaderJoined, type HeaderList, removeHeader } from './headers.js';

export const XFCC = 'x-forwarded-client-cert';

/** Whether the header, when present after applyClientCertHeader, is this proxy's doing. */
export function setsClientCertHeader(config: ForwardClientCert | undefined): boolean {
  return config !== undefined && (config.mode === 'SANITIZE_SET' || config.mode === 'APPEND_FORWARD');
}

/** Envoy's encoding of a PEM in XFCC: newline, space, `+`, `/` and `=` percent-encoded. */
export function urlEncodePem(pem: string): string {
  return pem.replace(/[\n +/=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** A quoted XFCC value: `"` and `\` escaped. */
function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** This proxy's XFCC element for a connection whose client presented `cert`. */
export function clientCertElement(
  localUriSans: readonly string[],
  cert: ClientCertFacts,
  details: ForwardClientCert,
): string {
  const parts: string[] = [];
  for (const uri of localUriSans) parts.push(`By=${uri}`);
  parts.push(`Hash=${cert.hash}`);
  if (details.cert) parts.push(`Cert=${quoted(urlEncodePem(cert.pem))}`);
  if (details.chain) parts.push(`Chain=${quoted(urlEncodePem(cert.chainPem))}`);
  if (details.subject) parts.push(`Subject=${quoted(cert.subject)}`);
  if (details.uri) for (const uri of cert.uriSans) parts.push(`URI=${uri}`);
  if (details.dns) for (const dns of cert.dnsSans) parts.push(`DNS=${dns}`);
  return parts.join(';');
}

/**
 * Applies `forward_client_cert_details` to a request's headers; `config` null = SANITIZE,
 * `tls` null = a plaintext connection.
 */
export function applyClientCertHeader(
  headers: HeaderList,
  config: ForwardClientCert | null,
  tls: DownstreamTlsInfo | null,
): void {
  const mode = config === null ? 'SANITIZE' : config.mode;
  if (mode === 'ALWAYS_FORWARD_ONLY') return;
  const cert = mode === 'SANITIZE' || tls === null ? null : tls.clientCert();
  if (cert === null) {
    removeHeader(headers, XFCC);
    return;
  }
  if (mode === 'FORWARD_ONLY') return;
  const element = clientCertElement(tls!.localUriSans, cert, config!);
  const previous = mode === 'APPEND_FORWARD' ? getHeaderJoined(headers, XFCC) : undefined;
  removeHeader(headers, XFCC);
  headers.push(XFCC, previous === undefined ? element : `${previous},${element}`);
}
