// The access logger: one configured access log (`access_log[i]`), i.e. its compiled
// format and filter (filter.ts) joined to its sink. The connection manager / TCP proxy
// calls `log(info)` once per finished request or connection.
//
// log() only queues the entry: the filter and the formatting run for all entries queued
// in one event-loop turn together, on the next turn (an Immediate), straight into the
// sink's pending buffer; the sink batches the I/O. Formatting Envoy's default format
// inline, between the socket events of each request, cost ~15 times what the same
// formatter costs in a loop; run as one batch per turn, the bench's resilient listener
// used ~12 µs less CPU per request (docs/benchmarks.md, "The tenth round").
// Entries wait one turn at most, so nothing more than that turn's finished requests is
// kept alive. A StreamInfo is never written after its log() call (the connection
// manager and TCP proxy finish with it first), so a deferred entry formats the same line.

import type { AccessLog } from '../../config/model.js';
import type { ConfigIssue } from '../../core/errors.js';
import type { StreamInfo } from '../stream-info.js';
import { type AccessLogPredicate, compileAccessLogFilter } from './filter.js';
import { compileAccessLogFormat, type TextFormatter } from './formatter.js';
import { type AccessLogSink, createAccessLogSink, createDiscardSink, type SinkStreams } from './sinks.js';

export interface AccessLogger {
  /**
   * Queues one entry, formatted on the next event-loop turn (or at reopen/close); call
   * once per request / TCP connection at its end, after the last write to `info`.
   */
  log(info: StreamInfo): void;
  /** Re-opens a file after rotation (admin `/reopen_logs`). */
  reopen(): void;
  /** Flushes and closes; resolves when everything queued is written. */
  close(): Promise<void>;
  readonly sink: AccessLogSink;
}

export interface AccessLoggerDeps extends SinkStreams {
  /** Value of %HOSTNAME%. */
  readonly hostname: string;
  /** Uniform in [0, 1), for runtime_filter sampling; default Math.random. */
  readonly random?: () => number;
}

class FormattingLogger implements AccessLogger {
  constructor(
    private readonly formatter: TextFormatter,
    readonly sink: AccessLogSink,
    /** The access log's `filter`; null = every request. */
    private readonly filter: AccessLogPredicate | null,
  ) {}

  /** Entries logged in this turn, filtered and formatted by flushQueue() on the next. */
  private queue: StreamInfo[] = [];
  private scheduled: NodeJS.Immediate | null = null;

  log(info: StreamInfo): void {
    this.queue.push(info);
    if (this.scheduled === null) this.scheduled = setImmediate(this.flushQueue);
  }

  /** Filters and formats every queued entry into the sink, in the order they were logged. */
  private readonly flushQueue = (): void => {
    if (this.scheduled !== null) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    for (let i = 0; i < queue.length; i++) this.format(queue[i]);
  };

  private format(info: StreamInfo): void {
    if (this.filter !== null && !this.filter(info)) return;
    const sink = this.sink;
    const w = sink.beginLine();
    if (w !== null) {
      this.formatter.formatInto(info, w);
      if (sink.endLine(w)) return;
    }
    // Closed or discarding (the sink counts the line), or the line did not fit: the
    // string path flushes first and takes lines longer than a whole buffer.
    sink.write(this.formatter.format(info));
  }

  reopen(): void {
    this.flushQueue();
    this.sink.reopen();
  }

  close(): Promise<void> {
    this.flushQueue();
    return this.sink.close();
  }
}

/**
 * Builds a logger from an access-log config at `path` (`...access_log[i]`): compiles
 * its format (issues under `${path}.typed_config.log_format`) and opens its sink. A
 * file that cannot be opened is an issue at `${path}.typed_config.path`; the logger
 * then discards, counting the loss in `sink.stats`.
 */
export function createAccessLogger(
  config: AccessLog,
  deps: AccessLoggerDeps,
  path: string,
  issues: ConfigIssue[],
): AccessLogger {
  const formatter = compileAccessLogFormat(config, path, issues, { hostname: deps.hostname });
  let sink: AccessLogSink;
  try {
    sink = createAccessLogSink(config.sink, deps);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    issues.push({ path: `${path}.typed_config.path`, message: `cannot open access log file: ${reason}` });
    sink = createDiscardSink();
  }
  const filter =
    config.filter === undefined ? null : compileAccessLogFilter(config.filter, deps.random ?? Math.random);
  return new FormattingLogger(formatter, sink, filter);
}
