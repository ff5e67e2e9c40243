// Experiment: what HTTP/2 costs per request in Node's http2 module, next to Weft's own
// HTTP/2 pieces: the frame layer alone (a measuring stick: it answers each HEADERS frame
// with a fixed `:status: 200` block, no HPACK decoding, no stream state), and the session
// layer on frames + HPACK. All answer every request with 200 and a 1 KiB body; h2load
// drives them in alternating rounds and each server process's CPU per request comes from
// /proc.
//   npm run build && node dist/bench/h2-floor.js [rounds] [seconds]
// Results and what they mean for Weft are in docs/benchmarks.md ("HTTP/2: the floor").

import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HeaderList } from '../src/proxy/http/headers.js';
import {
  FLAG_ACK,
  FRAME_HEADERS,
  FRAME_PING,
  FRAME_SETTINGS,
  FrameReader,
  FrameWriter,
} from '../src/proxy/http2/frames.js';
import { ServerSession } from '../src/proxy/http2/server-session.js';
import { freePort, startAndWait } from './peers.js';
import { cpuTicks, DEFAULT_CLOCK_TICKS } from './proc.js';
import { findH2load, parseH2loadOutput } from './protocols.js';
import { createSupervisor } from './supervisor.js';

const BODY = Buffer.alloc(1024, 0x41);
/** HPACK indexed field 8 of the static table: `:status: 200` (RFC 7541 Appendix A). */
const STATUS_200_BLOCK = Buffer.from([0x88]);

/** The frame layer alone: every HEADERS frame gets a fixed response; one write per read. */
function serveFrames(port: number): void {
  net
    .createServer({ noDelay: true }, (socket) => {
      const reader = new FrameReader(true);
      const writer = new FrameWriter();
      const handler = {
        onFrame(type: number, flags: number, stream: number, payload: Buffer, start: number): void {
          if (type === FRAME_HEADERS) {
            writer.headers(stream, STATUS_200_BLOCK, 0, 1, false);
            writer.data(stream, BODY, 0, BODY.length, true);
          } else if (type === FRAME_SETTINGS && (flags & FLAG_ACK) === 0) writer.settingsAck();
          else if (type === FRAME_PING && (flags & FLAG_ACK) === 0) writer.ping(true, payload, start);
        },
      };
      writer.settings([]);
      socket.write(writer.take()!);
      socket.on('data', (data: Buffer) => {
        if (reader.push(data, handler) !== null) {
          socket.destroy();
          return;
        }
        const out = writer.take();
        if (out !== null) socket.write(out);
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
        onWritable() {},
        onClose() {
          socket.end();
        },
      });
      socket.on('data', (data: Buffer) => session.receive(data));
      socket.on('error', () => socket.destroy());
    })
    .listen(port, '127.0.0.1');
}

async function main(): Promise<void> {
  const [mode, portArg] = process.argv.slice(2);
  if (mode === 'serve-frames') return serveFrames(Number(portArg));
  if (mode === 'serve-node') return serveNodeHttp2(Number(portArg));
  if (mode === 'serve-weft') return serveWeftParts(Number(portArg));
  const rounds = Number(process.argv[2] ?? 3);
  const seconds = Number(process.argv[3] ?? 5);
  const h2load = findH2load(process.env.PATH ?? '');
  if (h2load === null) throw new Error('h2load not found: apt-get install nghttp2-client');
  const self = fileURLToPath(import.meta.url);
  const dir = mkdtempSync(join(tmpdir(), 'weft-h2-floor-'));
  const supervisor = createSupervisor();
  try {
    const servers = [];
    for (const [label, serveMode] of [
      ["Weft's frame layer alone", 'serve-frames'],
      ["Weft's HTTP/2 session", 'serve-weft'],
      ['node:http2', 'serve-node'],
    ] as const) {
      const port = await freePort();
      const command = { file: process.execPath, args: [self, serveMode, String(port)] };
      servers.push({ label, port, daemon: await startAndWait(supervisor, serveMode, command, dir, [port]) });
    }
    for (let round = 1; round <= rounds; round++) {
      for (const s of round % 2 === 1 ? servers : [...servers].reverse()) {
        const before = cpuTicks([s.daemon.pid]);
        const args = ['-c', '16', '-m', '8', '-D', String(seconds), `http://127.0.0.1:${s.port}/`];
        const r = parseH2loadOutput(await supervisor.run({ file: h2load, args }, (seconds + 30) * 1000));
        const cpuS = (cpuTicks([s.daemon.pid]) - before) / DEFAULT_CLOCK_TICKS;
        const perRequestUs = r.succeeded > 0 ? (cpuS * 1e6) / r.succeeded : Number.NaN;
        console.log(
          `round ${round} ${s.label}: ${Math.round(r.requestsPerSec)} req/s, ` +
            `${perRequestUs.toFixed(1)} µs CPU per request, ${r.errors} errors`,
        );
      }
    }
  } finally {
    await supervisor.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
