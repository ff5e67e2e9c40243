import { parseArgs } from 'node:util';
import { analyseMesh } from '../control/analysis/analyse-mesh.js';
import {
  compareFindings,
  describeRef,
  type Finding,
  finding,
  type Severity,
} from '../control/analysis/catalogue.js';
import { createCheckKinds } from '../control/analysis/check-kinds.js';
import { mergeResources, snapshotOfResources } from '../control/analysis/mesh-resources.js';
import { type CheckDocument, locateFindings, validateDocuments } from '../control/analysis/validation.js';
import type { Resource } from '../control/resource.js';
import { createMeshIndex } from '../control/translate/mesh-index.js';
import { WeftError } from '../core/errors.js';
import { parseCommandLine } from './command-line.js';
import { ApiError, collectionPath, createControlClient, DEFAULT_CONTROL_URL } from './control-client.js';
import { listResourceFiles, readResourceFiles } from './resource-files.js';

const HELP = `Usage: weft check [FILES|DIRS] [--control URL | --offline] [-o table|json]

Validates resource files (YAML, multi-document, or JSON; directories: *.yaml/*.yml/*.json)
as 'weft apply' would, and analyses the mesh: missing backends and parents, Services
without Workloads, conflicting routes, splits to backends without endpoints, policies
that target nothing... Each finding has a code (WEFT0xxx), a severity and a fix.

Which mesh is analysed:
  FILES only                      offline: the files alone
  --control URL or $WEFT_CONTROL  the live mesh, with the files applied on top
  no FILES                        the live mesh (default http://127.0.0.1:15000)
  --offline                       the files alone, even when $WEFT_CONTROL is set

Options:
  -f, --filename PATH   a file or directory, like a FILES argument (repeatable)
      --control URL     the control plane API to read the live mesh from
      --offline         never contact a control plane
  -o, --output FORMAT   table (default) or json
Exit status: 1 if any finding is an error (or the control plane cannot be read), else 0.
`;

/** Where the command writes and what environment it reads; tests inject their own. */
export interface CheckIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const PROCESS_IO: CheckIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

export interface CheckReport {
  readonly mode: 'offline' | 'live';
  readonly control: string | null;
  readonly files: readonly string[];
  /** How many resources the mesh analysis saw (live and from files, after merging). */
  readonly resources: number;
  readonly summary: Record<Severity, number>;
  readonly findings: readonly Finding[];
}

export async function runCheckCommand(args: string[], io: CheckIo = PROCESS_IO): Promise<number> {
  const parsed = parseCommandLine(() => parse(args), HELP);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  const paths = [...positionals, ...(values.filename ?? [])];
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'json')
    throw new WeftError('WEFT_USAGE', `-o must be table or json, not '${output}'`);
  if (values.offline && values.control !== undefined)
    throw new WeftError('WEFT_USAGE', '--offline and --control exclude each other');
  if (values.offline && paths.length === 0)
    throw new WeftError('WEFT_USAGE', `--offline needs FILES or DIRS to check\n\n${HELP}`);
  const controlUrl = values.offline
    ? null
    : (values.control ?? io.env.WEFT_CONTROL ?? (paths.length === 0 ? DEFAULT_CONTROL_URL : null));

  let report: CheckReport;
  try {
    report = await check(paths, controlUrl === null ? null : controlUrl.replace(/\/+$/, ''));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    io.stderr(`weft: error [${err.code}]: ${err.message}\n`);
    return 1;
  }
  io.stdout(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
  return report.summary.error > 0 ? 1 : 0;
}

/** Reads, validates, fetches (when `controlUrl` is set) and analyses; the whole report. */
export async function check(paths: readonly string[], controlUrl: string | null): Promise<CheckReport> {
  const { docs, findings: readFindings, files } = await readDocuments(paths);
  const validated = validateDocuments(createCheckKinds(), docs);
  let resources: Resource[] = validated.resources;
  if (controlUrl !== null) resources = mergeResources(await fetchLive(controlUrl), resources).resources;
  const meshFindings = locateFindings(
    analyseMesh(createMeshIndex(snapshotOfResources(resources))),
    validated.locators,
  );
  const findings = [...readFindings, ...validated.findings, ...meshFindings].sort(compareFindings);
  const summary: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) summary[f.severity]++;
  return {
    mode: controlUrl === null ? 'offline' : 'live',
    control: controlUrl,
    files,
    resources: resources.length,
    summary,
    findings,
  };
}

/**
 * Every document of the paths, file by file, so that one unreadable or unparsable file is a
 * finding (WEFT0003) and the others are still checked.
 */
async function readDocuments(
  paths: readonly string[],
): Promise<{ docs: CheckDocument[]; findings: Finding[]; files: string[] }> {
  const docs: CheckDocument[] = [];
  const findings: Finding[] = [];
  const files: string[] = [];
  const unreadable = (file: string, message: string) =>
    findings.push({
      ...finding('WEFT0003', { apiVersion: '', kind: 'File', namespace: '', name: file }, message),
      location: file,
    });
  for (const p of paths) {
    let list: string[];
    try {
      list = await listResourceFiles(p);
    } catch (err) {
      unreadable(p, `cannot read ${p}: ${(err as Error).message}`);
      continue;
    }
    for (const file of list) {
      files.push(file);
      try {
        docs.push(...(await readResourceFiles([file])));
      } catch (err) {
        if (!(err instanceof WeftError)) throw err;
        unreadable(file, err.message);
      }
    }
  }
  return { docs, findings, files };
}

/** Every resource of every kind the control plane serves (GET list, all namespaces). */
async function fetchLive(controlUrl: string): Promise<Resource[]> {
  const client = createControlClient(controlUrl);
  const kinds = await client.kinds();
  const lists = await Promise.all(
    kinds.map((k) => client.request<{ items: Resource[] }>('GET', collectionPath(k, undefined))),
  );
  return lists.flatMap((l) => l.items);
}

/** The table: CODE SEVERITY RESOURCE MESSAGE, then the location and the fix under each finding. */
export function renderReport(report: CheckReport): string {
  const scope =
    report.mode === 'offline'
      ? `offline, ${report.files.length} file(s)`
      : `live mesh at ${report.control}${report.files.length > 0 ? ` with ${report.files.length} file(s) applied` : ''}`;
  const { error, warning, info } = report.summary;
  const total = `${error} error(s), ${warning} warning(s), ${info} info in ${report.resources} resource(s) (${scope})\n`;
  if (report.findings.length === 0)
    return `No problems found in ${report.resources} resource(s) (${scope}).\n`;
  const rows = report.findings.map((f) => [
    f.code,
    f.severity,
    describeRef(f.resource),
    f.path !== undefined && !f.message.includes(f.path) ? `${f.path}: ${f.message}` : f.message,
  ]);
  const header = ['CODE', 'SEVERITY', 'RESOURCE', 'MESSAGE'];
  const widths = [0, 1, 2].map((i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `${cells
      .slice(0, 3)
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')}  ${cells[3]}\n`;
  const indent = ' '.repeat(widths[0]! + widths[1]! + 4);
  let out = line(header);
  report.findings.forEach((f, i) => {
    out += line(rows[i]!);
    if (f.location !== undefined) out += `${indent}at ${f.location}\n`;
    out += `${indent}fix: ${f.fix}\n`;
  });
  return `${out}\n${total}`;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      control: { type: 'string' },
      offline: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
}
