// What the ADS server serves: a Snapshot maps a type URL to a versioned set of named resources
// in proto3-JSON form, and a SnapshotSource says which Snapshot each proxy (node) gets.
//
// Snapshots and resources are immutable values. Many proxies of the same shape should be handed
// the *same* Snapshot object: the server recognises an unchanged snapshot by identity and
// encodes each resource object to protobuf once (see resource-encoder.ts), so sharing objects
// is what makes thousands of proxies cheap. Reusing an unchanged resource object across
// snapshot generations saves its re-encoding too.

import { createHash } from 'node:crypto';
import type { Json, JsonObject } from './json-codec.js';

export interface SnapshotResource {
  /** Changes whenever `json` does (resourceVersion() computes a content hash). */
  readonly version: string;
  /** The resource message in proto3 JSON (Envoy YAML spelling); "@type" optional. */
  readonly json: Json;
}

export interface ResourceSet {
  /** The version_info sent with this set (SotW) / system_version_info (delta). */
  readonly version: string;
  readonly resources: ReadonlyMap<string, SnapshotResource>;
}

/** type URL -> resource set. A type absent from the map has no resources. */
export type Snapshot = ReadonlyMap<string, ResourceSet>;

/** The identity a proxy sends in its first DiscoveryRequest (envoy.config.core.v3.Node). */
export interface ProxyNode {
  readonly id: string;
  readonly cluster: string;
  /** node.metadata as JSON ({} when absent). */
  readonly metadata: JsonObject;
  /** The whole Node message as JSON (locality, user_agent_name, client_features...). */
  readonly raw: JsonObject;
}

/** Which proxies a change concerns; absent means "any proxy may be affected". */
export interface SnapshotChange {
  readonly nodeIds?: readonly string[];
}

export interface SnapshotSource {
  /** The snapshot for this proxy, or undefined if none yet (the proxy then waits). */
  snapshotFor(node: ProxyNode): Snapshot | undefined;
  /** Calls `listener` after snapshots change; returns an unsubscribe function. */
  subscribe(listener: (change: SnapshotChange) => void): () => void;
}

/** A stable content hash of JSON (object keys sorted), 16 hex digits. */
export function resourceVersion(json: Json): string {
  return createHash('sha256').update(canonicalJson(json)).digest('hex').slice(0, 16);
}

function canonicalJson(json: Json): string {
  if (json === null || typeof json !== 'object') return JSON.stringify(json);
  if (Array.isArray(json)) return `[${json.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(json).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(json[k])}`).join(',')}}`;
}

/** Builds a resource set: each resource versioned by content hash, the set by its names and versions. */
export function createResourceSet(resources: Iterable<[string, Json]>, version?: string): ResourceSet {
  const map = new Map<string, SnapshotResource>();
  for (const [name, json] of resources) map.set(name, { version: resourceVersion(json), json });
  return { version: version ?? setVersion(map), resources: map };
}

/** The version of a set derived from its members, so equal content gives an equal version. */
export function setVersion(resources: ReadonlyMap<string, SnapshotResource>): string {
  const hash = createHash('sha256');
  for (const name of [...resources.keys()].sort()) hash.update(`${name}\0${resources.get(name)!.version}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** Convenience: a Snapshot from plain objects, `{ [typeUrl]: { [name]: json } }`. */
export function createSnapshot(types: Readonly<Record<string, Readonly<Record<string, Json>>>>): Snapshot {
  const snapshot = new Map<string, ResourceSet>();
  for (const [typeUrl, resources] of Object.entries(types)) {
    snapshot.set(typeUrl, createResourceSet(Object.entries(resources)));
  }
  return snapshot;
}

/**
 * A SnapshotSource backed by a map: per node id, with a default for every other node.
 * Enough for tests, the benchmark and small embeddings; the control plane's cache implements
 * the same interface.
 */
export interface StaticSnapshotSource extends SnapshotSource {
  /** Sets the snapshot for one node id, or the default (`nodeId` undefined); notifies subscribers. */
  set(snapshot: Snapshot | undefined, nodeId?: string): void;
}

export function createStaticSnapshotSource(initial?: Snapshot): StaticSnapshotSource {
  let fallback = initial;
  const byNode = new Map<string, Snapshot>();
  const listeners = new Set<(change: SnapshotChange) => void>();
  return {
    snapshotFor(node) {
      return byNode.get(node.id) ?? fallback;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(snapshot, nodeId) {
      if (nodeId === undefined) fallback = snapshot;
      else if (snapshot === undefined) byNode.delete(nodeId);
      else byNode.set(nodeId, snapshot);
      const change: SnapshotChange = nodeId === undefined ? {} : { nodeIds: [nodeId] };
      for (const l of listeners) l(change);
    },
  };
}
