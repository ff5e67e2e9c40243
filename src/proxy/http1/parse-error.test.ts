// The error catalogue and docs/http1-parsing.md must agree: every details token the
// parsers can produce is documented, and every catalogue entry is well-formed.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ParseErrorKind, REQUEST_ERRORS, RESPONSE_ERRORS } from './parse-error.js';

function findDoc(): string {
  // Walk up from the compiled test (dist/ or another outDir), then try the cwd.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const p = join(dir, 'docs', 'http1-parsing.md');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  return join(process.cwd(), 'docs', 'http1-parsing.md');
}

it('every request error is catalogued, frozen and documented', () => {
  const doc = readFileSync(findDoc(), 'utf8');
  const kinds = Object.values(ParseErrorKind);
  assert.equal(REQUEST_ERRORS.length, kinds.length);
  assert.equal(RESPONSE_ERRORS.length, kinds.length);
  for (const kind of kinds) {
    const e = REQUEST_ERRORS[kind];
    assert.ok(Object.isFrozen(e));
    assert.match(e.details, /^http1\.[a-z0-9_]+$/);
    assert.ok(e.message.length > 10);
    assert.ok(doc.includes(`\`${e.details}\``), `${e.details} is not documented in docs/http1-parsing.md`);
    assert.equal(RESPONSE_ERRORS[kind].status, 502);
    assert.equal(RESPONSE_ERRORS[kind].details, 'upstream_protocol_error');
  }
});
