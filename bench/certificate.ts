// The bench's TLS material: a throwaway self-signed certificate made with the openssl CLI
// (the HTTPS rows of `npm run bench`, and `npm run bench:ab -- --table https`).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** A self-signed certificate for 127.0.0.1 / localhost (EC P-256), written into `dir`. */
export function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const res = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { encoding: 'utf8' },
  );
  if (res.status !== 0) throw new Error(`openssl req failed: ${res.stderr || res.error?.message}`);
  return { cert, key };
}

/** Envoy's DownstreamTlsContext transport socket serving `tls` (HTTP/1.1 by ALPN). */
export function downstreamTlsSocket(tls: { cert: string; key: string }): Record<string, unknown> {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { filename: tls.cert }, private_key: { filename: tls.key } }],
        alpn_protocols: ['http/1.1'],
      },
    },
  };
}
