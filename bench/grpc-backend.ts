// The bench's gRPC backend: a @grpc/grpc-js server with one unary method,
// `/weft.bench.Echo/Say`, that answers each request with its own bytes. No .proto is needed:
// the method is defined with identity (de)serializers, so any message is echoed as is.
//
//   node dist/bench/grpc-backend.js PORT      prints "listening on 127.0.0.1:PORT"

import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';

export const ECHO_PATH = '/weft.bench.Echo/Say';

const identity = (b: Buffer): Buffer => b;

const ECHO_SERVICE: ServiceDefinition = {
  Say: {
    path: ECHO_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** A gRPC frame (not compressed) carrying `payload`: what a unary request body is on the wire. */
export function grpcFrame(payload: Buffer): Buffer {
  const frame = Buffer.alloc(5 + payload.length);
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  return frame;
}

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write('usage: grpc-backend.js PORT\n');
    process.exit(2);
  }
  const server = new Server();
  server.addService(ECHO_SERVICE, {
    Say: (call: { request: Buffer }, callback: (err: null, value: Buffer) => void) =>
      callback(null, call.request),
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  process.stdout.write(`listening on 127.0.0.1:${port}\n`);
  const stop = () => server.tryShutdown(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href)
  await main();
