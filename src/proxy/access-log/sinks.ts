// Access-log sinks: stdout, stderr and append-mode files.
//
// Like Envoy's file access log (which buffers and flushes from a separate thread), a
// sink never makes a syscall per request: lines are encoded into one pending buffer and
// handed to the stream on the next event-loop turn, at most once per 20 ms under load,
// or at once when the next line would not fit in 64 KiB. The logger formats a line
// straight into the pending buffer (beginLine/endLine with a LineWriter, line-writer.ts),
// so no line is ever built as a string; write(line) takes a ready string (a line that
// did not fit, and tests). Lines are not kept as strings until the flush: a formatted line
// is a tree of string pieces, some of them slices of the request's header text, and
// keeping it for 20 ms made the GC carry every logged request's strings into the old
// generation (docs/benchmarks.md, "The resilience row"). A file sink reuses its buffers
// once the file has them. Write errors are counted, never thrown: a full disk must not
// take the proxy down. `reopen()` supports log rotation (Envoy's admin `/reopen_logs`).

import { accessSync, closeSync, constants, createWriteStream, existsSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import type { AccessLog } from '../../config/model.js';
import type { ConfigIssue } from '../../core/errors.js';
import { LineWriter } from './line-writer.js';

/** The pending buffer's size: a flush happens at once when the next line would not fit. */
const CHUNK_BYTES = 64 * 1024;
/** A flushed batch up to this size is copied out of the pending buffer, which is then reused. */
const COPY_OUT_MAX_BYTES = 16 * 1024;
/** Written buffers a file sink keeps for reuse. */
const SPARE_BUFFERS = 2;
/**
 * At most one write per this many ms while lines keep coming: under load a write per event
 * loop turn (a syscall on the thread pool and a callback each) cost more than formatting
 * the lines. A line after a quiet period still goes out on the next turn. (Envoy buffers
 * up to `file_flush_interval`, 1 s by default; a shorter bound keeps logs near real time.)
 */
const MIN_FLUSH_INTERVAL_MS = 20;
/** If the stream itself has this much unwritten data, new batches are dropped (and counted). */
const MAX_STREAM_BACKLOG = 16 * 1024 * 1024;

export interface AccessLogSinkStats {
  /** Failed writes/opens. */
  readonly writeErrors: number;
  /** Lines discarded: stream broken or too far behind, or written after close. */
  readonly droppedLines: number;
  /** Batches handed to the stream. */
  readonly flushes: number;
}

export interface AccessLogSink {
  /** Queues one complete line (including its newline, if the format has one). */
  write(line: string): void;
  /**
   * A writer at the end of the pending buffer for one line, or null when the sink takes
   * no lines this way (closed, discarding). Pass it to endLine() when the line is written.
   */
  beginLine(): LineWriter | null;
  /** Queues the line written since beginLine(); false (nothing queued) if it overflowed. */
  endLine(w: LineWriter): boolean;
  /** Flushes, then re-opens a file sink's path (after rotation). No-op for stdout/stderr. */
  reopen(): void;
  /** Flushes everything queued and closes a file; resolves when the data is written. */
  close(): Promise<void>;
  readonly stats: AccessLogSinkStats;
}

/** Streams for stdout/stderr sinks; injected in tests. Defaults to the process's. */
export interface SinkStreams {
  readonly stdout?: Writable;
  readonly stderr?: Writable;
}

class BatchingSink implements AccessLogSink {
  /** Encoded lines not yet handed to the stream: pending[0, pendingBytes). */
  private pending: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private pendingBytes = 0;
  private pendingLines = 0;
  private readonly writer = new LineWriter(this.pending);
  /** File sinks: written buffers ready for reuse. */
  private readonly spare: Buffer[] = [];
  /** The pending flush: on the next turn (an Immediate) or after the interval (a Timeout). */
  private scheduled: NodeJS.Immediate | null = null;
  private scheduledTimer: NodeJS.Timeout | null = null;
  private lastFlushAt = 0;
  private closed = false;
  private stream: Writable;
  private readonly counts = { writeErrors: 0, droppedLines: 0, flushes: 0 };

  // Bound once, so the per-batch paths allocate no closures.
  private readonly onImmediate = (): void => {
    this.scheduled = null;
    this.scheduledTimer = null;
    this.flush();
  };
  private readonly onWritten = (err?: Error | null): void => {
    if (err) this.counts.writeErrors++;
  };
  // A stream 'error' with no listener would crash the process; the failure itself is
  // counted in onWritten (or at open), so this only has to exist.
  private readonly onStreamError = (): void => {};

  constructor(
    stream: Writable,
    /** Set for file sinks: the path to (re)open. */
    private readonly filePath: string | null,
  ) {
    this.stream = stream;
    stream.on('error', this.onStreamError);
  }

  get stats(): AccessLogSinkStats {
    return this.counts;
  }

  write(line: string): void {
    if (this.closed) {
      this.counts.droppedLines++;
      return;
    }
    if (this.append(line)) return;
    this.flush();
    if (this.append(line)) return;
    // A line longer than a whole buffer goes out on its own.
    this.hand(Buffer.from(line, 'utf8'), 1, null);
  }

  /** Appends a ready line to the pending buffer; false (nothing added) if it does not fit. */
  private append(line: string): boolean {
    const w = this.writer;
    w.reset(this.pending, this.pendingBytes, CHUNK_BYTES);
    w.text(line);
    return this.endLine(w);
  }

  beginLine(): LineWriter | null {
    if (this.closed) return null;
    const w = this.writer;
    w.reset(this.pending, this.pendingBytes, CHUNK_BYTES);
    return w;
  }

  endLine(w: LineWriter): boolean {
    if (w.overflow) return false;
    this.pendingBytes = w.pos;
    this.queued();
    return true;
  }

  /** A line was added to the pending buffer: count it and make sure a flush is coming. */
  private queued(): void {
    this.pendingLines++;
    if (this.scheduled === null && this.scheduledTimer === null) {
      const wait = this.lastFlushAt + MIN_FLUSH_INTERVAL_MS - performance.now();
      if (wait <= 0) this.scheduled = setImmediate(this.onImmediate);
      else this.scheduledTimer = setTimeout(this.onImmediate, wait).unref();
    }
  }

  private flush(): void {
    if (this.scheduled !== null) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    if (this.scheduledTimer !== null) {
      clearTimeout(this.scheduledTimer);
      this.scheduledTimer = null;
    }
    this.lastFlushAt = performance.now();
    if (this.pendingLines === 0) return;
    // The stream keeps what it is given until it is written. A file sink hands over the
    // whole buffer and gets it back for reuse once the file has the bytes. Other streams
    // (stdout, stderr, or a test's) may hold on to a chunk after their callback: a small
    // batch is copied out and the buffer reused, a big one is given away for good.
    const lines = this.pendingLines;
    const full = this.pending.subarray(0, this.pendingBytes);
    this.pendingBytes = 0;
    this.pendingLines = 0;
    if (this.filePath !== null) {
      const written = this.pending;
      this.pending = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
      this.hand(full, lines, written);
    } else if (full.length <= COPY_OUT_MAX_BYTES) {
      this.hand(Buffer.from(full), lines, null);
    } else {
      this.pending = Buffer.allocUnsafe(CHUNK_BYTES);
      this.hand(full, lines, null);
    }
  }

  /**
   * Hands `data` (`lines` lines) to the stream, or counts them dropped. `reuse` is a
   * pending buffer to keep as a spare once the stream is done with it.
   */
  private hand(data: Buffer, lines: number, reuse: Buffer | null): void {
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded || stream.writableLength > MAX_STREAM_BACKLOG) {
      this.counts.droppedLines += lines;
      this.keepSpare(reuse);
      return;
    }
    this.counts.flushes++;
    if (reuse === null) stream.write(data, this.onWritten);
    else {
      // One closure per batch (not per line), so the buffer comes back to this sink.
      stream.write(data, (err?: Error | null) => {
        this.onWritten(err);
        this.keepSpare(reuse);
      });
    }
  }

  private keepSpare(buf: Buffer | null): void {
    if (buf !== null && this.spare.length < SPARE_BUFFERS) this.spare.push(buf);
  }

  reopen(): void {
    if (this.filePath === null || this.closed) return;
    this.flush();
    let next: Writable;
    try {
      next = openAppendStream(this.filePath);
    } catch {
      // Keep writing to the old file rather than losing lines.
      this.counts.writeErrors++;
      return;
    }
    const old = this.stream;
    old.end(() => old.off('error', this.onStreamError));
    next.on('error', this.onStreamError);
    this.stream = next;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flush();
    this.closed = true;
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('error', this.onStreamError);
        resolve();
      };
      // A file is ours to end; stdout/stderr are shared, so only wait for our writes
      // (a write callback runs after every earlier write on the stream has completed).
      if (this.filePath !== null) stream.end(done);
      else stream.write('', done);
    });
  }
}

