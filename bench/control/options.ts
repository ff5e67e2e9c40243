// Command-line options of `npm run bench:control -- [options]`, parsed once into a typed object.

export interface ControlBenchOptions {
  /** Simulated ADS clients (sidecars). */
  readonly clients: number;
  readonly services: number;
  readonly workloadsPerService: number;
  /** Workload changes whose EDS push is timed. */
  readonly changes: number;
  /** Run the reconnect storm (off: the first control plane exits cleanly, e.g. to write a --cpu-prof of the changes). */
  readonly storm: boolean;
  /** Replace the control-plane section of docs/benchmarks.md. */
  readonly write: boolean;
  readonly help: boolean;
}

export const USAGE = `usage: npm run bench:control -- [options]

  --clients N       simulated ADS clients, one sidecar each (default 2000)
  --services N      Services applied (default 1000)
  --workloads N     Workloads per Service (default 4)
  --changes N       Workload changes timed to EDS delivery (default 10)
  --no-storm        skip the reconnect storm (a profile then covers setup and changes)
  --write           replace the "Control plane at scale" results in docs/benchmarks.md
  --help            this text`;

/** Parses argv (without node and script); throws an Error with a usable message on bad input. */
export function parseControlOptions(argv: readonly string[]): ControlBenchOptions {
  const out = {
    clients: 2000,
    services: 1000,
    workloadsPerService: 4,
    changes: 10,
    storm: true,
    write: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--clients':
        out.clients = positiveInt(flag, value());
        break;
      case '--services':
        out.services = positiveInt(flag, value());
        break;
      case '--workloads':
        out.workloadsPerService = positiveInt(flag, value());
        break;
      case '--changes':
        out.changes = positiveInt(flag, value());
        break;
      case '--no-storm':
        out.storm = false;
        break;
      case '--write':
        out.write = true;
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      default:
        throw new Error(`unknown option '${arg}'`);
    }
  }
  if (out.write && !out.storm)
    throw new Error('--write needs the storm: it records every target (drop --no-storm)');
  if (out.workloadsPerService < 2)
    throw new Error('--workloads must be at least 2 (one is removed and re-added)');
  return out;
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got '${text}'`);
  return n;
}
