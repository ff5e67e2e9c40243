// `npm run bench:control`: the control plane at scale (issue 5, "Scale benchmark").
//
// Starts a real `weft control` (its own temp state dir, API and xDS on 127.0.0.1 port 0),
// applies S Services × W Workloads through the API in a few big applies, then forks one
// load process (ads-load.ts) with N lean SotW ADS clients, one sidecar each. Measures:
//   1. Workload change → EDS update at every client (delete / re-add one Workload of one
//      Service; every sidecar holds every Service's EDS), p50/p90/p99 over several changes;
//   2. the control plane's RSS and CPU from /proc, at steady state and peak;
//   3. the reconnect storm: SIGKILL the control plane, restart it on the same state dir and
//      xDS port, and time until every client has re-synced on a new stream.
// Prints a markdown report; `--write` puts it in docs/benchmarks.md between the
// bench-control markers. Every child is killed on exit, error and SIGINT.

import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WEFT_NODE_FLAGS } from '../../src/core/runtime-flags.js';
import { runBench } from '../bench-main.js';
import { cpuTicks, DEFAULT_CLOCK_TICKS, rssKb } from '../proc.js';
import { type Daemon, logTail, type Supervisor } from '../supervisor.js';
import { type LoadCommand, type LoadConfig, type LoadEvent, monotonicMs } from './load-protocol.js';
import { type ControlBenchOptions, parseControlOptions, USAGE } from './options.js';
import {
  type ChangeResult,
  type ControlMachine,
  renderControlReport,
  replaceControlResults,
  type StormResult,
} from './report.js';

const NAMESPACE = 'bench';
const API = 'weft.dev/v1alpha1';
/** Items per POST /v1/apply (the API takes bodies up to 4 MiB). */
const APPLY_CHUNK = 1000;
const SAMPLE_MS = 250;
const STEADY_MS = 5000;
const CHANGE_TIMEOUT_MS = 30_000;
const PAUSE_BETWEEN_CHANGES_MS = 1000;
const STORM_TIMEOUT_MS = 90_000;

