// TLS through the proxy with certificates made in the test (a CA, server and client
// certificates with DNS and SPIFFE URI SANs, an expired one, one from another CA, one with
// the wrong SAN): termination, mTLS with every rejection Envoy counts, TLS 1.0/1.1
// refused, SNI and tls_inspector filter chain selection (wildcards, TLS and plaintext on
// one port, no match), origination to TLS backends (mTLS, wrong CA, wrong SAN, tcp_proxy),
// curl over HTTPS, and certificate rotation without dropping connections.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpsServer,
  type Server as HttpsServer,
  request as httpsRequest,
} from 'node:https';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createServer as createTlsServer,
  type TLSSocket,
  type Server as TlsServer,
  connect as tlsConnect,
} from 'node:tls';
import { createTestCa, type Pem, type TestCa } from '../src/proxy/tls/testing/test-pki.js';
import {
  type Backend,
  bootstrap,
  fileAccessLog,
  HCM_TYPE,
  logLinesStartingWith,
  ROUTER_FILTER,
  type RunningProxy,
  request,
  startBackend,
  startProxy,
  staticCluster,
  TCP_PROXY_TYPE,
  tempDir,
  waitFor,
} from './support/harness.js';

const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const TLS_INSPECTOR = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
const CLIENT_ID = 'spiffe://weft.test/ns/default/sa/client';
const SERVER_ID = 'spiffe://weft.test/ns/default/sa/api';

interface Files {
  readonly cert: string;
  readonly key: string;
}

function writePem(dir: string, name: string, pem: Pem): Files {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, pem.cert);
  writeFileSync(key, pem.key);
  return { cert, key };
}

function hcm(name: string, routes: unknown[], extra: Record<string, unknown> = {}) {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': HCM_TYPE,
      stat_prefix: name,
      route_config: { name: `${name}_routes`, virtual_hosts: [{ name: 'all', domains: ['*'], routes }] },
      http_filters: [ROUTER_FILTER],
      ...extra,
    },
  };
}

const toCluster = (cluster: string) => [{ match: { prefix: '/' }, route: { cluster } }];
const answer = (body: string) => [
  { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } },
];

function downstreamTls(
  files: Files,
  extra: Record<string, unknown> = {},
  common: Record<string, unknown> = {},
) {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': DOWNSTREAM_TLS,
      common_tls_context: {
        tls_certificates: [
          { certificate_chain: { filename: files.cert }, private_key: { filename: files.key } },
        ],
        ...common,
      },
      ...extra,
    },
  };
}

function tlsAccessLog(path: string) {
  return {
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      path,
      log_format: {
        text_format_source: {
          inline_string:
            '%DOWNSTREAM_TLS_VERSION% %DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_LOCAL_URI_SAN% %REQUESTED_SERVER_NAME%\n',
        },
      },
    },
  };
}

function listener(name: string, chains: unknown[], extra: Record<string, unknown> = {}) {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: chains,
    ...extra,
  };
}

interface HttpsResult {
  status: number;
  body: string;
  peer: TLSSocket;
}

