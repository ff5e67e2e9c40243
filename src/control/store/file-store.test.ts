import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../core/errors.js';
import { createMemoryLogger } from '../../core/logger.js';
import { createManualClock } from '../../proxy/upstream/testing/manual-clock.js';
import { ControlError } from './control-error.js';
import { type FileStoreOptions, openFileStore, WAL_FILE } from './file-store.js';
import type { WatchEvent } from './resource-store.js';
import { eventCollector, meshKinds, serviceDoc, tempStateDir, workloadDoc } from './testing/fixtures.js';
import { encodeRecord } from './wal.js';

const dirs: { cleanup(): void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});
function stateDir(): string {
  const t = tempStateDir();
  dirs.push(t);
  return t.dir;
}
function open(dir: string, extra: Partial<FileStoreOptions> = {}) {
  const logger = createMemoryLogger();
  return openFileStore({ dir, kinds: meshKinds(), clock: createManualClock(), logger, ...extra }).then(
    (store) => ({
      store,
      logger,
    }),
  );
}
/** A copy of the directory as it is now: what a crash at this moment would leave. */
function crashCopy(dir: string): string {
  const copy = stateDir();
  cpSync(dir, copy, { recursive: true });
  return copy;
}
const svcKey = (name: string) => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Service',
  namespace: 'default',
  name,
});

