// `weft get KIND [NAME] [-n NS | -A] [-l SELECTOR] [-o table|yaml|json]`: reads resources
// from the control plane. Tables for humans (with route status conditions when present),
// YAML or JSON for scripts — the JSON/YAML output can be applied back unchanged.

import { parseArgs } from 'node:util';
import YAML from 'yaml';
import type { Resource } from '../control/resource.js';
import { WeftError } from '../core/errors.js';
import { parseCommandLine } from './command-line.js';
import {
  collectionPath,
  createControlClient,
  reportApiErrors,
  resolveControlUrl,
  resolveKind,
} from './control-client.js';
import { renderTable } from './resource-table.js';

const HELP = `Usage: weft get KIND [NAME] [-n NS | -A] [-l SELECTOR] [-o table|yaml|json] [--control URL]

KIND is a kind, its plural or a short name (svc, wl); the control plane lists them.

Options:
  -n, --namespace NS       namespace (default: default)
  -A, --all-namespaces     list across every namespace
  -l, --selector SELECTOR  label selector, e.g. app=web,tier!=db
  -o, --output FORMAT      table (default), yaml or json
      --control URL        the control plane API (default $WEFT_CONTROL or http://127.0.0.1:15000)
`;

export async function runGetCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(() => parse(args), HELP);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  const [kindName, name, ...extra] = positionals;
  if (kindName === undefined || extra.length > 0)
    throw new WeftError('WEFT_USAGE', `expected KIND [NAME]\n\n${HELP}`);
  const output = values.output ?? 'table';
  if (!['table', 'yaml', 'json'].includes(output))
    throw new WeftError('WEFT_USAGE', `-o must be table, yaml or json, not '${output}'`);
  if (values['all-namespaces'] && (name !== undefined || values.namespace !== undefined))
    throw new WeftError('WEFT_USAGE', '-A lists every namespace; it cannot be combined with NAME or -n');
  const client = createControlClient(resolveControlUrl(values.control));
  return reportApiErrors(async () => {
    const kind = resolveKind(await client.kinds(), kindName);
    const namespace = values['all-namespaces'] ? undefined : (values.namespace ?? 'default');
    if (name !== undefined) {
      const r = await client.request<Resource>(
        'GET',
        `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}`,
      );
      write([r], r, output, false);
      return 0;
    }
    const query =
      values.selector === undefined ? '' : `?labelSelector=${encodeURIComponent(values.selector)}`;
    const list = await client.request<{ items: Resource[] }>('GET', collectionPath(kind, namespace) + query);
    if (list.items.length === 0 && output === 'table') {
      process.stderr.write(
        `No ${kind.plural} found${namespace !== undefined && kind.namespaced ? ` in namespace ${namespace}` : ''}.\n`,
      );
      return 0;
    }
    write(list.items, list, output, namespace === undefined && kind.namespaced);
    return 0;
  });
}

function write(items: Resource[], whole: unknown, output: string, allNamespaces: boolean): void {
  if (output === 'json') process.stdout.write(`${JSON.stringify(whole, null, 2)}\n`);
  else if (output === 'yaml') process.stdout.write(YAML.stringify(whole));
  else process.stdout.write(renderTable(items, { allNamespaces, nowMs: Date.now() }));
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      selector: { type: 'string', short: 'l' },
      output: { type: 'string', short: 'o' },
      control: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
}
