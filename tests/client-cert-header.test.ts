// x-forwarded-client-cert through `weft proxy` over real mTLS: SANITIZE_SET with every
// detail (the upstream learns the caller's SPIFFE ID, subject, certificate and chain),
// APPEND_FORWARD after a previous proxy's element, FORWARD_ONLY and a forged header on a
// plaintext listener, removed by default (SANITIZE) and kept by ALWAYS_FORWARD_ONLY.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestCa, type Pem } from '../src/proxy/tls/testing/test-pki.js';
import {
  type Backend,
  bootstrap,
  fileAccessLog,
  httpListener,
  logLinesStartingWith,
  type RunningProxy,
  request,
  startBackend,
  startProxy,
  staticCluster,
  tempDir,
} from './support/harness.js';

const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const CLIENT_ID = 'spiffe://weft.test/ns/shop/sa/web';
const SERVER_ID = 'spiffe://weft.test/ns/shop/sa/api';

/** An HTTPS GET with a client certificate; resolves with the status. */
function mtlsGet(
  port: number,
  ca: string,
  client: Pem,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: 'api.test',
        ca,
        cert: client.cert,
        key: client.key,
        headers,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('x-forwarded-client-cert', () => {
  let app: Backend;
  let proxy: RunningProxy;
  let caPem: string;
  let client: Pem;
  let clientCert: X509Certificate;
  let logFile: string;

  before(async () => {
    const ca = await createTestCa('Weft XFCC CA');
    caPem = ca.cert;
    const server = await ca.issue({ cn: 'api.test', dns: ['api.test'], uri: [SERVER_ID] });
    client = await ca.issue({ cn: 'web.shop', uri: [CLIENT_ID], dns: ['web.shop.test'] });
    clientCert = new X509Certificate(client.cert);
    const dir = tempDir('weft-xfcc-');
    logFile = join(dir, 'access.log');
    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const tls = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': DOWNSTREAM_TLS,
        require_client_certificate: true,
        common_tls_context: {
          tls_certificates: [
            {
              certificate_chain: { filename: file('server.crt', server.cert) },
              private_key: { filename: file('server.key', server.key) },
            },
          ],
          validation_context: { trusted_ca: { filename: file('ca.crt', ca.cert) } },
        },
      },
    };
    const vhosts = [
      { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
    ];
    const mtls = (name: string, forward: Record<string, unknown>) => {
      const l = httpListener(name, vhosts, forward);
      (l.filter_chains[0] as Record<string, unknown>).transport_socket = tls;
      return l;
    };
    app = await startBackend('app');
    proxy = await startProxy(
      bootstrap(
        [
          mtls('set', {
            forward_client_cert_details: 'SANITIZE_SET',
            set_current_client_cert_details: { subject: true, cert: true, chain: true, uri: true, dns: true },
          }),
          mtls('logged', {
            access_log: fileAccessLog(
              logFile,
              '%DOWNSTREAM_PEER_FINGERPRINT_256% %DOWNSTREAM_PEER_SUBJECT% %DOWNSTREAM_LOCAL_SUBJECT% %DOWNSTREAM_PEER_CERT%\n',
            ),
          }),
          mtls('append', {
            forward_client_cert_details: 'APPEND_FORWARD',
            set_current_client_cert_details: { uri: true },
          }),
          mtls('forward', { forward_client_cert_details: 'FORWARD_ONLY' }),
          httpListener('plain', vhosts),
          httpListener('plain-forward', vhosts, { forward_client_cert_details: 'FORWARD_ONLY' }),
          httpListener('always', vhosts, { forward_client_cert_details: 'ALWAYS_FORWARD_ONLY' }),
        ],
        [staticCluster('app', [app.port])],
      ),
    );
  });

  after(async () => {
    await proxy.close();
    await app.close();
  });

  const seenXfcc = () => app.seen.at(-1)!.headers['x-forwarded-client-cert'];
  const FORGED = 'By=spiffe://evil/x;Hash=00;URI=spiffe://weft.test/ns/shop/sa/admin';

  it('SANITIZE_SET: replaces a forged value with By, Hash, Cert, Chain, Subject, URI and DNS', async () => {
    assert.equal(await mtlsGet(proxy.port('set'), caPem, client, { 'x-forwarded-client-cert': FORGED }), 200);
    const xfcc = String(seenXfcc());
    const parts = xfcc.split(';');
    assert.equal(parts[0], `By=${SERVER_ID}`);
    assert.equal(parts[1], `Hash=${clientCert.fingerprint256.replaceAll(':', '').toLowerCase()}`);
    const cert = /^Cert="(.*)"$/.exec(parts[2])?.[1];
    assert.equal(decodeURIComponent(cert ?? ''), clientCert.toString(), 'Cert is the URL-encoded PEM');
    assert.match(parts[2], /^Cert="-----BEGIN%20CERTIFICATE-----%0A/);
    assert.match(parts[3], /^Chain="-----BEGIN%20CERTIFICATE-----%0A/);
    assert.ok(
      decodeURIComponent(parts[3]).includes(clientCert.toString().trim()),
      'the chain starts at the leaf',
    );
    assert.equal(parts[4], 'Subject="CN=web.shop"');
    assert.deepEqual(parts.slice(5), [`URI=${CLIENT_ID}`, 'DNS=web.shop.test']);
    assert.ok(!xfcc.includes('evil'), 'the forged element is gone');
  });

  it('APPEND_FORWARD: appends this proxy element after the previous ones', async () => {
    assert.equal(
      await mtlsGet(proxy.port('append'), caPem, client, {
        'x-forwarded-client-cert': 'By=spiffe://front;Hash=ab',
      }),
      200,
    );
    const hash = clientCert.fingerprint256.replaceAll(':', '').toLowerCase();
    assert.equal(seenXfcc(), `By=spiffe://front;Hash=ab,By=${SERVER_ID};Hash=${hash};URI=${CLIENT_ID}`);
  });

  it('FORWARD_ONLY forwards what came on mTLS, and removes it on plaintext', async () => {
    await mtlsGet(proxy.port('forward'), caPem, client, {
      'x-forwarded-client-cert': 'By=spiffe://front;Hash=ab',
    });
    assert.equal(seenXfcc(), 'By=spiffe://front;Hash=ab');
    await request(proxy.port('plain-forward'), '/', { headers: { 'x-forwarded-client-cert': FORGED } });
    assert.equal(seenXfcc(), undefined);
  });

  it('SANITIZE by default: a client cannot forge it; ALWAYS_FORWARD_ONLY keeps it', async () => {
    await request(proxy.port('plain'), '/', { headers: { 'x-forwarded-client-cert': FORGED } });
    assert.equal(seenXfcc(), undefined);
    await request(proxy.port('always'), '/', { headers: { 'x-forwarded-client-cert': FORGED } });
    assert.equal(seenXfcc(), FORGED);
  });

  it('a Connection header cannot remove the value the proxy set', async () => {
    await mtlsGet(proxy.port('append'), caPem, client, { connection: 'keep-alive, x-forwarded-client-cert' });
    assert.match(String(seenXfcc()), new RegExp(`^By=${SERVER_ID};Hash=[0-9a-f]{64};URI=`));
  });

  it('the access log prints the client certificate: fingerprint, subjects, URL-encoded PEM', async () => {
    assert.equal(await mtlsGet(proxy.port('logged'), caPem, client), 200);
    const hash = clientCert.fingerprint256.replaceAll(':', '').toLowerCase();
    const [line] = await logLinesStartingWith(logFile, hash, 1);
    const [, subject, local, pem] = line.split(' ');
    assert.equal(subject, 'CN=web.shop');
    assert.equal(local, 'CN=api.test');
    assert.equal(decodeURIComponent(pem), clientCert.toString());
  });
});
