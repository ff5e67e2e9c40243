import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequestIdGenerator } from './request-id.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('request ids are version 4 UUIDs, distinct across refills of the random pool', () => {
  const next = createRequestIdGenerator();
  const seen = new Set<string>();
  const digits = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = next();
    assert.match(id, V4);
    seen.add(id);
    for (const c of id.replaceAll('-', '')) digits.add(c);
  }
  assert.equal(seen.size, 2000);
  assert.equal(digits.size, 16, 'every hex digit shows up');
});

test('two generators do not share a pool', () => {
  const a = createRequestIdGenerator();
  const b = createRequestIdGenerator();
  assert.notEqual(a(), b());
});
