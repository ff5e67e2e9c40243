// Pure tests of the per-type bookkeeping: what changed for a proxy given what it holds,
// wildcard vs named subscriptions, declared (reconnect) versions, and ACK/NACK states.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createResourceSet } from './snapshot.js';
import {
  computeChanges,
  createTypeState,
  markSent,
  recordAnswer,
  replaceNames,
  syncState,
} from './type-state.js';

const set1 = createResourceSet([
  ['a', { n: 1 }],
  ['b', { n: 2 }],
]);
const set2 = createResourceSet([
  ['a', { n: 1 }],
  ['b', { n: 3 }],
  ['c', { n: 4 }],
]);
const names = (c: ReturnType<typeof computeChanges>) => ({
  updated: c.updated.map(([n]) => n),
  removed: c.removed,
});

describe('type state', () => {
  it('wildcard: everything first, then only what changed, and deletions', () => {
    const s = createTypeState('t');
    s.wildcard = true;
    assert.deepEqual(names(computeChanges(s, set1)), { updated: ['a', 'b'], removed: [] });
    markSent(s, set1);
    assert.deepEqual(names(computeChanges(s, set1)), { updated: [], removed: [] });
    assert.deepEqual(names(computeChanges(s, set2)), { updated: ['b', 'c'], removed: [] });
    markSent(s, set2);
    assert.deepEqual(names(computeChanges(s, set1)), { updated: ['b'], removed: ['c'] });
  });

  it('named: only subscribed names; a newly subscribed name is sent even if unchanged', () => {
    const s = createTypeState('t');
    replaceNames(s, ['a']);
    assert.deepEqual(names(computeChanges(s, set1)), { updated: ['a'], removed: [] });
    markSent(s, set1);
    assert.deepEqual(names(computeChanges(s, set2)), { updated: [], removed: [] });
    assert.equal(replaceNames(s, ['a', 'b']), true);
    assert.equal(replaceNames(s, ['a', 'b']), false);
    assert.deepEqual(names(computeChanges(s, set1)), { updated: ['b'], removed: [] });
    replaceNames(s, ['a', 'b', 'zzz']);
    assert.deepEqual(names(computeChanges(s, set1)).removed, ['zzz'], 'a missing name is reported once');
  });

  it('declared versions (delta reconnect) replace what the server remembers', () => {
    const s = createTypeState('t');
    s.wildcard = true;
    const aVersion = set2.resources.get('a')!.version;
    s.declared = new Map([
      ['a', aVersion],
      ['b', 'old'],
      ['gone', 'x'],
    ]);
    assert.deepEqual(names(computeChanges(s, set2)), { updated: ['b', 'c'], removed: ['gone'] });
  });

  it('ACK, NACK and the sync state', () => {
    const s = createTypeState('t');
    assert.equal(syncState(s), 'NOT_SENT');
    s.pendingNonce = '1';
    s.lastNonce = '1';
    s.sentVersion = 'v1';
    s.responses = 1;
    markSent(s, set1);
    assert.equal(syncState(s), 'STALE');
    recordAnswer(s, undefined, 'v1', 0);
    assert.deepEqual([syncState(s), s.ackedVersion], ['SYNCED', 'v1']);
    s.pendingNonce = '2';
    s.lastNonce = '2';
    s.sentVersion = 'v2';
    recordAnswer(s, { code: 3, message: 'bad' }, 'v1', 42);
    assert.equal(syncState(s), 'NACKED');
    assert.deepEqual(s.nack, { version: 'v2', nonce: '2', code: 3, message: 'bad', at: 42 });
    assert.equal(s.ackedVersion, 'v1');
  });
});
