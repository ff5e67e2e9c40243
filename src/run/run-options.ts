// The command line of `weft run`: parsed and validated once, at the edge, into a frozen
// RunOptions. Everything after the first `--` is the command to run; without one (and
// with --attach) weft run fronts an app that already listens on --port. What each flag
// means is in docs/run.md.

import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { resolveControlUrl } from '../cli/control-client.js';
import { WeftError } from '../core/errors.js';
import type { WorkloadProtocol } from '../up/mesh-file.js';

export const RUN_HELP = `Usage: weft run --service NAME --port PORT --xds HOST:PORT [options] -- COMMAND [ARGS...]
       weft run --attach --service NAME --port PORT --xds HOST:PORT [options]

Runs COMMAND with a weft proxy sidecar on this host or VM: registers a Workload with the
control plane (renewed by heartbeats, deleted on exit), passes PORT and the upstream URLs
to the command, forwards SIGINT/SIGTERM to it, and exits with its status. With --attach,
fronts an app that already listens on PORT until SIGINT/SIGTERM. See docs/run.md.

Options:
      --control URL          control plane API (default $WEFT_CONTROL or http://127.0.0.1:15000)
      --xds HOST:PORT        the control plane's xDS address, as the sidecar reaches it (required)
      --service NAME         the Service this Workload belongs to (required; must exist
                             unless --create-service)
      --port PORT            where the app listens (on 127.0.0.1 or all interfaces); the
                             command gets it as $PORT (required)
  -n, --namespace NS         namespace (default "default")
      --name NAME            the Workload's name (default <service>-<hostname>, with a random
                             suffix if that name is taken)
      --labels K=V,...       Workload labels (default app=<service>)
      --locality REGION[/ZONE]
      --address ADDRESS      where the mesh reaches this host (default 127.0.0.1; on a VM pass
                             an address other hosts can reach)
      --inbound-port PORT    the sidecar's inbound port, the Workload's port (default: a free one)
      --upstreams SVC,...    services the app calls: each gets a local port, passed as
                             $WEFT_UPSTREAM_<SVC>_URL
      --ttl SECONDS          Workload TTL, renewed every ttl/3 (default 15)
      --port-name NAME       the Service port name the Workload serves (default: the Service's
                             only port, else "http")
      --create-service       create the Service if it does not exist (selector
                             weft.dev/service=<service>, port 80 named after --protocol)
      --protocol P           HTTP (default), HTTP2, GRPC or TCP, for --create-service
      --attach               no COMMAND: the app already runs
  -h, --help                 this help
`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PROTOCOLS: readonly WorkloadProtocol[] = ['HTTP', 'HTTP2', 'GRPC', 'TCP'];
export const DEFAULT_TTL_SECONDS = 15;

export interface RunOptions {
  readonly controlUrl: string;
  readonly xdsAddress: string;
  readonly service: string;
  readonly namespace: string;
  readonly appPort: number;
  /** undefined: `<service>-<hostname>`, made unique. */
  readonly name: string | undefined;
  /** The user's labels (no `weft.dev/` keys). */
  readonly labels: Readonly<Record<string, string>>;
  readonly locality: { readonly region: string; readonly zone?: string } | undefined;
  readonly address: string;
  readonly inboundPort: number | undefined;
  readonly upstreams: readonly string[];
  readonly ttlSeconds: number;
  readonly portName: string | undefined;
  readonly createService: boolean;
  readonly protocol: WorkloadProtocol;
  readonly attach: boolean;
  /** Empty with --attach. */
  readonly command: readonly string[];
}

