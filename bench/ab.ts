// `npm run bench:ab -- --a DIR --b DIR`: two Weft builds side by side, in alternating
// windows of the same load, to measure one change. A full `npm run bench` run moves by
// ±30% on a shared VM, more than most single changes; two processes loaded in turn
// (A B, B A, A B, ...) for short windows see the same drift, so the medians of their
// windows compare. This is how docs/benchmarks.md's before/after numbers are taken.
//
// DIR is a built Weft checkout (a clone or `git worktree add`, then `npm ci` or `npm run
// build`; a worktree may symlink node_modules). Each side runs as `DIR/bin/weft.js proxy`
// (the command's own V8 flags) on the bench's generated config, both forwarding to one
// nginx backend. A side can instead be one of the bench's peers by name (nginx, haproxy,
// node-pipe, node-http-relay; a directory with such a name is given as ./NAME): then the
// windows measure Weft against that peer the same way, which settles a target's ratio
// better than one full run does. For each window: the side's rate, and its CPU per
// request (user + system of its processes, from /proc). Prints every window, the
// medians, and the median of the pairs' own B/A ratios.
//   --load max     wrk -t1 -c50 (saturated; default)
//   --load fixed   hey -c 16 at 1000 requests/s (the bench's latency and vCPU load)
//   --table http|tcp|https   the HTTP listener (default), the tcp_proxy one, or an HTTPS
//                            one (nginx and Weft, self-signed certificates)
//   --pairs N (default 10), --window S seconds (default 3)

import { fileURLToPath } from 'node:url';
import { runBench } from './bench-main.js';
import { FIXED_RPS, HEY_CONNECTIONS, runHey, runWrk, WRK_CONNECTIONS } from './load.js';
import {
  findTools,
  freePort,
  INSTALL_COMMAND,
  PROXY_NAMES,
  PROXY_STARTERS,
  type ProxyName,
  type RunningServer,
  startBackend,
  startWeft,
  type Tools,
} from './peers.js';
import { clockTicksPerSecond, cpuTicks, processTree } from './proc.js';
import { median } from './report.js';
import type { Supervisor } from './supervisor.js';

export const AB_USAGE = `usage: npm run bench:ab -- --a DIR|PEER --b DIR|PEER [--pairs N] [--window S] [--load max|fixed] [--table http|tcp|https]
  PEER: ${PROXY_NAMES.filter((n) => n !== 'weft').join(', ')} (a directory with such a name: ./NAME)`;

/** The bench peer a side names, or null when the side is a Weft checkout directory. */
export function sidePeer(side: string): Exclude<ProxyName, 'weft'> | null {
  const name = PROXY_NAMES.find((n) => n !== 'weft' && n === side);
  return name === undefined ? null : (name as Exclude<ProxyName, 'weft'>);
}

export interface AbOptions {
  readonly a: string;
  readonly b: string;
  readonly pairs: number;
  readonly windowS: number;
  readonly load: 'max' | 'fixed';
  readonly table: 'http' | 'tcp' | 'https';
}

/** Parses the command line; throws an Error naming the bad or missing argument. */
export function parseAbOptions(argv: readonly string[]): AbOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    if (!['--a', '--b', '--pairs', '--window', '--load', '--table'].includes(flag))
      throw new Error(`unknown argument '${flag}'`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
    values.set(flag, value);
  }
  const a = values.get('--a');
  const b = values.get('--b');
  if (a === undefined || b === undefined) throw new Error('--a and --b are required (a Weft DIR or a peer)');
  if (sidePeer(a) !== null && sidePeer(b) !== null)
    throw new Error(`--a ${a} and --b ${b} are both peers: one side must be a Weft DIR`);
  const count = (flag: string, fallback: number, max: number): number => {
    const text = values.get(flag);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new Error(`${flag} must be a whole number from 1 to ${max}, not '${text}'`);
    return n;
  };
  const load = values.get('--load') ?? 'max';
  if (load !== 'max' && load !== 'fixed') throw new Error(`--load must be max or fixed, not '${load}'`);
  const table = values.get('--table') ?? 'http';
  if (table !== 'http' && table !== 'tcp' && table !== 'https')
    throw new Error(`--table must be http, tcp or https, not '${table}'`);
  return { a, b, pairs: count('--pairs', 10, 100), windowS: count('--window', 3, 60), load, table };
}

