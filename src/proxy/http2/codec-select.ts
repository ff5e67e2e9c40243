// Chooses the codec of a downstream connection from the HCM's codec_type: HTTP1, HTTP2
// (h2c with prior knowledge), or AUTO — on TLS by ALPN (`h2`), on plain TCP by sniffing
// the HTTP/2 client connection preface (RFC 9113 §3.4) before any byte is parsed. A
// connection is HTTP/2 only when its first 24 bytes are exactly the preface; the sniffed
// bytes are handed to whichever codec wins.

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Timer } from '../../core/clock.js';
import type { HcmRuntime } from '../http/connection-manager.js';
import { Http1ServerConnection } from '../http/http1-server-connection.js';
import { DRAIN_IDLE_GRACE_MS, type Drainable } from '../listener/drain.js';
import type { NativeSocket } from '../network/native-socket.js';
import { READ_LANE_DOWNSTREAM } from '../network/socket-read.js';
import { Http2ServerConnection } from './http2-server-connection.js';
import type { SessionSettings } from './server-session.js';

export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** 1: HTTP/1, 2: HTTP/2, 0: undecided (`data` is a strict prefix of the preface). */
export function sniffPreface(data: Buffer): 0 | 1 | 2 {
  const n = Math.min(data.length, HTTP2_PREFACE.length);
  for (let i = 0; i < n; i++) if (data[i] !== HTTP2_PREFACE[i]) return 1;
  return n === HTTP2_PREFACE.length ? 2 : 0;
}

/** Serves one downstream connection with the codec its HCM and its first bytes call for. */
export function serveHttpConnection(socket: Socket, rt: HcmRuntime, h2Options: () => SessionSettings): void {
  const codec = rt.config.codecType;
  if (codec === 'HTTP1') {
    new Http1ServerConnection(nativeIfPlain(socket, rt), rt);
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

/** An HTTP/1.1 connection's socket: native I/O when the addon is there and the socket plain TCP. */
function nativeIfPlain(socket: Socket, rt: HcmRuntime): Socket | NativeSocket {
  return rt.nativeIo?.adopt(socket, READ_LANE_DOWNSTREAM) ?? socket;
}

/**
 * Holds the first bytes of a plain connection until the codec is known. Until then the
 * connection takes part in draining and is bounded by the idle timeout (a peer that
 * connects and sends nothing is closed like an idle HTTP/1.1 connection).
 */
class PrefaceSniffer implements Drainable {
  private seen: Buffer | null = null;
  private timer: Timer | null = null;
  private done = false;

  constructor(
    private readonly socket: Socket,
    private readonly rt: HcmRuntime,
    private readonly h2Options: () => SessionSettings,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onEarlyClose);
    socket.on('end', this.onEarlyClose);
    socket.on('close', this.onEarlyClose);
    const idle = rt.config.idleTimeoutMs;
    if (idle !== null) this.timer = rt.clock.setTimer(idle, this.onIdle);
    rt.drain.add(this);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    const data = this.seen === null ? chunk : Buffer.concat([this.seen, chunk]);
    const verdict = sniffPreface(data);
    if (verdict === 0) {
      this.seen = data;
      return;
    }
    const socket = this.socket;
    socket.pause();
    this.stop();
    if (verdict === 2) {
      new Http2ServerConnection(socket, this.rt, this.h2Options(), data);
      return;
    }
    const conn = new Http1ServerConnection(nativeIfPlain(socket, this.rt), this.rt, data);
    conn.resumeReading();
  };

  private stop(): void {
    this.done = true;
    const socket = this.socket;
    socket.removeListener('data', this.onData);
    socket.removeListener('error', this.onEarlyClose);
    socket.removeListener('end', this.onEarlyClose);
    socket.removeListener('close', this.onEarlyClose);
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    this.rt.drain.delete(this);
  }

  /** The peer went away (or idled out) before sending enough to choose a codec. */
  private readonly onEarlyClose = (): void => {
    if (this.done) return;
    this.stop();
    this.socket.destroy();
  };

  private readonly onIdle = (): void => {
    this.timer = null;
    this.onEarlyClose();
  };

  // --- Drainable: no request has started yet. As an idle HTTP/1.1 connection, the
  // connection gets a grace period (its first request may be on the way) before it closes.

  onDrain(): void {
    if (this.done) return;
    if (this.timer !== null) this.timer.cancel();
    this.timer = this.rt.clock.setTimer(DRAIN_IDLE_GRACE_MS, this.onDrainGraceElapsed);
  }

  private readonly onDrainGraceElapsed = (): void => {
    this.timer = null;
    this.onEarlyClose();
  };

  forceClose(): void {
    this.onEarlyClose();
  }
}
