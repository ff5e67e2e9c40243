// The trusted client address through `weft proxy` and real sockets: x-forwarded-for with
// use_remote_address, xff_num_trusted_hops and skip_xff_append; x-envoy-internal (and a
// route that only internal requests reach); x-envoy-external-address and the removal of
// router-control headers on edge requests; x-request-id on edge requests; and
// %DOWNSTREAM_REMOTE_ADDRESS% against %DOWNSTREAM_DIRECT_REMOTE_ADDRESS%.

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
});