/** Opens `path` for appending (created if missing) synchronously, so failures surface at config time. */
function openAppendStream(path: string): Writable {
  const fd = openSync(path, 'a');
  try {
    return createWriteStream(path, { fd, autoClose: true });
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Creates a sink. A file sink opens its path now (append mode, created if missing) and
 * throws the fs error if it cannot; `/dev/stdout` and `/dev/stderr` map to the
 * process streams, as Envoy configs often use them.
 */
export function createAccessLogSink(sink: AccessLog['sink'], streams: SinkStreams = {}): AccessLogSink {
  const stdout = streams.stdout ?? process.stdout;
  const stderr = streams.stderr ?? process.stderr;
  if (sink.kind === 'stdout') return new BatchingSink(stdout, null);
  if (sink.kind === 'stderr') return new BatchingSink(stderr, null);
  if (sink.path === '/dev/stdout') return new BatchingSink(stdout, null);
  if (sink.path === '/dev/stderr') return new BatchingSink(stderr, null);
  return new BatchingSink(openAppendStream(sink.path), sink.path);
}

/**
 * A sink that discards everything, for a file that could not be opened: the open
 * failure counts as one write error and every line as dropped, so the loss shows in stats.
 */
export function createDiscardSink(): AccessLogSink {
  const counts = { writeErrors: 1, droppedLines: 0, flushes: 0 };
  return {
    write() {
      counts.droppedLines++;
    },
    beginLine: () => null,
    endLine: () => false,
    reopen() {},
    close: () => Promise.resolve(),
    stats: counts,
  };
}

/**
 * Config-time check that a file sink's path can be opened for appending, without
 * creating it (so `weft check` leaves no files behind): the file must be writable, or
 * be absent in a writable directory. Problems go to `issues` at `${path}.typed_config.path`.
 */
export function validateAccessLogSink(sink: AccessLog['sink'], path: string, issues: ConfigIssue[]): void {
  if (sink.kind !== 'file' || sink.path === '/dev/stdout' || sink.path === '/dev/stderr') return;
  const file = sink.path;
  try {
    if (existsSync(file)) accessSync(file, constants.W_OK);
    else accessSync(dirname(file), constants.W_OK | constants.X_OK);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    issues.push({
      path: `${path}.typed_config.path`,
      message: `cannot open access log file for appending: ${reason}`,
    });
  }
}
