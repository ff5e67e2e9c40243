// The bench's protocol and resilience rows (issues 3 and 4), measured in the same run and
// rounds as the HTTP/1.1 tables:
//
// - h2c: h2load (prior knowledge) through nginx (`listen ... http2`) and through Weft
//   (codec_type AUTO), both proxying to the shared HTTP/1.1 nginx backend;
// - HTTPS keep-alive: wrk over TLS through nginx (`ssl`) and Weft (DownstreamTlsContext),
//   same self-signed certificate (made with the openssl CLI), plain upstream;
// - gRPC unary: h2load POSTing one gRPC frame to a grpc-js echo backend, directly and
//   through Weft (an HTTP/2 upstream cluster);
// - resilience: wrk through two Weft listeners in the same process, one plain and one with
//   retries, a retry budget, circuit breakers, outlier detection, active health checks, a
//   local rate limit (limit far above the load) and a file access log.
//
// Each measurement kind runs as a pair once per round, peer first in odd rounds (1, 3, ...)
// and Weft first in even ones; each row's ratio is the median of the per-round ratios.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { downstreamTlsSocket, makeCertificate } from './certificate.js';
import { grpcFrame } from './grpc-backend.js';
import { runWrk, WRK_CONNECTIONS } from './load.js';
import { freePort, nginxPreamble, nginxTempPaths, startAndWait } from './peers.js';
import { cpuTicks, DEFAULT_CLOCK_TICKS } from './proc.js';
import { median } from './report.js';
import type { Supervisor } from './supervisor.js';

export const H2LOAD_INSTALL = 'apt-get install -y nghttp2-client';
/** h2load clients and concurrent streams per client (h2c and gRPC runs). */
const H2_CLIENTS = 16;
const H2_STREAMS = 8;

export interface H2loadResult {
  readonly requestsPerSec: number;
  readonly succeeded: number;
  /** Failed and errored requests plus non-2xx statuses. */
  readonly errors: number;
}

/** Parses h2load's summary; throws if the `finished in` line is missing (h2load failed). */
export function parseH2loadOutput(text: string): H2loadResult {
  const finished = /^finished in [\d.]+m?s, ([\d.]+) req\/s/m.exec(text);
  const requests =
    /^requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/m.exec(text);
  if (!finished || !requests) throw new Error(`unrecognised h2load output:\n${text.slice(0, 500)}`);
  const status = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(text);
  const bad = status ? Number(status[3]) + Number(status[4]) : 0;
  return {
    requestsPerSec: Number(finished[1]),
    succeeded: Number(requests[1]),
    errors: Number(requests[2]) + Number(requests[3]) + bad,
  };
}

export function findH2load(pathEnv: string): string | null {
  for (const dir of pathEnv.split(delimiter).filter(Boolean)) {
    if (existsSync(join(dir, 'h2load'))) return join(dir, 'h2load');
  }
  return null;
}

export interface ProtocolPorts {
  readonly h2c: number;
  readonly tls: number;
}

/** nginx (one worker) as an h2c and an HTTPS reverse proxy to the shared backend. */
export function nginxProtocolConfig(
  dir: string,
  ports: ProtocolPorts,
  backendPort: number,
  tls: { cert: string; key: string },
): string {
  const proxy = `    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }`;
  return `${nginxPreamble(dir)}
http {
  access_log off;
${nginxTempPaths(dir)}
  keepalive_requests 1000000;
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${ports.h2c} http2;
${proxy}
  }
  server {
    listen 127.0.0.1:${ports.tls} ssl;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
${proxy}
  }
}
`;
}

export interface WeftProtocolPorts extends ProtocolPorts {
  readonly grpc: number;
  readonly plain: number;
  readonly resilient: number;
  readonly admin: number;
  readonly backend: number;
  readonly grpcBackend: number;
}

const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};

function socket(port: number) {
  return { socket_address: { address: '127.0.0.1', port_value: port } };
}

function hcm(name: string, cluster: string, extra: Record<string, unknown> = {}, filters: unknown[] = []) {
  const { route: routeExtra, ...hcmExtra } = extra as { route?: Record<string, unknown> };
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': HCM_TYPE,
      stat_prefix: name,
      codec_type: 'AUTO',
      route_config: {
        name,
        virtual_hosts: [
          {
            name,
            domains: ['*'],
            routes: [{ match: { prefix: '/' }, route: { cluster, timeout: '0s', ...routeExtra } }],
          },
        ],
      },
      http_filters: [...filters, ROUTER],
      ...hcmExtra,
    },
  };
}

