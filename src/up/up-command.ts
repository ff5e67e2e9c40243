// `weft up [DIR|mesh.yaml] [--state-dir DIR]`: a whole mesh on one machine. Validates the
// mesh file, plans ports and resources, then starts in order — control plane (ready when its
// API answers), apply the planned Services/Workloads and the resource files next to the mesh
// file, every sidecar and app — waits for all to be ready, prints a summary, and runs until
// SIGINT/SIGTERM; then stops everything in reverse dependency order (apps, sidecars, control
// plane last). Other terminals see it through STATE_DIR/up.json (weft status / weft down).

import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { readResourceFiles, type SourceDocument } from '../cli/resource-files.js';
import type { Resource } from '../control/resource.js';
import { type Clock, systemClock } from '../core/clock.js';
import { ConfigError, WeftError } from '../core/errors.js';
import { releaseStartupPages } from '../core/resident-pages.js';
import { keepAlive } from './keep-alive.js';
import {
  controlApiUrl,
  controlXdsAddress,
  createDefaultLauncher,
  type Launcher,
  sidecarName,
} from './launcher.js';
import { createLogMux, shouldColor } from './log-mux.js';
import { loadMeshFile, type MeshFile } from './mesh-file.js';
import { allocateFreePorts, assertPortsFree, type FixedPort } from './port-allocator.js';
import { processStartTime } from './process-group.js';
import {
  buildRunPlan,
  countPlanPorts,
  LOCALHOST,
  type ReplicaPlan,
  type RunPlan,
  replicaDependencies,
} from './run-plan.js';
import { formatSummary } from './summary.js';
import {
  createSupervisor,
  type ProcessSpec,
  type RestartPolicy,
  type SpawnFn,
  type Supervisor,
  type SupervisorEvent,
} from './supervisor.js';
import { UpError } from './up-error.js';
import { acquireUpLock, removeUpState, STATE_FORMAT, type UpState, writeUpState } from './up-state.js';

export const DEFAULT_STATE_DIR = '.weft';

const HELP = `Usage: weft up [DIR|mesh.yaml] [--state-dir DIR]

Runs a whole mesh on this machine: the control plane, every workload of the mesh file
with its own weft proxy sidecar, and the resources (*.yaml, *.yml, *.json) next to the
mesh file. Stop it with Ctrl-C, SIGTERM or \`weft down\`. The mesh file: docs/up.md.

Options:
      --state-dir DIR   where the control plane's store and up.json live (default DIR/.weft)
  -h, --help            this help
`;

export interface UpDeps {
  readonly launcher?: Launcher;
  readonly clock?: Clock;
  readonly out?: NodeJS.WritableStream;
  readonly err?: NodeJS.WritableStream;
  readonly env?: NodeJS.ProcessEnv;
  readonly spawn?: SpawnFn;
  readonly restart?: RestartPolicy;
  readonly graceMs?: number;
  /** Calls `stop` when the command should stop; returns an unsubscribe. Default: SIGINT/SIGTERM. */
  readonly onStopRequest?: (stop: (reason: string) => void) => () => void;
  /** Called once everything is ready (tests wait for it). */
  readonly onReady?: (plan: RunPlan) => void;
}

export async function runUpCommand(argv: string[], deps: UpDeps = {}): Promise<number> {
  const err = deps.err ?? process.stderr;
  const release = keepAlive();
  try {
    return await up(argv, deps);
  } catch (e) {
    return reportError(e, err);
  } finally {
    release();
  }
}

/** Prints an error the way `weft` does (`weft: error [CODE]: message`) and returns the exit code. */
export function reportError(e: unknown, err: NodeJS.WritableStream): number {
  if (e instanceof UpError || e instanceof ConfigError || e instanceof WeftError) {
    err.write(`weft: error [${e.code}]: ${e.message}\n`);
    return e instanceof WeftError && e.code === 'WEFT_USAGE' ? 2 : 1;
  }
  throw e;
}

