// Reading resource documents for `weft apply -f` / `weft delete -f`: files or directories
// (*.yaml, *.yml, *.json, not recursive), YAML multi-document (JSON is YAML), empty
// documents skipped. Each document keeps its source so API issues like
// `items[3].spec.ports[0].port` can be shown as `web.yaml:14 (document 2): spec.ports[0].port`.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Document, isNode, LineCounter, parseAllDocuments } from 'yaml';
import { WeftError } from '../core/errors.js';

export interface SourceDocument {
  readonly file: string;
  /** 1-based position of the document in its file. */
  readonly index: number;
  readonly value: unknown;
  /** `file:line (document n)` for a field path inside this document. */
  locate(path: string): string;
}

const MAX_ALIAS_COUNT = 100;

/** A file as itself; a directory as its *.yaml/*.yml/*.json files, sorted, not recursive. */
export async function listResourceFiles(path: string): Promise<string[]> {
  const s = await stat(path);
  if (!s.isDirectory()) return [path];
  return (await readdir(path))
    .filter((f) => /\.(ya?ml|json)$/i.test(f))
    .sort()
    .map((f) => join(path, f));
}

export async function readResourceFiles(paths: readonly string[]): Promise<SourceDocument[]> {
  const docs: SourceDocument[] = [];
  for (const p of paths) {
    let files: string[];
    try {
      files = await listResourceFiles(p);
    } catch (err) {
      throw new WeftError('WEFT_CONFIG_READ', `cannot read ${p}: ${(err as Error).message}`);
    }
    for (const file of files) docs.push(...(await readOneFile(file)));
  }
  return docs;
}

async function readOneFile(file: string): Promise<SourceDocument[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new WeftError('WEFT_CONFIG_READ', `cannot read ${file}: ${(err as Error).message}`);
  }
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, logLevel: 'silent' });
  const all = Array.isArray(parsed) ? parsed : [];
  const out: SourceDocument[] = [];
  all.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = lineCounter.linePos(err.pos[0]);
      throw new WeftError(
        'WEFT_CONFIG_READ',
        `${file}:${pos.line}:${pos.col} (document ${i + 1}): YAML syntax error: ${err.message.split('\n')[0]}`,
      );
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      throw new WeftError('WEFT_CONFIG_READ', `${file} (document ${i + 1}): ${(e as Error).message}`);
    }
    if (value === null || value === undefined) return;
    // A list (`weft get KIND -o yaml` output) contributes each of its items.
    const v = value as { kind?: unknown; items?: unknown };
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
      v.items.forEach((item, j) => {
        const at = (path: string) => locate(doc, lineCounter, file, i + 1, `items[${j}].${path}`);
        out.push({ file, index: i + 1, value: item, locate: at });
      });
      return;
    }
    out.push({ file, index: i + 1, value, locate: (path) => locate(doc, lineCounter, file, i + 1, path) });
  });
  return out;
}

/** `spec.ports[0].port` / `metadata.labels["a/b"]` as path segments. */
export function pathSegments(path: string): (string | number)[] {
  const segs: (string | number)[] = [];
  for (const m of path.matchAll(/\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|([^.[\]]+)/g)) {
    if (m[1] !== undefined) segs.push(Number(m[1]));
    else if (m[2] !== undefined) segs.push(JSON.parse(m[2]) as string);
    else if (m[3] !== undefined && m[3] !== '(root)') segs.push(m[3]);
  }
  return segs;
}

function locate(doc: Document, lines: LineCounter, file: string, index: number, path: string): string {
  // The deepest node that exists on the path: a missing field points at its parent.
  const segs = pathSegments(path);
  for (let n = segs.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segs.slice(0, n), true);
    if (isNode(node) && node.range) return `${file}:${lines.linePos(node.range[0]).line} (document ${index})`;
  }
  return `${file} (document ${index})`;
}
