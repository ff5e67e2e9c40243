// `weft control`: runs the control plane — the durable embedded store, Workload TTL leases
// and the REST API — until SIGTERM/SIGINT, then stops cleanly (final snapshot, lock released).
// The xDS server and translator join this process later (issue 5).

import { parseArgs } from 'node:util';
import { createApiServer, DEFAULT_API_HOST, DEFAULT_API_PORT } from '../control/api/api-server.js';
import { createKindRegistry } from '../control/kinds/registry.js';
import { createServiceKind } from '../control/kinds/service.js';
import { createWorkloadKind } from '../control/kinds/workload.js';
import { ControlError } from '../control/store/control-error.js';
import { openFileStore } from '../control/store/file-store.js';
import { createWorkloadLeases } from '../control/store/workload-leases.js';
import { systemClock } from '../core/clock.js';
import { WeftError } from '../core/errors.js';
import { createLogger, type LogLevel } from '../core/logger.js';

const HELP = `Usage: weft control [--state-dir DIR] [--api-address HOST:PORT] [-l LEVEL]

Runs the Weft control plane: a durable resource store in DIR and the REST API
(docs/api.md). Stop it with SIGTERM or Ctrl-C.

Options:
      --state-dir DIR          where resources are kept (default ./weft-state)
      --api-address HOST:PORT  API address (default ${DEFAULT_API_HOST}:${DEFAULT_API_PORT}; port 0 picks one)
  -l, --log-level LEVEL        debug, info (default), warn, error
  -h, --help                   this help
`;

export async function runControlCommand(args: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(args).values;
  } catch (err) {
    throw new WeftError('WEFT_USAGE', `${(err as Error).message}\n\n${HELP}`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    throw new WeftError('WEFT_USAGE', `--log-level must be debug, info, warn or error, not '${level}'`);
  const [host, port] = parseHostPort(values['api-address'] ?? `${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`);
  const stateDir = values['state-dir'] ?? 'weft-state';
  const logger = createLogger(level);
  const clock = systemClock;
  const kinds = createKindRegistry([createServiceKind(), createWorkloadKind()]);

  let store: Awaited<ReturnType<typeof openFileStore>>;
  try {
    store = await openFileStore({ dir: stateDir, kinds, clock, logger });
  } catch (err) {
    if (err instanceof ControlError) {
      process.stderr.write(`weft: error [${err.code}]: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const leases = await createWorkloadLeases({ store, clock, logger });
  const api = createApiServer({ store, kinds, clock, logger, leases });
  let bound: Awaited<ReturnType<typeof api.listen>>;
  try {
    bound = await api.listen(port, host);
  } catch (err) {
    leases.close();
    await store.close();
    throw err;
  }
  process.stdout.write(`weft control: API listening on ${bound.url}\n`);
  process.stdout.write(`weft control: state in ${stateDir} at revision ${store.revision()}\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: stopping`);
      leases.close();
      api
        .close()
        .then(() => store.close())
        .then(
          () => {
            process.stdout.write('weft control: stopped\n');
            resolve(0);
          },
          (err: Error) => {
            logger.error(`shutdown failed: ${err.message}`);
            resolve(1);
          },
        );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

export function parseHostPort(text: string): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port > 65535)
    throw new WeftError(
      'WEFT_USAGE',
      `--api-address must be HOST:PORT (e.g. 127.0.0.1:15000), not '${text}'`,
    );
  return [m[1] ?? (m[2] || DEFAULT_API_HOST), port];
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      'state-dir': { type: 'string' },
      'api-address': { type: 'string' },
      'log-level': { type: 'string', short: 'l' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}
