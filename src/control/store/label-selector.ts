// Kubernetes label selectors (equality- and set-based), as used by `list` and
// `weft get -l`: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a` (exists), `!a`
// (does not exist), ANDed with commas. Reference: Kubernetes "Labels and Selectors".

import { labelValueProblem, qualifiedNameProblem } from '../kinds/metadata.js';

export type LabelRequirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | 'notexists' };

export type LabelSelector = readonly LabelRequirement[];

/** Parses a selector string; returns the problem as a string when it does not parse. */
export function parseLabelSelector(text: string): LabelSelector | string {
  const reqs: LabelRequirement[] = [];
  for (const raw of splitTopLevel(text)) {
    const part = raw.trim();
    if (part === '') continue;
    const req = parseRequirement(part);
    if (typeof req === 'string') return req;
    reqs.push(req);
  }
  return reqs;
}

/** Splits on commas that are not inside a `( ... )` value set. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseRequirement(part: string): LabelRequirement | string {
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (set !== null) {
    const values = set[3].split(',').map((v) => v.trim());
    for (const v of values) {
      const p = labelValueProblem(v);
      if (p !== null) return `in '${part}': value ${p}`;
    }
    return checkKey(set[1], part) ?? { key: set[1], op: set[2] as 'in' | 'notin', values };
  }
  const eq = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
  if (eq !== null) {
    const p = labelValueProblem(eq[3]);
    if (p !== null) return `in '${part}': value ${p}`;
    return checkKey(eq[1], part) ?? { key: eq[1], op: eq[2] === '!=' ? 'notin' : 'in', values: [eq[3]] };
  }
  if (part.startsWith('!')) {
    const key = part.slice(1).trim();
    return checkKey(key, part) ?? { key, op: 'notexists' };
  }
  if (!/[\s=!()]/.test(part)) return checkKey(part, part) ?? { key: part, op: 'exists' };
  return `cannot parse '${part}': expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key`;
}

function checkKey(key: string, part: string): string | null {
  const p = qualifiedNameProblem(key);
  return p === null ? null : `in '${part}': ${p}`;
}

export function matchesLabels(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  for (const req of selector) {
    const has = labels !== undefined && Object.hasOwn(labels, req.key);
    switch (req.op) {
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
      case 'in':
        if (!has || !req.values.includes(labels[req.key])) return false;
        break;
      case 'notin':
        // Kubernetes: `a!=b` and `a notin (b)` also match objects without the label.
        if (has && req.values.includes(labels[req.key])) return false;
        break;
    }
  }
  return true;
}
