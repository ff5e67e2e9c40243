// Validation of the TLS transport socket (envoy.extensions.transport_sockets.tls.v3):
// `transport_socket: {name: envoy.transport_sockets.tls, typed_config: DownstreamTlsContext |
// UpstreamTlsContext}` on listener filter chains and clusters, with CommonTlsContext,
// TlsCertificate, CertificateValidationContext, TlsParameters and DataSource.
//
// Files named by `filename` are checked for readability here; they are read (and watched
// for changes) by the proxy at run time (src/proxy/tls/secret-source.ts). Whether a
// certificate and key belong together is checked when the proxy compiles the config.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { getCiphers } from 'node:tls';
import { type EnumSpec, type FieldReader, readMessage } from './fields.js';
import type {
  CertificateValidation,
  CommonTlsContext,
  DataSource,
  DownstreamTlsContext,
  SanMatcher,
  TlsCertificate,
  TlsParams,
  TlsVersion,
  UpstreamTlsContext,
} from './model.js';
import { readStringMatcher } from './validate-matchers.js';

export const TLS_TRANSPORT_SOCKET_NAME = 'envoy.transport_sockets.tls';
export const DOWNSTREAM_TLS_CONTEXT_TYPE =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const UPSTREAM_TLS_CONTEXT_TYPE =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

const TLS_VERSION: EnumSpec<TlsVersion> = {
  known: ['TLS_AUTO', 'TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'],
  // TLS 1.0 and 1.1 are deprecated (RFC 8996): Weft neither offers nor accepts them.
  supported: ['TLS_AUTO', 'TLSv1_2', 'TLSv1_3'],
};
const SAN_TYPE: EnumSpec<SanMatcher['sanType']> = {
  known: ['SAN_TYPE_UNSPECIFIED', 'EMAIL', 'DNS', 'URI', 'IP_ADDRESS', 'OTHER_NAME'],
  supported: ['DNS', 'URI', 'EMAIL', 'IP_ADDRESS'],
};
const ECDH_CURVES = new Set(['X25519', 'P-256', 'P-384', 'P-521']);

export type ReadFile = (path: string) => Buffer;

/** `transport_socket` of a listener filter chain: the TLS socket with a DownstreamTlsContext. */
export function readDownstreamTransportSocket(
  r: FieldReader,
  readFile: ReadFile = readFileSync,
): DownstreamTlsContext | null {
  const tc = readTransportSocketConfig(r, DOWNSTREAM_TLS_CONTEXT_TYPE);
  if (tc === null) return null;
  const common = readCommonTlsContext(tc.requiredMessage('common_tls_context'), readFile);
  const requireClientCertificate = tc.boolean('require_client_certificate', false);
  if (common.tlsCertificates.length === 0)
    tc.issue('common_tls_context.tls_certificates', 'a server needs a certificate; give one');
  if (requireClientCertificate && common.validationContext?.trustedCa == null) {
    tc.issue(
      'require_client_certificate',
      'needs common_tls_context.validation_context.trusted_ca to verify client certificates against',
    );
  }
  return { commonTlsContext: common, requireClientCertificate };
}

/** `transport_socket` of a cluster: the TLS socket with an UpstreamTlsContext. */
export function readUpstreamTransportSocket(
  r: FieldReader,
  readFile: ReadFile = readFileSync,
): UpstreamTlsContext | null {
  const tc = readTransportSocketConfig(r, UPSTREAM_TLS_CONTEXT_TYPE);
  if (tc === null) return null;
  const common = tc.message('common_tls_context');
  const commonTlsContext: CommonTlsContext =
    common === null
      ? { tlsCertificates: [], validationContext: null, tlsParams: readTlsParams(null), alpnProtocols: [] }
      : readCommonTlsContext(common, readFile);
  const sni = tc.string('sni') ?? '';
  if (sni !== '' && isIP(sni) !== 0)
    tc.issue('sni', 'must be a host name; RFC 6066 does not allow an IP address');
  if (tc.boolean('allow_renegotiation', false))
    tc.issue('allow_renegotiation', 'renegotiation is not supported (Node refuses it); remove it');
  if (commonTlsContext.tlsCertificates.length > 1)
    tc.issue(
      'common_tls_context.tls_certificates',
      'an upstream connection presents at most one certificate',
    );
  return { commonTlsContext, sni };
}

/** Reads `{name, typed_config}` and checks the name and @type; the typed_config reader, or null. */
function readTransportSocketConfig(r: FieldReader, expectedType: string): FieldReader | null {
  const name = r.string('name') ?? '';
  if (name !== '' && name !== TLS_TRANSPORT_SOCKET_NAME && name !== 'tls') {
    r.issue('name', `unsupported transport socket '${name}'; supported: ${TLS_TRANSPORT_SOCKET_NAME}`);
  }
  const tc = r.requiredMessage('typed_config');
  const typeUrl = tc.requiredString('@type');
  if (typeUrl !== '' && typeUrl !== expectedType) {
    tc.issue('@type', `unsupported transport socket config '${typeUrl}'; expected ${expectedType}`);
    tc.ignoreRest();
    return null;
  }
  return typeUrl === '' ? null : tc;
}

