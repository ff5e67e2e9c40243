// GET /v1/watch: store events streamed as newline-delimited JSON, one
// `{"type","revision","object"}` per line, with BOOKMARK lines (no object) at the start and
// periodically, so a client knows the revision it has seen and that the stream is alive.
// A client that stops reading is disconnected once its backlog passes a cap; it resumes
// with ?fromRevision= from the last revision it processed.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, Timer } from '../../core/clock.js';
import type { ResourceStore, WatchEvent } from '../store/resource-store.js';

export interface WatchFilter {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly namespace?: string;
}

export interface WatchStreamOptions {
  readonly store: ResourceStore;
  readonly clock: Clock;
  readonly fromRevision: number;
  readonly filter: WatchFilter;
  readonly bookmarkIntervalMs: number;
  readonly maxBacklogBytes: number;
}

/** Starts streaming; throws (before anything is written) when the revision is compacted. Returns a stop function. */
export function startWatchStream(
  req: IncomingMessage,
  res: ServerResponse,
  o: WatchStreamOptions,
): () => void {
  let bookmark: Timer | null = null;
  let stopped = false;
  let lastRevision = o.fromRevision;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    bookmark?.cancel();
    watch.cancel();
    res.end();
  };
  const write = (line: unknown): void => {
    if (stopped) return;
    res.write(`${JSON.stringify(line)}\n`);
    if (res.writableLength > o.maxBacklogBytes) stop();
  };
  const matches = (e: WatchEvent): boolean =>
    (o.filter.apiVersion === undefined || e.resource.apiVersion === o.filter.apiVersion) &&
    (o.filter.kind === undefined || e.resource.kind === o.filter.kind) &&
    (o.filter.namespace === undefined || e.resource.metadata.namespace === o.filter.namespace);
  const watch = o.store.watch(
    o.fromRevision,
    (e) => {
      lastRevision = e.revision;
      if (matches(e)) write({ type: e.type, revision: e.revision, object: e.resource });
    },
    () => stop(),
  );
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  write({ type: 'BOOKMARK', revision: Math.max(o.fromRevision, 0) });
  const tick = (): void => {
    // Revision seen by this stream so far, not the store's: events may still be queued.
    write({ type: 'BOOKMARK', revision: lastRevision });
    if (!stopped) bookmark = o.clock.setTimer(o.bookmarkIntervalMs, tick);
  };
  bookmark = o.clock.setTimer(o.bookmarkIntervalMs, tick);
  req.on('close', stop);
  res.on('close', stop);
  return stop;
}
