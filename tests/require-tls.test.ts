// require_tls and x-forwarded-proto before routing, through `weft proxy`: a virtual host
// that requires TLS answers plaintext requests with a 301 to https (ALL), or only external
// ones (EXTERNAL_ONLY); x-forwarded-proto is settled before routing, so neither require_tls
// nor a route matching on it can be fooled by a client's own value at the edge.

import assert from 'node:assert/strict';
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
} from './support/harness.js';

describe('require_tls', () => {
  let app: Backend;
  let proxy: RunningProxy;

  before(async () => {
    app = await startBackend('app');
    const vhosts = (requireTls: string) => [
      {
        name: 'all',
        domains: ['*'],
        require_tls: requireTls,
        routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }],
      },
    ];
    const byProto = [
      {
        name: 'all',
        domains: ['*'],
        routes: [
          {
            match: {
              prefix: '/',
              headers: [{ name: 'x-forwarded-proto', string_match: { exact: 'https' } }],
            },
            direct_response: { status: 200, body: { inline_string: 'secure\n' } },
          },
          { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'plain\n' } } },
        ],
      },
    ];
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('edge', vhosts('ALL'), { use_remote_address: true }),
          httpListener('behind-lb', vhosts('ALL'), { use_remote_address: true, xff_num_trusted_hops: 1 }),
          httpListener('sidecar', vhosts('EXTERNAL_ONLY')),
          httpListener('by-proto', byProto, { use_remote_address: true }),
        ],
        [staticCluster('app', [app.port])],
      ),
    );
  });

  after(async () => {
    await proxy.close();
    await app.close();
  });

  it('ALL: a plaintext request gets a 301 to the same host and path over https', async () => {
    const res = await request(proxy.port('edge'), '/cart?id=7', { headers: { host: 'shop.example' } });
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, 'https://shop.example/cart?id=7');
    const forged = await request(proxy.port('edge'), '/cart', { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(forged.status, 301, "a client's own x-forwarded-proto does not count at the edge");
  });

  it('behind a trusted load balancer its x-forwarded-proto: https counts', async () => {
    const res = await request(proxy.port('behind-lb'), '/cart', {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' },
    });
    assert.equal(res.status, 200);
    assert.equal(app.seen.at(-1)!.headers['x-forwarded-proto'], 'https');
  });

  it('EXTERNAL_ONLY: internal requests pass, external ones are redirected', async () => {
    const inside = await request(proxy.port('sidecar'), '/in', {
      headers: { 'x-forwarded-for': '10.1.2.3' },
    });
    assert.equal(inside.status, 200);
    const outside = await request(proxy.port('sidecar'), '/out', { headers: { host: 'api.example' } });
    assert.equal(outside.status, 301);
    assert.equal(outside.headers.location, 'https://api.example/out');
  });

  it('a route matching x-forwarded-proto sees the value the proxy settled', async () => {
    const res = await request(proxy.port('by-proto'), '/', { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(res.body, 'plain\n');
  });
});
