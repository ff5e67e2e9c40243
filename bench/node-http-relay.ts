// The bench's reference HTTP/1.1 relay: the least an HTTP proxy on Node has to do, next to
// Weft in the HTTP/1.1 table, as node-pipe.ts is next to it in the TCP table. It keeps
// what makes a proxy a proxy rather than a pipe: each client's requests go out on pooled
// keep-alive connections to the backend, shared between clients, so the relay has to know
// where each request and each response ends. And nothing more: no header parsing or
// validation, no routing, rewriting, stats, timers or logs. Bytes are read through the
// same path Weft uses (src/proxy/network/socket-read.ts, turn batches included) and
// written unchanged.
//
// It frames only what the bench sends: GET requests without a body (wrk and hey) and
// responses with Content-Length (the nginx backend). Anything else closes the client's
// connection. Not a proxy for anything but the bench.
//   node dist/bench/node-http-relay.js LISTEN_PORT BACKEND_PORT

import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { READ_LANE_DOWNSTREAM, READ_LANE_UPSTREAM, readSocket } from '../src/proxy/network/socket-read.js';

const CR = 13;
const LF = 10;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = 'content-length:';

/**
 * The Content-Length of the response head in buf[0, headEnd), or -1 when there is none
 * (or it is not a plain decimal). Field names are matched case-insensitively.
 */
export function responseContentLength(buf: Buffer, headEnd: number): number {
  for (let i = buf.indexOf(LF) + 1; i > 0 && i < headEnd; i = buf.indexOf(LF, i) + 1) {
    let k = 0;
    while (k < CONTENT_LENGTH.length && (buf[i + k] | 0x20) === CONTENT_LENGTH.charCodeAt(k)) k++;
    if (k < CONTENT_LENGTH.length) continue;
    let j = i + k;
    while (buf[j] === 0x20 || buf[j] === 0x09) j++;
    let n = 0;
    let digits = 0;
    for (; buf[j] >= 0x30 && buf[j] <= 0x39; j++, digits++) n = n * 10 + buf[j] - 0x30;
    return digits > 0 && buf[j] === CR ? n : -1;
  }
  return -1;
}

/** A pooled connection to the backend; serves one client's request at a time. */
class Upstream {
  readonly socket: net.Socket;
  client: Client | null = null;
  /** Body bytes of the current response still to come. */
  private remaining = 0;
  /** A response head that has not fully arrived. */
  private partial: Buffer | null = null;

  constructor(
    private readonly relay: HttpRelay,
    backendPort: number,
  ) {
    this.socket = net.connect({ host: '127.0.0.1', port: backendPort, noDelay: true });
    const onData = (chunk: Buffer): void => this.onData(chunk);
    readSocket(this.socket, READ_LANE_UPSTREAM, onData);
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      relay.forget(this);
      this.client?.socket.destroy();
    });
  }

  private onData(chunk: Buffer): void {
    const client = this.client;
    if (client === null) return void this.socket.destroy(); // bytes nobody asked for
    if (this.remaining > 0) {
      this.remaining -= chunk.length;
      client.send(chunk, this);
    } else {
      const buf = this.partial === null ? chunk : Buffer.concat([this.partial, chunk]);
      const end = buf.indexOf(HEAD_END);
      if (end < 0) {
        this.partial = buf;
        return;
      }
      this.partial = null;
      const length = responseContentLength(buf, end);
      if (length < 0) {
        client.socket.destroy();
        return void this.socket.destroy();
      }
      this.remaining = length - (buf.length - end - HEAD_END.length);
      client.send(buf, this);
    }
    if (this.remaining <= 0) {
      // A response ends exactly where its body does: the backend sends nothing unasked.
      this.client = null;
      this.relay.release(this);
      client.responseDone();
    }
  }
}

/** One accepted connection: its requests, in order, each sent once the previous one is answered. */
class Client {
  private partial: Buffer | null = null;
  private readonly waiting: Buffer[] = [];
  private upstream: Upstream | null = null;

  constructor(
    readonly socket: net.Socket,
    private readonly relay: HttpRelay,
  ) {
    const onData = (chunk: Buffer): void => this.onData(chunk);
    readSocket(socket, READ_LANE_DOWNSTREAM, onData);
    socket.on('error', () => {});
    socket.on('close', () => this.upstream?.socket.destroy());
  }

  private onData(chunk: Buffer): void {
    const buf = this.partial === null ? chunk : Buffer.concat([this.partial, chunk]);
    this.partial = null;
    let start = 0;
    for (;;) {
      const end = buf.indexOf(HEAD_END, start);
      if (end < 0) break;
      // GET only: a request without a body ends with its head.
      if (
        buf[start] !== 0x47 ||
        buf[start + 1] !== 0x45 ||
        buf[start + 2] !== 0x54 ||
        buf[start + 3] !== 0x20
      )
        return void this.socket.destroy();
      const next = end + HEAD_END.length;
      this.waiting.push(start === 0 && next === buf.length ? buf : buf.subarray(start, next));
      start = next;
    }
    if (start < buf.length) this.partial = buf.subarray(start);
    if (this.upstream === null) this.sendNext();
  }

  private sendNext(): void {
    const request = this.waiting.shift();
    if (request === undefined) return;
    const upstream = this.relay.acquire();
    upstream.client = this;
    this.upstream = upstream;
    upstream.socket.write(request);
  }

  /** Response bytes to the client, pausing the upstream while the client is full. */
  send(bytes: Buffer, from: Upstream): void {
    if (this.socket.write(bytes)) return;
    from.socket.pause();
    this.socket.once('drain', () => from.socket.resume());
  }

  responseDone(): void {
    this.upstream = null;
    this.sendNext();
  }
}

/** The relay: a listener and its pool of idle backend connections (last released, first reused). */
export class HttpRelay {
  readonly server: net.Server;
  private readonly idle: Upstream[] = [];

  constructor(private readonly backendPort: number) {
    this.server = net.createServer({ noDelay: true }, (socket) => new Client(socket, this));
  }

  acquire(): Upstream {
    return this.idle.pop() ?? new Upstream(this, this.backendPort);
  }

  /** Back to the pool, reading again if a slow client had paused it (that client may never drain). */
  release(upstream: Upstream): void {
    if (upstream.socket.isPaused()) upstream.socket.resume();
    this.idle.push(upstream);
  }

  /** A closed backend connection leaves the pool. */
  forget(upstream: Upstream): void {
    const i = this.idle.indexOf(upstream);
    if (i >= 0) this.idle.splice(i, 1);
  }

  close(): void {
    this.server.close();
    for (const upstream of this.idle.splice(0)) upstream.socket.destroy();
  }
}

export function startNodeHttpRelay(listenPort: number, backendPort: number): HttpRelay {
  const relay = new HttpRelay(backendPort);
  relay.server.listen(listenPort, '127.0.0.1');
  return relay;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [listenPort, backendPort] = process.argv.slice(2).map(Number);
  if (!Number.isInteger(listenPort) || !Number.isInteger(backendPort) || process.argv.length !== 4) {
    process.stderr.write('usage: node dist/bench/node-http-relay.js LISTEN_PORT BACKEND_PORT\n');
    process.exit(2);
  }
  startNodeHttpRelay(listenPort, backendPort);
}
