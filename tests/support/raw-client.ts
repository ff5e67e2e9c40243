// A raw TCP client for tests that watch a response arrive piece by piece: what was
// received so far, a wait for some text, and whether (and when) the server closed.

import { connect, type Socket } from 'node:net';
import { waitFor } from './harness.js';

export interface RawClient {
  readonly socket: Socket;
  /** Everything received so far (latin1). */
  text(): string;
  /** Waits (bounded) until what was received matches `re`. */
  waitForText(re: RegExp, what: string): Promise<void>;
  readonly isClosed: boolean;
  /** Resolves when the server closed (or reset) the connection. */
  readonly closed: Promise<void>;
  write(data: string): void;
  destroy(): void;
}

/** Connects to 127.0.0.1:`port` and writes `data` once connected. */
export async function rawClient(port: number, data: string): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  let closed = false;
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => {}); // a reset shows as 'close'
  const closedP = new Promise<void>((resolve) =>
    socket.on('close', () => {
      closed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  socket.write(data);
  return {
    socket,
    text: () => received,
    waitForText: (re, what) => waitFor(() => re.test(received), what),
    get isClosed() {
      return closed;
    },
    closed: closedP,
    write: (more) => socket.write(more),
    destroy: () => socket.destroy(),
  };
}
