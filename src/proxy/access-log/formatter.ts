// Envoy substitution format strings (access-log formats and custom header values),
// compiled once at config time into flat arrays of literals and operator accessors.
//
// Envoy docs: "Access logging → Format strings / Command operators". A format is text
// with `%OPERATOR%`, `%OPERATOR(args)%` or `%OPERATOR(args):Z%` commands (Z truncates
// the value to Z characters) and `%%` for a literal '%'. Per request the compiled
// formatter walks its arrays once; nothing is parsed or matched then.

import type { AccessLog } from '../../config/model.js';
import type { ConfigIssue } from '../../core/errors.js';
import type { StreamInfo } from '../stream-info.js';
import type { LineWriter } from './line-writer.js';
import { type Accessor, buildOperator, type FormatOptions, type OperatorValue } from './operators.js';

export type { FormatOptions } from './operators.js';

export interface TextFormatter {
  format(info: StreamInfo): string;
  /** Writes the same text as format() into `w`; the access log's per-request path. */
  formatInto(info: StreamInfo, w: LineWriter): void;
}

/** Envoy's default access-log format (per /work/shared/REFERENCE.md), newline included. */
export const ENVOY_DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ' +
  '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/**
 * A parsed format: `literals.length === ops.length + 1`; the output is
 * literals[0] ops[0] literals[1] ops[1] ... literals[n]. `maxLengths[i]` is the `:Z`
 * truncation of ops[i], -1 when none.
 */
interface ParsedFormat {
  readonly literals: string[];
  readonly ops: Accessor[];
  readonly maxLengths: number[];
}

function isNameChar(code: number): boolean {
  // [A-Z0-9_], as Envoy's command grammar.
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x5f;
}

function isDigitCode(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** Parses a format string; every problem is appended to `issues` (all of them, not the first). */
function parseFormat(
  format: string,
  path: string,
  issues: ConfigIssue[],
  options: FormatOptions,
): ParsedFormat {
  const literals: string[] = [];
  const ops: Accessor[] = [];
  const maxLengths: number[] = [];
  let text = '';
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      text += format.slice(i);
      break;
    }
    text += format.slice(i, pct);
    if (format.charCodeAt(pct + 1) === 0x25 /* % */) {
      text += '%';
      i = pct + 2;
      continue;
    }
    // %NAME
    let j = pct + 1;
    while (j < format.length && isNameChar(format.charCodeAt(j))) j++;
    const name = format.slice(pct + 1, j);
    // (args) — Envoy's grammar allows no ')' inside.
    let arg: string | undefined;
    let ok = name !== '';
    if (ok && format.charCodeAt(j) === 0x28 /* ( */) {
      const close = format.indexOf(')', j + 1);
      if (close < 0) ok = false;
      else {
        arg = format.slice(j + 1, close);
        j = close + 1;
      }
    }
    // :Z
    let maxLength = -1;
    if (ok && format.charCodeAt(j) === 0x3a /* : */ && isDigitCode(format.charCodeAt(j + 1))) {
      let k = j + 1;
      while (k < format.length && isDigitCode(format.charCodeAt(k))) k++;
      maxLength = Number(format.slice(j + 1, k));
      j = k;
    }
    if (!ok || format.charCodeAt(j) !== 0x25 /* % */) {
      const end = format.indexOf('%', pct + 1);
      const shown = end < 0 ? format.slice(pct) : format.slice(pct, end + 1);
      issues.push({
        path,
        message:
          `invalid command at position ${pct}: "${shown}" (expected %NAME%, %NAME(args)% or ` +
          '%NAME(args):LENGTH%; write %% for a literal %)',
      });
      // Keep the rest of the text verbatim and carry on, so later problems are reported too.
      text += '%';
      i = pct + 1;
      continue;
    }
    literals.push(text);
    text = '';
    ops.push(buildOperator(name, arg, path, issues, options));
    maxLengths.push(maxLength);
    i = j + 1;
  }
  literals.push(text);
  return { literals, ops, maxLengths };
}

/** Renders one value as text; `missing` is what "not available" prints as. */
function renderText(v: OperatorValue, maxLength: number, missing: string): string {
  const s = v === undefined ? missing : typeof v === 'number' ? `${v}` : v;
  return maxLength >= 0 && s.length > maxLength ? s.slice(0, maxLength) : s;
}

