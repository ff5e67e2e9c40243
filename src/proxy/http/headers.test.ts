import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stripHopByHop } from '../http1/hop-by-hop.js';
import { getHeaderJoined, removeHeader, retainHeaders, setHeader, truncateList } from './headers.js';

test('truncateList shortens in place and leaves shorter lists alone', () => {
  const list = ['a', '1', 'b', '2', 'c', '3'];
  truncateList(list, 2);
  assert.deepEqual(list, ['a', '1']);
  truncateList(list, 4);
  assert.deepEqual(list, ['a', '1']);
  truncateList(list, 0);
  assert.deepEqual(list, []);
});

test('removeHeader drops every entry of a name and keeps the order of the rest', () => {
  const h = ['x', '1', 'via', 'a', 'y', '2', 'via', 'b'];
  removeHeader(h, 'via');
  assert.deepEqual(h, ['x', '1', 'y', '2']);
});

test('setHeader replaces the first entry, drops later duplicates, appends when absent', () => {
  const h = ['via', 'a', 'x', '1', 'via', 'b'];
  setHeader(h, 'via', 'c');
  assert.deepEqual(h, ['via', 'c', 'x', '1']);
  setHeader(h, 'y', '2');
  assert.deepEqual(h, ['via', 'c', 'x', '1', 'y', '2']);
  assert.equal(getHeaderJoined(['v', 'a', 'w', 'x', 'v', 'b'], 'v'), 'a, b');
});

test('stripHopByHop removes fixed and Connection-listed fields', () => {
  const h = [
    'connection',
    'close, x-hop',
    'keep-alive',
    't=5',
    'x-hop',
    '1',
    'accept',
    '*/*',
    'content-length',
    '3',
  ];
  stripHopByHop(h, 'close, x-hop');
  assert.deepEqual(h, ['accept', '*/*']);
});

test('retainHeaders keeps the entries whose name passes, in order, and counts the rest', () => {
  const h = ['a_b', '1', 'accept', '*/*', 'x_y', '2', 'host', 'h'];
  assert.equal(
    retainHeaders(h, (n) => !n.includes('_')),
    2,
  );
  assert.deepEqual(h, ['accept', '*/*', 'host', 'h']);
  assert.equal(
    retainHeaders(h, () => true),
    0,
  );
});
