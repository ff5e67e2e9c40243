// The messages between `npm run bench:control` (run.ts) and its ADS load process
// (ads-load.ts) over the fork IPC channel. Times are milliseconds of the system-wide
// monotonic clock (process.hrtime), so both processes' timestamps compare directly.

/** The first message to the load process. */
export interface LoadConfig {
  /** host:port of the ADS server. */
  readonly xdsAddress: string;
  /** One client per node id (`sidecar~<ns>~<workload>`). */
  readonly nodeIds: readonly string[];
  /** node.cluster sent by every client. */
  readonly cluster: string;
}

export type LoadCommand =
  /** Open every client (in batches); answered by `all-synced`. */
  | { readonly type: 'start' }
  /** Every client must lose its stream and sync on a new one; answered by `all-synced`. */
  | { readonly type: 'await-resync' }
  /** Record when each client next receives EDS `name`; `watch-armed`, then `watch-done`. */
  | { readonly type: 'watch'; readonly id: number; readonly name: string; readonly timeoutMs: number }
  | { readonly type: 'status' }
  | { readonly type: 'stop' };

export type LoadEvent =
  | { readonly type: 'hello' }
  /** `atMs`: when the last client synced; `attempts`: stream openings meanwhile. */
  | { readonly type: 'all-synced'; readonly atMs: number; readonly attempts: number }
  | { readonly type: 'watch-armed'; readonly id: number }
  /** One arrival time per client that received the update (fewer than N on timeout). */
  | { readonly type: 'watch-done'; readonly id: number; readonly arrivalsMs: readonly number[] }
  | { readonly type: 'status'; readonly synced: number; readonly total: number }
  | { readonly type: 'stopped' };

/** Monotonic milliseconds, comparable between processes on one machine. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
