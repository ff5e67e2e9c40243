// The access logger: one configured access log (`access_log[i]`), i.e. its compiled
// format and filter (filter.ts) joined to its sink. The connection manager / TCP proxy calls `log(info)` once
// per finished request or connection; formatting straight into the sink's pending buffer
// is the only per-request work, the sink batches the I/O.

import type { AccessLog } from '../../config/model.js';
import type { ConfigIssue } from '../../core/errors.js';
import type { StreamInfo } from '../stream-info.js';
import { type AccessLogPredicate, compileAccessLogFilter } from './filter.js';
import { compileAccessLogFormat, type TextFormatter } from './formatter.js';
import { type AccessLogSink, createAccessLogSink, createDiscardSink, type SinkStreams } from './sinks.js';

export interface AccessLogger {
  /** Formats and queues one entry; call once per request / TCP connection at its end. */
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

  log(info: StreamInfo): void {
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
    this.sink.reopen();
  }

  close(): Promise<void> {
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
