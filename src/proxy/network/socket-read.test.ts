// readIntoReusedBuffer on real accepted sockets: chunks are independent copies, pause()
// stops delivery, and EOF still arrives as 'end'.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { readIntoReusedBuffer } from './socket-read.js';

async function acceptedPair(): Promise<{ server: net.Server; accepted: net.Socket; client: net.Socket }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [net.Socket];
  await once(client, 'connect');
  return { server, accepted, client };
}

function nextChunk(chunks: Buffer[]): Promise<void> {
  const before = chunks.length;
  return new Promise((resolve) => {
    const poll = (): void => {
      if (chunks.length > before) resolve();
      else setImmediate(poll);
    };
    poll();
  });
}

describe('readIntoReusedBuffer', () => {
  it('delivers copies that later reads do not overwrite, then end', async () => {
    const { server, accepted, client } = await acceptedPair();
    const chunks: Buffer[] = [];
    assert.equal(
      readIntoReusedBuffer(accepted, (c) => chunks.push(c)),
      true,
    );
    let ended = false;
    accepted.on('end', () => {
      ended = true;
    });
    client.write('first');
    await nextChunk(chunks);
    client.write('second');
    await nextChunk(chunks);
    assert.deepEqual(
      chunks.map((c) => c.toString()),
      ['first', 'second'],
    );
    client.end();
    while (!ended) await new Promise((r) => setImmediate(r));
    accepted.destroy();
    server.close();
  });

  it('pause() stops delivery and resume() restarts it', async () => {
    const { server, accepted, client } = await acceptedPair();
    const chunks: Buffer[] = [];
    readIntoReusedBuffer(accepted, (c) => chunks.push(c));
    accepted.pause();
    client.write('held');
    // A round trip on the other direction proves the bytes had time to arrive.
    accepted.write('ping');
    await once(client, 'data');
    await new Promise((r) => setImmediate(r));
    assert.equal(chunks.length, 0);
    accepted.resume();
    await nextChunk(chunks);
    assert.equal(Buffer.concat(chunks).toString(), 'held');
    client.destroy();
    accepted.destroy();
    server.close();
  });

  it('refuses a socket that is already set up with a read buffer', async () => {
    const { server, accepted, client } = await acceptedPair();
    assert.equal(
      readIntoReusedBuffer(accepted, () => {}),
      true,
    );
    assert.equal(
      readIntoReusedBuffer(accepted, () => {}),
      false,
    );
    assert.equal(
      readIntoReusedBuffer(new net.Socket(), () => {}),
      false,
    );
    client.destroy();
    accepted.destroy();
    server.close();
  });
});
