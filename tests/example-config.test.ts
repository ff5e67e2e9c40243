// The README's main job, exactly as written: `weft proxy -c examples/envoy.yaml` with
// the demo backends from `node examples/backends.mjs`. Uses the example's fixed ports
// (10000, 10001, 9901, 18081-18083, 18090) on 127.0.0.1.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadResidentPages } from '../src/core/resident-pages.js';
import {
  REPO_ROOT,
  request,
  requestHost,
  type SpawnedProxy,
  spawnProxy,
  waitFor,
} from './support/harness.js';

describe('examples/envoy.yaml (the README main job)', () => {
  let backends: ChildProcess;
  let proxy: SpawnedProxy;

  before(async () => {
    backends = spawn(process.execPath, [join(REPO_ROOT, 'examples', 'backends.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    backends.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('tcp echo listening'), 'the demo backends');
    proxy = await spawnProxy(join(REPO_ROOT, 'examples', 'envoy.yaml'));
    assert.equal(proxy.adminAddress, '127.0.0.1:9901');
  });

  after(async () => {
    proxy.child.kill('SIGTERM');
    assert.equal(await proxy.exited, 0);
    backends.kill('SIGTERM');
  });

  it("gives back the node binary's start-up pages once it runs", {
    skip: loadResidentPages().release === null && 'native/resident-pages.c not built',
  }, async () => {
    await waitFor(() => proxy.output.stderr.includes('weft proxy running'), 'the running line');
    await waitFor(
      () => /released [\d.]+ MiB of start-up pages of the node binary/.test(proxy.output.stderr),
      'the release line',
    );
  });

  it('answers /healthz itself', async () => {
    const r = await request(10000, '/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok\n');
  });

  it('routes /api/ to service-a with the route header and x-forwarded-for', async () => {
    const r = await request(10000, '/api/hello');
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as Record<string, string>;
    assert.equal(body.service, 'service-a');
    assert.equal(body['x-weft-route'], 'api');
    assert.equal(body['x-forwarded-for'], '127.0.0.1');
  });

  it('splits /shop/ 90/10 with the prefix rewritten, through a STRICT_DNS cluster', async () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const r = await request(10000, '/shop/cart');
      const body = JSON.parse(r.body) as Record<string, string>;
      assert.equal(body.path, '/cart');
      assert.equal(r.headers['x-served-by'], body.service === 'shop-v1' ? 'shop_v1' : 'shop_v2');
      counts[body.service] = (counts[body.service] ?? 0) + 1;
    }
    // Binomial(200, 0.1): mean 20, sd ≈ 4.2; allow ±5 sd.
    assert.ok((counts['shop-v2'] ?? 0) > 0 && (counts['shop-v2'] ?? 0) < 42, JSON.stringify(counts));
  });

  it('redirects old.example.com permanently', async () => {
    const r = await request(10000, '/a?b=c', { headers: { host: 'old.example.com' } });
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, 'http://www.example.com/a?b=c');
  });

  it('echoes TCP through :10001', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const s = connect(10001, '127.0.0.1');
      let data = '';
      s.on('connect', () => s.end('hi\n'));
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    assert.equal(got, 'hi\n');
  });

  it('writes a JSON access log line per request and serves stats', async () => {
    await request(10000, '/api/logged');
    await waitFor(() => proxy.output.stdout.includes('"/api/logged"'), 'the access log line');
    const line = proxy.output.stdout.split('\n').find((l) => l.includes('"/api/logged"'))!;
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.equal(entry.status, 200);
    assert.equal(entry.method, 'GET');
    assert.equal(entry.flags, '-');
    assert.equal(entry.cluster, 'service_a');
    assert.equal(entry.upstream, '127.0.0.1:18081');
    const stats = await requestHost('127.0.0.1', 9901, '/stats?filter=ingress_http.downstream_rq_total');
    assert.match(stats.body, /http\.ingress_http\.downstream_rq_total: \d+/);
  });
});
