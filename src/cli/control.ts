// `weft control`: runs the control plane (src/control/server/control-plane.ts assembles it:
// the durable store, Workload TTL leases, the REST API, the mesh translator and the xDS (ADS)
// server) until SIGTERM/SIGINT, then stops it cleanly: API closed, ADS streams ended with
// UNAVAILABLE (proxies keep their config and reconnect), final snapshot, lock released.

import { parseArgs } from 'node:util';
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from '../control/api/api-server.js';
import {
  DEFAULT_XDS_HOST,
  DEFAULT_XDS_PORT,
  type RunningControlPlane,
  startControlPlane,
} from '../control/server/control-plane.js';
import { ControlError } from '../control/store/control-error.js';
import { systemClock } from '../core/clock.js';
import { WeftError } from '../core/errors.js';
import { createLogger, type LogLevel } from '../core/logger.js';
import { releaseStartupPages } from '../core/resident-pages.js';
import { parseCommandLine } from './command-line.js';

const HELP = `Usage: weft control [--state-dir DIR] [--api-address HOST:PORT] [--xds-address HOST:PORT] [-l LEVEL]

Runs the Weft control plane: a durable resource store in DIR, the REST API (docs/api.md)
and the xDS server that proxies and proxyless gRPC clients connect to (docs/control.md).
Stop it with SIGTERM or Ctrl-C.

Options:
      --state-dir DIR          where resources are kept (default ./weft-state)
      --api-address HOST:PORT  API address (default ${DEFAULT_API_HOST}:${DEFAULT_API_PORT}; port 0 picks one)
      --xds-address HOST:PORT  xDS (ADS, gRPC) address (default ${DEFAULT_XDS_HOST}:${DEFAULT_XDS_PORT}; port 0 picks one)
  -l, --log-level LEVEL        debug, info (default), warn, error
  -h, --help                   this help
`;

export async function runControlCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(() => parse(args), HELP);
  if (parsed === null) return 0;
  const { values } = parsed;
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    throw new WeftError('WEFT_USAGE', `--log-level must be debug, info, warn or error, not '${level}'`);
  const [apiHost, apiPort] = parseHostPort(
    values['api-address'] ?? `${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`,
    '--api-address',
  );
  const [xdsHost, xdsPort] = parseHostPort(
    values['xds-address'] ?? `${DEFAULT_XDS_HOST}:${DEFAULT_XDS_PORT}`,
    '--xds-address',
  );
  const stateDir = values['state-dir'] ?? 'weft-state';
  const logger = createLogger(level);

  let plane: RunningControlPlane;
  try {
    plane = await startControlPlane({
      stateDir,
      clock: systemClock,
      logger,
      apiHost,
      apiPort,
      xdsHost,
      xdsPort,
    });
  } catch (err) {
    if (err instanceof ControlError) {
      process.stderr.write(`weft: error [${err.code}]: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const xds = plane.xdsAddress;
  process.stdout.write(`weft control: API listening on ${plane.apiUrl}\n`);
  process.stdout.write(
    `weft control: xDS listening on ${xds.host.includes(':') ? `[${xds.host}]` : xds.host}:${xds.port}\n`,
  );
  process.stdout.write(`weft control: state in ${stateDir} at revision ${plane.store.revision()}\n`);
  logger.info(releaseStartupPages());

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: stopping`);
      plane.stop().then(
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

export function parseHostPort(text: string, flag = '--api-address'): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port > 65535)
    throw new WeftError('WEFT_USAGE', `${flag} must be HOST:PORT (e.g. 127.0.0.1:15000), not '${text}'`);
  return [m[1] ?? (m[2] || DEFAULT_API_HOST), port];
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      'state-dir': { type: 'string' },
      'api-address': { type: 'string' },
      'xds-address': { type: 'string' },
      'log-level': { type: 'string', short: 'l' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}
