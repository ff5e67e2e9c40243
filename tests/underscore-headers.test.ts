// common_http_protocol_options.headers_with_underscores_action through `weft proxy`:
// DROP_HEADER removes `x_user`-style headers before anything sees them, REJECT_REQUEST
// answers 400 (HTTP/1.1 and h2c) without reaching the upstream; each counted in Envoy's
// http1./http2. codec stats.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { h2Request, h2Session } from './support/h2-client.js';
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

describe('headers with underscores', () => {
  let app: Backend;
  let proxy: RunningProxy;

  before(async () => {
    app = await startBackend('app');
    const vhosts = [
      { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
    ];
    const action = (a: string) => ({ common_http_protocol_options: { headers_with_underscores_action: a } });
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('drop', vhosts, action('DROP_HEADER')),
          httpListener('reject', vhosts, action('REJECT_REQUEST')),
        ],
        [staticCluster('app', [app.port])],
      ),
    );
  });

  after(async () => {
    await proxy.close();
    await app.close();
  });

  const counter = (name: string) => proxy.proxy.stats.counter(name).value;

  it('DROP_HEADER: the upstream never sees them; the rest goes through', async () => {
    const res = await request(proxy.port('drop'), '/d', {
      headers: { x_user: 'admin', 'x-user': 'guest', a_b: '1' },
    });
    assert.equal(res.status, 200);
    const seen = app.seen.at(-1)!.headers;
    assert.equal(seen.x_user, undefined);
    assert.equal(seen.a_b, undefined);
    assert.equal(seen['x-user'], 'guest');
    assert.equal(counter('http1.dropped_headers_with_underscores'), 2);
  });

  it('REJECT_REQUEST: 400 over HTTP/1.1 and h2c, nothing forwarded', async () => {
    const before = app.seen.length;
    assert.equal((await request(proxy.port('reject'), '/r', { headers: { x_user: 'admin' } })).status, 400);
    assert.equal(counter('http1.requests_rejected_with_underscores_in_headers'), 1);
    const session = h2Session(proxy.port('reject'));
    try {
      const res = await h2Request(session, { ':method': 'GET', ':path': '/r', x_user: 'admin' });
      assert.equal(res.headers[':status'], 400);
    } finally {
      session.close();
    }
    assert.equal(counter('http2.requests_rejected_with_underscores_in_headers'), 1);
    assert.equal(app.seen.length, before);
    assert.equal((await request(proxy.port('reject'), '/r', { headers: { 'x-user': 'ok' } })).status, 200);
  });
});
