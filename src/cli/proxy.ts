// `weft proxy -c FILE` / `weft proxy --xds HOST:PORT --node ID`: runs the data plane on an
// Envoy v3 bootstrap file, on config from an xDS (ADS) control plane, or both. Flags follow
// Envoy's where Envoy has one (-c, --admin-address-path, --drain-time-s, --mode validate,
// -l/--log-level; --node/--cluster play --service-node/--service-cluster). SIGHUP and file
// changes reload; SIGTERM/SIGINT drain, then exit 0.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createDefaultHttpFilterRegistry } from '../config/http-filter-registry.js';
import {
  loadBootstrapFile,
  parseBootstrapDocument,
  validateBootstrapDocument,
} from '../config/load-bootstrap.js';
import { systemClock } from '../core/clock.js';
import { WeftError } from '../core/errors.js';
import { createLogger, type LogLevel } from '../core/logger.js';
import { releaseStartupPages } from '../core/resident-pages.js';
import { watchConfigFile } from '../proxy/config-watcher.js';
import { loadNativeRelay } from '../proxy/network/native-relay.js';
import { loadNativeSocketIo } from '../proxy/network/native-socket.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import {
  buildXdsBootstrap,
  type NodeLocality,
  overlayBootstrap,
  parseHostPort,
  parseLocality,
} from '../proxy/xds/xds-bootstrap.js';
import { parseCommandLine } from './command-line.js';

const HELP = `Usage: weft proxy -c FILE [options]
       weft proxy --xds HOST:PORT --node ID [options]

Runs the Weft proxy on an Envoy v3 bootstrap (YAML or JSON), on listeners and clusters
from an xDS control plane (ADS), or both. Unsupported fields are refused with their full
path; see docs/proxy.md.

Options:
  -c, --config-path FILE     the bootstrap file (required unless --xds is given)
      --xds HOST:PORT        get listeners and clusters (and their routes and endpoints)
                             over ADS from this control plane (gRPC, plaintext)
      --node ID              node.id sent to the control plane (required with --xds
                             unless the file sets node.id)
      --cluster NAME         node.cluster
      --node-metadata K=V    adds node.metadata.K = "V" (repeatable), e.g.
                             WEFT_OUTBOUND_PORT=15101 for a weft control plane
      --locality R[/Z[/S]]   node.locality: region, zone, sub-zone where this proxy
                             runs (zone-aware routing keeps traffic in its zone)
      --delta                use incremental xDS (DELTA_GRPC) instead of state of the world
      --admin-address A      admin listener for --xds without -c (default 127.0.0.1:0;
                             'none' for no admin)
      --mode serve|validate  validate: check the config and exit (0 valid, 1 invalid)
      --admin-address-path F write the bound admin address to F
      --drain-time-s N       how long draining connections may take (default 5)
      --no-watch             do not reload when the file changes (SIGHUP still reloads)
  -l, --log-level LEVEL      debug, info (default), warn, error
  -h, --help                 this help
`;

