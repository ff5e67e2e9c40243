// Reading an accepted (server-side) socket into a reused buffer, the way Node's public
// `onread` option does for client sockets (see upstream/connect.ts). Node 20 offers no
// such option for sockets a net.Server accepts, so this sets the same per-socket fields
// the option would have set, found by their symbol descriptions on the socket itself.
//
// Why: each read then skips the Readable-stream machinery (push, buffering, 'data'
// emit). On the bench that halved a bare Node pipe's user CPU per request
// (docs/benchmarks.md). net.Socket's pause()/resume() already honour these fields, and
// EOF still arrives as 'end'. When the fields are not there (another Node version), it
// returns false and the caller falls back to 'data' events.
//
// Like connect.ts, every chunk handed over is a fresh copy (into Node's small-buffer
// pool), so callers may keep and queue chunks while the buffer is reused. Because the
// copy is made inside the read callback, before any other socket can be read, one buffer
// serves every socket of the process (SHARED_READ_BUFFER): memory does not grow with the
// number of connections.
//
// TLS sockets work the same way: their handle (TLSWrap) decrypts into the buffer it is
// given and reports each plaintext chunk through the same callback. Not used on a socket
// with bytes already in its stream buffer (a listener filter read them and put them back
// with unshift, or plaintext arrived with the end of the handshake): the reused buffer
// would skip those bytes.

import type { Socket } from 'node:net';

/** Bytes read per read call into the reused buffer. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * The one read buffer of every socket read through `onread` (accepted ones here, upstream
 * ones in upstream/connect.ts). libuv fills it and Node calls the socket's read callback
 * synchronously, which copies the bytes out before returning, so no two reads overlap.
 * It holds no state between reads.
 */
export const SHARED_READ_BUFFER: Buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);

interface UserBufferHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

/**
 * Delivers the socket's bytes to `onData` through a reused buffer. Returns false (and
 * changes nothing) when this Node version does not have the fields it needs.
 */
export function readIntoReusedBuffer(socket: Socket, onData: (chunk: Buffer) => void): boolean {
  if (socket.readableLength > 0) return false;
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  if (handle === undefined || handle === null || typeof handle.useUserBuffer !== 'function') return false;
  let kBuffer: symbol | undefined;
  let kBufferCb: symbol | undefined;
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    if (sym.description === 'kBuffer') kBuffer = sym;
    else if (sym.description === 'kBufferCb') kBufferCb = sym;
  }
  if (kBuffer === undefined || kBufferCb === undefined) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[kBuffer] !== null || fields[kBufferCb] !== null) return false;
  fields[kBuffer] = SHARED_READ_BUFFER;
  fields[kBufferCb] = copyOut(onData);
  (handle as UserBufferHandle).useUserBuffer(SHARED_READ_BUFFER);
  return true;
}

/**
 * The read callback of a socket reading into SHARED_READ_BUFFER (Node's `onread.callback`
 * shape): hands `onData` a copy of the `n` bytes just read, so the buffer can be reused.
 */
export function copyOut(onData: (chunk: Buffer) => void): (n: number, buf: Uint8Array) => boolean {
  return (n, buf) => {
    onData(Buffer.from(buf.subarray(0, n)));
    return true;
  };
}