function readCommonTlsContext(r: FieldReader, readFile: ReadFile): CommonTlsContext {
  const certItems = r.list('tls_certificates');
  const tlsCertificates: TlsCertificate[] = [];
  for (let i = 0; i < certItems.length; i++) {
    const c = readMessage(certItems[i], `${r.at('tls_certificates')}[${i}]`, r.issues);
    const certificateChain = readDataSource(c, 'certificate_chain', readFile);
    const privateKey = readDataSource(c, 'private_key', readFile);
    c.done();
    if (certificateChain !== null && privateKey !== null)
      tlsCertificates.push({ certificateChain, privateKey });
  }
  const vc = r.message('validation_context');
  const validationContext = vc === null ? null : readValidationContext(vc, readFile);
  const tp = r.message('tls_params');
  const tlsParams = readTlsParams(tp);
  const alpnProtocols = r.stringList('alpn_protocols');
  for (let i = 0; i < alpnProtocols.length; i++) {
    const p = alpnProtocols[i];
    if (p === '' || Buffer.byteLength(p) > 255)
      r.issue(`alpn_protocols[${i}]`, 'must be 1 to 255 bytes (RFC 7301 §3.1)');
  }
  return { tlsCertificates, validationContext, tlsParams, alpnProtocols };
}

function readValidationContext(r: FieldReader, readFile: ReadFile): CertificateValidation {
  const trustedCa = r.has('trusted_ca') ? readDataSource(r, 'trusted_ca', readFile) : null;
  const items = r.list('match_typed_subject_alt_names');
  const matchTypedSubjectAltNames: SanMatcher[] = [];
  for (let i = 0; i < items.length; i++) {
    const m = readMessage(items[i], `${r.at('match_typed_subject_alt_names')}[${i}]`, r.issues);
    if (!m.has('san_type')) m.issue('san_type', 'is required (DNS, URI, EMAIL or IP_ADDRESS)');
    const sanType = m.enumeration('san_type', 'DNS', SAN_TYPE);
    const matcher = readStringMatcher(m.requiredMessage('matcher'));
    m.done();
    matchTypedSubjectAltNames.push({ sanType, matcher });
  }
  if (matchTypedSubjectAltNames.length > 0 && trustedCa === null) {
    r.issue(
      'match_typed_subject_alt_names',
      'needs trusted_ca: a SAN is only trusted on a verified certificate',
    );
  }
  return { trustedCa, matchTypedSubjectAltNames };
}

function readTlsParams(r: FieldReader | null): TlsParams {
  if (r === null) return { minVersion: 'TLS_AUTO', maxVersion: 'TLS_AUTO', cipherSuites: [], ecdhCurves: [] };
  const minVersion = r.enumeration('tls_minimum_protocol_version', 'TLS_AUTO', TLS_VERSION);
  const maxVersion = r.enumeration('tls_maximum_protocol_version', 'TLS_AUTO', TLS_VERSION);
  if (minVersion === 'TLSv1_3' && maxVersion === 'TLSv1_2') {
    r.issue('tls_minimum_protocol_version', 'is above tls_maximum_protocol_version');
  }
  // BoringSSL's equal-preference groups (`[A|B]`, as in Envoy's own default list) are taken
  // in order: OpenSSL has no equal preference.
  const given = r.stringList('cipher_suites');
  const cipherSuites: string[] = [];
  const at: number[] = [];
  given.forEach((c, i) => {
    for (const one of c.startsWith('[') && c.endsWith(']') ? c.slice(1, -1).split('|') : [c]) {
      cipherSuites.push(one);
      at.push(i);
    }
  });
  const known = new Set(getCiphers());
  for (let j = 0; j < cipherSuites.length; j++) {
    const c = cipherSuites[j];
    const i = at[j];
    if (c.startsWith('TLS_')) {
      r.issue(
        `cipher_suites[${i}]`,
        `'${c}' is a TLS 1.3 suite; as in Envoy, cipher_suites configure TLS 1.2 only`,
      );
    } else if (!known.has(c.toLowerCase())) {
      r.issue(
        `cipher_suites[${i}]`,
        `unknown cipher suite '${c}' (use OpenSSL/BoringSSL names, e.g. ECDHE-ECDSA-AES128-GCM-SHA256)`,
      );
    }
  }
  const ecdhCurves = r.stringList('ecdh_curves');
  for (let i = 0; i < ecdhCurves.length; i++) {
    if (!ECDH_CURVES.has(ecdhCurves[i]))
      r.issue(
        `ecdh_curves[${i}]`,
        `unsupported curve '${ecdhCurves[i]}'; supported: ${[...ECDH_CURVES].join(', ')}`,
      );
  }
  return { minVersion, maxVersion, cipherSuites, ecdhCurves };
}

/** `envoy.config.core.v3.DataSource`: `filename`, `inline_string` or `inline_bytes` (base64). */
function readDataSource(parent: FieldReader, name: string, readFile: ReadFile): DataSource | null {
  if (!parent.has(name)) {
    parent.issue(name, 'is required');
    return null;
  }
  const r = parent.message(name);
  if (r === null) return null;
  const kind = r.oneOf(
    ['filename', 'inline_string', 'inline_bytes'],
    'filename, inline_string, inline_bytes',
  );
  let out: DataSource | null = null;
  if (kind === 'filename') {
    const path = r.requiredString('filename');
    if (path !== '') {
      try {
        readFile(path);
        out = { kind: 'filename', path };
      } catch (err) {
        r.issue(
          'filename',
          `cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
    }
  } else if (kind === 'inline_string') {
    const v = r.requiredString('inline_string');
    if (v !== '') out = { kind: 'inline', value: Buffer.from(v) };
  } else if (kind === 'inline_bytes') {
    const v = r.requiredString('inline_bytes');
    if (v !== '') out = { kind: 'inline', value: Buffer.from(v, 'base64') };
  } else {
    r.issue(null, 'one of filename, inline_string, inline_bytes is required');
  }
  for (const k of ['filename', 'inline_string', 'inline_bytes']) r.ignore(k);
  return out;
}
