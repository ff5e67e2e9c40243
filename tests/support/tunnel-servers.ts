// Upstream servers for the upgrade and tunnel tests (tests/upgrades.test.ts over HTTP/1.1,
// tests/h2-tunnels.test.ts over HTTP/2): a ws echo server, a TCP echo server that half-closes
// with its client, and an upstream HTTP proxy that accepts forwarded CONNECTs.

import type { IncomingMessage } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** A ws echo server that records each handshake's request, its sockets and close codes, and adds a 101 header. */
export async function startWsEcho(): Promise<{
  wss: WebSocketServer;
  port: number;
  handshakes: IncomingMessage[];
  sockets: WebSocket[];
  closes: number[];
  /** Ends every open WebSocket and stops the server. */
  close(): Promise<void>;
}> {
  const handshakes: IncomingMessage[] = [];
  const sockets: WebSocket[] = [];
  const closes: number[] = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('headers', (headers) => headers.push('x-ws-server: echo'));
  wss.on('connection', (ws, req) => {
    handshakes.push(req);
    sockets.push(ws);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code) => closes.push(code));
  });
  const close = (): Promise<void> => {
    for (const s of sockets) s.terminate();
    return new Promise<void>((r) => wss.close(() => r()));
  };
  return { wss, port: (wss.address() as AddressInfo).port, handshakes, sockets, closes, close };
}

/** A TCP echo server that half-closes when its client does. */
export async function startTcpEcho(): Promise<{
  server: Server;
  port: number;
  conns: Socket[];
  ended: number[];
}> {
  const conns: Socket[] = [];
  const ended: number[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    conns.push(s);
    let n = 0;
    s.on('data', (d: Buffer) => {
      n += d.length;
      s.write(d);
    });
    s.on('end', () => {
      ended.push(n);
      s.end();
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, conns, ended };
}

/**
 * An upstream HTTP proxy for forwarded CONNECTs: records the request head, answers 200,
 * then echoes every byte after the head.
 */
export async function startConnectProxy(): Promise<{ server: Server; port: number; heads: string[] }> {
  const heads: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    let buf = Buffer.alloc(0);
    let tunnel = false;
    s.on('data', (d: Buffer) => {
      if (tunnel) {
        s.write(d);
        return;
      }
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      tunnel = true;
      heads.push(buf.subarray(0, end).toString('latin1'));
      s.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (buf.length > end + 4) s.write(buf.subarray(end + 4));
    });
    s.on('end', () => s.end());
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, heads };
}
