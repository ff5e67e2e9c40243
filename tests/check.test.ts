// `weft check` end to end: runCheckCommand in-process with injected output and environment,
// offline over real files (file:line locations, table and JSON, exit codes, one unparsable
// file not hiding the others), and live against a real `weft control` child process (the
// live mesh, files applied on top of it, an unreachable control plane). Also the catalogue
// and docs/check.md list the same codes.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCheckCommand } from '../src/cli/check.js';
import { FINDING_CODES } from '../src/control/analysis/catalogue.js';
import { type Control, startControl, weft } from './support/control-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function check(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCheckCommand(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env,
  });
  return { code, stdout, stderr };
}

interface JsonReport {
  mode: string;
  resources: number;
  summary: { error: number; warning: number; info: number };
  findings: {
    code: string;
    severity: string;
    resource: { kind: string; name: string };
    path?: string;
    location?: string;
    message: string;
    fix: string;
  }[];
}

const MESH = `apiVersion: weft.dev/v1alpha1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: weft.dev/v1alpha1
kind: Workload
metadata: {name: web-1, namespace: shop, labels: {app: web}}
spec: {address: 10.0.0.1, ports: {http: 8080}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
    - backendRefs:
        - {name: web, port: 80}
        - {name: web-v2, port: 80}
`;

const BAD = `apiVersion: weft.dev/v1alpha1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports:
    - name: http
      port: 99999
      protocol: HTTP
`;

describe('weft check offline', () => {
  it('reports a missing backend with file:line and exits 1; a fixed mesh exits 0', async () => {
    const mesh = file('mesh.yaml', MESH);
    const r = await check([mesh]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^CODE\s+SEVERITY\s+RESOURCE\s+MESSAGE$/m);
    assert.match(
      r.stdout,
      /WEFT0101 {2}error {5}HTTPRoute shop\/web {2}spec\.rules\[0\]\.backendRefs\[1\]: Service shop\/web-v2 not found/,
    );
    assert.match(
      r.stdout,
      new RegExp(`at ${mesh.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:21 \\(document 3\\)`),
    );
    assert.match(r.stdout, /fix: Create the Service/);
    assert.match(
      r.stdout,
      /1 error\(s\), 0 warning\(s\), 0 info in 3 resource\(s\) \(offline, 1 file\(s\)\)/,
    );

    const v2 = file(
      'v2.yaml',
      `apiVersion: weft.dev/v1alpha1
kind: Service
metadata: {name: web-v2, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80, protocol: HTTP}]}
`,
    );
    const fixed = await check([mesh, '-f', v2]);
    assert.equal(fixed.code, 0, fixed.stdout);
    assert.equal(fixed.stdout, 'No problems found in 4 resource(s) (offline, 2 file(s)).\n');
  });

  it('-o json: every validation issue by path and line; an unparsable file does not hide the others', async () => {
    const sub = join(dir, 'several');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sub);
    writeFileSync(join(sub, 'a-bad.yaml'), BAD);
    writeFileSync(join(sub, 'b-broken.yaml'), 'kind: [unclosed\n');
    writeFileSync(join(sub, 'c-notes.txt'), 'not a resource');
    const r = await check([sub, '-o', 'json']);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as JsonReport;
    assert.equal(report.mode, 'offline');
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.severity, f.path ?? '', f.location ?? '']),
      [
        ['WEFT0001', 'error', 'spec.ports[0].port', `${join(sub, 'a-bad.yaml')}:8 (document 1)`],
        ['WEFT0003', 'error', '', join(sub, 'b-broken.yaml')],
      ],
    );
    assert.match(report.findings[1]!.message, /b-broken\.yaml:\d+:\d+ \(document 1\): YAML syntax error/);
    assert.deepEqual(report.summary, { error: 2, warning: 0, info: 0 });
  });

  it('warnings and info alone exit 0', async () => {
    const lonely = file(
      'lonely.yaml',
      `apiVersion: weft.dev/v1alpha1
kind: Service
metadata: {name: lonely}
spec: {selector: {app: nobody}, ports: [{name: http, port: 80, protocol: HTTP}]}
`,
    );
    const r = await check([lonely, '-o', 'json']);
    assert.equal(r.code, 0);
    const report = JSON.parse(r.stdout) as JsonReport;
    assert.deepEqual(
      report.findings.map((f) => `${f.code}/${f.severity}`),
      ['WEFT0102/warning', 'WEFT0103/info'],
    );
  });

  it('usage errors: --offline without files, an unknown output format', async () => {
    await assert.rejects(check(['--offline']), { code: 'WEFT_USAGE' });
    await assert.rejects(check(['x.yaml', '-o', 'yaml']), { code: 'WEFT_USAGE' });
  });
});