describe('file store', () => {
  it('sets revision, resourceVersion, generation and creationTimestamp', async () => {
    const { store } = await open(stateDir());
    const r1 = await store.apply([serviceDoc('web'), serviceDoc('api')]);
    assert.equal(r1.revision, 1, 'one revision per transaction');
    assert.deepEqual(
      r1.items.map((i) => i.action),
      ['created', 'created'],
    );
    const web = await store.get(svcKey('web'));
    assert.equal(web?.metadata.resourceVersion, '1');
    assert.equal(web?.metadata.generation, 1);
    assert.equal(web?.metadata.creationTimestamp, '2023-11-14T22:13:20Z');
    assert.ok(Object.isFrozen(web?.spec), 'stored objects are read-only');

    const same = await store.apply([serviceDoc('web')]);
    assert.equal(same.revision, 1, 'an unchanged apply is no transaction');
    assert.equal(same.items[0]?.action, 'unchanged');

    const relabel = await store.apply([
      { ...serviceDoc('web'), metadata: { name: 'web', labels: { app: 'x' } } },
    ]);
    assert.equal(relabel.revision, 2);
    assert.equal((await store.get(svcKey('web')))?.metadata.generation, 1, 'labels are not spec');

    await store.apply([serviceDoc('web', 81)]);
    const changed = await store.get(svcKey('web'));
    assert.equal(changed?.metadata.generation, 2);
    assert.equal(changed?.metadata.resourceVersion, '3');
    assert.equal(changed?.metadata.creationTimestamp, web?.metadata.creationTimestamp);
    await store.close();
  });

  it('is all-or-nothing: one invalid resource stores nothing, with every issue by item path', async () => {
    const { store } = await open(stateDir());
    const bad = workloadDoc('w1', { weight: 0 });
    await assert.rejects(store.apply([serviceDoc('web'), bad, serviceDoc('web')]), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.issues.map((i) => i.path),
        ['items[1].spec.weight', 'items[2]'],
      );
      return true;
    });
    assert.equal(store.revision(), 0);
    assert.equal((await store.list({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service' })).items.length, 0);

    await store.apply([serviceDoc('web')]);
    const stale = { ...serviceDoc('api'), metadata: { name: 'web', resourceVersion: '99' } };
    await assert.rejects(store.apply([serviceDoc('new'), stale]), (err: unknown) => {
      assert.ok(err instanceof ControlError && err.code === 'WEFT_CONFLICT' && err.status === 409);
      assert.match(err.message, /Service default\/web is at resourceVersion 1, not 99/);
      return true;
    });
    assert.equal(await store.get(svcKey('new')), undefined, 'the conflict stored nothing');
    await assert.rejects(
      store.delete([svcKey('web'), svcKey('missing')]),
      /not found: Service default\/missing/,
    );
    assert.ok(await store.get(svcKey('web')), 'a failed delete deletes nothing');
    await store.close();
  });

  it('recovers every acknowledged transaction after a crash (log replay) and after a clean close (snapshot)', async () => {
    const dir = stateDir();
    const { store } = await open(dir, { snapshotEveryRecords: 1000 });
    await store.apply([serviceDoc('a')]);
    await store.apply([serviceDoc('b')]);
    await store.delete([svcKey('a')]);
    await store.updateStatus(svcKey('b'), { note: 'x' });
    const crashed = crashCopy(dir);
    await store.close();

    for (const d of [crashed, dir]) {
      const { store: again, logger } = await open(d);
      assert.equal(again.revision(), 4, d);
      assert.equal(await again.get(svcKey('a')), undefined);
      assert.deepEqual((await again.get(svcKey('b')))?.status, { note: 'x' });
      assert.match(
        logger.lines.join('\n'),
        d === crashed ? /4 log records replayed/ : /snapshot 4, 0 log records/,
      );
      await again.apply([serviceDoc('c')]);
      assert.equal(again.revision(), 5, 'revisions continue after recovery');
      await again.close();
    }
  });

  it('drops a torn tail record, truncates it away, and keeps appending cleanly', async () => {
    const dir = stateDir();
    const { store } = await open(dir);
    await store.apply([serviceDoc('a')]);
    await store.apply([serviceDoc('b')]);
    const crashed = crashCopy(dir);
    await store.close();
    const whole = encodeRecord({ revision: 3, ops: [{ op: 'delete', key: svcKey('a') }] });
    const walPath = join(crashed, WAL_FILE);
    const goodSize = statSync(walPath).size;
    appendFileSync(walPath, whole.subarray(0, whole.length - 3)); // the write the crash interrupted

    const { store: again, logger } = await open(crashed);
    assert.equal(again.revision(), 2);
    assert.ok(await again.get(svcKey('a')), 'the unacknowledged delete did not happen');
    assert.match(logger.lines.join('\n'), /dropped a torn record of \d+ bytes/);
    assert.equal(statSync(walPath).size, goodSize, 'the torn bytes were cut off');
    await again.apply([serviceDoc('c')]);
    const copy = crashCopy(crashed);
    await again.close();
    const { store: third } = await open(copy);
    assert.equal(third.revision(), 3);
    assert.ok(await third.get(svcKey('c')));
    await third.close();
  });

  it('refuses to open a log corrupted before its end instead of losing what follows', async () => {
    const dir = stateDir();
    const { store } = await open(dir);
    await store.apply([serviceDoc('a')]);
    await store.apply([serviceDoc('b')]);
    const crashed = crashCopy(dir);
    await store.close();
    const walPath = join(crashed, WAL_FILE);
    const buf = readFileSync(walPath);
    buf[12] ^= 0xff; // inside the first record's payload
    writeFileSync(walPath, buf);
    await assert.rejects(open(crashed), (err: unknown) => {
      assert.ok(err instanceof ControlError && err.code === 'WEFT_STORE_FAILED');
      assert.match(err.message, /corrupt record at byte 0 followed by \d+ more bytes/);
      return true;
    });
  });

  it('compacts into a snapshot and recovers from snapshot + log', async () => {
    const dir = stateDir();
    const { store } = await open(dir, { snapshotEveryRecords: 3 });
    for (let i = 0; i < 8; i++) await store.apply([serviceDoc(`s${i}`)]);
    await store.apply([serviceDoc('s0', 99)]);
    const crashed = crashCopy(dir);
    const snap = JSON.parse(readFileSync(join(crashed, 'snapshot.json'), 'utf8')) as { revision: number };
    assert.ok(snap.revision >= 6, `a snapshot was taken (at ${snap.revision})`);
    assert.ok(statSync(join(crashed, WAL_FILE)).size < 2000, 'the log was emptied at the snapshot');
    await store.close();
    const { store: again } = await open(crashed);
    assert.equal(again.revision(), 9);
    assert.equal((await again.list({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service' })).items.length, 8);
    assert.equal((await again.get(svcKey('s0')))?.metadata.generation, 2);
    await again.close();
  });

  it('replays watch events in order from a past revision, then streams live ones', async () => {
    const { store } = await open(stateDir(), { historyLimit: 3 });
    await store.apply([serviceDoc('a')]);
    await store.apply([serviceDoc('b')]);
    await store.apply([serviceDoc('a', 81)]);
    const got = eventCollector<WatchEvent>();
    const w = store.watch(1, (e) => got.push(e));
    assert.equal(got.events.length, 0, 'delivery is asynchronous');
    await store.delete([svcKey('b')]);
    const events = await got.next(3);
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.resource.metadata.name} ${e.revision}`),
      ['ADDED b 2', 'MODIFIED a 3', 'DELETED b 4'],
    );
    w.cancel();
    await store.apply([serviceDoc('c'), serviceDoc('d')]);
    await store.apply([serviceDoc('e')]);
    assert.equal(got.events.length, 3, 'a cancelled watch gets nothing more');
    assert.throws(
      () => store.watch(2, () => {}),
      (err: unknown) =>
        err instanceof ControlError && err.code === 'WEFT_REVISION_COMPACTED' && err.status === 410,
    );
    const ended: string[] = [];
    store.watch(
      store.revision(),
      () => {},
      (reason) => ended.push(reason),
    );
    await store.close();
    assert.deepEqual(ended, ['closed']);
  });

  it('updates status without bumping generation, and apply keeps the status', async () => {
    const { store } = await open(stateDir());
    await store.apply([serviceDoc('web')]);
    const got = eventCollector<WatchEvent>();
    store.watch(1, (e) => got.push(e));
    const updated = await store.updateStatus(svcKey('web'), {
      conditions: [{ type: 'Accepted', status: 'True' }],
    });
    assert.equal(updated.metadata.generation, 1);
    assert.equal(updated.metadata.resourceVersion, '2');
    assert.equal((await got.next(1))[0]?.type, 'MODIFIED');
    await store.apply([serviceDoc('web', 90)]);
    const r = await store.get(svcKey('web'));
    assert.equal(r?.metadata.generation, 2);
    assert.deepEqual(r?.status, { conditions: [{ type: 'Accepted', status: 'True' }] });
    await assert.rejects(store.updateStatus(svcKey('web'), {}, '1'), /resourceVersion 3, not 1/);
    await store.close();
  });

  it('lists by namespace and label selector', async () => {
    const { store } = await open(stateDir());
    await store.apply([
      workloadDoc('a', {}, 'shop'),
      { ...workloadDoc('b', {}, 'shop'), metadata: { name: 'b', namespace: 'shop', labels: { app: 'db' } } },
      workloadDoc('c', {}, 'other'),
    ]);
    const q = { apiVersion: 'weft.dev/v1alpha1', kind: 'Workload' };
    const names = async (extra: object) =>
      (await store.list({ ...q, ...extra })).items.map((r) => r.metadata.name);
    assert.deepEqual(await names({}), ['c', 'a', 'b']);
    assert.deepEqual(await names({ namespace: 'shop' }), ['a', 'b']);
    assert.deepEqual(await names({ labelSelector: 'app in (db, x)' }), ['b']);
    assert.deepEqual(await names({ namespace: 'shop', labelSelector: 'app!=db' }), ['a']);
    await assert.rejects(store.list({ ...q, labelSelector: 'app=(' }), ConfigError);
    await store.close();
  });

  it('refuses a state directory another live process holds', async () => {
    const dir = stateDir();
    writeFileSync(join(dir, 'LOCK'), `${process.ppid}\n`);
    await assert.rejects(open(dir), /in use by process/);
  });
});
