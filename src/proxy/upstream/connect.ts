// Opening upstream TCP connections, shared by the HTTP connection pool and the TCP proxy.
//
// With `onData`, reads go into the process's one reused read buffer (Node's `onread`
// option; network/socket-read.ts says why one buffer serves every socket) and each chunk
// is handed over as a fresh copy: this skips the Readable-stream machinery and the
// 64 KiB allocation Node makes per read, which the profile showed on
// every proxied response (docs/benchmarks.md). The copy (into Node's small-buffer pool)
// keeps the reused buffer's hazard away from callers: they may keep and queue chunks.
// Without `onData`, bytes arrive as usual on the socket's 'data' event.

import * as net from 'node:net';
import { TLSSocket } from 'node:tls';
import { copyOut, SHARED_READ_BUFFER } from '../network/socket-read.js';

/** Opens a TCP connection; injectable so tests can supply a socket that never connects. */
export type ConnectFn = (port: number, address: string, onData?: (chunk: Buffer) => void) => net.Socket;

export function connectUpstream(
  port: number,
  address: string,
  allowHalfOpen: boolean,
  onData?: (chunk: Buffer) => void,
): net.Socket {
  if (onData === undefined) return net.connect({ port, host: address, noDelay: true, allowHalfOpen });
  return net.connect({
    port,
    host: address,
    noDelay: true,
    allowHalfOpen,
    onread: { buffer: SHARED_READ_BUFFER, callback: copyOut(onData) },
  });
}

/** The event after which an upstream connection is usable: the end of the TLS handshake for TLS. */
export function readyEvent(socket: net.Socket): 'connect' | 'secureConnect' {
  return socket instanceof TLSSocket ? 'secureConnect' : 'connect';
}

/**
 * Calls `onReady` once the connection is usable: on `readyEvent(socket)`, or on the next
 * tick when it already is (a TLS connection whose handshake chose the protocol by ALPN
 * before a pool adopted it; node sets `alpnProtocol` from null to the protocol or false
 * when the handshake ends).
 */
export function whenReady(socket: net.Socket, onReady: () => void): void {
  if (socket instanceof TLSSocket) {
    if (socket.alpnProtocol !== null && !socket.destroyed) process.nextTick(onReady);
    else socket.once('secureConnect', onReady);
  } else socket.once('connect', onReady);
}