/** Parses argv (after `run`); null when --help was printed. Throws WEFT_USAGE listing every problem. */
export function parseRunOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream,
): RunOptions | null {
  const dashes = argv.indexOf('--');
  const flags = dashes === -1 ? [...argv] : argv.slice(0, dashes);
  const command = dashes === -1 ? [] : argv.slice(dashes + 1);
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(flags);
  } catch (err) {
    throw usage([(err as Error).message]);
  }
  const v = parsed.values;
  if (v.help) {
    out.write(RUN_HELP);
    return null;
  }
  const problems: string[] = [];
  if (parsed.positionals.length > 0)
    problems.push(`unexpected '${parsed.positionals[0]}': put the command after --, e.g. -- node app.js`);
  const attach = v.attach === true;
  if (attach && command.length > 0) problems.push('--attach takes no COMMAND (the app already runs)');
  if (!attach && command.length === 0) problems.push('a COMMAND after -- is required (or --attach)');
  const service = required(v.service, '--service', problems);
  if (service !== undefined && !DNS_LABEL.test(service))
    problems.push(`--service: '${service}' is not a DNS label (a-z, 0-9, '-')`);
  const namespace = v.namespace ?? 'default';
  if (!DNS_LABEL.test(namespace)) problems.push(`--namespace: '${namespace}' is not a DNS label`);
  const appPort = port(required(v.port, '--port', problems), '--port', problems);
  const xds = required(
    v.xds,
    '--xds',
    problems,
    ' (the control plane does not publish it; `weft control` prints it)',
  );
  if (xds !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(xds))
    problems.push(`--xds: expected HOST:PORT, got '${xds}'`);
  const inboundPort =
    v['inbound-port'] === undefined ? undefined : port(v['inbound-port'], '--inbound-port', problems);
  const ttlSeconds = v.ttl === undefined ? DEFAULT_TTL_SECONDS : Number(v.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 3 || ttlSeconds > 86_400)
    problems.push(`--ttl: expected whole seconds from 3 to 86400, got '${v.ttl}'`);
  const labels = parseLabels(v.labels, problems);
  const upstreams = list(v.upstreams);
  for (const u of upstreams)
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/.test(u))
      problems.push(`--upstreams: '${u}' is not a service name (NAME or NAME.NAMESPACE)`);
  if (new Set(upstreams).size !== upstreams.length) problems.push('--upstreams: a service is named twice');
  const protocol = (v.protocol ?? 'HTTP').toUpperCase() as WorkloadProtocol;
  if (!PROTOCOLS.includes(protocol))
    problems.push(`--protocol: must be one of ${PROTOCOLS.join(', ')}, got '${v.protocol}'`);
  if (v.protocol !== undefined && v['create-service'] !== true)
    problems.push('--protocol applies only with --create-service (an existing Service says its protocol)');
  const address = v.address ?? '127.0.0.1';
  if (address === '' || /[\s/[\]]/.test(address)) problems.push(`--address: '${address}' is not an address`);
  if (v.name !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v.name))
    problems.push(`--name: '${v.name}' is not a DNS subdomain`);
  if (v['port-name'] !== undefined && !DNS_LABEL.test(v['port-name']))
    problems.push(`--port-name: '${v['port-name']}' is not a DNS label`);
  let locality: RunOptions['locality'];
  if (v.locality !== undefined) {
    const [region, zone, ...rest] = v.locality.split('/');
    if (region === undefined || region === '' || zone === '' || rest.length > 0)
      problems.push(`--locality: expected REGION or REGION/ZONE, got '${v.locality}'`);
    else locality = zone === undefined ? { region } : { region, zone };
  }
  if (problems.length > 0) throw usage(problems);
  return Object.freeze({
    controlUrl: resolveControlUrl(v.control, env),
    xdsAddress: xds!,
    service: service!,
    namespace,
    appPort: appPort!,
    name: v.name,
    labels,
    locality,
    address,
    inboundPort,
    upstreams,
    ttlSeconds,
    portName: v['port-name'],
    createService: v['create-service'] === true,
    protocol,
    attach,
    command,
  });
}

/** Loopback addresses are bound as given; any other address means "bind every interface". */
export function inboundBindAddress(address: string): string | undefined {
  if (isIP(address) === 4 && address.startsWith('127.')) return address;
  if (address === '::1') return address;
  return undefined;
}

function parseFlags(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      control: { type: 'string' },
      xds: { type: 'string' },
      service: { type: 'string' },
      port: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      name: { type: 'string' },
      labels: { type: 'string' },
      locality: { type: 'string' },
      address: { type: 'string' },
      'inbound-port': { type: 'string' },
      upstreams: { type: 'string' },
      ttl: { type: 'string' },
      'port-name': { type: 'string' },
      'create-service': { type: 'boolean' },
      protocol: { type: 'string' },
      attach: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function usage(problems: readonly string[]): WeftError {
  return new WeftError('WEFT_USAGE', `${problems.join('\n')}\n\n${RUN_HELP}`);
}

function required(
  value: string | undefined,
  flag: string,
  problems: string[],
  hint = '',
): string | undefined {
  if (value === undefined || value === '') problems.push(`${flag} is required${hint}`);
  return value;
}

function port(value: string | undefined, flag: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65_535) {
    problems.push(`${flag}: expected a port from 1 to 65535, got '${value}'`);
    return undefined;
  }
  return n;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseLabels(value: string | undefined, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list(value)) {
    const eq = item.indexOf('=');
    const key = eq === -1 ? item : item.slice(0, eq);
    if (eq <= 0) {
      problems.push(`--labels: expected KEY=VALUE, got '${item}'`);
      continue;
    }
    if (key.startsWith('weft.dev/')) {
      problems.push(`--labels: '${key}': the weft.dev/ prefix is reserved (weft run sets those labels)`);
      continue;
    }
    out[key] = item.slice(eq + 1);
  }
  return out;
}
