// `weft proxy-config NODE clusters|listeners|routes|endpoints [-o table|json]`: the xDS
// resources one connected proxy (or gRPC client) was last sent, from
// GET /v1/proxy-config/{nodeId} (docs/api.md). Tables summarise; `-o json` prints the
// resources as Envoy JSON, for diffing or feeding to other tools.

import { parseArgs } from 'node:util';
import { WeftError } from '../core/errors.js';
import { parseCommandLine } from './command-line.js';
import { createControlClient, reportApiErrors, resolveControlUrl } from './control-client.js';

const HELP = `Usage: weft proxy-config NODE clusters|listeners|routes|endpoints [-o table|json] [--control URL]

Shows what the xDS client with node id NODE was last sent (see weft proxy-status).

Options:
  -o, --output FORMAT   table (default) or json (the resources as Envoy JSON)
      --control URL     the control plane API (default $WEFT_CONTROL or http://127.0.0.1:15000)
`;

type Json = Record<string, unknown>;
type Section = 'clusters' | 'listeners' | 'routes' | 'endpoints';

const TYPE_OF: Record<Section, string> = {
  clusters: 'CDS',
  listeners: 'LDS',
  routes: 'RDS',
  endpoints: 'EDS',
};

interface TypeConfig {
  state: string;
  version: string | null;
  retained: boolean;
  resources: Json[];
}

export async function runProxyConfigCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(() => parse(args), HELP);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  const [node, section, ...extra] = positionals;
  if (node === undefined || section === undefined || extra.length > 0 || !(section in TYPE_OF))
    throw new WeftError('WEFT_USAGE', `expected NODE clusters|listeners|routes|endpoints\n\n${HELP}`);
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'json')
    throw new WeftError('WEFT_USAGE', `-o must be table or json, not '${output}'`);
  const client = createControlClient(resolveControlUrl(values.control));
  return reportApiErrors(async () => {
    const config = await client.request<{ types: Record<string, TypeConfig> }>(
      'GET',
      `/v1/proxy-config/${encodeURIComponent(node)}`,
    );
    const type = TYPE_OF[section as Section];
    const entry = config.types[type];
    const resources = entry?.resources ?? [];
    if (output === 'json') {
      process.stdout.write(`${JSON.stringify(resources, null, 2)}\n`);
    } else {
      if (entry === undefined) process.stderr.write(`${node} has not subscribed to ${type}.\n`);
      else if (!entry.retained)
        process.stderr.write(
          `${type} version ${entry.version} is no longer retained (the proxy is behind).\n`,
        );
      else if (resources.length === 0) process.stderr.write(`No ${section} sent to ${node}.\n`);
      if (resources.length > 0) process.stdout.write(renderSection(section as Section, resources));
    }
    return 0;
  });
}

function renderSection(section: Section, resources: readonly Json[]): string {
  const rows: string[][] = [];
  if (section === 'clusters') {
    rows.push(['NAME', 'TYPE', 'LB', 'EDS SERVICE']);
    for (const c of resources) {
      const eds = (c.eds_cluster_config as Json | undefined)?.service_name;
      rows.push([str(c.name), str(c.type ?? 'STATIC'), str(c.lb_policy ?? 'ROUND_ROBIN'), str(eds ?? '-')]);
    }
  } else if (section === 'listeners') {
    rows.push(['NAME', 'ADDRESS', 'KIND']);
    for (const l of resources) {
      const socket = ((l.address as Json | undefined)?.socket_address ?? undefined) as Json | undefined;
      const address = socket === undefined ? '-' : `${str(socket.address)}:${str(socket.port_value)}`;
      rows.push([str(l.name), address, l.api_listener !== undefined ? 'api (gRPC)' : 'socket']);
    }
  } else if (section === 'routes') {
    rows.push(['NAME', 'VIRTUAL HOST', 'DOMAINS', 'ROUTES']);
    for (const rc of resources) {
      for (const vh of (rc.virtual_hosts as Json[] | undefined) ?? []) {
        const domains = ((vh.domains as string[] | undefined) ?? []).join(',');
        const routes = ((vh.routes as unknown[] | undefined) ?? []).length;
        rows.push([str(rc.name), str(vh.name), domains, String(routes)]);
      }
    }
  } else {
    rows.push(['CLUSTER', 'ENDPOINTS']);
    for (const cla of resources) {
      const addrs: string[] = [];
      for (const group of (cla.endpoints as Json[] | undefined) ?? []) {
        for (const e of (group.lb_endpoints as Json[] | undefined) ?? []) {
          const socket = ((e.endpoint as Json | undefined)?.address as Json | undefined)?.socket_address as
            | Json
            | undefined;
          if (socket !== undefined) addrs.push(`${str(socket.address)}:${str(socket.port_value)}`);
        }
      }
      rows.push([str(cla.cluster_name), addrs.join(',') || '<none>']);
    }
  }
  const widths = rows[0]!.map((_h, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('')).join('\n')}\n`;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      output: { type: 'string', short: 'o' },
      control: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
}
