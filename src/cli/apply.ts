// `weft apply -f FILE|DIR [-f ...]`: sends every document of the given files to the
// control plane as one all-or-nothing transaction (POST /v1/apply). Rejections name the
// file, line, document and field path of each problem.

import { parseArgs } from 'node:util';
import { WeftError } from '../core/errors.js';
import { ApiError, createControlClient, reportApiErrors, resolveControlUrl } from './control-client.js';
import { readResourceFiles, type SourceDocument } from './resource-files.js';

const HELP = `Usage: weft apply -f FILE|DIR [-f ...] [--control URL]

Creates or updates every resource in the files (YAML, multi-document, or JSON) as one
transaction: if any resource is invalid, nothing is changed.

Options:
  -f, --filename PATH   a file, or a directory of *.yaml/*.yml/*.json (repeatable)
      --control URL     the control plane API (default $WEFT_CONTROL or http://127.0.0.1:15000)
`;

interface ApplyResponse {
  revision: number;
  items: { kind: string; namespace: string; name: string; action: string }[];
}

export async function runApplyCommand(args: string[]): Promise<number> {
  const { values } = parseOrUsage(args);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const files = values.filename ?? [];
  if (files.length === 0) throw new WeftError('WEFT_USAGE', `-f FILE|DIR is required\n\n${HELP}`);
  const docs = await readResourceFiles(files);
  if (docs.length === 0) throw new WeftError('WEFT_USAGE', `no resources found in ${files.join(', ')}`);
  const client = createControlClient(resolveControlUrl(values.control));
  return reportApiErrors(async () => {
    let result: ApplyResponse;
    try {
      result = await client.request<ApplyResponse>('POST', '/v1/apply', { items: docs.map((d) => d.value) });
    } catch (err) {
      throw locateIssues(err, docs, 'apply rejected; nothing was changed');
    }
    for (const it of result.items)
      process.stdout.write(
        `${it.kind.toLowerCase()}/${it.name}${it.namespace ? ` (${it.namespace})` : ''} ${it.action}\n`,
      );
    return 0;
  });
}

/** Rewrites `items[i].path` issues into `file:line (document n): path` using the documents' sources. */
export function locateIssues(err: unknown, docs: readonly SourceDocument[], what: string): unknown {
  if (!(err instanceof ApiError) || err.issues.length === 0) return err;
  const issues = err.issues.map((issue) => {
    const m = /^items\[(\d+)\]\.?(.*)$/.exec(issue.path);
    const doc = m === null ? undefined : docs[Number(m[1])];
    if (m === null || doc === undefined) return issue;
    const field = m[2] === '' ? '(document)' : m[2]!;
    return { path: `${doc.locate(m[2]!)}: ${field}`, message: issue.message };
  });
  return new ApiError(err.code, err.status, `${what}: ${err.issues.length} problem(s)`, issues);
}

function parseOrUsage(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        control: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new WeftError('WEFT_USAGE', `${(err as Error).message}\n\n${HELP}`);
  }
}
