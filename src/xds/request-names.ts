// Decoding of SotW DiscoveryRequests with their `resource_names` shared between requests.
//
// Envoy repeats its whole subscription in every request: each ACK of an EDS update from a
// sidecar that may call 1000 Services carries 1000 names. Decoding them into fresh strings
// for every ACK of every proxy was a large part of the control plane's CPU and memory at
// scale (bench:control, issue 5), while nearly every list is byte-for-byte one seen before
// (the proxy's previous request, or another proxy of the same shape). So the names field
// is located on the wire, compared with recently seen lists of the same byte length, and
// the decoded array of an equal list is reused: one frozen string[] per distinct list, and
// ads-stream.ts recognises an unchanged subscription by identity. The rest of the message
// is decoded by protobufjs as before.

import type protobuf from 'protobufjs';

/** DiscoveryRequest.resource_names (envoy/service/discovery/v3/discovery.proto). */
const RESOURCE_NAMES_FIELD = 3;
/** Distinct name lists kept for reuse; beyond that the oldest is forgotten. */
const MAX_KEPT = 256;

interface KeptList {
  readonly bytes: Buffer;
  readonly names: readonly string[];
}

export interface NamesDecoder {
  /** Decodes a DiscoveryRequest; its `resource_names` may be a (frozen) array shared with earlier requests. */
  decode(bytes: Buffer): unknown;
}

function readVarint(buf: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 1;
  for (;;) {
    if (at >= buf.length) throw new RangeError('truncated varint');
    const b = buf[at++];
    value += (b & 0x7f) * shift;
    if (b < 0x80) return [value, at];
    shift *= 128;
    if (shift > 2 ** 63) throw new RangeError('varint too long');
  }
}

/** The byte range of all `field` occurrences when they are contiguous; null when absent or interleaved. */
export function contiguousFieldSpan(buf: Buffer, field: number): [start: number, end: number] | null {
  let at = 0;
  let start = -1;
  let end = -1;
  while (at < buf.length) {
    const tagStart = at;
    const [tag, afterTag] = readVarint(buf, at);
    at = afterTag;
    const wire = tag & 7;
    if (wire === 0) at = readVarint(buf, at)[1];
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const [len, afterLen] = readVarint(buf, at);
      at = afterLen + len;
    } else throw new RangeError(`unsupported wire type ${wire}`);
    if (at > buf.length) throw new RangeError('truncated field');
    if (Math.floor(tag / 8) !== field) continue;
    if (start === -1) start = tagStart;
    else if (end !== tagStart) return null; // another field in between
    end = at;
  }
  return start === -1 ? null : [start, end];
}

export function createNamesDecoder(type: protobuf.Type): NamesDecoder {
  // Kept lists by byte length (equal lists have equal lengths), oldest first overall.
  const byLength = new Map<number, KeptList[]>();
  const order: KeptList[] = [];

  function keep(bytes: Buffer, names: readonly string[]): void {
    const entry = { bytes, names };
    const list = byLength.get(bytes.length);
    if (list === undefined) byLength.set(bytes.length, [entry]);
    else list.push(entry);
    order.push(entry);
    if (order.length > MAX_KEPT) {
      const old = order.shift()!;
      const same = byLength.get(old.bytes.length)!;
      same.splice(same.indexOf(old), 1);
      if (same.length === 0) byLength.delete(old.bytes.length);
    }
  }

  return {
    decode(bytes) {
      let span: [number, number] | null;
      try {
        span = contiguousFieldSpan(bytes, RESOURCE_NAMES_FIELD);
      } catch {
        span = null; // malformed: protobufjs reports it properly below
      }
      if (span === null) return type.decode(bytes);
      const namesBytes = bytes.subarray(span[0], span[1]);
      const rest = Buffer.concat([bytes.subarray(0, span[0]), bytes.subarray(span[1])]);
      const message = type.decode(rest) as unknown as { resource_names: readonly string[] };
      for (const kept of byLength.get(namesBytes.length) ?? []) {
        if (kept.bytes.equals(namesBytes)) {
          message.resource_names = kept.names;
          return message;
        }
      }
      const decoded = type.decode(namesBytes) as unknown as { resource_names: string[] };
      const names = Object.freeze(decoded.resource_names);
      keep(Buffer.from(namesBytes), names);
      message.resource_names = names;
      return message;
    },
  };
}
