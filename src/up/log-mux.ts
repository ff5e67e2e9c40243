// Many processes, one terminal: each child's stdout/stderr is cut into whole lines and
// written with an aligned, coloured name prefix (`reviews-v2-0  | listening on 41235`), so
// lines of different processes never interleave mid-line. No colour when the output is not a
// TTY or NO_COLOR is set (https://no-color.org). The last lines of each source are kept for
// "why is it not ready" reports.

import { StringDecoder } from 'node:string_decoder';

export interface LineSink {
  /** Feeds raw output; complete lines are written at once. */
  push(chunk: Buffer | string): void;
  /** Writes a final partial line, if any. */
  end(): void;
}

export interface LogSource {
  stdout: LineSink;
  stderr: LineSink;
  /** A line from weft up itself about this process (started, exited, restarting). */
  note(line: string): void;
  /** The last lines written for this source (both streams), oldest first. */
  lastLines(): string[];
}

export interface LogMux {
  source(name: string): LogSource;
  /** Pads prefixes to this many characters (the longest name known up front). */
  setWidth(width: number): void;
}

export interface LogMuxOptions {
  readonly out: NodeJS.WritableStream;
  readonly color: boolean;
  /** Lines kept per source for lastLines(); default 10. */
  readonly keepLines?: number;
}

// Distinct, readable on dark and light backgrounds; red is left for errors.
const PALETTE = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];
const MAX_LINE = 64 * 1024;

/** Colour only for a terminal, and never when NO_COLOR is set to a non-empty value. */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

export function createLogMux(options: LogMuxOptions): LogMux {
  const keep = options.keepLines ?? 10;
  let width = 0;
  let next = 0;
  return {
    setWidth(w) {
      width = Math.max(width, w);
    },
    source(name) {
      const colour = PALETTE[next++ % PALETTE.length]!;
      width = Math.max(width, name.length);
      const recent: string[] = [];
      const write = (line: string, isErr: boolean) => {
        recent.push(line);
        if (recent.length > keep) recent.shift();
        const label = name.padEnd(width);
        const prefix = options.color ? `\x1b[${colour}m${label} |\x1b[0m ` : `${label} | `;
        const body = isErr && options.color ? `\x1b[31m${line}\x1b[0m` : line;
        options.out.write(`${prefix}${body}\n`);
      };
      return {
        stdout: createLineSink((l) => write(l, false)),
        stderr: createLineSink((l) => write(l, false)),
        note: (l) => write(`[weft up] ${l}`, true),
        lastLines: () => [...recent],
      };
    },
  };
}

export function createLineSink(onLine: (line: string) => void): LineSink {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const take = (text: string) => {
    pending += text;
    let nl = pending.indexOf('\n');
    while (nl !== -1) {
      onLine(pending.slice(0, nl).replace(/\r$/, ''));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
    // A process that never ends its line must not grow memory without bound.
    while (pending.length > MAX_LINE) {
      onLine(pending.slice(0, MAX_LINE));
      pending = pending.slice(MAX_LINE);
    }
  };
  return {
    push(chunk) {
      take(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    },
    end() {
      take(decoder.end());
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}
