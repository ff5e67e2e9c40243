import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createMemoryLogger } from '../../core/logger.js';
import { createManualClock } from '../../proxy/upstream/testing/manual-clock.js';
import { createMemoryStore } from '../store/memory-store.js';
import type { ResourceStore } from '../store/resource-store.js';
import { meshKinds, serviceDoc, workloadDoc } from '../store/testing/fixtures.js';
import { createWorkloadLeases, type WorkloadLeases } from '../store/workload-leases.js';
import { type ApiServer, createApiServer } from './api-server.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON answers
type Json = Record<string, any>;

const NS = '/apis/weft.dev/v1alpha1/namespaces';

describe('control plane REST API', () => {
  let api: ApiServer;
  let base: string;
  let store: ResourceStore;
  let leases: WorkloadLeases;
  const clock = createManualClock();

  before(async () => {
    const logger = createMemoryLogger();
    const kinds = meshKinds();
    store = createMemoryStore({ kinds, clock, logger, historyLimit: 50 });
    leases = await createWorkloadLeases({ store, clock, logger });
    api = createApiServer({ store, kinds, clock, logger, leases, maxBodyBytes: 64 * 1024 });
    base = (await api.listen(0, '127.0.0.1')).url;
  });
  after(async () => {
    leases.close();
    await api.close();
    await store.close();
  });

  async function call(method: string, path: string, body?: unknown) {
    const res = await fetch(base + path, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  it('answers health and discovery', async () => {
    assert.deepEqual((await call('GET', '/healthz')).body, { status: 'ok', revision: 0 });
    const { body } = await call('GET', '/apis');
    assert.deepEqual(
      body.kinds.map((k: { kind: string; plural: string }) => `${k.kind}/${k.plural}`),
      ['Service/services', 'Workload/workloads'],
    );
  });

  it('creates, reads, replaces, lists and deletes one resource', async () => {
    const created = await call('PUT', `${NS}/shop/services/web`, { spec: serviceDoc('web').spec });
    assert.equal(created.status, 201);
    assert.equal(created.body.metadata.namespace, 'shop');
    assert.equal(created.body.metadata.generation, 1);
    const replaced = await call('PUT', `${NS}/shop/services/web`, {
      ...serviceDoc('web', 81),
      metadata: { labels: { app: 'web' } },
    });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.metadata.generation, 2);
    assert.equal((await call('GET', `${NS}/shop/services/web`)).body.spec.ports[0].port, 81);
    const list = await call('GET', '/apis/weft.dev/v1alpha1/services?labelSelector=app%3Dweb');
    assert.equal(list.body.kind, 'ServiceList');
    assert.equal(list.body.items.length, 1);
    assert.equal(list.body.metadata.resourceVersion, String(store.revision()));
    const del = await call('DELETE', `${NS}/shop/services/web`);
    assert.equal(del.status, 200);
    assert.equal((await call('GET', `${NS}/shop/services/web`)).status, 404);
  });

  it('refuses a PUT whose body names another resource than the URL', async () => {
    const r = await call('PUT', `${NS}/shop/services/web`, serviceDoc('api'));
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.error.issues, [
      { path: 'metadata.name', message: "'api' does not match the URL ('web')" },
    ]);
  });

  it('applies a batch all-or-nothing and lists every issue by path', async () => {
    const before = store.revision();
    const bad = await call('POST', '/v1/apply', {
      items: [
        serviceDoc('ok'),
        workloadDoc('w', { address: 'not an address', weight: 500 }),
        { kind: 'Gizmo' },
      ],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'WEFT_CONFIG_INVALID');
    assert.deepEqual(
      bad.body.error.issues.map((i: { path: string }) => i.path),
      ['items[1].spec.address', 'items[1].spec.weight', 'items[2].apiVersion'],
    );
    assert.equal(store.revision(), before);
    assert.equal((await call('GET', `${NS}/default/services/ok`)).status, 404);

    const good = await call('POST', '/v1/apply', { items: [serviceDoc('ok'), workloadDoc('w')] });
    assert.equal(good.status, 200);
    assert.equal(good.body.revision, before + 1);
    assert.deepEqual(
      good.body.items.map((i: { kind: string; action: string }) => `${i.kind} ${i.action}`),
      ['Service created', 'Workload created'],
    );
  });

  it('maps conflicts to 409, unknown paths to 404, bad methods to 405 and big bodies to 413', async () => {
    const conflict = await call('POST', '/v1/apply', [
      { ...serviceDoc('ok'), metadata: { name: 'ok', resourceVersion: '1' } },
    ]);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'WEFT_CONFLICT');
    assert.equal((await call('GET', '/apis/weft.dev/v1alpha1/namespaces/x/gizmos')).status, 404);
    assert.equal((await call('GET', '/nope')).body.error.code, 'WEFT_NOT_FOUND');
    assert.equal((await call('GET', '/v1/apply')).status, 405);
    const big = await call('POST', '/v1/apply', { items: [{ pad: 'x'.repeat(70 * 1024) }] });
    assert.equal(big.status, 413);
    const notJson = await fetch(`${base}/v1/apply`, { method: 'POST', body: '{oops' });
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { error: { message: string } }).error.message, /not valid JSON/);
  });

  it('deletes a batch all-or-nothing', async () => {
    await call('POST', '/v1/apply', [serviceDoc('d1'), serviceDoc('d2')]);
    const missing = await call('POST', '/v1/delete', {
      items: [
        { apiVersion: 'weft.dev/v1alpha1', kind: 'Service', name: 'd1' },
        { apiVersion: 'weft.dev/v1alpha1', kind: 'Service', name: 'zz' },
      ],
    });
    assert.equal(missing.status, 404);
    assert.equal((await call('GET', `${NS}/default/services/d1`)).status, 200);
    const ok = await call('POST', '/v1/delete', { items: [serviceDoc('d1'), serviceDoc('d2')] });
    assert.equal(ok.status, 200);
    assert.equal((await call('GET', `${NS}/default/services/d2`)).status, 404);
  });

  it('updates status without a generation bump', async () => {
    const r = await call('PUT', `${NS}/default/services/ok/status`, {
      status: { conditions: [{ type: 'Accepted', status: 'True' }] },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.metadata.generation, 1);
    assert.equal(r.body.status.conditions[0].type, 'Accepted');
  });

  it('renews Workload leases by heartbeat', async () => {
    await call('POST', '/v1/apply', [workloadDoc('vm', { ttlSeconds: 30 })]);
    const hb = await call('POST', `${NS}/default/workloads/vm/heartbeat`);
    assert.equal(hb.status, 200);
    assert.equal(hb.body.ttlSeconds, 30);
    assert.equal((await call('POST', `${NS}/default/workloads/ghost/heartbeat`)).status, 404);
    assert.equal((await call('POST', `${NS}/default/services/ok/heartbeat`)).status, 404);
  });

  it('streams watch events as NDJSON from a past revision, and says 410 when it is too old', async () => {
    const from = store.revision();
    await call('POST', '/v1/apply', [serviceDoc('w1')]);
    const lines: Json[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = request(`${base}/v1/watch?fromRevision=${from}&kind=Service`, (res) => {
        assert.equal(res.headers['content-type'], 'application/x-ndjson');
        let buf = '';
        res.on('data', (chunk: Buffer) => {
          buf += chunk.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) !== -1) {
            lines.push(JSON.parse(buf.slice(0, nl)));
            buf = buf.slice(nl + 1);
            if (lines.length === 2) void call('DELETE', `${NS}/default/services/w1`);
            if (lines.length === 3) {
              req.destroy();
              resolve();
            }
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    await done;
    assert.deepEqual(
      lines.map((l) => `${l.type} ${l.object?.metadata.name ?? ''}`),
      ['BOOKMARK ', 'ADDED w1', 'DELETED w1'],
    );
    assert.equal(lines[2].revision, lines[1].revision + 1);
    for (let i = 0; store.oldestWatchableRevision() === 0; i++)
      await call('POST', '/v1/apply', [serviceDoc(`churn${i}`)]);
    const old = await call('GET', '/v1/watch?fromRevision=0');
    assert.equal(old.status, 410);
    assert.equal(old.body.error.code, 'WEFT_REVISION_COMPACTED');
  });
});

describe('control plane REST API: close()', () => {
  it('finishes while a client keeps polling over the keep-alive connection of a request in flight', async () => {
    const clock = createManualClock();
    const logger = createMemoryLogger();
    const kinds = meshKinds();
    const store = createMemoryStore({ kinds, clock, logger, historyLimit: 50 });
    const leases = await createWorkloadLeases({ store, clock, logger });
    const api = createApiServer({ store, kinds, clock, logger, leases });
    const { port } = await api.listen(0, '127.0.0.1');
    // One keep-alive connection, as a `weft run` heartbeat client has.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const results: string[] = [];
    const get = (): void => {
      request({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => results.push(`${res.statusCode}`));
      })
        .on('error', (err: NodeJS.ErrnoException) => results.push(err.code ?? 'error'))
        .end();
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      // A PUT whose body is still arriving when close() is called.
      const body = JSON.stringify({ spec: serviceDoc('web').spec });
      const put = request({
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `${NS}/shop/services/web`,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const putDone = new Promise<number>((resolve, reject) => {
        put.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        put.on('error', reject);
      });
      put.write(body.slice(0, 10));
      await new Promise((r) => setTimeout(r, 50));
      const closed = api.close();
      put.end(body.slice(10));
      assert.equal(await putDone, 201);
      // The client goes on polling every 100 ms on the same agent. Before the fix the PUT's
      // connection stayed open for these, and close() never finished.
      get();
      timer = setInterval(get, 100);
      await closed;
      const seen = results.length;
      while (results.length === seen) await new Promise((r) => setTimeout(r, 20));
      assert.equal(results.at(-1), 'ECONNREFUSED', `the API is gone: ${results.join(' ')}`);
    } finally {
      clearInterval(timer);
      agent.destroy();
      leases.close();
      await store.close();
    }
  });
});
