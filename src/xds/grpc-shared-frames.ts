// Lets many ADS streams write one and the same gRPC message Buffer.
//
// grpc-js frames every outgoing message by allocating a new Buffer (5-byte gRPC prefix +
// message) and copying the message into it (BaseServerInterceptingCall.serializeMessage),
// even when the service's serializer hands back ready bytes. An ADS server sends the same
// ~600 KB of CDS/EDS/RDS to thousands of proxies of one shape, so those copies were the
// control plane's largest allocations and, while proxies read slowly, most of its resident
// memory (bench:control, issue 5). A response framed here once (prefix included) is marked,
// and the framing step passes marked Buffers through untouched, so every stream's write
// refers to the shared bytes (Node's HTTP/2 writes from the caller's Buffer without copying).
//
// grpc-js has no public hook for this, so the framing method is wrapped once, and only when it
// looks as expected (a method of one argument on the class grpc-js exports); otherwise
// framing is unavailable and callers write plain messages, which grpc-js copies as before.
// Unmarked messages (every other server, every other message) take grpc-js's own path.

import { createRequire } from 'node:module';

const GRPC_PREFIX_BYTES = 5;
const framed = new WeakSet<Uint8Array>();
let installed: boolean | undefined;

function install(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const mod = require('@grpc/grpc-js/build/src/server-interceptors.js') as {
      BaseServerInterceptingCall?: { prototype: Record<string, unknown> };
    };
    const proto = mod.BaseServerInterceptingCall?.prototype;
    const original = proto?.serializeMessage;
    if (proto === undefined || typeof original !== 'function' || original.length !== 1) return false;
    proto.serializeMessage = function serializeMessage(this: unknown, value: unknown): unknown {
      if (value instanceof Uint8Array && framed.has(value)) return value;
      return original.call(this, value);
    };
    return true;
  } catch {
    return false;
  }
}

/** Whether framed messages can be written (installs the pass-through on first call). */
export function sharedFramesSupported(): boolean {
  installed ??= install();
  return installed;
}

/**
 * One allocation holding the gRPC prefix (uncompressed, length) followed by `parts`; written to
 * any number of streams as is. Only when sharedFramesSupported().
 */
export function frameMessage(parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + length);
  out[0] = 0;
  out.writeUInt32BE(length, 1);
  let at = GRPC_PREFIX_BYTES;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  framed.add(out);
  return out;
}

/** The message inside a framed Buffer (for tests and logs). */
export function messageOfFrame(frame: Buffer): Buffer {
  return frame.subarray(GRPC_PREFIX_BYTES);
}
