// Per-stream, per-type xDS bookkeeping shared by the SotW and delta streams: what the proxy
// subscribed to, what it has been sent (so only changes go out), the outstanding nonce, and
// the ACK/NACK history shown by status(). Pure state and functions; no I/O.
//
// What the proxy holds is tracked without a per-proxy copy of every name and version: after
// each response the proxy's view of a subscribed name equals `sentSet`'s entry for it (every
// response covers every change among subscribed names), except names subscribed since then
// (`unsent`), and, for a delta stream that reconnected, the versions it declared in
// initial_resource_versions (`declared`) until the first response replaces them.
// xDS protocol doc: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol

import type { ResourceSet, SnapshotResource } from './snapshot.js';

export type SyncState = 'SYNCED' | 'STALE' | 'NACKED' | 'NOT_SENT';

export interface NackRecord {
  /** The version_info of the rejected response. */
  readonly version: string;
  readonly nonce: string;
  /** error_detail.code / .message from the proxy. */
  readonly code: number;
  readonly message: string;
  /** Clock.now() when the NACK arrived. */
  readonly at: number;
}

export interface TypeState {
  readonly typeUrl: string;
  /** Subscribed to every resource of the type ("*" or the legacy empty list). */
  wildcard: boolean;
  /** The proxy has sent a non-empty name list at least once (ends the legacy wildcard, SotW). */
  everExplicit: boolean;
  /** Explicitly subscribed names. */
  readonly names: Set<string>;
  /** Names subscribed since the last response: the proxy has not been sent them. */
  readonly unsent: Set<string>;
  /** Delta reconnect: versions the proxy says it already has (initial_resource_versions). */
  declared: ReadonlyMap<string, string> | undefined;
  /** The set the last response (or confirmed no-op) was computed from. */
  sentSet: ResourceSet | undefined;
  /** Nonce of the response awaiting ACK/NACK; only one is outstanding per type (flow control). */
  pendingNonce: string | undefined;
  lastNonce: string | undefined;
  sentVersion: string | undefined;
  ackedVersion: string | undefined;
  nack: NackRecord | undefined;
  /** A change arrived while a response was outstanding; send it when the proxy answers. */
  owed: boolean;
  responses: number;
}

export function createTypeState(typeUrl: string): TypeState {
  return {
    typeUrl,
    wildcard: false,
    everExplicit: false,
    names: new Set(),
    unsent: new Set(),
    declared: undefined,
    sentSet: undefined,
    pendingNonce: undefined,
    lastNonce: undefined,
    sentVersion: undefined,
    ackedVersion: undefined,
    nack: undefined,
    owed: false,
    responses: 0,
  };
}

const EMPTY: ReadonlyMap<string, SnapshotResource> = new Map();

export interface Changes {
  /** Subscribed resources whose version differs from what the proxy has. */
  readonly updated: Array<[string, SnapshotResource]>;
  /** Names the proxy has (or newly asked for) that the set no longer (or never) holds. */
  readonly removed: string[];
}

export function isSubscribed(state: TypeState, name: string): boolean {
  return state.wildcard || state.names.has(name);
}

/** The version of `name` the proxy holds, as far as the server knows. */
export function heldVersion(state: TypeState, name: string): string | undefined {
  if (state.declared !== undefined) return state.declared.get(name);
  if (state.unsent.has(name)) return undefined;
  return state.sentSet?.resources.get(name)?.version;
}

/** The set of a type without resources (what an absent type counts as). */
export const EMPTY_SET: ResourceSet = Object.freeze({ version: '', resources: EMPTY });

/**
 * Names whose version differs between two sets (present in one only, or with another
 * version): in `to`'s order, then names only `from` has. Memoized per pair, because every
 * proxy that held `from` asks the same question after a change: with thousands of proxies
 * subscribed to every EDS name, one diff of the two sets replaces a walk of every
 * subscribed name per proxy (bench:control, issue 5).
 */
const diffs = new WeakMap<ResourceSet, WeakMap<ResourceSet, readonly string[]>>();