function log(message: string): void {
  process.stderr.write(`[bench:control] ${message}\n`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function clockTicks(): number {
  const res = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(res.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_CLOCK_TICKS;
}

function machineInfo(): ControlMachine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpuModel = match[1].trim();
  } catch {
    // keep os.cpus()'s answer
  }
  return { cpus: cpus().length, cpuModel, kernel: release(), node: process.version };
}

// ---- the mesh ---------------------------------------------------------------------------------------

const serviceName = (i: number): string => `svc-${String(i).padStart(4, '0')}`;
const workloadName = (i: number, j: number): string => `${serviceName(i)}-w${j}`;

function service(i: number): object {
  return {
    apiVersion: API,
    kind: 'Service',
    metadata: { name: serviceName(i), namespace: NAMESPACE },
    spec: { selector: { app: serviceName(i) }, ports: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
  };
}

function workload(i: number, j: number, workloadsPerService: number): object {
  const k = i * workloadsPerService + j + 1;
  return {
    apiVersion: API,
    kind: 'Workload',
    metadata: { name: workloadName(i, j), namespace: NAMESPACE, labels: { app: serviceName(i) } },
    spec: { address: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`, ports: { http: 8080 } },
  };
}

/** The EDS (and cluster) name of Service i's port 80 (src/control/translate/names.ts). */
const edsName = (i: number): string => `outbound|80||${serviceName(i)}.${NAMESPACE}`;

/**
 * Node ids spread over the Workloads that never change (the last Workload of a Service is the
 * one removed and re-added, and a sidecar's own Workload shapes its config).
 */
function nodeIds(o: ControlBenchOptions): string[] {
  const stable = o.workloadsPerService - 1;
  const total = o.services * stable;
  const ids: string[] = [];
  for (let c = 0; c < o.clients; c++) {
    const k = Math.floor((c * total) / o.clients) % total;
    ids.push(`sidecar~${NAMESPACE}~${workloadName(Math.floor(k / stable), k % stable)}`);
  }
  return ids;
}

// ---- the control plane --------------------------------------------------------------------------------

interface ControlProcess {
  readonly daemon: Daemon;
  readonly apiUrl: string;
  readonly xdsPort: number;
}

async function startControl(
  supervisor: Supervisor,
  mainJs: string,
  stateDir: string,
  logPath: string,
  xdsPort: number,
): Promise<ControlProcess> {
  // As `weft control` runs from bin/weft.js (its shebang's V8 flags included).
  const daemon = supervisor.start(
    {
      file: process.execPath,
      args: [
        ...WEFT_NODE_FLAGS,
        // Extra V8/Node flags for the control plane (e.g. `--cpu-prof --cpu-prof-dir=DIR`).
        ...(process.env.WEFT_BENCH_CONTROL_NODE_ARGS ?? '').split(' ').filter(Boolean),
        mainJs,
        'control',
        '--state-dir',
        stateDir,
        '--api-address',
        '127.0.0.1:0',
        '--xds-address',
        `127.0.0.1:${xdsPort}`,
        '--log-level',
        'warn',
      ],
    },
    logPath,
  );
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const text = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
    const api = /API listening on (\S+)/.exec(text);
    const xds = /xDS listening on \S+:(\d+)/.exec(text);
    if (api && xds) return { daemon, apiUrl: api[1], xdsPort: Number(xds[1]) };
    const status = daemon.exitStatus();
    if (status !== null) throw new Error(`weft control exited (${status}):\n${logTail(logPath)}`);
    await sleep(20);
  }
  throw new Error(`weft control did not start within 60 s:\n${logTail(logPath)}`);
}

async function post(apiUrl: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status}: ${text.slice(0, 500)}`);
}

/** Samples one process's RSS and CPU (% of one core over each interval). */
interface ProcSampler {
  /** Starts a new measurement window: peak and mean restart from here. */
  mark(): void;
  peakRssMb(): number;
  peakCpuPct(): number;
  meanCpuPct(): number;
  lastRssMb(): number;
  stop(): void;
}

function createProcSampler(pid: number, ticksPerSec: number): ProcSampler {
  const startTicks = cpuTicks([pid]);
  const startAt = Date.now();
  let lastRss = rssKb([pid]);
  let peakRss = lastRss;
  let peakCpu = 0;
  let markTicks = startTicks;
  let markAt = startAt;
  // CPU peaks over 1 s windows, from the 250 ms samples.
  const window: Array<{ ticks: number; at: number }> = [{ ticks: startTicks, at: startAt }];
  const timer = setInterval(() => {
    const ticks = cpuTicks([pid]);
    const at = Date.now();
    const rss = rssKb([pid]);
    if (rss > 0) lastRss = rss;
    if (rss > peakRss) peakRss = rss;
    window.push({ ticks, at });
    while (window.length > 2 && at - window[1].at >= 1000) window.shift();
    const first = window[0];
    if (at - first.at >= 900) {
      const pct = ((ticks - first.ticks) / ticksPerSec / ((at - first.at) / 1000)) * 100;
      if (pct > peakCpu) peakCpu = pct;
    }
  }, SAMPLE_MS);
  return {
    mark() {
      markTicks = cpuTicks([pid]);
      markAt = Date.now();
      peakRss = rssKb([pid]);
      peakCpu = 0;
    },
    peakRssMb: () => peakRss / 1024,
    peakCpuPct: () => peakCpu,
    meanCpuPct: () =>
      ((cpuTicks([pid]) - markTicks) / ticksPerSec / Math.max(0.001, (Date.now() - markAt) / 1000)) * 100,
    lastRssMb: () => lastRss / 1024,
    stop: () => clearInterval(timer),
  };
}

// ---- the load process -----------------------------------------------------------------------------------

interface LoadProcess {
  readonly child: ChildProcess;
  send(cmd: LoadCommand): void;
  /** The next event of `type` (optionally matching), or a rejection after `timeoutMs`. */
  next<T extends LoadEvent['type']>(
    type: T,
    timeoutMs: number,
    match?: (e: Extract<LoadEvent, { type: T }>) => boolean,
  ): Promise<Extract<LoadEvent, { type: T }>>;
}

async function forkLoad(config: LoadConfig): Promise<LoadProcess> {
  const child = fork(fileURLToPath(new URL('./ads-load.js', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--max-old-space-size=4096'],
  });
  const listeners = new Set<(e: LoadEvent) => void>();
  const onExit = new Set<(code: number | null) => void>();
  child.on('message', (e: LoadEvent) => {
    for (const l of [...listeners]) l(e);
  });
  child.once('exit', (code) => {
    for (const f of [...onExit]) f(code);
  });
  const load: LoadProcess = {
    child,
    send: (cmd) => child.send(cmd),
    next(type, timeoutMs, match) {
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
          onExit.delete(exited);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`load process: no '${type}' within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (e: LoadEvent): void => {
          if (e.type !== type) return;
          const typed = e as Extract<LoadEvent, { type: typeof type }>;
          if (match && !match(typed)) return;
          done();
          resolve(typed);
        };
        const exited = (code: number | null): void => {
          done();
          reject(new Error(`load process exited (${code})`));
        };
        listeners.add(listener);
        onExit.add(exited);
      });
    },
  };
  await load.next('hello', 10_000);
  child.send(config);
  return load;
}

// ---- the bench ----------------------------------------------------------------------------------------------

async function bench(o: ControlBenchOptions, supervisor: Supervisor, root: string): Promise<string> {
  const notes: string[] = [];
  const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const stateDir = join(root, 'state');
  const ticksPerSec = clockTicks();

  let control = await startControl(supervisor, mainJs, stateDir, join(root, 'control-1.log'), 0);
  log(
    `control plane up: API ${control.apiUrl}, xDS 127.0.0.1:${control.xdsPort} (pid ${control.daemon.pid})`,
  );
  let sampler = createProcSampler(control.daemon.pid, ticksPerSec);

  // 1. The mesh, in a few big applies: Services first, then Workloads.
  const applyStart = Date.now();
  const items: object[] = [];
  for (let i = 0; i < o.services; i++) items.push(service(i));
  for (let i = 0; i < o.services; i++)
    for (let j = 0; j < o.workloadsPerService; j++) items.push(workload(i, j, o.workloadsPerService));
  for (let at = 0; at < items.length; at += APPLY_CHUNK) {
    await post(control.apiUrl, '/v1/apply', { items: items.slice(at, at + APPLY_CHUNK) });
  }
  const applyMs = Date.now() - applyStart;
  log(`applied ${items.length} resources in ${applyMs} ms`);

  // 2. N clients, then steady state.
  const load = await forkLoad({
    xdsAddress: `127.0.0.1:${control.xdsPort}`,
    nodeIds: nodeIds(o),
    cluster: 'bench',
  });
  const loadSampler = createProcSampler(load.child.pid!, ticksPerSec);
  const syncStart = monotonicMs();
  load.send({ type: 'start' });
  let initialSyncMs: number | null = null;
  try {
    const synced = await load.next('all-synced', 120_000);
    initialSyncMs = synced.atMs - syncStart;
    log(`all ${o.clients} clients synced in ${Math.round(initialSyncMs)} ms`);
  } catch (err) {
    load.send({ type: 'status' });
    const st = await load.next('status', 5000).catch(() => null);
    throw new Error(`${errorText(err)} (${st?.synced ?? '?'}/${o.clients} synced)`);
  }
  const setupPeakRss = sampler.peakRssMb();
  const setupPeakCpu = sampler.peakCpuPct();
  sampler.mark();
  await sleep(STEADY_MS);
  const steadyRssMb = sampler.lastRssMb();
  const steadyCpuPct = sampler.meanCpuPct();
  log(`steady state: RSS ${steadyRssMb.toFixed(0)} MB, CPU ${steadyCpuPct.toFixed(1)}%`);

  // 3. Timed Workload changes.
  const changes: ChangeResult[] = [];
  for (let c = 0; c < o.changes; c++) {
    const svc = Math.floor(c / 2) % o.services;
    const j = o.workloadsPerService - 1;
    const remove = c % 2 === 0;
    load.send({ type: 'watch', id: c, name: edsName(svc), timeoutMs: CHANGE_TIMEOUT_MS });
    await load.next('watch-armed', 5000, (e) => e.id === c);
    const done = load.next('watch-done', CHANGE_TIMEOUT_MS + 5000, (e) => e.id === c);
    const t0 = monotonicMs();
    if (remove) {
      await post(control.apiUrl, '/v1/delete', {
        items: [{ apiVersion: API, kind: 'Workload', namespace: NAMESPACE, name: workloadName(svc, j) }],
      });
    } else {
      await post(control.apiUrl, '/v1/apply', { items: [workload(svc, j, o.workloadsPerService)] });
    }
    const { arrivalsMs } = await done;
    const latenciesMs = arrivalsMs.map((a) => a - t0);
    const what = `${remove ? 'delete' : 'add'} ${NAMESPACE}/${workloadName(svc, j)}`;
    changes.push({ what, latenciesMs, expected: o.clients });
    log(
      `change ${c + 1}/${o.changes} (${what}): ${latenciesMs.length}/${o.clients} clients, last at ${
        latenciesMs.length > 0 ? Math.round(Math.max(...latenciesMs)) : '—'
      } ms`,
    );
    if (latenciesMs.length < o.clients)
      notes.push(
        `${what}: only ${latenciesMs.length}/${o.clients} clients got the update within ${CHANGE_TIMEOUT_MS / 1000} s.`,
      );
    await sleep(PAUSE_BETWEEN_CHANGES_MS);
  }
  const peakRssMb = Math.max(setupPeakRss, sampler.peakRssMb());
  const peakCpuPct = Math.max(setupPeakCpu, sampler.peakCpuPct());

  // 4. Reconnect storm: SIGKILL, restart on the same state dir and xDS port.
  let storm: StormResult | null = null;
  if (!o.storm) notes.push('reconnect storm skipped (--no-storm)');
  else
    try {
      load.send({ type: 'await-resync' });
      const resynced = load.next('all-synced', STORM_TIMEOUT_MS);
      sampler.stop();
      const killAt = monotonicMs();
      process.kill(-control.daemon.pid, 'SIGKILL');
      await control.daemon.exited;
      control = await startControl(
        supervisor,
        mainJs,
        stateDir,
        join(root, 'control-2.log'),
        control.xdsPort,
      );
      const readyAt = monotonicMs();
      sampler = createProcSampler(control.daemon.pid, ticksPerSec);
      log(`restarted in ${Math.round(readyAt - killAt)} ms; waiting for ${o.clients} clients to re-sync`);
      let doneAt: number | null = null;
      let attempts = 0;
      try {
        const r = await resynced;
        doneAt = r.atMs;
        attempts = r.attempts;
      } catch (err) {
        load.send({ type: 'status' });
        const st = await load.next('status', 5000).catch(() => null);
        notes.push(
          `reconnect storm: ${st?.synced ?? '?'}/${o.clients} re-synced within ${STORM_TIMEOUT_MS / 1000} s.`,
        );
        log(errorText(err));
      }
      storm = {
        restartMs: readyAt - killAt,
        resyncFromReadyMs: doneAt === null ? null : doneAt - readyAt,
        resyncFromKillMs: doneAt === null ? null : doneAt - killAt,
        attempts,
        peakRssMb: sampler.peakRssMb(),
        peakCpuPct: sampler.peakCpuPct(),
      };
      log(
        `storm: all re-synced ${storm.resyncFromKillMs === null ? 'never' : `${Math.round(storm.resyncFromKillMs)} ms`} after the kill`,
      );
    } catch (err) {
      notes.push(`reconnect storm failed: ${errorText(err)}`);
    }
  sampler.stop();
  const loadPeakRssMb = loadSampler.peakRssMb();
  loadSampler.stop();
  load.send({ type: 'stop' });
  await load.next('stopped', 10_000).catch(() => null);
  load.child.kill('SIGKILL');

  const args = process.argv.slice(2).join(' ');
  const command =
    process.env.npm_lifecycle_event === 'bench:control'
      ? `npm run bench:control${args ? ` -- ${args}` : ''}`
      : `node dist/bench/control/run.js${args ? ` ${args}` : ''}`;
  return renderControlReport({
    date: new Date().toISOString(),
    command,
    machine: machineInfo(),
    clients: o.clients,
    services: o.services,
    workloadsPerService: o.workloadsPerService,
    applyMs,
    initialSyncMs,
    changes,
    steadyRssMb,
    steadyCpuPct,
    peakRssMb,
    peakCpuPct,
    loadPeakRssMb,
    storm,
    notes,
  });
}

async function main(argv: readonly string[]): Promise<number> {
  let options: ControlBenchOptions;
  try {
    options = parseControlOptions(argv);
  } catch (err) {
    log(`${errorText(err)}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return runBench({
    prefix: 'weft-bench-control-',
    write: options.write,
    log,
    replace: replaceControlResults,
    run: (supervisor, root) => bench(options, supervisor, root),
  });
}

process.exitCode = await main(process.argv.slice(2));