function listener(name: string, port: number, filter: unknown, transportSocket?: unknown) {
  return {
    name,
    address: socket(port),
    filter_chains: [{ filters: [filter], ...(transportSocket ? { transport_socket: transportSocket } : {}) }],
  };
}

function staticCluster(name: string, port: number, extra: Record<string, unknown> = {}) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(port) } }] }],
    },
    ...extra,
  };
}

const PERCENT_100 = { default_value: { numerator: 100, denominator: 'HUNDRED' }, runtime_key: 'bench' };

/** Weft's bootstrap for the protocol rows: h2c/HTTP/1.1 (AUTO), TLS, gRPC, plain and resilient listeners. */
export function weftProtocolBootstrap(
  ports: WeftProtocolPorts,
  tls: { cert: string; key: string },
  accessLogPath: string,
): Record<string, unknown> {
  const downstreamTls = downstreamTlsSocket(tls);
  const localRateLimit = {
    name: 'envoy.filters.http.local_ratelimit',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
      stat_prefix: 'bench_rl',
      token_bucket: { max_tokens: 10_000_000, tokens_per_fill: 10_000_000, fill_interval: '1s' },
      filter_enabled: PERCENT_100,
      filter_enforced: PERCENT_100,
    },
  };
  const resilientHcm = hcm(
    'resilient',
    'backend_resilient',
    {
      route: { retry_policy: { retry_on: '5xx,reset,connect-failure', num_retries: 2 } },
      access_log: [
        {
          name: 'envoy.access_loggers.file',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
            path: accessLogPath,
          },
        },
      ],
    },
    [localRateLimit],
  );
  return {
    admin: { address: socket(ports.admin) },
    static_resources: {
      listeners: [
        listener('plain', ports.plain, hcm('plain', 'backend')),
        listener('h2c', ports.h2c, hcm('h2c', 'backend')),
        listener('tls', ports.tls, hcm('tls', 'backend'), downstreamTls),
        listener('grpc', ports.grpc, hcm('grpc', 'grpc_backend')),
        listener('resilient', ports.resilient, resilientHcm),
      ],
      clusters: [
        staticCluster('backend', ports.backend),
        staticCluster('grpc_backend', ports.grpcBackend, {
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
        }),
        staticCluster('backend_resilient', ports.backend, {
          circuit_breakers: {
            thresholds: [
              {
                priority: 'DEFAULT',
                max_connections: 1000,
                max_pending_requests: 1000,
                max_requests: 1000,
                max_retries: 100,
                retry_budget: { budget_percent: { value: 20 }, min_retry_concurrency: 3 },
              },
            ],
          },
          outlier_detection: {
            consecutive_5xx: 5,
            interval: '10s',
            base_ejection_time: '30s',
            max_ejection_percent: 50,
          },
          health_checks: [
            {
              timeout: '1s',
              interval: '5s',
              unhealthy_threshold: 3,
              healthy_threshold: 1,
              http_health_check: { path: '/' },
            },
          ],
        }),
      ],
    },
  };
}

/** One measured series: a label and its per-round requests/s. */
interface Series {
  readonly label: string;
  readonly rps: (number | null)[];
  /** The Weft process's CPU (user + system) per request during each of this series' runs, in µs. */
  readonly weftCpuUsPerRequest: (number | null)[];
  errors: number;
}

function series(label: string): Series {
  return { label, rps: [], weftCpuUsPerRequest: [], errors: 0 };
}

/** One side of a comparison: its series, how to run it for some seconds, and its result in the current window. */
interface Side<T> {
  readonly series: Series;
  readonly run: (seconds: number) => Promise<T>;
  result: T | null;
}

/**
 * A peer and Weft measured back to back in every round. The row's ratio is the median over
 * rounds of Weft's rate divided by the peer's *in the same round*, which cancels the
 * machine's drift between rounds better than a ratio of two medians.
 */
interface Pair<T> {
  readonly peer: Side<T>;
  readonly weft: Side<T>;
  readonly ratios: (number | null)[];
  /**
   * Back-to-back peer/Weft windows per round, each a share of the run time. More, shorter
   * windows make the ratio steadier where the two sides differ by little (the resilience
   * pair): on this kind of machine one run's rate moves ±30% over seconds
   * (docs/benchmarks.md, "The sixth round").
   */
  readonly windows: number;
}

