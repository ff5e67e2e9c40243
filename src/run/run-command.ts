// `weft run [options] -- COMMAND ARGS...` and `weft run --attach`: one process with a weft
// proxy sidecar on a host or VM. In order: check the Service (or create it), pick the
// Workload's name and ports, register the Workload (unhealthy) and start heartbeats, start
// the sidecar and wait until its inbound listener (from xDS) accepts, start the command with
// PORT and WEFT_UPSTREAM_* in its environment, mark the Workload healthy once the app
// accepts connections. SIGINT/SIGTERM are forwarded to the command; when it exits, the
// Workload is deleted, the sidecar stopped, and weft run exits with the command's status
// (128+signal when a signal ended it). With --attach there is no command: weft run fronts
// an app already listening on --port until SIGINT/SIGTERM. Processes run under weft up's
// supervisor (src/up/supervisor.ts): own process groups, prefixed output, sidecar restarts.

import { constants, hostname as osHostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ApiError, type ControlClient, createControlClient } from '../cli/control-client.js';
import type { Resource } from '../control/resource.js';
import { type Clock, systemClock, type Timer } from '../core/clock.js';
import { ConfigError, WeftError } from '../core/errors.js';
import { releaseStartupPages } from '../core/resident-pages.js';
import { WEFT_NODE_FLAGS } from '../core/runtime-flags.js';
import { keepAlive } from '../up/keep-alive.js';
import { localityArgs } from '../up/launcher.js';
import { createLogMux, type LogMux, shouldColor } from '../up/log-mux.js';
import { allocateFreePorts, assertPortsFree } from '../up/port-allocator.js';
import { signalGroup } from '../up/process-group.js';
import { probeOnce, type ReadinessCheck } from '../up/readiness.js';
import { LOCALHOST } from '../up/run-plan.js';
import { createSupervisor, type ProcessSpec, type SpawnFn, type SupervisorEvent } from '../up/supervisor.js';
import { createRegistration, createWorkloadApi, type Registration } from './registration.js';
import { inboundBindAddress, parseRunOptions, type RunOptions } from './run-options.js';
import {
  appEnvironment,
  choosePortName,
  defaultWorkloadName,
  type RunWorkload,
  serviceResource,
  sidecarNodeId,
  workloadResource,
} from './run-workload.js';

export interface RunDeps {
  readonly clock?: Clock;
  readonly out?: NodeJS.WritableStream;
  readonly err?: NodeJS.WritableStream;
  readonly env?: NodeJS.ProcessEnv;
  readonly spawn?: SpawnFn;
  readonly hostname?: () => string;
  readonly random?: () => number;
  /** After a forwarded signal, how long the command has before SIGKILL; also the sidecar's stop grace. Default 10 s. */
  readonly graceMs?: number;
  /** How long the sidecar may take to get its inbound listener from xDS; default 30 s. */
  readonly sidecarReadyTimeoutMs?: number;
  /** The compiled CLI entry the sidecar runs (default ../cli/main.js next to this module). */
  readonly cliPath?: string;
  readonly nodePath?: string;
  /** Calls `stop(signal)` on each stop request; returns an unsubscribe. Default: SIGINT/SIGTERM. */
  readonly onStopRequest?: (stop: (signal: NodeJS.Signals) => void) => () => void;
  /** Called once the Workload is registered and the command started (tests wait for it). */
  readonly onStarted?: (workload: RunWorkload) => void;
}

const API_TIMEOUT_MS = 5_000;
const APP_PROBE_MS = 200;
const APP_SLOW_MS = 30_000;

export async function runRunCommand(argv: string[], deps: RunDeps = {}): Promise<number> {
  const err = deps.err ?? process.stderr;
  const release = keepAlive();
  try {
    return await run(argv, deps);
  } catch (e) {
    return reportRunError(e, err);
  } finally {
    release();
  }
}

/** `weft: error [CODE]: message` (and API issues); 2 for usage errors, else 1. */
export function reportRunError(e: unknown, err: NodeJS.WritableStream): number {
  if (e instanceof ApiError) {
    err.write(
      `weft: error [${e.code}]: ${e.message}${e.issues.map((i) => `\n  - ${i.path}: ${i.message}`).join('')}\n`,
    );
    return 1;
  }
  if (e instanceof WeftError || e instanceof ConfigError) {
    err.write(`weft: error [${e.code}]: ${e.message}\n`);
    return e.code === 'WEFT_USAGE' ? 2 : 1;
  }
  throw e;
}

/** The exit status a shell would report: the code, or 128 + the signal's number. */
export function exitStatus(code: number | null, signal: string | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (constants.signals[signal as NodeJS.Signals] ?? 0);
  return 127; // could not be started (spawn failed)
}

