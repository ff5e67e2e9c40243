// A gRPC service with all four call shapes on raw bytes (no .proto), for proxy tests:
//   Say    unary: answers "<tag> <request>"
//   Sum    client streaming: answers the requests joined with '+'
//   Count  server streaming: the request is a number N; answers "1".."N"
//   Chat   bidi: echoes each message as "echo:<message>"
//   Hang   unary that never answers (for deadlines); the call is left to be cancelled

import {
  Client,
  credentials,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';

const raw = (b: Buffer): Buffer => b;
const PREFIX = '/weft.test.Streams/';

function method(name: string, requestStream: boolean, responseStream: boolean) {
  return {
    path: PREFIX + name,
    requestStream,
    responseStream,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  };
}

export const STREAMS_SERVICE = {
  Say: method('Say', false, false),
  Sum: method('Sum', true, false),
  Count: method('Count', false, true),
  Chat: method('Chat', true, true),
  Hang: method('Hang', false, false),
};

export async function startStreamsServer(tag: string): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(STREAMS_SERVICE, {
    Say: (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) =>
      done(null, Buffer.from(`${tag} ${call.request.toString()}`)),
    Sum: (call: ServerReadableStream<Buffer, Buffer>, done: sendUnaryData<Buffer>) => {
      const parts: string[] = [];
      call.on('data', (m: Buffer) => parts.push(m.toString()));
      call.on('end', () => done(null, Buffer.from(parts.join('+'))));
    },
    Count: (call: ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
    Chat: (call: ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => call.write(Buffer.from(`echo:${m.toString()}`)));
      call.on('end', () => call.end());
    },
    Hang: () => {},
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

export function streamsClient(target: string): Client {
  return new Client(target, credentials.createInsecure());
}

export function unary(client: Client, name: 'Say' | 'Hang', text: string, deadline?: Date): Promise<string> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(`${PREFIX}${name}`, raw, raw, Buffer.from(text), { deadline }, (err, reply) =>
      err ? reject(err) : resolve(reply?.toString() ?? ''),
    ),
  );
}

export function clientStreaming(client: Client, messages: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const call = client.makeClientStreamRequest(`${PREFIX}Sum`, raw, raw, (err, reply) =>
      err ? reject(err) : resolve(reply?.toString() ?? ''),
    );
    for (const m of messages) call.write(Buffer.from(m));
    call.end();
  });
}

export function serverStreaming(client: Client, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const out: string[] = [];
    const call = client.makeServerStreamRequest(`${PREFIX}Count`, raw, raw, Buffer.from(String(n)));
    call.on('data', (m: Buffer) => out.push(m.toString()));
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

/** Bidi: sends each message only after the previous echo came back (proves interleaving). */
export function bidiPingPong(client: Client, messages: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const out: string[] = [];
    const call = client.makeBidiStreamRequest(`${PREFIX}Chat`, raw, raw);
    let next = 0;
    const send = () => {
      if (next < messages.length) call.write(Buffer.from(messages[next++]));
      else call.end();
    };
    call.on('data', (m: Buffer) => {
      out.push(m.toString());
      send();
    });
    call.on('error', reject);
    call.on('end', () => resolve(out));
    send();
  });
}
