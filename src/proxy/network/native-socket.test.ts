// NativeSocket (native/socket-io.c through native-socket.ts) against real sockets: what
// Weft's HTTP/1.1 connections rely on from a net.Socket, the addon must do the same way.
// The HTTP/1.1 suites (tests/http-proxy.test.ts and others) run through it as well.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HAS_CC } from '../../core/testing/c-compiler.js';
import { nativeHttp1Connect } from '../upstream/connect.js';
import { closedPort } from '../upstream/testing/fixtures.js';
import { loadNativeSocketIo, type NativeSocket, type NativeSocketIo } from './native-socket.js';
import { READ_LANE_DOWNSTREAM } from './read-lane.js';
import { readSocket } from './socket-read.js';

const loaded = loadNativeSocketIo();
const SKIP = loaded.io === null ? `native socket I/O not built: ${loaded.reason}` : false;
/** Is there a C compiler here? Then `npm ci` must have built the addon. */

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A server whose accepted sockets `onSocket` gets; they allow half-open. */
async function server(onSocket: (s: net.Socket) => void): Promise<number> {
  const sockets: net.Socket[] = [];
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => {});
    onSocket(s);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  return (srv.address() as net.AddressInfo).port;
}

/** A connected pair: `native` (our side, adopted, reading into `chunks`) and `peer` (plain Node). */
async function pair(
  io: NativeSocketIo,
  allowHalfOpen = true,
): Promise<{
  native: NativeSocket;
  peer: net.Socket;
  chunks: Buffer[];
}> {
  let accepted!: net.Socket;
  const got = new Promise<void>((resolve) => {
    void server((s) => {
      accepted = s;
      resolve();
    }).then((port) => {
      peerSocket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    });
  });
  let peerSocket!: net.Socket;
  await got;
  await once(peerSocket, 'connect').catch(() => {});
  accepted.allowHalfOpen = allowHalfOpen;
  const native = io.adopt(accepted, READ_LANE_DOWNSTREAM)!;
  assert.ok(native, 'a plain accepted socket is adopted');
  const chunks: Buffer[] = [];
  readSocket(native, READ_LANE_DOWNSTREAM, (c) => chunks.push(c));
  native.on('error', () => {});
  cleanups.push(() => {
    native.destroy();
    peerSocket.destroy();
  });
  return { native, peer: peerSocket, chunks };
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The next `bytes` bytes from `s` (which stays open). */
function readAll(s: net.Socket, bytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  return new Promise((resolve) => {
    const onData = (c: Buffer): void => {
      parts.push(c);
      n += c.length;
      if (n < bytes) return;
      s.removeListener('data', onData);
      resolve(Buffer.concat(parts));
    };
    s.on('data', onData);
  });
}

describe('NativeSocket (HTTP/1.1 socket I/O in C)', () => {
  const io = loaded.io!;

  it('is built wherever a C compiler is (npm ci runs scripts/build-native.mjs)', {
    skip: !HAS_CC && 'no C compiler',
  }, () => {
    assert.notEqual(loaded.io, null, SKIP || '');
  });

  it('reads in order, writes both encodings, and ends: FIN both ways, finish, end, close', {
    skip: SKIP,
  }, async () => {
    const { native, peer, chunks } = await pair(io);
    peer.write('one ');
    await until(() => chunks.length > 0, 'the first read');
    peer.write('two');
    await until(() => Buffer.concat(chunks).length === 7, 'both reads');
    assert.equal(Buffer.concat(chunks).toString(), 'one two');

    assert.equal(native.write(Buffer.from('bytes ')), true);
    assert.equal(native.write('latin1 \xe9', 'latin1'), true);
    assert.equal((await readAll(peer, 14)).toString('latin1'), 'bytes latin1 \xe9');

    const events: string[] = [];
    native.on('end', () => events.push('end'));
    native.on('finish', () => events.push('finish'));
    native.on('close', () => events.push('close'));
    peer.end();
    await until(() => events.includes('end'), "the peer's FIN");
    // allowHalfOpen: our side stays open after the peer's FIN.
    assert.equal(native.destroyed, false);
    native.write('after', 'latin1');
    assert.equal((await readAll(peer, 5)).toString(), 'after');
    native.end();
    await once(peer, 'end');
    await until(() => events.includes('close'), 'close');
    assert.deepEqual(events, ['end', 'finish', 'close']);
    assert.equal(native.writableFinished, true);
    assert.equal(native.destroyed, true);
    assert.equal(io.openCount, 0);
  });

  it("without allowHalfOpen, the peer's FIN ends our side and the socket closes", {
    skip: SKIP,
  }, async () => {
    const { native, peer } = await pair(io, false);
    peer.end();
    await once(peer, 'end');
    await once(native, 'close');
    assert.equal(native.writableFinished, true);
  });

  it('holds reads while paused and delivers them on resume', { skip: SKIP }, async () => {
    const { native, peer, chunks } = await pair(io);
    native.pause();
    assert.equal(native.isPaused(), true);
    peer.write('held');
    await sleep(50);
    assert.equal(chunks.length, 0);
    native.resume();
    await until(() => chunks.length > 0, 'the held bytes');
    assert.equal(Buffer.concat(chunks).toString(), 'held');
  });

  it('hands over bytes Node read before the adoption, before later ones', { skip: SKIP }, async () => {
    let accepted!: net.Socket;
    const port = await server((s) => {
      accepted = s;
    });
    const peer = net.connect({ port, host: '127.0.0.1' });
    cleanups.push(() => peer.destroy());
    await until(() => accepted !== undefined, 'the accept');
    peer.write('early ');
    // Node reads it into the socket's buffer (no one consumes it yet).
    await until(() => accepted.readableLength > 0, "Node's buffered read");
    const native = io.adopt(accepted, READ_LANE_DOWNSTREAM)!;
    cleanups.push(() => native.destroy());
    const chunks: Buffer[] = [];
    readSocket(native, READ_LANE_DOWNSTREAM, (c) => chunks.push(c));
    peer.write('late');
    await until(() => Buffer.concat(chunks).length === 10, 'all bytes');
    assert.equal(Buffer.concat(chunks).toString(), 'early late');
  });

  it('applies backpressure: false over the high-water mark, drain once written, bytes intact', {
    skip: SKIP,
  }, async () => {
    const { native, peer } = await pair(io);
    peer.pause();
    const piece = Buffer.alloc(64 * 1024);
    for (let i = 0; i < piece.length; i++) piece[i] = i % 251;
    let writes = 0;
    let ok = true;
    // A stalled reader: the kernel buffers fill and the socket keeps the rest.
    while (ok && writes < 1000) {
      ok = native.write(piece);
      writes++;
    }
    assert.equal(ok, false, 'write() said stop');
    assert.equal(native.writableNeedDrain, true);
    assert.ok(native.writableLength > 0);
    const drained = once(native, 'drain');
    const received = readAll(peer, writes * piece.length);
    peer.resume();
    await drained;
    assert.equal(native.writableNeedDrain, false);
    assert.equal(native.writableLength, 0);
    const all = await received;
    assert.equal(all.length, writes * piece.length);
    for (let w = 0; w < writes; w++) {
      assert.equal(all.subarray(w * piece.length, (w + 1) * piece.length).equals(piece), true, `write ${w}`);
    }
  });

  it('sends corked writes on the last uncork, in order', { skip: SKIP }, async () => {
    const { native, peer } = await pair(io);
    const got: Buffer[] = [];
    peer.on('data', (c: Buffer) => got.push(c));
    native.cork();
    native.cork();
    native.write('a', 'latin1');
    native.write(Buffer.from('b'));
    native.uncork();
    await sleep(30);
    assert.equal(got.length, 0, 'nothing sent while still corked');
    native.uncork();
    await until(() => Buffer.concat(got).length === 2, 'the corked bytes');
    assert.equal(Buffer.concat(got).toString(), 'ab');
  });

  it("reports the peer's reset as Node does (read ECONNRESET), then closes", { skip: SKIP }, async () => {
    const { native, peer } = await pair(io);
    const errors: Error[] = [];
    native.on('error', (e: Error) => errors.push(e));
    const closed = new Promise<boolean>((resolve) => native.once('close', resolve));
    peer.resetAndDestroy();
    const hadError = await closed;
    assert.equal(hadError, true);
    assert.equal(errors.length, 1);
    const err = errors[0] as NodeJS.ErrnoException;
    assert.equal(err.code, 'ECONNRESET');
    assert.equal(err.syscall, 'read');
    assert.equal(err.message, 'read ECONNRESET');
    assert.equal(io.openCount, 0);
  });

  it('a destroyed socket gets no more events, and its id is reused', { skip: SKIP }, async () => {
    const { native, peer, chunks } = await pair(io);
    peer.write('lost?');
    await sleep(20);
    // The read may be queued in the addon for this turn's batch: destroy now drops it.
    native.destroy();
    const seen = chunks.length;
    await sleep(30);
    assert.equal(chunks.length, seen);
    assert.equal(io.openCount, 0);
    const second = await pair(io);
    second.peer.write('x');
    await until(() => second.chunks.length > 0, 'a read on the next socket');
    assert.equal(io.openCount, 1);
  });

  it('connects: writes made while connecting go out once connected; reads go to onData', {
    skip: SKIP,
  }, async () => {
    const port = await server((s) => {
      s.on('data', (d) => s.write(`echo:${d}`));
    });
    const chunks: Buffer[] = [];
    const socket = nativeHttp1Connect(io)(port, '127.0.0.1', (c) => chunks.push(c));
    cleanups.push(() => socket.destroy());
    assert.equal(socket.write('early', 'latin1'), true);
    assert.ok(socket.writableLength >= 5);
    await once(socket, 'connect');
    assert.equal(socket.remoteAddress, '127.0.0.1');
    await until(() => Buffer.concat(chunks).toString() === 'echo:early', 'the echo');
  });

  it('fails a refused connect with Node’s own error and close', { skip: SKIP }, async () => {
    const socket = nativeHttp1Connect(io)(await closedPort(), '127.0.0.1');
    const closed = new Promise<boolean>((resolve) => socket.once('close', resolve));
    const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(await closed, true);
    assert.equal(io.openCount, 0);
  });

  it('leaves TLS sockets to Node', { skip: SKIP }, () => {
    const fake = Object.assign(new net.Socket(), { encrypted: true });
    assert.equal(io.adopt(fake, READ_LANE_DOWNSTREAM), null);
    fake.destroy();
  });
});