/** One window of load on one side. */
export interface AbWindow {
  readonly side: 'A' | 'B';
  readonly requestsPerSec: number;
  /** CPU (user + system) of the side's processes per request, µs. */
  readonly cpuUsPerRequest: number;
  /** Median latency for the fixed load, ms; null for max. */
  readonly p50Ms: number | null;
  /** 99th percentile latency for the fixed load, ms; null for max. */
  readonly p99Ms: number | null;
}

/** The order of the two sides in window pair `i`: A first in even pairs, B first in odd ones. */
export function pairOrder(i: number): readonly ('A' | 'B')[] {
  return i % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
}

/** The report: every window per side, the medians, and B against A. */
export function renderAbReport(options: AbOptions, windows: readonly AbWindow[]): string {
  const lines = [
    `A: ${options.a}`,
    `B: ${options.b}`,
    `${options.pairs} pairs of ${options.windowS} s windows, ${options.load === 'max' ? `wrk -t1 -c${WRK_CONNECTIONS}` : `hey -c ${HEY_CONNECTIONS} at ${FIXED_RPS} rps`}, ${options.table} listener`,
    '',
  ];
  const med: Record<string, { rps: number; cpu: number; p50: number | null; p99: number | null }> = {};
  for (const side of ['A', 'B'] as const) {
    const mine = windows.filter((w) => w.side === side);
    const rps = median(mine.map((w) => w.requestsPerSec)) ?? 0;
    const cpu = median(mine.map((w) => w.cpuUsPerRequest)) ?? 0;
    const p50 = options.load === 'fixed' ? median(mine.map((w) => w.p50Ms)) : null;
    const p99 = options.load === 'fixed' ? median(mine.map((w) => w.p99Ms)) : null;
    med[side] = { rps, cpu, p50, p99 };
    lines.push(`${side} requests/s: ${mine.map((w) => Math.round(w.requestsPerSec)).join(' ')}`);
    lines.push(`${side} CPU µs/request: ${mine.map((w) => w.cpuUsPerRequest.toFixed(1)).join(' ')}`);
    if (p50 !== null) lines.push(`${side} p50 ms: ${mine.map((w) => w.p50Ms?.toFixed(2)).join(' ')}`);
    if (p99 !== null) lines.push(`${side} p99 ms: ${mine.map((w) => w.p99Ms?.toFixed(2)).join(' ')}`);
  }
  lines.push('');
  const ratio = (b: number, a: number) => (a > 0 ? `${(b / a).toFixed(2)}x` : '-');
  lines.push(
    `medians: A ${Math.round(med.A.rps)} requests/s, ${med.A.cpu.toFixed(1)} µs/request; B ${Math.round(med.B.rps)} requests/s, ${med.B.cpu.toFixed(1)} µs/request`,
  );
  lines.push(
    `B/A: requests/s ${ratio(med.B.rps, med.A.rps)}, CPU per request ${ratio(med.B.cpu, med.A.cpu)}`,
  );
  // Each pair's own B/A: adjacent windows share the machine's state of the moment.
  for (const [what, of] of [
    ['requests/s', (w: AbWindow) => w.requestsPerSec],
    ['CPU per request', (w: AbWindow) => w.cpuUsPerRequest],
    ['p99', (w: AbWindow) => w.p99Ms ?? 0],
  ] as const) {
    const pairs = pairRatios(windows, of);
    if (pairs.length === 0) continue;
    const sorted = [...pairs].sort((x, y) => x - y);
    lines.push(
      `B/A ${what} per pair: median ${(median(pairs) ?? 0).toFixed(2)}x, from ${sorted[0].toFixed(2)}x to ${sorted[sorted.length - 1].toFixed(2)}x`,
    );
  }
  if (med.A.p50 !== null && med.B.p50 !== null)
    lines.push(`p50: A ${med.A.p50.toFixed(2)} ms, B ${med.B.p50.toFixed(2)} ms`);
  if (med.A.p99 !== null && med.B.p99 !== null)
    lines.push(`p99: A ${med.A.p99.toFixed(2)} ms, B ${med.B.p99.toFixed(2)} ms`);
  return `${lines.join('\n')}\n`;
}

