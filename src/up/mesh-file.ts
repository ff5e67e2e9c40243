// The mesh file of `weft up` (mesh.yaml): reads it, validates it once, and returns a
// frozen, typed MeshFile. Every problem is reported (not just the first) as
// `mesh.yaml:12:7: workloads[1].replicas: ...`, positions taken from the YAML source so a
// user can jump to the line; unknown fields are refused by name, with a suggestion.
// Schema and example: docs/up.md.

import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type Document, isMap, isNode, isPair, isScalar, LineCounter, parseDocument } from 'yaml';
import {
  DEFAULT_NAMESPACE,
  dns1123LabelProblem,
  labelValueProblem,
  qualifiedNameProblem,
} from '../control/kinds/metadata.js';
import { ConfigError, type ConfigIssue, WeftError } from '../core/errors.js';

export const MESH_FILE_NAME = 'mesh.yaml';
export const WORKLOAD_PROTOCOLS = ['HTTP', 'HTTP2', 'GRPC', 'TCP'] as const;
export type WorkloadProtocol = (typeof WORKLOAD_PROTOCOLS)[number];
export const MAX_REPLICAS = 64;
export const DEFAULT_READY_TIMEOUT_SECONDS = 30;
/** `weft.dev/upstream-port-<service>` must fit the 63-character name part of an annotation key. */
const MAX_SERVICE_NAME = 63 - 'upstream-port-'.length;

export interface MeshReadiness {
  /** GET this path on the app port and wait for a 2xx; absent = wait for a TCP connect. */
  readonly httpPath?: string;
  readonly timeoutSeconds: number;
}

export interface MeshWorkload {
  readonly name: string;
  readonly service: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Absolute; defaults to the mesh file's directory. */
  readonly cwd: string;
  /** The app's private port; 0 = weft up picks one and passes it as $PORT. */
  readonly port: number;
  readonly replicas: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly locality?: { readonly region?: string; readonly zone?: string };
  readonly protocol: WorkloadProtocol;
  readonly upstreams: readonly string[];
  readonly readiness: MeshReadiness;
  /** Restart the app when it exits (with backoff); default true. */
  readonly restart: boolean;
}

export interface MeshFile {
  /** Absolute path of the mesh file. */
  readonly file: string;
  /** The directory it is in (the project directory). */
  readonly dir: string;
  readonly namespace: string;
  /** 0 = pick a free port. */
  readonly control: { readonly apiPort: number; readonly xdsPort: number };
  readonly workloads: readonly MeshWorkload[];
}

const TOP_FIELDS = ['namespace', 'control', 'workloads'];
const CONTROL_FIELDS = ['apiPort', 'xdsPort'];
const WORKLOAD_FIELDS = [
  'name',
  'service',
  'command',
  'args',
  'env',
  'cwd',
  'port',
  'replicas',
  'labels',
  'locality',
  'protocol',
  'upstreams',
  'readiness',
  'restart',
];
const LOCALITY_FIELDS = ['region', 'zone'];
const READINESS_FIELDS = ['httpPath', 'timeoutSeconds'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables weft up sets itself (docs/up.md); a mesh file setting them would break the wiring. */
const RESERVED_ENV = /^(PORT|HTTP_PROXY|http_proxy|NO_PROXY|no_proxy|WEFT_.*)$/;

/** `path` is a DIR (its mesh.yaml) or a file. */
export async function resolveMeshPath(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return (await stat(abs)).isDirectory() ? join(abs, MESH_FILE_NAME) : abs;
  } catch (err) {
    throw new WeftError('WEFT_CONFIG_READ', `cannot read ${path}: ${(err as Error).message}`);
  }
}

export async function loadMeshFile(path: string): Promise<MeshFile> {
  const file = await resolveMeshPath(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new WeftError(
      'WEFT_CONFIG_READ',
      `cannot read ${file}: ${(err as Error).message}` +
        ((err as NodeJS.ErrnoException).code === 'ENOENT'
          ? ' (weft up looks for mesh.yaml in the directory given)'
          : ''),
    );
  }
  return parseMeshFile(text, file);
}

