// node:http2 client helpers for tests: one request on a session, collecting the response
// head, body and trailers.

import {
  type ClientHttp2Session,
  connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';

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
