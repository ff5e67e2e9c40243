// A SnapshotSource that has nothing to serve until the real one is attached, so the ADS
// server can accept proxies before the mesh is loaded: their streams open and wait (no
// snapshot yet) instead of being refused. After a control-plane restart, every refused
// connection doubles a proxy's reconnect back-off, so the sooner the port accepts, the
// sooner the whole fleet is back (bench:control's reconnect storm, issue 5).

import type { SnapshotChange, SnapshotSource } from '../../xds/snapshot.js';

export interface PendingSource extends SnapshotSource {
  /** From now on serves `source`'s snapshots and forwards its changes; tells subscribers once. */
  attach(source: SnapshotSource): void;
}

export function createPendingSource(): PendingSource {
  let inner: SnapshotSource | undefined;
  const listeners = new Set<(change: SnapshotChange) => void>();
  const notify = (change: SnapshotChange): void => {
    for (const l of listeners) l(change);
  };
  return {
    snapshotFor(node) {
      return inner?.snapshotFor(node);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    attach(source) {
      if (inner !== undefined) throw new Error('a source is already attached');
      inner = source;
      source.subscribe(notify);
      notify({});
    },
  };
}
