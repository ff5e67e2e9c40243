// The servers the bench runs: the shared nginx backend, the three proxies under test
// (nginx, haproxy, Weft) and the two bare Node relays shown as Node's floor: the TCP
// table's byte relay (node-pipe.ts) and the HTTP/1.1 table's framing relay
// (node-http-relay.ts). Writes each one's config into its own temp dir, starts it through
// the Supervisor, waits until its ports accept, and checks one request end to end.
//
// Peer configs follow each project's documented keep-alive settings so every proxy reuses
// upstream connections: nginx `upstream { keepalive }` with HTTP/1.1 and an empty
// Connection header (ngx_http_upstream_module docs), haproxy `http-reuse always`.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { allocateFreePorts } from '../src/up/port-allocator.js';
import { downstreamTlsSocket, makeCertificate } from './certificate.js';
import type { Daemon, Supervisor } from './supervisor.js';
import { logTail } from './supervisor.js';

export const PROXY_NAMES = ['nginx', 'haproxy', 'weft', 'node-pipe', 'node-http-relay'] as const;
export type ProxyName = (typeof PROXY_NAMES)[number];

/** The external programs the bench needs, by absolute path. */
export interface Tools {
  readonly nginx: string;
  readonly haproxy: string;
  readonly wrk: string;
  readonly hey: string;
}

export const INSTALL_COMMAND = 'apt-get install -y nginx-light haproxy wrk hey';

/** Where nginx-light would keep the dynamic stream module if libnginx-mod-stream were installed. */
export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/** Looks each tool up on PATH (plus the sbin dirs, where Debian puts nginx and haproxy). */
export function findTools(pathEnv: string): { tools: Tools | null; missing: string[] } {
  const dirs = [...pathEnv.split(delimiter).filter(Boolean), '/usr/sbin', '/sbin'];
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of ['nginx', 'haproxy', 'wrk', 'hey']) {
    const dir = dirs.find((d) => existsSync(join(d, name)));
    if (dir) found[name] = join(dir, name);
    else missing.push(name);
  }
  return { tools: missing.length === 0 ? (found as unknown as Tools) : null, missing };
}

/** The backend's response body: exactly 1024 printable bytes, safe inside an nginx string. */
export function backendBody(): string {
  return 'abcdefghijklmnopqrstuvwxyz012345'.repeat(32);
}

/** Top-level lines shared by both nginx instances: one worker, foreground, pid and log in its own dir. */
export function nginxPreamble(dir: string): string {
  return [
    'worker_processes 1;',
    'daemon off;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 4096; }',
  ].join('\n');
}

export function nginxTempPaths(dir: string): string {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind}_temp_path ${dir}/${kind};`)
    .join('\n');
}

/** nginx as the shared backend: `GET /` → 200 with the 1 KiB body, no logging. */
export function nginxBackendConfig(dir: string, port: number, body: string): string {
  return `${nginxPreamble(dir)}
http {
  access_log off;
${nginxTempPaths(dir)}
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    default_type text/plain;
    location / { return 200 "${body}"; }
  }
}
`;
}

export interface ProxyPorts {
  readonly httpPort: number;
  /** null when this proxy has no L4 mode here (nginx-light without the stream module). */
  readonly tcpPort: number | null;
  readonly backendPort: number;
}

/** An HTTPS listener to add (`bench:ab --table https`): its port and certificate files. */
export interface HttpsListener {
  readonly port: number;
  readonly cert: string;
  readonly key: string;
}

/**
 * nginx as an HTTP reverse proxy with pooled upstream connections, optionally as L4, and
 * optionally as an HTTPS one to the same pool.
 */
export function nginxProxyConfig(
  dir: string,
  ports: ProxyPorts,
  streamModule: string | null,
  https: HttpsListener | null = null,
): string {
  const load = ports.tcpPort !== null && streamModule ? `load_module ${streamModule};\n` : '';
  const stream =
    ports.tcpPort !== null && streamModule
      ? `
