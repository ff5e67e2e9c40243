// Header mutations of routes, virtual hosts, route configurations and weighted clusters:
// compiled once per config version, applied per request/response.
//
// Semantics follow Envoy's HeaderParser::evaluateHeaders, one configuration level at a time:
// 1. that level's `*_headers_to_remove` are removed;
// 2. each `*_headers_to_add` entry is decided against the headers as they were BEFORE this
//    level's additions (so two ADD_IF_ABSENT entries for one absent name both add), and its
//    value is formatted; an empty value is skipped unless `keep_empty_value`;
// 3. overwrites (OVERWRITE_IF_EXISTS_OR_ADD, and OVERWRITE_IF_EXISTS when the name was
//    present) are applied first, then appends (APPEND_IF_EXISTS_OR_ADD, and ADD_IF_ABSENT
//    when the name was absent).
// Levels are chained through `next` and applied in order. Envoy's default order
// (most_specific_header_mutations_wins = false) is route, then virtual host, then route
// configuration, so a less specific level's overwrite wins; a weighted cluster's own
// mutations form a separate plan that the caller applies before the route's.

import type { HeaderMutations, HeaderValueOption } from '../../config/model.js';
import { addHeader, type HeaderList, hasHeader, removeHeader, setHeader } from '../http/headers.js';
import type { StreamInfo } from '../stream-info.js';

export type AppendAction = HeaderValueOption['appendAction'];

export interface CompiledHeaderValueOption {
  /** Lower-case header name. */
  readonly key: string;
  /** The value with its `%OPERATOR%`s compiled (deps.compileHeaderValue). */
  readonly format: (info: StreamInfo) => string;
  readonly appendAction: AppendAction;
  readonly keepEmptyValue: boolean;
}

/** One configuration level's mutations; `next` is the following (less specific) level. */
export interface HeaderMutationPlan {
  readonly remove: readonly string[];
  readonly add: readonly CompiledHeaderValueOption[];
  readonly next: HeaderMutationPlan | null;
}

/** A plan that changes nothing. Frozen: shared by every route without mutations. */
export const EMPTY_HEADER_MUTATION_PLAN: HeaderMutationPlan = Object.freeze({
  remove: Object.freeze([]) as readonly string[],
  add: Object.freeze([]) as readonly CompiledHeaderValueOption[],
  next: null,
});

export type CompileHeaderValue = (value: string) => (info: StreamInfo) => string;

/**
 * A compiled level. `values` is scratch space for step 2 above, owned by this level so
 * applying allocates nothing; safe because applying is synchronous and never re-entrant.
 */
class MutationLevel implements HeaderMutationPlan {
  readonly values: (string | null)[];
  constructor(
    readonly remove: readonly string[],
    readonly add: readonly CompiledHeaderValueOption[],
    readonly next: HeaderMutationPlan | null,
  ) {
    this.values = new Array<string | null>(add.length).fill(null);
  }
}

/**
 * Compiles one level's mutations, chained before `next`. Returns `next` unchanged when the
 * level has nothing to do, so empty levels cost nothing at request time.
 */
export function compileHeaderMutationLevel(
  toAdd: readonly HeaderValueOption[],
  toRemove: readonly string[],
  next: HeaderMutationPlan | null,
  compileHeaderValue: CompileHeaderValue,
): HeaderMutationPlan | null {
  if (toAdd.length === 0 && toRemove.length === 0) return next;
  const add = toAdd.map(
    (o): CompiledHeaderValueOption => ({
      key: o.key,
      format: compileHeaderValue(o.value),
      appendAction: o.appendAction,
      keepEmptyValue: o.keepEmptyValue,
    }),
  );
  return new MutationLevel([...toRemove], add, next);
}

/** The request- and response-side levels of one HeaderMutations config. */
export function compileHeaderMutations(
  m: HeaderMutations,
  nextRequest: HeaderMutationPlan | null,
  nextResponse: HeaderMutationPlan | null,
  compileHeaderValue: CompileHeaderValue,
): { request: HeaderMutationPlan | null; response: HeaderMutationPlan | null } {
  return {
    request: compileHeaderMutationLevel(
      m.requestHeadersToAdd,
      m.requestHeadersToRemove,
      nextRequest,
      compileHeaderValue,
    ),
    response: compileHeaderMutationLevel(
      m.responseHeadersToAdd,
      m.responseHeadersToRemove,
      nextResponse,
      compileHeaderValue,
    ),
  };
}

/** Applies every level of `plan` to `headers` in place. */
export function applyHeaderMutations(headers: HeaderList, plan: HeaderMutationPlan, info: StreamInfo): void {
  for (let p: HeaderMutationPlan | null = plan; p !== null; p = p.next) applyLevel(headers, p, info);
}

function applyLevel(headers: HeaderList, plan: HeaderMutationPlan, info: StreamInfo): void {
  const remove = plan.remove;
  for (let i = 0; i < remove.length; i++) removeHeader(headers, remove[i]);
  const add = plan.add;
  const n = add.length;
  if (n === 0) return;
  const values = plan instanceof MutationLevel ? plan.values : new Array<string | null>(n);
  // Decide and format every entry against the headers before this level's writes.
  for (let i = 0; i < n; i++) {
    const o = add[i];
    let eligible: boolean;
    switch (o.appendAction) {
      case 'ADD_IF_ABSENT':
        eligible = !hasHeader(headers, o.key);
        break;
      case 'OVERWRITE_IF_EXISTS':
        eligible = hasHeader(headers, o.key);
        break;
      default:
        eligible = true;
    }
    if (!eligible) {
      values[i] = null;
      continue;
    }
    const v = o.format(info);
    values[i] = v !== '' || o.keepEmptyValue ? v : null;
  }
  // Overwrites first, then additions (Envoy applies headers_to_overwrite before headers_to_add).
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null) continue;
    const a = add[i].appendAction;
    if (a === 'OVERWRITE_IF_EXISTS_OR_ADD' || a === 'OVERWRITE_IF_EXISTS') setHeader(headers, add[i].key, v);
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null) continue;
    // Drop the reference so a formatted value does not outlive the request.
    values[i] = null;
    const a = add[i].appendAction;
    if (a === 'APPEND_IF_EXISTS_OR_ADD' || a === 'ADD_IF_ABSENT') addHeader(headers, add[i].key, v);
  }
}
