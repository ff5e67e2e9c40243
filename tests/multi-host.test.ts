// The mesh across hosts: three network namespaces on one bridge stand in for three machines.
// `cp` (10.77.0.1) runs `weft control`; `h1` (10.77.0.2) and `h2` (10.77.0.3) each run `weft
// run` (a real app with its `weft proxy` sidecar, registered as a Workload with a 3 s TTL).
// h2 serves `echo` from an app that listens on 127.0.0.1 inside h2 only; h1 runs `front`
// with `--upstreams echo`. From inside h1 a client calls front's local upstream port for
// echo. This proves, with real processes and real packets between namespaces:
//   - traffic crosses hosts only through sidecars: h1's sidecar → h2's sidecar inbound on
//     10.77.0.3 → the app, which h1 cannot reach directly (the connect is refused);
//   - static stability: with the control plane stopped (SIGTERM) for longer than the TTL,
//     every request still succeeds;
//   - resync: while it starts again on the same state dir and the sidecars and heartbeats
//     reconnect, no request in a continuous loop fails, and both Workloads survive;
//   - TTL expiry: after h2's `weft run` is SIGKILLed (no deregistration; its orphaned
//     sidecar and app keep answering, so any request still routed to it is visible) and a
//     second echo instance starts, within TTL + a few seconds N consecutive requests all
//     succeed and all come from the new instance.
// Skipped, with the reason printed, when not root, without `ip`, or when namespaces cannot
// be created. Every process group, namespace and veth is removed afterwards, also on failure.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { groupMembers, signalGroup } from '../src/up/process-group.js';
import { WEFT_MAIN } from './support/control-harness.js';
import { createNetwork, type Network, namespacesNamed, netnsSkipReason } from './support/netns.js';

const PREFIX = `weft-t${process.pid}`;
const CP = '10.77.0.1';
const H1 = '10.77.0.2';
const H2 = '10.77.0.3';
const API = `http://${CP}:15000`;
const XDS = `${CP}:15010`;
const TTL = 3;
/** After the kill: TTL for the lease, plus EDS debounce and the new instance's start. */
const CONVERGE_MS = TTL * 1000 + 4000;
const CONSECUTIVE = 20;
const PORTS = { echoA: 18080, echoB: 18081, front: 18090 };
const WORKLOADS = '/apis/weft.dev/v1alpha1/namespaces/default/workloads';

/** The app: answers `<host> <workload> <path>`; prints its upstream URL for echo, if any. */
const APP = `
import { createServer } from 'node:http';
const host = process.argv[2];
createServer((req, res) => res.end(host + ' ' + process.env.WEFT_WORKLOAD + ' ' + req.url))
  .listen(Number(process.env.PORT), '127.0.0.1', () =>
    console.log('listening; upstream echo ' + (process.env.WEFT_UPSTREAM_ECHO_URL ?? 'none')));
`;

/** Runs inside a namespace: one JSON request per stdin line (HTTP or a TCP connect), one JSON reply per line. */
const PROBE = `
import { request } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  let done = false;
  const reply = (r) => { if (!done) { done = true; process.stdout.write(JSON.stringify({ id: m.id, ...r }) + '\\n'); } };
  const fail = (e) => reply({ ok: false, error: e.code ?? e.message });
  if (m.op === 'connect') {
    const s = connect({ host: m.host, port: m.port });
    s.setTimeout(m.timeoutMs, () => s.destroy(new Error('timeout')));
    s.on('connect', () => { reply({ ok: true }); s.destroy(); });
    s.on('error', fail);
    return;
  }
  const u = new URL(m.url);
  const body = m.body === undefined ? undefined : JSON.stringify(m.body);
  const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: m.method,
    agent: false, timeout: m.timeoutMs, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => reply({ ok: true, status: res.statusCode, body: text }));
      res.on('error', fail);
    });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', fail);
  req.end(body);
});
`;

interface Proc {
  readonly label: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

interface Reply {
  readonly ok: boolean;
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
}

interface Probe {
  get(url: string, timeoutMs?: number): Promise<Reply>;
  api(method: string, path: string, body?: unknown): Promise<Reply>;
  connect(host: string, port: number): Promise<Reply>;
}

const skip = netnsSkipReason(`${PREFIX}-probe`);
if (skip !== undefined) console.log(`# multi-host test skipped: ${skip}`);

let net: Network | undefined;
let dir: string | undefined;
const procs: Proc[] = [];

/** Every process group this test started: each child's, and those weft run's supervisor printed. */
function groups(): number[] {
  return procs.flatMap((p) => [
    p.child.pid!,
    ...[...p.output().matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1])),
  ]);
}

