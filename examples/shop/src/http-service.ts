// What every HTTP service of the shop shares, so each service file holds only its own
// routes: /healthz, the fault knobs, the x-shop-service / x-shop-version response headers,
// one log line per request, the "listening on HOST:PORT" line (how `weft up` and the test
// learn the port when PORT=0), and a clean stop on SIGTERM/SIGINT.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFaultKnobs } from './fault-knobs.js';
import type { ShopConfig } from './shop-config.js';

export interface Reply {
  readonly status: number;
  /** An object is sent as JSON; a string as HTML. */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Answers one request, or returns null for "no such route" (404). */
export type Handler = (req: IncomingMessage, url: URL) => Promise<Reply | null>;

/** How long in-flight requests get to finish after SIGTERM before their connections are cut. */
const DRAIN_MS = 5000;

export function json(status: number, body: unknown): Reply {
  return { status, body };
}

export function runHttpService(config: ShopConfig, handler: Handler): void {
  const knobs = createFaultKnobs(config);
  const server = createServer((req, res) => {
    const started = performance.now();
    serve(req, res).then(
      (note) => logRequest(req, res, started, note),
      (err: unknown) => {
        // A bug, not a knob: answer 500 once and say what happened in the log.
        if (!res.headersSent) send(res, json(500, { error: 'internal error', version: config.version }));
        else res.destroy();
        logRequest(req, res, started, `error=${JSON.stringify((err as Error).message)}`);
      },
    );
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<string> {
    const url = new URL(req.url ?? '/', 'http://shop.invalid');
    // A sidecar sets x-request-id; without one (a direct call) make one, so the log line
    // and the calls this request makes to other services can still be matched up.
    if (typeof req.headers['x-request-id'] !== 'string') req.headers['x-request-id'] = randomUUID();
    // Health checks bypass the knobs: a flaky service is still alive, and a readiness
    // check that failed at FAIL_RATE would take it out of the mesh instead of showing retries.
    if (url.pathname === '/healthz') {
      send(res, json(200, { status: 'ok', service: config.service, version: config.version }));
      return '';
    }
    await knobs.delay();
    if (knobs.nextShouldFail()) {
      send(
        res,
        json(503, { error: `injected failure (FAIL_RATE=${config.failRate})`, version: config.version }),
        'fail-rate',
      );
      return 'fault=FAIL_RATE';
    }
    const reply = (await handler(req, url)) ?? json(404, { error: `no route for ${url.pathname}` });
    send(res, reply);
    return '';
  }

  function send(res: ServerResponse, reply: Reply, fault?: string): void {
    const html = typeof reply.body === 'string';
    const text = html ? (reply.body as string) : `${JSON.stringify(reply.body)}\n`;
    res.writeHead(reply.status, {
      'content-type': html ? 'text/html; charset=utf-8' : 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-shop-service': config.service,
      'x-shop-version': config.version,
      ...(fault === undefined ? {} : { 'x-shop-fault': fault }),
      ...reply.headers,
    });
    res.end(text);
  }

  function logRequest(req: IncomingMessage, res: ServerResponse, started: number, note: string): void {
    const ms = Math.round(performance.now() - started);
    const id = req.headers['x-request-id'];
    process.stdout.write(
      `${new Date().toISOString()} ${config.service} ${config.version} ${req.method} ${req.url} ${res.statusCode} ${ms}ms id=${id}${note === '' ? '' : ` ${note}`}\n`,
    );
  }

  server.on('error', (err) => exitOnStartError(config.service, err));
  server.listen(config.port, config.host, () => {
    const { address, port } = server.address() as AddressInfo;
    process.stdout.write(`shop ${config.service} ${config.version} listening on ${address}:${port}\n`);
  });
  stopOnSignals(config, (done) => {
    server.close(() => done());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
  });
}

/**
 * SIGTERM (what `weft up`/`weft down` send) and SIGINT (Ctrl-C) stop accepting, let
 * in-flight work finish, and exit 0. The explicit exit is needed because fetch keeps idle
 * upstream connections open, which would otherwise keep the process alive.
 */
export function stopOnSignals(config: ShopConfig, stop: (done: () => void) => void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`shop ${config.service} ${config.version} stopping (${signal})\n`);
    stop(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Start-up failures (a bad variable, a port in use) end the process with one readable line. */
export function exitOnStartError(service: string, err: unknown): never {
  const e = err as Error & { code?: string };
  process.stderr.write(
    `shop ${service}: cannot start: ${e.code === undefined ? '' : `${e.code}: `}${e.message}\n`,
  );
  process.exit(2);
}
