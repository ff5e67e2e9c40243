// The error catalogue and docs/errors.md must list the same codes (fastify's rule).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ConfigError, ERROR_CODES } from './errors.js';

test('every error code is documented in docs/errors.md, and only those', () => {
  const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(WEFT_[A-Z_]+)` +\|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.keys(ERROR_CODES).sort());
});

test('ConfigError lists every issue with its path', () => {
  const err = new ConfigError('envoy.yaml', [
    { path: 'a.b', message: 'unsupported field' },
    { path: 'c[0]', message: 'must be a string' },
  ]);
  assert.equal(err.code, 'WEFT_CONFIG_INVALID');
  assert.match(
    err.message,
    /envoy\.yaml: 2 configuration error\(s\):\n {2}- a\.b: unsupported field\n {2}- c\[0\]: must be a string/,
  );
});