function pair<T>(
  peer: Series,
  runPeer: (seconds: number) => Promise<T>,
  weft: Series,
  runWeft: (seconds: number) => Promise<T>,
  windows = 1,
): Pair<T> {
  return {
    peer: { series: peer, run: runPeer, result: null },
    weft: { series: weft, run: runWeft, result: null },
    ratios: [],
    windows,
  };
}

/** Windows per round for the resilience pair, and the shortest window they may make. */
const RESILIENCE_WINDOWS = 5;
const MIN_WINDOW_S = 2;

export interface ProtocolBenchContext {
  readonly supervisor: Supervisor;
  readonly nginx: string;
  readonly wrk: string;
  readonly root: string;
  readonly repoRoot: string;
  readonly backendPort: number;
  readonly rounds: number;
  readonly durationS: number;
  readonly log: (message: string) => void;
}

async function h2load(
  ctx: ProtocolBenchContext,
  h2loadPath: string,
  url: string,
  extraArgs: string[],
  seconds: number,
): Promise<H2loadResult> {
  const args = ['-c', String(H2_CLIENTS), '-m', String(H2_STREAMS), '-D', String(seconds), ...extraArgs, url];
  const out = await ctx.supervisor.run({ file: h2loadPath, args }, (seconds + 30) * 1000);
  return parseH2loadOutput(out);
}

