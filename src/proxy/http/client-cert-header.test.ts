// x-forwarded-client-cert without sockets: Envoy's PEM encoding, the element's order,
// every forward_client_cert_details mode, and RFC 2253 subjects.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ForwardClientCert } from '../../config/model.js';
import { type ClientCertFacts, type DownstreamTlsInfo, rfc2253 } from '../tls/connection-info.js';
import { applyClientCertHeader, clientCertElement, urlEncodePem } from './client-cert-header.js';

const CERT: ClientCertFacts = {
  hash: 'ab12',
  pem: '-----BEGIN CERTIFICATE-----\nMII+/a=\n-----END CERTIFICATE-----\n',
  chainPem: 'leaf\nca\n',
  subject: 'CN=web,O=Shop\\, Inc',
  uriSans: ['spiffe://t/ns/a/sa/web'],
  dnsSans: ['web.test', 'www.web.test'],
};

function tlsWith(cert: ClientCertFacts | null): DownstreamTlsInfo {
  return {
    version: 'TLSv1.3',
    peerUriSan: '',
    localUriSan: '',
    serverName: '',
    localUriSans: ['spiffe://t/ns/a/sa/api'],
    localSubject: 'CN=api',
    clientCert: () => cert,
  };
}

const ALL: ForwardClientCert = {
  mode: 'SANITIZE_SET',
  subject: true,
  cert: true,
  chain: true,
  dns: true,
  uri: true,
};

describe('x-forwarded-client-cert', () => {
  test("urlEncodePem encodes what Envoy encodes: newline, space, '+', '/', '='", () => {
    assert.equal(urlEncodePem('a b\n+/=-_'), 'a%20b%0A%2B%2F%3D-_');
  });

  test('the element: By, Hash, then Cert, Chain, Subject, URI, DNS', () => {
    assert.equal(
      clientCertElement(['spiffe://t/ns/a/sa/api'], CERT, ALL),
      'By=spiffe://t/ns/a/sa/api;Hash=ab12;' +
        'Cert="-----BEGIN%20CERTIFICATE-----%0AMII%2B%2Fa%3D%0A-----END%20CERTIFICATE-----%0A";' +
        'Chain="leaf%0Aca%0A";Subject="CN=web,O=Shop\\\\, Inc";URI=spiffe://t/ns/a/sa/web;DNS=web.test;DNS=www.web.test',
    );
    assert.equal(
      clientCertElement([], CERT, {
        ...ALL,
        subject: false,
        cert: false,
        chain: false,
        dns: false,
        uri: false,
      }),
      'Hash=ab12',
    );
  });

  test('the modes, on mTLS and plaintext connections', () => {
    const apply = (
      mode: ForwardClientCert['mode'] | null,
      tls: DownstreamTlsInfo | null,
      headers: string[],
    ) => {
      applyClientCertHeader(headers, mode === null ? null : { ...ALL, mode, cert: false, chain: false }, tls);
      return headers;
    };
    const forged = () => ['x-forwarded-client-cert', 'By=x', 'accept', '*/*'];
    const mine =
      'By=spiffe://t/ns/a/sa/api;Hash=ab12;Subject="CN=web,O=Shop\\\\, Inc";URI=spiffe://t/ns/a/sa/web;DNS=web.test;DNS=www.web.test';
    assert.deepEqual(apply(null, tlsWith(CERT), forged()), ['accept', '*/*'], 'SANITIZE by default');
    assert.deepEqual(apply('SANITIZE_SET', tlsWith(CERT), forged()), [
      'accept',
      '*/*',
      'x-forwarded-client-cert',
      mine,
    ]);
    assert.deepEqual(apply('APPEND_FORWARD', tlsWith(CERT), forged()), [
      'accept',
      '*/*',
      'x-forwarded-client-cert',
      `By=x,${mine}`,
    ]);
    assert.deepEqual(apply('FORWARD_ONLY', tlsWith(CERT), forged()), forged());
    for (const mode of ['SANITIZE_SET', 'APPEND_FORWARD', 'FORWARD_ONLY'] as const) {
      assert.deepEqual(
        apply(mode, tlsWith(null), forged()),
        ['accept', '*/*'],
        `${mode}: TLS without a client certificate`,
      );
      assert.deepEqual(apply(mode, null, forged()), ['accept', '*/*'], `${mode}: plaintext`);
    }
    assert.deepEqual(apply('ALWAYS_FORWARD_ONLY', null, forged()), forged());
  });

  test("rfc2253: Node's subject lines reversed, comma-separated, specials escaped", () => {
    assert.equal(rfc2253('C=US\nO=Shop, Inc\nCN=web'), 'CN=web,O=Shop\\, Inc,C=US');
    assert.equal(rfc2253('CN= lead+trail \nO=#1'), 'O=\\#1,CN=\\ lead\\+trail\\ ');
    assert.equal(rfc2253('CN=a"b<c>d;e\\f'), 'CN=a\\"b\\<c\\>d\\;e\\\\f');
  });
});
