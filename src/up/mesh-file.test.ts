// The mesh file: a valid file gives the typed, defaulted model; every problem is reported
// with file, line:column and field path; unknown fields are refused by name; random
// mutations of a valid file never escape as anything but a WeftError.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, WeftError } from '../core/errors.js';
import { seededRandom } from '../core/seeded-random.js';
import { loadMeshFile, parseMeshFile } from './mesh-file.js';

const FILE = '/project/mesh.yaml';

const SHOP = `namespace: shop
control:
  apiPort: 0
workloads:
  - name: web
    service: web
    command: node
    args: [web.js, --verbose, 3]
    env:
      LOG_LEVEL: debug
      WORKERS: 2
    upstreams: [reviews]
    readiness:
      httpPath: /healthz
  - name: reviews-v2
    service: reviews
    command: node
    args: [reviews.js]
    cwd: reviews
    replicas: 2
    labels: {app: reviews, version: v2}
    locality: {region: eu-west, zone: eu-west-1a}
`;

function issuesOf(text: string): string[] {
  try {
    parseMeshFile(text, FILE);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected validation errors');
}

describe('mesh file', () => {
  it('reads a valid file with defaults filled in', () => {
    const mesh = parseMeshFile(SHOP, FILE);
    assert.equal(mesh.namespace, 'shop');
    assert.equal(mesh.dir, '/project');
    assert.deepEqual(mesh.control, { apiPort: 0, xdsPort: 0 });
    const [web, reviews] = mesh.workloads;
    assert.deepEqual(web!.args, ['web.js', '--verbose', '3']);
    assert.deepEqual(web!.env, { LOG_LEVEL: 'debug', WORKERS: '2' });
    assert.equal(web!.cwd, '/project');
    assert.equal(web!.port, 0);
    assert.equal(web!.replicas, 1);
    assert.equal(web!.protocol, 'HTTP');
    assert.deepEqual(web!.readiness, { httpPath: '/healthz', timeoutSeconds: 30 });
    assert.equal(web!.restart, true);
    assert.equal(reviews!.cwd, '/project/reviews');
    assert.equal(reviews!.replicas, 2);
    assert.deepEqual(reviews!.labels, { app: 'reviews', version: 'v2' });
    assert.deepEqual(reviews!.locality, { region: 'eu-west', zone: 'eu-west-1a' });
    assert.ok(Object.isFrozen(mesh.workloads[0]), 'the model is frozen');
  });

  it('refuses unknown fields by name, at the key, with a suggestion', () => {
    const text = SHOP.replace('    replicas: 2', '    replica: 2');
    assert.deepEqual(issuesOf(text), [
      "mesh.yaml:20:5: workloads[1].replica: unknown field 'replica' (did you mean 'replicas'?); allowed: " +
        'name, service, command, args, env, cwd, port, replicas, labels, locality, protocol, upstreams, readiness, restart',
    ]);
    assert.match(issuesOf(`${SHOP}extra: 1\n`)[0]!, /^mesh\.yaml:23:1: extra: unknown field 'extra'/);
  });

  it('reports every problem with line and path, not just the first', () => {
    const text = `workloads:
  - name: Web
    service: web
    command: node
    port: 70000
    protocol: SOAP
    upstreams: [nowhere]
  - service: api
    command: ""
    replicas: two
`;
    assert.deepEqual(issuesOf(text), [
      "mesh.yaml:2:11: workloads[0].name: 'Web' is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending with a letter or digit",
      'mesh.yaml:5:11: workloads[0].port: must be a port number between 1 and 65535, or 0 to pick a free one; got 70000',
      'mesh.yaml:6:15: workloads[0].protocol: must be one of HTTP, HTTP2, GRPC, TCP, got "SOAP"',
      'mesh.yaml:8:5: workloads[1]: missing required field `name`',
      'mesh.yaml:9:14: workloads[1].command: must not be empty',
      'mesh.yaml:10:15: workloads[1].replicas: must be an integer between 1 and 64, got "two"',
    ]);
  });

  it('checks across workloads: upstreams, names, protocols, fixed ports', () => {
    const text = `control: {apiPort: 8080}
workloads:
  - {name: a, service: s, command: x, upstreams: [t, s, t], port: 8080}
  - {name: a, service: s, command: x, protocol: TCP}
  - {name: b, service: u, command: x, replicas: 2, port: 9000}
`;
    assert.deepEqual(issuesOf(text), [
      "mesh.yaml:3:57: workloads[0].upstreams[2]: 't' is listed twice",
      'mesh.yaml:5:58: workloads[2].port: 2 replicas cannot share the fixed port 9000; use 0 (or omit it) so each gets its own $PORT',
      "mesh.yaml:3:51: workloads[0].upstreams[0]: no workload provides service 't' (services in this file: s, u)",
      "mesh.yaml:3:57: workloads[0].upstreams[2]: no workload provides service 't' (services in this file: s, u)",
      'mesh.yaml:3:67: workloads[0].port: port 8080 is already used by control.apiPort',
      "mesh.yaml:4:12: workloads[1].name: 'a' is already the name of workloads[0]",
      "mesh.yaml:4:49: workloads[1].protocol: service 's' is HTTP in workload 'a' but TCP here; one service has one protocol",
    ]);
  });

  it('refuses environment variables weft up sets, and reserved labels', () => {
    const text = `workloads:
  - name: a
    service: a
    command: x
    env: {PORT: 1, WEFT_UPSTREAM_B_URL: x, "1BAD": y}
    labels: {weft.dev/service: z}
`;
    const issues = issuesOf(text);
    assert.equal(issues.length, 4);
    assert.match(issues[0]!, /^mesh\.yaml:5:11: workloads\[0\]\.env\.PORT: PORT is set by weft up/);
    assert.match(issues[1]!, /^mesh\.yaml:5:20: workloads\[0\]\.env\.WEFT_UPSTREAM_B_URL: /);
    assert.match(
      issues[2]!,
      /^mesh\.yaml:5:44: workloads\[0\]\.env\["1BAD"\]: '1BAD' is not an environment variable name/,
    );
    assert.match(
      issues[3]!,
      /^mesh\.yaml:6:14: workloads\[0\]\.labels\["weft\.dev\/service"\]: the prefix weft\.dev\/ is reserved/,
    );
  });

  it('names the position of YAML syntax errors and refuses an empty file', () => {
    assert.throws(
      () => parseMeshFile('workloads:\n  - name: a\n   bad: [\n', FILE),
      (err: unknown) =>
        err instanceof WeftError &&
        err.code === 'WEFT_CONFIG_READ' &&
        /mesh\.yaml:\d+:\d+: YAML syntax error/.test(err.message),
    );
    assert.deepEqual(issuesOf(''), [
      'mesh.yaml:1:1: (root): the mesh file is empty; it needs at least `workloads:` (see docs/up.md)',
    ]);
    assert.deepEqual(issuesOf('workloads: []\n'), [
      'mesh.yaml:1:12: workloads: must list at least one workload',
    ]);
  });

  it('loads DIR/mesh.yaml from a directory and says where it looked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-mesh-'));
    try {
      await assert.rejects(loadMeshFile(dir), (err: unknown) => {
        return (
          err instanceof WeftError && err.code === 'WEFT_CONFIG_READ' && err.message.includes('mesh.yaml')
        );
      });
      await writeFile(join(dir, 'mesh.yaml'), SHOP);
      const mesh = await loadMeshFile(dir);
      assert.equal(mesh.file, join(dir, 'mesh.yaml'));
      assert.equal(mesh.workloads.length, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fuzz: mutated files give a model or a WeftError, never anything else', () => {
    const random = seededRandom(20240607);
    const alphabet = [
      '\n',
      ' ',
      ':',
      '-',
      '[',
      ']',
      '{',
      '}',
      '"',
      "'",
      '0',
      '9',
      'a',
      '&a',
      '*a',
      '#',
      '\t',
      '!!',
    ];
    for (let n = 0; n < 150; n++) {
      const chars = [...SHOP];
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * chars.length);
        const op = random();
        if (op < 0.4) chars.splice(at, 1);
        else if (op < 0.8) chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]!);
        else chars[at] = alphabet[Math.floor(random() * alphabet.length)]!;
      }
      try {
        parseMeshFile(chars.join(''), FILE);
      } catch (err) {
        assert.ok(err instanceof WeftError, `mutation ${n} threw ${String(err)}`);
      }
    }
  });
});
