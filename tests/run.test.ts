// `weft run` end to end, with real processes: a real `weft control`, weft run itself as a
// child process (the real CLI entry, `weft run`), its `weft proxy` sidecar and a tiny HTTP app. Checks the registered Workload,
// EDS as the sidecar received it, traffic through the inbound port and through an upstream
// port, the exit status and the deregistration, SIGTERM forwarding, --attach, and the
// errors for a missing Service. Cleanup kills every process group a test started.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { loadResidentPages } from '../src/core/resident-pages.js';
import { allocateFreePorts } from '../src/up/port-allocator.js';
import { groupMembers, signalGroup } from '../src/up/process-group.js';
import { type Control, eventually, startControl, WEFT_MAIN } from './support/control-harness.js';

const NS = 'default';
const WORKLOADS = `/apis/weft.dev/v1alpha1/namespaces/${NS}/workloads`;

const APP = `
import { createServer } from 'node:http';
const port = Number(process.env.PORT);
createServer(async (req, res) => {
  const url = new URL(req.url, 'http://app');
  if (url.pathname === '/exit') {
    res.end('bye');
    setTimeout(() => process.exit(Number(url.searchParams.get('code'))), 10);
  } else if (url.pathname === '/call') {
    const r = await fetch(process.env.WEFT_UPSTREAM_ECHO_URL + '/via-upstream').catch((e) => ({ status: 502, text: async () => String(e) }));
    res.end('called ' + r.status + ': ' + (await r.text()));
  } else res.end(process.env.WEFT_WORKLOAD + ' got ' + url.pathname);
}).listen(port, '127.0.0.1', () => console.log('app listening on ' + port));
process.on('SIGTERM', () => { console.log('app got SIGTERM'); process.exit(42); });
`;

interface RunProc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
}

let dir: string;
let control: Control;
const procs: RunProc[] = [];
const servers: Server[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-run-'));
  await writeFile(join(dir, 'app.mjs'), APP);
  control = await startControl(join(dir, 'control'));
  await api('PUT', `/apis/weft.dev/v1alpha1/namespaces/${NS}/services/echo`, {
    spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
  });
});

afterEach(async () => {
  // weft run and its children each lead a process group: leave none behind, even on failure.
  for (const p of procs.splice(0)) {
    const pids = [
      p.child.pid!,
      ...[...p.output().matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1])),
    ];
    for (const pid of pids) signalGroup(pid, 'SIGKILL');
    await p.exited;
    await eventually('no process left', async () =>
      pids.every((pid) => groupMembers(pid).length === 0) ? true : undefined,
    );
  }
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