async function run(argv: string[], deps: RunDeps): Promise<number> {
  const out = deps.out ?? process.stdout;
  const err = deps.err ?? process.stderr;
  const env = deps.env ?? process.env;
  const clock = deps.clock ?? systemClock;
  const options = parseRunOptions(argv, env, out);
  if (options === null) return 0;
  const say = (line: string) => err.write(`weft run: ${line}\n`);
  const client = createControlClient(options.controlUrl);
  const api = createWorkloadApi(client, clock, API_TIMEOUT_MS);

  // Stop requests count from the start: Ctrl-C while registering still deregisters.
  let stopSignal: NodeJS.Signals | undefined;
  const stopWaiters = new Set<(signal: NodeJS.Signals) => void>();
  const unsubscribe = (deps.onStopRequest ?? signalStopRequests)((signal) => {
    stopSignal ??= signal;
    for (const w of [...stopWaiters]) w(signal);
  });
  const nextStop = () =>
    new Promise<NodeJS.Signals>((resolve) => {
      const w = (s: NodeJS.Signals) => {
        stopWaiters.delete(w);
        resolve(s);
      };
      stopWaiters.add(w);
    });
  const stopped = stopSignal === undefined ? nextStop() : Promise.resolve(stopSignal);
  const stoppedStatus = () => (options.attach ? 0 : exitStatus(null, stopSignal ?? 'SIGTERM'));

  let registration: Registration | undefined;
  let supervisor: ReturnType<typeof createSupervisor> | undefined;
  let appWatch: Timer | undefined;
  try {
    const portName = await prepareService(client, options, say);
    await warnMissingUpstreams(client, options, say);
    const name = await chooseName(client, options, deps, say);
    const ports = await pickPorts(options);
    const workload: RunWorkload = {
      name,
      nodeId: sidecarNodeId(options.namespace, name),
      portName,
      ports,
    };
    if (stopSignal !== undefined) return stoppedStatus();
    registration = createRegistration({
      api,
      clock,
      workload: workloadResource(options, workload, false),
      log: say,
    });
    await registration.register();
    registration.start();
    say(
      `registered Workload ${options.namespace}/${name} (${options.address}:${ports.inbound} → app port ` +
        `${options.appPort}, TTL ${options.ttlSeconds}s); sidecar node ${workload.nodeId}`,
    );

    const logs = relabel(createLogMux({ out, color: shouldColor(out as { isTTY?: boolean }, env) }));
    logs.setWidth(7);
    let appExit: ((e: { code: number | null; signal: string | null }) => void) | undefined;
    const appExited = new Promise<{ code: number | null; signal: string | null }>((r) => {
      appExit = r;
    });
    let appPid: number | undefined;
    const sup = createSupervisor({
      clock,
      logs,
      baseEnv: env,
      ...(deps.spawn === undefined ? {} : { spawn: deps.spawn }),
      graceMs: deps.graceMs ?? 10_000,
      onEvent: (e: SupervisorEvent) => {
        if (e.name !== 'app') {
          if (e.type === 'gave-up') say(`the sidecar keeps crashing (${e.reason}); the app runs without it`);
          return;
        }
        if (e.type === 'spawned') appPid = e.pid;
        if (e.type === 'exited') appExit?.({ code: e.code, signal: e.signal });
      },
    });
    supervisor = sup;
    const sidecar = sidecarSpec(options, workload, deps);
    sup.start(sidecar);
    const ready = sup.waitReady([sidecar.name]);
    ready.catch(() => {});
    if ((await Promise.race([ready.then(() => 'ready' as const), stopped])) !== 'ready')
      return stoppedStatus();
    say(releaseStartupPages());

    const markHealthy = () => {
      registration?.update(workloadResource(options, workload, true));
      say(`app accepts connections on ${LOCALHOST}:${options.appPort}; Workload is healthy`);
    };
    if (options.attach) {
      appWatch = watchListening(clock, options.appPort, markHealthy, say);
      deps.onStarted?.(workload);
      await stopped;
      return 0;
    }

    sup.start(appSpec(options, workload));
    appWatch = watchListening(clock, options.appPort, markHealthy, say);
    deps.onStarted?.(workload);
    const forwarded = forwardStops(stopSignal, nextStop, () => appPid, clock, deps.graceMs ?? 10_000, say);
    const exit = await appExited;
    forwarded.cancel();
    return exitStatus(exit.code, exit.signal);
  } finally {
    appWatch?.cancel();
    unsubscribe();
    // Deregister first: peers stop sending here before the sidecar goes away.
    await registration?.deregister();
    if (supervisor !== undefined) {
      const report = await supervisor.stop();
      if (report.remaining.length > 0)
        say(`processes still alive after SIGKILL: ${report.remaining.join(', ')}`);
    }
  }
}

