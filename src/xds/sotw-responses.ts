// SotW responses shared between streams (bench:control, issue 5).
//
// What a state-of-the-world stream sends for a type depends only on what the proxy holds
// (the set of the last response, or nothing yet), the new set, and its subscription (the
// resource_names list, which request-names.ts decodes to one shared array per distinct list,
// and the wildcard flag). Thousands of sidecars of one shape go through the same
// transitions, so the outcome (is there anything to send, and the DiscoveryResponse bytes)
// is computed once per transition and handed to every stream that makes it, instead of each
// stream diffing the names and concatenating a thousand cached entries into its own Buffer.
//
// A response's bytes include its nonce. Nonces come from one counter per server, and a
// stream only takes bytes whose nonce is above the last one it sent for the type (otherwise
// the bytes are encoded again with a fresh nonce), so each stream still sees strictly
// increasing, never repeated nonces per type, which is all the protocol asks of them.
// Everything is held in WeakMaps keyed by the sets and name lists: it goes with them.
// The bytes are gRPC-framed once where grpc-shared-frames.ts can pass them through, so the
// streams share them instead of each holding its own copy.

import { frameMessage, sharedFramesSupported } from './grpc-shared-frames.js';
import type { ResourceSet } from './snapshot.js';
import { discoveryResponseParts } from './wire-response.js';

/** The "from" of a proxy that has been sent nothing of the type yet. */
export const NOTHING_SENT: object = Object.freeze({});

export interface SotwOutcome {
  /** Some subscribed resource changed or went away. */
  readonly anything: boolean;
  /** Some subscribed resource changed (what a SotW response of RDS/EDS is sent for). */
  readonly updated: boolean;
  /** Resources to send: the whole subscribed set (LDS/CDS), else the updated ones. */
  readonly entries: readonly Uint8Array[];
  /** The last bytes encoded for this outcome, with their nonce. */
  encoded: EncodedResponse | undefined;
}

export interface EncodedResponse {
  readonly nonce: number;
  /** The DiscoveryResponse, gRPC-framed when `framed` (grpc-shared-frames.ts). */
  readonly bytes: Buffer;
  /** Streams write these bytes without a copy each. */
  readonly framed: boolean;
}

export interface SotwResponses {
  /** The outcome cached for this transition, or undefined. */
  get(
    typeUrl: string,
    from: object,
    to: ResourceSet,
    names: readonly string[],
    wildcard: boolean,
  ): SotwOutcome | undefined;
  set(
    typeUrl: string,
    from: object,
    to: ResourceSet,
    names: readonly string[],
    wildcard: boolean,
    outcome: SotwOutcome,
  ): void;
  /** The response bytes of `outcome` with a nonce above `after`, encoded again only when needed. */
  bytes(
    outcome: SotwOutcome,
    after: number,
    parts: { versionInfo: string; typeUrl: string; controlPlaneId: string },
  ): EncodedResponse;
  /** A fresh nonce (for responses not shared, e.g. delta). */
  nextNonce(): number;
  /** Responses encoded so far (for tests: shared responses are encoded once). */
  readonly encodedCount: number;
}

type ByNames = WeakMap<readonly string[], [notWildcard?: Keyed, wildcard?: Keyed]>;
interface Keyed {
  readonly typeUrl: string;
  readonly outcome: SotwOutcome;
}

export function createSotwResponses(): SotwResponses {
  const byTo = new WeakMap<ResourceSet, WeakMap<object, ByNames>>();
  const framed = sharedFramesSupported();
  let nonceSeq = 0;
  let encodedCount = 0;
  return {
    get(typeUrl, from, to, names, wildcard) {
      const keyed = byTo.get(to)?.get(from)?.get(names)?.[wildcard ? 1 : 0];
      return keyed !== undefined && keyed.typeUrl === typeUrl ? keyed.outcome : undefined;
    },
    set(typeUrl, from, to, names, wildcard, outcome) {
      let byFrom = byTo.get(to);
      if (byFrom === undefined) byTo.set(to, (byFrom = new WeakMap()));
      let byNames = byFrom.get(from);
      if (byNames === undefined) byFrom.set(from, (byNames = new WeakMap()));
      let pair = byNames.get(names);
      if (pair === undefined) byNames.set(names, (pair = []));
      pair[wildcard ? 1 : 0] = { typeUrl, outcome };
    },
    bytes(outcome, after, parts) {
      const have = outcome.encoded;
      if (have !== undefined && have.nonce > after) return have;
      const nonce = ++nonceSeq;
      encodedCount++;
      const message = discoveryResponseParts({
        versionInfo: parts.versionInfo,
        entries: outcome.entries,
        typeUrl: parts.typeUrl,
        nonce: String(nonce),
        controlPlaneId: parts.controlPlaneId,
      });
      outcome.encoded = framed
        ? { nonce, bytes: frameMessage(message), framed }
        : { nonce, bytes: Buffer.concat(message), framed };
      return outcome.encoded;
    },
    nextNonce() {
      return ++nonceSeq;
    },
    get encodedCount() {
      return encodedCount;
    },
  };
}