function killEverything(): void {
  for (const pid of groups()) signalGroup(pid, 'SIGKILL');
  for (const pid of net?.pids() ?? []) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

/** Synchronous last resort (exit or a signal while the test runs). */
function emergencyCleanup(): void {
  killEverything();
  net?.remove();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}
const onSignal = (signal: NodeJS.Signals) => {
  emergencyCleanup();
  process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
};

/** Polls `probe` every `everyMs` until it returns a value; fails after `ms`. */
async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined>,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}${logs()}`);
    await delay(everyMs);
  }
}

function logs(): string {
  return procs.map((p) => `\n--- ${p.label} ---\n${p.output().split('\n').slice(-40).join('\n')}`).join('');
}

function spawnIn(ns: string, label: string, args: string[], onLine?: (line: string) => void): Proc {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], {
    cwd: dir,
    detached: true, // `ip netns exec` execs node: the child leads its own process group
    stdio: [onLine === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let text = '';
  if (onLine === undefined) child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  else createInterface({ input: child.stdout! }).on('line', onLine);
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const proc: Proc = { label, child, exited, output: () => text };
  procs.push(proc);
  return proc;
}

async function waitFor(proc: Proc, re: RegExp, ms: number): Promise<RegExpMatchArray> {
  let exited = false;
  void proc.exited.then(() => (exited = true));
  return until(`${proc.label} prints ${re}`, ms, async () => {
    const m = proc.output().match(re);
    if (m === null && exited) throw new Error(`${proc.label} exited before printing ${re}${logs()}`);
    return m ?? undefined;
  });
}

async function exitOf(proc: Proc, ms: number): Promise<number | null> {
  let code: number | null | undefined;
  void proc.exited.then((c) => (code = c));
  await until(`${proc.label} exits`, ms, async () => (code === undefined ? undefined : true));
  return code ?? null;
}

function startProbe(host: string, ns: string): Probe {
  let seq = 0;
  const pending = new Map<number, (r: Reply) => void>();
  const proc = spawnIn(ns, `probe ${host}`, [join(dir!, 'probe.mjs')], (line) => {
    const { id, ...r } = JSON.parse(line) as Reply & { id: number };
    pending.get(id)?.(r);
    pending.delete(id);
  });
  const call = (m: Record<string, unknown>, timeoutMs: number): Promise<Reply> => {
    const id = ++seq;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`probe ${host} did not answer${logs()}`)),
        timeoutMs + 3000,
      );
      pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      proc.child.stdin!.write(`${JSON.stringify({ id, timeoutMs, ...m })}\n`);
    });
  };
  return {
    get: (url, timeoutMs = 2000) => call({ op: 'http', method: 'GET', url }, timeoutMs),
    api: (method, path, body) => call({ op: 'http', method, url: API + path, body }, 3000),
    connect: (host, port) => call({ op: 'connect', host, port }, 2000),
  };
}

async function startControl(): Promise<Proc> {
  const control = spawnIn(`${PREFIX}-cp`, 'control', [
    WEFT_MAIN,
    'control',
    '--state-dir',
    join(dir!, 'control'),
    '--api-address',
    `${CP}:15000`,
    '--xds-address',
    XDS,
    '-l',
    'warn',
  ]);
  await waitFor(
    control,
    new RegExp(`weft control: API listening on ${API}\\n[^]*xDS listening on ${XDS}`),
    10_000,
  );
  return control;
}

function weftRun(
  host: 'h1' | 'h2',
  service: string,
  name: string,
  address: string,
  port: number,
  extra: string[] = [],
): Proc {
  return spawnIn(`${PREFIX}-${host}`, `weft run ${name}`, [
    WEFT_MAIN,
    'run',
    '--control',
    API,
    '--xds',
    XDS,
    '--service',
    service,
    '--name',
    name,
    '--address',
    address,
    '--port',
    String(port),
    '--ttl',
    String(TTL),
    ...extra,
    '--',
    process.execPath,
    join(dir!, 'app.mjs'),
    host,
  ]);
}

/** Requests `url` from `probe` back to back until stopped; every reply is kept. */
function hammer(probe: Probe, url: string): { readonly replies: Reply[]; stop(): Promise<Reply[]> } {
  const replies: Reply[] = [];
  let stopping = false;
  const done = (async () => {
    while (!stopping) replies.push(await probe.get(url));
  })();
  return {
    replies,
    async stop() {
      stopping = true;
      await done;
      return replies;
    },
  };
}

const from = (r: Reply, workload: string) =>
  r.ok && r.status === 200 && r.body?.startsWith(`h2 ${workload} `) === true;

describe('a mesh across three network-namespace hosts', { skip: skip ?? false }, () => {
  let h1: Probe;
  let h2: Probe;
  let control: Proc;
  let echoA: Proc;
  let upstream: string;

  before(
    async () => {
      process.on('exit', emergencyCleanup);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      dir = mkdtempSync(join(tmpdir(), 'weft-multihost-'));
      writeFileSync(join(dir, 'app.mjs'), APP);
      writeFileSync(join(dir, 'probe.mjs'), PROBE);
      net = createNetwork(PREFIX, { cp: CP, h1: H1, h2: H2 });
      h1 = startProbe('h1', `${PREFIX}-h1`);
      h2 = startProbe('h2', `${PREFIX}-h2`);
      control = await startControl();
      for (const svc of ['echo', 'front']) {
        const put = await until(`PUT Service ${svc} from h1`, 5000, async () => {
          const r = await h1.api('PUT', `/apis/weft.dev/v1alpha1/namespaces/default/services/${svc}`, {
            spec: { selector: { app: svc }, ports: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
          });
          return r.ok ? r : undefined;
        });
        assert.ok(put.status === 200 || put.status === 201, `PUT Service ${svc}: ${put.status} ${put.body}`);
      }
    },
    { timeout: 20_000 },
  );

  after(
    async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      killEverything();
      const pids = groups();
      await until('every process of the test is gone', 5000, async () => {
        killEverything();
        return net?.pids().length === 0 && pids.every((p) => groupMembers(p).length === 0) ? true : undefined;
      });
      await Promise.all(procs.map((p) => p.exited));
      net?.remove();
      process.off('exit', emergencyCleanup);
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(namespacesNamed(`${PREFIX}-`), [], 'no namespace left behind');
    },
    { timeout: 15_000 },
  );

  it('carries h1 → h2 traffic only through the two sidecars', { timeout: 30_000 }, async () => {
    echoA = weftRun('h2', 'echo', 'echo-a', H2, PORTS.echoA);
    const front = weftRun('h1', 'front', 'front-h1', H1, PORTS.front, ['--upstreams', 'echo']);
    const [, inbound] = await waitFor(
      echoA,
      /registered Workload default\/echo-a \(10\.77\.0\.3:(\d+) /,
      15_000,
    );
    await waitFor(echoA, /Workload is healthy/, 20_000);
    const [, url] = await waitFor(front, /upstream echo (http:\/\/127\.0\.0\.1:\d+)/, 20_000);
    upstream = url!;

    // What weft run printed is what it registered.
    const w = JSON.parse((await h1.api('GET', `${WORKLOADS}/front-h1`)).body!);
    assert.equal(`http://127.0.0.1:${w.metadata.annotations['weft.dev/upstream-port-echo']}`, upstream);
    const e = JSON.parse((await h1.api('GET', `${WORKLOADS}/echo-a`)).body!);
    assert.deepEqual([e.spec.address, e.spec.ports.http, e.spec.ttlSeconds], [H2, Number(inbound), TTL]);

    const hello = await until('h1 reaches echo through its sidecar', 10_000, async () => {
      const r = await h1.get(`${upstream}/hello`);
      return r.ok && r.status === 200 ? r : undefined;
    });
    assert.equal(hello.body, 'h2 echo-a /hello');

    // The app on h2 listens on h2's loopback only: reachable inside h2, not from h1. The only
    // way in from h1 is h2's sidecar inbound port on 10.77.0.3.
    assert.deepEqual(await h2.connect('127.0.0.1', PORTS.echoA), { ok: true });
    assert.deepEqual(await h1.connect(H2, PORTS.echoA), { ok: false, error: 'ECONNREFUSED' });
    assert.deepEqual(await h1.connect(H2, Number(inbound)), { ok: true });
  });

  it('keeps serving with the control plane stopped (static stability)', { timeout: 20_000 }, async () => {
    control.child.kill('SIGTERM');
    assert.equal(await exitOf(control, 10_000), 0, `weft control exits 0 on SIGTERM${logs()}`);
    const down = await h1.api('GET', WORKLOADS);
    assert.equal(down.ok, false, 'the API is really gone');
    // Longer than the TTL: nothing expires while nobody runs the leases.
    const loop = hammer(h1, `${upstream}/static`);
    const startedAt = Date.now();
    await until('TTL + 0.5 s of requests with no control plane', 10_000, async () =>
      loop.replies.length > 0 && Date.now() - startedAt >= TTL * 1000 + 500 ? true : undefined,
    );
    const replies = await loop.stop();
    const failed = replies.filter((r) => !from(r, 'echo-a'));
    assert.deepEqual(failed.slice(0, 3), [], `${failed.length} of ${replies.length} requests failed`);
    console.log(`# control plane down: ${replies.length} requests, all answered by h2/echo-a`);
  });

  it('fails no request while the control plane restarts and resyncs', { timeout: 60_000 }, async () => {
    const loop = hammer(h1, `${upstream}/restart`);
    control = await startControl();
    // Both sidecars back on ADS and acked, and both weft runs heartbeating again.
    const proxiesSynced = async () => {
      const r = await h1.api('GET', '/v1/proxy-status');
      if (!r.ok || r.status !== 200) return undefined;
      const proxies = (JSON.parse(r.body!) as { proxies: { nodeId: string; types: { state: string }[] }[] })
        .proxies;
      const synced = (id: string) =>
        proxies.some(
          (p) =>
            p.nodeId === id &&
            p.types.some((t) => t.state === 'SYNCED') &&
            p.types.every((t) => t.state === 'SYNCED' || t.state === 'NOT_SENT'),
        );
      return synced('sidecar~default~echo-a') && synced('sidecar~default~front-h1') ? true : undefined;
    };
    // A sidecar retries ADS with Envoy's full-jitter back-off (500 ms doubling up to 30 s,
    // src/proxy/xds/backoff.ts): after seconds without a control plane its next attempt
    // can be 8-16 s away, and in the worst case up to 30 s.
    await until('both sidecars resynced', 35_000, proxiesSynced, 100);
    const front = procs.find((p) => p.label === 'weft run front-h1')!;
    await waitFor(echoA, /control plane reachable again/, 5000);
    await waitFor(front, /control plane reachable again/, 5000);
    const resynced = Date.now();
    // Past a whole TTL after the restart: the re-armed leases were renewed, not expired.
    await until('TTL + 0.5 s after the resync', 10_000, async () =>
      Date.now() - resynced >= TTL * 1000 + 500 ? true : undefined,
    );
    const replies = await loop.stop();
    for (const name of ['echo-a', 'front-h1'])
      assert.equal((await h1.api('GET', `${WORKLOADS}/${name}`)).status, 200, `${name} still registered`);
    const failed = replies.filter((r) => !from(r, 'echo-a'));
    assert.deepEqual(failed.slice(0, 3), [], `${failed.length} of ${replies.length} requests failed`);
    console.log(`# across the restart: ${replies.length} requests, none failed`);
  });

  it('stops sending to a SIGKILLed workload within its TTL', { timeout: 30_000 }, async () => {
    // weft run dies without deregistering; its sidecar and app (own process groups) live on
    // as orphans and still answer as echo-a, so a request still routed there is visible.
    const killedAt = Date.now();
    signalGroup(echoA.child.pid!, 'SIGKILL');
    await exitOf(echoA, 5000);
    const echoB = weftRun('h2', 'echo', 'echo-b', H2, PORTS.echoB);
    let streak = 0;
    let fromA = 0;
    let failures = 0;
    let total = 0;
    while (streak < CONSECUTIVE) {
      assert.ok(
        Date.now() - killedAt <= CONVERGE_MS,
        `no ${CONSECUTIVE} consecutive answers from echo-b within ${CONVERGE_MS} ms ` +
          `(${total} requests, ${fromA} from echo-a, ${failures} failed)${logs()}`,
      );
      const r = await h1.get(`${upstream}/after-kill`);
      total++;
      if (from(r, 'echo-b')) streak++;
      else {
        streak = 0;
        if (from(r, 'echo-a')) fromA++;
        else failures++;
        await delay(20); // a short pause between misses while echo-b starts
      }
    }
    const elapsed = Date.now() - killedAt;
    // Expired by its TTL: nobody deregistered it.
    assert.equal((await h1.api('GET', `${WORKLOADS}/echo-a`)).status, 404);
    assert.doesNotMatch(echoA.output(), /deregistered/);
    assert.match(echoB.output(), /Workload is healthy/);
    console.log(
      `# ${CONSECUTIVE} consecutive answers from echo-b ${elapsed} ms after the kill ` +
        `(${total} requests: ${fromA} still from echo-a, ${failures} failed while echo-b started)`,
    );
  });
});
