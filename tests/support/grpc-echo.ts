// A gRPC backend and client for tests that need real gRPC without a .proto: one unary
// method, `/weft.test.Echo/Say`, on raw bytes; the server answers `<tag> <request>`.

import {
  Client,
  credentials,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';

export const ECHO_METHOD = '/weft.test.Echo/Say';

const raw = (b: Buffer): Buffer => b;

export async function startEchoServer(tag: string): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(
    {
      Say: {
        path: ECHO_METHOD,
        requestStream: false,
        responseStream: false,
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    {
      Say: (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) =>
        done(null, Buffer.from(`${tag} ${call.request.toString()}`)),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

/** One unary call to the echo method at `target`, on a fresh channel (2 s deadline). */
export function say(target: string, text: string): Promise<string> {
  const client = new Client(target, credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(
      ECHO_METHOD,
      raw,
      raw,
      Buffer.from(text),
      { deadline: new Date(Date.now() + 2000) },
      (err, reply) => (err ? reject(err) : resolve(reply?.toString() ?? '')),
    );
  }).finally(() => client.close());
}
