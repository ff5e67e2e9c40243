// Load balancing end to end through `weft proxy`: a header hash_policy sticks a client to
// one backend of a RING_HASH cluster; a cookie hash_policy with ttl on a MAGLEV cluster
// sets the cookie once and then sticks to it; LEAST_REQUEST keeps away from a backend
// that holds its requests while ROUND_ROBIN keeps feeding it. Real sockets, node:http
// backends; nothing is timed (held requests are counted when the backend has them).

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  type Backend,
  bootstrap,
  httpListener,
  type RunningProxy,
  request,
  seededRandom,
  startBackend,
  startProxy,
  staticCluster,
  waitFor,
} from './support/harness.js';

describe('load balancing through the proxy', () => {
  let proxy: RunningProxy;
  let port: number;
  const backends: Backend[] = [];
  let slow: Backend;
  let fast: Backend;
  const held: ServerResponse[] = [];

  before(async () => {
    for (let i = 0; i < 4; i++) backends.push(await startBackend(`b${i}`));
    slow = await startBackend('slow', (_req: IncomingMessage, res: ServerResponse) => held.push(res));
    fast = await startBackend('fast');
    const ports = backends.map((b) => b.port);
    const routes = [
      {
        match: { prefix: '/ring' },
        route: { cluster: 'ring', hash_policy: [{ header: { header_name: 'x-user' } }] },
      },
      {
        match: { prefix: '/maglev' },
        route: { cluster: 'maglev', hash_policy: [{ cookie: { name: 'sticky', ttl: '3600s', path: '/' } }] },
      },
      { match: { prefix: '/lr' }, route: { cluster: 'lr' } },
      { match: { prefix: '/rr' }, route: { cluster: 'rr' } },
    ];
    const pair = [slow.port, fast.port];
    proxy = await startProxy(
      bootstrap(
        [httpListener('in', [{ name: 'v', domains: ['*'], routes }])],
        [
          staticCluster('ring', ports, {
            lb_policy: 'RING_HASH',
            ring_hash_lb_config: { minimum_ring_size: 256 },
          }),
          staticCluster('maglev', ports, { lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 1021 } }),
          staticCluster('lr', pair, {
            lb_policy: 'LEAST_REQUEST',
            least_request_lb_config: { choice_count: 5 },
          }),
          staticCluster('rr', pair),
        ],
      ),
      { random: seededRandom(5) },
    );
    port = proxy.port('in');
  });

  after(async () => {
    for (const res of held.splice(0)) res.end();
    await proxy?.close();
    for (const b of [...backends, slow, fast]) await b?.close();
  });

  it('header hash_policy on RING_HASH: each user sticks to one backend, users spread', async () => {
    const chosen = new Map<string, string>();
    for (let u = 0; u < 12; u++) {
      for (let i = 0; i < 4; i++) {
        const res = await request(port, '/ring', { headers: { 'x-user': `user-${u}` } });
        assert.equal(res.status, 200);
        const backend = String(res.headers['x-backend']);
        const first = chosen.get(`user-${u}`);
        if (first === undefined) chosen.set(`user-${u}`, backend);
        else assert.equal(backend, first, `user-${u} moved from ${first} to ${backend}`);
      }
    }
    assert.ok(new Set(chosen.values()).size >= 2, `users spread over ${[...new Set(chosen.values())]}`);
  });

  it('cookie hash_policy with ttl on MAGLEV: sets the cookie once, then sticks to it', async () => {
    const first = await request(port, '/maglev/a');
    const setCookie = first.headers['set-cookie'];
    assert.ok(setCookie !== undefined && setCookie.length === 1, 'one Set-Cookie');
    const m = /^sticky="([0-9a-f]{16})"; Max-Age=3600; Path=\/; HttpOnly$/.exec(setCookie[0]);
    assert.ok(m !== null, setCookie[0]);
    const backend = String(first.headers['x-backend']);
    for (let i = 0; i < 6; i++) {
      const res = await request(port, `/maglev/${i}`, { headers: { cookie: `other=1; sticky="${m[1]}"` } });
      assert.equal(res.headers['set-cookie'], undefined, 'no new cookie when the client sends one');
      assert.equal(String(res.headers['x-backend']), backend);
    }
    // Another connection (another client port) gets another generated cookie.
    const second = await request(port, '/maglev/b');
    assert.notEqual(second.headers['set-cookie']?.[0], setCookie[0]);
  });

  /** Sends `n` requests one by one; a request the slow backend holds is left pending. */
  async function spread(path: string, n: number): Promise<{ slow: number; fast: number }> {
    const slowBefore = slow.seen.length;
    const fastBefore = fast.seen.length;
    for (let i = 0; i < n; i++) {
      const total = slow.seen.length + fast.seen.length;
      request(port, path).catch(() => {}); // held ones end when the test ends
      await waitFor(() => slow.seen.length + fast.seen.length > total, 'the request to reach a backend');
    }
    return { slow: slow.seen.length - slowBefore, fast: fast.seen.length - fastBefore };
  }

  it('LEAST_REQUEST avoids a backend busy with held requests; ROUND_ROBIN keeps feeding it', async () => {
    const rr = await spread('/rr', 20);
    assert.equal(rr.slow, 10, 'round robin alternates regardless of load');
    // LEAST_REQUEST with choice_count 5: once the slow backend holds a request, it is picked
    // only when all 5 draws land on it (1/32 per request).
    const lr = await spread('/lr', 20);
    assert.ok(lr.slow <= 3, `least request sent ${lr.slow} of 20 to the busy backend`);
    assert.ok(lr.fast >= 17);
  });
});
