import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { WEFT_NODE_FLAGS } from './runtime-flags.js';

test('bin/weft.js runs node with exactly the flags Weft starts its own processes with', () => {
  const bin = readFileSync(new URL('../../../bin/weft.js', import.meta.url), 'utf8');
  const shebang = bin.split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${WEFT_NODE_FLAGS.join(' ')}`);
});