export function changedNames(from: ResourceSet, to: ResourceSet): readonly string[] {
  let byTo = diffs.get(from);
  if (byTo === undefined) diffs.set(from, (byTo = new WeakMap()));
  let names = byTo.get(to);
  if (names !== undefined) return names;
  const out: string[] = [];
  for (const [name, r] of to.resources) if (from.resources.get(name)?.version !== r.version) out.push(name);
  for (const name of from.resources.keys()) if (!to.resources.has(name)) out.push(name);
  names = out;
  byTo.set(to, names);
  return names;
}

/** What must be sent to bring the proxy from what it holds to `set`, for its subscriptions. */
export function computeChanges(state: TypeState, set: ResourceSet | undefined): Changes {
  const current = set?.resources ?? EMPTY;
  const updated: Array<[string, SnapshotResource]> = [];
  const removed: string[] = [];
  if (state.unsent.size === 0 && state.declared === undefined) {
    if (set === state.sentSet) return { updated, removed };
    if (state.sentSet !== undefined) {
      // The proxy holds exactly sentSet's versions of its subscribed names: only names that
      // differ between the two sets can need sending.
      for (const name of changedNames(state.sentSet, set ?? EMPTY_SET)) {
        if (!isSubscribed(state, name)) continue;
        const resource = current.get(name);
        if (resource !== undefined) updated.push([name, resource]);
        else removed.push(name);
      }
      return { updated, removed };
    }
  }
  const visit = (name: string): void => {
    if (!isSubscribed(state, name)) return;
    const resource = current.get(name);
    const held = heldVersion(state, name);
    if (resource !== undefined) {
      if (resource.version !== held) updated.push([name, resource]);
    } else if (held !== undefined || state.unsent.has(name)) {
      removed.push(name);
    }
  };
  const seen = new Set<string>();
  const visitOnce = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    visit(name);
  };
  if (state.wildcard) for (const name of current.keys()) visitOnce(name);
  for (const name of state.names) visitOnce(name);
  if (state.declared !== undefined) for (const name of state.declared.keys()) visitOnce(name);
  else if (state.wildcard && state.sentSet !== undefined)
    for (const name of state.sentSet.resources.keys()) visitOnce(name);
  return { updated, removed };
}

/** Records that the proxy now holds `set` for its subscriptions (after a response or a no-op). */
export function markSent(state: TypeState, set: ResourceSet | undefined): void {
  state.sentSet = set ?? EMPTY_SET;
  state.unsent.clear();
  state.declared = undefined;
}

/** Applies a (new) list of explicitly subscribed names; returns true if the subscription changed. */
export function replaceNames(state: TypeState, names: Iterable<string>): boolean {
  const next = new Set(names);
  let changed = next.size !== state.names.size;
  for (const name of next) {
    if (!state.names.has(name)) {
      changed = true;
      state.unsent.add(name);
    }
  }
  for (const name of state.names) if (!next.has(name)) state.unsent.delete(name);
  state.names.clear();
  for (const name of next) state.names.add(name);
  return changed;
}

/** The proxy answered the outstanding response: an ACK, or a NACK when error_detail is set. */
export function recordAnswer(
  state: TypeState,
  nack: { code: number; message: string } | undefined,
  proxyVersion: string,
  now: number,
): void {
  const nonce = state.pendingNonce ?? state.lastNonce ?? '';
  state.pendingNonce = undefined;
  if (nack === undefined) {
    state.ackedVersion = state.sentVersion;
    state.nack = undefined;
  } else {
    // The proxy keeps its last good config; the version it reports is that one.
    state.ackedVersion = proxyVersion === '' ? state.ackedVersion : proxyVersion;
    state.nack = { version: state.sentVersion ?? '', nonce, code: nack.code, message: nack.message, at: now };
  }
}

export function syncState(state: TypeState): SyncState {
  if (state.sentSet === undefined && state.responses === 0) return 'NOT_SENT';
  if (state.pendingNonce !== undefined || state.owed) return 'STALE';
  if (state.nack !== undefined) return 'NACKED';
  return 'SYNCED';
}
