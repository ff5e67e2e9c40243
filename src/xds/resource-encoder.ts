// Encodes snapshot resources to google.protobuf.Any once per resource object and caches the
// result (a WeakMap keyed by the immutable SnapshotResource), so a resource shared by many
// proxies, or carried unchanged into the next snapshot, is serialised a single time.
// A resource that fails to encode is cached as failed and reported once to the logger.

import type { Logger } from '../core/logger.js';
import type { AnyMessage, JsonCodec } from './json-codec.js';
import type { SnapshotResource } from './snapshot.js';
import { encodeResourceEntry } from './wire-response.js';

export interface ResourceEncoder {
  /** The resource packed as an Any of `typeUrl`, or undefined if its JSON does not encode. */
  encode(typeUrl: string, name: string, resource: SnapshotResource): AnyMessage | undefined;
  /** The resource as a DiscoveryResponse `resources` entry (field 2), cached like `encode`. */
  encodeEntry(typeUrl: string, name: string, resource: SnapshotResource): Uint8Array | undefined;
  /** How many resources were actually serialised (cache misses); for tests and metrics. */
  readonly encodedCount: number;
}

const FAILED = Symbol('failed');

export function createResourceEncoder(codec: JsonCodec, logger: Logger): ResourceEncoder {
  const cache = new WeakMap<SnapshotResource, AnyMessage | typeof FAILED>();
  const entries = new WeakMap<SnapshotResource, Uint8Array>();
  let encodedCount = 0;
  return {
    encodeEntry(typeUrl, name, resource) {
      let entry = entries.get(resource);
      if (entry === undefined) {
        const any = this.encode(typeUrl, name, resource);
        if (any === undefined) return undefined;
        entry = encodeResourceEntry(any);
        entries.set(resource, entry);
      }
      return entry;
    },
    encode(typeUrl, name, resource) {
      const cached = cache.get(resource);
      if (cached !== undefined) return cached === FAILED ? undefined : cached;
      encodedCount++;
      try {
        const any = codec.toAny(typeUrl, resource.json);
        cache.set(resource, any);
        return any;
      } catch (err) {
        cache.set(resource, FAILED);
        logger.error(
          `xds: resource '${name}' (${typeUrl}) version ${resource.version} does not encode, not served: ${(err as Error).message}`,
        );
        return undefined;
      }
    },
    get encodedCount() {
      return encodedCount;
    },
  };
}
