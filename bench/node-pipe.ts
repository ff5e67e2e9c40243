// The bench's reference L4 relay: what Node's sockets cost with no proxy around them. Each
// accepted connection gets one upstream connection, and bytes go both ways through the
// same read path Weft uses (src/proxy/network/socket-read.ts: the process's reused read
// buffer, a copy per chunk, reads handed over in turn batches) and `socket.write`, with backpressure, half-close and close.
// No stats, timers, routing or HTTP: the floor a TCP proxy on Node cannot go below, run
// in the same bench run as Weft, nginx and haproxy (docs/benchmarks.md).
//
// Given a certificate and key it terminates TLS first (node:tls, TLS 1.2+): the floor of an
// HTTPS proxy on Node, next to the HTTPS row.
//   node dist/bench/node-pipe.js LISTEN_PORT BACKEND_PORT [CERT_FILE KEY_FILE]

import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { READ_LANE_DOWNSTREAM, READ_LANE_UPSTREAM, readSocket } from '../src/proxy/network/socket-read.js';

/** Writes `chunk` to `to`, pausing `from` until `to` drains when `to` is full. */
function forward(from: net.Socket, to: net.Socket, chunk: Buffer): void {
  if (!to.write(chunk)) {
    from.pause();
    to.once('drain', () => from.resume());
  }
}

function relay(client: net.Socket, backendPort: number): void {
  const upstream = net.connect({ host: '127.0.0.1', port: backendPort, noDelay: true, allowHalfOpen: true });
  const onUpstream = (chunk: Buffer): void => forward(upstream, client, chunk);
  readSocket(upstream, READ_LANE_UPSTREAM, onUpstream);
  const onClient = (chunk: Buffer): void => forward(client, upstream, chunk);
  readSocket(client, READ_LANE_DOWNSTREAM, onClient);
  // allowHalfOpen on both sides: a FIN becomes end() on the other side.
  client.on('end', () => upstream.end());
  upstream.on('end', () => client.end());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
}

export function startNodePipe(listenPort: number, backendPort: number): net.Server {
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) =>
    relay(client, backendPort),
  );
  server.listen(listenPort, '127.0.0.1');
  return server;
}

/** The same relay behind TLS termination: `cert` and `key` are PEM. */
export function startNodeTlsPipe(
  listenPort: number,
  backendPort: number,
  cert: Buffer | string,
  key: Buffer | string,
): tls.Server {
  const server = tls.createServer({ cert, key, minVersion: 'TLSv1.2', allowHalfOpen: true }, (client) => {
    client.setNoDelay(true);
    relay(client, backendPort);
  });
  server.listen(listenPort, '127.0.0.1');
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const [listenPort, backendPort] = args.slice(0, 2).map(Number);
  if (
    !Number.isInteger(listenPort) ||
    !Number.isInteger(backendPort) ||
    (args.length !== 2 && args.length !== 4)
  ) {
    process.stderr.write(
      'usage: node dist/bench/node-pipe.js LISTEN_PORT BACKEND_PORT [CERT_FILE KEY_FILE]\n',
    );
    process.exit(2);
  }
  if (args.length === 4)
    startNodeTlsPipe(listenPort, backendPort, readFileSync(args[2]), readFileSync(args[3]));
  else startNodePipe(listenPort, backendPort);
}
