// A child process for the kill -9 test: opens a file store and applies one new Service per
// transaction forever, printing `ack REVISION NAME` after each acknowledged apply, until
// the parent kills it. Snapshots are taken often so the kill can land inside compaction.

import { systemClock } from '../../../core/clock.js';
import { createLogger } from '../../../core/logger.js';
import { openFileStore } from '../file-store.js';
import { meshKinds, serviceDoc } from './fixtures.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: apply-loop-child.js STATE_DIR');
const store = await openFileStore({
  dir,
  kinds: meshKinds(),
  clock: systemClock,
  logger: createLogger('warn'),
  snapshotEveryRecords: 7,
});
for (let i = store.revision(); ; i++) {
  const name = `svc-${i}`;
  const { revision } = await store.apply([serviceDoc(name, 1000 + (i % 60000))]);
  process.stdout.write(`ack ${revision} ${name}\n`);
}
