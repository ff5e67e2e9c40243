// The ResourceStore contract: what the API, the Workload leases and (later) the translator
// and xDS server need from storage. The embedded file store implements it today; an etcd
// store will implement it later, so nothing outside this folder depends on how it persists.
//
// Semantics (Kubernetes-like):
// - Every committed transaction gets the next revision (1, 2, 3, ...), one per transaction,
//   however many resources it touched. A transaction that changes nothing gets none.
// - The store sets metadata.resourceVersion (revision of the resource's last change),
//   metadata.generation (1 on create, +1 each time spec changes; status and metadata-only
//   changes do not bump it) and metadata.creationTimestamp (RFC 3339, on create).
// - Returned resources are frozen: treat them as read-only.

import type { Resource, ResourceKey } from '../resource.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  readonly type: WatchEventType;
  /** The resource after the change; for DELETED, its last state with resourceVersion = this revision. */
  readonly resource: Resource;
  /** The revision of the transaction that made the change. */
  readonly revision: number;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  /** The store revision after the transaction (unchanged when nothing changed). */
  readonly revision: number;
  readonly items: readonly {
    readonly key: ResourceKey;
    readonly action: ApplyAction;
    readonly resource: Resource;
  }[];
}

export interface ListQuery {
  readonly apiVersion: string;
  readonly kind: string;
  /** Omit for every namespace. */
  readonly namespace?: string;
  /** Kubernetes label selector syntax: `app=web,tier!=db,env in (a,b),canary,!legacy`. */
  readonly labelSelector?: string;
}

export interface ListResult {
  readonly items: readonly Resource[];
  /** The revision the list reflects: watch from here to see every later change. */
  readonly revision: number;
}

/** A delete target; `resourceVersion`, when given, must match (optimistic concurrency). */
export interface DeleteTarget extends ResourceKey {
  readonly resourceVersion?: string;
}

export interface Watch {
  cancel(): void;
}

export type WatchEndReason = 'cancelled' | 'closed';

export interface ResourceStore {
  get(key: ResourceKey): Promise<Resource | undefined>;
  list(query: ListQuery): Promise<ListResult>;
  /**
   * Validates (against the injected KindRegistry) and stores every resource as one
   * transaction: all or nothing. Throws ConfigError (paths prefixed `items[i].`) when any is
   * invalid, ControlError WEFT_CONFLICT when a given metadata.resourceVersion is stale.
   * Resolves only once the transaction is durable.
   */
  apply(resources: readonly unknown[]): Promise<ApplyResult>;
  /** Deletes every target in one transaction; WEFT_NOT_FOUND (nothing deleted) if any is missing. */
  delete(targets: readonly DeleteTarget[]): Promise<{ revision: number; deleted: readonly Resource[] }>;
  /** Replaces `status` (e.g. route conditions) without bumping generation. */
  updateStatus(
    key: ResourceKey,
    status: Record<string, unknown>,
    resourceVersion?: string,
  ): Promise<Resource>;
  /**
   * Delivers, in order, every event with revision > fromRevision, then live events, each
   * asynchronously (never inside the call that caused it). Throws ControlError
   * WEFT_REVISION_COMPACTED when fromRevision is older than the retained history: re-list
   * and watch from the list's revision.
   */
  watch(
    fromRevision: number,
    onEvent: (event: WatchEvent) => void,
    onEnd?: (reason: WatchEndReason) => void,
  ): Watch;
  /** The revision of the last committed transaction (0 for an empty, new store). */
  revision(): number;
  /** The oldest fromRevision watch() still accepts. */
  oldestWatchableRevision(): number;
  /** Ends every watch, finishes pending writes and releases the state directory. */
  close(): Promise<void>;
}

export function keyOf(r: {
  apiVersion: string;
  kind: string;
  metadata: { namespace?: string; name: string };
}): ResourceKey {
  return {
    apiVersion: r.apiVersion,
    kind: r.kind,
    namespace: r.metadata.namespace ?? '',
    name: r.metadata.name,
  };
}

export function keyString(k: ResourceKey): string {
  return `${k.apiVersion}|${k.kind}|${k.namespace}|${k.name}`;
}

/** `Service default/web` — for messages. */
export function describeKey(k: ResourceKey): string {
  return `${k.kind} ${k.namespace === '' ? '' : `${k.namespace}/`}${k.name}`;
}
