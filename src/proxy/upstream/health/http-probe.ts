// HTTP/1.1 health checks (`http_health_check`): a request to `path` with Host `host` (the
// cluster name when empty) and `user-agent: Envoy/HC`, as Envoy sends; the answer passes
// when its status is in `expected_statuses` (default 200), counts toward the threshold when
// in `retriable_statuses`, and fails at once otherwise. With `reuse_connection` (the
// default) one keep-alive connection per host is kept across checks.

import { Agent, type ClientRequest, request } from 'node:http';
import type { HttpHealthCheck, Int64Range } from '../../../config/model.js';
import type { Host } from '../host.js';
import { ProbeOutcome, type ProbeSession } from './probe.js';

function inRanges(code: number, ranges: readonly Int64Range[]): boolean {
  for (const r of ranges) if (code >= r.start && code < r.end) return true;
  return false;
}

/** The request headers, built once per checker. */
function checkHeaders(config: HttpHealthCheck, clusterName: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {
    host: config.host === '' ? clusterName : config.host,
    'user-agent': 'Envoy/HC',
  };
  for (const opt of config.requestHeadersToAdd) {
    const existing = headers[opt.key];
    if (opt.value === '' && !opt.keepEmptyValue) continue;
    if (existing === undefined) {
      if (opt.appendAction !== 'OVERWRITE_IF_EXISTS') headers[opt.key] = opt.value;
    } else if (opt.appendAction === 'APPEND_IF_EXISTS_OR_ADD') {
      headers[opt.key] = Array.isArray(existing) ? [...existing, opt.value] : [existing, opt.value];
    } else if (opt.appendAction !== 'ADD_IF_ABSENT') {
      headers[opt.key] = opt.value;
    }
  }
  for (const name of config.requestHeadersToRemove) delete headers[name];
  return headers;
}

class HttpProbeSession implements ProbeSession {
  private req: ClientRequest | null = null;
  private readonly agent: Agent | false;
  private token: object | null = null;

  constructor(
    private readonly host: Host,
    private readonly config: HttpHealthCheck,
    private readonly headers: Record<string, string | string[]>,
    reuseConnection: boolean,
  ) {
    this.agent = reuseConnection ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
  }

  check(done: (outcome: ProbeOutcome, detail: string) => void): void {
    // Each check has its own token: events of a cancelled check never reach a later one.
    const token = {};
    this.token = token;
    this.send(token, done, false);
  }

  /**
   * One request. A kept-alive connection the server closed while idle fails the request
   * before any answer; that is not the host failing, so it is sent once more on a fresh
   * connection.
   */
  private send(token: object, done: (outcome: ProbeOutcome, detail: string) => void, resent: boolean): void {
    const finish = (outcome: ProbeOutcome, detail: string) => {
      if (this.token !== token) return;
      this.token = null;
      this.req = null;
      done(outcome, detail);
    };
    const req = request({
      host: this.host.address,
      port: this.host.port,
      method: this.config.method,
      path: this.config.path,
      headers: this.headers,
      agent: this.agent,
      setHost: false,
    });
    this.req = req;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const code = res.statusCode ?? 0;
      res.resume();
      res.on('error', (err) => finish(ProbeOutcome.NetworkFailure, err.message));
      res.on('end', () => {
        if (inRanges(code, this.config.expectedStatuses)) finish(ProbeOutcome.Success, '');
        else if (inRanges(code, this.config.retriableStatuses))
          finish(ProbeOutcome.RetriableActiveFailure, `retriable status ${code}`);
        else finish(ProbeOutcome.ActiveFailure, `status ${code}`);
      });
    });
    req.on('error', (err) => {
      if (!answered && !resent && req.reusedSocket && this.token === token) {
        this.send(token, done, true);
        return;
      }
      finish(ProbeOutcome.NetworkFailure, err.message);
    });
    req.end();
  }

  cancel(): void {
    this.token = null;
    const req = this.req;
    this.req = null;
    req?.destroy();
  }

  close(): void {
    this.cancel();
    if (this.agent !== false) this.agent.destroy();
  }
}

export function createHttpProbeFactory(
  config: HttpHealthCheck,
  clusterName: string,
  reuseConnection: boolean,
): (host: Host) => ProbeSession {
  const headers = checkHeaders(config, clusterName);
  return (host) => new HttpProbeSession(host, config, headers, reuseConnection);
}
