// Readiness checks of supervised processes: a TCP connect to a port, or an HTTP GET that
// must answer 2xx. One probe is one attempt with its own short timeout; the supervisor
// repeats it on its clock until the process's deadline, and reports the last failure.

import { request } from 'node:http';
import { connect } from 'node:net';

export type ReadinessCheck =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'http'; readonly host: string; readonly port: number; readonly path: string };

export interface ProbeResult {
  readonly ok: boolean;
  /** Why not: `connection refused`, `answered 503`, `timed out`. */
  readonly detail: string;
}

const PROBE_TIMEOUT_MS = 1000;

export function probeOnce(check: ReadinessCheck, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  return check.kind === 'tcp' ? probeTcp(check.host, check.port, timeoutMs) : probeHttp(check, timeoutMs);
}

/** What the check waits for, for messages: `listening on 127.0.0.1:8080`. */
export function describeCheck(check: ReadinessCheck): string {
  return check.kind === 'tcp'
    ? `listening on ${check.host}:${check.port}`
    : `answering GET http://${check.host}:${check.port}${check.path} with 2xx`;
}

function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (r: ProbeResult) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, detail: 'connect timed out' }));
    socket.once('connect', () => done({ ok: true, detail: 'connected' }));
    socket.once('error', (err) => done({ ok: false, detail: errorDetail(err) }));
  });
}

function probeHttp(
  check: { host: string; port: number; path: string },
  timeoutMs: number,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request({
      host: check.host,
      port: check.port,
      path: check.path,
      method: 'GET',
      agent: false,
    });
    let settled = false;
    const done = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve(r);
    };
    req.setTimeout(timeoutMs, () => done({ ok: false, detail: 'timed out' }));
    req.once('error', (err) => done({ ok: false, detail: errorDetail(err) }));
    req.once('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      done(
        status >= 200 && status < 300
          ? { ok: true, detail: `answered ${status}` }
          : { ok: false, detail: `answered ${status}` },
      );
    });
    req.end();
  });
}

function errorDetail(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  return code ?? err.message;
}
