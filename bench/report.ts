// Turns per-round measurements into the markdown results section: medians over rounds,
// added latency against the direct baseline of the same round, ratios against the peers,
// and the targets with pass/fail.

/** What one load target gave in one round; null where that run failed or does not apply. */
export interface RoundResult {
  /** wrk -c50 Requests/sec. */
  maxRps: number | null;
  /** hey at the fixed rate: latencies in ms and the rate actually achieved. */
  p50Ms: number | null;
  p99Ms: number | null;
  fixedRps: number | null;
  /** Errors seen by wrk and hey (transport errors + responses >= 400 / non-2xx). */
  errors: number;
  /** Proxy CPU (all its processes) during the fixed-rate run, per 1000 rps. */
  vcpuPer1000Rps: number | null;
  /** Peak summed RSS during the fixed-rate run. */
  peakRssMb: number | null;
}

export function emptyRound(): RoundResult {
  return {
    maxRps: null,
    p50Ms: null,
    p99Ms: null,
    fixedRps: null,
    errors: 0,
    vcpuPer1000Rps: null,
    peakRssMb: null,
  };
}

/** One table row, medians over rounds. */
export interface Row {
  readonly label: string;
  readonly maxRps: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly addedP50Ms: number | null;
  readonly addedP99Ms: number | null;
  readonly vcpuPer1000Rps: number | null;
  readonly peakRssMb: number | null;
  /** Total errors over all rounds. */
  readonly errors: number;
  /** Max rps of each round, in round order (for same-round ratios); absent = unknown. */
  readonly maxRpsByRound?: readonly (number | null)[];
}