/** Checks the Service (creating it with --create-service) and returns the port name to serve. */
async function prepareService(
  client: ControlClient,
  options: RunOptions,
  say: (line: string) => void,
): Promise<string> {
  const path = servicePath(options.namespace, options.service);
  let service = await getOrUndefined<Resource>(client, path);
  const id = `${options.namespace}/${options.service}`;
  if (service === undefined) {
    if (!options.createService)
      throw new WeftError(
        'WEFT_NOT_FOUND',
        `Service ${id} does not exist at ${client.baseUrl}: apply it first (weft apply -f ...), ` +
          `or pass --create-service to create one (selector weft.dev/service=${options.service}, port 80)`,
      );
    service = serviceResource(options);
    await client.request('PUT', path, service);
    say(`created Service ${id} (it stays when weft run exits)`);
  }
  const spec = service.spec as { ports?: { name: string }[]; selector?: Record<string, string> };
  const ports = spec.ports ?? [];
  const portName = choosePortName(options.portName, ports);
  const names = ports.map((p) => p.name).join(', ');
  if (portName === undefined)
    throw new WeftError(
      'WEFT_USAGE',
      `Service ${id} has ports ${names}: name the one this app serves with --port-name`,
    );
  if (!ports.some((p) => p.name === portName))
    throw new WeftError(
      'WEFT_USAGE',
      `--port-name: Service ${id} has no port '${portName}' (it has ${names})`,
    );
  const labels = workloadResource(
    options,
    { name: 'x', nodeId: '', portName, ports: { inbound: 1, outbound: 1, upstreams: [] } },
    true,
  ).metadata.labels as Record<string, string>;
  const unmatched = Object.entries(spec.selector ?? {}).filter(([k, v]) => labels[k] !== v);
  if (unmatched.length > 0 || Object.keys(spec.selector ?? {}).length === 0)
    say(
      `warning: Service ${id}'s selector does not select this Workload ` +
        `(missing ${unmatched.map(([k, v]) => `${k}=${v}`).join(',') || 'any label: the selector is empty'}); ` +
        'add them with --labels',
    );
  return portName;
}

async function warnMissingUpstreams(
  client: ControlClient,
  options: RunOptions,
  say: (line: string) => void,
): Promise<void> {
  for (const u of options.upstreams) {
    const [name, ns = options.namespace] = u.split('.');
    if ((await getOrUndefined(client, servicePath(ns, name!))) === undefined)
      say(
        `warning: upstream Service ${ns}/${name} does not exist (yet); its local port answers once it does`,
      );
  }
}

/** --name as given (replacing a Workload of that name), else `<service>-<host>`, suffixed if taken. */
async function chooseName(
  client: ControlClient,
  options: RunOptions,
  deps: RunDeps,
  say: (line: string) => void,
): Promise<string> {
  const exists = async (name: string) =>
    (await getOrUndefined(
      client,
      `/apis/weft.dev/v1alpha1/namespaces/${options.namespace}/workloads/${name}`,
    )) !== undefined;
  if (options.name !== undefined) {
    if (await exists(options.name))
      say(`replacing the existing Workload ${options.namespace}/${options.name}`);
    return options.name;
  }
  const host = (deps.hostname ?? osHostname)();
  const random = deps.random ?? Math.random;
  for (let i = 0; i < 8; i++) {
    const suffix =
      i === 0
        ? undefined
        : Math.floor(random() * 0x10000)
            .toString(16)
            .padStart(4, '0');
    const name = defaultWorkloadName(options.service, host, suffix);
    if (!(await exists(name))) return name;
  }
  throw new WeftError(
    'WEFT_CONFLICT',
    `no free Workload name for ${options.service} on ${host}; pass --name`,
  );
}

/** The sidecar's inbound, outbound and upstream ports, all free at once (never the app's port). */
async function pickPorts(options: RunOptions): Promise<RunWorkload['ports']> {
  const host = inboundBindAddress(options.address) ?? '0.0.0.0';
  if (options.inboundPort !== undefined)
    await assertPortsFree([{ port: options.inboundPort, what: '--inbound-port' }], { host });
  const wanted = 1 + options.upstreams.length + (options.inboundPort === undefined ? 1 : 0);
  // Two spare, in case the kernel hands out the app's port or the fixed inbound port.
  const free = (await allocateFreePorts(wanted + 2, host))
    .filter((p) => p !== options.appPort && p !== options.inboundPort)
    .slice(0, wanted);
  const inbound = options.inboundPort ?? free.shift()!;
  const outbound = free.shift()!;
  return { inbound, outbound, upstreams: free };
}

