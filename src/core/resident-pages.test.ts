// releaseFilePages() on a real process: a child node process loads the addon, gives
// back its binary's pages, and must then still run code from every part of the binary
// (crypto, zlib, TLS, Intl, JSON) with the right results: only read-only file pages are
// dropped, and they come back on use.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadResidentPages } from './resident-pages.js';
import { HAS_CC } from './testing/c-compiler.js';

const loaded = loadResidentPages();
const SKIP = loaded.release === null ? `resident-pages not built: ${loaded.reason}` : false;
const MODULE = fileURLToPath(new URL('./resident-pages.js', import.meta.url));

// The child: RssFile (kB) before and after the release, and results computed after it.
const CHILD = `
import { readFileSync } from 'node:fs';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { gzipSync, gunzipSync } from 'node:zlib';
import { createSecureContext } from 'node:tls';
import { loadResidentPages } from ${JSON.stringify(MODULE)};
const rssFileKb = () => Number(/^RssFile:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const before = rssFileKb();
const released = loadResidentPages().release();
const after = rssFileKb();
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
createSecureContext({});
const out = {
  before, after, released,
  sha256: createHash('sha256').update('weft').digest('hex'),
  gzip: gunzipSync(gzipSync('x'.repeat(10000))).length,
  date: new Intl.DateTimeFormat('en-US', { timeZone: 'UTC' }).format(0),
  key: privateKey.asymmetricKeyType,
  json: JSON.parse(JSON.stringify({ a: [1, 2, 3] })).a.length,
};
process.stdout.write(JSON.stringify(out));
`;

describe('releasing the node binary’s start-up pages', () => {
  it('is built wherever a C compiler is (npm ci runs scripts/build-native.mjs)', {
    skip: !HAS_CC && 'no C compiler',
  }, () => {
    assert.notEqual(loaded.release, null, SKIP || '');
  });

  it('drops the binary’s read-only pages from the resident set, and the process runs on', {
    skip: SKIP,
  }, () => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout);
    assert.ok(out.released.mappings >= 2, `mappings released: ${out.released.mappings}`);
    assert.ok(
      out.released.residentBytes > 8 * 1048576,
      `resident before: ${out.released.residentBytes} bytes`,
    );
    // What was resident is gone but for the pages the release itself ran through.
    assert.ok(
      out.before - out.after > (out.released.residentBytes / 1024) * 0.8,
      `RssFile ${out.before} kB -> ${out.after} kB`,
    );
    assert.equal(out.sha256, 'e627e2237f44543d8b79e2772a7cc79f6c8d0ea2854eef84f69fbef586339c91');
    assert.equal(out.gzip, 10000);
    assert.equal(out.date, '1/1/1970');
    assert.equal(out.key, 'ec');
    assert.equal(out.json, 3);
  });
});