class CompiledTextFormat implements TextFormatter {
  constructor(
    private readonly literals: readonly string[],
    private readonly ops: readonly Accessor[],
    private readonly maxLengths: readonly number[],
    /** '-' for access logs (Envoy), '' for custom header values and omit_empty_values. */
    private readonly missing: string,
  ) {}

  format(info: StreamInfo): string {
    const { literals, ops, maxLengths, missing } = this;
    let out = literals[0];
    for (let i = 0; i < ops.length; i++) {
      out += renderText(ops[i](info), maxLengths[i], missing);
      out += literals[i + 1];
    }
    return out;
  }

  formatInto(info: StreamInfo, w: LineWriter): void {
    const { literals, ops, maxLengths, missing } = this;
    w.text(literals[0]);
    for (let i = 0; i < ops.length; i++) {
      const v = ops[i](info);
      const maxLength = maxLengths[i];
      if (maxLength >= 0 || v === undefined) w.text(renderText(v, maxLength, missing));
      else if (typeof v === 'number') w.number(v);
      else w.text(v);
      w.text(literals[i + 1]);
    }
  }
}

/**
 * Compiles an access-log text format (`text_format_source` / legacy `format`). Unknown
 * operators and syntax errors are appended to `issues` with `path`.
 */
export function compileTextFormat(
  format: string,
  path: string,
  issues: ConfigIssue[],
  options: FormatOptions = {},
): TextFormatter {
  const parsed = parseFormat(format, path, issues, options);
  return new CompiledTextFormat(parsed.literals, parsed.ops, parsed.maxLengths, '-');
}

/**
 * Compiles a custom request/response header value (`request_headers_to_add[].header.value`).
 * Envoy renders unavailable values as '' there (and the header is then skipped unless
 * `keep_empty_value`). A value without '%' compiles to a constant function.
 */
export function compileHeaderValue(
  value: string,
  path: string,
  issues: ConfigIssue[],
  options: FormatOptions = {},
): (info: StreamInfo) => string {
  if (!value.includes('%')) return () => value;
  const parsed = parseFormat(value, path, issues, options);
  if (parsed.ops.length === 0) {
    const constant = parsed.literals[0];
    return () => constant;
  }
  const compiled = new CompiledTextFormat(parsed.literals, parsed.ops, parsed.maxLengths, '');
  return (info) => compiled.format(info);
}

// ---------------------------------------------------------------------------------------
// JSON formats

// JSON node kinds.
const J_TYPED = 0; // a value that is exactly one operator: keeps its type
const J_TEMPLATE = 1; // text mixing literals and operators: always a string
const J_CONSTANT = 2; // a literal string / number / boolean / null from the config
const J_OBJECT = 3; // a nested object

interface JsonField {
  readonly kind: number;
  /** `"key":` precomputed. */
  readonly keyPrefix: string;
  readonly op: Accessor | null;
  readonly maxLength: number;
  readonly template: CompiledTextFormat | null;
  /** Serialized constant (J_CONSTANT); null for a config null, or '' under omit_empty_values. */
  readonly constant: string | null;
  readonly object: JsonObjectNode | null;
}

interface JsonObjectNode {
  readonly fields: readonly JsonField[];
}

