// Loading a static bootstrap: read the file, parse YAML (or JSON, which is YAML), validate.
//
// Read and syntax problems raise WeftError('WEFT_CONFIG_READ') naming the file and, for
// syntax errors, line:column. Validation problems raise one ConfigError listing every
// issue found, so a user fixes their config in one pass instead of one error per run.

import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, WeftError } from '../core/errors.js';
import type { HttpFilterRegistry } from './http-filter-registry.js';
import type { Bootstrap } from './model.js';
import { validateBootstrap } from './validate-bootstrap.js';
import type { ValidationContextOptions } from './validation-context.js';

/** Caps alias expansion so a "billion laughs" document cannot exhaust memory (STYLE.md rule 7). */
const MAX_ALIAS_COUNT = 100;

export async function loadBootstrapFile(
  path: string,
  registry: HttpFilterRegistry,
  options: ValidationContextOptions = {},
): Promise<Bootstrap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new WeftError('WEFT_CONFIG_READ', `cannot read config file ${path}: ${why}`, { cause: err });
  }
  return parseBootstrap(text, path, registry, options);
}

/** Parses and validates a bootstrap from text; `source` names it in messages (a path, "xds", ...). */
export function parseBootstrap(
  text: string,
  source: string,
  registry: HttpFilterRegistry,
  options: ValidationContextOptions = {},
): Bootstrap {
  return validateBootstrapDocument(parseYaml(text, source), source, registry, options);
}

/** Validates a bootstrap document already parsed (or built in memory); throws ConfigError. */
export function validateBootstrapDocument(
  raw: unknown,
  source: string,
  registry: HttpFilterRegistry,
  options: ValidationContextOptions = {},
): Bootstrap {
  const { bootstrap, issues } = validateBootstrap(raw, registry, options);
  if (bootstrap === null) throw new ConfigError(source, issues);
  return bootstrap;
}

/** Parses bootstrap text (YAML or JSON) into a document; throws WeftError('WEFT_CONFIG_READ'). */
export function parseBootstrapDocument(text: string, source: string): unknown {
  return parseYaml(text, source);
}

function parseYaml(text: string, source: string): unknown {
  // `merge` enables YAML `<<:` merge keys, which Envoy's YAML loader accepts too.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { merge: true, prettyErrors: false, logLevel: 'silent', lineCounter });
  const err = doc.errors[0];
  if (err !== undefined) {
    const pos = lineCounter.linePos(err.pos[0]);
    const where = `${source}:${pos.line}:${pos.col}`;
    throw new WeftError('WEFT_CONFIG_READ', `${where}: YAML syntax error: ${firstLine(err.message)}`, {
      cause: err,
    });
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // toJS fails on excessive aliasing; that is a property of the document, not a bug.
    const why = e instanceof Error ? e.message : String(e);
    throw new WeftError('WEFT_CONFIG_READ', `${source}: ${why}`, { cause: e });
  }
}

function firstLine(message: string): string {
  const nl = message.indexOf('\n');
  return nl === -1 ? message : message.slice(0, nl);
}
