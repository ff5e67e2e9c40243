// The control-plane CLI end to end: a real `weft control` process on port 0 with a state
// directory, driven by `weft apply/get/delete` processes; errors name file, line, document
// and field path; data survives a restart; an unreachable control plane is a clear error.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';

// Runs from whichever build directory this file was compiled into.
const MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;

interface Control {
  child: ChildProcess;
  url: string;
  stop(): Promise<{ code: number | null; stdout: string }>;
}

async function startControl(stateDir: string): Promise<Control> {
  const child = spawn(
    process.execPath,
    [MAIN, 'control', '--state-dir', stateDir, '--api-address', '127.0.0.1:0', '-l', 'warn'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const seen: string[] = [];
  let url = '';
  for await (const line of lines) {
    seen.push(line);
    const m = /^weft control: API listening on (http:\/\/\S+)$/.exec(line);
    if (m !== null) {
      url = m[1]!;
      break;
    }
  }
  assert.ok(url !== '', `control printed its address: ${seen.join('\n')}`);
  const rest: string[] = [];
  lines.on('line', (l) => rest.push(l));
  return {
    child,
    url,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      return { code, stdout: rest.join('\n') };
    },
  };
}

function weft(args: string[], control: string) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, WEFT_CONTROL: control },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SERVICES = `apiVersion: weft.dev/v1alpha1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, protocol: HTTP}
---
apiVersion: weft.dev/v1alpha1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: grpc, port: 9090, protocol: GRPC}]
`;
const WORKLOADS = JSON.stringify({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Workload',
  metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } },
  spec: { address: '10.1.0.7', ports: { http: 8080 }, locality: { region: 'eu', zone: 'eu-1a' } },
});
const BAD = `apiVersion: weft.dev/v1alpha1
kind: Service
metadata: {name: extra, namespace: shop}
spec:
  selector: {app: x}
  ports: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: weft.dev/v1alpha1
kind: Service
metadata: {name: broken, namespace: shop}
spec:
  selector: {app: x}
  ports:
    - name: http
      port: 99999
      protocol: SCTP
`;

describe('weft control + apply/get/delete', () => {
  const root = mkdtempSync(join(tmpdir(), 'weft-cli-'));
  const stateDir = join(root, 'state');
  const manifests = join(root, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'services.yaml'), SERVICES);
  writeFileSync(join(manifests, 'workloads.json'), WORKLOADS);
  writeFileSync(join(root, 'bad.yaml'), BAD);
  let control: Control | null = null;
  after(async () => {
    await control?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('applies a directory, shows tables and JSON, and survives a restart', async () => {
    control = await startControl(stateDir);
    const applied = weft(['apply', '-f', manifests], control.url);
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(applied.stdout.trim().split('\n'), [
      'service/web (shop) created',
      'service/api (shop) created',
      'workload/web-1 (shop) created',
    ]);
    const again = weft(['apply', '-f', manifests], control.url);
    assert.match(again.stdout, /service\/web \(shop\) unchanged/);

    const table = weft(['get', 'svc', '-n', 'shop'], control.url);
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.trim().split('\n');
    assert.match(rows[0]!, /^NAME\s+PORTS\s+SELECTOR\s+AGE$/);
    assert.match(rows[1]!, /^api\s+grpc:9090\/GRPC\s+app=api\s+\d+s$/);
    assert.match(rows[2]!, /^web\s+http:80\/HTTP\s+app=web\s+\d+s$/);
    const wl = weft(['get', 'workloads', '-A'], control.url);
    assert.match(wl.stdout, /shop\s+web-1\s+10\.1\.0\.7\s+http:8080\s+eu\/eu-1a\s+1\s+true/);
    const json = JSON.parse(weft(['get', 'service', 'web', '-n', 'shop', '-o', 'json'], control.url).stdout);
    assert.equal(json.metadata.generation, 1);
    assert.equal(json.metadata.resourceVersion, '1');
    assert.match(weft(['get', 'svc'], control.url).stderr, /No services found in namespace default/);

    const stopped = await control.stop();
    assert.equal(stopped.code, 0);
    assert.match(stopped.stdout, /weft control: stopped/);
    control = await startControl(stateDir);
    const after = weft(['get', 'svc', 'web', '-n', 'shop', '-o', 'yaml'], control.url);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /name: web/);
  });

  it('rejects a bad file as a whole, naming file, line, document and field path', () => {
    const bad = weft(['apply', '-f', join(root, 'bad.yaml')], control!.url);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /weft: error \[WEFT_CONFIG_INVALID\]: apply rejected; nothing was changed: 2 problem\(s\)/,
    );
    assert.match(
      bad.stderr,
      /bad\.yaml:15 \(document 2\): spec\.ports\[0\]\.port: must be between 1 and 65535, got 99999/,
    );
    assert.match(bad.stderr, /bad\.yaml:16 \(document 2\): spec\.ports\[0\]\.protocol: unknown protocol/);
    const extra = weft(['get', 'svc', 'extra', '-n', 'shop'], control!.url);
    assert.equal(extra.code, 1, 'the valid document of the rejected file was not applied');
    assert.match(extra.stderr, /\[WEFT_NOT_FOUND\]/);
  });

  it('shows status conditions in tables', async () => {
    const res = await fetch(`${control!.url}/apis/weft.dev/v1alpha1/namespaces/shop/services/api/status`, {
      method: 'PUT',
      body: JSON.stringify({
        status: {
          parents: [
            {
              conditions: [
                { type: 'Accepted', status: 'True' },
                { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' },
              ],
            },
          ],
        },
      }),
    });
    assert.equal(res.status, 200);
    const table = weft(['get', 'svc', 'api', '-n', 'shop'], control!.url);
    assert.match(table.stdout, /CONDITIONS/);
    assert.match(table.stdout, /Accepted=True,ResolvedRefs=False\(BackendNotFound\)/);
  });

  it('deletes by name and by file, all or nothing', () => {
    const missing = weft(['delete', 'svc', 'web', 'nope', '-n', 'shop'], control!.url);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found: Service shop\/nope/);
    assert.equal(weft(['get', 'svc', 'web', '-n', 'shop'], control!.url).code, 0, 'nothing was deleted');
    const byName = weft(['delete', 'svc', 'web', '-n', 'shop'], control!.url);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byName.stdout.trim(), 'service/web (shop) deleted');
    const byFile = weft(['delete', '-f', join(manifests, 'workloads.json')], control!.url);
    assert.equal(byFile.code, 0, byFile.stderr);
    assert.equal(weft(['get', 'wl', '-A'], control!.url).stdout, '');
  });

  it('reports usage errors and an unreachable control plane with non-zero exits', async () => {
    assert.match(
      weft(['get', 'gizmos'], control!.url).stderr,
      /unknown resource type 'gizmos'.*services \(service, svc\)/,
    );
    assert.equal(weft(['apply'], control!.url).code, 1);
    const port = await closedPort();
    const down = weft(['get', 'svc'], `http://127.0.0.1:${port}`);
    assert.equal(down.code, 1);
    assert.match(
      down.stderr,
      /\[WEFT_CONTROL_UNREACHABLE\]: cannot reach the control plane at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
  });
});

/** A port nothing listens on: bind one, then release it. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
