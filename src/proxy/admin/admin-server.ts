// The admin server (Envoy's admin API, the subset operators use most): readiness,
// stats (text, JSON and Prometheus), the active config, clusters with their hosts,
// listeners, memory, draining and quitting. Bound to the bootstrap's `admin.address`
// (localhost in every example). Not on the hot path, so it uses node:http.
//
// /config_dump follows Envoy's admin.v3 dump messages: resources from xDS appear in
// `dynamic_listeners` (active and warming states), `dynamic_active_clusters` /
// `dynamic_warming_clusters`, `dynamic_route_configs` and `dynamic_endpoint_configs`, each
// with the `version_info` it arrived with and `last_updated`; /xds shows the ADS stream.
//
// Mutating endpoints (/drain_listeners, /quitquitquit) require POST, as in Envoy.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CircuitBreakerThresholds, SocketAddress } from '../../config/model.js';
import { DEFAULT_CIRCUIT_BREAKERS } from '../../config/validate-circuit-breakers.js';
import { formatAddress } from '../../core/address.js';
import { WeftError } from '../../core/errors.js';
import type { ProxyServer } from '../proxy-server.js';
import { renderPrometheus, renderStatsText } from '../stats/render.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import { formatHealthFlags, HealthFlag } from '../upstream/health/health-flags.js';
import type { Host } from '../upstream/host.js';
import { memoryReport } from './memory.js';

type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => void | Promise<void>;

interface Endpoint {
  readonly help: string;
  readonly mutating: boolean;
  readonly handler: Handler;
}

export class AdminServer {
  private constructor(
    private readonly server: Server,
    readonly addressString: string,
  ) {}

  static start(address: SocketAddress, proxy: ProxyServer): Promise<AdminServer> {
    const endpoints = createEndpoints(proxy);
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://admin');
      const ep = endpoints.get(url.pathname);
      if (ep === undefined) {
        send(res, 404, 'text/plain', `no admin endpoint ${url.pathname}; see /help\n`);
        return;
      }
      if (ep.mutating && req.method !== 'POST') {
        send(res, 405, 'text/plain', `${url.pathname} requires POST\n`);
        return;
      }
      Promise.resolve(ep.handler(req, url, res)).catch((err: Error) => {
        if (!res.headersSent) send(res, 500, 'text/plain', `${err.message}\n`);
        else res.destroy();
      });
    });
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new WeftError(
            'WEFT_LISTEN_FAILED',
            `admin: cannot listen on ${address.address}:${address.portValue}: ${err.code ?? err.message}`,
            { cause: err },
          ),
        ),
      );
      server.listen(address.portValue, address.address, () => {
        const a = server.address();
        const s = a !== null && typeof a === 'object' ? formatAddress(a.address, a.port) : '';
        resolve(new AdminServer(server, s));
      });
    });
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache, max-age=0' });
  res.end(body);
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, 'application/json', `${JSON.stringify(value, null, 2)}\n`);
}

