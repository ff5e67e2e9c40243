// `weft proxy-status [-o table|json]`: every proxy and gRPC client connected to the control
// plane's xDS server, with the state of each xDS type (SYNCED / STALE / NACKED / NOT_SENT)
// and the version it was sent; a NACK's reason is printed under the table. Reads
// GET /v1/proxy-status (docs/api.md). Exits 0 even when a proxy is NACKED: the output says so.

import { parseArgs } from 'node:util';
import { WeftError } from '../core/errors.js';
import { parseCommandLine } from './command-line.js';
import { createControlClient, reportApiErrors, resolveControlUrl } from './control-client.js';

const HELP = `Usage: weft proxy-status [-o table|json] [--control URL]

Lists every connected xDS client (Weft proxies, Envoy, proxyless gRPC) with the state of
CDS, LDS, EDS and RDS: SYNCED (acknowledged), STALE (a response or change is in flight),
NACKED (rejected; the reason is shown), NOT_SENT.

Options:
  -o, --output FORMAT   table (default) or json
      --control URL     the control plane API (default $WEFT_CONTROL or http://127.0.0.1:15000)
`;

interface TypeView {
  type: string;
  state: string;
  sentVersion?: string;
  ackedVersion?: string;
  resources: number;
  nack?: { version: string; code: number; message: string; at: string };
}

interface ProxyView {
  nodeId: string;
  cluster: string;
  protocol: string;
  peer: string;
  userAgent: string;
  connectedAt: string;
  types: TypeView[];
}

const COLUMNS = ['CDS', 'LDS', 'EDS', 'RDS'] as const;

export async function runProxyStatusCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(() => parse(args), HELP);
  if (parsed === null) return 0;
  const { values } = parsed;
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'json')
    throw new WeftError('WEFT_USAGE', `-o must be table or json, not '${output}'`);
  const client = createControlClient(resolveControlUrl(values.control));
  return reportApiErrors(async () => {
    const view = await client.request<{ proxies: ProxyView[] }>('GET', '/v1/proxy-status');
    if (output === 'json') process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    else if (view.proxies.length === 0) process.stderr.write('No xDS clients connected.\n');
    else process.stdout.write(renderProxyStatus(view.proxies));
    return 0;
  });
}

export function renderProxyStatus(proxies: readonly ProxyView[]): string {
  const header = ['NAME', ...COLUMNS, 'VERSION', 'PROTOCOL', 'AGENT'];
  const rows = proxies.map((p) => {
    const byType = new Map(p.types.map((t) => [t.type, t]));
    const versions = COLUMNS.map((c) => byType.get(c)?.sentVersion?.slice(0, 8) ?? '-');
    return [
      p.nodeId,
      ...COLUMNS.map((c) => byType.get(c)?.state ?? '-'),
      versions.join('/'),
      p.protocol,
      p.userAgent || '-',
    ];
  });
  const all = [header, ...rows];
  const widths = header.map((_h, i) => Math.max(...all.map((r) => r[i]!.length)));
  const lines = all.map((r) =>
    r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join(''),
  );
  const nacks = proxies.flatMap((p) =>
    p.types
      .filter((t) => t.nack !== undefined && t.state === 'NACKED')
      .map((t) => `${p.nodeId} ${t.type} NACKED version ${t.nack!.version.slice(0, 8)}: ${t.nack!.message}`),
  );
  return `${lines.join('\n')}\n${nacks.length > 0 ? `\n${nacks.join('\n')}\n` : ''}`;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      output: { type: 'string', short: 'o' },
      control: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}
