// Experiment: what HTTP/2 costs per request in Node's http2 module, next to the floor of an
// HTTP/2 server written in JS on a raw socket, and to the parts of Weft's own codec built
// so far (the session layer on frames + HPACK). Both answer every request with 200 and a
// 1 KiB body; h2load drives them in alternating rounds and the server process's CPU per
// request comes from /proc. The raw server is a measuring stick, not a codec: it skips
// HPACK decoding, flow control beyond the connection window and every error path.
//   npm run build && node dist/bench/h2-floor.js [rounds] [seconds]
// Results and what they mean for Weft are in docs/benchmarks.md ("HTTP/2: the floor").

import { execFileSync, spawn } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { HeaderList } from '../src/proxy/http/headers.js';
import { ServerSession } from '../src/proxy/http2/server-session.js';
import { cpuTicks, DEFAULT_CLOCK_TICKS } from './proc.js';
import { findH2load, parseH2loadOutput } from './protocols.js';

const BODY = Buffer.alloc(1024, 0x41);
const PREFACE_BYTES = 24;
const FRAME_HEADER_BYTES = 9;
const T_DATA = 0;
const T_HEADERS = 1;
const T_SETTINGS = 4;
const T_PING = 6;
const F_ACK = 0x1;
const F_END_STREAM = 0x1;
const F_END_HEADERS = 0x4;
/** HPACK indexed field 8 of the static table: `:status: 200` (RFC 7541 Appendix A). */
const STATUS_200 = 0x88;

function frameHeader(
  out: Buffer,
  at: number,
  length: number,
  type: number,
  flags: number,
  stream: number,
): number {
  out[at] = length >>> 16;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  out.writeUInt32BE(stream, at + 5);
  return at + FRAME_HEADER_BYTES;
}

/** The raw server: every HEADERS frame gets a response; all output of one read goes out in one write. */
function serveRaw(port: number): void {
  net
    .createServer({ noDelay: true }, (socket) => {
      let pending: Buffer = Buffer.alloc(0);
      let prefaceSeen = false;
      socket.write(Buffer.from([0, 0, 0, T_SETTINGS, 0, 0, 0, 0, 0]));
      socket.on('data', (data: Buffer) => {
        pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
        let pos = 0;
        if (!prefaceSeen) {
          if (pending.length < PREFACE_BYTES) return;
          pos = PREFACE_BYTES;
          prefaceSeen = true;
        }
        const out = Buffer.allocUnsafe(256 * 1024);
        let o = 0;
        const room = (need: number): void => {
          if (o + need <= out.length) return;
          socket.write(Buffer.from(out.subarray(0, o)));
          o = 0;
        };
        while (pending.length - pos >= FRAME_HEADER_BYTES) {
          const length = (pending[pos] << 16) | (pending[pos + 1] << 8) | pending[pos + 2];
          if (pending.length - pos < FRAME_HEADER_BYTES + length) break;
          const type = pending[pos + 3];
          const flags = pending[pos + 4];
          const stream = pending.readUInt32BE(pos + 5) & 0x7fffffff;
          const payload = pos + FRAME_HEADER_BYTES;
          if (type === T_HEADERS) {
            room(2 * FRAME_HEADER_BYTES + 1 + BODY.length);
            o = frameHeader(out, o, 1, T_HEADERS, F_END_HEADERS, stream);
            out[o++] = STATUS_200;
            o = frameHeader(out, o, BODY.length, T_DATA, F_END_STREAM, stream);
            o += BODY.copy(out, o);
          } else if (type === T_SETTINGS && (flags & F_ACK) === 0) {
            room(FRAME_HEADER_BYTES);
            o = frameHeader(out, o, 0, T_SETTINGS, F_ACK, 0);
          } else if (type === T_PING && (flags & F_ACK) === 0) {
            room(FRAME_HEADER_BYTES + 8);
            o = frameHeader(out, o, 8, T_PING, F_ACK, 0);
            o += pending.copy(out, o, payload, payload + 8);
          }
          pos = payload + length;
        }
        pending = pos === pending.length ? Buffer.alloc(0) : pending.subarray(pos);
        if (o > 0) socket.write(Buffer.from(out.subarray(0, o)));
      });
      socket.on('error', () => socket.destroy());
    })
    .listen(port, '127.0.0.1');
}

function serveNodeHttp2(port: number): void {
  http2
    .createServer()
    .on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.end(BODY);
    })
    .listen(port, '127.0.0.1');
}

/**
 * Weft's HTTP/2 parts so far (server-session.ts on frames.ts and hpack/): stream states and
 * flow control included; each request's header block is decoded and checked, each
 * response's encoded (`:status`, content-type, content-length).
 */
function serveWeftParts(port: number): void {
  const response: HeaderList = [
    ':status',
    '200',
    'content-type',
    'text/plain',
    'content-length',
    String(BODY.length),
  ];
  net
    .createServer({ noDelay: true }, (socket) => {
      const session: ServerSession = new ServerSession((data) => socket.write(data), {
        onRequest(stream) {
          session.respond(stream, response, false);
          session.data(stream, BODY, true);
        },
        onTrailers() {},
        onData(stream, chunk) {
          session.consumed(stream, chunk.length);
        },
        onReset() {},
        onDrain() {},
        onClose() {
          socket.end();
        },
      });
      socket.on('data', (data: Buffer) => session.receive(data));
      socket.on('error', () => socket.destroy());
    })
    .listen(port, '127.0.0.1');
}

/** Resolves once something accepts connections on the port (tries for up to 10 s). */
async function waitForListener(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()));
    });
  });
}

async function main(): Promise<void> {
  const [mode, portArg] = process.argv.slice(2);
  if (mode === 'serve-raw') return serveRaw(Number(portArg));
  if (mode === 'serve-node') return serveNodeHttp2(Number(portArg));
  if (mode === 'serve-weft') return serveWeftParts(Number(portArg));
  const rounds = Number(process.argv[2] ?? 3);
  const seconds = Number(process.argv[3] ?? 5);
  const h2load = findH2load(process.env.PATH ?? '');
  if (h2load === null) throw new Error('h2load not found: apt-get install nghttp2-client');
  const self = fileURLToPath(import.meta.url);
  const servers = [];
  for (const [label, serveMode] of [
    ['JS on a raw socket', 'serve-raw'],
    ["Weft's HTTP/2 session", 'serve-weft'],
    ['node:http2', 'serve-node'],
  ] as const) {
    const port = await freePort();
    const child = spawn(process.execPath, [self, serveMode, String(port)], { stdio: 'inherit' });
    servers.push({ label, port, child });
  }
  for (const s of servers) await waitForListener(s.port);
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const s of round % 2 === 1 ? servers : [...servers].reverse()) {
        const pid = s.child.pid ?? 0;
        const before = cpuTicks([pid]);
        const text = execFileSync(
          h2load,
          ['-c', '16', '-m', '8', '-D', String(seconds), `http://127.0.0.1:${s.port}/`],
          { encoding: 'utf8' },
        );
        const cpuS = (cpuTicks([pid]) - before) / DEFAULT_CLOCK_TICKS;
        const r = parseH2loadOutput(text);
        const perRequestUs = r.succeeded > 0 ? (cpuS * 1e6) / r.succeeded : Number.NaN;
        console.log(
          `round ${round} ${s.label}: ${Math.round(r.requestsPerSec)} req/s, ` +
            `${perRequestUs.toFixed(1)} µs CPU per request, ${r.errors} errors`,
        );
      }
    }
  } finally {
    for (const s of servers) s.child.kill();
  }
}

await main();
