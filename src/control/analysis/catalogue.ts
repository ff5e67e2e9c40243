// The catalogue of `weft check` findings: every code with its severity, a title and the
// generic one-line fix, plus the Finding shape the analysers return. Codes are stable
// (scripts match on them); docs/check.md lists the same codes, and a test keeps the two
// in step (fastify's rule for error catalogues).

import type { Resource } from '../resource.js';

export type Severity = 'error' | 'warning' | 'info';

export interface CatalogueEntry {
  readonly severity: Severity;
  readonly title: string;
  /** The generic fix; an analyser may give a more specific one for a finding. */
  readonly fix: string;
}

export const FINDING_CODES = {
  WEFT0001: {
    severity: 'error',
    title: 'Invalid resource',
    fix: 'Correct the field as the message says; `weft apply` refuses the whole batch until then.',
  },
  WEFT0002: {
    severity: 'error',
    title: 'Resource defined twice in the files',
    fix: 'Keep one definition of the resource; `weft apply` refuses duplicates.',
  },
  WEFT0003: {
    severity: 'error',
    title: 'File cannot be read or parsed',
    fix: 'Fix the YAML/JSON syntax at the given line, or the path.',
  },
  WEFT0101: {
    severity: 'error',
    title: 'Backend Service (or its port) missing',
    fix: 'Create the Service with that port, or point the backend at an existing Service and port.',
  },
  WEFT0102: {
    severity: 'warning',
    title: 'Service selects no Workloads',
    fix: "Make spec.selector match the labels of the Service's Workloads, or register Workloads with those labels.",
  },
  WEFT0103: {
    severity: 'info',
    title: 'Service no route, split or policy refers to',
    fix: 'Nothing to do if clients call it directly; otherwise attach a route or delete the Service.',
  },
  WEFT0104: {
    severity: 'error',
    title: 'Route parent or TrafficSplit root Service missing',
    fix: 'Create the parent Service (with an HTTP, HTTP2 or GRPC port), or correct the parentRef / spec.service.',
  },
  WEFT0105: {
    severity: 'warning',
    title: 'Conflicting routes: identical match on the same parent',
    fix: 'Make the matches differ, merge the routes, or delete the one that loses.',
  },
  WEFT0106: {
    severity: 'warning',
    title: 'TrafficSplit backend without healthy endpoints',
    fix: "Start (or mark healthy) Workloads for the backend Service, or set the backend's weight to 0.",
  },
  WEFT0107: {
    severity: 'warning',
    title: 'DestinationPolicy targets nothing',
    fix: "Correct spec.targetRef (name, port) to a Service in the policy's namespace, or delete the policy.",
  },
  WEFT0108: {
    severity: 'warning',
    title: 'Workload port no Service uses',
    fix: "Rename the port to a port name of a Service that selects the Workload, or fix the Workload's labels.",
  },
  WEFT0109: {
    severity: 'error',
    title: 'Weights sum to 0',
    fix: 'Give at least one backend a weight above 0 (every request otherwise fails with 500).',
  },
  WEFT0110: {
    severity: 'error',
    title: 'Backend reference not allowed',
    fix: "Reference a Service (kind: Service, group: ''), in the route's or the parent Service's namespace.",
  },
} as const satisfies Record<string, CatalogueEntry>;

export type FindingCode = keyof typeof FINDING_CODES;

/** Which resource a finding is about. `namespace` is '' for cluster-scoped kinds. */
export interface ResourceRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly resource: ResourceRef;
  /** Field path inside the resource (`spec.rules[0].backendRefs[1]`), when one field is at fault. */
  readonly path?: string;
  readonly message: string;
  readonly fix: string;
  /** `file:line (document n)` when the resource came from a file (set by the caller that read it). */
  readonly location?: string;
}

export function refOf(r: Resource<unknown, unknown>): ResourceRef {
  return {
    apiVersion: r.apiVersion,
    kind: r.kind,
    namespace: r.metadata.namespace ?? '',
    name: r.metadata.name,
  };
}

/** `HTTPRoute shop/web` (or `Kind name` for cluster-scoped kinds). */
export function describeRef(ref: ResourceRef): string {
  return `${ref.kind} ${ref.namespace === '' ? '' : `${ref.namespace}/`}${ref.name}`;
}

/** A finding with the catalogue's severity and (unless given) its generic fix. */
export function finding(
  code: FindingCode,
  resource: ResourceRef | Resource<unknown, unknown>,
  message: string,
  options: { readonly path?: string; readonly fix?: string } = {},
): Finding {
  const ref = 'metadata' in resource ? refOf(resource) : resource;
  const entry: CatalogueEntry = FINDING_CODES[code];
  return {
    code,
    severity: entry.severity,
    resource: ref,
    ...(options.path === undefined ? {} : { path: options.path }),
    message,
    fix: options.fix ?? entry.fix,
  };
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Errors first, then by code, resource and path: a stable order for tables and diffs. */
export function compareFindings(a: Finding, b: Finding): number {
  const keys = (f: Finding) => [
    SEVERITY_ORDER[f.severity],
    f.code,
    f.resource.kind,
    f.resource.namespace,
    f.resource.name,
    f.path ?? '',
    f.message,
  ];
  const ka = keys(a);
  const kb = keys(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  }
  return 0;
}
