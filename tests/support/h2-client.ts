// node:http2 helpers for tests: one request on a session (collecting the response head,
// body and trailers), and an h2c backend.

import {
  type ClientHttp2Session,
  connect,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface H2Response {
  headers: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders | null;
  /** The response head came with END_STREAM (trailers-only). */
  endStreamOnHead: boolean;
}

/** Opens an h2c session with prior knowledge. */
export function h2Session(port: number): ClientHttp2Session {
  const s = connect(`http://127.0.0.1:${port}`);
  s.on('error', () => {});
  return s;
}

export function h2Request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: string | Buffer,
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | null = null;
    let endStreamOnHead = false;
    req.on('response', (h, flags) => {
      head = h;
      endStreamOnHead = (flags & 1) !== 0;
    });
    req.on('trailers', (t) => {
      trailers = t;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      resolve({ headers: head, body: Buffer.concat(chunks).toString('latin1'), trailers, endStreamOnHead }),
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

export interface H2Backend {
  readonly port: number;
  readonly server: Http2Server;
  /** Request heads seen, in order. */
  readonly seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * An h2c backend: answers 200 with "<name> <method> <path>" and the request body, and
 * trailers `x-trailer: done` when the request carried `te: trailers`.
 */
export async function startH2Backend(name: string): Promise<H2Backend> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer();
  server.on('stream', (stream, headers) => {
    seen.push(headers);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const trailers = headers.te === 'trailers';
      stream.respond({ ':status': 200, 'x-backend': name }, { waitForTrailers: trailers });
      if (trailers) stream.on('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'done' }));
      stream.end(
        `${name} ${headers[':method']} ${headers[':path']} ${Buffer.concat(chunks).toString('latin1')}`,
      );
    });
    stream.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sessions = new Set<Http2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}
