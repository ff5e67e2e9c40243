// The native tcp_proxy byte path (native/tcp-relay.c, docs/native-core.md): loading the
// addon, and a typed face for it. The addon is built at `npm ci` when a C compiler and
// Node's headers are there (scripts/build-native.mjs); without it loadNativeRelay()
// returns null with the reason, and tcp_proxy relays in JavaScript (byte-pump.ts).
//
// Which connections go native is tcp-proxy.ts's choice: plain TCP on both sides (Node's
// TLS runs in its own C++ stream, which the addon does not touch).

import { loadAddon } from '../../core/native-addon.js';

/** Where the relay's events come from (the values native/tcp-relay.c sends). */
export const RelayEvent = {
  FirstUpstreamByte: 1,
  DownstreamEof: 2,
  Done: 3,
} as const;

/** Why a relay ended: the low byte of the Done event's value; the errno is above it. */
export const RelayDone = {
  Clean: 0,
  DownstreamError: 1,
  UpstreamError: 2,
  Closed: 3,
} as const;

/** A running relay: opaque, passed back to the addon. */
export type RelayHandle = { readonly __relay: unique symbol };

/** The counters of one relay, as counters() fills them. */
export const RelayCounter = {
  DownstreamBytes: 0,
  UpstreamBytes: 1,
  IdleMs: 2,
  DownstreamPaused: 3,
  DownstreamResumed: 4,
  UpstreamPaused: 5,
  UpstreamResumed: 6,
} as const;
export const RELAY_COUNTERS = 7;

export interface NativeRelay {
  /**
   * Relays between the two sockets' fds (duplicated; the owner keeps its sockets and
   * destroys them after Done). `early`: bytes already read from downstream, sent first.
   */
  start(
    fdDown: number,
    fdUp: number,
    early: Buffer | null,
    onEvent: (kind: number, value: number) => void,
  ): RelayHandle;
  /** Fills `out` (RELAY_COUNTERS long) with the relay's counters; valid after Done too. */
  counters(relay: RelayHandle, out: Float64Array): void;
  /** Ends the relay now; Done follows with RelayDone.Closed. */
  close(relay: RelayHandle): void;
}

/** The addon, or why it is not there. */
export function loadNativeRelay(): { relay: NativeRelay } | { relay: null; reason: string } {
  const load = loadAddon<NativeRelay>('tcp-relay');
  return load.addon === null ? { relay: null, reason: load.reason } : { relay: load.addon };
}

/** The fd under a net.Socket's handle, or -1 (a TLS socket, a pipe, a closed socket). */
export function socketFd(socket: object): number {
  const handle = (socket as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/** The part of a net.Socket's handle that stops Node reading it. */
export interface ReadingHandle {
  readStop(): number;
  reading?: boolean;
}

/** The socket's handle when Node's reading of it can be stopped; null otherwise. */
export function readingHandle(socket: object): ReadingHandle | null {
  const handle = (socket as { _handle?: Partial<ReadingHandle> | null })._handle;
  return handle != null && typeof handle.readStop === 'function' ? (handle as ReadingHandle) : null;
}

/**
 * Stops Node reading through `handle` (the relay reads its duplicate from then on). Node's
 * own `reading` flag is cleared too, as a readStop() from Node itself would.
 */
export function stopNodeReading(handle: ReadingHandle): void {
  handle.readStop();
  handle.reading = false;
}