function fmt(n: number | null, digits = 0): string {
  return n === null
    ? 'n/a'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Runs the protocol and resilience rows; returns their markdown section (or a note why not). */
export async function runProtocolBench(ctx: ProtocolBenchContext): Promise<string> {
  const h2loadPath = findH2load(process.env.PATH ?? '');
  if (h2loadPath === null)
    return `#### HTTP/2, TLS, gRPC, resilience\n\nSkipped: h2load is missing (\`${H2LOAD_INSTALL}\`).\n`;
  const dir = join(ctx.root, 'protocols');
  mkdirSync(dir, { recursive: true });
  const tls = makeCertificate(dir);
  const notes: string[] = [];

  const nginxPorts = { h2c: await freePort(), tls: await freePort() };
  const nginxConf = join(dir, 'nginx.conf');
  writeFileSync(nginxConf, nginxProtocolConfig(dir, nginxPorts, ctx.backendPort, tls));
  await startAndWait(
    ctx.supervisor,
    'nginx',
    { file: ctx.nginx, args: ['-p', dir, '-c', nginxConf, '-e', join(dir, 'error.log')] },
    dir,
    [nginxPorts.h2c, nginxPorts.tls],
  );

  const grpcBackend = await freePort();
  await startAndWait(
    ctx.supervisor,
    'grpc-backend',
    { file: process.execPath, args: [join(ctx.repoRoot, 'dist/bench/grpc-backend.js'), String(grpcBackend)] },
    dir,
    [grpcBackend],
  );

  const weftPorts: WeftProtocolPorts = {
    h2c: await freePort(),
    tls: await freePort(),
    grpc: await freePort(),
    plain: await freePort(),
    resilient: await freePort(),
    admin: await freePort(),
    backend: ctx.backendPort,
    grpcBackend,
  };
  const weftConf = join(dir, 'weft.yaml');
  writeFileSync(weftConf, stringify(weftProtocolBootstrap(weftPorts, tls, join(dir, 'access.log'))));
  const weft = await startAndWait(
    ctx.supervisor,
    'weft',
    { file: join(ctx.repoRoot, 'bin/weft.js'), args: ['proxy', '-c', weftConf] },
    dir,
    [weftPorts.h2c, weftPorts.tls, weftPorts.grpc, weftPorts.plain, weftPorts.resilient],
  );

  // Node's own floor for HTTPS: the reference relay behind node:tls (node-pipe.ts), reported
  // next to the HTTPS row so the target can be read against what Node alone does.
  const tlsFloorPort = await freePort();
  await startAndWait(
    ctx.supervisor,
    'node-tls-pipe',
    {
      file: process.execPath,
      args: [
        join(ctx.repoRoot, 'dist/bench/node-pipe.js'),
        String(tlsFloorPort),
        String(ctx.backendPort),
        tls.cert,
        tls.key,
      ],
    },
    dir,
    [tlsFloorPort],
  );

  const frame = join(dir, 'grpc-request.bin');
  writeFileSync(frame, grpcFrame(Buffer.alloc(64, 0x61)));
  const grpcArgs = ['-d', frame, '-H', 'content-type: application/grpc', '-H', 'te: trailers'];
  const grpcPath = '/weft.bench.Echo/Say';

  type Outcome = { rps: number; errors: number; requests: number };
  const viaH2load =
    (url: string, args: string[] = []) =>
    async (seconds: number): Promise<Outcome> => {
      const r = await h2load(ctx, h2loadPath, url, args, seconds);
      return { rps: r.requestsPerSec, errors: r.errors, requests: r.succeeded };
    };
  const viaWrk =
    (url: string) =>
    async (seconds: number): Promise<Outcome> => {
      const r = await runWrk(ctx.supervisor, ctx.wrk, url, WRK_CONNECTIONS, seconds);
      return { rps: r.requestsPerSec, errors: r.errors, requests: r.requests };
    };
  const s = {
    h2cNginx: series('nginx'),
    h2cWeft: series('weft'),
    tlsNginx: series('nginx'),
    tlsWeft: series('weft'),
    tlsFloorNginx: series('nginx'),
    tlsFloor: series('node-tls-pipe'),
    grpcDirect: series('direct'),
    grpcWeft: series('weft'),
    plainWeft: series('weft'),
    resilientWeft: series('weft + resilience'),
  };
  const pairs: Pair<Outcome>[] = [
    pair(
      s.h2cNginx,
      viaH2load(`http://127.0.0.1:${nginxPorts.h2c}/`),
      s.h2cWeft,
      viaH2load(`http://127.0.0.1:${weftPorts.h2c}/`),
    ),
    pair(
      s.tlsNginx,
      viaWrk(`https://127.0.0.1:${nginxPorts.tls}/`),
      s.tlsWeft,
      viaWrk(`https://127.0.0.1:${weftPorts.tls}/`),
    ),
    pair(
      s.grpcDirect,
      viaH2load(`http://127.0.0.1:${grpcBackend}${grpcPath}`, grpcArgs),
      s.grpcWeft,
      viaH2load(`http://127.0.0.1:${weftPorts.grpc}${grpcPath}`, grpcArgs),
    ),
    pair(
      s.tlsFloorNginx,
      viaWrk(`https://127.0.0.1:${nginxPorts.tls}/`),
      s.tlsFloor,
      viaWrk(`https://127.0.0.1:${tlsFloorPort}/`),
    ),
    pair(
      s.plainWeft,
      viaWrk(`http://127.0.0.1:${weftPorts.plain}/`),
      s.resilientWeft,
      viaWrk(`http://127.0.0.1:${weftPorts.resilient}/`),
      Math.max(1, Math.min(RESILIENCE_WINDOWS, Math.floor(ctx.durationS / MIN_WINDOW_S))),
    ),
  ];
  /** Each of a pair's windows gets an equal share of the run time. */
  const windowSeconds = (p: Pair<Outcome>): number => Math.max(1, Math.round(ctx.durationS / p.windows));
  const weftPids = [weft.pid];
  for (let round = 0; round < ctx.rounds; round++) {
    ctx.log(`protocols round ${round + 1}/${ctx.rounds}`);
    for (const p of pairs) {
      const seconds = windowSeconds(p);
      for (let w = 0; w < p.windows; w++) {
        // Every other window (and round) runs Weft first, so neither side always runs second
        // (warmer, or later in a drift of the machine's speed).
        const order = (round + w) % 2 === 0 ? [p.peer, p.weft] : [p.weft, p.peer];
        for (const side of order) {
          try {
            const ticksBefore = cpuTicks(weftPids);
            const res = await side.run(seconds);
            const weftCpuS = (cpuTicks(weftPids) - ticksBefore) / DEFAULT_CLOCK_TICKS;
            side.result = res;
            side.series.rps.push(res.rps);
            side.series.weftCpuUsPerRequest.push(res.requests > 0 ? (weftCpuS * 1e6) / res.requests : null);
            side.series.errors += res.errors;
            ctx.log(`  ${side.series.label}: ${Math.round(res.rps)} rps, ${res.errors} errors`);
          } catch (err) {
            side.result = null;
            side.series.rps.push(null);
            side.series.weftCpuUsPerRequest.push(null);
            notes.push(`round ${round + 1} ${side.series.label}: ${(err as Error).message.split('\n')[0]}`);
          }
        }
        const peer = p.peer.result;
        const weftResult = p.weft.result;
        p.ratios.push(
          peer !== null && weftResult !== null && peer.rps > 0 ? weftResult.rps / peer.rps : null,
        );
      }
    }
  }

  const m = (x: Series) => median(x.rps);
  const [h2cRatio, tlsRatio, grpcRatio, tlsFloorRatio, resilienceCost] = pairs.map((p) => median(p.ratios));
  const resiliencePair = pairs[4];
  const verdict = (ok: boolean | null) => (ok === null ? 'n/a' : ok ? 'PASS' : 'FAIL');
  const row = (what: string, peer: Series, weft: Series, r: number | null, target: string) =>
    `| ${what} | ${peer.label} ${fmt(m(peer))} | ${weft.label} ${fmt(m(weft))} | ${fmt(r, 2)}x | ${peer.errors + weft.errors} | ${target} |`;
  const lines = [
    '#### HTTP/2, TLS, gRPC and resilience',
    '',
    `h2load -c ${H2_CLIENTS} -m ${H2_STREAMS} (h2c prior knowledge; gRPC: one 64-byte unary message per request to a ` +
      `grpc-js echo server); wrk -t1 -c${WRK_CONNECTIONS} (HTTPS keep-alive, TLS 1.3, and the resilience pair). ` +
      'Requests/s: medians over rounds; Weft / peer: the median over rounds of the ratio of the two runs of ' +
      'the same round (peer first in odd rounds, Weft first in even ones). The resilience pair runs several ' +
      'shorter windows per round instead: its medians are over all windows. Every Weft row is one `weft proxy` process.',
    '',
    '| what | peer (rps) | Weft (rps) | Weft / peer | errors | target |',
    '|---|---:|---:|---:|---:|---|',
    row(
      'h2c, 1 KiB',
      s.h2cNginx,
      s.h2cWeft,
      h2cRatio,
      `>= 0.7x nginx: ${verdict(h2cRatio === null ? null : h2cRatio >= 0.7)}`,
    ),
    row(
      'HTTPS keep-alive, 1 KiB',
      s.tlsNginx,
      s.tlsWeft,
      tlsRatio,
      `>= 0.7x nginx: ${verdict(tlsRatio === null ? null : tlsRatio >= 0.7)}`,
    ),
    row('gRPC unary', s.grpcDirect, s.grpcWeft, grpcRatio, '(reported)'),
    row(
      'HTTPS, Node TLS relay (floor)',
      s.tlsFloorNginx,
      s.tlsFloor,
      tlsFloorRatio,
      "(reported: Node's floor)",
    ),
    row(
      'resilience on vs off',
      s.plainWeft,
      s.resilientWeft,
      resilienceCost,
      `cost <= 10%: ${verdict(resilienceCost === null ? null : 1 - resilienceCost <= 0.1)}`,
    ),
    '',
    'Resilience on: retries (5xx, reset, connect-failure; 2), a 20% retry budget, circuit breakers, ' +
      'outlier detection (5 consecutive 5xx), an active HTTP health check every 5 s, a local rate ' +
      'limit of 10M tokens/s, and a file access log. ' +
      `The Weft process's CPU per request in the same runs (user + system, from /proc; medians): ` +
      `${fmt(median(s.plainWeft.weftCpuUsPerRequest), 1)} µs plain, ` +
      `${fmt(median(s.resilientWeft.weftCpuUsPerRequest), 1)} µs with resilience. ` +
      // One run's spread on this kind of machine is wide (docs/benchmarks.md): show every window.
      `The pair runs as ${resiliencePair.windows} back-to-back windows of ` +
      `${windowSeconds(resiliencePair)} s per round (order alternating); ` +
      `the row's ratio is the median of all windows' ratios: ` +
      `${resiliencePair.ratios.map((r) => (r === null ? 'n/a' : `${fmt(r, 2)}x`)).join(', ')}.`,
    '',
    "The Node TLS relay row is not a proxy under test: the bench's reference relay " +
      '(`bench/node-pipe.ts`) behind `node:tls`, with no HTTP at all, against nginx in the same ' +
      'rounds: what an HTTPS proxy on Node cannot go above.',
  ];
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
