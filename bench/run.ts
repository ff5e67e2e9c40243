// `npm run bench`: Weft vs nginx vs haproxy on this machine, in the same run.
//
// Starts one nginx backend, the proxies under test (each in its own temp dir, all on
// 127.0.0.1), then runs interleaved rounds (A B C A B C …) of: max throughput with wrk,
// and a fixed 1000 rps load with hey while sampling the proxy's CPU and RSS from /proc.
// Prints a markdown report (medians over rounds); `--write` puts it in docs/benchmarks.md.
// Every child runs in its own process group and is killed on exit, error and SIGINT.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { runBench } from './bench-main.js';
import { FIXED_RPS, HEY_CONNECTIONS, runHey, runWrk, WRK_CONNECTIONS } from './load.js';
import { type BenchOptions, parseOptions, USAGE } from './options.js';
import {
  backendBody,
  checkServes,
  findTools,
  freePort,
  INSTALL_COMMAND,
  PROXY_STARTERS,
  type RunningServer,
  startBackend,
  type Tools,
} from './peers.js';
import { clockTicksPerSecond, cpuTicks, createRssSampler, processTree } from './proc.js';
import { runProtocolBench } from './protocols.js';
import {
  emptyRound,
  type MachineInfo,
  type RoundResult,
  renderReport,
  replaceResults,
  summarize,
} from './report.js';
import type { Supervisor } from './supervisor.js';

const RSS_SAMPLE_MS = 100;

/** One URL the bench loads, with the server whose processes are measured (null = direct). */
interface LoadTarget {
  readonly label: string;
  readonly table: 'http' | 'tcp';
  readonly url: string;
  readonly server: RunningServer | null;
  readonly rounds: RoundResult[];
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The most telling line of a multi-line failure: the first one naming an error, else the first. */
function headline(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const named = lines.slice(1).find((l) => /error/i.test(l));
  return named ? `${lines[0]} ${named}` : (lines[0] ?? text);
}

/** stdout+stderr of a short command, or '' if it cannot run. */
function capture(file: string, args: string[]): string {
  const res = spawnSync(file, args, { encoding: 'utf8', timeout: 5000 });
  return `${res.stdout ?? ''}${res.stderr ?? ''}`.trim();
}

function machineInfo(tools: Tools): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpuModel = match[1].trim();
  } catch {
    // keep os.cpus()'s answer
  }
  const nproc = capture('nproc', []);
  const version = (text: string, pattern: RegExp) => pattern.exec(text)?.[1] ?? 'unknown';
  return {
    cpus: Number(nproc) || cpus().length,
    cpuModel,
    kernel: release(),
    versions: {
      node: process.version,
      nginx: version(capture(tools.nginx, ['-v']), /nginx\/(\S+)/),
      haproxy: version(capture(tools.haproxy, ['-v']), /version (\S+)/i),
      wrk: version(capture(tools.wrk, ['-v']), /wrk (\S+)/),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not JS
      hey: version(capture('dpkg-query', ['-W', '-f=${Version}', 'hey']), /^(\S+)$/),
    },
  };
}

/** Finds the tools, installing them with apt-get when asked to (root only). */
function ensureTools(options: BenchOptions): Tools | null {
  const first = findTools(process.env.PATH ?? '');
  if (first.tools) return first.tools;
  const missing = first.missing.join(', ');
  if (!options.install) {
    log(
      `missing: ${missing}. Install them with:\n\n    ${INSTALL_COMMAND}\n\n(or run as root with --install)`,
    );
    return null;
  }
  if (process.getuid?.() !== 0) {
    log(`missing: ${missing}. --install needs root; run: sudo ${INSTALL_COMMAND}`);
    return null;
  }
  log(`installing: ${INSTALL_COMMAND}`);
  const res = spawnSync('apt-get', INSTALL_COMMAND.split(' ').slice(1), { stdio: 'inherit' });
  const second = findTools(process.env.PATH ?? '');
  if (res.status !== 0 || !second.tools) {
    log(`install failed (apt-get exit ${res.status}); still missing: ${second.missing.join(', ')}`);
    return null;
  }
  return second.tools;
}

