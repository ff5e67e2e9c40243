import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { StatsStore } from '../stats/store.js';
import { configEqual, createClusterManager } from './cluster-manager.js';
import type { PoolFailureReason, PoolWaiter, UpstreamConnection } from './connection-pool.js';
import { clusterConfig, createFakeResolver, endpoint, flushMicrotasks } from './testing/fixtures.js';
import { createManualClock } from './testing/manual-clock.js';

class Waiter implements PoolWaiter {
  conn: UpstreamConnection | null = null;
  failure: PoolFailureReason | null = null;
  private settle!: () => void;
  readonly done = new Promise<void>((r) => {
    this.settle = r;
  });
  onPoolReady(conn: UpstreamConnection): void {
    this.conn = conn;
    this.settle();
  }
  onPoolFailure(reason: PoolFailureReason): void {
    this.failure = reason;
    this.settle();
  }
}

function manager() {
  const resolver = createFakeResolver();
  const cm = createClusterManager({
    stats: new StatsStore(),
    clock: createManualClock(),
    resolver,
    random: () => 0,
  });
  return { cm, resolver };
}

describe('cluster manager', () => {
  it('configEqual compares structurally', () => {
    assert.ok(
      configEqual(clusterConfig('a', [endpoint('1.1.1.1', 1)]), clusterConfig('a', [endpoint('1.1.1.1', 1)])),
    );
    assert.ok(
      !configEqual(
        clusterConfig('a', [endpoint('1.1.1.1', 1)]),
        clusterConfig('a', [endpoint('1.1.1.1', 2)]),
      ),
    );
    assert.ok(!configEqual({ a: 1 }, { a: 1, b: undefined }));
    assert.ok(!configEqual([1, 2], { 0: 1, 1: 2 }));
  });

  it('keeps unchanged clusters (and their warm pools), rebuilds changed ones, drains removed ones', async () => {
    const server = net.createServer((s) => s.on('error', () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const { cm } = manager();
    try {
      cm.update([
        clusterConfig('keep', [endpoint('127.0.0.1', port)]),
        clusterConfig('change', [endpoint('127.0.0.1', port)]),
        clusterConfig('remove', [endpoint('127.0.0.1', port)]),
      ]);
      await cm.whenInitialized();
      const idleConns = new Map<string, UpstreamConnection>();
      for (const name of ['keep', 'change', 'remove']) {
        const host = cm.get(name)!.chooseHost()!;
        const w = new Waiter();
        host.pool.acquire(w);
        await w.done;
        host.pool.release(w.conn!, true);
        idleConns.set(name, w.conn!);
      }
      const keep = cm.get('keep');
      const change = cm.get('change');
      cm.update([
        clusterConfig('keep', [endpoint('127.0.0.1', port)]),
        clusterConfig('change', [endpoint('127.0.0.1', port)], { connectTimeoutMs: 1234 }),
        clusterConfig('added', [endpoint('127.0.0.1', port)]),
      ]);
      assert.equal(cm.get('keep'), keep);
      assert.notEqual(cm.get('change'), change);
      assert.equal(cm.get('change')!.config.connectTimeoutMs, 1234);
      assert.equal(cm.get('remove'), undefined);
      assert.deepEqual(
        cm.all().map((c) => c.name),
        ['keep', 'change', 'added'],
      );
      assert.equal(
        idleConns.get('keep')!.socket.destroyed,
        false,
        'unchanged cluster keeps its idle connection',
      );
      assert.equal(keep!.hosts[0].pool.idleCount, 1);
      assert.equal(idleConns.get('change')!.socket.destroyed, true, 'old pool drained');
      assert.equal(idleConns.get('remove')!.socket.destroyed, true);
      const w = new Waiter();
      keep!.hosts[0].pool.acquire(w);
      assert.equal(w.conn, idleConns.get('keep'));
      keep!.hosts[0].pool.release(w.conn!, true);
    } finally {
      cm.close();
      server.close();
    }
  });

  it('whenInitialized waits for every DNS cluster first resolution', async () => {
    const { cm, resolver } = manager();
    let answer!: (v: string[]) => void;
    const slow = new Promise<string[]>((r) => {
      answer = r;
    });
    const base = resolver.resolve.bind(resolver);
    resolver.resolve = (name, family) => (name === 'slow.svc' ? slow : base(name, family));
    resolver.answers.set('fast.svc', ['10.0.0.1']);
    cm.update([
      clusterConfig('static', [endpoint('10.0.0.9', 80)]),
      clusterConfig('fast', [endpoint('fast.svc', 80)], { type: 'STRICT_DNS' }),
      clusterConfig('slow', [endpoint('slow.svc', 80)], { type: 'LOGICAL_DNS' }),
    ]);
    let done = false;
    const init = cm.whenInitialized().then(() => {
      done = true;
    });
    await flushMicrotasks();
    assert.equal(done, false);
    assert.equal(cm.get('fast')!.hosts.length, 1);
    answer(['10.0.0.2']);
    await init;
    assert.equal(cm.get('slow')!.hosts[0].addressString, '10.0.0.2:80');
    cm.close();
  });
});