/** B's value over A's in each pair of adjacent windows (windows come in pairs, in run order). */
export function pairRatios(windows: readonly AbWindow[], of: (w: AbWindow) => number): number[] {
  const ratios: number[] = [];
  for (let i = 0; i + 1 < windows.length; i += 2) {
    const [x, y] = [windows[i], windows[i + 1]];
    if (x.side === y.side) continue;
    const a = of(x.side === 'A' ? x : y);
    const b = of(x.side === 'A' ? y : x);
    if (a > 0) ratios.push(b / a);
  }
  return ratios;
}

const WARM_UP_S = 2;

/** Starts one side: a Weft checkout's `bin/weft.js`, or the named bench peer. */
function startSide(
  value: string,
  launch: { supervisor: Supervisor; tools: Tools; dir: string; backendPort: number; https: boolean },
): Promise<RunningServer> {
  const peer = sidePeer(value);
  if (peer === null) return startWeft({ ...launch, repoRoot: value });
  // The reference relays run from this checkout's build.
  return PROXY_STARTERS[peer]({ ...launch, repoRoot: process.cwd() });
}

async function abRun(
  options: AbOptions,
  tools: Tools,
  supervisor: Supervisor,
  root: string,
): Promise<string> {
  const backendPort = await freePort();
  await startBackend(supervisor, tools, `${root}/backend`, backendPort);
  const sides = new Map<'A' | 'B', { url: string; pids: () => number[] }>();
  for (const [side, repoRoot] of [
    ['A', options.a],
    ['B', options.b],
  ] as const) {
    const server = await startSide(repoRoot, {
      supervisor,
      tools,
      dir: `${root}/${side}`,
      backendPort,
      https: options.table === 'https',
    });
    const url = { http: server.httpUrl, tcp: server.tcpUrl, https: server.httpsUrl }[options.table];
    if (url === null)
      throw new Error(
        `side ${side} (${server.name}) has no ${options.table} listener${server.note ? `: ${server.note}` : ''}`,
      );
    sides.set(side, { url, pids: () => processTree(server.daemon.pid) });
  }
  for (const side of sides.values())
    await runWrk(supervisor, tools.wrk, side.url, WRK_CONNECTIONS, WARM_UP_S);
  const ticksPerSec = clockTicksPerSecond();
  const windows: AbWindow[] = [];
  for (let i = 0; i < options.pairs; i++) {
    for (const name of pairOrder(i)) {
      const side = sides.get(name)!;
      const pids = side.pids();
      const before = cpuTicks(pids);
      let requests: number;
      let requestsPerSec: number;
      let p50Ms: number | null = null;
      let p99Ms: number | null = null;
      if (options.load === 'max') {
        const r = await runWrk(supervisor, tools.wrk, side.url, WRK_CONNECTIONS, options.windowS);
        requests = r.requests;
        requestsPerSec = r.requestsPerSec;
      } else {
        const r = await runHey(supervisor, tools.hey, side.url, HEY_CONNECTIONS, FIXED_RPS, options.windowS);
        requests = r.responses;
        requestsPerSec = r.requestsPerSec;
        p50Ms = r.p50Ms;
        p99Ms = r.p99Ms;
      }
      const ticks = cpuTicks(pids) - before;
      const cpuUsPerRequest = requests > 0 ? (ticks * 1e6) / ticksPerSec / requests : 0;
      windows.push({ side: name, requestsPerSec, cpuUsPerRequest, p50Ms, p99Ms });
      process.stderr.write(
        `[ab] pair ${i + 1}/${options.pairs} ${name}: ${Math.round(requestsPerSec)} requests/s, ${cpuUsPerRequest.toFixed(1)} µs/request\n`,
      );
    }
  }
  return renderAbReport(options, windows);
}

async function main(argv: readonly string[]): Promise<number> {
  let options: AbOptions;
  try {
    options = parseAbOptions(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${AB_USAGE}\n`);
    return 2;
  }
  const { tools, missing } = findTools(process.env.PATH ?? '');
  if (tools === null) {
    process.stderr.write(`missing: ${missing.join(', ')}. Install them with:\n\n    ${INSTALL_COMMAND}\n`);
    return 1;
  }
  return runBench({
    prefix: 'weft-bench-ab-',
    write: false,
    log: (m) => process.stderr.write(`[ab] ${m}\n`),
    replace: (doc) => doc,
    run: (supervisor, root) => abRun(options, tools, supervisor, root),
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