function compileJsonObject(
  json: Readonly<Record<string, unknown>>,
  omitEmptyValues: boolean,
  path: string,
  issues: ConfigIssue[],
  options: FormatOptions,
): JsonObjectNode {
  const fields: JsonField[] = [];
  for (const key of Object.keys(json)) {
    const value = json[key];
    const fieldPath = `${path}.${key}`;
    const base = {
      keyPrefix: `${JSON.stringify(key)}:`,
      op: null,
      maxLength: -1,
      template: null,
      constant: null,
      object: null,
    };
    if (typeof value === 'string') {
      const parsed = parseFormat(value, fieldPath, issues, options);
      if (parsed.ops.length === 1 && parsed.literals[0] === '' && parsed.literals[1] === '') {
        fields.push({ ...base, kind: J_TYPED, op: parsed.ops[0], maxLength: parsed.maxLengths[0] });
      } else if (parsed.ops.length === 0) {
        const s = parsed.literals[0];
        fields.push({
          ...base,
          kind: J_CONSTANT,
          constant: s === '' && omitEmptyValues ? null : JSON.stringify(s),
        });
      } else {
        const missing = omitEmptyValues ? '' : '-';
        const template = new CompiledTextFormat(parsed.literals, parsed.ops, parsed.maxLengths, missing);
        fields.push({ ...base, kind: J_TEMPLATE, template });
      }
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      fields.push({ ...base, kind: J_CONSTANT, constant: JSON.stringify(value) });
    } else if (value === null) {
      fields.push({ ...base, kind: J_CONSTANT });
    } else if (typeof value === 'object' && !Array.isArray(value)) {
      const object = compileJsonObject(
        value as Record<string, unknown>,
        omitEmptyValues,
        fieldPath,
        issues,
        options,
      );
      fields.push({ ...base, kind: J_OBJECT, object });
    } else {
      issues.push({
        path: fieldPath,
        message: 'json_format values must be strings, numbers, booleans, null or nested objects',
      });
    }
  }
  return { fields };
}

function typedJson(v: OperatorValue, maxLength: number): string | null {
  if (v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? `${v}` : null;
  return JSON.stringify(maxLength >= 0 && v.length > maxLength ? v.slice(0, maxLength) : v);
}

function renderJsonObject(node: JsonObjectNode, info: StreamInfo, omitEmpty: boolean): string {
  let out = '{';
  let first = true;
  const fields = node.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    let value: string | null;
    switch (f.kind) {
      case J_TYPED: {
        const v = f.op!(info);
        value = omitEmpty && v === '' ? null : typedJson(v, f.maxLength);
        break;
      }
      case J_TEMPLATE: {
        const s = f.template!.format(info);
        value = omitEmpty && s === '' ? null : JSON.stringify(s);
        break;
      }
      case J_CONSTANT:
        value = f.constant;
        break;
      default:
        value = renderJsonObject(f.object!, info, omitEmpty);
    }
    if (value === null) {
      if (omitEmpty) continue;
      value = 'null';
    }
    out += first ? f.keyPrefix : `,${f.keyPrefix}`;
    out += value;
    first = false;
  }
  return `${out}}`;
}

class CompiledJsonFormat implements TextFormatter {
  constructor(
    private readonly root: JsonObjectNode,
    private readonly omitEmptyValues: boolean,
  ) {}

  format(info: StreamInfo): string {
    return `${renderJsonObject(this.root, info, this.omitEmptyValues)}\n`;
  }

  formatInto(info: StreamInfo, w: LineWriter): void {
    w.text(this.format(info));
  }
}

/**
 * Compiles a `json_format`. A value that is exactly one operator keeps Envoy's typed
 * output (numbers as JSON numbers; unavailable → null, or the key is left out with
 * `omitEmptyValues`); other strings are templates rendered as JSON strings. Keys keep
 * the config's order. Output is one JSON object per line.
 */
export function compileJsonFormat(
  json: Readonly<Record<string, unknown>>,
  omitEmptyValues: boolean,
  path: string,
  issues: ConfigIssue[],
  options: FormatOptions = {},
): TextFormatter {
  return new CompiledJsonFormat(
    compileJsonObject(json, omitEmptyValues, path, issues, options),
    omitEmptyValues,
  );
}

// ---------------------------------------------------------------------------------------
// Access-log configs

/**
 * Compiles an access log's `format` (text or JSON). `path` is the access-log entry's
 * path (`...access_log[0]`); issues are reported under `${path}.typed_config.log_format`,
 * where the v3 config puts the format.
 */
export function compileAccessLogFormat(
  config: AccessLog,
  path: string,
  issues: ConfigIssue[],
  options: FormatOptions = {},
): TextFormatter {
  const fmt = config.format;
  const at = `${path}.typed_config.log_format`;
  return fmt.kind === 'text'
    ? compileTextFormat(fmt.format, at, issues, options)
    : compileJsonFormat(fmt.json, fmt.omitEmptyValues, `${at}.json_format`, issues, options);
}

/** Config-time check of an access log's format: every problem goes to `issues`. */
export function validateAccessLogFormat(config: AccessLog, path: string, issues: ConfigIssue[]): void {
  compileAccessLogFormat(config, path, issues);
}
