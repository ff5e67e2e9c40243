// The README's main job, end to end: `weft up examples/shop` (the real CLI, real apps and
// sidecars, the real control plane on the mesh file's API port 15000), requests through the
// mesh across every hop, a canary applied live shifting the measured distribution, the
// tour's injected fault (examples/shop/routes/fault.yaml) slowing catalog calls and
// flagged DI in the web sidecar's access log, retries on the gRPC hop hiding the flaky
// ratings instance, and `weft down` leaving no process behind.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isAlive } from '../src/core/process-liveness.js';
import { WEFT_MAIN } from './support/control-harness.js';

const SHOP = new URL('../../examples/shop', import.meta.url).pathname;
const CONTROL = 'http://127.0.0.1:15000';

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function weft(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WEFT_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Which reviews version served each of `n` page requests. */
async function reviewsVersions(web: string, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await get(`${web}/api/products/1`);
    assert.equal(r.status, 200, r.body);
    const v = String(r.headers['x-shop-reviews-version']);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return counts;
}

describe('weft up examples/shop', { timeout: 120_000 }, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'weft-demo-'));
  let up: ChildProcess;
  let output = '';
  let web = '';

  before(async () => {
    up = spawn(process.execPath, [WEFT_MAIN, 'up', SHOP, '--state-dir', stateDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    up.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    up.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 90_000;
    while (web === '' && Date.now() < deadline && up.exitCode === null) {
      web = /curl (http:\/\/127\.0\.0\.1:\d+)\/\s+# web/.exec(output)?.[1] ?? '';
      if (web === '') await delay(100);
    }
    assert.ok(web !== '', `weft up printed the web address; output:\n${output.slice(-3000)}`);
  });

  after(async () => {
    // After a failed step weft up may still run: SIGTERM stops its processes in order (a
    // SIGKILL would orphan them, holding port 15000 for the next run); SIGKILL if it hangs.
    if (up.exitCode === null) {
      up.kill('SIGTERM');
      for (let i = 0; i < 200 && up.exitCode === null; i++) await delay(50);
      if (up.exitCode === null) up.kill('SIGKILL');
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('serves the shop through the mesh: every hop, every reviews version', async () => {
    const page = await get(`${web}/api/products/1`);
    assert.equal(page.status, 200, page.body);
    const served = (JSON.parse(page.body) as { served: Record<string, string> }).served;
    assert.equal(served.web, 'v1');
    assert.equal(served.catalog, 'v1');
    const counts = await reviewsVersions(web, 30);
    assert.deepEqual([...counts.keys()].sort(), ['v1', 'v2', 'v3'], JSON.stringify([...counts]));
  });

  it('shifts traffic when the canary route is applied', async () => {
    const applied = await weft(['apply', '-f', join(SHOP, 'routes/canary-10.yaml'), '--control', CONTROL]);
    assert.equal(applied.code, 0, applied.out);
    // The route reaches every sidecar asynchronously: wait until v3 stops answering.
    for (let i = 0; i < 100; i++) {
      if (!(await reviewsVersions(web, 5)).has('v3')) break;
      await delay(50);
    }
    const counts = await reviewsVersions(web, 100);
    assert.equal(counts.get('v3') ?? 0, 0, JSON.stringify([...counts]));
    assert.ok((counts.get('v1') ?? 0) >= 70, `about 90% v1: ${JSON.stringify([...counts])}`);
    assert.ok((counts.get('v2') ?? 0) >= 1, `some v2: ${JSON.stringify([...counts])}`);
  });

  it('the injected fault delays catalog calls and shows as DI in the access log', async () => {
    const fault = join(SHOP, 'routes/fault.yaml');
    const applied = await weft(['apply', '-f', fault, '--control', CONTROL]);
    assert.equal(applied.code, 0, applied.out);
    try {
      // fault.yaml delays every catalog call by 2 s; wait until the route is everywhere.
      let took = 0;
      for (let i = 0; i < 50 && took < 1900; i++) {
        const started = Date.now();
        const page = await get(`${web}/api/products/1`);
        assert.equal(page.status, 200, page.body);
        took = Date.now() - started;
        if (took < 1900) await delay(100);
      }
      assert.ok(took >= 1900, `a page waits for the 2 s catalog delay (took ${took} ms)`);
      // The web sidecar's outbound access log: "GET /products/1 HTTP/1.1" 200 DI ... The
      // sidecar writes it after the response (its log is batched) and weft up relays it: wait.
      const di = /"GET \/products\/1 HTTP\/1\.1" 200 DI /;
      for (let i = 0; i < 100 && !di.test(output); i++) await delay(50);
      assert.ok(di.test(output), `an access-log line with DI; output tail:\n${output.slice(-3000)}`);
    } finally {
      // Later steps must not run with catalog 2 s late.
      const removed = await weft(['delete', '-f', fault, '--control', CONTROL]);
      assert.equal(removed.code, 0, removed.out);
    }
  });

  it('retries on the gRPC hop hide the flaky ratings instance', async () => {
    const applyFile = async (name: string) => {
      const r = await weft(['apply', '-f', join(SHOP, 'routes', name), '--control', CONTROL]);
      assert.equal(r.code, 0, r.out);
    };
    // Testers get reviews v3, which asks ratings (gRPC, through both sidecars) for stars.
    const ratingsErrors = async (n: number) => {
      let errors = 0;
      for (let i = 0; i < n; i++) {
        const r = await get(`${web}/api/products/1`, { 'x-user': 'tester' });
        assert.equal(r.status, 200, r.body);
        if (r.body.includes('ratingsError')) errors++;
      }
      return errors;
    };
    await applyFile('header-v3.yaml');
    let before = 0;
    for (let i = 0; i < 20 && before === 0; i++) before = await ratingsErrors(20);
    assert.ok(before > 0, 'ratings-flaky fails some star lookups');
    await applyFile('retry-ratings.yaml');
    let after = -1;
    for (let i = 0; i < 50 && after !== 0; i++) {
      after = await ratingsErrors(20);
      if (after !== 0) await delay(100);
    }
    assert.equal(after, 0, 'with retries, no lookup in 20 fails');
    assert.equal(await ratingsErrors(40), 0, 'and it stays so');
  });

  it('weft down stops everything, leaving no process behind', async () => {
    const state = JSON.parse(readFileSync(join(stateDir, 'up.json'), 'utf8')) as {
      processes: Array<{ pid?: number }>;
    };
    const pids = state.processes.map((p) => p.pid).filter((p): p is number => p !== undefined);
    assert.ok(pids.length >= 17, `control + 8 apps + 8 sidecars: ${pids.length}`);
    const down = await weft(['down', SHOP, '--state-dir', stateDir]);
    assert.equal(down.code, 0, down.out);
    const deadline = Date.now() + 20_000;
    while (pids.some(isAlive) && Date.now() < deadline) await delay(100);
    assert.deepEqual(pids.filter(isAlive), [], 'no process left');
    assert.notEqual(up.exitCode, null, 'weft up exited');
  });
});