function sidecarSpec(options: RunOptions, w: RunWorkload, deps: RunDeps): ProcessSpec {
  const cli = deps.cliPath ?? fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const bind = inboundBindAddress(options.address);
  return {
    name: 'sidecar',
    role: 'sidecar',
    command: deps.nodePath ?? process.execPath,
    // bin/weft.js runs node with these flags; the sidecar keeps the same runtime.
    args: [
      ...WEFT_NODE_FLAGS,
      cli,
      'proxy',
      '--xds',
      options.xdsAddress,
      '--node',
      w.nodeId,
      // Loopback stays loopback; any other address means the mesh reaches this host from
      // outside, so the inbound listener binds every interface (the translator's default).
      ...(bind === undefined ? [] : ['--node-metadata', `WEFT_INBOUND_ADDRESS=${bind}`]),
      // One access-log line per request (or TCP connection), with response flags.
      '--node-metadata',
      'WEFT_ACCESS_LOG=stdout',
      ...localityArgs(options.locality),
      '--admin-address',
      `${LOCALHOST}:0`,
    ],
    readiness: { kind: 'tcp', host: bind ?? LOCALHOST, port: w.ports.inbound },
    readyTimeoutMs: deps.sidecarReadyTimeoutMs ?? 30_000,
    restart: true,
    ports: { inbound: w.ports.inbound, outbound: w.ports.outbound },
  };
}

function appSpec(options: RunOptions, w: RunWorkload): ProcessSpec {
  return {
    name: 'app',
    role: 'app',
    command: options.command[0]!,
    args: options.command.slice(1),
    env: appEnvironment(options, w),
    cwd: process.cwd(),
    // weft run ends with the command: it is never restarted.
    restart: false,
    dependsOn: ['sidecar'],
    ports: { app: options.appPort },
  };
}

/**
 * Forwards each stop request's signal to the command's process group; SIGKILL after
 * `graceMs` or at the second request. `first` is a request that came before the command ran.
 */
function forwardStops(
  first: NodeJS.Signals | undefined,
  nextStop: () => Promise<NodeJS.Signals>,
  pid: () => number | undefined,
  clock: Clock,
  graceMs: number,
  say: (line: string) => void,
): { cancel(): void } {
  let cancelled = false;
  let killTimer: Timer | undefined;
  let count = 0;
  const kill = (why: string) => {
    const p = pid();
    if (cancelled || p === undefined) return;
    say(`${why}; sending SIGKILL to the app`);
    signalGroup(p, 'SIGKILL');
  };
  const onStop = (signal: NodeJS.Signals) => {
    if (cancelled) return;
    const p = pid();
    count++;
    if (count > 1) kill(`${signal} again`);
    else if (p !== undefined) {
      say(`${signal}: forwarding it to the app (pid ${p})`);
      signalGroup(p, signal);
      killTimer = clock.setTimer(graceMs, () =>
        kill(`the app still runs ${graceMs / 1000}s after ${signal}`),
      );
    }
    void nextStop().then(onStop);
  };
  if (first !== undefined) onStop(first);
  else void nextStop().then(onStop);
  return {
    cancel() {
      cancelled = true;
      killTimer?.cancel();
    },
  };
}

/** Probes the app's port until it accepts, then calls `onListening` once; a note if it is slow. */
function watchListening(
  clock: Clock,
  port: number,
  onListening: () => void,
  say: (line: string) => void,
  probe: (check: ReadinessCheck) => Promise<{ ok: boolean; detail: string }> = (c) => probeOnce(c),
): Timer {
  const started = clock.monotonic();
  let warned = false;
  let cancelled = false;
  let timer: Timer | undefined;
  const attempt = () => {
    void probe({ kind: 'tcp', host: LOCALHOST, port }).then((r) => {
      if (cancelled) return;
      if (r.ok) return onListening();
      if (!warned && clock.monotonic() - started >= APP_SLOW_MS) {
        warned = true;
        say(
          `the app is still not listening on ${LOCALHOST}:${port} (${r.detail}); ` +
            'the Workload stays unhealthy until it does',
        );
      }
      timer = clock.setTimer(APP_PROBE_MS, attempt);
    });
  };
  attempt();
  return {
    cancel() {
      cancelled = true;
      timer?.cancel();
    },
  };
}

function signalStopRequests(stop: (signal: NodeJS.Signals) => void): () => void {
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

/** The supervisor's own notes say `[weft run]`, not `[weft up]`. */
function relabel(mux: LogMux): LogMux {
  return {
    setWidth: (w) => mux.setWidth(w),
    source(name) {
      const s = mux.source(name);
      return { ...s, note: (line) => s.stderr.push(`[weft run] ${line}\n`) };
    },
  };
}

function servicePath(namespace: string, name: string): string {
  return `/apis/weft.dev/v1alpha1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`;
}

async function getOrUndefined<T = unknown>(client: ControlClient, path: string): Promise<T | undefined> {
  try {
    return await client.request<T>('GET', path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}
