// A small leveled logger for Weft's own operational messages (not access logs).
// Injected everywhere it is used; tests pass a logger that records lines.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** Writes `[time][level] msg` lines to a stream (stderr by default). */
export function createLogger(level: LogLevel = 'info', out: NodeJS.WritableStream = process.stderr): Logger {
  const min = LEVELS[level];
  const write = (lvl: LogLevel, msg: string): void => {
    if (LEVELS[lvl] < min) return;
    out.write(`[${new Date().toISOString()}][${lvl}] ${msg}\n`);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}

/** A logger that keeps lines in memory (tests). */
export function createMemoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}
