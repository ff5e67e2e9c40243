// Turns translator output (resources grouped by type URL) into xDS Snapshots, and makes equal
// content the *same object*: the ADS server skips a proxy whose Snapshot is identical to the
// one it last compared, and encodes each resource object to protobuf once (resource-encoder's
// WeakMap). Every rebuild of the mesh produces fresh translator objects, so without this a
// Workload change would re-encode every cluster of every shape, and an unrelated change (or a
// control-plane restart) would make every proxy look changed.
//
// Objects are content-addressed (type URL + name + content hash, type URL + set version, the
// tuple of set versions) and kept for two generations: the current one and the previous one,
// which is what a rebuild compares against. Anything not reused in a generation is dropped.

import { createHash } from 'node:crypto';
import type { Json } from '../../xds/json-codec.js';
import { type ResourceSet, type Snapshot, type SnapshotResource, setVersion } from '../../xds/snapshot.js';
import type { EnvoyJson, XdsResource } from '../translate/xds-resources.js';

/**
 * A resource's version: a hash of its JSON as the translator wrote it. Every rebuild hashes
 * every resource of every shape, and the translator writes keys in a fixed order, so the
 * plain serialisation identifies content as well as resourceVersion()'s key-sorted one at a
 * fraction of the cost (bench:control, issue 5); equal content written in another key order
 * would only cost a resend.
 */
function contentVersion(json: Json): string {
  return createHash('sha256').update(JSON.stringify(json)).digest('hex').slice(0, 16);
}

/** Translator-shaped input: type URL → resources (sorted by name). */
export type ResourcesByType = Readonly<Record<string, readonly XdsResource[]>>;

export interface SnapshotBuilder {
  /** The Snapshot of these resources: the object built before (this or the previous generation) when content is equal. */
  build(resources: ResourcesByType): Snapshot;
  /** Starts a new generation (after a mesh rebuild); objects not reused since the previous one are dropped. */
  nextGeneration(): void;
  /** A resource set this builder handed out, by type URL and version (current or previous generation). */
  findSet(typeUrl: string, version: string): ResourceSet | undefined;
  /** Counters for tests and the debug API. */
  stats(): { generation: number; snapshots: number; sets: number; resources: number };
}

interface Generation {
  readonly resources: Map<string, SnapshotResource>;
  readonly sets: Map<string, ResourceSet>;
  readonly snapshots: Map<string, Snapshot>;
}

const newGeneration = (): Generation => ({ resources: new Map(), sets: new Map(), snapshots: new Map() });

export function createSnapshotBuilder(): SnapshotBuilder {
  let current = newGeneration();
  let previous = newGeneration();
  let generation = 1;
  // Translator objects shared between shapes (EDS is computed once per mesh snapshot) are
  // hashed once; the WeakMaps let them go with the translation that made them.
  const byObject = new WeakMap<EnvoyJson, SnapshotResource>();
  const byInput = new WeakMap<ResourcesByType, Snapshot>();

  function reuse<T>(pick: (g: Generation) => Map<string, T>, key: string, make: () => T): T {
    const here = pick(current).get(key);
    if (here !== undefined) return here;
    const value = pick(previous).get(key) ?? make();
    pick(current).set(key, value);
    return value;
  }

  function resourceOf(typeUrl: string, r: XdsResource): SnapshotResource {
    let made = byObject.get(r.resource);
    if (made === undefined) {
      const json = r.resource as Json;
      const version = contentVersion(json);
      made = reuse(
        (g) => g.resources,
        `${typeUrl}\0${r.name}\0${version}`,
        () => ({ version, json }),
      );
      byObject.set(r.resource, made);
    } else {
      current.resources.set(`${typeUrl}\0${r.name}\0${made.version}`, made);
    }
    return made;
  }

  function setOf(typeUrl: string, list: readonly XdsResource[]): ResourceSet {
    const members = new Map<string, SnapshotResource>();
    for (const r of list) members.set(r.name, resourceOf(typeUrl, r));
    const version = setVersion(members);
    return reuse(
      (g) => g.sets,
      `${typeUrl}\0${version}`,
      () => ({ version, resources: members }),
    );
  }

  return {
    build(resources) {
      const cached = byInput.get(resources);
      if (cached !== undefined) return cached;
      const sets: Array<[string, ResourceSet]> = Object.keys(resources)
        .sort()
        .map((typeUrl) => [typeUrl, setOf(typeUrl, resources[typeUrl] ?? [])]);
      const key = sets.map(([typeUrl, set]) => `${typeUrl}=${set.version}`).join('\n');
      const snapshot = reuse(
        (g) => g.snapshots,
        key,
        (): Snapshot => new Map(sets),
      );
      byInput.set(resources, snapshot);
      return snapshot;
    },
    nextGeneration() {
      previous = current;
      current = newGeneration();
      generation++;
    },
    findSet(typeUrl, version) {
      const key = `${typeUrl}\0${version}`;
      return current.sets.get(key) ?? previous.sets.get(key);
    },
    stats() {
      return {
        generation,
        snapshots: current.snapshots.size,
        sets: current.sets.size,
        resources: current.resources.size,
      };
    },
  };
}
