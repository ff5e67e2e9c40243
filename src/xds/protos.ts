// Loads the Envoy v3 API protos (shipped in @grpc/grpc-js-xds's deps/ folder) into one
// protobufjs Root, lazily and once per loader. Callers create a loader and share it; there is
// no module-level cache, so tests and processes decide the lifetime.
//
// Only the files Weft serves or embeds are listed; their imports (annotations, validate,
// google/rpc, xds core) are followed by protobufjs. The well-known google/protobuf types come
// from protobufjs's bundled definitions (and its descriptor.proto for option declarations).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';

/** Entry-point .proto files (relative to the include dirs) Weft loads. */
export const ENVOY_PROTO_FILES: readonly string[] = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/network/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/http/original_ip_detection/custom_header/v3/custom_header.proto',
  'envoy/extensions/http/original_ip_detection/xff/v3/xff.proto',
  'envoy/extensions/load_balancing_policies/ring_hash/v3/ring_hash.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/wrr_locality/v3/wrr_locality.proto',
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
  // Well-known types not imported by the above but part of the JSON mapping.
  'google/protobuf/field_mask.proto',
  'google/protobuf/empty.proto',
];

export interface XdsProtos {
  readonly root: protobuf.Root;
  /** Milliseconds spent parsing and resolving the protos (measured once, at load). */
  readonly loadMs: number;
  /** A message type by full name (`envoy.config.cluster.v3.Cluster`) or type URL; throws if unknown. */
  lookupType(nameOrTypeUrl: string): protobuf.Type;
  /** Like lookupType but undefined when the type is not loaded. */
  findType(nameOrTypeUrl: string): protobuf.Type | undefined;
}

export interface ProtoLoader {
  /** Loads on first call (synchronously, ~0.5-1 s) and returns the same XdsProtos afterwards. */
  get(): XdsProtos;
  /** True once get() has loaded the protos. */
  readonly loaded: boolean;
}

export interface ProtoLoaderOptions {
  /** More entry-point files to load (relative to the include dirs), e.g. another filter's config. */
  extraFiles?: readonly string[];
  /**
   * A directory for the parsed definitions (protos-<key>.json, keyed by the protobufjs and
   * grpc-js-xds versions and the file list). A later load reads them instead of parsing the
   * .proto files again, which shortens a restart (`weft control` keeps it in its state dir).
   * Unreadable entries are ignored and rewritten. The JSON form keeps every message, field
   * and option Weft reads (protobufjs drops only enum values' own options).
   */
  cacheDir?: string;
}

/** The include dirs: the four deps/ folders of @grpc/grpc-js-xds plus protobufjs's own google/protobuf. */
export function envoyProtoIncludeDirs(): string[] {
  // Resolved through Node's module resolution so a hoisted or nested install both work.
  const require = createRequire(import.meta.url);
  const xdsDir = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const pbDir = path.dirname(require.resolve('protobufjs/package.json'));
  const deps = path.join(xdsDir, 'deps');
  return [
    path.join(deps, 'envoy-api'),
    path.join(deps, 'xds'),
    path.join(deps, 'googleapis'),
    path.join(deps, 'protoc-gen-validate'),
    pbDir,
  ];
}

const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** Strips a `type.googleapis.com/` (or any `host/`) prefix: the type URL names the message after the last '/'. */
export function typeNameOfUrl(typeUrl: string): string {
  const slash = typeUrl.lastIndexOf('/');
  return slash < 0 ? typeUrl : typeUrl.slice(slash + 1);
}

export function typeUrlOf(typeName: string): string {
  return TYPE_URL_PREFIX + typeName;
}

export function createProtoLoader(options: ProtoLoaderOptions = {}): ProtoLoader {
  let protos: XdsProtos | undefined;
  return {
    get() {
      protos ??= loadProtos([...ENVOY_PROTO_FILES, ...(options.extraFiles ?? [])], options.cacheDir);
      return protos;
    },
    get loaded() {
      return protos !== undefined;
    },
  };
}

function loadProtos(files: readonly string[], cacheDir: string | undefined): XdsProtos {
  const started = performance.now();
  const cachePath =
    cacheDir === undefined ? undefined : path.join(cacheDir, `protos-${cacheKey(files)}.json`);
  const cached = cachePath === undefined ? undefined : readCachedRoot(cachePath);
  const root = cached ?? parseProtos(files);
  if (cachePath !== undefined && cached === undefined) writeCachedRoot(cachePath, root);
  const loadMs = performance.now() - started;
  const findType = (nameOrUrl: string): protobuf.Type | undefined => {
    const name = typeNameOfUrl(nameOrUrl);
    const found = root.lookup(name.startsWith('.') ? name : `.${name}`);
    return found instanceof protobuf.Type ? found : undefined;
  };
  return {
    root,
    loadMs,
    findType,
    lookupType(nameOrUrl) {
      const t = findType(nameOrUrl);
      if (t === undefined) throw new Error(`unknown protobuf message type '${typeNameOfUrl(nameOrUrl)}'`);
      return t;
    },
  };
}

function parseProtos(files: readonly string[]): protobuf.Root {
  const includeDirs = envoyProtoIncludeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (path.isAbsolute(target) && existsSync(target)) return target;
    for (const dir of includeDirs) {
      const candidate = path.join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  // keepCase: field names stay as the .proto spells them (snake_case), which is Envoy's YAML spelling.
  root.loadSync(files as string[], { keepCase: true });
  root.resolveAll();
  return root;
}

/** Names the cache entry after what determines its content. */
function cacheKey(files: readonly string[]): string {
  const require = createRequire(import.meta.url);
  const versions = ['protobufjs/package.json', '@grpc/grpc-js-xds/package.json'].map(
    (p) => (require(p) as { version?: string }).version ?? '',
  );
  return createHash('sha256')
    .update(JSON.stringify([versions, files, 'keepCase']))
    .digest('hex')
    .slice(0, 16);
}

function readCachedRoot(file: string): protobuf.Root | undefined {
  try {
    const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(file, 'utf8')));
    root.resolveAll();
    return root;
  } catch {
    return undefined; // absent, torn or from another layout: parse the .proto files
  }
}

function writeCachedRoot(file: string, root: protobuf.Root): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(root.toJSON()));
    renameSync(tmp, file);
  } catch {
    // A read-only or full disk only costs the next start its parse.
  }
}