async function up(argv: string[], deps: UpDeps): Promise<number> {
  const out = deps.out ?? process.stdout;
  const err = deps.err ?? process.stderr;
  const env = deps.env ?? process.env;
  const clock = deps.clock ?? systemClock;
  const launcher = deps.launcher ?? createDefaultLauncher();
  const { values, positionals } = parse(argv);
  if (values.help) {
    out.write(HELP);
    return 0;
  }
  if (positionals.length > 1)
    throw new WeftError(
      'WEFT_USAGE',
      `expected one DIR or mesh file, got ${positionals.join(' ')}\n\n${HELP}`,
    );
  const mesh = await loadMeshFile(positionals[0] ?? '.');
  const stateDir = values['state-dir'] ?? join(mesh.dir, DEFAULT_STATE_DIR);
  await assertWorkingDirectories(mesh);
  const extraDocs = await readNeighbourResources(mesh, err);

  // Stop requests may come at any moment, also while starting.
  let stopRequested: string | undefined;
  let wakeStop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    wakeStop = resolve;
  });
  const unsubscribe = (deps.onStopRequest ?? signalStopRequests)((reason) => {
    if (stopRequested !== undefined) return;
    stopRequested = reason;
    err.write(`weft up: ${reason}; stopping\n`);
    wakeStop();
  });

  const lock = await acquireUpLock(stateDir).catch((e: unknown) => {
    unsubscribe();
    throw e;
  });
  let supervisor: Supervisor | undefined;
  let phase = 'starting';
  let plan: RunPlan | undefined;
  const writer = createStateWriter(stateDir, () =>
    plan === undefined || supervisor === undefined ? undefined : snapshot(plan, supervisor, phase),
  );
  try {
    await assertPortsFree(fixedPorts(mesh));
    const ports = await allocateFreePorts(countPlanPorts(mesh));
    let next = 0;
    const thePlan = buildRunPlan(mesh, () => ports[next++]!);
    plan = thePlan;
    const logs = createLogMux({ out, color: shouldColor(out as { isTTY?: boolean }, env) });
    logs.setWidth(Math.max(7, ...thePlan.replicas.map((r) => sidecarName(r).length)));
    supervisor = createSupervisor({
      clock,
      logs,
      baseEnv: env,
      ...(deps.spawn === undefined ? {} : { spawn: deps.spawn }),
      ...(deps.restart === undefined ? {} : { restart: deps.restart }),
      ...(deps.graceMs === undefined ? {} : { graceMs: deps.graceMs }),
      onEvent: (e: SupervisorEvent) => {
        if (e.type === 'gave-up') err.write(`weft up: ${e.name}: ${e.reason}\n`);
        writer.schedule();
      },
    });
    const sup = supervisor;
    const apiUrl = controlApiUrl(thePlan);
    const xdsAddress = controlXdsAddress(thePlan);

    const steps = async (): Promise<void> => {
      sup.start(launcher.controlPlane(thePlan, join(stateDir, 'control')));
      await writer.flush();
      await sup.waitReady(['control']);
      if (stopRequested !== undefined) return;
      const resources: Resource[] = [...thePlan.resources, ...extraDocs.map((d) => d.value as Resource)];
      await launcher.apply(apiUrl, resources);
      if (stopRequested !== undefined) return;
      const names: string[] = [];
      for (const r of startOrder(thePlan)) {
        const sidecar = launcher.sidecar(thePlan, r);
        sup.start(sidecar);
        sup.start(appSpec(thePlan, r, sidecar.name));
        names.push(sidecar.name, r.name);
      }
      await sup.waitReady(names);
    };
    // Whichever comes first: started, or asked to stop.
    const started = steps();
    started.catch(() => {}); // when a stop request wins the race, a later failure is moot
    await Promise.race([started, stopped]);
    if (stopRequested === undefined) {
      phase = 'running';
      writer.schedule();
      out.write(
        `\n${formatSummary(thePlan, { apiUrl, xdsAddress, stateFile: shortPath(join(stateDir, 'up.json')) })}\n`,
      );
      err.write(`weft up: ${releaseStartupPages()}\n`);
      deps.onReady?.(thePlan);
      await stopped;
    }
    return await shutdown(0);
  } catch (e) {
    const code = reportError(e, err);
    return await shutdown(code);
  }

  async function shutdown(code: number): Promise<number> {
    unsubscribe();
    phase = 'stopping';
    let exit = code;
    if (supervisor !== undefined) {
      writer.schedule();
      const report = await supervisor.stop();
      if (report.killed.length > 0) err.write(`weft up: needed SIGKILL: ${report.killed.join(', ')}\n`);
      if (report.remaining.length > 0) {
        err.write(`weft up: processes still alive after SIGKILL: ${report.remaining.join(', ')}\n`);
        exit = exit || 1;
      }
    }
    await writer.close();
    await removeUpState(stateDir);
    await lock.release();
    if (supervisor !== undefined) err.write('weft up: stopped\n');
    return exit;
  }
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { 'state-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw new WeftError('WEFT_USAGE', `${(e as Error).message}\n\n${HELP}`);
  }
}

function signalStopRequests(stop: (reason: string) => void): () => void {
  const onInt = () => stop('interrupted (SIGINT)');
  const onTerm = () => stop('terminated (SIGTERM)');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

/**
 * The resource files beside the mesh file (routes, policies, splits), applied with the plan.
 * A file none of whose documents has `apiVersion` or `kind` (package.json, tsconfig.json, an
 * app's own config) is not a resource file and is skipped, with a note.
 */
async function readNeighbourResources(mesh: MeshFile, err: NodeJS.WritableStream): Promise<SourceDocument[]> {
  const files = (await readdir(mesh.dir))
    .filter((f) => /\.(ya?ml|json)$/i.test(f) && !f.startsWith('.') && join(mesh.dir, f) !== mesh.file)
    .sort()
    .map((f) => join(mesh.dir, f));
  const out: SourceDocument[] = [];
  for (const file of files) {
    const docs = await readResourceFiles([file]);
    const looksLikeResources = docs.some((d) => {
      const v = d.value as { apiVersion?: unknown; kind?: unknown } | null;
      return typeof v === 'object' && v !== null && (v.apiVersion !== undefined || v.kind !== undefined);
    });
    if (looksLikeResources) out.push(...docs);
    else if (docs.length > 0)
      err.write(`weft up: skipping ${relative(mesh.dir, file)} (no apiVersion/kind: not resources)\n`);
  }
  return out;
}

/** A missing cwd would surface as a misleading `spawn node ENOENT`; say what is missing instead. */
async function assertWorkingDirectories(mesh: MeshFile): Promise<void> {
  const issues: { path: string; message: string }[] = [];
  for (const [i, w] of mesh.workloads.entries()) {
    const ok = await stat(w.cwd).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!ok) issues.push({ path: `workloads[${i}].cwd`, message: `${w.cwd} is not a directory` });
  }
  if (issues.length > 0) throw new ConfigError(mesh.file, issues);
}

