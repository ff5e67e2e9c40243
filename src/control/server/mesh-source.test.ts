// The mesh source and route status writer over an in-memory store on a manual clock: the
// node-id convention, one shared Snapshot per shape, objects kept across rebuilds when content
// is unchanged, proxyless gRPC listeners, and status written once (no write-back loop).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryLogger } from '../../core/logger.js';
import { createManualClock } from '../../proxy/upstream/testing/manual-clock.js';
import type { JsonObject } from '../../xds/json-codec.js';
import type { ProxyNode } from '../../xds/snapshot.js';
import { TYPE_URLS } from '../../xds/type-urls.js';
import { createMemoryStore } from '../store/memory-store.js';
import { createMeshKinds } from './control-plane.js';
import { createMeshSource } from './mesh-source.js';
import { nodeIdentityOf } from './node-identity.js';
import { createRouteStatusWriter } from './route-status-writer.js';

const node = (id: string, metadata: JsonObject = {}, raw: JsonObject = {}): ProxyNode => ({
  id,
  cluster: '',
  metadata,
  raw: { id, ...raw },
});

const service = (name: string, protocol = 'HTTP', labels: Record<string, string> = {}) => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Service',
  metadata: { name, namespace: 'shop', labels },
  spec: { selector: { app: name }, ports: [{ name: 'main', port: 80, protocol }] },
});

const workload = (name: string, app: string, address: string) => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Workload',
  metadata: { name, namespace: 'shop', labels: { app } },
  spec: { address, ports: { main: 8080 } },
});

const route = (name: string, backend: string) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: 'shop' },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }],
    rules: [{ backendRefs: [{ name: backend, port: 80 }] }],
  },
});

async function setup() {
  const clock = createManualClock();
  const logger = createMemoryLogger();
  const store = createMemoryStore({ kinds: createMeshKinds(), clock, logger });
  const statuses = createRouteStatusWriter({ store, clock, logger });
  const mesh = createMeshSource({ store, clock, logger, onIndex: (i) => statuses.update(i) });
  const notified: number[] = [];
  mesh.subscribe(() => notified.push(mesh.generation));
  /** Lets the store deliver its events, then runs the debounced rebuild and the status pass. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      clock.advance(100);
      await statuses.idle();
    }
  };
  return { clock, store, mesh, statuses, notified, settle };
}

describe('node identity', () => {
  it('reads sidecar~NS~WORKLOAD, consumers by metadata NAMESPACE, and gRPC clients by user agent', () => {
    assert.deepEqual(nodeIdentityOf(node('sidecar~shop~web-1')), {
      identity: { kind: 'sidecar', namespace: 'shop', workload: 'web-1' },
      proxyless: false,
      overrides: {},
      overridesKey: '',
    });
    assert.deepEqual(nodeIdentityOf(node('envoy-7', { NAMESPACE: 'shop' })).identity, {
      kind: 'consumer',
      namespace: 'shop',
    });
    assert.deepEqual(nodeIdentityOf(node('envoy-7')).identity, { kind: 'consumer', namespace: 'default' });
    const bad = nodeIdentityOf(node('sidecar~Shop~web~x'));
    assert.equal(bad.identity.kind, 'consumer');
    assert.match(bad.problem ?? '', /not sidecar~<namespace>~<workload>/);
    const grpc = nodeIdentityOf(node('sidecar~shop~web-1', {}, { user_agent_name: 'gRPC Node Pure JS' }));
    assert.equal(grpc.proxyless, true);
    assert.equal(grpc.identity.kind, 'consumer');
    assert.equal(nodeIdentityOf(node('app', { PROXYLESS: 'true' })).proxyless, true);
  });
});

describe('mesh source', () => {
  it('shares one Snapshot per shape and keeps it across rebuilds that change nothing for it', async () => {
    const { store, mesh, notified, settle } = await setup();
    await store.apply([service('web'), workload('web-1', 'web', '10.0.0.1')]);
    await mesh.start();
    const a = mesh.snapshotFor(node('sidecar~shop~client-1'));
    const b = mesh.snapshotFor(node('sidecar~shop~client-2'));
    assert.ok(a !== undefined);
    assert.equal(a, b, 'two sidecars of one shape get the same object');
    assert.ok(a.get(TYPE_URLS.cluster)?.resources.has('outbound|80||web.shop'));

    // A label change is a mesh change (selectors read labels) that alters no xDS output.
    await store.apply([service('web', 'HTTP', { team: 'blue' })]);
    await settle();
    assert.deepEqual(notified, [2]);
    assert.equal(mesh.snapshotFor(node('sidecar~shop~client-1')), a, 'same content, same object');

    // A new endpoint changes EDS only: the other sets stay the same objects.
    await store.apply([workload('web-2', 'web', '10.0.0.2')]);
    await settle();
    const c = mesh.snapshotFor(node('sidecar~shop~client-1'));
    assert.notEqual(c, a);
    assert.equal(c?.get(TYPE_URLS.cluster), a.get(TYPE_URLS.cluster));
    assert.notEqual(c?.get(TYPE_URLS.endpoint), a.get(TYPE_URLS.endpoint));
    const eds = c?.get(TYPE_URLS.endpoint);
    assert.equal(mesh.findSet(TYPE_URLS.endpoint, eds!.version), eds);
    mesh.close();
  });

  it('gives proxyless gRPC clients api_listeners over RDS and weighted localities', async () => {
    const { store, mesh } = await setup();
    await store.apply([service('echo', 'GRPC'), workload('echo-1', 'echo', '127.0.0.1')]);
    await mesh.start();
    const s = mesh.snapshotFor(node('grpc-1', { NAMESPACE: 'shop' }, { user_agent_name: 'gRPC Go' }))!;
    const names = [...s.get(TYPE_URLS.listener)!.resources.keys()];
    assert.ok(names.includes('echo.shop:80') && names.includes('echo:80') && names.includes('echo.shop'));
    assert.ok(!names.includes('outbound_http'), 'no socket listeners for a proxyless client');
    const listener = s.get(TYPE_URLS.listener)!.resources.get('echo.shop:80')!.json as JsonObject;
    const hcm = (listener.api_listener as JsonObject).api_listener as JsonObject;
    assert.equal((hcm.rds as JsonObject).route_config_name, 'outbound_http');
    const cla = s.get(TYPE_URLS.endpoint)!.resources.get('outbound|80||echo.shop')!.json as JsonObject;
    assert.equal((cla.endpoints as JsonObject[])[0]!.load_balancing_weight, 1);
    mesh.close();
  });

  it('writes route status once: the write-back does not loop', async () => {
    const { store, mesh, statuses, settle } = await setup();
    await store.apply([service('web'), route('to-nowhere', 'nope')]);
    await mesh.start();
    await settle();
    assert.equal(statuses.writes, 1);
    const r = await store.get({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      namespace: 'shop',
      name: 'to-nowhere',
    });
    assert.ok(r?.status !== undefined);
    const conditions = (r.status as { parents: { conditions: { type: string; reason: string }[] }[] })
      .parents[0]!.conditions;
    assert.deepEqual(
      conditions.map((c) => `${c.type}:${c.reason}`),
      ['Accepted:Accepted', 'ResolvedRefs:BackendNotFound'],
    );
    // The backend appears: one more write, then quiet again.
    await store.apply([service('nope')]);
    await settle();
    await settle();
    assert.equal(statuses.writes, 2);
    mesh.close();
  });
});
