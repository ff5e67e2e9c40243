// The file-backed secret source: inline values and files are read at creation, a missing
// file is an error naming it, and files replaced on disk (written in place, renamed over,
// or swapped through a symlink as Kubernetes does) reach subscribers with the new bytes.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CommonTlsContext } from '../../config/model.js';
import { createFileSecretSource, type SecretSource } from './secret-source.js';

const dirs: string[] = [];
const sources: SecretSource[] = [];
after(() => {
  for (const s of sources) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function context(cert: string, key: string, ca: string | null): CommonTlsContext {
  return {
    tlsCertificates: [
      { certificateChain: { kind: 'filename', path: cert }, privateKey: { kind: 'filename', path: key } },
    ],
    validationContext:
      ca === null
        ? null
        : { trustedCa: { kind: 'inline', value: Buffer.from(ca) }, matchTypedSubjectAltNames: [] },
    tlsParams: { minVersion: 'TLS_AUTO', maxVersion: 'TLS_AUTO', cipherSuites: [], ecdhCurves: [] },
    alpnProtocols: [],
  };
}

/** Resolves on the next change the source reports (bounded: rejects after 10 s). */
function nextChange(seen: { n: number }): Promise<void> {
  const start = seen.n;
  const deadline = Date.now() + 10_000;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (seen.n > start) resolve();
      else if (Date.now() > deadline) reject(new Error('no change reported'));
      else setImmediate(check);
    };
    check();
  });
}

function watched(ctx: CommonTlsContext): { source: SecretSource; seen: { n: number } } {
  const source = createFileSecretSource(ctx, (m) => assert.fail(m));
  sources.push(source);
  const seen = { n: 0 };
  source.subscribe(() => seen.n++);
  return { source, seen };
}

describe('file secret source', () => {
  it('reads files and inline values, and names a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-secrets-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'c'), 'cert-1');
    writeFileSync(join(dir, 'k'), 'key-1');
    const { source } = watched(context(join(dir, 'c'), join(dir, 'k'), 'ca-inline'));
    assert.equal(source.current().certificates[0].certificateChain.toString(), 'cert-1');
    assert.equal(source.current().trustedCa?.toString(), 'ca-inline');
    assert.throws(
      () => createFileSecretSource(context(join(dir, 'nope'), join(dir, 'k'), null), () => {}),
      /nope/,
    );
  });

  it('reports files renamed over the old ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-secrets-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'c'), 'cert-1');
    writeFileSync(join(dir, 'k'), 'key-1');
    const { source, seen } = watched(context(join(dir, 'c'), join(dir, 'k'), null));
    const changed = nextChange(seen);
    writeFileSync(join(dir, 'c.tmp'), 'cert-2');
    renameSync(join(dir, 'c.tmp'), join(dir, 'c'));
    await changed;
    assert.equal(source.current().certificates[0].certificateChain.toString(), 'cert-2');
    assert.equal(source.current().certificates[0].privateKey.toString(), 'key-1');
  });

  it('follows a Kubernetes-style symlink swap of the mounted directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-secrets-'));
    dirs.push(dir);
    for (const [v, n] of [
      ['v1', '1'],
      ['v2', '2'],
    ]) {
      mkdirSync(join(dir, v));
      writeFileSync(join(dir, v, 'c'), `cert-${n}`);
      writeFileSync(join(dir, v, 'k'), `key-${n}`);
    }
    symlinkSync('v1', join(dir, '..data'));
    symlinkSync('..data/c', join(dir, 'c'));
    symlinkSync('..data/k', join(dir, 'k'));
    const { source, seen } = watched(context(join(dir, 'c'), join(dir, 'k'), null));
    assert.equal(source.current().certificates[0].certificateChain.toString(), 'cert-1');
    const changed = nextChange(seen);
    symlinkSync('v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await changed;
    assert.equal(source.current().certificates[0].certificateChain.toString(), 'cert-2');
    assert.equal(source.current().certificates[0].privateKey.toString(), 'key-2');
  });
});
