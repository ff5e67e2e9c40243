// Snapshot helpers: content-hash versions are stable and order-independent.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createResourceSet, createStaticSnapshotSource, resourceVersion } from './snapshot.js';

describe('snapshot', () => {
  it('resource versions hash content, not key order', () => {
    assert.equal(
      resourceVersion({ a: 1, b: [1, { c: 2, d: 3 }] }),
      resourceVersion({ b: [1, { d: 3, c: 2 }], a: 1 }),
    );
    assert.notEqual(resourceVersion({ a: 1 }), resourceVersion({ a: 2 }));
    assert.match(resourceVersion(null), /^[0-9a-f]{16}$/);
  });

  it('set versions depend on members only', () => {
    const x = createResourceSet([
      ['a', 1],
      ['b', 2],
    ]);
    const y = createResourceSet([
      ['b', 2],
      ['a', 1],
    ]);
    assert.equal(x.version, y.version);
    assert.notEqual(x.version, createResourceSet([['a', 1]]).version);
  });

  it('the static source notifies with the node ids a change concerns', () => {
    const source = createStaticSnapshotSource();
    const seen: unknown[] = [];
    const off = source.subscribe((c) => seen.push(c));
    const snap = new Map();
    source.set(snap, 'n1');
    source.set(snap);
    off();
    source.set(snap);
    assert.deepEqual(seen, [{ nodeIds: ['n1'] }, {}]);
    assert.equal(source.snapshotFor({ id: 'n1', cluster: '', metadata: {}, raw: {} }), snap);
  });
});
