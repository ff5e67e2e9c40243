// The control plane's REST/JSON API on node:http (every endpoint in docs/api.md):
//
//   GET    /healthz                                   liveness + current revision
//   GET    /apis                                      the kinds served (discovery for the CLI)
//   GET    /apis/{group}/{version}[/namespaces/{ns}]/{plural}          list (?labelSelector=)
//   GET|PUT|DELETE .../{plural}/{name}                one resource
//   PUT    .../{plural}/{name}/status                 status only (no generation bump)
//   POST   /apis/weft.dev/v1alpha1/namespaces/{ns}/workloads/{name}/heartbeat
//   POST   /v1/apply   {items:[...]}                  all-or-nothing apply
//   POST   /v1/delete  {items:[{apiVersion,kind,namespace,name}]}  all-or-nothing delete
//   GET    /v1/watch?fromRevision=N                   NDJSON event stream
//   GET    /v1/proxy-status                           every connected xDS client, per-type sync state
//   GET    /v1/proxy-config/{nodeId}                  what one xDS client was last sent, by type
//
// Handlers translate HTTP to store calls; validation is the registry's, errors are mapped
// in api-errors.ts only.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../core/clock.js';
import { ConfigError, WeftError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { KindRegistry } from '../kinds/registry.js';
import { ControlError } from '../store/control-error.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { WorkloadLeases } from '../store/workload-leases.js';
import { sendError, sendJson } from './api-errors.js';
import { parseDeleteTargets } from './delete-targets.js';
import { readJsonBody } from './read-body.js';
import { handleResourcePath } from './resource-routes.js';
import { startWatchStream } from './watch-stream.js';

/** How long close() lets a response already under way finish before closing its connection. */
const CLOSE_GRACE_MS = 1000;

export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_API_PORT = 15000;

export interface ApiServerDeps {
  readonly store: ResourceStore;
  readonly kinds: KindRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Workload TTL leases; without them the heartbeat endpoint answers 404. */
  readonly leases?: WorkloadLeases;
  /** Largest request body accepted (default 4 MiB); larger gets 413. */
  readonly maxBodyBytes?: number;
  /** Interval of BOOKMARK lines on watch streams (default 30 s). */
  readonly bookmarkIntervalMs?: number;
  /** The xDS debug views; without them the proxy-status/proxy-config endpoints answer 404. */
  readonly proxyDebug?: ProxyDebugViews;
}

/** What the xDS server exposes for debugging (implemented in src/control/server/proxy-debug.ts). */
export interface ProxyDebugViews {
  proxyStatus(): unknown;
  /** undefined when no proxy with that node id is connected. */
  proxyConfig(nodeId: string): unknown | undefined;
}

export interface ApiServer {
  /** Binds and resolves with the bound address (port 0 picks a free port). */
  listen(port?: number, host?: string): Promise<{ host: string; port: number; url: string }>;
  /** Ends watch streams, stops accepting, closes idle connections. */
  close(): Promise<void>;
}

export function createApiServer(deps: ApiServerDeps): ApiServer {
  const maxBodyBytes = deps.maxBodyBytes ?? 4 * 1024 * 1024;
  const watches = new Set<() => void>();
  /** Responses not yet closed, and whether close() has begun (see close()). */
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const server: Server = createServer((req, res) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    if (closing) res.setHeader('connection', 'close');
    handle(req, res).catch((err: unknown) => {
      // A refused body is not read to its end: close the connection rather than drain it.
      if (err instanceof ControlError && err.status === 413) res.setHeader('connection', 'close');
      sendError(res, err, deps.logger);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://api');
    const method = req.method ?? 'GET';
    deps.logger.debug(`api: ${method} ${url.pathname}${url.search}`);
    const path = url.pathname;
    if (path === '/healthz')
      return only(method, 'GET', () => sendJson(res, 200, { status: 'ok', revision: deps.store.revision() }));
    if (path === '/apis' || path === '/apis/')
      return only(method, 'GET', () =>
        sendJson(res, 200, {
          revision: deps.store.revision(),
          kinds: deps.kinds.all().map((k) => ({
            apiVersion: k.apiVersion,
            kind: k.kind,
            plural: k.plural,
            aliases: k.aliases,
            namespaced: k.namespaced,
          })),
        }),
      );
    if (path.startsWith('/apis/'))
      return handleResourcePath({ ...deps, maxBodyBytes }, req, res, url, method);
    if (path === '/v1/apply')
      return only(method, 'POST', async () => {
        const body = await readJsonBody(req, maxBodyBytes);
        const items = Array.isArray(body) ? body : (body as { items?: unknown })?.items;
        if (!Array.isArray(items))
          throw new ConfigError('apply', [
            { path: 'items', message: 'expected {"items": [resource, ...]} or a JSON list' },
          ]);
        const result = await deps.store.apply(items);
        sendJson(res, 200, {
          revision: result.revision,
          items: result.items.map((it) => ({
            ...it.key,
            action: it.action,
            resourceVersion: it.resource.metadata.resourceVersion,
          })),
        });
      });
    if (path === '/v1/delete')
      return only(method, 'POST', async () => {
        const body = await readJsonBody(req, maxBodyBytes);
        const targets = parseDeleteTargets(body, deps.kinds);
        const result = await deps.store.delete(targets);
        sendJson(res, 200, {
          revision: result.revision,
          items: targets.map(({ resourceVersion: _, ...key }) => key),
        });
      });
    if (path === '/v1/watch') return only(method, 'GET', () => watch(req, res, url));
    if (path === '/v1/proxy-status')
      return only(method, 'GET', () => sendJson(res, 200, proxyDebug().proxyStatus()));
    if (path.startsWith('/v1/proxy-config/'))
      return only(method, 'GET', () => {
        const nodeId = decodePathSegment(path.slice('/v1/proxy-config/'.length));
        const config = proxyDebug().proxyConfig(nodeId);
        if (config === undefined)
          throw new ControlError(
            'WEFT_NOT_FOUND',
            404,
            `no xDS client with node id '${nodeId}' is connected (see GET /v1/proxy-status)`,
          );
        sendJson(res, 200, config);
      });
    throw new ControlError('WEFT_NOT_FOUND', 404, `no API endpoint at ${path} (see docs/api.md)`);
  }

  function proxyDebug(): ProxyDebugViews {
    if (deps.proxyDebug === undefined)
      throw new ControlError('WEFT_NOT_FOUND', 404, 'this control plane runs no xDS server');
    return deps.proxyDebug;
  }

  function watch(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const raw = url.searchParams.get('fromRevision');
    const fromRevision = raw === null ? deps.store.revision() : Number(raw);
    if (!Number.isSafeInteger(fromRevision) || fromRevision < 0)
      throw new ControlError(
        'WEFT_API_REQUEST',
        400,
        `fromRevision must be a non-negative integer, not '${raw}'`,
      );
    const filter = {
      ...optionalParam(url, 'apiVersion'),
      ...optionalParam(url, 'kind'),
      ...optionalParam(url, 'namespace'),
    };
    const stop = startWatchStream(req, res, {
      store: deps.store,
      clock: deps.clock,
      fromRevision,
      filter,
      bookmarkIntervalMs: deps.bookmarkIntervalMs ?? 30_000,
      maxBacklogBytes: 8 * 1024 * 1024,
    });
    watches.add(stop);
    res.on('close', () => watches.delete(stop));
  }

  return {
    listen(port = DEFAULT_API_PORT, host = DEFAULT_API_HOST) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void =>
          reject(
            new WeftError('WEFT_LISTEN_FAILED', `API cannot listen on ${host}:${port}: ${err.message}`, {
              cause: err,
            }),
          );
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const a = server.address() as AddressInfo;
          const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve({ host: a.address, port: a.port, url: `http://${shown}:${a.port}` });
        });
      });
    },
    close() {
      closing = true;
      for (const stop of [...watches]) stop();
      // A client that polls over a keep-alive connection (a `weft run` heartbeat every
      // second) would otherwise keep it open, and server.close() waiting, for good: every
      // response from now on closes its connection, and what is still open after a grace
      // (a response already under way) is closed.
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      return new Promise((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

async function only(method: string, allowed: string, fn: () => void | Promise<void>): Promise<void> {
  if (method !== allowed)
    throw new ControlError('WEFT_API_REQUEST', 405, `method ${method} not allowed here; use ${allowed}`);
  await fn();
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ControlError('WEFT_API_REQUEST', 400, `malformed percent-encoding in '${segment}'`);
  }
}

function optionalParam(url: URL, name: string): Record<string, string> {
  const v = url.searchParams.get(name);
  return v === null || v === '' ? {} : { [name]: v };
}
