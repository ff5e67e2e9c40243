// `weft delete KIND NAME... [-n NS]` or `weft delete -f FILE|DIR`: deletes the named
// resources as one all-or-nothing transaction (POST /v1/delete).

import { parseArgs } from 'node:util';
import { WeftError } from '../core/errors.js';
import { locateIssues } from './apply.js';
import { parseCommandLine } from './command-line.js';
import { createControlClient, reportApiErrors, resolveControlUrl, resolveKind } from './control-client.js';
import { readResourceFiles } from './resource-files.js';

const HELP = `Usage: weft delete KIND NAME... [-n NS] [--control URL]
       weft delete -f FILE|DIR [-f ...] [--control URL]

Deletes resources, all or nothing: if one does not exist, none is deleted
(unless --ignore-not-found).

Options:
  -n, --namespace NS       namespace of the named resources (default: default)
  -f, --filename PATH      delete the resources a file or directory describes
      --ignore-not-found   skip resources that do not exist
      --control URL        the control plane API (default $WEFT_CONTROL or http://127.0.0.1:15000)
`;

interface Target {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export async function runDeleteCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(() => parse(args), HELP);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  const files = values.filename ?? [];
  if (files.length > 0 && positionals.length > 0)
    throw new WeftError('WEFT_USAGE', `give either -f FILE or KIND NAME..., not both\n\n${HELP}`);
  if (files.length === 0 && positionals.length < 2)
    throw new WeftError('WEFT_USAGE', `KIND and NAME are required\n\n${HELP}`);
  const docs = files.length > 0 ? await readResourceFiles(files) : [];
  const client = createControlClient(resolveControlUrl(values.control));
  return reportApiErrors(async () => {
    let targets: Target[];
    if (files.length > 0) {
      targets = docs.map((d) => d.value as Target);
    } else {
      const kind = resolveKind(await client.kinds(), positionals[0]!);
      targets = positionals.slice(1).map((name) => ({
        apiVersion: kind.apiVersion,
        kind: kind.kind,
        name,
        ...(kind.namespaced ? { namespace: values.namespace ?? 'default' } : {}),
      }));
    }
    if (values['ignore-not-found']) targets = await existing(client, targets);
    if (targets.length === 0) return 0;
    let result: { items: { kind: string; namespace: string; name: string }[] };
    try {
      result = await client.request('POST', '/v1/delete', { items: targets });
    } catch (err) {
      throw files.length > 0 ? locateIssues(err, docs, 'delete rejected; nothing was deleted') : err;
    }
    for (const it of result.items)
      process.stdout.write(
        `${it.kind.toLowerCase()}/${it.name}${it.namespace ? ` (${it.namespace})` : ''} deleted\n`,
      );
    return 0;
  });
}

/** The targets that exist (for --ignore-not-found); whole resources from files are reduced to their keys. */
async function existing(
  client: ReturnType<typeof createControlClient>,
  targets: Target[],
): Promise<Target[]> {
  const kinds = await client.kinds();
  const out: Target[] = [];
  for (const t of targets) {
    const meta = (t as unknown as { metadata?: { name?: string; namespace?: string } }).metadata ?? t;
    const kind = kinds.find((k) => k.apiVersion === t.apiVersion && k.kind === t.kind);
    if (kind === undefined || typeof meta.name !== 'string') {
      out.push(t); // let the API report it
      continue;
    }
    const ns = kind.namespaced ? `/namespaces/${meta.namespace ?? 'default'}` : '';
    try {
      await client.request(
        'GET',
        `/apis/${kind.apiVersion}${ns}/${kind.plural}/${encodeURIComponent(meta.name)}`,
      );
      out.push(t);
    } catch (err) {
      if ((err as { status?: number }).status !== 404) throw err;
    }
  }
  return out;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      namespace: { type: 'string', short: 'n' },
      filename: { type: 'string', short: 'f', multiple: true },
      'ignore-not-found': { type: 'boolean' },
      control: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
}
