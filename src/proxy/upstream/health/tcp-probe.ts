// TCP health checks (`tcp_health_check`), as Envoy's TcpHealthCheckerImpl: connect, write
// `send` (if any), and pass once every `receive` block has been read, in order, each
// anywhere after the previous one. With neither, a completed connect passes and the
// connection is closed at once. A connection closed before the match is a network failure.
// With `reuse_connection` (the default) a connection that passed stays open for the next
// check; connect-only checks always use a fresh one.

import { connect, type Socket } from 'node:net';
import type { TcpHealthCheck } from '../../../config/model.js';
import type { Host } from '../host.js';
import { ProbeOutcome, type ProbeSession } from './probe.js';

/** Whether `blocks` occur in `data` in order, each after the previous one. */
export function matchesInOrder(data: Buffer, blocks: readonly Buffer[]): boolean {
  let from = 0;
  for (const b of blocks) {
    const at = data.indexOf(b, from);
    if (at < 0) return false;
    from = at + b.length;
  }
  return true;
}

class TcpProbeSession implements ProbeSession {
  private socket: Socket | null = null;
  private received: Buffer = Buffer.alloc(0);
  private done: ((outcome: ProbeOutcome, detail: string) => void) | null = null;

  constructor(
    private readonly host: Host,
    private readonly config: TcpHealthCheck,
    private readonly reuseConnection: boolean,
  ) {}

  check(done: (outcome: ProbeOutcome, detail: string) => void): void {
    this.done = done;
    this.received = Buffer.alloc(0);
    const existing = this.socket;
    if (existing !== null && !existing.destroyed) {
      this.sendPayload(existing);
      return;
    }
    const socket = connect({ host: this.host.address, port: this.host.port });
    this.socket = socket;
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      if (this.config.receive.length === 0) {
        if (this.config.send !== null) socket.write(this.config.send);
        socket.end();
        this.socket = null;
        this.finish(ProbeOutcome.Success, '');
        return;
      }
      this.sendPayload(socket);
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket || this.done === null) return;
      this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
      if (!matchesInOrder(this.received, this.config.receive)) return;
      if (!this.reuseConnection) {
        socket.destroy();
        this.socket = null;
      }
      this.finish(ProbeOutcome.Success, '');
    });
    // Events of a socket that is no longer the session's (done with, or cancelled) are ignored.
    socket.on('error', (err) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.finish(ProbeOutcome.NetworkFailure, err.message);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.finish(ProbeOutcome.NetworkFailure, 'connection closed before the expected response');
    });
  }

  private sendPayload(socket: Socket): void {
    if (this.config.send !== null) socket.write(this.config.send);
  }

  private finish(outcome: ProbeOutcome, detail: string): void {
    const done = this.done;
    if (done === null) return;
    this.done = null;
    done(outcome, detail);
  }

  cancel(): void {
    this.done = null;
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
  }

  close(): void {
    this.cancel();
  }
}

export function createTcpProbeFactory(
  config: TcpHealthCheck,
  reuseConnection: boolean,
): (host: Host) => ProbeSession {
  return (host) => new TcpProbeSession(host, config, reuseConnection);
}
