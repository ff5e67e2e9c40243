// `weft up`, `weft status` and `weft down` end to end with the fake launcher: real app
// processes (small node scripts), a TCP forwarder as sidecar, a fake control plane. Checks
// the wiring (an app reaches its upstream through $WEFT_UPSTREAM_..._URL), the applied
// resources, the state other terminals see, the lock, stale state, errors, and that nothing
// is left running afterwards.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runDownCommand } from './down-command.js';
import { allocateFreePorts } from './port-allocator.js';
import { groupMembers, isAlive } from './process-group.js';
import type { RunPlan } from './run-plan.js';
import { runStatusCommand } from './status-command.js';
import { createFakeLauncher } from './testing/fake-launcher.js';
import { createCapture, createScriptDir, type ScriptDir } from './testing/up-test-kit.js';
import { runUpCommand } from './up-command.js';
import { readUpState, STATE_FORMAT, writeUpState } from './up-state.js';

const BACKEND = `
import { createServer } from 'node:http';
createServer((req, res) => res.end('backend:' + process.env.WEFT_WORKLOAD))
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('backend up on ' + process.env.PORT));
`;
const FRONTEND = `
import { createServer } from 'node:http';
createServer(async (req, res) => {
  const answer = await fetch(process.env.WEFT_UPSTREAM_BACKEND_URL + '/').then((r) => r.text(), (e) => 'error ' + e.message);
  res.end('frontend -> ' + answer);
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('frontend up'));
`;
const MESH = `workloads:
  - name: frontend
    service: frontend
    command: node
    args: [frontend.mjs]
    upstreams: [backend]
  - name: backend
    service: backend
    command: node
    args: [backend.mjs]
    replicas: 2
    labels: {app: backend, version: v1}
    readiness: {httpPath: /}
`;
const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-route}
spec:
  parentRefs: [{kind: Service, group: "", name: backend}]
