// Test harness: real proxies, real backends, real sockets on 127.0.0.1 port 0.
// `startProxy` runs a ProxyServer in-process on a config written to a temp file, the
// way `weft proxy -c` does; `spawnProxy` runs the real CLI as a child process.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  type AddressInfo,
  connect,
  createServer as createTcpServer,
  type Server as TcpServer,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { type Clock, systemClock } from '../../src/core/clock.js';
import { createMemoryLogger } from '../../src/core/logger.js';
import { seededRandom } from '../../src/core/seeded-random.js';
import { loadNativeSocketIo } from '../../src/proxy/network/native-socket.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { createTestCa } from '../../src/proxy/tls/testing/test-pki.js';

export const ROUTER_FILTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};
export const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** Temp dirs made by this test process; removed when it exits. */
const madeDirs: string[] = [];
process.on('exit', () => {
  for (const d of madeDirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'weft-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** A STATIC cluster with the given endpoints ("127.0.0.1:port" or [port, weight]). */
export function staticCluster(
  name: string,
  ports: Array<number | [number, number]>,
  extra: Record<string, unknown> = {},
) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: ports.map((p) => {
            const [port, weight] = Array.isArray(p) ? p : [p, 1];
            return {
              endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
              load_balancing_weight: weight,
            };
          }),
        },
      ],
    },
    ...extra,
  };
}

/** An HTTP listener on port 0 with the given virtual hosts and HCM extras. */
/** The tls_inspector listener filter (SNI and ALPN for filter chain matching). */
export const TLS_INSPECTOR_FILTER = {
  name: 'envoy.filters.listener.tls_inspector',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  },
};

/**
 * A downstream TLS transport socket serving a certificate for `a.test` from a new test CA;
 * the certificate and key are written to a new temp dir (`prefix`) and named by file.
 */
export async function serverTlsSocket(prefix: string) {
  const dir = tempDir(prefix);
  const pem = await (await createTestCa('Test CA')).issue({ cn: 'a.test', dns: ['a.test'] });
  writeFileSync(join(dir, 'a.crt'), pem.cert);
  writeFileSync(join(dir, 'a.key'), pem.key);
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      common_tls_context: {
        tls_certificates: [
          {
            certificate_chain: { filename: join(dir, 'a.crt') },
            private_key: { filename: join(dir, 'a.key') },
          },
        ],
      },
    },
  };
}

/** A tcp_proxy listener on a free loopback port, stat_prefix its name. */
export function tcpListener(name: string, cluster: string) {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typed_config: { '@type': TCP_PROXY_TYPE, stat_prefix: name, cluster },
          },
        ],
      },
    ],
  };
}

/** A TCP echo server on a free loopback port (half-close: it ends when the client does). */
export function echoServer(): Promise<TcpServer> {
  const server = createTcpServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

export function httpListener(name: string, virtualHosts: unknown[], hcmExtra: Record<string, unknown> = {}) {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM_TYPE,
              stat_prefix: name,
              route_config: { name: `${name}_routes`, virtual_hosts: virtualHosts },
              http_filters: [ROUTER_FILTER],
              ...hcmExtra,
            },
          },
        ],
      },
    ],
  };
}

const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** A cluster's `typed_extension_protocol_options` with HttpProtocolOptions `config`. */
export function protocolOptions(config: Record<string, unknown>) {
  return {
    typed_extension_protocol_options: {
      [HTTP_OPTIONS_KEY]: { '@type': `type.googleapis.com/${HTTP_OPTIONS_KEY}`, ...config },
    },
  };
}

export function bootstrap(listeners: unknown[], clusters: unknown[]) {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: { listeners, clusters },
  };
}

export interface RunningProxy {
  readonly proxy: ProxyServer;
  readonly configPath: string;
  readonly logs: string[];
  port(listener: string): number;
  adminUrl(path: string): string;
  /** Rewrites the config file and reloads. */
  reload(config: unknown): ReturnType<ProxyServer['reload']>;
  close(): Promise<void>;
}

/**
 * Whose socket I/O an in-process proxy's plain HTTP/1.1 connections use: the C addon's
 * (what `weft proxy` uses when it is built, and so the default here) or Node's.
 */
export type SocketPath = 'native' | 'node';

/** The addon, loaded once per test process (it keeps one dispatcher per thread). */
const NATIVE_IO = loadNativeSocketIo().io;

/** The socket paths this machine can run: suites that test HTTP/1.1 I/O run each. */
export const SOCKET_PATHS: readonly SocketPath[] = NATIVE_IO !== null ? ['native', 'node'] : ['node'];

/** Sockets the addon holds open in this test process (0 once every proxy closed them all). */
export function nativeSocketsOpen(): number {
  return NATIVE_IO?.openCount ?? 0;
}

function nativeIoFor(sockets: SocketPath | undefined) {
  return sockets === 'node' ? null : NATIVE_IO;
}

export async function startProxy(
  config: unknown,
  opts: { random?: () => number; drainTimeMs?: number; sockets?: SocketPath } = {},
): Promise<RunningProxy> {
  const dir = tempDir();
  const configPath = join(dir, 'envoy.yaml');
  writeFileSync(configPath, YAML.stringify(config));
  const logger = createMemoryLogger();
  const proxy = await ProxyServer.start(
    { configPath, drainTimeMs: opts.drainTimeMs ?? 2000 },
    {
      clock: systemClock,
      logger,
      random: opts.random,
      hostname: 'test-host',
      nativeIo: nativeIoFor(opts.sockets),
    },
  );
  return {
    proxy,
    configPath,
    logs: logger.lines,
    port(listener) {
      const l = proxy.listeners.get(listener);
      if (l === undefined) throw new Error(`no listener ${listener}`);
      return l.address.port;
    },
    adminUrl(path) {
      return `http://${proxy.admin!.addressString}${path}`;
    },
    reload(next) {
      writeFileSync(configPath, YAML.stringify(next));
      return proxy.reload();
    },
    async close() {
      await proxy.shutdown();
    },
  };
}

