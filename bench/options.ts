// Command-line options of `npm run bench -- [options]`, parsed once into a typed object.

import { PROXY_NAMES, type ProxyName } from './peers.js';

export interface BenchOptions {
  /** Seconds per load run (wrk and hey alike). */
  readonly durationS: number;
  /** Interleaved rounds; medians over rounds are reported. */
  readonly rounds: number;
  /** Proxies to measure (the direct baseline is always measured). */
  readonly only: readonly ProxyName[];
  /** Replace the results section of docs/benchmarks.md. */
  readonly write: boolean;
  /** Install missing tools with apt-get (root only). */
  readonly install: boolean;
  readonly quick: boolean;
  readonly help: boolean;
}

export const USAGE = `usage: npm run bench -- [options]

  --duration S      seconds per load run (default 10)
  --rounds N        interleaved rounds, medians reported (default 3)
  --only LIST       comma-separated subset of: ${PROXY_NAMES.join(',')} (default all)
  --quick           smoke test: 2 s per run, 1 round (explicit --duration/--rounds win)
  --write           replace the results section of docs/benchmarks.md
  --install         apt-get install the missing tools (must be root)
  --help            this text`;

/** Parses argv (without node and script); throws an Error with a usable message on bad input. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  let durationS: number | null = null;
  let rounds: number | null = null;
  let only: ProxyName[] = [...PROXY_NAMES];
  let write = false;
  let install = false;
  let quick = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--duration':
        durationS = positiveInt(flag, value());
        break;
      case '--rounds':
        rounds = positiveInt(flag, value());
        break;
      case '--only': {
        const names = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const unknown = names.filter((n) => !(PROXY_NAMES as readonly string[]).includes(n));
        if (unknown.length > 0 || names.length === 0) {
          throw new Error(
            `--only: unknown proxy ${unknown.join(',') || '(none)'}; choose from ${PROXY_NAMES.join(',')}`,
          );
        }
        only = PROXY_NAMES.filter((n) => names.includes(n));
        break;
      }
      case '--quick':
        quick = true;
        break;
      case '--write':
        write = true;
        break;
      case '--install':
        install = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  return {
    durationS: durationS ?? (quick ? 2 : 10),
    rounds: rounds ?? (quick ? 1 : 3),
    only,
    write,
    install,
    quick,
    help,
  };
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${text}`);
  return n;
}