/** wrk max-throughput run against one target. */
async function measureMaxRps(
  supervisor: Supervisor,
  tools: Tools,
  target: LoadTarget,
  round: RoundResult,
  durationS: number,
): Promise<void> {
  const res = await runWrk(supervisor, tools.wrk, target.url, WRK_CONNECTIONS, durationS);
  round.maxRps = res.requestsPerSec;
  round.errors += res.errors;
  log(`  wrk ${target.table} ${target.label}: ${Math.round(res.requestsPerSec)} rps, ${res.errors} errors`);
}

/** hey fixed-rate run against one target, sampling the proxy's CPU and RSS meanwhile. */
async function measureFixedLoad(
  supervisor: Supervisor,
  tools: Tools,
  target: LoadTarget,
  round: RoundResult,
  durationS: number,
  ticksPerSec: number,
): Promise<void> {
  const pids = target.server ? processTree(target.server.daemon.pid) : [];
  const sampler = pids.length > 0 ? createRssSampler(pids, RSS_SAMPLE_MS) : null;
  const ticksBefore = cpuTicks(pids);
  const started = process.hrtime.bigint();
  try {
    const res = await runHey(supervisor, tools.hey, target.url, HEY_CONNECTIONS, FIXED_RPS, durationS);
    const wallS = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuS = (cpuTicks(pids) - ticksBefore) / ticksPerSec;
    round.p50Ms = res.p50Ms;
    round.p99Ms = res.p99Ms;
    round.fixedRps = res.requestsPerSec;
    round.errors += res.errors;
    if (pids.length > 0 && res.requestsPerSec > 0) {
      round.vcpuPer1000Rps = cpuS / wallS / (res.requestsPerSec / 1000);
    }
    log(
      `  hey ${target.table} ${target.label}: ${Math.round(res.requestsPerSec)} rps, p50 ${res.p50Ms.toFixed(2)} ms, ` +
        `p99 ${res.p99Ms.toFixed(2)} ms, ${res.errors} errors`,
    );
  } finally {
    const peakKb = sampler?.stop() ?? null;
    if (peakKb !== null) round.peakRssMb = peakKb / 1024;
  }
}

/** Starts the selected proxies; a proxy that fails to start or to serve is skipped with a note. */
async function startProxies(
  supervisor: Supervisor,
  tools: Tools,
  options: BenchOptions,
  root: string,
  backendPort: number,
  notes: string[],
): Promise<RunningServer[]> {
  const started: RunningServer[] = [];
  for (const name of options.only) {
    const launch = { supervisor, tools, dir: join(root, name), backendPort, repoRoot: process.cwd() };
    let server: RunningServer;
    try {
      server = await PROXY_STARTERS[name](launch);
    } catch (err) {
      const why = errorText(err);
      log(`skipping ${name}: failed to start: ${why}`);
      notes.push(`${name} skipped: failed to start: ${headline(why)}`);
      continue;
    }
    try {
      if (server.httpUrl) await checkServes(server.httpUrl, backendBody().length);
      if (server.tcpUrl) await checkServes(server.tcpUrl, backendBody().length);
    } catch (err) {
      log(`skipping ${name}: ${errorText(err)}`);
      notes.push(`${name} skipped: started but ${errorText(err)}.`);
      await supervisor.stop(server.daemon);
      continue;
    }
    if (server.note) notes.push(`${server.note}; it is absent from the TCP table.`);
    log(
      `${name} ready on ${[server.httpUrl, server.tcpUrl && `tcp ${server.tcpUrl}`].filter(Boolean).join(', ')}`,
    );
    started.push(server);
  }
  return started;
}

/** Runs one measurement, recording a failure as a note instead of aborting the bench. */
async function attempt(what: string, notes: string[], fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const why = headline(errorText(err));
    log(`  ${what} failed: ${why}`);
    notes.push(`${what} failed: ${why}`);
  }
}