function createEndpoints(proxy: ProxyServer): Map<string, Endpoint> {
  const eps = new Map<string, Endpoint>();
  const add = (path: string, help: string, handler: Handler, mutating = false) =>
    eps.set(path, { help, handler, mutating });

  add('/help', 'print this list', (_req, _url, res) => {
    const lines = [...eps].map(([p, e]) => `  ${p}${e.mutating ? ' (POST)' : ''}: ${e.help}`);
    send(res, 200, 'text/plain', `admin commands are:\n${lines.join('\n')}\n`);
  });
  add('/ready', 'LIVE (200) when serving; DRAINING (503) once draining', (_req, _url, res) => {
    if (proxy.isDraining) send(res, 503, 'text/plain', 'DRAINING\n');
    else send(res, 200, 'text/plain', 'LIVE\n');
  });
  add('/stats', 'counters and gauges; ?filter=REGEX, ?format=json', (_req, url, res) => {
    const f = url.searchParams.get('filter');
    let filter: RegExp | undefined;
    if (f !== null) {
      try {
        filter = new RegExp(f);
      } catch (err) {
        send(res, 400, 'text/plain', `invalid filter regex: ${(err as Error).message}\n`);
        return;
      }
    }
    if (url.searchParams.get('format') === 'json') {
      const stats = [...proxy.stats.allCounters(), ...proxy.stats.allGauges()]
        .filter((s) => filter === undefined || filter.test(s.name))
        .map((s) => ({ name: s.name, value: s.value }));
      sendJson(res, { stats });
      return;
    }
    send(res, 200, 'text/plain', renderStatsText(proxy.stats, filter));
  });
  add('/stats/prometheus', 'stats in the Prometheus text exposition format', (_req, _url, res) => {
    send(res, 200, 'text/plain; version=0.0.4', renderPrometheus(proxy.stats));
  });
  add('/config_dump', 'the active configuration as JSON', (_req, _url, res) => {
    const v = proxy.config;
    const dump = proxy.xds?.dump();
    const ads = proxy.xds?.status();
    const at = (ms: number) => new Date(ms).toISOString();
    const typeVersion = (short: string) => ads?.types.find((t) => t.type === short)?.versionInfo ?? '';
    const typeError = (short: string) => ads?.types.find((t) => t.type === short)?.lastNack ?? null;
    const errorState = (short: string) => {
      const e = typeError(short);
      return e === null
        ? undefined
        : { details: e.message, last_update_attempt: at(e.at), failed_version: e.version };
    };
    const dynamicNames = new Set(dump?.listeners.active.map((e) => e.name) ?? []);
    const listenerNames = new Set([...dynamicNames, ...(dump?.listeners.warming.map((e) => e.name) ?? [])]);
    sendJson(res, {
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
          bootstrap: v?.raw ?? null,
          last_updated: v === null ? null : at(v.loadedAt),
          version_info: String(v?.version ?? 0),
        },
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
          version_info: typeVersion('LDS'),
          active_listeners: proxy.listeners.all().map((l) => ({
            name: l.name,
            address: { socket_address: { address: l.address.address, port_value: l.address.port } },
          })),
          dynamic_listeners: [...listenerNames].sort().map((name) => {
            const active = dump?.listeners.active.find((e) => e.name === name);
            const warming = dump?.listeners.warming.find((e) => e.name === name);
            const state = (e: typeof active) =>
              e === undefined
                ? undefined
                : { version_info: e.version, listener: e.json, last_updated: at(e.lastUpdated) };
            return { name, active_state: state(active), warming_state: state(warming) };
          }),
          ...(errorState('LDS') === undefined ? {} : { error_state: errorState('LDS') }),
        },
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
          version_info: typeVersion('CDS'),
          static_clusters: proxy.clusters
            .all()
            .filter((c) => !dump?.clusters.active.some((e) => e.name === c.name))
            .map((c) => ({ name: c.name, type: c.config.type })),
          dynamic_active_clusters: (dump?.clusters.active ?? []).map((e) => ({
            version_info: e.version,
            cluster: e.json,
            last_updated: at(e.lastUpdated),
          })),
          dynamic_warming_clusters: (dump?.clusters.warming ?? []).map((e) => ({
            version_info: e.version,
            cluster: e.json,
            last_updated: at(e.lastUpdated),
          })),
          ...(errorState('CDS') === undefined ? {} : { error_state: errorState('CDS') }),
        },
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
          dynamic_route_configs: (dump?.routes ?? []).map((e) => ({
            version_info: e.version,
            route_config: e.json,
            last_updated: at(e.lastUpdated),
          })),
          ...(errorState('RDS') === undefined ? {} : { error_state: errorState('RDS') }),
        },
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
          dynamic_endpoint_configs: (dump?.endpoints ?? []).map((e) => ({
            version_info: e.version,
            endpoint_config: e.json,
            last_updated: at(e.lastUpdated),
          })),
          ...(errorState('EDS') === undefined ? {} : { error_state: errorState('EDS') }),
        },
      ],
    });
  });
  add(
    '/xds',
    'the ADS stream: target, connection, per-type versions, nonces and last NACK',
    (_req, _url, res) => {
      sendJson(res, proxy.xds?.status() ?? { connected: false, types: [] });
    },
  );
  add('/clusters', 'upstream clusters, their hosts and counters; ?format=json', (_req, url, res) => {
    const clusters = proxy.clusters.all();
    if (url.searchParams.get('format') === 'json') {
      sendJson(res, {
        cluster_statuses: clusters.map((c) => ({
          name: c.name,
          circuit_breakers: {
            thresholds: [thresholdsJson(c.config.circuitBreakers ?? DEFAULT_CIRCUIT_BREAKERS)],
          },
          ...outlierClusterJson(c),
          host_statuses: c.hosts.map((h) => ({
            address: { socket_address: { address: h.address, port_value: h.port } },
            stats: h.stats,
            health_status: healthStatusJson(h.healthFlags),
            ...outlierHostJson(c, h),
            weight: h.weight,
            locality: h.locality,
          })),
        })),
      });
      return;
    }
    const lines: string[] = [];
    for (const c of clusters) {
      // Envoy's /clusters prints the circuit-breaker thresholds per priority first.
      const t = c.config.circuitBreakers ?? DEFAULT_CIRCUIT_BREAKERS;
      lines.push(`${c.name}::default_priority::max_connections::${t.maxConnections}`);
      lines.push(`${c.name}::default_priority::max_pending_requests::${t.maxPendingRequests}`);
      lines.push(`${c.name}::default_priority::max_requests::${t.maxRequests}`);
      lines.push(`${c.name}::default_priority::max_retries::${t.maxRetries}`);
      if (t.retryBudget !== null) {
        lines.push(`${c.name}::default_priority::retry_budget_percent::${t.retryBudget.budgetPercent}`);
        lines.push(
          `${c.name}::default_priority::retry_budget_min_retry_concurrency::${t.retryBudget.minRetryConcurrency}`,
        );
      }
      const od = c.outlierDetector;
      if (od !== null) {
        // Envoy prints the detector's last-interval numbers (-1: not computed).
        lines.push(`${c.name}::outlier::success_rate_average::${od.externalNumbers.average}`);
        lines.push(
          `${c.name}::outlier::success_rate_ejection_threshold::${od.externalNumbers.ejectionThreshold}`,
        );
        lines.push(`${c.name}::outlier::local_origin_success_rate_average::${od.localOriginNumbers.average}`);
        lines.push(
          `${c.name}::outlier::local_origin_success_rate_ejection_threshold::${od.localOriginNumbers.ejectionThreshold}`,
        );
      }
      for (const h of c.hosts) {
        const p = `${c.name}::${h.addressString}::`;
        lines.push(`${p}cx_total::${h.stats.cxTotal}`);
        lines.push(`${p}cx_active::${h.stats.cxActive}`);
        lines.push(`${p}cx_connect_fail::${h.stats.cxConnectFail}`);
        lines.push(`${p}rq_total::${h.stats.rqTotal}`);
        lines.push(`${p}rq_active::${h.stats.rqActive}`);
        lines.push(`${p}rq_success::${h.stats.rqSuccess}`);
        lines.push(`${p}rq_error::${h.stats.rqError}`);
        lines.push(`${p}rq_timeout::${h.stats.rqTimeout}`);
        lines.push(`${p}health_flags::${formatHealthFlags(h.healthFlags)}`);
        const m = od?.monitor(h);
        if (m !== undefined) {
          lines.push(`${p}success_rate::${m.external.rate}`);
          lines.push(`${p}local_origin_success_rate::${m.localOrigin.rate}`);
          lines.push(`${p}outlier_ejections::${m.numEjections}`);
        }
        lines.push(`${p}weight::${h.weight}`);
        lines.push(`${p}region::${h.locality?.region ?? ''}`);
        lines.push(`${p}zone::${h.locality?.zone ?? ''}`);
      }
    }
    send(res, 200, 'text/plain', lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  });
  add(
    '/memory',
    "memory use as Envoy's admin.v3.Memory (JSON); total_physical_bytes is the resident set",
    (_req, _url, res) => sendJson(res, memoryReport()),
  );
  add('/listeners', 'listener names and bound addresses; ?format=json', (_req, url, res) => {
    const ls = proxy.listeners.all();
    if (url.searchParams.get('format') === 'json') {
      sendJson(res, {
        listener_statuses: ls.map((l) => ({
          name: l.name,
          local_address: { socket_address: { address: l.address.address, port_value: l.address.port } },
        })),
      });
      return;
    }
    send(
      res,
      200,
      'text/plain',
      ls.map((l) => `${l.name}::${formatAddress(l.address.address, l.address.port)}\n`).join(''),
    );
  });
  add(
    '/drain_listeners',
    'stop accepting on every listener and drain their connections',
    async (_req, _url, res) => {
      void proxy.drainListeners();
      send(res, 200, 'text/plain', 'OK\n');
    },
    true,
  );
  add(
    '/quitquitquit',
    'drain and exit',
    (_req, _url, res) => {
      send(res, 200, 'text/plain', 'OK\n');
      res.on('finish', () => proxy.requestExit());
    },
    true,
  );
  add(
    '/reload',
    're-read the config file now (as SIGHUP does)',
    async (_req, _url, res) => {
      const r = await proxy.reload();
      if (r.ok) send(res, 200, 'text/plain', `OK version ${r.version}\n`);
      else send(res, 400, 'text/plain', `${r.error.message}\n`);
    },
    true,
  );
  return eps;
}