after(async () => {
  await control.stop();
  await rm(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON answers
type Json = Record<string, any>;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(control.apiUrl + path, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

function weftRun(args: string[]): RunProc {
  const child = spawn(
    process.execPath,
    [WEFT_MAIN, 'run', '--control', control.apiUrl, '--xds', `127.0.0.1:${control.xdsPort}`, ...args],
    { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let text = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const take = (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters]) {
      const m = text.match(w.re);
      if (m !== null) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const proc: RunProc = {
    child,
    exited,
    output: () => text,
    waitFor(re) {
      const m = text.match(re);
      if (m !== null) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        waiters.push({ re, resolve });
        void exited.then(() => {
          const late = text.match(re);
          if (late !== null) resolve(late);
          else reject(new Error(`weft run exited before printing ${re}:\n${text}`));
        });
      });
    },
  };
  procs.push(proc);
  return proc;
}

/** Waits for the Workload registered and healthy; returns it with its inbound port. */
async function healthyWorkload(run: RunProc) {
  const [, name] = await run.waitFor(/registered Workload default\/(\S+) /);
  await run.waitFor(/Workload is healthy/);
  const w = await eventually('the Workload is healthy in the store', async () => {
    const r = await api('GET', `${WORKLOADS}/${name}`);
    return r.status === 200 && r.body.spec.healthy === true ? r.body : undefined;
  });
  return { name: name!, workload: w, inbound: w.spec.ports.http as number };
}

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

const RESIDENT_PAGES_BUILT = loadResidentPages().release !== null;

describe('weft run -- COMMAND', () => {
  it('registers the Workload, serves through the sidecar, propagates the exit status and deregisters', async () => {
    const [appPort] = await allocateFreePorts(1);
    const run = weftRun([
      '--service',
      'echo',
      '--port',
      String(appPort),
      '--labels',
      'app=echo,version=v1',
      '--locality',
      'eu/eu-1a',
      '--upstreams',
      'echo',
      '--',
      process.execPath,
      'app.mjs',
    ]);
    const { name, workload, inbound } = await healthyWorkload(run);
    assert.match(name, /^echo-/);
    // weft run stays alive next to the app: it gives back the node binary's start-up pages.
    assert.match(
      run.output(),
      RESIDENT_PAGES_BUILT
        ? /weft run: released [\d.]+ MiB of start-up pages of the node binary/
        : /weft run: start-up pages of the node binary stay resident/,
    );
    assert.deepEqual(workload.metadata.labels, {
      app: 'echo',
      version: 'v1',
      'weft.dev/service': 'echo',
      'weft.dev/managed-by': 'weft-run',
    });
    assert.equal(workload.metadata.annotations['weft.dev/app-port-http'], String(appPort));
    const upstreamPort = Number(workload.metadata.annotations['weft.dev/upstream-port-echo']);
    assert.ok(upstreamPort > 0);
    assert.deepEqual(workload.spec.locality, { region: 'eu', zone: 'eu-1a' });
    assert.equal(workload.spec.ttlSeconds, 15);
    assert.equal(workload.spec.address, '127.0.0.1');

    // EDS as this very sidecar received it: its own endpoint behind echo's cluster.
    const nodeId = encodeURIComponent(`sidecar~${NS}~${name}`);
    await eventually('EDS carries the Workload', async () => {
      const r = await api('GET', `/v1/proxy-config/${nodeId}`);
      const eds = JSON.stringify(r.body?.types?.EDS?.resources ?? []);
      return eds.includes(`"port_value":${inbound}`) ? true : undefined;
    });

    // Inbound: the sidecar's port reaches the app; upstream: the app calls echo through its sidecar.
    assert.deepEqual(await get(inbound, '/hello'), { status: 200, text: `${name} got /hello` });
    assert.deepEqual(await get(appPort!, '/call'), {
      status: 200,
      text: `called 200: ${name} got /via-upstream`,
    });

    await get(inbound, '/exit?code=7');
    assert.equal(await run.exited, 7);
    assert.match(run.output(), /deregistered Workload default\//);
    assert.equal((await api('GET', `${WORKLOADS}/${name}`)).status, 404);
  });

  it('forwards SIGTERM to the command and exits with its status', async () => {
    const [appPort] = await allocateFreePorts(1);
    const run = weftRun(['--service', 'echo', '--port', String(appPort), '--', process.execPath, 'app.mjs']);
    const { name } = await healthyWorkload(run);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 42);
    assert.match(run.output(), /SIGTERM: forwarding it to the app/);
    assert.match(run.output(), /app got SIGTERM/);
    assert.equal((await api('GET', `${WORKLOADS}/${name}`)).status, 404);
  });

  it('refuses a missing Service unless --create-service, and names what is missing', async () => {
    const missing = weftRun(['--service', 'nope', '--port', '1234', '--', 'true']);
    assert.equal(await missing.exited, 1);
    assert.match(
      missing.output(),
      /weft: error \[WEFT_NOT_FOUND\]: Service default\/nope does not exist .*--create-service/,
    );
    const usage = weftRun(['--service', 'echo', '--port', '1234']);
    assert.equal(await usage.exited, 2);
    assert.match(usage.output(), /a COMMAND after -- is required \(or --attach\)/);
    // --create-service, and a command that cannot be started: 127, and nothing left registered.
    const created = weftRun([
      '--service',
      'made',
      '--create-service',
      '--port',
      '1234',
      '--',
      join(dir, 'no-such-binary'),
    ]);
    assert.equal(await created.exited, 127);
    assert.equal((await api('GET', `/apis/weft.dev/v1alpha1/namespaces/${NS}/services/made`)).status, 200);
    assert.deepEqual(
      (await api('GET', `${WORKLOADS}?labelSelector=weft.dev%2Fservice%3Dmade`)).body.items,
      [],
    );
  });
});

describe('weft run --attach', () => {
  it('fronts an app that already listens until SIGINT, then deregisters and exits 0', async () => {
    const server = createServer((req, res) => res.end(`attached app got ${req.url}`));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const appPort = (server.address() as { port: number }).port;
    const run = weftRun([
      '--attach',
      '--service',
      'echo',
      '--port',
      String(appPort),
      '--name',
      'echo-attached',
    ]);
    const { name, inbound } = await healthyWorkload(run);
    assert.equal(name, 'echo-attached');
    assert.deepEqual(await get(inbound, '/x'), { status: 200, text: 'attached app got /x' });
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 0);
    assert.equal((await api('GET', `${WORKLOADS}/echo-attached`)).status, 404);
    assert.deepEqual(await get(appPort, '/still'), { status: 200, text: 'attached app got /still' });
  });
});
