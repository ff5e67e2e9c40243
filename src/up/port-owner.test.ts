// Port in use: a port held by another process is reported with that process's pid and
// command (Linux /proc), and free ports are distinct.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { allocateFreePorts, assertPortsFree, nonEphemeralRange } from './port-allocator.js';
import { findPortOwner, parseListeningInodes } from './port-owner.js';
import { UpError } from './up-error.js';

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 5151 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0
`;

/** A child process listening on a free port; resolves with it and the port. */
async function holdPort(): Promise<{ child: ChildProcess; port: number }> {
  const script = `const s = require('node:net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, port: Number(data.toString().trim()) };
}

describe('port owner', () => {
  it('parses LISTEN sockets of a port from /proc/net/tcp', () => {
    assert.deepEqual(parseListeningInodes(TABLE, 8080), ['4242']);
    assert.deepEqual(parseListeningInodes(TABLE, 80), ['777']);
    assert.deepEqual(parseListeningInodes(TABLE, 50000), []);
  });

  it('names the process that holds a fixed port', {
    skip: process.platform !== 'linux' && 'needs /proc',
  }, async (t) => {
    const { child, port } = await holdPort();
    t.after(() => child.kill('SIGKILL'));
    const owner = await findPortOwner(port);
    assert.equal(owner?.pid, child.pid);
    assert.match(owner!.command, /node/);
    await assert.rejects(
      assertPortsFree([{ port, what: 'workloads[0].port of web' }]),
      (err: unknown) =>
        err instanceof UpError &&
        err.code === 'WEFT_UP_PORT_IN_USE' &&
        err.message.startsWith(`port ${port} (workloads[0].port of web) is in use by pid ${child.pid} (`),
    );
  });

  it('says "unknown process" and how to find it when the owner cannot be found', async (t) => {
    const { child, port } = await holdPort();
    t.after(() => child.kill('SIGKILL'));
    await assert.rejects(
      assertPortsFree([{ port, what: 'control.apiPort' }], { findOwner: async () => undefined }),
      new RegExp(`port ${port} \\(control.apiPort\\) is in use by an unknown process \\(run \`ss -ltnp`),
    );
  });

  it('allocates distinct free ports, and a free port passes the check', async () => {
    const ports = await allocateFreePorts(20);
    assert.equal(new Set(ports).size, 20);
    await assertPortsFree([{ port: ports[0]!, what: 'x' }]);
  });

  it('picks free ports outside the kernel ephemeral range, which connect() never takes', async () => {
    const range = nonEphemeralRange();
    assert.ok(range !== undefined, 'this machine has room below its ephemeral range');
    const ephemeral = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/);
    for (const port of await allocateFreePorts(20)) {
      assert.ok(port >= range[0] && port <= range[1], `${port} in ${range.join('-')}`);
      assert.ok(port < Number(ephemeral[0]) || port > Number(ephemeral[1]), `${port} is not ephemeral`);
    }
  });

  it('skips a taken port in the range, and falls back to the kernel when the range is full', async (t) => {
    const { child, port } = await holdPort();
    t.after(() => child.kill('SIGKILL'));
    // A one-port range that is taken: every try fails, so the kernel picks.
    const [picked] = await allocateFreePorts(1, '127.0.0.1', [port, port]);
    assert.notEqual(picked, port);
    assert.ok(picked! > 0);
  });

  it('reads the range below, or above, the ephemeral range, and gives up on a crowded one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-ports-'));
    const file = (text: string): string => {
      const f = join(dir, `range-${text.replace(/\s+/g, '_')}`);
      writeFileSync(f, text);
      return f;
    };
    try {
      assert.deepEqual(nonEphemeralRange(file('32768\t60999\n')), [10000, 32767]);
      assert.deepEqual(nonEphemeralRange(file('1024 40000\n')), [40001, 65535]);
      assert.equal(nonEphemeralRange(file('1024 65000\n')), undefined);
      assert.equal(nonEphemeralRange(file('not a range')), undefined);
      assert.equal(nonEphemeralRange(join(dir, 'missing')), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
