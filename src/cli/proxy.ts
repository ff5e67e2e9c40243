// `weft proxy -c FILE`: runs the data plane on an Envoy v3 bootstrap file. Flags follow
// Envoy's where Envoy has one (-c, --admin-address-path, --drain-time-s, --mode validate,
// -l/--log-level). SIGHUP and file changes reload; SIGTERM/SIGINT drain, then exit 0.

import { parseArgs } from 'node:util';
import { createDefaultHttpFilterRegistry } from '../config/http-filter-registry.js';
import { loadBootstrapFile } from '../config/load-bootstrap.js';
import { systemClock } from '../core/clock.js';
import { WeftError } from '../core/errors.js';
import { createLogger, type LogLevel } from '../core/logger.js';
import { watchConfigFile } from '../proxy/config-watcher.js';
import { ProxyServer } from '../proxy/proxy-server.js';

const HELP = `Usage: weft proxy -c FILE [options]

Runs the Weft proxy on an Envoy v3 bootstrap (YAML or JSON). Unsupported fields are
refused with their full path; see docs/proxy.md.

Options:
  -c, --config-path FILE     the bootstrap file (required)
      --mode serve|validate  validate: check the config and exit (0 valid, 1 invalid)
      --admin-address-path F write the bound admin address to F
      --drain-time-s N       how long draining connections may take (default 5)
      --no-watch             do not reload when the file changes (SIGHUP still reloads)
  -l, --log-level LEVEL      debug, info (default), warn, error
  -h, --help                 this help
`;

export async function runProxyCommand(args: string[]): Promise<number> {
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
  const configPath = values['config-path'];
  if (configPath === undefined) throw new WeftError('WEFT_USAGE', `-c FILE is required\n\n${HELP}`);
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw new WeftError('WEFT_USAGE', `--log-level must be debug, info, warn or error, not '${level}'`);
  }
  const drainSeconds = Number(values['drain-time-s'] ?? '5');
  if (!Number.isFinite(drainSeconds) || drainSeconds < 0) {
    throw new WeftError(
      'WEFT_USAGE',
      `--drain-time-s must be a non-negative number, not '${values['drain-time-s']}'`,
    );
  }
  const logger = createLogger(level);

  if (values.mode === 'validate') {
    await loadBootstrapFile(configPath, createDefaultHttpFilterRegistry());
    process.stdout.write(`${configPath}: OK\n`);
    return 0;
  }
  if (values.mode !== undefined && values.mode !== 'serve') {
    throw new WeftError('WEFT_USAGE', `--mode must be serve or validate, not '${values.mode}'`);
  }

  let exiting = false;
  let proxy: ProxyServer | null = null;
  const exit = (signal: string): void => {
    if (exiting || proxy === null) return;
    exiting = true;
    logger.info(`${signal}: draining, then exiting`);
    watcher?.close();
    proxy.shutdown().then(
      () => {
        logger.info('drained; exiting');
        process.exit(0);
      },
      (err: Error) => {
        logger.error(`shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  proxy = await ProxyServer.start(
    { configPath, adminAddressPath: values['admin-address-path'], drainTimeMs: drainSeconds * 1000 },
    { clock: systemClock, logger, onExitRequested: () => exit('quitquitquit') },
  );
  const running = proxy;
  const reload = (why: string): void => {
    logger.info(`${why}: reloading ${configPath}`);
    void running.reload();
  };
  const watcher = values['no-watch']
    ? null
    : watchConfigFile(configPath, () => reload('config file changed'));
  process.on('SIGHUP', () => reload('SIGHUP'));
  process.on('SIGTERM', () => exit('SIGTERM'));
  process.on('SIGINT', () => exit('SIGINT'));
  logger.info(`weft proxy running (config ${configPath}, pid ${process.pid})`);
  // Keep running until a signal: the listeners keep the event loop alive.
  await new Promise<never>(() => {});
  return 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      'config-path': { type: 'string', short: 'c' },
      mode: { type: 'string' },
      'admin-address-path': { type: 'string' },
      'drain-time-s': { type: 'string' },
      'no-watch': { type: 'boolean' },
      'log-level': { type: 'string', short: 'l' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
