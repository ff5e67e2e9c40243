// Turning a CommonTlsContext and its current material into a node:tls SecureContext,
// with Envoy's defaults for protocol versions (TlsParameters: TLS 1.2 minimum on both
// sides; TLS 1.3 maximum for servers, TLS 1.2 for clients).
//
// cipher_suites configure TLS 1.2 suites only, as in Envoy (BoringSSL does not let TLS 1.3
// suites be chosen); Node takes both in one list, so its default TLS 1.3 suites are kept.

import { createSecureContext, DEFAULT_CIPHERS, type SecureContext, type SecureVersion } from 'node:tls';
import type { CommonTlsContext, TlsVersion } from '../../config/model.js';
import type { TlsMaterial } from './secret-source.js';

const TLS13_SUITES = DEFAULT_CIPHERS.split(':').filter((c) => c.startsWith('TLS_'));

function nodeVersion(v: TlsVersion, def: SecureVersion): SecureVersion {
  return v === 'TLSv1_2' ? 'TLSv1.2' : v === 'TLSv1_3' ? 'TLSv1.3' : def;
}

/** Builds the SecureContext; throws (with OpenSSL's message) when the material is unusable. */
export function buildSecureContext(
  ctx: CommonTlsContext,
  material: TlsMaterial,
  side: 'server' | 'client',
): SecureContext {
  const p = ctx.tlsParams;
  const options: Parameters<typeof createSecureContext>[0] = {
    minVersion: nodeVersion(p.minVersion, 'TLSv1.2'),
    maxVersion: nodeVersion(p.maxVersion, side === 'server' ? 'TLSv1.3' : 'TLSv1.2'),
  };
  if (material.certificates.length > 0) {
    options.cert = material.certificates.map((c) => c.certificateChain);
    options.key = material.certificates.map((c) => c.privateKey);
  }
  if (material.trustedCa !== null) options.ca = material.trustedCa;
  if (p.cipherSuites.length > 0) options.ciphers = [...TLS13_SUITES, ...p.cipherSuites].join(':');
  if (p.ecdhCurves.length > 0) options.ecdhCurve = p.ecdhCurves.join(':');
  return createSecureContext(options);
}