/**
 * A ProxyServer on `config` (an in-memory bootstrap) driven by `clock` (a manual clock in
 * timeout tests), with random() = 0 so sampled decisions are fixed.
 */
export function startProxyOnClock(
  config: unknown,
  clock: Clock,
  drainTimeMs = 100,
  sockets?: SocketPath,
): Promise<ProxyServer> {
  return ProxyServer.start(
    { bootstrap: config, drainTimeMs },
    {
      clock,
      logger: createMemoryLogger(),
      random: () => 0,
      hostname: 'test-host',
      nativeIo: nativeIoFor(sockets),
    },
  );
}

export interface Backend {
  readonly port: number;
  readonly server: Server;
  /** Requests seen, in order. */
  readonly seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

/** A node:http backend. The default handler answers 200 with its name. */
export async function startBackend(
  name: string,
  handler?: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<Backend> {
  const seen: Backend['seen'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (handler !== undefined) handler(req, res, body);
      else {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
        res.end(`${name} ${req.method} ${req.url}\n`);
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface SimpleResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One request with node:http (a fresh connection unless an agent is given). */
export function request(
  port: number,
  path: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: import('node:http').Agent;
  } = {},
): Promise<SimpleResponse> {
  return new Promise((resolveP, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolveP({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('latin1'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Writes raw bytes on a new connection and returns everything the server sent until it
 * closed the connection (or `untilText` appeared the given number of times).
 */
export function rawExchange(
  port: number,
  data: string | Buffer,
  opts: { until?: (received: string) => boolean; endAfterWrite?: boolean } = {},
): Promise<string> {
  return new Promise((resolveP, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolveP(received);
    };
    socket.on('connect', () => {
      socket.write(data);
      if (opts.endAfterWrite) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      if (opts.until?.(received)) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (e) => (done ? undefined : reject(e)));
  });
}

/** Counts occurrences of a substring. */
export function count(haystack: string, needle: string): number {
  let n = 0;
  let i = haystack.indexOf(needle);
  while (i !== -1) {
    n++;
    i = haystack.indexOf(needle, i + needle.length);
  }
  return n;
}

export { seededRandom };

/** Polls `fn` until it returns true (bounded). For waiting on real processes, not timing. */
export async function waitFor(
  fn: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const WEFT_BIN = join(REPO_ROOT, 'bin', 'weft.js');

export interface SpawnedProxy {
  readonly child: ChildProcess;
  readonly output: { stdout: string; stderr: string };
  readonly adminAddress: string;
  exited: Promise<number | null>;
}

/** Runs `weft proxy -c FILE` as a child process and waits until the admin address is written. */
export async function spawnProxy(configPath: string, extraArgs: string[] = []): Promise<SpawnedProxy> {
  const dir = tempDir('weft-spawn-');
  const addrPath = join(dir, 'admin-address');
  const child = spawn(
    process.execPath,
    [WEFT_BIN, 'proxy', '-c', configPath, '--admin-address-path', addrPath, ...extraArgs],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let adminAddress = '';
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`weft proxy exited ${child.exitCode}: ${output.stderr}`);
    try {
      adminAddress = readFileSync(addrPath, 'utf8');
      return adminAddress.length > 0;
    } catch {
      return false;
    }
  }, 'the proxy admin address');
  return { child, output, adminAddress, exited };
}

/** GET a listener's port from a spawned proxy's admin /listeners. */
export async function listenerPort(adminAddress: string, name: string): Promise<number> {
  const [host, port] = splitHostPort(adminAddress);
  const res = await requestHost(host, port, '/listeners?format=json');
  const body = JSON.parse(res.body) as {
    listener_statuses: Array<{ name: string; local_address: { socket_address: { port_value: number } } }>;
  };
  const l = body.listener_statuses.find((x) => x.name === name);
  if (l === undefined) throw new Error(`no listener ${name}`);
  return l.local_address.socket_address.port_value;
}

export function splitHostPort(a: string): [string, number] {
  const i = a.lastIndexOf(':');
  return [a.slice(0, i).replace(/^\[|\]$/g, ''), Number(a.slice(i + 1))];
}

export function requestHost(
  host: string,
  port: number,
  path: string,
  method = 'GET',
): Promise<SimpleResponse> {
  return new Promise((resolveP, reject) => {
    const req = httpRequest({ host, port, path, method, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolveP({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const FILE_ACCESS_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';

/** An HCM `access_log` writing lines of `textFormat` to the file `path`. */
export function fileAccessLog(path: string, textFormat: string) {
  return [
    {
      name: 'log',
      typed_config: { '@type': FILE_ACCESS_LOG, path, log_format: { text_format: textFormat } },
    },
  ];
}

/** An HCM `access_log` writing `PATH CODE FLAGS` lines to `path`. */
export function pathCodeFlagsLog(path: string) {
  return fileAccessLog(path, '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\n');
}

/** Non-empty lines of the log file starting with `prefix` ('' for all), once at least `n` are written. */
export async function logLinesStartingWith(file: string, prefix: string, n: number): Promise<string[]> {
  const read = (): string[] => {
    try {
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '' && l.startsWith(prefix));
    } catch {
      return [];
    }
  };
  await waitFor(() => read().length >= n, `${n} access log lines for ${prefix}`);
  return read();
}
