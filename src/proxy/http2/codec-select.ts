// Chooses the codec of a downstream connection from the HCM's codec_type: HTTP1, HTTP2
// (h2c with prior knowledge), or AUTO — on TLS by ALPN (`h2`), on plain TCP by sniffing
// the HTTP/2 client connection preface (RFC 9113 §3.4) before any byte is parsed. A
// connection is HTTP/2 only when its first 24 bytes are exactly the preface; the sniffed
// bytes are handed to whichever codec wins.

import type { ServerSessionOptions } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { HcmRuntime } from '../http/connection-manager.js';
import { Http1ServerConnection } from '../http/http1-server-connection.js';
import { Http2ServerConnection } from './http2-server-connection.js';

export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** 1: HTTP/1, 2: HTTP/2, 0: undecided (`data` is a strict prefix of the preface). */
export function sniffPreface(data: Buffer): 0 | 1 | 2 {
  const n = Math.min(data.length, HTTP2_PREFACE.length);
  for (let i = 0; i < n; i++) if (data[i] !== HTTP2_PREFACE[i]) return 1;
  return n === HTTP2_PREFACE.length ? 2 : 0;
}

/** Serves one downstream connection with the codec its HCM and its first bytes call for. */
export function serveHttpConnection(
  socket: Socket,
  rt: HcmRuntime,
  h2Options: () => ServerSessionOptions,
): void {
  const codec = rt.config.codecType;
  if (codec === 'HTTP1') {
    new Http1ServerConnection(socket, rt);
    return;
  }
  if (codec === 'HTTP2') {
    new Http2ServerConnection(socket, rt, h2Options(), null);
    return;
  }
  if ((socket as TLSSocket).encrypted === true) {
    if ((socket as TLSSocket).alpnProtocol === 'h2') new Http2ServerConnection(socket, rt, h2Options(), null);
    else new Http1ServerConnection(socket, rt);
    return;
  }
  new PrefaceSniffer(socket, rt, h2Options);
}

/** Holds the first bytes of a plain connection until the codec is known. */
class PrefaceSniffer {
  private seen: Buffer | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly rt: HcmRuntime,
    private readonly h2Options: () => ServerSessionOptions,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onEarlyClose);
    socket.on('end', this.onEarlyClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    const data = this.seen === null ? chunk : Buffer.concat([this.seen, chunk]);
    const verdict = sniffPreface(data);
    if (verdict === 0) {
      this.seen = data;
      return;
    }
    const socket = this.socket;
    socket.pause();
    socket.removeListener('data', this.onData);
    socket.removeListener('error', this.onEarlyClose);
    socket.removeListener('end', this.onEarlyClose);
    if (verdict === 2) {
      new Http2ServerConnection(socket, this.rt, this.h2Options(), data);
      return;
    }
    const conn = new Http1ServerConnection(socket, this.rt, data);
    conn.resumeReading();
  };

  /** The peer went away before sending enough to choose a codec. */
  private readonly onEarlyClose = (): void => {
    this.socket.destroy();
  };
}