stream {
  upstream tcp_backend { server 127.0.0.1:${ports.backendPort}; }
  server {
    listen 127.0.0.1:${ports.tcpPort};
    proxy_pass tcp_backend;
  }
}
`
      : '';
  const httpsServer =
    https === null
      ? ''
      : `  server {
    listen 127.0.0.1:${https.port} ssl;
    ssl_certificate ${https.cert};
    ssl_certificate_key ${https.key};
    ssl_protocols TLSv1.2 TLSv1.3;
${NGINX_PROXY_LOCATION}
  }
`;
  return `${load}${nginxPreamble(dir)}
http {
  access_log off;
${nginxTempPaths(dir)}
  keepalive_requests 1000000;
  upstream backend {
    server 127.0.0.1:${ports.backendPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${ports.httpPort};
${NGINX_PROXY_LOCATION}
  }
${httpsServer}}
${stream}`;
}

const NGINX_PROXY_LOCATION = `    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }`;

/** haproxy with one thread: an HTTP frontend with connection reuse and a TCP frontend. */
export function haproxyConfig(ports: ProxyPorts): string {
  const tcp =
    ports.tcpPort === null
      ? ''
      : `
frontend tcp_in
  mode tcp
  bind 127.0.0.1:${ports.tcpPort}
  default_backend tcp_backend

backend tcp_backend
  mode tcp
  server s1 127.0.0.1:${ports.backendPort}
`;
  return `global
  nbthread 1
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend http_in
  bind 127.0.0.1:${ports.httpPort}
  default_backend http_backend

backend http_backend
  http-reuse always
  server s1 127.0.0.1:${ports.backendPort}
