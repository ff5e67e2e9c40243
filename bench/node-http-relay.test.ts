// The reference HTTP/1.1 relay over real sockets: requests in order on pooled backend
// connections, responses that arrive in pieces, and what it refuses.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { type HttpRelay, responseContentLength, startNodeHttpRelay } from './node-http-relay.js';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

/** A raw backend: answers each GET head with `respond(path)`'s chunks; counts connections. */
function rawBackend(respond: (path: string, socket: net.Socket) => void): {
  server: net.Server;
  connections: () => number;
} {
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    let pending = '';
    s.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const path = pending.slice(0, end).split(' ')[1];
        pending = pending.slice(end + 4);
        respond(path, s);
      }
    });
    s.on('error', () => {});
  });
  return { server, connections: () => connections };
}

function okResponse(body: string): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/** Sends `raw` and collects what comes back until `done(received)` or the connection closes. */
async function exchange(port: number, raw: string, done: (received: string) => boolean): Promise<string> {
  const client = net.connect({ port, host: '127.0.0.1' });
  let received = '';
  const finished = new Promise<void>((resolve) => {
    client.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      if (done(received)) resolve();
    });
    client.on('close', () => resolve());
  });
  client.write(raw);
  await finished;
  client.destroy();
  return received;
}

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: b\r\n\r\n`;
const count = (text: string, what: string): number => text.split(what).length - 1;

describe('node-http-relay', () => {
  const servers: net.Server[] = [];
  const relays: HttpRelay[] = [];
  after(() => {
    for (const s of servers) s.close();
    for (const r of relays) r.close();
  });

  async function relayTo(backend: net.Server): Promise<number> {
    servers.push(backend);
    const relay = startNodeHttpRelay(0, await listen(backend));
    relays.push(relay);
    await once(relay.server, 'listening');
    return (relay.server.address() as net.AddressInfo).port;
  }

  it('answers pipelined requests in order and reuses one backend connection', async () => {
    const backend = rawBackend((path, s) => s.write(okResponse(`body of ${path}`)));
    const port = await relayTo(backend.server);
    const received = await exchange(port, get('/a') + get('/bb') + get('/ccc'), (r) => r.includes('of /ccc'));
    assert.equal(received, okResponse('body of /a') + okResponse('body of /bb') + okResponse('body of /ccc'));
    // One more client afterwards takes the idle connection from the pool.
    await exchange(port, get('/d'), (r) => r.includes('of /d'));
    assert.equal(backend.connections(), 1);
  });

  it('follows a response whose head and body arrive in several pieces', async () => {
    const body = 'x'.repeat(5000);
    const backend = rawBackend((_path, s) => {
      const whole = okResponse(body);
      s.write(whole.slice(0, 10));
      setTimeout(() => s.write(whole.slice(10, 100)), 5);
      setTimeout(() => s.write(whole.slice(100)), 10);
    });
    const port = await relayTo(backend.server);
    const received = await exchange(port, get('/1') + get('/2'), (r) => count(r, body) === 2);
    assert.equal(received, okResponse(body) + okResponse(body));
  });

  it('puts a backend connection back in the pool reading, even if a slow client had paused it', async () => {
    // A client that is slow (or gone: a write after its end fails the same way) pauses the
    // backend connection; once the response is complete that connection is released, and a
    // paused idle connection would leave the next request on it unanswered.
    const backend = rawBackend((path, s) => s.write(okResponse(`body of ${path}`)));
    const port = await relayTo(backend.server);
    const relay = relays[relays.length - 1];
    const upstream = relay.acquire();
    await once(upstream.socket, 'connect');
    upstream.socket.pause();
    relay.release(upstream);
    assert.equal(upstream.socket.isPaused(), false);
    const received = await exchange(port, get('/next'), (r) => r.endsWith('of /next'));
    assert.equal(received, okResponse('body of /next'));
    assert.equal(backend.connections(), 1, 'the released connection served the request');
  });

  it('closes the client on what it does not frame: a request body, a response without Content-Length', async () => {
    const backend = rawBackend((path, s) =>
      s.write(
        path === '/chunked'
          ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n'
          : okResponse('ok'),
      ),
    );
    const port = await relayTo(backend.server);
    assert.equal(await exchange(port, 'POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi', () => false), '');
    assert.equal(await exchange(port, get('/chunked'), () => false), '');
    assert.equal(await exchange(port, get('/'), (r) => r.endsWith('ok')), okResponse('ok'));
  });

  it('reads Content-Length in any case, and refuses one that is not a number', () => {
    const head = (fields: string): Buffer => Buffer.from(`HTTP/1.1 200 OK\r\n${fields}\r\n\r\n`, 'latin1');
    const lengthOf = (fields: string): number => {
      const buf = head(fields);
      return responseContentLength(buf, buf.indexOf('\r\n\r\n'));
    };
    assert.equal(lengthOf('Server: x\r\nContent-Length: 953'), 953);
    assert.equal(lengthOf('CONTENT-LENGTH:12'), 12);
    assert.equal(lengthOf('X-Content-Length: 5'), -1);
    assert.equal(lengthOf('Content-Length: 1x'), -1);
    assert.equal(lengthOf('Content-Length: '), -1);
    assert.equal(lengthOf('Server: x'), -1);
  });
});
