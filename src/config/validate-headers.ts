// Validation of header mutations: `HeaderValueOption` lists (envoy.config.core.v3) and the
// `*_headers_to_remove` name lists shared by route configs, virtual hosts, routes and
// weighted clusters.

import type { ConfigIssue } from '../core/errors.js';
import { type EnumSpec, type FieldReader, readMessage } from './fields.js';
import type { HeaderMutations, HeaderValueOption } from './model.js';

type AppendAction = HeaderValueOption['appendAction'];

const APPEND_ACTION: EnumSpec<AppendAction> = {
  known: ['APPEND_IF_EXISTS_OR_ADD', 'ADD_IF_ABSENT', 'OVERWRITE_IF_EXISTS_OR_ADD', 'OVERWRITE_IF_EXISTS'],
  supported: [
    'APPEND_IF_EXISTS_OR_ADD',
    'ADD_IF_ABSENT',
    'OVERWRITE_IF_EXISTS_OR_ADD',
    'OVERWRITE_IF_EXISTS',
  ],
};

/** RFC 9110 §5.1: a field name is a token (§5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether `name` is a valid header field name (an RFC 9110 token, any case). */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}
/** RFC 9110 §5.5: field values must not carry CR, LF or NUL. */
const BAD_VALUE_CHAR = /[\r\n\0]/;

/**
 * Checks a header name that config wants to add or remove; returns it lower-cased, or null
 * after recording why it cannot be used.
 */
export function checkMutableHeaderName(name: string, path: string, issues: ConfigIssue[]): string | null {
  if (name.startsWith(':')) {
    issues.push({ path, message: `pseudo-header '${name}' cannot be added or removed` });
    return null;
  }
  if (!TOKEN.test(name)) {
    issues.push({ path, message: `'${name}' is not a valid header name (RFC 9110 §5.1 token)` });
    return null;
  }
  const lower = name.toLowerCase();
  if (lower === 'host') {
    issues.push({ path, message: "'host' cannot be modified here; use the route's host_rewrite_literal" });
    return null;
  }
  return lower;
}

/** Reads one `HeaderValueOption`. */
export function validateHeaderValueOption(
  raw: unknown,
  path: string,
  issues: ConfigIssue[],
): HeaderValueOption {
  const r = readMessage(raw, path, issues);
  const header = r.requiredMessage('header');
  const rawKey = header.requiredString('key');
  const value = header.string('value') ?? '';
  let key = rawKey;
  if (rawKey !== '') key = checkMutableHeaderName(rawKey, header.at('key'), issues) ?? rawKey.toLowerCase();
  if (BAD_VALUE_CHAR.test(value)) header.issue('value', 'must not contain CR, LF or NUL characters');
  let appendAction: AppendAction = 'APPEND_IF_EXISTS_OR_ADD';
  if (r.has('append') && r.has('append_action'))
    r.issue(null, 'only one of append and append_action may be set');
  if (r.has('append')) {
    // Legacy `append` (Envoy deprecated it in favour of append_action).
    appendAction = r.boolean('append', true) ? 'APPEND_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS_OR_ADD';
  }
  if (r.has('append_action')) appendAction = r.enumeration('append_action', appendAction, APPEND_ACTION);
  r.ignore('append');
  const keepEmptyValue = r.boolean('keep_empty_value', false);
  r.done();
  return { key, value, appendAction, keepEmptyValue };
}

function readOptions(r: FieldReader, name: string): HeaderValueOption[] {
  const items = r.list(name);
  const out: HeaderValueOption[] = [];
  for (let i = 0; i < items.length; i++)
    out.push(validateHeaderValueOption(items[i], `${r.at(name)}[${i}]`, r.issues));
  return out;
}

function readRemovals(r: FieldReader, name: string): string[] {
  const items = r.list(name);
  const out: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const path = `${r.at(name)}[${i}]`;
    if (typeof item !== 'string') r.issues.push({ path, message: 'expected a header name string' });
    else {
      const n = checkMutableHeaderName(item, path, r.issues);
      if (n !== null) out.push(n);
    }
  }
  return out;
}

/** Reads the four header mutation lists of a route config, virtual host, route or cluster weight. */
export function readHeaderMutations(r: FieldReader): HeaderMutations {
  return {
    requestHeadersToAdd: readOptions(r, 'request_headers_to_add'),
    requestHeadersToRemove: readRemovals(r, 'request_headers_to_remove'),
    responseHeadersToAdd: readOptions(r, 'response_headers_to_add'),
    responseHeadersToRemove: readRemovals(r, 'response_headers_to_remove'),
  };
}
