// Opening upstream TCP connections, shared by the HTTP connection pool and the TCP proxy.
//
// With `onData`, reads go into the process's one reused read buffer (the fields Node's
// `onread` option sets) and are handed over in turn batches; network/socket-read.ts says
// why one buffer serves every socket and why reads wait for the turn's check phase. This
// skips the Readable-stream machinery and the 64 KiB allocation Node makes per read,
// which the profile showed on every proxied response (docs/benchmarks.md). Each chunk is
// a fresh copy (into Node's small-buffer pool), so callers may keep and queue chunks.
// Without `onData`, bytes arrive as usual on the socket's 'data' event.

import * as net from 'node:net';
import { TLSSocket } from 'node:tls';
import type { NativeSocket, NativeSocketIo } from '../network/native-socket.js';
import { READ_LANE_UPSTREAM, readSocket } from '../network/socket-read.js';

/** Opens a TCP connection; injectable so tests can supply a socket that never connects. */
export type ConnectFn = (port: number, address: string, onData?: (chunk: Buffer) => void) => net.Socket;

/** Opens an HTTP/1.1 pool's connection: a NativeSocket when the addon does its I/O. */
export type Http1ConnectFn = (
  port: number,
  address: string,
  onData?: (chunk: Buffer) => void,
) => net.Socket | NativeSocket;

/**
 * An HTTP/1.1 pool's connect function whose connections' I/O is native (network/
 * native-socket.ts): opened as connectUpstream opens them (no half-close), then adopted.
 */
export function nativeHttp1Connect(io: NativeSocketIo): Http1ConnectFn {
  return (port, address, onData) => {
    const socket = io.adopt(connectUpstream(port, address, false), READ_LANE_UPSTREAM)!;
    if (onData !== undefined) readSocket(socket, READ_LANE_UPSTREAM, onData);
    return socket;
  };
}

export function connectUpstream(
  port: number,
  address: string,
  allowHalfOpen: boolean,
  onData?: (chunk: Buffer) => void,
): net.Socket {
  const socket = net.connect({ port, host: address, noDelay: true, allowHalfOpen });
  if (onData !== undefined) readSocket(socket, READ_LANE_UPSTREAM, onData);
  return socket;
}

/** The event after which an upstream connection is usable: the end of the TLS handshake for TLS. */
export function readyEvent(socket: object): 'connect' | 'secureConnect' {
  return socket instanceof TLSSocket ? 'secureConnect' : 'connect';
}

/**
 * Calls `onReady` once the connection is usable: on `readyEvent(socket)`, or on the next
 * tick when it already is (a TLS connection whose handshake chose the protocol by ALPN
 * before a pool adopted it; node sets `alpnProtocol` from null to the protocol or false
 * when the handshake ends).
 */
export function whenReady(socket: net.Socket | NativeSocket, onReady: () => void): void {
  if (socket instanceof TLSSocket) {
    if (socket.alpnProtocol !== null && !socket.destroyed) process.nextTick(onReady);
    else socket.once('secureConnect', onReady);
  } else socket.once('connect', onReady);
}
