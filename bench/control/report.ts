// The markdown report of `npm run bench:control` and its place in docs/benchmarks.md
// (between the bench-control markers, apart from the proxy results). Pure functions.

export interface ControlMachine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly node: string;
}

/** One timed Workload change. */
export interface ChangeResult {
  readonly what: string;
  /** Delivery latency per client that got the update, ms. */
  readonly latenciesMs: readonly number[];
  readonly expected: number;
}

export interface StormResult {
  /** SIGKILL to the restarted control plane printing its xDS address. */
  readonly restartMs: number;
  /** From the restarted control plane's readiness to the last client re-synced; null if not all did. */
  readonly resyncFromReadyMs: number | null;
  readonly resyncFromKillMs: number | null;
  /** Stream openings by all clients from the kill to the end. */
  readonly attempts: number;
  readonly peakRssMb: number;
  readonly peakCpuPct: number;
}

export interface ControlBenchReport {
  readonly date: string;
  readonly command: string;
  readonly machine: ControlMachine;
  readonly clients: number;
  readonly services: number;
  readonly workloadsPerService: number;
  readonly applyMs: number;
  readonly initialSyncMs: number | null;
  readonly changes: readonly ChangeResult[];
  readonly steadyRssMb: number;
  readonly steadyCpuPct: number;
  readonly peakRssMb: number;
  readonly peakCpuPct: number;
  readonly loadPeakRssMb: number;
  readonly storm: StormResult | null;
  readonly notes: readonly string[];
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

const DASH = '—';
function ms(v: number | null): string {
  return v === null ? DASH : `${Math.round(v).toLocaleString('en-US')} ms`;
}
function secs(v: number | null): string {
  return v === null ? DASH : `${(v / 1000).toFixed(1)} s`;
}
function verdict(ok: boolean | null): string {
  return ok === null ? 'n/a' : ok ? 'PASS' : 'FAIL';
}

export function renderControlReport(r: ControlBenchReport): string {
  const all = r.changes.flatMap((c) => c.latenciesMs);
  const missed = r.changes.reduce((n, c) => n + (c.expected - c.latenciesMs.length), 0);
  const reachAll = r.changes.map((c) =>
    c.latenciesMs.length === c.expected ? Math.max(...c.latenciesMs) : null,
  );
  const complete = reachAll.filter((v): v is number => v !== null);
  const p50 = percentile(all, 50);
  const p90 = percentile(all, 90);
  const p99 = percentile(all, 99);
  const p90Ok = p90 === null ? null : missed === 0 && p90 <= 1000;
  const p99Ok = p99 === null ? null : missed === 0 && p99 <= 2000;
  const storm = r.storm;
  const stormOk = storm === null ? null : storm.resyncFromKillMs !== null && storm.resyncFromKillMs < 30_000;
  const peakRss = Math.max(r.peakRssMb, storm?.peakRssMb ?? 0);
  const lines = [
    '### Latest results',
    '',
    `- Date: ${r.date}`,
    `- Command: \`${r.command}\``,
    `- Machine: ${r.machine.cpus} vCPU (${r.machine.cpuModel}), Linux ${r.machine.kernel}, node ${r.machine.node}`,
    `- Mesh: ${r.services} Services × ${r.workloadsPerService} Workloads, one namespace; ${r.clients} SotW ADS clients ` +
      `(sidecar~bench~<workload>, one gRPC connection each) in one load process on the same machine`,
    `- Setup: applies took ${ms(r.applyMs)}; all ${r.clients} clients synced (CDS, LDS, RDS, EDS) ` +
      `${secs(r.initialSyncMs)} after the first connected (opened 100 per 100 ms)`,
    '',
    '#### Workload change → EDS at every client',
    '',
    `${r.changes.length} changes (delete, then re-add, one Workload of one Service; every sidecar holds that Service's EDS). ` +
      'Latency = from just before the API call to the client reading the EDS response; it includes the store fsync, ' +
      'the mesh rebuild and the ADS debounce (100 ms quiet, 1 s max).',
    '',
    '| | p50 | p90 | p99 | max |',
    '|---|---:|---:|---:|---:|',
    `| per client delivery (${all.length} deliveries${missed > 0 ? `, ${missed} missed` : ''}) | ${ms(p50)} | ${ms(p90)} | ${ms(p99)} | ${ms(percentile(all, 100))} |`,
    `| last client of a change (${complete.length}/${r.changes.length} changes reached all) | ${ms(percentile(complete, 50))} | ${ms(percentile(complete, 90))} | ${ms(percentile(complete, 99))} | ${ms(percentile(complete, 100))} |`,
    '',
    '#### Control-plane process (from /proc)',
    '',
    '| | RSS | CPU (% of one core) |',
    '|---|---:|---:|',
    `| steady state (${r.clients} clients connected, no changes) | ${r.steadyRssMb.toFixed(0)} MB | ${r.steadyCpuPct.toFixed(1)}% |`,
    `| peak during setup and changes (1 s windows) | ${r.peakRssMb.toFixed(0)} MB | ${r.peakCpuPct.toFixed(0)}% |`,
    storm
      ? `| peak during the reconnect storm | ${storm.peakRssMb.toFixed(0)} MB | ${storm.peakCpuPct.toFixed(0)}% |`
      : '',
    '',
    `The load process peaked at ${r.loadPeakRssMb.toFixed(0)} MB RSS.`,
    '',
    '#### Reconnect storm (SIGKILL, restart on the same state dir and port)',
    '',
    storm
      ? [
          '| | time |',
          '|---|---:|',
          `| kill → restarted control plane serving xDS | ${secs(storm.restartMs)} |`,
          `| serving → all ${r.clients} clients re-synced | ${secs(storm.resyncFromReadyMs)} |`,
          `| kill → all re-synced | ${secs(storm.resyncFromKillMs)} |`,
          `| stream openings meanwhile | ${storm.attempts.toLocaleString('en-US')} |`,
        ].join('\n')
      : 'Not measured.',
    '',
    '#### Targets',
    '',
    '| target | measured | result |',
    '|---|---|---|',
    `| EDS push p90 <= 1 s | ${ms(p90)}${missed > 0 ? ` (${missed} deliveries missed)` : ''} | ${verdict(p90Ok)} |`,
    `| EDS push p99 <= 2 s | ${ms(p99)} | ${verdict(p99Ok)} |`,
    `| control-plane RSS <= 1 GiB | peak ${peakRss.toFixed(0)} MB | ${verdict(peakRss <= 1024)} |`,
    `| storm convergence < 30 s | ${storm ? secs(storm.resyncFromKillMs) : DASH} (kill → all re-synced) | ${verdict(stormOk)} |`,
  ];
  if (r.notes.length > 0) lines.push('', '#### Notes', '', ...r.notes.map((n) => `- ${n}`));
  return `${lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n')}\n`;
}

export const CONTROL_BEGIN_MARKER = '<!-- bench-control:begin -->';
export const CONTROL_END_MARKER = '<!-- bench-control:end -->';

/** Replaces what is between the bench-control markers in `doc`; throws if they are missing. */
export function replaceControlResults(doc: string, results: string): string {
  const begin = doc.indexOf(CONTROL_BEGIN_MARKER);
  const end = doc.indexOf(CONTROL_END_MARKER);
  if (begin < 0 || end < begin) {
    throw new Error(`markers ${CONTROL_BEGIN_MARKER} … ${CONTROL_END_MARKER} not found (in that order)`);
  }
  return `${doc.slice(0, begin + CONTROL_BEGIN_MARKER.length)}\n${results}${doc.slice(end)}`;
}
