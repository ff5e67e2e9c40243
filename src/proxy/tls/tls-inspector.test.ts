// The tls_inspector on real loopback sockets: the bytes it read are back on the socket for
// the next reader, a silent client is closed at listener_filters_timeout (or let through
// as raw_buffer with continue_on_listener_filters_timeout), on the manual clock.

import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { StatsStore } from '../stats/store.js';
import { createManualClock } from '../upstream/testing/manual-clock.js';
import { createTlsInspectorStats, type InspectionResult, inspectTls } from './tls-inspector.js';

type Outcome = { kind: 'ok'; result: InspectionResult; socket: Socket } | { kind: 'failed'; reason: string };

describe('tls_inspector', () => {
  let server: Server;
  let port: number;
  const accepted: Socket[] = [];
  let onAccept: ((s: Socket) => void) | null = null;

  before(async () => {
    server = createServer((s) => {
      accepted.push(s);
      onAccept?.(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });

  /** Yields to the event loop until the server accepted connection number `count` + 1 (bounded). */
  async function waitForAccept(count: number): Promise<void> {
    for (let i = 0; i < 1000 && accepted.length <= count; i++) await new Promise((r) => setImmediate(r));
    assert.ok(accepted.length > count, 'the server accepted the connection');
  }

  function inspectNext(timeoutMs: number | null, continueOnTimeout: boolean, clock = createManualClock()) {
    const stats = new StatsStore();
    const outcome = new Promise<Outcome>((resolve) => {
      onAccept = (socket) =>
        inspectTls(
          socket,
          { clock, timeoutMs, continueOnTimeout, stats: createTlsInspectorStats(stats) },
          {
            onInspected: (result) => resolve({ kind: 'ok', result, socket }),
            onInspectionFailed: (reason) => resolve({ kind: 'failed', reason }),
          },
        );
    });
    return { outcome, stats, clock };
  }

  it('sees plaintext as raw_buffer and leaves every byte for the next reader', async () => {
    const { outcome, stats } = inspectNext(15_000, false);
    const c = connect(port, '127.0.0.1');
    c.write('GET / HTTP/1.1\r\n');
    const o = await outcome;
    assert.equal(o.kind, 'ok');
    if (o.kind !== 'ok') return;
    assert.deepEqual(o.result, { transportProtocol: 'raw_buffer', serverName: '', alpn: [] });
    const got = new Promise<string>((resolve) => {
      let text = '';
      o.socket.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.endsWith('\r\n\r\n')) resolve(text);
      });
    });
    c.write('host: x\r\n\r\n');
    assert.equal(await got, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.equal(stats.counter('tls_inspector.tls_not_found').value, 1);
    c.destroy();
  });

  it('reads SNI and ALPN from a TLS client', async () => {
    const { outcome, stats } = inspectNext(15_000, false);
    const c = tlsConnect({ port, host: '127.0.0.1', servername: 'svc.test', ALPNProtocols: ['h2'] });
    c.on('error', () => {});
    const o = await outcome;
    assert.equal(o.kind, 'ok');
    if (o.kind === 'ok') {
      assert.deepEqual(o.result, { transportProtocol: 'tls', serverName: 'svc.test', alpn: ['h2'] });
      assert.ok(o.socket.readableLength > 0, 'the ClientHello is back in the socket buffer');
    }
    assert.equal(stats.counter('tls_inspector.sni_found').value, 1);
    assert.equal(stats.counter('tls_inspector.alpn_found').value, 1);
    c.destroy();
  });

  it('closes a connection that sends nothing by listener_filters_timeout', async () => {
    const clock = createManualClock();
    const { outcome } = inspectNext(15_000, false, clock);
    const count = accepted.length;
    const c = connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) => c.on('close', () => r()));
    await waitForAccept(count);
    let settled = false;
    void outcome.then(() => {
      settled = true;
    });
    clock.advance(14_999);
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'still waiting before the timeout');
    clock.advance(1);
    assert.deepEqual(await outcome, { kind: 'failed', reason: 'timeout' });
    await closed;
  });

  it('goes on as raw_buffer after the timeout with continue_on_listener_filters_timeout', async () => {
    const clock = createManualClock();
    const { outcome } = inspectNext(1000, true, clock);
    const count = accepted.length;
    const c = connect(port, '127.0.0.1');
    c.write(Buffer.from([22, 3, 1])); // a partial record header
    await waitForAccept(count);
    clock.advance(1000);
    const o = await outcome;
    assert.equal(o.kind, 'ok');
    if (o.kind === 'ok') assert.equal(o.result.transportProtocol, 'raw_buffer');
    c.destroy();
  });
});