export function median(values: readonly (number | null)[]): number | null {
  const sorted = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function minus(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a - b;
}

/**
 * Summarises one target's rounds. `direct` holds the baseline rounds (same indices): added
 * latency is taken per round, then the median of those differences is reported.
 */
export function summarize(
  label: string,
  rounds: readonly RoundResult[],
  direct: readonly RoundResult[] | null,
): Row {
  return {
    label,
    maxRps: median(rounds.map((r) => r.maxRps)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    addedP50Ms: direct ? median(rounds.map((r, i) => minus(r.p50Ms, direct[i]?.p50Ms ?? null))) : null,
    addedP99Ms: direct ? median(rounds.map((r, i) => minus(r.p99Ms, direct[i]?.p99Ms ?? null))) : null,
    vcpuPer1000Rps: median(rounds.map((r) => r.vcpuPer1000Rps)),
    peakRssMb: median(rounds.map((r) => r.peakRssMb)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    maxRpsByRound: rounds.map((r) => r.maxRps),
  };
}

export type Verdict = 'PASS' | 'FAIL' | 'n/a';

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly verdict: Verdict;
}

/** hey prints latencies in 0.1 ms steps; a peer's added latency is floored there for ratios. */
export const LATENCY_RESOLUTION_MS = 0.1;

function find(rows: readonly Row[], label: string): Row | undefined {
  return rows.find((r) => r.label === label);
}

function verdict(ok: boolean | null): Verdict {
  return ok === null ? 'n/a' : ok ? 'PASS' : 'FAIL';
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || b <= 0 ? null : a / b;
}

/**
 * A's max rps against B's: the median over rounds of the same round's ratio. The two ran
 * seconds apart within a round, while the machine's speed drifts between rounds (nginx on
 * this kind of VM switches between two speeds); a ratio of the two medians would compare
 * different rounds. Falls back to the ratio of the medians without per-round values.
 */
export function rpsRatio(a: Row | undefined, b: Row | undefined): number | null {
  const ra = a?.maxRpsByRound;
  const rb = b?.maxRpsByRound;
  if (ra !== undefined && rb !== undefined && ra.length === rb.length) {
    const sameRound = median(ra.map((x, i) => ratio(x, rb[i])));
    if (sameRound !== null) return sameRound;
  }
  return ratio(a?.maxRps, b?.maxRps);
}

/** The targets, checked against the weft, nginx and haproxy rows. */
export function checkTargets(http: readonly Row[], tcp: readonly Row[]): TargetCheck[] {
  const weft = find(http, 'weft');
  const nginx = find(http, 'nginx');
  const rps = rpsRatio(weft, nginx);
  const cpu = ratio(weft?.vcpuPer1000Rps, nginx?.vcpuPer1000Rps);
  const weftAdded = weft?.addedP99Ms ?? null;
  const nginxAdded = nginx?.addedP99Ms ?? null;
  const addedLimit = nginxAdded === null ? null : 1.5 * Math.max(nginxAdded, LATENCY_RESOLUTION_MS);
  const rss = weft?.peakRssMb ?? null;
  const tcpRatio = rpsRatio(find(tcp, 'weft'), find(tcp, 'haproxy'));
  return [
    {
      target: 'HTTP/1.1 max rps >= 0.8x nginx',
      measured: rps === null ? 'not measured' : `${fmtRatio(rps)} nginx`,
      verdict: verdict(rps === null ? null : rps >= 0.8),
    },
    {
      target: 'vCPU per 1000 rps <= 1.5x nginx',
      measured: cpu === null ? 'not measured' : `${fmtRatio(cpu)} nginx`,
      verdict: verdict(cpu === null ? null : cpu <= 1.5),
    },
    {
      target: 'added p99 @1000 rps <= 1.5x nginx',
      measured:
        weftAdded === null || addedLimit === null
          ? 'not measured'
          : `weft ${fmtMs(weftAdded)} ms vs limit ${fmtMs(addedLimit)} ms`,
      verdict: verdict(weftAdded === null || addedLimit === null ? null : weftAdded <= addedLimit),
    },
    {
      target: 'peak RSS <= 60 MB',
      measured: rss === null ? 'not measured' : `${fmtMb(rss)} MB`,
      verdict: verdict(rss === null ? null : rss <= 60),
    },
    {
      target: 'TCP max rps >= 0.9x haproxy',
      measured: tcpRatio === null ? 'not measured' : `${fmtRatio(tcpRatio)} haproxy`,
      verdict: verdict(tcpRatio === null ? null : tcpRatio >= 0.9),
    },
  ];
}

const DASH = '—';

function fmtRps(v: number | null): string {
  return v === null ? DASH : Math.round(v).toLocaleString('en-US');
}
function fmtMs(v: number | null): string {
  return v === null ? DASH : v.toFixed(2);
}
function fmtCpu(v: number | null): string {
  return v === null ? DASH : v.toFixed(3);
}
function fmtMb(v: number | null): string {
  return v === null ? DASH : v.toFixed(1);
}
function fmtRatio(v: number | null): string {
  return v === null ? DASH : `${v.toFixed(2)}x`;
}

const HEADER =
  '| proxy | max rps | p50 ms | p99 ms | added p50 ms | added p99 ms | vCPU/1000 rps | peak RSS MB |\n' +
  '|---|---:|---:|---:|---:|---:|---:|---:|';

function rowLine(r: Row): string {
  const rps = r.errors > 0 ? `${fmtRps(r.maxRps)} (${r.errors} err)` : fmtRps(r.maxRps);
  return `| ${r.label} | ${rps} | ${fmtMs(r.p50Ms)} | ${fmtMs(r.p99Ms)} | ${fmtMs(r.addedP50Ms)} | ${fmtMs(
    r.addedP99Ms,
  )} | ${fmtCpu(r.vcpuPer1000Rps)} | ${fmtMb(r.peakRssMb)} |`;
}

function ratioLine(label: string, a: Row | undefined, b: Row | undefined): string {
  const cols = [
    rpsRatio(a, b),
    ratio(a?.p50Ms, b?.p50Ms),
    ratio(a?.p99Ms, b?.p99Ms),
    ratio(a?.addedP50Ms, b?.addedP50Ms),
    ratio(a?.addedP99Ms, b?.addedP99Ms),
    ratio(a?.vcpuPer1000Rps, b?.vcpuPer1000Rps),
    ratio(a?.peakRssMb, b?.peakRssMb),
  ];
  return `| *${label}* | ${cols.map(fmtRatio).join(' | ')} |`;
}

/**
 * The ratio rows under a table: Weft against each peer, Weft against the bare Node relays,
 * and each relay against the peer its target names (how close Node's own sockets get to
 * the HTTP/1.1 and the L4 target).
 */
const RATIO_ROWS: readonly (readonly [string, string, string])[] = [
  ['Weft/nginx', 'weft', 'nginx'],
  ['Weft/haproxy', 'weft', 'haproxy'],
  ['Weft/node-http-relay', 'weft', 'node-http-relay'],
  ['node-http-relay/nginx', 'node-http-relay', 'nginx'],
  ['Weft/node-pipe', 'weft', 'node-pipe'],
  ['node-pipe/haproxy', 'node-pipe', 'haproxy'],
];

/** A markdown table with the ratio rows appended (when both sides were measured). */
export function renderTable(rows: readonly Row[]): string {
  const lines = [HEADER, ...rows.map(rowLine)];
  for (const [label, a, b] of RATIO_ROWS) {
    const rowA = find(rows, a);
    const rowB = find(rows, b);
    if (rowA && rowB) lines.push(ratioLine(label, rowA, rowB));
  }
  return lines.join('\n');
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly versions: Readonly<Record<string, string>>;
}

export interface ReportInput {
  readonly title: string;
  readonly date: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly method: string;
  readonly http: readonly Row[];
  readonly tcp: readonly Row[];
  readonly notes: readonly string[];
}

export function renderReport(input: ReportInput): string {
  const versions = Object.entries(input.machine.versions)
    .map(([name, v]) => `${name} ${v}`)
    .join(', ');
  const targets = checkTargets(input.http, input.tcp);
  const parts = [
    `### ${input.title}`,
    '',
    `- Date: ${input.date}`,
    `- Command: \`${input.command}\``,
    `- Machine: ${input.machine.cpus} vCPU (${input.machine.cpuModel}), Linux ${input.machine.kernel}`,
    `- Versions: ${versions}`,
    `- Method: ${input.method}`,
    '',
    '#### HTTP/1.1 (1 KiB response)',
    '',
    renderTable(input.http),
    '',
    '#### TCP (L4 proxy; HTTP/1.1 through it)',
    '',
    renderTable(input.tcp),
    '',
    '#### Targets',
    '',
    '| target | measured | result |',
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.verdict} |`),
  ];
  if (input.notes.length > 0) parts.push('', '#### Notes', '', ...input.notes.map((n) => `- ${n}`));
  return `${parts.join('\n')}\n`;
}

export const BEGIN_MARKER = '<!-- bench:begin -->';
export const END_MARKER = '<!-- bench:end -->';

/** Replaces what is between the bench markers in `doc`; throws if the markers are missing. */
export function replaceResults(doc: string, results: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) {
    throw new Error(`markers ${BEGIN_MARKER} … ${END_MARKER} not found (in that order)`);
  }
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n${results}${doc.slice(end)}`;
}