async function bench(
  options: BenchOptions,
  tools: Tools,
  supervisor: Supervisor,
  root: string,
): Promise<string> {
  const notes: string[] = [];
  const backendPort = await freePort();
  const backend = await startBackend(supervisor, tools, join(root, 'backend'), backendPort);
  await checkServes(backend.httpUrl, backendBody().length);
  log(`backend ready on ${backend.httpUrl}`);
  const proxies = await startProxies(supervisor, tools, options, root, backendPort, notes);

  const direct: LoadTarget = {
    label: 'direct',
    table: 'http',
    url: backend.httpUrl,
    server: null,
    rounds: [],
  };
  const targets: LoadTarget[] = [direct];
  for (const p of proxies) {
    if (p.httpUrl) targets.push({ label: p.name, table: 'http', url: p.httpUrl, server: p, rounds: [] });
  }
  for (const p of proxies) {
    if (p.tcpUrl) targets.push({ label: p.name, table: 'tcp', url: p.tcpUrl, server: p, rounds: [] });
  }

  const ticksPerSec = clockTicksPerSecond();
  for (let r = 0; r < options.rounds; r++) {
    log(`round ${r + 1}/${options.rounds}`);
    for (const t of targets) t.rounds.push(emptyRound());
    // Interleaved: every target once per measurement kind, then the next kind, then the next round.
    for (const t of targets) {
      await attempt(`round ${r + 1} wrk ${t.table} ${t.label}`, notes, () =>
        measureMaxRps(supervisor, tools, t, t.rounds[r], options.durationS),
      );
    }
    for (const t of targets) {
      await attempt(`round ${r + 1} hey ${t.table} ${t.label}`, notes, () =>
        measureFixedLoad(supervisor, tools, t, t.rounds[r], options.durationS, ticksPerSec),
      );
    }
  }

  // HTTP/2, TLS, gRPC and the resilience pair: their own servers, the same backend.
  let protocols = '';
  await attempt('protocol rows', notes, async () => {
    protocols = await runProtocolBench({
      supervisor,
      nginx: tools.nginx,
      wrk: tools.wrk,
      root,
      repoRoot: process.cwd(),
      backendPort,
      rounds: options.rounds,
      durationS: options.durationS,
      log,
    });
  });

  const directRow = summarize('direct', direct.rounds, null);
  const rowsFor = (table: 'http' | 'tcp') => [
    directRow,
    ...targets
      .filter((t) => t.table === table && t.server)
      .map((t) => summarize(t.label, t.rounds, direct.rounds)),
  ];
  const args = process.argv.slice(2).join(' ');
  const command =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${args ? ` -- ${args}` : ''}`
      : `node dist/bench/run.js${args ? ` ${args}` : ''}`;
  const report = renderReport({
    title: options.quick ? 'Latest results — smoke run (--quick), not a benchmark' : 'Latest results',
    date: new Date().toISOString(),
    command,
    machine: machineInfo(tools),
    method:
      `${options.rounds} interleaved round(s), ${options.durationS} s per run, medians over rounds. ` +
      `max rps: wrk -t1 -c${WRK_CONNECTIONS}; latency/CPU/RSS: hey -c ${HEY_CONNECTIONS} at ${FIXED_RPS} rps total; ` +
      'added = proxy minus direct in the same round; the direct row is the same measurement in both tables; ' +
      'the max rps ratios are the median over rounds of the same round ratio (the other ratios: of the medians).',
    http: rowsFor('http'),
    tcp: rowsFor('tcp'),
    notes,
  });
  return protocols === '' ? report : `${report}\n${protocols}`;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (err) {
    log(`${errorText(err)}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const tools = ensureTools(options);
  if (!tools) return 1;

  return runBench({
    prefix: 'weft-bench-',
    write: options.write,
    log,
    replace: replaceResults,
    run: (supervisor, root) => bench(options, tools, supervisor, root),
  });
}

process.exitCode = await main(process.argv.slice(2));
