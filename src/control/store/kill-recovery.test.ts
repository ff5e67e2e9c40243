// Durability under a real kill -9: a child process applies in a loop and prints each
// acknowledged revision; after SIGKILL every acknowledged change must be in the recovered
// store (and nothing may be half-applied).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { createMemoryLogger } from '../../core/logger.js';
import { createManualClock } from '../../proxy/upstream/testing/manual-clock.js';
import { openFileStore } from './file-store.js';
import { meshKinds, tempStateDir } from './testing/fixtures.js';

describe('file store under kill -9', () => {
  const state = tempStateDir();
  after(() => state.cleanup());

  it('keeps every acknowledged transaction', async () => {
    const acked: { revision: number; name: string }[] = [];
    for (let round = 0; round < 2; round++) {
      const child = spawn(
        process.execPath,
        [new URL('./testing/apply-loop-child.js', import.meta.url).pathname, state.dir],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_c, sig) => resolve(sig)),
      );
      const lines = createInterface({ input: child.stdout });
      const target = acked.length + 40 + round * 7;
      for await (const line of lines) {
        const [, rev, name] = line.split(' ');
        acked.push({ revision: Number(rev), name: name! });
        if (acked.length >= target) {
          child.kill('SIGKILL');
          break;
        }
      }
      assert.equal(await exited, 'SIGKILL');

      const store = await openFileStore({
        dir: state.dir,
        kinds: meshKinds(),
        clock: createManualClock(),
        logger: createMemoryLogger(),
      });
      const last = acked[acked.length - 1]!;
      assert.ok(
        store.revision() >= last.revision,
        `recovered revision ${store.revision()} >= acked ${last.revision}`,
      );
      const { items } = await store.list({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service' });
      assert.equal(items.length, store.revision(), 'one Service per revision: no half-applied transaction');
      const names = new Set(items.map((r) => r.metadata.name));
      for (const a of acked)
        assert.ok(names.has(a.name), `acknowledged ${a.name} (revision ${a.revision}) survived`);
      await store.close();
    }
  });
});