/** A cluster's effective thresholds, in Envoy's CircuitBreakers.Thresholds JSON shape. */
function thresholdsJson(t: CircuitBreakerThresholds): Record<string, unknown> {
  return {
    priority: 'DEFAULT',
    max_connections: t.maxConnections,
    max_pending_requests: t.maxPendingRequests,
    max_requests: t.maxRequests,
    max_retries: t.maxRetries,
    ...(t.retryBudget === null
      ? {}
      : {
          retry_budget: {
            budget_percent: { value: t.retryBudget.budgetPercent },
            min_retry_concurrency: t.retryBudget.minRetryConcurrency,
          },
        }),
  };
}

/** Envoy's admin.v3.HostHealthStatus: the EDS status and each failure flag that is set. */
function healthStatusJson(flags: number): Record<string, unknown> {
  return {
    eds_health_status: flags & HealthFlag.FailedEdsHealth ? 'UNHEALTHY' : 'HEALTHY',
    ...(flags & HealthFlag.FailedActiveHc ? { failed_active_health_check: true } : {}),
    ...(flags & HealthFlag.FailedOutlierCheck ? { failed_outlier_check: true } : {}),
    ...(flags & HealthFlag.PendingActiveHc ? { pending_active_hc: true } : {}),
  };
}

/** A cluster's success-rate ejection thresholds (Envoy's ClusterStatus fields), when computed. */
function outlierClusterJson(c: UpstreamCluster): Record<string, unknown> {
  const od = c.outlierDetector;
  if (od === null) return {};
  const out: Record<string, unknown> = {};
  if (od.externalNumbers.ejectionThreshold >= 0)
    out.success_rate_ejection_threshold = { value: od.externalNumbers.ejectionThreshold };
  if (od.localOriginNumbers.ejectionThreshold >= 0)
    out.local_origin_success_rate_ejection_threshold = { value: od.localOriginNumbers.ejectionThreshold };
  return out;
}

/** A host's success rates (Envoy's HostStatus fields) and Weft's `outlier` ejection state. */
function outlierHostJson(c: UpstreamCluster, h: Host): Record<string, unknown> {
  const od = c.outlierDetector;
  const m = od?.monitor(h);
  if (od == null || m === undefined) return {};
  return {
    ...(m.external.rate >= 0 ? { success_rate: { value: m.external.rate } } : {}),
    ...(m.localOrigin.rate >= 0 ? { local_origin_success_rate: { value: m.localOrigin.rate } } : {}),
    outlier: {
      ejected: m.ejected,
      ejections: m.numEjections,
      ejection_time_multiplier: m.ejectTimeMultiplier,
      ...(m.ejected ? { ejection_period_ms: od.ejectionPeriodMs(m) } : {}),
    },
  };
}
