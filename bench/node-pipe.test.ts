// The reference relay over real sockets: bytes both ways, half-close, and the far side
// closed when one side goes away; and the same relay behind TLS termination.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import tls from 'node:tls';
import { makeCertificate } from './certificate.js';
import { startNodePipe, startNodeTlsPipe } from './node-pipe.js';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

describe('node-pipe', () => {
  const servers: (net.Server | tls.Server)[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it('relays both ways and passes a half-close on', async () => {
    // The backend echoes upper-cased, and answers "bye" after the client's FIN.
    const backend = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('data', (d: Buffer) => s.write(d.toString().toUpperCase()));
      s.on('end', () => s.end('bye'));
    });
    servers.push(backend);
    const backendPort = await listen(backend);
    const pipe = startNodePipe(0, backendPort);
    servers.push(pipe);
    await once(pipe, 'listening');
    const port = (pipe.address() as net.AddressInfo).port;

    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let received = '';
    client.on('data', (d: Buffer) => {
      received += d.toString();
      if (received === 'HELLO') client.end();
    });
    client.write('hello');
    await once(client, 'end');
    assert.equal(received, 'HELLObye');
    client.destroy();
  });

  it('closes the client when the backend goes away', async () => {
    const backend = net.createServer((s) => s.destroy());
    servers.push(backend);
    const backendPort = await listen(backend);
    const pipe = startNodePipe(0, backendPort);
    servers.push(pipe);
    await once(pipe, 'listening');
    const client = net.connect({ port: (pipe.address() as net.AddressInfo).port, host: '127.0.0.1' });
    client.on('error', () => {});
    await once(client, 'close');
  });

  it('behind TLS: terminates the handshake and relays the plaintext', async () => {
    const backend = net.createServer((s) => s.on('data', (d: Buffer) => s.write(d.toString().toUpperCase())));
    servers.push(backend);
    const backendPort = await listen(backend);
    const files = makeCertificate(mkdtempSync(join(tmpdir(), 'weft-node-pipe-')));
    const pipe = startNodeTlsPipe(0, backendPort, readFileSync(files.cert), readFileSync(files.key));
    servers.push(pipe);
    await once(pipe, 'listening');
    const client = tls.connect({
      port: (pipe.address() as net.AddressInfo).port,
      host: '127.0.0.1',
      ca: readFileSync(files.cert),
    });
    await once(client, 'secureConnect');
    client.write('hello tls');
    const [reply] = await once(client, 'data');
    assert.equal(String(reply), 'HELLO TLS');
    client.destroy();
  });
});
