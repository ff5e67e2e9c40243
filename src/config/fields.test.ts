// Tests for the shared field reader: spellings, wrappers, enums, unsupported-key reporting.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigIssue } from '../core/errors.js';
import { readMessage } from './fields.js';

const COLOR = { known: ['RED', 'GREEN', 'BLUE'], supported: ['RED', 'GREEN'] as const };

test('snake and camel spellings, wrappers and numeric strings are accepted', () => {
  const issues: ConfigIssue[] = [];
  const r = readMessage(
    { max_headers_count: { value: 7 }, idleTimeout: '2s', portValue: '8080', useRemote: { value: true } },
    'x',
    issues,
  );
  assert.equal(r.uint32('max_headers_count', 0), 7);
  assert.equal(r.duration('idle_timeout', null), 2000);
  assert.equal(r.uint32('port_value', 0), 8080);
  assert.equal(r.boolean('use_remote', false), true);
  r.done();
  assert.deepEqual(issues, []);
});

test('defaults apply to absent and null fields; zero timeouts can mean off', () => {
  const issues: ConfigIssue[] = [];
  const r = readMessage({ a: null, t: '0s' }, 'x', issues);
  assert.equal(r.uint32('a', 42), 42);
  assert.equal(r.duration('t', 1000, true), null);
  assert.equal(r.duration('u', 1000, true), 1000);
  r.done();
  assert.deepEqual(issues, []);
});

test('enums by name or proto number; unknown and unsupported values differ', () => {
  const issues: ConfigIssue[] = [];
  const r = readMessage({ a: 1, b: 'BLUE', c: 'PINK', d: 9 }, 'm', issues);
  assert.equal(r.enumeration('a', 'RED', COLOR), 'GREEN');
  assert.equal(r.enumeration('b', 'RED', COLOR), 'RED');
  assert.equal(r.enumeration('c', 'RED', COLOR), 'RED');
  assert.equal(r.enumeration('d', 'RED', COLOR), 'RED');
  r.done();
  assert.deepEqual(issues, [
    { path: 'm.b', message: "'BLUE' is not supported by Weft; supported: RED, GREEN" },
    { path: 'm.c', message: "unknown value a string ('PINK'); expected one of RED, GREEN" },
    { path: 'm.d', message: 'unknown value number 9; expected one of RED, GREEN' },
  ]);
});

test('unread keys of nested messages are reported with full snake_case paths', () => {
  const issues: ConfigIssue[] = [];
  const r = readMessage({ inner: { used: 1, notUsed: 2, also_not: 3 }, extra: true }, 'root', issues);
  const inner = r.message('inner');
  inner?.uint32('used', 0);
  r.done();
  assert.deepEqual(issues, [
    { path: 'root.inner.not_used', message: 'unsupported field' },
    { path: 'root.inner.also_not', message: 'unsupported field' },
    { path: 'root.extra', message: 'unsupported field' },
  ]);
});

test('a non-object message is one issue, with no follow-on noise', () => {
  const issues: ConfigIssue[] = [];
  const r = readMessage([1, 2], 'list.item', issues);
  assert.equal(r.requiredString('name'), '');
  r.requiredMessage('address').requiredString('x');
  r.done();
  assert.deepEqual(issues, [{ path: 'list.item', message: 'expected an object, got a list' }]);
});

test('integers out of range, fractions and unsafe numbers are refused', () => {
  const issues: ConfigIssue[] = [];
  const r = readMessage({ a: -1, b: 1.5, c: 2 ** 53, d: '12a' }, 'n', issues);
  for (const k of ['a', 'b', 'c', 'd']) r.uint32(k, 0);
  r.done();
  assert.deepEqual(
    issues.map((i) => i.path),
    ['n.a', 'n.b', 'n.c', 'n.d'],
  );
});
