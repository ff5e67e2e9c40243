// A loopback HTTP/2 endpoint for tests made of the frame layer alone: each connection gets
// a FrameReader, and a FrameWriter that starts with an empty SETTINGS; the frames a
// handler queues while one read is processed leave in one write. A framing error is
// answered with GOAWAY and the connection is ended.

import net from 'node:net';
import { type FrameHandler, FrameReader, FrameWriter } from '../frames.js';

export interface FrameServer {
  readonly url: string;
  close(): void;
}

/**
 * Starts the server; `connection` makes the handler of each new connection from its writer
 * (and its socket, for tests that write raw bytes or drop the connection).
 */
export async function startFrameServer(
  connection: (writer: FrameWriter, socket: net.Socket) => FrameHandler,
): Promise<FrameServer> {
  const server = net.createServer((socket) => {
    const reader = new FrameReader(true);
    const writer = new FrameWriter();
    const handler = connection(writer, socket);
    const send = (): void => {
      const out = writer.take();
      if (out !== null) socket.write(out);
    };
    writer.settings([]);
    send();
    socket.on('data', (chunk: Buffer) => {
      const err = reader.push(chunk, handler);
      if (err !== null) writer.goaway(0, err.code, err.message);
      send();
      if (err !== null) socket.end();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => server.close(),
  };
}
