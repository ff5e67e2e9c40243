// The trusted client address through `weft proxy` and real sockets: x-forwarded-for with
// use_remote_address, xff_num_trusted_hops and skip_xff_append; x-envoy-internal (and a
// route that only internal requests reach); x-envoy-external-address and the removal of
// router-control headers on external requests; x-request-id on edge requests;
// original_ip_detection_extensions (a custom header behind an L4 balancer, and the refusal
// of a request without it); and %DOWNSTREAM_REMOTE_ADDRESS% against
// %DOWNSTREAM_DIRECT_REMOTE_ADDRESS%.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Backend,
  bootstrap,
  httpListener,
  type RunningProxy,
  request,
  startBackend,
  startProxy,
  staticCluster,
  tempDir,
  waitFor,
} from './support/harness.js';

function realIpDetection(options: Record<string, unknown>) {
  return {
    name: 'envoy.http.original_ip_detection.custom_header',
    typed_config: {
      '@type':
        'type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig',
      header_name: 'x-real-ip',
      ...options,
    },
  };
}

describe('x-forwarded-for and the trusted client address', () => {
  let app: Backend;
  let internalOnly: Backend;
  let proxy: RunningProxy;
  let logPath: string;

  before(async () => {
    app = await startBackend('app');
    internalOnly = await startBackend('internal-only');
    logPath = join(tempDir(), 'access.log');
    const routes = [
      {
        name: 'internal',
        match: { prefix: '/', headers: [{ name: 'x-envoy-internal', string_match: { exact: 'true' } }] },
        route: { cluster: 'internal-only' },
      },
      { name: 'app', match: { prefix: '/' }, route: { cluster: 'app' } },
    ];
    const vhosts = [{ name: 'all', domains: ['*'], routes }];
    const accessLog = [
      {
        name: 'file',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
          path: logPath,
          log_format: {
            json_format: {
              path: '%REQ(:PATH)%',
              remote: '%DOWNSTREAM_REMOTE_ADDRESS%',
              direct: '%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%',
            },
          },
        },
      },
    ];
    const config = bootstrap(
      [
        httpListener('edge', vhosts, { use_remote_address: true, access_log: accessLog }),
        httpListener('edge-behind-lb', vhosts, {
          use_remote_address: true,
          xff_num_trusted_hops: 2,
          access_log: accessLog,
        }),
        httpListener('sidecar', vhosts, { access_log: accessLog }),
        httpListener('edge-no-append', vhosts, { use_remote_address: true, skip_xff_append: true }),
        httpListener('via', vhosts, { via: '1.1 weft-edge' }),
        httpListener('edge-internal-only', vhosts, {
          use_remote_address: true,
          route_config: { name: 'r', virtual_hosts: vhosts, internal_only_headers: ['X-Internal-Token'] },
        }),
        // Behind an L4 balancer that puts the client in x-real-ip.
        httpListener('real-ip', vhosts, {
          access_log: accessLog,
          original_ip_detection_extensions: [
            realIpDetection({ allow_extension_to_set_address_as_trusted: true }),
          ],
        }),
        httpListener('real-ip-required', vhosts, {
          original_ip_detection_extensions: [realIpDetection({ reject_with_status: { code: 'Forbidden' } })],
        }),
        // Only the CGNAT range is internal here: a loopback client is outside.
        httpListener('edge-cgnat', vhosts, {
          use_remote_address: true,
          internal_address_config: { cidr_ranges: [{ address_prefix: '100.64.0.0', prefix_len: 10 }] },
        }),
      ],
      [staticCluster('app', [app.port]), staticCluster('internal-only', [internalOnly.port])],
    );
    proxy = await startProxy(config);
  });

  after(async () => {
    await proxy.close();
    await app.close();
    await internalOnly.close();
  });

  async function logFor(path: string): Promise<{ remote: string; direct: string }> {
    let entry: { path: string; remote: string; direct: string } | undefined;
    await waitFor(() => {
      const lines = readFileSync(logPath, 'utf8').trim().split('\n').filter(Boolean);
      entry = lines.map((l) => JSON.parse(l)).find((e) => e.path === path);
      return entry !== undefined;
    }, `access log line for ${path}`);
    return entry!;
  }

  it('edge: a client with XFF is external: XFF appended, control headers removed, new request id', async () => {
    const res = await request(proxy.port('edge'), '/edge-xff', {
      headers: {
        'x-forwarded-for': '203.0.113.1',
        'x-envoy-internal': 'true',
        'x-envoy-retry-on': '5xx',
        'x-envoy-upstream-rq-timeout-ms': '1',
        'x-envoy-external-address': '198.51.100.9',
        'x-request-id': 'client-chosen',
      },
    });
    assert.equal(res.status, 200);
    assert.equal(
      res.body,
      'app GET /edge-xff\n',
      'a forged x-envoy-internal must not reach the internal route',
    );
    const seen = app.seen.at(-1)!.headers;
    assert.equal(seen['x-forwarded-for'], '203.0.113.1, 127.0.0.1');
    assert.equal(seen['x-envoy-internal'], undefined);
    assert.equal(seen['x-envoy-retry-on'], undefined);
    assert.equal(seen['x-envoy-upstream-rq-timeout-ms'], undefined);
    assert.equal(seen['x-envoy-external-address'], '127.0.0.1');
    assert.notEqual(seen['x-request-id'], 'client-chosen');
    assert.match(String(seen['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal((await logFor('/edge-xff')).remote.startsWith('127.0.0.1:'), true);
  });

  it('edge: a loopback client without XFF is internal and keeps its request id', async () => {
    const res = await request(proxy.port('edge'), '/edge-plain', { headers: { 'x-request-id': 'kept' } });
    assert.equal(res.body, 'internal-only GET /edge-plain\n');
    const seen = internalOnly.seen.at(-1)!.headers;
    assert.equal(seen['x-envoy-internal'], 'true');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-envoy-external-address'], undefined);
    assert.equal(seen['x-request-id'], 'kept');
  });

  it('edge: x-envoy-internal survives a Connection header that nominates it', async () => {
    const res = await request(proxy.port('edge'), '/edge-nominated', {
      headers: { connection: 'keep-alive, x-envoy-internal' },
    });
    assert.equal(res.body, 'internal-only GET /edge-nominated\n');
    assert.equal(internalOnly.seen.at(-1)!.headers['x-envoy-internal'], 'true');
  });

  it('x-request-id survives a Connection header that nominates it', async () => {
    await request(proxy.port('edge'), '/edge-nominated-id', {
      headers: { 'x-forwarded-for': '203.0.113.1', 'x-request-id': 'forged', connection: 'x-request-id' },
    });
    const seen = app.seen.at(-1)!.headers;
    assert.match(
      String(seen['x-request-id']),
      /^[0-9a-f-]{36}$/,
      'the id Weft generated still goes upstream',
    );
    await request(proxy.port('edge'), '/edge-nominated-kept', {
      headers: { 'x-request-id': 'kept', connection: 'keep-alive, X-Request-Id' },
    });
    assert.equal(internalOnly.seen.at(-1)!.headers['x-request-id'], 'kept');
  });

  it('edge behind two trusted proxies: the 2nd address from the right is the client', async () => {
    await request(proxy.port('edge-behind-lb'), '/behind-lb', {
      headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.10, 203.0.113.1', 'x-forwarded-proto': 'https' },
    });
    const seen = app.seen.at(-1)!.headers;
    assert.equal(seen['x-envoy-external-address'], '203.0.113.10');
    assert.equal(seen['x-forwarded-for'], '198.51.100.7, 203.0.113.10, 203.0.113.1, 127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'https', 'x-forwarded-proto from trusted hops is kept');
    const log = await logFor('/behind-lb');
    assert.equal(log.remote, '203.0.113.10:0');
    assert.equal(log.direct, '127.0.0.1');
  });

  it('edge: without trusted hops a client x-forwarded-proto is overwritten', async () => {
    await request(proxy.port('edge'), '/xfp', { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(internalOnly.seen.at(-1)!.headers['x-forwarded-proto'], 'http');
  });

  it('sidecar: XFF is forwarded as is; one internal address in it makes the request internal', async () => {
    const res = await request(proxy.port('sidecar'), '/sidecar-internal', {
      headers: { 'x-forwarded-for': '10.1.2.3' },
    });
    assert.equal(res.body, 'internal-only GET /sidecar-internal\n');
    const seen = internalOnly.seen.at(-1)!.headers;
    assert.equal(seen['x-forwarded-for'], '10.1.2.3');
    assert.equal(seen['x-envoy-internal'], 'true');
    assert.equal((await logFor('/sidecar-internal')).remote, '10.1.2.3:0');
  });

  it('sidecar: an external XFF address, or none, is external', async () => {
    await request(proxy.port('sidecar'), '/sidecar-external', {
      headers: { 'x-forwarded-for': '192.0.2.5', 'x-envoy-internal': 'true', 'x-request-id': 'kept' },
    });
    const seen = app.seen.at(-1)!.headers;
    assert.equal(seen['x-envoy-internal'], undefined);
    assert.equal(seen['x-request-id'], 'kept', 'not an edge request: the id is kept');
    assert.equal(seen['x-envoy-external-address'], undefined);
    const res = await request(proxy.port('sidecar'), '/sidecar-none');
    assert.equal(res.body, 'app GET /sidecar-none\n');
  });

  it('internal_address_config decides what is internal: loopback outside the ranges is external', async () => {
    const res = await request(proxy.port('edge-cgnat'), '/cgnat', {
      headers: { 'x-envoy-internal': 'true' },
    });
    assert.equal(res.body, 'app GET /cgnat\n');
    const seen = app.seen.at(-1)!.headers;
    assert.equal(seen['x-envoy-internal'], undefined);
    assert.equal(seen['x-envoy-external-address'], '127.0.0.1');
  });

  it('skip_xff_append leaves XFF alone on an edge proxy', async () => {
    await request(proxy.port('edge-no-append'), '/no-append', {
      headers: { 'x-forwarded-for': '203.0.113.1' },
    });
    assert.equal(app.seen.at(-1)!.headers['x-forwarded-for'], '203.0.113.1');
  });

  it('original_ip_detection custom_header: x-real-ip is the client, and may make the request internal', async () => {
    await request(proxy.port('real-ip'), '/real-ip-internal', {
      headers: { 'x-real-ip': '10.20.30.40', 'x-forwarded-for': '203.0.113.1', 'x-envoy-retry-on': '5xx' },
    });
    const seen = internalOnly.seen.at(-1)!.headers;
    assert.equal(seen['x-envoy-internal'], 'true');
    assert.equal(seen['x-envoy-retry-on'], '5xx', 'internal: router headers are kept');
    assert.equal(seen['x-forwarded-for'], '203.0.113.1', 'XFF untouched without use_remote_address');
    const log = await logFor('/real-ip-internal');
    assert.equal(log.remote, '10.20.30.40:0');
    assert.equal(log.direct, '127.0.0.1');

    await request(proxy.port('real-ip'), '/real-ip-external', {
      headers: { 'x-real-ip': '198.51.100.23', 'x-envoy-retry-on': '5xx', 'x-envoy-internal': 'true' },
    });
    const outside = app.seen.at(-1)!.headers;
    assert.equal(outside['x-envoy-internal'], undefined);
    assert.equal(outside['x-envoy-retry-on'], undefined, 'external: router headers removed');
    assert.equal((await logFor('/real-ip-external')).remote, '198.51.100.23:0');

    await request(proxy.port('real-ip'), '/real-ip-missing', { headers: { 'x-real-ip': 'not-an-ip' } });
    assert.equal(
      (await logFor('/real-ip-missing')).remote.startsWith('127.0.0.1:'),
      true,
      'falls back to the peer',
    );
  });

  it('original_ip_detection reject_with_status: a request without the header is refused, never forwarded', async () => {
    const before = app.seen.length + internalOnly.seen.length;
    const refused = await request(proxy.port('real-ip-required'), '/no-real-ip');
    assert.equal(refused.status, 403);
    assert.equal(refused.body, '');
    assert.equal(app.seen.length + internalOnly.seen.length, before);
    const ok = await request(proxy.port('real-ip-required'), '/with-real-ip', {
      headers: { 'x-real-ip': '2001:db8::7' },
    });
    assert.equal(ok.status, 200);
    assert.equal(app.seen.at(-1)!.headers['x-envoy-internal'], undefined, 'not trusted: external');
  });

  it('internal_only_headers are removed from external requests only', async () => {
    await request(proxy.port('edge-internal-only'), '/io-outside', {
      headers: { 'x-forwarded-for': '203.0.113.9', 'x-internal-token': 'forged' },
    });
    assert.equal(app.seen.at(-1)!.headers['x-internal-token'], undefined);
    await request(proxy.port('edge-internal-only'), '/io-inside', { headers: { 'x-internal-token': 'ok' } });
    assert.equal(internalOnly.seen.at(-1)!.headers['x-internal-token'], 'ok');
  });

  it('via is appended to requests and responses', async () => {
    const res = await request(proxy.port('via'), '/via', { headers: { via: '1.0 corp-proxy' } });
    assert.equal(app.seen.at(-1)!.headers.via, '1.0 corp-proxy, 1.1 weft-edge');
    assert.equal(res.headers.via, '1.1 weft-edge');
  });
});