function fixedPorts(mesh: MeshFile): FixedPort[] {
  const out: FixedPort[] = [];
  if (mesh.control.apiPort !== 0) out.push({ port: mesh.control.apiPort, what: 'control.apiPort' });
  if (mesh.control.xdsPort !== 0) out.push({ port: mesh.control.xdsPort, what: 'control.xdsPort' });
  mesh.workloads.forEach((w, i) => {
    if (w.port !== 0) out.push({ port: w.port, what: `workloads[${i}].port of ${w.name}` });
  });
  return out;
}

/** Callees before callers, so a caller's first requests find its upstreams starting already. */
function startOrder(plan: RunPlan): ReplicaPlan[] {
  const deps = replicaDependencies(plan);
  const done = new Set<string>();
  const order: ReplicaPlan[] = [];
  const visit = (r: ReplicaPlan, path: Set<string>) => {
    if (done.has(r.name) || path.has(r.name)) return;
    path.add(r.name);
    for (const d of deps.get(r.name) ?? []) visit(plan.replicas.find((x) => x.name === d)!, path);
    path.delete(r.name);
    done.add(r.name);
    order.push(r);
  };
  for (const r of plan.replicas) visit(r, new Set());
  return order;
}

function appSpec(plan: RunPlan, r: ReplicaPlan, sidecar: string): ProcessSpec {
  const deps = replicaDependencies(plan).get(r.name) ?? [];
  return {
    name: r.name,
    role: 'app',
    command: r.command,
    args: r.args,
    env: r.env,
    cwd: r.cwd,
    readiness:
      r.readiness.httpPath === undefined
        ? { kind: 'tcp', host: LOCALHOST, port: r.appPort }
        : { kind: 'http', host: LOCALHOST, port: r.appPort, path: r.readiness.httpPath },
    readyTimeoutMs: r.readiness.timeoutSeconds * 1000,
    restart: r.restart,
    // Stopped before its own sidecar (its outbound calls go through it) and before the
    // replicas it calls; the control plane outlives everything.
    dependsOn: [sidecar, ...deps, 'control'],
    ports: { app: r.appPort },
  };
}

function snapshot(plan: RunPlan, sup: Supervisor, phase: string): UpState {
  const startTime = processStartTime(process.pid);
  return {
    format: STATE_FORMAT,
    pid: process.pid,
    ...(startTime === undefined ? {} : { startTime }),
    meshFile: plan.mesh.file,
    startedAt: new Date().toISOString(),
    phase,
    control: { apiUrl: controlApiUrl(plan), xdsAddress: controlXdsAddress(plan) },
    processes: sup.list().map((c) => {
      const st = c.pid === undefined ? undefined : processStartTime(c.pid);
      return {
        name: c.name,
        role: c.role,
        ...(c.pid === undefined ? {} : { pid: c.pid }),
        ...(st === undefined ? {} : { startTime: st }),
        state: c.state,
        restarts: c.restarts,
        ports: c.ports,
      };
    }),
  };
}

interface StateWriter {
  /** Writes the current state soon; writes never overlap and bursts coalesce. */
  schedule(): void;
  flush(): Promise<void>;
  /** Flushes and stops writing (the file is about to be removed). */
  close(): Promise<void>;
}

function createStateWriter(stateDir: string, current: () => UpState | undefined): StateWriter {
  let running: Promise<void> = Promise.resolve();
  let active = false;
  let dirty = false;
  let closed = false;
  let startedAt: string | undefined;
  const loop = async () => {
    while (dirty && !closed) {
      dirty = false;
      const s = current();
      if (s === undefined) continue;
      startedAt ??= s.startedAt;
      // A failed write only leaves other terminals an older view; weft up itself goes on.
      await writeUpState(stateDir, { ...s, startedAt }).catch(() => {});
    }
    active = false;
  };
  const schedule = () => {
    dirty = true;
    if (active) return;
    active = true;
    running = loop();
  };
  return {
    schedule,
    async flush() {
      schedule();
      await running;
    },
    async close() {
      await running;
      closed = true;
    },
  };
}

function shortPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r.startsWith('..') ? p : r;
}
