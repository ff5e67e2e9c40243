// Shared by the mesh integration tests: `weft proxy --xds` sidecars (with the node ids and
// node metadata `weft up` uses) against a harness control plane, applying resources as one
// file, and plain HTTP GETs by Host.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { allocateFreePorts } from '../../src/up/port-allocator.js';
import { type Control, WEFT_MAIN, weft } from './control-harness.js';

/** GET `path` on 127.0.0.1:`port` with Host `host`, no keep-alive. */
export function get(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `weft apply -f` of `docs` as one List file `name` in `dir`; fails the test on a non-zero exit. */
export async function applyDocs(control: Control, dir: string, name: string, docs: unknown[]): Promise<void> {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
  const r = await weft(['apply', '-f', file], control);
  assert.equal(r.code, 0, r.stderr);
}

export interface Sidecar {
  workload: string;
  inbound: number;
  outbound: number;
  child: ChildProcess;
}

export interface SidecarOptions {
  /** Set the outbound port by node metadata (default); otherwise the Workload's annotations must. */
  readonly viaNodeMetadata?: boolean;
  /** More `weft proxy` arguments, e.g. `['--locality', 'eu/eu-a']`. */
  readonly args?: readonly string[];
}

/** A `weft proxy --xds` sidecar for `workload` in namespace default, on two free ports. */
export async function startSidecar(
  control: Control,
  workload: string,
  options: SidecarOptions = {},
): Promise<Sidecar> {
  const [inbound, outbound] = (await allocateFreePorts(2)) as [number, number];
  const metadata =
    (options.viaNodeMetadata ?? true) ? ['--node-metadata', `WEFT_OUTBOUND_PORT=${outbound}`] : [];
  const child = spawn(
    process.execPath,
    [
      WEFT_MAIN,
      'proxy',
      '--xds',
      `127.0.0.1:${control.xdsPort}`,
      '--node',
      `sidecar~default~${workload}`,
      ...metadata,
      '--node-metadata',
      'WEFT_INBOUND_ADDRESS=127.0.0.1',
      ...(options.args ?? []),
      '--admin-address',
      'none',
      '-l',
      'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return { workload, inbound, outbound, child };
}
