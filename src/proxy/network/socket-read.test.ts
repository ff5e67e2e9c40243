// readIntoReusedBuffer on real sockets: chunks are independent copies, pause() stops
// delivery, EOF still arrives as 'end'; and the turn batches: reads wait for the turn's
// check phase, but never behind the socket's own end, error or close, and a bulk transfer
// can still be paused between reads.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { READ_LANE_DOWNSTREAM, READ_LANE_UPSTREAM, readIntoReusedBuffer } from './socket-read.js';

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
      readIntoReusedBuffer(accepted, READ_LANE_DOWNSTREAM, (c) => chunks.push(c)),
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
    readIntoReusedBuffer(accepted, READ_LANE_DOWNSTREAM, (c) => chunks.push(c));
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
      readIntoReusedBuffer(accepted, READ_LANE_DOWNSTREAM, () => {}),
      true,
    );
    assert.equal(
      readIntoReusedBuffer(accepted, READ_LANE_DOWNSTREAM, () => {}),
      false,
    );
    assert.equal(
      readIntoReusedBuffer(new net.Socket(), READ_LANE_UPSTREAM, () => {}),
      false,
    );
    client.destroy();
    accepted.destroy();
    server.close();
  });

  it("hands a turn's reads over on its check phase, in order, and before the socket's 'end'", async () => {
    const { server, accepted, client } = await acceptedPair();
    const events: string[] = [];
    readIntoReusedBuffer(accepted, READ_LANE_DOWNSTREAM, (c) => events.push(`data ${c}`));
    accepted.on('end', () => events.push('end'));
    // The bytes and the FIN arrive together: the read is queued, the 'end' comes next.
    client.end('last words');
    await once(accepted, 'end');
    assert.deepEqual(events, ['data last words', 'end']);
    accepted.destroy();
    server.close();
  });

  it("hands a turn's upstream reads over before its downstream ones, each socket's in order", async () => {
    const down = await acceptedPair();
    const up = await acceptedPair();
    const events: string[] = [];
    readIntoReusedBuffer(down.accepted, READ_LANE_DOWNSTREAM, (c) => events.push(`down ${c}`));
    readIntoReusedBuffer(up.client, READ_LANE_UPSTREAM, (c) => events.push(`up ${c}`));
    // Both writes land before the next poll (loopback writes are synchronous), the
    // downstream one first: one turn reads both.
    down.client.write('request');
    up.accepted.write('response');
    try {
      while (events.length < 2) await new Promise((r) => setImmediate(r));
      assert.deepEqual(events, ['up response', 'down request']);
    } finally {
      for (const pair of [down, up]) {
        pair.client.destroy();
        pair.accepted.destroy();
        pair.server.close();
      }
    }
  });

  it("hands the reads before a reset over before the socket's 'error' and 'close'", async () => {
    const { server, accepted, client } = await acceptedPair();
    const events: string[] = [];
    // The client side reads in turn batches here (as Weft's upstream connections do).
    readIntoReusedBuffer(client, READ_LANE_UPSTREAM, (c) => events.push(`data ${c}`));
    client.on('error', (err: NodeJS.ErrnoException) => events.push(`error ${err.code}`));
    client.on('close', () => events.push('close'));
    accepted.write('response', () => accepted.resetAndDestroy());
    await once(client, 'close');
    server.close();
    // Whether the reset surfaces as an 'error' depends on timing; the data comes first either way.
    assert.equal(events[0], 'data response');
    assert.equal(events.at(-1), 'close');
    assert.equal(events.filter((e) => e.startsWith('data')).length, 1);
  });

  it('hands large reads over at once, so a paused bulk transfer stops between them', async () => {
    const { server, accepted, client } = await acceptedPair();
    let received = 0;
    readIntoReusedBuffer(accepted, READ_LANE_DOWNSTREAM, (c) => {
      if (received === 0) accepted.pause();
      received += c.length;
    });
    const total = 4 * 1024 * 1024;
    client.write(Buffer.alloc(total));
    while (received === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    // Queued instead, libuv would have read up to 32 more 64 KiB buffers in that turn.
    assert.ok(received <= 2 * 64 * 1024, `received ${received} bytes while paused`);
    accepted.resume();
    while (received < total) await new Promise((r) => setTimeout(r, 5));
    client.destroy();
    accepted.destroy();
    server.close();
  });
});