`;

let project: ScriptDir;
const cleanups: (() => unknown)[] = [];

beforeEach(async () => {
  project = await createScriptDir('weft-up-cmd-');
  await project.script('mesh.yaml', MESH);
  await project.script('frontend.mjs', FRONTEND);
  await project.script('backend.mjs', BACKEND);
  await project.script('routes.yaml', ROUTE);
  await project.script('package.json', '{"name": "demo", "type": "module"}');
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await project.cleanup();
});

/** Starts `weft up` in this process; returns how to stop it and its result. */
function upInProcess(argv: string[]) {
  const out = createCapture();
  const err = createCapture();
  let stop: (reason: string) => void = () => {};
  let plan: RunPlan | undefined;
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  const result = runUpCommand(argv, {
    launcher: createFakeLauncher(),
    out,
    err,
    env: { ...process.env, NO_COLOR: '1' },
    graceMs: 3000,
    onStopRequest: (s) => {
      stop = s;
      return () => {};
    },
    onReady: (p) => {
      plan = p;
      onReady();
    },
  });
  cleanups.push(async () => {
    stop('test cleanup');
    await result;
  });
  return { out, err, result, ready, stop: (r: string) => stop(r), plan: () => plan! };
}

function allGone(pids: readonly number[]): void {
  for (const pid of pids) {
    assert.equal(isAlive(pid), false, `pid ${pid} is gone`);
    assert.deepEqual(groupMembers(pid), [], `group ${pid} is empty`);
  }
}

describe('weft up', () => {
  it('runs the mesh: apps reach upstreams through sidecars; status; clean stop', async () => {
    const up = upInProcess([project.dir]);
    await Promise.race([
      up.ready,
      up.result.then((code) => assert.fail(`weft up exited ${code}: ${up.err.text}`)),
    ]);
    const plan = up.plan();
    const frontend = plan.replicas.find((r) => r.name === 'frontend-0')!;

    const answer = await (await fetch(`http://127.0.0.1:${frontend.sidecar.inboundPort}/`)).text();
    assert.equal(answer, 'frontend -> backend:backend-0');

    const applied = (await (await fetch(`http://127.0.0.1:${plan.control.apiPort}/v1/applied`)).json()) as {
      kind: string;
      metadata: { name: string };
    }[];
    assert.deepEqual(
      applied.map((r) => `${r.kind}/${r.metadata.name}`),
      [
        'Service/frontend',
        'Service/backend',
        'Workload/frontend-0',
        'Workload/backend-0',
        'Workload/backend-1',
        'HTTPRoute/backend-route',
      ],
    );

    assert.match(
      up.out.text,
      new RegExp(`curl http://127\\.0\\.0\\.1:${frontend.sidecar.inboundPort}/   # frontend`),
    );
    assert.match(up.out.text, /^backend-0 +\| backend up on \d+$/m);
    assert.match(up.err.text, /skipping package\.json \(no apiVersion\/kind: not resources\)/);
    assert.match(
      up.out.text,
      new RegExp(`Control plane API  http://127\\.0\\.0\\.1:${plan.control.apiPort}`),
    );

    const state = (await readUpState(join(project.dir, '.weft')))!;
    assert.equal(state.pid, process.pid);
    assert.equal(state.phase, 'running');
    const pids = state.processes.map((p) => p.pid!);
    assert.equal(pids.length, 7);
    const status = createCapture();
    assert.equal(await runStatusCommand([project.dir], { out: status }), 0);
    assert.match(status.text, /^frontend-0\.sidecar +sidecar +\d+ +ready +0 +inbound=\d+ admin=\d+$/m);
    assert.match(status.text, /^control +control +\d+ +ready/m);

    up.stop('test');
    assert.equal(await up.result, 0);
    allGone(pids);
    assert.equal(existsSync(join(project.dir, '.weft', 'up.json')), false, 'state file removed');
    assert.equal(existsSync(join(project.dir, '.weft', 'up.lock')), false, 'lock released');
  });

  it('weft down from another terminal stops it; a second weft up in the same dir is refused', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [fileURLToPath(new URL('./testing/up-child.js', import.meta.url)), project.dir],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, NO_COLOR: '1' } },
    );
    cleanups.push(() => {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    });
    const out = createCapture();
    child.stdout!.on('data', (d: Buffer) => out.write(d.toString()));
    child.stderr!.on('data', (d: Buffer) => out.write(d.toString()));
    await out.waitFor(/processes ready/);

    const second = upInProcess([project.dir]);
    assert.equal(await second.result, 1);
    assert.match(
      second.err.text,
      new RegExp(`WEFT_UP_LOCKED.*already running for this project \\(pid ${child.pid}`),
    );

    const pids = (await readUpState(join(project.dir, '.weft')))!.processes.map((p) => p.pid!);
    const downOut = createCapture();
    const exited = once(child, 'exit');
    assert.equal(await runDownCommand([project.dir], { out: downOut }), 0);
    assert.match(downOut.text, new RegExp(`stopping weft up \\(pid ${child.pid}\\)\\n.*stopped`));
    const [code] = await exited;
    assert.equal(code, 0);
    assert.match(out.text, /weft up: terminated \(SIGTERM\); stopping/);
    allGone([child.pid!, ...pids]);
  });

  it('status and down handle a stale state file and what it left behind', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await once(dead, 'exit');
    const orphan = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      detached: true,
      stdio: 'ignore',
    });
    cleanups.push(() => {
      if (orphan.exitCode === null && orphan.signalCode === null) process.kill(-orphan.pid!, 'SIGKILL');
    });
    const stateDir = join(project.dir, '.weft');
    await import('node:fs/promises').then((fs) => fs.mkdir(stateDir, { recursive: true }));
    await writeUpState(stateDir, {
      format: STATE_FORMAT,
      pid: dead.pid!,
      meshFile: join(project.dir, 'mesh.yaml'),
      startedAt: new Date().toISOString(),
      phase: 'running',
      control: { apiUrl: 'http://127.0.0.1:1', xdsAddress: '127.0.0.1:2' },
      processes: [
        { name: 'web-0', role: 'app', pid: orphan.pid!, state: 'ready', restarts: 0, ports: { app: 1 } },
      ],
    });
    const out = createCapture();
    const err = createCapture();
    assert.equal(await runStatusCommand([project.dir], { out, err }), 1);
    assert.match(
      err.text,
      new RegExp(
        `is stale: weft up \\(pid ${dead.pid}\\) is no longer running, but it left 1 process\\(es\\) running: web-0 \\(pid ${orphan.pid}\\)`,
      ),
    );
    assert.match(out.text, /^web-0 +app +\d+ +ready/m);

    const exited = once(orphan, 'exit');
    assert.equal(await runDownCommand([project.dir], { out }), 0);
    await exited;
    allGone([orphan.pid!]);
    assert.equal(existsSync(join(stateDir, 'up.json')), false);
    assert.equal(await runStatusCommand([project.dir], { out, err }), 1);
    assert.match(err.text, /WEFT_UP_NOT_RUNNING\]: no weft up is running here/);
  });

  it('reports a bad mesh file with file, line and field, and starts nothing', async () => {
    await writeFile(join(project.dir, 'mesh.yaml'), MESH.replace('replicas: 2', 'replicas: -1'));
    const up = upInProcess([project.dir]);
    assert.equal(await up.result, 1);
    assert.match(
      up.err.text,
      /WEFT_CONFIG_INVALID\]: .*mesh\.yaml: 1 configuration error\(s\):\n {2}- mesh\.yaml:11:15: workloads\[1\]\.replicas: must be an integer/,
    );
    assert.equal(existsSync(join(project.dir, '.weft', 'up.lock')), false);
  });

  it('names the process holding a fixed port', async () => {
    const [port] = await allocateFreePorts(1);
    const holder = spawn(
      process.execPath,
      ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('ok'))`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    cleanups.push(() => holder.kill('SIGKILL'));
    await once(holder.stdout!, 'data');
    await writeFile(join(project.dir, 'mesh.yaml'), `${MESH}control: {apiPort: ${port}}\n`);
    const up = upInProcess([project.dir]);
    assert.equal(await up.result, 1);
    assert.match(
      up.err.text,
      new RegExp(
        `WEFT_UP_PORT_IN_USE\\]: port ${port} \\(control.apiPort\\) is in use by pid ${holder.pid} \\(`,
      ),
    );
  });

  it('reports which process is not ready and why, then stops everything', async () => {
    await project.script('backend.mjs', `console.error('cannot open database'); process.exit(2);`);
    const up = upInProcess([project.dir]);
    assert.equal(await up.result, 1);
    assert.match(
      up.err.text,
      /WEFT_UP_NOT_READY\]: not ready:\n[\s\S]*^ {2}backend-\d: exited with code 2 before it was ready\n {4}last output:\n {6}cannot open database$/m,
    );
    assert.match(up.err.text, /weft up: stopped/);
    const started = [...up.out.text.matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    assert.ok(started.length >= 4, up.out.text);
    allGone(started);
  });
});
