// The in-process ResourceStore: state in memory, every transaction handed to a Persistence
// (the write-ahead log of the file store, or nothing for a memory store) and made durable
// before it is committed to memory, acknowledged and published to watchers.
//
// Transactions run one at a time through a promise queue, so each is planned against the
// state the previous one left and revisions are strictly sequential. Reads never wait.

import { isPlainObject } from '../../config/fields.js';
import type { Clock } from '../../core/clock.js';
import { ConfigError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { KindRegistry } from '../kinds/registry.js';
import type { Resource, ResourceIssue, ResourceKey } from '../resource.js';
import { ControlError } from './control-error.js';
import { matchesLabels, parseLabelSelector } from './label-selector.js';
import type {
  ApplyAction,
  ApplyResult,
  DeleteTarget,
  ListQuery,
  ListResult,
  ResourceStore,
  Watch,
  WatchEndReason,
  WatchEvent,
} from './resource-store.js';
import { describeKey, keyOf, keyString } from './resource-store.js';
import type { SnapshotData } from './snapshot.js';
import type { TxOp, TxRecord } from './wal.js';

/** Where committed transactions go. Methods are only called from the store's queue, one at a time. */
export interface Persistence {
  /** Makes the transaction durable; the store commits it only when this resolves. */
  append(record: TxRecord): Promise<void>;
  /** After a commit: a chance to write a snapshot and compact (errors are logged, not fatal). */
  afterCommit(state: () => SnapshotData): Promise<void>;
  close(state: () => SnapshotData): Promise<void>;
}

export interface EmbeddedStoreOptions {
  readonly kinds: KindRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly persistence: Persistence;
  /** State to start from (a snapshot); defaults to empty at revision 0. */
  readonly initial?: SnapshotData;
  /** How many recent events watch() can replay (default 10000). */
  readonly historyLimit?: number;
}

interface HistoryEntry {
  readonly revision: number;
  readonly events: readonly WatchEvent[];
}

interface Watcher {
  readonly from: number;
  readonly onEvent: (e: WatchEvent) => void;
  readonly onEnd: ((reason: WatchEndReason) => void) | undefined;
  pending: WatchEvent[];
  scheduled: boolean;
  ended: boolean;
}

export class EmbeddedStore implements ResourceStore {
  private readonly objects = new Map<string, Resource>();
  private rev: number;
  private readonly history: HistoryEntry[] = [];
  private historyEvents = 0;
  private historyStart: number;
  private readonly historyLimit: number;
  private readonly watchers = new Set<Watcher>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: EmbeddedStoreOptions) {
    this.rev = opts.initial?.revision ?? 0;
    this.historyStart = this.rev;
    this.historyLimit = opts.historyLimit ?? 10_000;
    for (const r of opts.initial?.resources ?? []) this.objects.set(keyString(keyOf(r)), deepFreeze(r));
  }

  /** Re-applies logged transactions during recovery (they are already durable). */
  replay(record: TxRecord): void {
    if (record.revision !== this.rev + 1)
      throw new ControlError(
        'WEFT_STORE_FAILED',
        500,
        `log record has revision ${record.revision} but the state is at ${this.rev}; the state directory is inconsistent`,
      );
    this.commit(record);
  }

  revision(): number {
    return this.rev;
  }

  oldestWatchableRevision(): number {
    return this.historyStart;
  }

  async get(key: ResourceKey): Promise<Resource | undefined> {
    return this.objects.get(keyString(key));
  }

  async list(query: ListQuery): Promise<ListResult> {
    const selector = query.labelSelector === undefined ? [] : parseLabelSelector(query.labelSelector);
    if (typeof selector === 'string')
      throw new ConfigError('label selector', [{ path: 'labelSelector', message: selector }]);
    const items: Resource[] = [];
    for (const r of this.objects.values()) {
      if (r.apiVersion !== query.apiVersion || r.kind !== query.kind) continue;
      if (query.namespace !== undefined && (r.metadata.namespace ?? '') !== query.namespace) continue;
      if (!matchesLabels(selector, r.metadata.labels)) continue;
      items.push(r);
    }
    items.sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
    return { items, revision: this.rev };
  }

  apply(inputs: readonly unknown[]): Promise<ApplyResult> {
    return this.mutate(async () => {
      const issues: ResourceIssue[] = [];
      const valid: Resource[] = [];
      const seen = new Map<string, number>();
      inputs.forEach((input, i) => {
        const { resource, issues: found } = this.opts.kinds.validateResource(input);
        for (const issue of found)
          issues.push({
            path: issue.path === '(root)' ? `items[${i}]` : `items[${i}].${issue.path}`,
            message: issue.message,
          });
        if (resource === null) return;
        const k = keyString(keyOf(resource));
        const first = seen.get(k);
        if (first !== undefined)
          issues.push({
            path: `items[${i}]`,
            message: `${describeKey(keyOf(resource))} is also items[${first}]`,
          });
        seen.set(k, i);
        valid.push(resource);
      });
      if (issues.length > 0) throw new ConfigError('apply', issues);

      const revision = this.rev + 1;
      const ops: TxOp[] = [];
      const conflicts: string[] = [];
      const items: { key: ResourceKey; action: ApplyAction; resource: Resource }[] = [];
      for (const r of valid) {
        const key = keyOf(r);
        const existing = this.objects.get(keyString(key));
        const wanted = r.metadata.resourceVersion;
        if (wanted !== undefined && existing?.metadata.resourceVersion !== wanted)
          conflicts.push(
            existing === undefined
              ? `${describeKey(key)} does not exist (metadata.resourceVersion ${wanted} was given)`
              : `${describeKey(key)} is at resourceVersion ${existing.metadata.resourceVersion}, not ${wanted}`,
          );
        if (existing !== undefined && sameContent(existing, r)) {
          items.push({ key, action: 'unchanged', resource: existing });
          continue;
        }
        const specChanged = existing === undefined || stableJson(existing.spec) !== stableJson(r.spec);
        const next: Resource = {
          apiVersion: r.apiVersion,
          kind: r.kind,
          metadata: {
            name: r.metadata.name,
            ...(r.metadata.namespace === undefined ? {} : { namespace: r.metadata.namespace }),
            ...(r.metadata.labels === undefined ? {} : { labels: r.metadata.labels }),
            ...(r.metadata.annotations === undefined ? {} : { annotations: r.metadata.annotations }),
            resourceVersion: String(revision),
            generation: (existing?.metadata.generation ?? 0) + (specChanged ? 1 : 0),
            creationTimestamp: existing?.metadata.creationTimestamp ?? this.nowIso(),
          },
          // A private copy: the stored object is frozen and must not alias the caller's input.
          spec: structuredClone(r.spec),
          ...(existing?.status === undefined ? {} : { status: existing.status }),
        };
        ops.push({ op: 'put', resource: next });
        items.push({ key, action: existing === undefined ? 'created' : 'configured', resource: next });
      }
      if (conflicts.length > 0) throw new ControlError('WEFT_CONFLICT', 409, conflicts.join('; '));
      if (ops.length === 0) return { revision: this.rev, items };
      await this.persist({ revision, ops });
      return {
        revision,
        items: items.map((it) => ({ ...it, resource: this.objects.get(keyString(it.key))! })),
      };
    });
  }

  delete(targets: readonly DeleteTarget[]): Promise<{ revision: number; deleted: readonly Resource[] }> {
    return this.mutate(async () => {
      const missing: string[] = [];
      const conflicts: string[] = [];
      const deleted: Resource[] = [];
      const ops: TxOp[] = [];
      const seen = new Set<string>();
      for (const t of targets) {
        const key: ResourceKey = {
          apiVersion: t.apiVersion,
          kind: t.kind,
          namespace: t.namespace,
          name: t.name,
        };
        const k = keyString(key);
        if (seen.has(k)) continue;
        seen.add(k);
        const existing = this.objects.get(k);
        if (existing === undefined) {
          missing.push(describeKey(key));
          continue;
        }
        if (t.resourceVersion !== undefined && t.resourceVersion !== existing.metadata.resourceVersion)
          conflicts.push(
            `${describeKey(key)} is at resourceVersion ${existing.metadata.resourceVersion}, not ${t.resourceVersion}`,
          );
        deleted.push(existing);
        ops.push({ op: 'delete', key });
      }
      if (missing.length > 0)
        throw new ControlError('WEFT_NOT_FOUND', 404, `not found: ${missing.join(', ')}`);
      if (conflicts.length > 0) throw new ControlError('WEFT_CONFLICT', 409, conflicts.join('; '));
      if (ops.length === 0) return { revision: this.rev, deleted };
      const revision = this.rev + 1;
      await this.persist({ revision, ops });
      return { revision, deleted };
    });
  }

  updateStatus(
    key: ResourceKey,
    status: Record<string, unknown>,
    resourceVersion?: string,
  ): Promise<Resource> {
    return this.mutate(async () => {
      if (!isPlainObject(status))
        throw new ConfigError('status', [{ path: 'status', message: 'expected an object' }]);
      const existing = this.objects.get(keyString(key));
      if (existing === undefined)
        throw new ControlError('WEFT_NOT_FOUND', 404, `not found: ${describeKey(key)}`);
      if (resourceVersion !== undefined && resourceVersion !== existing.metadata.resourceVersion)
        throw new ControlError(
          'WEFT_CONFLICT',
          409,
          `${describeKey(key)} is at resourceVersion ${existing.metadata.resourceVersion}, not ${resourceVersion}`,
        );
      if (stableJson(existing.status ?? null) === stableJson(status)) return existing;
      const revision = this.rev + 1;
      // Status is not spec: generation stays, so observedGeneration in conditions stays meaningful.
      const next: Resource = {
        ...existing,
        metadata: { ...existing.metadata, resourceVersion: String(revision) },
        status: structuredClone(status),
      };
      await this.persist({ revision, ops: [{ op: 'put', resource: next }] });
      return this.objects.get(keyString(key))!;
    });
  }

  watch(
    fromRevision: number,
    onEvent: (event: WatchEvent) => void,
    onEnd?: (reason: WatchEndReason) => void,
  ): Watch {
    if (this.closed) throw new ControlError('WEFT_STORE_FAILED', 503, 'the store is closed');
    if (!Number.isSafeInteger(fromRevision) || fromRevision < this.historyStart)
      throw new ControlError(
        'WEFT_REVISION_COMPACTED',
        410,
        `revision ${fromRevision} is too old: the oldest revision a watch can start from is ${this.historyStart} ` +
          `(current ${this.rev}); list again and watch from the list's revision`,
      );
    const w: Watcher = { from: fromRevision, onEvent, onEnd, pending: [], scheduled: false, ended: false };
    for (const entry of this.history) if (entry.revision > fromRevision) w.pending.push(...entry.events);
    this.watchers.add(w);
    this.schedule(w);
    return { cancel: () => this.endWatcher(w, 'cancelled') };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Work queued before close() completes (it may queue more, e.g. a compaction).
    let drained: Promise<unknown>;
    do {
      drained = this.queue;
      await drained;
    } while (drained !== this.queue);
    for (const w of [...this.watchers]) this.endWatcher(w, 'closed');
    await this.opts.persistence.close(() => this.snapshotData());
  }

  private async persist(record: TxRecord): Promise<void> {
    try {
      await this.opts.persistence.append(record);
    } catch (err) {
      if (err instanceof ControlError) throw err;
      throw new ControlError(
        'WEFT_STORE_FAILED',
        500,
        `could not write the transaction: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    this.commit(record);
    // Compaction runs behind the acknowledgement, still inside the queue so no append races it.
    if (this.closed) return; // close() writes a final snapshot anyway
    void this.enqueue(() => this.opts.persistence.afterCommit(() => this.snapshotData())).catch(
      (err: Error) =>
        this.opts.logger.warn(`store: snapshot failed (the log still has every transaction): ${err.message}`),
    );
  }

  private commit(record: TxRecord): void {
    const events: WatchEvent[] = [];
    for (const op of record.ops) {
      if (op.op === 'put') {
        const resource = deepFreeze(op.resource);
        const k = keyString(keyOf(resource));
        const type = this.objects.has(k) ? 'MODIFIED' : 'ADDED';
        this.objects.set(k, resource);
        events.push(Object.freeze({ type, resource, revision: record.revision }));
      } else {
        const k = keyString(op.key);
        const last = this.objects.get(k);
        if (last === undefined) continue;
        this.objects.delete(k);
        const resource = deepFreeze({
          ...last,
          metadata: { ...last.metadata, resourceVersion: String(record.revision) },
        });
        events.push(Object.freeze({ type: 'DELETED', resource, revision: record.revision }));
      }
    }
    this.rev = record.revision;
    this.history.push({ revision: record.revision, events });
    this.historyEvents += events.length;
    while (this.historyEvents > this.historyLimit && this.history.length > 1) {
      const dropped = this.history.shift()!;
      this.historyEvents -= dropped.events.length;
      this.historyStart = dropped.revision;
    }
    for (const w of this.watchers) {
      if (record.revision <= w.from) continue;
      w.pending.push(...events);
      this.schedule(w);
    }
  }

  private schedule(w: Watcher): void {
    if (w.scheduled || w.pending.length === 0) return;
    w.scheduled = true;
    queueMicrotask(() => {
      w.scheduled = false;
      const batch = w.pending;
      w.pending = [];
      for (const e of batch) {
        if (w.ended) return;
        try {
          w.onEvent(e);
        } catch (err) {
          this.opts.logger.error(`store: a watch callback threw: ${(err as Error).message}`);
        }
      }
    });
  }

  private endWatcher(w: Watcher, reason: WatchEndReason): void {
    if (w.ended) return;
    w.ended = true;
    this.watchers.delete(w);
    w.onEnd?.(reason);
  }

  /** Queues a transaction; refused once close() has begun. */
  private mutate<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ControlError('WEFT_STORE_FAILED', 503, 'the store is closed'));
    return this.enqueue(fn);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private snapshotData(): SnapshotData {
    return { revision: this.rev, resources: [...this.objects.values()] };
  }

  private nowIso(): string {
    // RFC 3339 at second precision, as Kubernetes prints creationTimestamp.
    return new Date(Math.floor(this.opts.clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  }
}

function sameContent(a: Resource, b: Resource): boolean {
  return (
    stableJson(a.spec) === stableJson(b.spec) &&
    stableJson(a.metadata.labels ?? {}) === stableJson(b.metadata.labels ?? {}) &&
    stableJson(a.metadata.annotations ?? {}) === stableJson(b.metadata.annotations ?? {})
  );
}

/** JSON with object keys sorted, so equal content compares equal whatever the key order. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) => {
    if (!isPlainObject(value)) return value;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = value[key];
    return sorted;
  });
}

function compareKeys(a: ResourceKey, b: ResourceKey): number {
  return a.namespace < b.namespace
    ? -1
    : a.namespace > b.namespace
      ? 1
      : a.name < b.name
        ? -1
        : a.name > b.name
          ? 1
          : 0;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
