// The CLI's client for the control plane API (docs/api.md): finds it from --control or
// WEFT_CONTROL, turns API error bodies into ApiError, and a connection failure into a clear
// "cannot reach the control plane" error. Also the shared error printing of the verbs.

import type { ResourceIssue } from '../control/resource.js';

export const DEFAULT_CONTROL_URL = 'http://127.0.0.1:15000';

/** An error answered by the API, or the client's own (WEFT_CONTROL_UNREACHABLE). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly issues: readonly ResourceIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface KindInfo {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly aliases: readonly string[];
  readonly namespaced: boolean;
}

export interface ControlClient {
  readonly baseUrl: string;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  kinds(): Promise<KindInfo[]>;
}

export function resolveControlUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const url = flag ?? env.WEFT_CONTROL ?? DEFAULT_CONTROL_URL;
  return url.replace(/\/+$/, '');
}

export function createControlClient(baseUrl: string): ControlClient {
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(baseUrl + path, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(
        'WEFT_CONTROL_UNREACHABLE',
        0,
        `cannot reach the control plane at ${baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}); ` +
          'is `weft control` running? Point the CLI at it with --control URL or WEFT_CONTROL',
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ApiError(
        'WEFT_CONTROL_UNREACHABLE',
        res.status,
        `${baseUrl} did not answer like a Weft control plane (HTTP ${res.status})`,
      );
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string; issues?: ResourceIssue[] } }).error;
      throw new ApiError(
        e?.code ?? 'WEFT_INTERNAL',
        res.status,
        e?.message ?? `HTTP ${res.status}`,
        e?.issues ?? [],
      );
    }
    return parsed as T;
  }
  return {
    baseUrl,
    request,
    async kinds() {
      return (await request<{ kinds: KindInfo[] }>('GET', '/apis')).kinds;
    },
  };
}

/** The API path of a kind's collection, in one namespace or (undefined) all of them. */
export function collectionPath(kind: KindInfo, namespace: string | undefined): string {
  const ns = kind.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `/apis/${kind.apiVersion}${ns}/${kind.plural}`;
}

/** Finds the kind a user means (`svc`, `workloads`, `tcproutes.specs.smi-spec.io`). */
export function resolveKind(kinds: readonly KindInfo[], name: string): KindInfo {
  const wanted = name.toLowerCase();
  const names = (k: KindInfo) => [k.kind.toLowerCase(), k.plural, ...k.aliases];
  let found = kinds.filter((k) => names(k).includes(wanted));
  if (found.length === 0)
    found = kinds.filter((k) => names(k).some((n) => `${n}.${k.apiVersion.split('/')[0]}` === wanted));
  if (found.length === 1) return found[0]!;
  if (found.length > 1)
    throw new ApiError(
      'WEFT_USAGE',
      0,
      `'${name}' is ambiguous: use one of ${found.map((k) => `${k.plural}.${k.apiVersion.split('/')[0]}`).join(', ')}`,
    );
  const known = kinds.map((k) => (k.aliases.length > 0 ? `${k.plural} (${k.aliases.join(', ')})` : k.plural));
  throw new ApiError(
    'WEFT_USAGE',
    0,
    `unknown resource type '${name}'; the control plane serves: ${known.join(', ')}`,
  );
}

/** Runs a CLI verb, printing ApiErrors as `weft: error [CODE]: message` plus their issues (exit 1). */
export async function reportApiErrors(run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const lines = err.issues.map((i) => `\n  - ${i.path}: ${i.message}`).join('');
    process.stderr.write(`weft: error [${err.code}]: ${err.message}${lines}\n`);
    return 1;
  }
}