export async function runProxyCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(() => parse(args), HELP);
  if (parsed === null) return 0;
  const { values } = parsed;
  const configPath = values['config-path'];
  const server = values.xds;
  if (configPath === undefined && server === undefined) {
    throw new WeftError('WEFT_USAGE', `-c FILE or --xds HOST:PORT is required\n\n${HELP}`);
  }
  if (configPath === undefined && values.node === undefined) {
    throw new WeftError(
      'WEFT_USAGE',
      `--xds needs --node ID (the node id the control plane knows this proxy by)`,
    );
  }
  if (configPath !== undefined && values['admin-address'] !== undefined) {
    throw new WeftError(
      'WEFT_USAGE',
      '--admin-address applies only without -c (the file sets admin.address)',
    );
  }
  let bootstrap: unknown;
  let transformBootstrap: ((raw: unknown) => unknown) | undefined;
  try {
    if (server !== undefined) parseHostPort(server, '--xds');
    const nodeMetadata = parseNodeMetadata(values['node-metadata']);
    const nodeLocality: NodeLocality | undefined =
      values.locality === undefined ? undefined : parseLocality(values.locality, '--locality');
    if (configPath === undefined) {
      const admin = values['admin-address'] ?? '127.0.0.1:0';
      bootstrap = buildXdsBootstrap({
        server: server!,
        nodeId: values.node!,
        nodeCluster: values.cluster,
        nodeMetadata,
        nodeLocality,
        delta: values.delta,
        adminAddress: admin === 'none' ? undefined : admin,
      });
    } else if (
      server !== undefined ||
      values.node !== undefined ||
      values.cluster !== undefined ||
      nodeMetadata !== undefined ||
      nodeLocality !== undefined
    ) {
      const overlay = {
        server,
        delta: values.delta,
        nodeId: values.node,
        nodeCluster: values.cluster,
        nodeMetadata,
        nodeLocality,
      };
      transformBootstrap = (raw) => overlayBootstrap(raw, overlay);
    }
  } catch (err) {
    throw new WeftError('WEFT_USAGE', (err as Error).message);
  }
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
    const registry = createDefaultHttpFilterRegistry();
    if (configPath === undefined) validateBootstrapDocument(bootstrap, 'bootstrap (--xds)', registry);
    else if (transformBootstrap === undefined) await loadBootstrapFile(configPath, registry);
    else {
      const text = await readFile(configPath, 'utf8');
      validateBootstrapDocument(
        transformBootstrap(parseBootstrapDocument(text, configPath)),
        configPath,
        registry,
      );
    }
    process.stdout.write(`${configPath ?? 'bootstrap (--xds)'}: OK\n`);
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
  // tcp_proxy's native byte path (docs/native-core.md); JavaScript when it is not built.
  const native = loadNativeRelay();
  if (native.relay === null) logger.info(`tcp_proxy relays in JavaScript: ${native.reason}`);
  // HTTP/1.1 socket I/O in C (docs/native-core.md, stage 2); Node's sockets when not built.
  const nativeIo = loadNativeSocketIo();
  if (nativeIo.io === null)
    logger.info(`HTTP/1.1 sockets read and written in JavaScript: ${nativeIo.reason}`);
  proxy = await ProxyServer.start(
    {
      configPath,
      bootstrap,
      transformBootstrap,
      adminAddressPath: values['admin-address-path'],
      drainTimeMs: drainSeconds * 1000,
    },
    {
      clock: systemClock,
      logger,
      onExitRequested: () => exit('quitquitquit'),
      nativeRelay: native.relay,
      nativeIo: nativeIo.io,
      // Loaded only for a bootstrap with dynamic_resources (protobufjs and the Envoy protos).
      xds: { protos: async () => (await import('../xds/protos.js')).createProtoLoader().get() },
    },
  );
  const running = proxy;
  const reload = (why: string): void => {
    logger.info(`${why}: reloading ${configPath ?? 'the bootstrap'}`);
    void running.reload();
  };
  const watcher =
    values['no-watch'] || configPath === undefined
      ? null
      : watchConfigFile(configPath, () => reload('config file changed'));
  process.on('SIGHUP', () => reload('SIGHUP'));
  process.on('SIGTERM', () => exit('SIGTERM'));
  process.on('SIGINT', () => exit('SIGINT'));
  logger.info(
    `weft proxy running (${configPath === undefined ? `xDS ${server}` : `config ${configPath}`}, pid ${process.pid})`,
  );
  logger.info(releaseStartupPages());
  // Keep running until a signal: the listeners keep the event loop alive.
  await new Promise<never>(() => {});
  return 0;
}

/** `--node-metadata K=V` pairs; undefined when none were given. */
function parseNodeMetadata(pairs: string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--node-metadata expects KEY=VALUE, got '${pair}'`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      'config-path': { type: 'string', short: 'c' },
      xds: { type: 'string' },
      node: { type: 'string' },
      cluster: { type: 'string' },
      'node-metadata': { type: 'string', multiple: true },
      locality: { type: 'string' },
      delta: { type: 'boolean' },
      'admin-address': { type: 'string' },
      mode: { type: 'string' },
      'admin-address-path': { type: 'string' },
      'drain-time-s': { type: 'string' },
      'no-watch': { type: 'boolean' },
      'log-level': { type: 'string', short: 'l' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
