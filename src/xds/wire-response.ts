// A SotW DiscoveryResponse written as protobuf bytes from pre-encoded parts.
//
// Every proxy of one shape is sent the same resources; only nonce (and sometimes version)
// differ. Protobuf messages are concatenations of fields, so each resource's
// `resources` entry (field 2, an embedded Any) is encoded once and cached by the resource
// encoder, and a response is the few scalar fields plus those cached bytes — no
// per-proxy re-serialisation of 1000 clusters (the control-plane bench's bottleneck).
// Field numbers: envoy.service.discovery.v3.DiscoveryResponse.

import protobuf from 'protobufjs';
import type { AnyMessage } from './json-codec.js';

const VERSION_INFO = 1;
const RESOURCES = 2;
const TYPE_URL = 4;
const NONCE = 5;
const CONTROL_PLANE = 6;
const LENGTH_DELIMITED = 2;
const ANY_TYPE_URL = 1;
const ANY_VALUE = 2;
const CONTROL_PLANE_IDENTIFIER = 1;

const tag = (field: number): number => (field << 3) | LENGTH_DELIMITED;

/** The bytes of one `resources` entry: field 2 holding the Any (type_url, value). */
export function encodeResourceEntry(any: AnyMessage): Uint8Array {
  const inner = protobuf.Writer.create()
    .uint32(tag(ANY_TYPE_URL))
    .string(any.type_url)
    .uint32(tag(ANY_VALUE))
    .bytes(any.value)
    .finish();
  return protobuf.Writer.create().uint32(tag(RESOURCES)).bytes(inner).finish();
}

export interface WireResponse {
  readonly versionInfo: string;
  readonly entries: readonly Uint8Array[];
  readonly typeUrl: string;
  readonly nonce: string;
  readonly controlPlaneId: string;
}

/** The whole DiscoveryResponse message, ready for a pass-through gRPC serializer. */
export function encodeDiscoveryResponse(r: WireResponse): Buffer {
  return Buffer.concat(discoveryResponseParts(r));
}

/** The message as consecutive parts (scalar fields, the cached entries, scalar fields). */
export function discoveryResponseParts(r: WireResponse): Uint8Array[] {
  const head = protobuf.Writer.create();
  if (r.versionInfo !== '') head.uint32(tag(VERSION_INFO)).string(r.versionInfo);
  const tail = protobuf.Writer.create().uint32(tag(TYPE_URL)).string(r.typeUrl);
  if (r.nonce !== '') tail.uint32(tag(NONCE)).string(r.nonce);
  const cp = protobuf.Writer.create().uint32(tag(CONTROL_PLANE_IDENTIFIER)).string(r.controlPlaneId).finish();
  tail.uint32(tag(CONTROL_PLANE)).bytes(cp);
  return [head.finish(), ...r.entries, tail.finish()];
}