describe('weft check against a live control plane', () => {
  let control: Control;
  before(async () => {
    control = await startControl(mkdtempSync(join(tmpdir(), 'weft-check-state-')));
    const applied = await weft(['apply', '-f', file('live.yaml', MESH)], control);
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(async () => {
    await control?.stop();
  });

  it('analyses the live mesh (found via WEFT_CONTROL): no location, since nothing came from a file', async () => {
    const r = await check(['-o', 'json'], { WEFT_CONTROL: control.apiUrl });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as JsonReport;
    assert.equal(report.mode, 'live');
    assert.equal(report.resources, 3);
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.resource.name, f.path, f.location]),
      [['WEFT0101', 'web', 'spec.rules[0].backendRefs[1]', undefined]],
    );
  });

  it('files are applied on top of the live mesh: what if I apply this', async () => {
    const v2 = file(
      'live-v2.yaml',
      `apiVersion: weft.dev/v1alpha1
kind: Service
metadata: {name: web-v2, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80, protocol: HTTP}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: another, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: web}]
  rules: [{backendRefs: [{name: web-v2, port: 80}]}]
`,
    );
    const r = await check([v2, '--control', control.apiUrl, '-o', 'json']);
    const report = JSON.parse(r.stdout) as JsonReport;
    // web-v2 now exists; the new route's catch-all collides with the live one, which is older.
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.resource.name]),
      [['WEFT0105', 'another']],
    );
    assert.match(
      report.findings[0]!.message,
      /shop\/web wins \(it exists since .*not yet applied counts as the newest/,
    );
    assert.equal(report.findings[0]!.location, `${v2}:11 (document 2)`);
    assert.equal(r.code, 0);
    assert.equal(report.resources, 5);

    // Replacing the live route with a fixed copy (same name) removes the live finding.
    const fixedRoute = file('live-route.yaml', MESH.split('---\n')[2]!.replace('web-v2', 'web'));
    const again = await check([fixedRoute, '--control', control.apiUrl]);
    assert.equal(again.code, 0, again.stdout);
    assert.match(
      again.stdout,
      /No problems found in 3 resource\(s\) \(live mesh at .* with 1 file\(s\) applied\)/,
    );
  });

  it('--offline ignores WEFT_CONTROL', async () => {
    const r = await check(['--offline', file('only-bad.yaml', BAD)], { WEFT_CONTROL: 'http://127.0.0.1:1' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /WEFT0001/);
  });

  it('an unreachable control plane is an error on stderr, exit 1', async () => {
    const r = await check(['--control', 'http://127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^weft: error \[WEFT_CONTROL_UNREACHABLE\]: cannot reach the control plane/);
  });
});

it('every finding code is documented in docs/check.md, and only those', () => {
  // From dist/tests (npm test) the docs are two levels up; from another build dir, in the cwd.
  const candidates = [resolve(import.meta.dirname, '../../docs/check.md'), resolve('docs/check.md')];
  const path = candidates.find((p) => existsSync(p));
  assert.ok(path !== undefined, `docs/check.md not found at ${candidates.join(' or ')}`);
  const doc = readFileSync(path, 'utf8');
  const documented = [...new Set(doc.match(/WEFT0\d{3}/g) ?? [])].sort();
  assert.deepEqual(documented, Object.keys(FINDING_CODES).sort());
  for (const [code, entry] of Object.entries(FINDING_CODES))
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${entry.severity} `), `${code} row with its severity`);
});