${tcp}`;
}

/**
 * The Envoy v3 bootstrap Weft runs: an HTTP listener, a TCP listener, one STATIC cluster;
 * with `https`, an HTTPS listener too, with the HTTP listener's routes.
 */
export function weftBootstrap(
  ports: ProxyPorts & { readonly adminPort: number },
  https: HttpsListener | null = null,
): Record<string, unknown> {
  const socket = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
  const http = {
    name: 'bench_http',
    address: socket(ports.httpPort),
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type':
                'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'bench',
              codec_type: 'AUTO',
              route_config: {
                name: 'bench_routes',
                virtual_hosts: [
                  {
                    name: 'all',
                    domains: ['*'],
                    routes: [{ match: { prefix: '/' }, route: { cluster: 'backend' } }],
                  },
                ],
              },
              http_filters: [
                {
                  name: 'envoy.filters.http.router',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  };
  const listeners: unknown[] = [http];
  if (https !== null) {
    listeners.push({
      name: 'bench_https',
      address: socket(https.port),
      filter_chains: [{ ...http.filter_chains[0], transport_socket: downstreamTlsSocket(https) }],
    });
  }
  if (ports.tcpPort !== null) {
    listeners.push({
      name: 'bench_tcp',
      address: socket(ports.tcpPort),
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.tcp_proxy',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
                stat_prefix: 'bench_tcp',
                cluster: 'backend',
              },
            },
          ],
        },
      ],
    });
  }
  return {
    admin: { address: socket(ports.adminPort) },
    static_resources: {
      listeners,
      clusters: [
        {
          name: 'backend',
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'backend',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(ports.backendPort) } }] }],
          },
        },
      ],
    },
  };
}

/** A free TCP port on 127.0.0.1, from outside the kernel's ephemeral range (see port-allocator). */
export async function freePort(): Promise<number> {
  const [port] = await allocateFreePorts(1);
  return port!;
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `port` until it accepts; fails early with the log tail if the daemon exits. */
export async function waitForPort(port: number, daemon: Daemon, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = daemon.exitStatus();
    if (status !== null) throw new Error(`exited (${status}) before listening:\n${logTail(daemon.logPath)}`);
    if (await tryConnect(port)) return;
    if (Date.now() > deadline) {
      throw new Error(`port ${port} not accepting after ${timeoutMs} ms:\n${logTail(daemon.logPath)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One `GET url` on a fresh connection: status and body length. */
export function getOnce(url: string, timeoutMs = 5000): Promise<{ status: number; bodyBytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let bodyBytes = 0;
      res.on('data', (chunk: Buffer) => {
        bodyBytes += chunk.length;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, bodyBytes }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`no response from ${url} in ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/** Fails unless `url` answers 200 with the backend's 1 KiB body. */
export async function checkServes(url: string, bodyBytes: number): Promise<void> {
  const res = await getOnce(url);
  if (res.status !== 200 || res.bodyBytes !== bodyBytes) {
    throw new Error(
      `GET ${url} answered ${res.status} with ${res.bodyBytes} bytes, expected 200 with ${bodyBytes}`,
    );
  }
}

/** A server the bench started, with the URLs to load it on. */
export interface RunningServer {
  readonly name: string;
  readonly daemon: Daemon;
  /** HTTP through this server's L7 proxy, or null if it has none (the node pipe). */
  readonly httpUrl: string | null;
  /** HTTP through this server's L4 (TCP) proxy, or null if it has none here. */
  readonly tcpUrl: string | null;
  /** HTTPS through this server's L7 proxy (launched with `https`), else null. */
  readonly httpsUrl: string | null;
  /** Why a table is missing this server, if it is. */
  readonly note: string | null;
}

const READY_TIMEOUT_MS = 15_000;

/** Starts a daemon and waits until each of `ports` accepts; stops it and throws if not. */
export async function startAndWait(
  supervisor: Supervisor,
  name: string,
  command: { file: string; args: string[] },
  dir: string,
  ports: readonly number[],
): Promise<Daemon> {
  const daemon = supervisor.start(command, join(dir, `${name}.log`));
  try {
    for (const port of ports) await waitForPort(port, daemon, READY_TIMEOUT_MS);
  } catch (err) {
    await supervisor.stop(daemon);
    throw err;
  }
  return daemon;
}

function url(port: number): string {
  return `http://127.0.0.1:${port}/`;
}

/** Starts the shared backend (nginx, one worker) in `dir`. */
export async function startBackend(
  supervisor: Supervisor,
  tools: Tools,
  dir: string,
  port: number,
): Promise<RunningServer & { readonly httpUrl: string }> {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxBackendConfig(dir, port, backendBody()));
  const command = { file: tools.nginx, args: ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')] };
  const daemon = await startAndWait(supervisor, 'backend', command, dir, [port]);
  return { name: 'backend', daemon, httpUrl: url(port), tcpUrl: null, httpsUrl: null, note: null };
}

/** Everything needed to start one proxy under test. */
export interface ProxyLaunch {
  readonly supervisor: Supervisor;
  readonly tools: Tools;
  /** This proxy's own temp dir. */
  readonly dir: string;
  readonly backendPort: number;
  /** The repository root (where bin/weft.js lives). */
  readonly repoRoot: string;
  /** Also serve HTTPS, with a self-signed certificate made in `dir` (nginx and Weft). */
  readonly https?: boolean;
}

/** The HTTPS listener of a proxy launched with `https`: a free port and a fresh certificate. */
async function httpsListener(launch: ProxyLaunch): Promise<HttpsListener | null> {
  if (launch.https !== true) return null;
  return { port: await freePort(), ...makeCertificate(launch.dir) };
}

function httpsUrl(https: HttpsListener | null): string | null {
  return https === null ? null : `https://127.0.0.1:${https.port}/`;
}

export async function startNginxProxy(launch: ProxyLaunch): Promise<RunningServer> {
  mkdirSync(launch.dir, { recursive: true });
  const streamModule = existsSync(NGINX_STREAM_MODULE) ? NGINX_STREAM_MODULE : null;
  const httpPort = await freePort();
  const tcpPort = streamModule ? await freePort() : null;
  const https = await httpsListener(launch);
  const conf = join(launch.dir, 'nginx.conf');
  writeFileSync(
    conf,
    nginxProxyConfig(launch.dir, { httpPort, tcpPort, backendPort: launch.backendPort }, streamModule, https),
  );
  const command = {
    file: launch.tools.nginx,
    args: ['-p', launch.dir, '-c', conf, '-e', join(launch.dir, 'error.log')],
  };
  const ports = [httpPort, tcpPort, https?.port ?? null].filter((p): p is number => p !== null);
  const daemon = await startAndWait(launch.supervisor, 'nginx', command, launch.dir, ports);
  return {
    name: 'nginx',
    daemon,
    httpUrl: url(httpPort),
    tcpUrl: tcpPort === null ? null : url(tcpPort),
    httpsUrl: httpsUrl(https),
    note:
      tcpPort === null
        ? `nginx has no stream module here (${NGINX_STREAM_MODULE} missing; nginx-light lacks it, libnginx-mod-stream adds it)`
        : null,
  };
}

export async function startHaproxy(launch: ProxyLaunch): Promise<RunningServer> {
  mkdirSync(launch.dir, { recursive: true });
  const httpPort = await freePort();
  const tcpPort = await freePort();
  const conf = join(launch.dir, 'haproxy.cfg');
  writeFileSync(conf, haproxyConfig({ httpPort, tcpPort, backendPort: launch.backendPort }));
  // -db: stay in the foreground, so the pid we hold is the proxy itself.
  const command = { file: launch.tools.haproxy, args: ['-db', '-f', conf] };
  const daemon = await startAndWait(launch.supervisor, 'haproxy', command, launch.dir, [httpPort, tcpPort]);
  return {
    name: 'haproxy',
    daemon,
    httpUrl: url(httpPort),
    tcpUrl: url(tcpPort),
    httpsUrl: null,
    note: null,
  };
}

export async function startWeft(launch: ProxyLaunch): Promise<RunningServer> {
  mkdirSync(launch.dir, { recursive: true });
  const httpPort = await freePort();
  const tcpPort = await freePort();
  const adminPort = await freePort();
  const https = await httpsListener(launch);
  const conf = join(launch.dir, 'envoy.yaml');
  writeFileSync(
    conf,
    stringify(weftBootstrap({ httpPort, tcpPort, adminPort, backendPort: launch.backendPort }, https)),
  );
  const command = {
    // Run the command as users do (`npx weft`): its shebang carries Weft's V8 defaults.
    file: join(launch.repoRoot, 'bin/weft.js'),
    args: ['proxy', '-c', conf],
  };
  const ports = https === null ? [httpPort, tcpPort] : [httpPort, tcpPort, https.port];
  const daemon = await startAndWait(launch.supervisor, 'weft', command, launch.dir, ports);
  return {
    name: 'weft',
    daemon,
    httpUrl: url(httpPort),
    tcpUrl: url(tcpPort),
    httpsUrl: httpsUrl(https),
    note: null,
  };
}

/** The reference relay (node-pipe.ts): TCP table only, run with plain `node` (no Weft flags). */
export async function startNodePipeReference(launch: ProxyLaunch): Promise<RunningServer> {
  mkdirSync(launch.dir, { recursive: true });
  const tcpPort = await freePort();
  const command = {
    file: process.execPath,
    args: [join(launch.repoRoot, 'dist/bench/node-pipe.js'), String(tcpPort), String(launch.backendPort)],
  };
  const daemon = await startAndWait(launch.supervisor, 'node-pipe', command, launch.dir, [tcpPort]);
  return { name: 'node-pipe', daemon, httpUrl: null, tcpUrl: url(tcpPort), httpsUrl: null, note: null };
}

/** The reference HTTP/1.1 relay (node-http-relay.ts): HTTP table only, plain `node`. */
export async function startNodeHttpRelayReference(launch: ProxyLaunch): Promise<RunningServer> {
  mkdirSync(launch.dir, { recursive: true });
  const httpPort = await freePort();
  const command = {
    file: process.execPath,
    args: [
      join(launch.repoRoot, 'dist/bench/node-http-relay.js'),
      String(httpPort),
      String(launch.backendPort),
    ],
  };
  const daemon = await startAndWait(launch.supervisor, 'node-http-relay', command, launch.dir, [httpPort]);
  return {
    name: 'node-http-relay',
    daemon,
    httpUrl: url(httpPort),
    tcpUrl: null,
    httpsUrl: null,
    note: null,
  };
}

/** The start function for each proxy under test. */
export const PROXY_STARTERS: Readonly<Record<ProxyName, (launch: ProxyLaunch) => Promise<RunningServer>>> = {
  nginx: startNginxProxy,
  haproxy: startHaproxy,
  weft: startWeft,
  'node-pipe': startNodePipeReference,
  'node-http-relay': startNodeHttpRelayReference,
};