/** Parses and validates mesh-file text; `file` is used for messages and as the base of relative paths. */
export function parseMeshFile(text: string, file: string): MeshFile {
  const shown = basename(file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, logLevel: 'silent', uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const pos = lineCounter.linePos(syntax.pos[0]);
    throw new WeftError(
      'WEFT_CONFIG_READ',
      `${file}:${pos.line}:${pos.col}: YAML syntax error: ${syntax.message.split('\n')[0]}`,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new WeftError('WEFT_CONFIG_READ', `${file}: ${(err as Error).message}`);
  }
  const v = new Validator(dirname(file));
  const mesh = v.top(value);
  if (v.issues.length > 0) {
    const located: ConfigIssue[] = v.issues.map((i) => ({
      path: `${shown}:${position(doc, lineCounter, i.segs, i.atKey)}: ${renderPath(i.segs)}`,
      message: i.message,
    }));
    throw new ConfigError(file, located);
  }
  return deepFreeze({ ...mesh, file, dir: dirname(file) });
}

type Seg = string | number;
interface RawIssue {
  segs: Seg[];
  message: string;
  /** Point at the key (unknown field) rather than the value. */
  atKey: boolean;
}

class Validator {
  readonly issues: RawIssue[] = [];
  constructor(private readonly baseDir: string) {}

  private add(segs: Seg[], message: string, atKey = false): void {
    this.issues.push({ segs, message, atKey });
  }

  top(value: unknown): Omit<MeshFile, 'file' | 'dir'> {
    const empty = { namespace: DEFAULT_NAMESPACE, control: { apiPort: 0, xdsPort: 0 }, workloads: [] };
    if (value === null || value === undefined) {
      this.add([], 'the mesh file is empty; it needs at least `workloads:` (see docs/up.md)');
      return empty;
    }
    const obj = this.object([], value);
    if (obj === undefined) return empty;
    this.unknown([], obj, TOP_FIELDS);
    let namespace = DEFAULT_NAMESPACE;
    if (obj.namespace !== undefined) {
      const ns = this.string(['namespace'], obj.namespace);
      if (ns !== undefined) {
        const p = dns1123LabelProblem(ns);
        if (p !== null) this.add(['namespace'], p);
        else namespace = ns;
      }
    }
    const control = { apiPort: 0, xdsPort: 0 };
    if (obj.control !== undefined) {
      const c = this.object(['control'], obj.control);
      if (c !== undefined) {
        this.unknown(['control'], c, CONTROL_FIELDS);
        for (const f of ['apiPort', 'xdsPort'] as const)
          if (c[f] !== undefined) control[f] = this.port(['control', f], c[f]) ?? 0;
        if (control.apiPort !== 0 && control.apiPort === control.xdsPort)
          this.add(['control', 'xdsPort'], `must differ from control.apiPort (both are ${control.apiPort})`);
      }
    }
    const workloads: MeshWorkload[] = [];
    const at: number[] = [];
    if (obj.workloads === undefined)
      this.add([], 'missing required field `workloads` (a list of workloads to run)');
    else if (!Array.isArray(obj.workloads))
      this.add(['workloads'], `must be a list, got ${describe(obj.workloads)}`);
    else if (obj.workloads.length === 0) this.add(['workloads'], 'must list at least one workload');
    else
      obj.workloads.forEach((w, i) => {
        const wl = this.workload(['workloads', i], w);
        if (wl === undefined) return;
        workloads.push(wl);
        at.push(i);
      });
    this.crossChecks(workloads, at, control);
    return { namespace, control, workloads };
  }

  private workload(at: Seg[], value: unknown): MeshWorkload | undefined {
    const o = this.object(at, value);
    if (o === undefined) return undefined;
    this.unknown(at, o, WORKLOAD_FIELDS);
    const name = this.required(at, o, 'name', (p, v) => this.label(p, v));
    const service = this.required(at, o, 'service', (p, v) => this.label(p, v, MAX_SERVICE_NAME));
    const command = this.required(at, o, 'command', (p, v) => this.nonEmpty(p, v));
    const args = o.args === undefined ? [] : this.scalarList([...at, 'args'], o.args);
    const env: Record<string, string> = {};
    if (o.env !== undefined) {
      const e = this.object([...at, 'env'], o.env);
      for (const [k, v] of Object.entries(e ?? {})) {
        const p = [...at, 'env', k];
        if (!ENV_NAME.test(k))
          this.add(p, `'${k}' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)`, true);
        else if (RESERVED_ENV.test(k))
          this.add(p, `${k} is set by weft up (see docs/up.md, "What an app gets"); remove it`, true);
        const s = this.scalar(p, v);
        if (s !== undefined) env[k] = s;
      }
    }
    const cwd =
      o.cwd === undefined ? this.baseDir : resolve(this.baseDir, this.nonEmpty([...at, 'cwd'], o.cwd) ?? '.');
    const port = o.port === undefined ? 0 : (this.port([...at, 'port'], o.port) ?? 0);
    let replicas = 1;
    if (o.replicas !== undefined) {
      const r = o.replicas;
      if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > MAX_REPLICAS)
        this.add([...at, 'replicas'], `must be an integer between 1 and ${MAX_REPLICAS}, got ${describe(r)}`);
      else replicas = r;
    }
    if (replicas > 1 && port !== 0)
      this.add(
        [...at, 'port'],
        `${replicas} replicas cannot share the fixed port ${port}; use 0 (or omit it) so each gets its own $PORT`,
      );
    const labels: Record<string, string> = {};
    if (o.labels !== undefined) {
      const l = this.object([...at, 'labels'], o.labels);
      for (const [k, v] of Object.entries(l ?? {})) {
        const p = [...at, 'labels', k];
        const kp = qualifiedNameProblem(k);
        if (kp !== null) this.add(p, kp, true);
        else if (k.startsWith('weft.dev/'))
          this.add(p, `the prefix weft.dev/ is reserved for labels weft up sets`, true);
        const s = this.scalar(p, v);
        if (s === undefined) continue;
        const vp = labelValueProblem(s);
        if (vp !== null) this.add(p, vp);
        else labels[k] = s;
      }
    }
    let locality: { region?: string; zone?: string } | undefined;
    if (o.locality !== undefined) {
      const l = this.object([...at, 'locality'], o.locality);
      if (l !== undefined) {
        this.unknown([...at, 'locality'], l, LOCALITY_FIELDS);
        locality = {};
        for (const f of ['region', 'zone'] as const)
          if (l[f] !== undefined) {
            const s = this.nonEmpty([...at, 'locality', f], l[f]);
            if (s !== undefined) locality[f] = s;
          }
      }
    }
    let protocol: WorkloadProtocol = 'HTTP';
    if (o.protocol !== undefined) {
      const p = o.protocol;
      if (typeof p === 'string' && (WORKLOAD_PROTOCOLS as readonly string[]).includes(p.toUpperCase()))
        protocol = p.toUpperCase() as WorkloadProtocol;
      else
        this.add([...at, 'protocol'], `must be one of ${WORKLOAD_PROTOCOLS.join(', ')}, got ${describe(p)}`);
    }
    const upstreams = o.upstreams === undefined ? [] : this.scalarList([...at, 'upstreams'], o.upstreams);
    upstreams.forEach((u, j) => {
      if (upstreams.indexOf(u) !== j) this.add([...at, 'upstreams', j], `'${u}' is listed twice`);
    });
    const readiness = { timeoutSeconds: DEFAULT_READY_TIMEOUT_SECONDS } as {
      httpPath?: string;
      timeoutSeconds: number;
    };
    if (o.readiness !== undefined) {
      const r = this.object([...at, 'readiness'], o.readiness);
      if (r !== undefined) {
        this.unknown([...at, 'readiness'], r, READINESS_FIELDS);
        if (r.httpPath !== undefined) {
          const h = this.string([...at, 'readiness', 'httpPath'], r.httpPath);
          if (h !== undefined && !h.startsWith('/'))
            this.add([...at, 'readiness', 'httpPath'], `must start with '/', got '${h}'`);
          else if (h !== undefined) readiness.httpPath = h;
        }
        if (r.timeoutSeconds !== undefined) {
          const t = r.timeoutSeconds;
          if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t > 3600)
            this.add(
              [...at, 'readiness', 'timeoutSeconds'],
              `must be a number of seconds in (0, 3600], got ${describe(t)}`,
            );
          else readiness.timeoutSeconds = t;
        }
      }
      if (protocol !== 'HTTP' && readiness.httpPath !== undefined)
        this.add(
          [...at, 'readiness', 'httpPath'],
          `an HTTP readiness check needs protocol HTTP, not ${protocol}`,
        );
    }
    let restart = true;
    if (o.restart !== undefined) {
      if (typeof o.restart !== 'boolean')
        this.add([...at, 'restart'], `must be true or false, got ${describe(o.restart)}`);
      else restart = o.restart;
    }
    if (name === undefined || service === undefined || command === undefined) return undefined;
    return {
      name,
      service,
      command,
      args,
      env,
      cwd,
      port,
      replicas,
      labels,
      ...(locality === undefined ? {} : { locality }),
      protocol,
      upstreams,
      readiness,
      restart,
    };
  }

  /** Checks across workloads: unique names, known upstreams, one protocol per service, distinct fixed ports. */
  private crossChecks(
    workloads: readonly MeshWorkload[],
    indexes: readonly number[],
    control: { apiPort: number; xdsPort: number },
  ): void {
    const seen = new Map<string, number>();
    const protocols = new Map<string, { protocol: WorkloadProtocol; name: string }>();
    const fixed = new Map<number, string>();
    if (control.apiPort !== 0) fixed.set(control.apiPort, 'control.apiPort');
    if (control.xdsPort !== 0) fixed.set(control.xdsPort, 'control.xdsPort');
    const services = new Set(workloads.map((w) => w.service));
    workloads.forEach((w, k) => {
      const i = indexes[k]!;
      const dup = seen.get(w.name);
      if (dup !== undefined)
        this.add(['workloads', i, 'name'], `'${w.name}' is already the name of workloads[${dup}]`);
      else seen.set(w.name, i);
      // Replica names are <name>-<n>; they must not collide with another workload's replicas.
      const p = protocols.get(w.service);
      if (p === undefined) protocols.set(w.service, { protocol: w.protocol, name: w.name });
      else if (p.protocol !== w.protocol)
        this.add(
          ['workloads', i, 'protocol'],
          `service '${w.service}' is ${p.protocol} in workload '${p.name}' but ${w.protocol} here; one service has one protocol`,
        );
      w.upstreams.forEach((u, j) => {
        const lp = dns1123LabelProblem(u);
        if (lp !== null) this.add(['workloads', i, 'upstreams', j], lp);
        else if (!services.has(u))
          this.add(
            ['workloads', i, 'upstreams', j],
            `no workload provides service '${u}' (services in this file: ${[...services].sort().join(', ')})`,
          );
      });
      if (w.port !== 0) {
        const other = fixed.get(w.port);
        if (other !== undefined)
          this.add(['workloads', i, 'port'], `port ${w.port} is already used by ${other}`);
        else fixed.set(w.port, `workloads[${i}].port`);
      }
    });
    const replicaNames = new Map<string, string>();
    workloads.forEach((w, k) => {
      for (let r = 0; r < w.replicas; r++) {
        const rn = `${w.name}-${r}`;
        const other = replicaNames.get(rn);
        if (other !== undefined && other !== w.name)
          this.add(
            ['workloads', indexes[k]!, 'name'],
            `replica name '${rn}' collides with a replica of '${other}'`,
          );
        replicaNames.set(rn, w.name);
      }
    });
  }

  private required<T>(
    at: Seg[],
    o: Record<string, unknown>,
    f: string,
    read: (p: Seg[], v: unknown) => T | undefined,
  ) {
    if (o[f] === undefined || o[f] === null) {
      this.add(at, `missing required field \`${f}\``);
      return undefined;
    }
    return read([...at, f], o[f]);
  }

  private object(at: Seg[], v: unknown): Record<string, unknown> | undefined {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.add(at, `must be a mapping (key: value), got ${describe(v)}`);
      return undefined;
    }
    return v as Record<string, unknown>;
  }

  private unknown(at: Seg[], o: Record<string, unknown>, allowed: readonly string[]): void {
    for (const k of Object.keys(o))
      if (!allowed.includes(k)) {
        const near = closest(k, allowed);
        this.add(
          [...at, k],
          `unknown field '${k}'${near === undefined ? '' : ` (did you mean '${near}'?)`}; allowed: ${allowed.join(', ')}`,
          true,
        );
      }
  }

  private string(at: Seg[], v: unknown): string | undefined {
    if (typeof v !== 'string') {
      this.add(at, `must be a string, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  private nonEmpty(at: Seg[], v: unknown): string | undefined {
    const s = this.string(at, v);
    if (s !== undefined && s.trim() === '') {
      this.add(at, 'must not be empty');
      return undefined;
    }
    return s;
  }

  private label(at: Seg[], v: unknown, max = 63): string | undefined {
    const s = this.string(at, v);
    if (s === undefined) return undefined;
    const p = s.length > max ? `must be at most ${max} characters, got ${s.length}` : dns1123LabelProblem(s);
    if (p !== null) {
      this.add(at, p);
      return undefined;
    }
    return s;
  }

  /** Strings, numbers and booleans as strings: `args: [--port, 8080]` means what it says. */
  private scalar(at: Seg[], v: unknown): string | undefined {
    if (typeof v === 'string') return v;
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
    this.add(at, `must be a string, number or boolean, got ${describe(v)}`);
    return undefined;
  }

  private scalarList(at: Seg[], v: unknown): string[] {
    if (!Array.isArray(v)) {
      this.add(at, `must be a list, got ${describe(v)}`);
      return [];
    }
    const out: string[] = [];
    v.forEach((x, i) => {
      const s = this.scalar([...at, i], x);
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  private port(at: Seg[], v: unknown): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
      this.add(at, `must be a port number between 1 and 65535, or 0 to pick a free one; got ${describe(v)}`);
      return undefined;
    }
    return v;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** The allowed name nearest to a misspelt one (edit distance ≤ 2), for "did you mean". */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** `workloads[0].labels["example.com/tier"]`, `(root)` for the document itself. */
export function renderPath(segs: readonly Seg[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out === '' ? '(root)' : out;
}

/** `line:col` of the deepest existing node on the path (a missing field points at its parent). */
function position(doc: Document, lines: LineCounter, segs: readonly Seg[], atKey: boolean): string {
  const at = (offset: number) => {
    const p = lines.linePos(offset);
    return `${p.line}:${p.col}`;
  };
  if (atKey && segs.length > 0) {
    const parent = segs.length === 1 ? doc.contents : doc.getIn(segs.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segs.at(-1)),
      );
      if (pair !== undefined && isNode(pair.key) && pair.key.range) return at(pair.key.range[0]);
    }
  }
  for (let n = segs.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segs.slice(0, n), true);
    if (isNode(node) && node.range) return at(node.range[0]);
  }
  return '1:1';
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
