// One translation per proxy shape: proxies with the same namespace and inbound ports share
// a translation object; a different shape gets its own.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMeshFixture } from './mesh-fixture.js';
import { createMeshIndex } from './mesh-index.js';
import { translateProxy } from './translate.js';
import { createTranslationCache, proxyShapeKey } from './translation-cache.js';

test('identical shapes share one translation, equal to a direct one', () => {
  const f = createMeshFixture();
  const ann = { 'weft.dev/app-port-http': '18080' };
  const snap = f.snapshot({
    services: [f.service('web', [{ name: 'http', port: 80, protocol: 'HTTP' }])],
    workloads: [
      f.workload('w1', { app: 'web' }, { address: '10.0.0.1', ports: { http: 8080 } }, 'default', ann),
      f.workload('w2', { app: 'web' }, { address: '10.0.0.2', ports: { http: 8080 } }, 'default', ann),
      f.workload('w3', { app: 'web' }, { address: '10.0.0.3', ports: { http: 9090 } }, 'default', ann),
    ],
  });
  const index = createMeshIndex(snap);
  const cache = createTranslationCache(index);
  const w1 = { kind: 'sidecar', namespace: 'default', workload: 'w1' } as const;
  const w2 = { kind: 'sidecar', namespace: 'default', workload: 'w2' } as const;
  const w3 = { kind: 'sidecar', namespace: 'default', workload: 'w3' } as const;
  assert.equal(proxyShapeKey(index, w1), proxyShapeKey(index, w2));
  assert.notEqual(proxyShapeKey(index, w1), proxyShapeKey(index, w3));
  const a = cache.get(w1);
  assert.equal(cache.get(w2), a, 'same object for the same shape');
  assert.notEqual(cache.get(w3), a);
  cache.get({ kind: 'consumer', namespace: 'default' });
  cache.get({ kind: 'consumer', namespace: 'default' });
  cache.get({ kind: 'consumer', namespace: 'other' });
  assert.equal(cache.shapes, 4);
  assert.deepEqual(a, translateProxy(index, w1));
});