/** One HTTPS GET on a fresh connection. */
function httpsGet(
  port: number,
  opts: { servername: string; ca: string; cert?: string; key?: string; path?: string },
): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? '/',
        servername: opts.servername,
        headers: { host: opts.servername },
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            peer: res.socket as TLSSocket,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP/1.1 GET over an open TLS connection (kept open). */
function getOver(socket: TLSSocket, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString();
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = /content-length: (\d+)/i.exec(got);
      if (len !== null && got.length >= end + 4 + Number(len[1])) {
        socket.removeListener('data', onData);
        socket.removeListener('error', reject);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET / HTTP/1.1\r\nhost: ${host}\r\n\r\n`);
  });
}

function openTls(port: number, servername: string, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ port, host: '127.0.0.1', servername, ca }, () => resolve(s));
    s.once('error', reject);
  });
}

function counter(p: RunningProxy, name: string): number {
  return p.proxy.stats.allCounters().find((c) => c.name === name)?.value ?? 0;
}

describe('TLS', () => {
  let ca: TestCa;
  let otherCa: TestCa;
  let dir: string;
  let serverFiles: Files;
  let otherServerFiles: Files;
  let caFile: string;
  let otherCaFile: string;
  let client: Pem;
  let wrongSanClient: Pem;
  let expiredClient: Pem;
  let otherCaClient: Pem;
  let backend: Backend;
  let tlsBackend: HttpsServer;
  let tlsBackendPort: number;
  let tlsEcho: TlsServer;
  let tlsEchoPort: number;
  let proxy: RunningProxy;
  let rotateFiles: Files;
  let accessLogPath: string;
  let rotateLogPath: string;

  const ls = (name: string) => `listener.127.0.0.1_${proxy.port(name)}`;

  before(async () => {
    [ca, otherCa] = await Promise.all([createTestCa('Weft Test CA'), createTestCa('Other CA')]);
    dir = tempDir('weft-tls-');
    const server = await ca.issue({
      cn: 'api.example.com',
      dns: ['api.example.com', '*.wild.example.com'],
      uri: [SERVER_ID],
    });
    serverFiles = writePem(dir, 'server', server);
    otherServerFiles = writePem(dir, 'other', await ca.issue({ cn: 'other.test', dns: ['other.test'] }));
    caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, ca.cert);
    otherCaFile = join(dir, 'other-ca.crt');
    writeFileSync(otherCaFile, otherCa.cert);
    client = await ca.issue({ cn: 'client', uri: [CLIENT_ID] });
    wrongSanClient = await ca.issue({ cn: 'intruder', uri: ['spiffe://evil.test/ns/x/sa/y'] });
    const day = 86_400_000;
    expiredClient = await ca.issue({
      cn: 'old-client',
      uri: [CLIENT_ID],
      notBefore: new Date(Date.now() - 10 * day),
      notAfter: new Date(Date.now() - day),
    });
    otherCaClient = await otherCa.issue({ cn: 'client', uri: [CLIENT_ID] });
    accessLogPath = join(dir, 'access.log');
    const rotateDir = tempDir('weft-tls-rotate-');
    rotateLogPath = join(rotateDir, 'access.log');
    rotateFiles = writePem(
      rotateDir,
      'rotate',
      await ca.issue({ cn: 'rotate.test', dns: ['rotate.test'], uri: ['spiffe://rotate.test/v1'] }),
    );

    backend = await startBackend('app');
    // An HTTPS backend that requires a client certificate from the test CA and echoes its URI SAN.
    tlsBackend = createHttpsServer(
      { cert: server.cert, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerX509Certificate();
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`tls-backend peer=${peer?.subjectAltName ?? 'none'}`);
      },
    );
    await new Promise<void>((r) => tlsBackend.listen(0, '127.0.0.1', r));
    tlsBackendPort = (tlsBackend.address() as { port: number }).port;
    tlsEcho = createTlsServer({ cert: server.cert, key: server.key }, (s) => s.pipe(s));
    await new Promise<void>((r) => tlsEcho.listen(0, '127.0.0.1', r));
    tlsEchoPort = (tlsEcho.address() as { port: number }).port;

    const upstreamTls = (common: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: { '@type': UPSTREAM_TLS, common_tls_context: common, ...extra },
      },
    });
    const clientCertificate = writePem(dir, 'proxy-client', client);
    const originationCommon = {
      tls_certificates: [
        {
          certificate_chain: { filename: clientCertificate.cert },
          private_key: { filename: clientCertificate.key },
        },
      ],
      validation_context: {
        trusted_ca: { filename: caFile },
        match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: SERVER_ID } }],
      },
    };

    proxy = await startProxy(
      bootstrap(
        [
          listener('tls', [
            { filters: [hcm('tls', toCluster('app'))], transport_socket: downstreamTls(serverFiles) },
          ]),
          listener('mtls', [
            {
              filters: [hcm('mtls', answer('mtls-ok'), { access_log: [tlsAccessLog(accessLogPath)] })],
              transport_socket: downstreamTls(
                serverFiles,
                { require_client_certificate: true },
                {
                  validation_context: {
                    trusted_ca: { filename: caFile },
                    match_typed_subject_alt_names: [
                      { san_type: 'URI', matcher: { prefix: 'spiffe://weft.test/' } },
                    ],
                  },
                },
              ),
            },
          ]),
          listener(
            'sni',
            [
              {
                filter_chain_match: { server_names: ['api.example.com'] },
                filters: [hcm('sni_a', answer('chain-api'))],
                transport_socket: downstreamTls(serverFiles),
              },
              {
                filter_chain_match: { server_names: ['*.wild.example.com'] },
                filters: [hcm('sni_wild', answer('chain-wild'))],
                transport_socket: downstreamTls(serverFiles),
              },
              {
                filter_chain_match: { server_names: ['other.test'], transport_protocol: 'tls' },
                filters: [hcm('sni_other', answer('chain-other'))],
                transport_socket: downstreamTls(otherServerFiles),
              },
              {
                filter_chain_match: { transport_protocol: 'raw_buffer' },
                filters: [hcm('plain', answer('chain-plain'))],
              },
            ],
            {
              listener_filters: [
                { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TLS_INSPECTOR } },
              ],
            },
          ),
          listener('origin', [{ filters: [hcm('origin', toCluster('tls_backend'))] }]),
          listener('origin_wrong_ca', [{ filters: [hcm('origin_wrong_ca', toCluster('wrong_ca'))] }]),
          listener('origin_wrong_san', [{ filters: [hcm('origin_wrong_san', toCluster('wrong_san'))] }]),
          listener('tcp_tls', [
            {
              filters: [
                {
                  name: 'envoy.filters.network.tcp_proxy',
                  typed_config: { '@type': TCP_PROXY_TYPE, stat_prefix: 'tcp_tls', cluster: 'tls_echo' },
                },
              ],
            },
          ]),
          listener('tcp_tls_both', [
            {
              filters: [
                {
                  name: 'envoy.filters.network.tcp_proxy',
                  typed_config: { '@type': TCP_PROXY_TYPE, stat_prefix: 'tcp_tls_both', cluster: 'tls_echo' },
                },
              ],
              transport_socket: downstreamTls(serverFiles),
            },
          ]),
          listener(
            'passthrough',
            [
              {
                filter_chain_match: { server_names: ['api.example.com'] },
                filters: [
                  {
                    name: 'envoy.filters.network.tcp_proxy',
                    typed_config: {
                      '@type': TCP_PROXY_TYPE,
                      stat_prefix: 'passthrough',
                      cluster: 'tls_echo_raw',
                    },
                  },
                ],
              },
            ],
            {
              listener_filters: [
                { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TLS_INSPECTOR } },
              ],
            },
          ),
          listener('tls12', [
            {
              filters: [hcm('tls12', answer('tls12'))],
              transport_socket: downstreamTls(
                serverFiles,
                {},
                {
                  tls_params: {
                    tls_maximum_protocol_version: 'TLSv1_2',
                    cipher_suites: ['ECDHE-ECDSA-CHACHA20-POLY1305'],
                    ecdh_curves: ['P-256'],
                  },
                },
              ),
            },
          ]),
          listener('rotate', [
            {
              filters: [
                hcm('rotate', answer('rotated'), {
                  access_log: fileAccessLog(
                    rotateLogPath,
                    '%DOWNSTREAM_LOCAL_URI_SAN% %DOWNSTREAM_LOCAL_SUBJECT%\n',
                  ),
                }),
              ],
              transport_socket: downstreamTls(rotateFiles),
            },
          ]),
        ],
        [
          staticCluster('app', [backend.port]),
          staticCluster('tls_echo_raw', [tlsEchoPort]),
          staticCluster(
            'tls_backend',
            [tlsBackendPort],
            upstreamTls(originationCommon, { sni: 'api.example.com' }),
          ),
          staticCluster(
            'wrong_ca',
            [tlsBackendPort],
            upstreamTls({
              ...originationCommon,
              validation_context: { trusted_ca: { filename: otherCaFile } },
            }),
          ),
          staticCluster(
            'wrong_san',
            [tlsBackendPort],
            upstreamTls({
              ...originationCommon,
              validation_context: {
                trusted_ca: { filename: caFile },
                match_typed_subject_alt_names: [
                  { san_type: 'URI', matcher: { exact: 'spiffe://weft.test/other' } },
                ],
              },
            }),
          ),
          staticCluster(
            'tls_echo',
            [tlsEchoPort],
            upstreamTls(
              { validation_context: { trusted_ca: { filename: caFile } } },
              { sni: 'api.example.com' },
            ),
          ),
        ],
      ),
    );
  });

  after(async () => {
    await proxy?.close();
    await backend?.close();
    tlsBackend?.closeAllConnections();
    tlsBackend?.close();
    tlsEcho?.close();
  });

  it('terminates TLS and proxies to a plain backend', async () => {
    const r = await httpsGet(proxy.port('tls'), {
      servername: 'api.example.com',
      ca: ca.cert,
      path: '/hello',
    });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'app GET /hello\n');
    assert.match(
      r.peer.getPeerX509Certificate()?.subjectAltName ?? '',
      /URI:spiffe:\/\/weft\.test\/ns\/default\/sa\/api/,
    );
    assert.ok(counter(proxy, `${ls('tls')}.ssl.handshake`) >= 1);
  });

  it('serves curl over HTTPS', async () => {
    const port = proxy.port('tls');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        '/usr/bin/curl',
        [
          '-sS',
          '--cacert',
          caFile,
          '--resolve',
          `api.example.com:${port}:127.0.0.1`,
          `https://api.example.com:${port}/curl`,
        ],
        { timeout: 10_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)),
      ),
    );
    assert.equal(out, 'app GET /curl\n');
  });

  it('accepts a client certificate from the trusted CA with a matching SPIFFE ID (mTLS)', async () => {
    const r = await httpsGet(proxy.port('mtls'), { servername: 'api.example.com', ca: ca.cert, ...client });
    assert.equal(r.body, 'mtls-ok');
    // The access log has the TLS version, both SPIFFE IDs and the SNI.
    const line = `TLSv1.3 ${CLIENT_ID} ${SERVER_ID} api.example.com\n`;
    await waitFor(
      () => existsSync(accessLogPath) && readFileSync(accessLogPath, 'utf8').includes(line),
      'the access log line',
    );
  });

  async function rejected(opts: Partial<Pem>, stat: string): Promise<void> {
    const name = `${ls('mtls')}.ssl.${stat}`;
    const before = counter(proxy, name);
    await assert.rejects(
      httpsGet(proxy.port('mtls'), { servername: 'api.example.com', ca: ca.cert, ...opts }),
    );
    await waitFor(() => counter(proxy, name) === before + 1, name);
  }

  it('rejects a client without a certificate when one is required', () =>
    rejected({}, 'fail_verify_no_cert'));
  it('rejects a client certificate from another CA', () =>
    rejected({ cert: otherCaClient.cert, key: otherCaClient.key }, 'fail_verify_error'));
  it('rejects an expired client certificate', () =>
    rejected({ cert: expiredClient.cert, key: expiredClient.key }, 'fail_verify_error'));
  it('rejects a client certificate whose SAN matches nothing', () =>
    rejected({ cert: wrongSanClient.cert, key: wrongSanClient.key }, 'fail_verify_san'));

  it('refuses TLS 1.0 and 1.1', async () => {
    const name = `${ls('tls')}.ssl.connection_error`;
    for (const version of ['TLSv1', 'TLSv1.1'] as const) {
      const before = counter(proxy, name);
      const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
        const s = tlsConnect({
          port: proxy.port('tls'),
          host: '127.0.0.1',
          servername: 'api.example.com',
          ca: ca.cert,
          minVersion: version,
          maxVersion: version,
          ciphers: 'DEFAULT:@SECLEVEL=0',
        });
        s.once('secureConnect', () => reject(new Error(`${version} handshake succeeded`)));
        s.once('error', resolve);
      });
      // The proxy answered the ClientHello with a protocol_version alert, and counted it.
      assert.equal(err.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', version);
      await waitFor(() => counter(proxy, name) === before + 1, name);
      await waitFor(() => counter(proxy, name) > before, name);
    }
  });

  it('applies tls_params: maximum version, cipher suites and curves', async () => {
    const s = await openTls(proxy.port('tls12'), 'api.example.com', ca.cert);
    assert.equal(s.getProtocol(), 'TLSv1.2');
    assert.equal(s.getCipher().standardName, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256');
    assert.equal((s.getEphemeralKeyInfo() as { name?: string } | null)?.name, 'prime256v1');
    assert.match(await getOver(s, 'api.example.com'), /tls12$/);
    s.destroy();
  });

  it('chooses the filter chain by SNI: exact, wildcard, another certificate', async () => {
    const port = proxy.port('sni');
    const a = await httpsGet(port, { servername: 'api.example.com', ca: ca.cert });
    assert.equal(a.body, 'chain-api');
    const w = await httpsGet(port, { servername: 'x.wild.example.com', ca: ca.cert });
    assert.equal(w.body, 'chain-wild');
    const o = await httpsGet(port, { servername: 'other.test', ca: ca.cert });
    assert.equal(o.body, 'chain-other');
    assert.equal(o.peer.getPeerX509Certificate()?.subject, 'CN=other.test');
    assert.ok(counter(proxy, 'tls_inspector.sni_found') >= 3);
  });

  it('serves plaintext and TLS on one port (tls_inspector, transport_protocol)', async () => {
    const port = proxy.port('sni');
    const plain = await request(port, '/');
    assert.equal(plain.body, 'chain-plain');
    const tls = await httpsGet(port, { servername: 'api.example.com', ca: ca.cert });
    assert.equal(tls.body, 'chain-api');
    assert.ok(counter(proxy, 'tls_inspector.tls_not_found') >= 1);
  });

  it('passes TLS through by SNI to a TLS backend (tcp_proxy, no termination)', async () => {
    const s = await openTls(proxy.port('passthrough'), 'api.example.com', ca.cert);
    // The handshake was with the backend itself: its certificate, end to end.
    assert.match(s.getPeerX509Certificate()?.subjectAltName ?? '', /DNS:api\.example\.com/);
    const echoed = await new Promise<string>((resolve, reject) => {
      s.once('data', (d: Buffer) => resolve(d.toString()));
      s.once('error', reject);
      s.write('through');
    });
    assert.equal(echoed, 'through');
    assert.ok(counter(proxy, 'tcp.passthrough.downstream_cx_total') >= 1);
    s.destroy();
  });

  it('closes its side when a client goes away before finishing the handshake', async () => {
    // A client that half-closes with no ClientHello, and one with a partial ClientHello:
    // the proxy must close too, not hold the connection (and its fd) until a drain.
    const closedByProxy = (hello: Buffer | null) =>
      new Promise<void>((resolve, reject) => {
        const socket = netConnect({ port: proxy.port('tls'), host: '127.0.0.1', allowHalfOpen: true }, () => {
          if (hello !== null) socket.write(hello);
          socket.end();
        });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error('the proxy kept the connection open after the client closed'));
        }, 3000);
        socket.on('error', () => {});
        socket.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.resume();
      });
    await closedByProxy(null);
    await closedByProxy(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x50, 0x01, 0x00]));
  });

  it('closes a TLS connection that matches no filter chain', async () => {
    const name = `${ls('sni')}.no_filter_chain_match`;
    const before = counter(proxy, name);
    await assert.rejects(httpsGet(proxy.port('sni'), { servername: 'unknown.test', ca: ca.cert }));
    assert.equal(counter(proxy, name), before + 1);
  });

  it('originates TLS with a client certificate to a TLS backend (mTLS origination)', async () => {
    const r = await request(proxy.port('origin'), '/');
    assert.equal(r.status, 200);
    assert.equal(r.body, `tls-backend peer=URI:${CLIENT_ID}`);
    assert.ok(counter(proxy, 'cluster.tls_backend.ssl.handshake') >= 1);
  });

  it('fails upstream TLS to a server from an untrusted CA or with the wrong SAN', async () => {
    const ca503 = await request(proxy.port('origin_wrong_ca'), '/');
    assert.equal(ca503.status, 503);
    assert.ok(counter(proxy, 'cluster.wrong_ca.ssl.fail_verify_error') >= 1);
    const san503 = await request(proxy.port('origin_wrong_san'), '/');
    assert.equal(san503.status, 503);
    assert.ok(counter(proxy, 'cluster.wrong_san.ssl.fail_verify_san') >= 1);
  });

  it('relays tcp_proxy bytes over an upstream TLS connection', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const s = netConnect(proxy.port('tcp_tls'), '127.0.0.1');
      let data = '';
      s.on('data', (d: Buffer) => {
        data += d.toString();
        if (data.length >= 5) {
          s.destroy();
          resolve(data);
        }
      });
      s.on('error', reject);
      s.write('hello');
    });
    assert.equal(got, 'hello');
  });

  it('relays 1 MiB each way with TLS on both sides of a tcp_proxy, half-close included', async () => {
    const payload = Buffer.alloc(1024 * 1024, 'q');
    const got = await new Promise<Buffer>((resolve, reject) => {
      const s = tlsConnect(
        { port: proxy.port('tcp_tls_both'), host: '127.0.0.1', servername: 'api.example.com', ca: ca.cert },
        () => s.end(payload),
      );
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    });
    assert.equal(got.length, payload.length);
    assert.ok(got.equals(payload));
  });

  it('reloads rotated certificate files: new handshakes get the new certificate, open connections stay', async () => {
    const port = proxy.port('rotate');
    const old = await openTls(port, 'rotate.test', ca.cert);
    const oldSerial = old.getPeerX509Certificate()?.serialNumber;
    assert.match(await getOver(old, 'rotate.test'), /rotated$/);

    const next = await ca.issue({
      cn: 'rotate.test',
      dns: ['rotate.test'],
      uri: ['spiffe://rotate.test/v2'],
    });
    // Replaced the way a secret manager does: new files renamed over the old ones.
    writeFileSync(`${rotateFiles.cert}.new`, next.cert);
    writeFileSync(`${rotateFiles.key}.new`, next.key);
    renameSync(`${rotateFiles.key}.new`, rotateFiles.key);
    renameSync(`${rotateFiles.cert}.new`, rotateFiles.cert);
    const updates = `${ls('rotate')}.server_ssl_socket_factory.ssl_context_update_by_sds`;
    await waitFor(() => counter(proxy, updates) >= 1, updates);

    const fresh = await openTls(port, 'rotate.test', ca.cert);
    const newSerial = fresh.getPeerX509Certificate()?.serialNumber;
    assert.notEqual(newSerial, oldSerial);
    assert.match(await getOver(fresh, 'rotate.test'), /rotated$/);
    // The connection made before the rotation still works.
    assert.match(await getOver(old, 'rotate.test'), /rotated$/);
    assert.equal(old.destroyed, false, 'old connection still open');
    // The access log names the certificate each connection was served: the old one before
    // and on the connection made before the rotation, the new one on the fresh connection.
    const lines = await logLinesStartingWith(rotateLogPath, '', 3);
    assert.deepEqual(lines, [
      'spiffe://rotate.test/v1 CN=rotate.test',
      'spiffe://rotate.test/v2 CN=rotate.test',
      'spiffe://rotate.test/v1 CN=rotate.test',
    ]);
    old.destroy();
    fresh.destroy();
  });
});
