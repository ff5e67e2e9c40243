// Keeps one Workload registered while `weft run` runs: PUT it once, then renew its TTL with
// `POST .../heartbeat` every ttl/3 on the injected clock (docs/control.md, "Workload TTL and
// heartbeats"). A failed heartbeat (control plane down or slow) is logged once per outage and
// retried on the next tick; the sidecar meanwhile keeps serving its last config (static
// stability). When the control plane answers 404 — the lease expired during a long outage,
// or someone deleted the Workload — the Workload is PUT again. A changed Workload
// (`update`, e.g. healthy: true) is PUT, and PUT again on later ticks until it is stored.

import { ApiError, type ControlClient } from '../cli/control-client.js';
import type { Resource } from '../control/resource.js';
import type { Clock, Timer } from '../core/clock.js';

/** The three calls registration needs; `createWorkloadApi` is the real one. */
export interface WorkloadApi {
  /** Creates or replaces the Workload (renews its lease too). */
  put(workload: Resource): Promise<void>;
  /** Renews the lease; rejects with an ApiError (404 when the Workload is gone). */
  heartbeat(namespace: string, name: string): Promise<void>;
  /** Deletes it; resolves false when it was already gone. */
  remove(namespace: string, name: string): Promise<boolean>;
}

export function workloadPath(namespace: string, name: string): string {
  return `/apis/weft.dev/v1alpha1/namespaces/${encodeURIComponent(namespace)}/workloads/${encodeURIComponent(name)}`;
}

/** The WorkloadApi over the CLI's control client; each call gives up after `timeoutMs`. */
export function createWorkloadApi(client: ControlClient, clock: Clock, timeoutMs: number): WorkloadApi {
  const call = <T>(method: string, path: string, body?: unknown) =>
    withTimeout(
      client.request<T>(method, path, body),
      clock,
      timeoutMs,
      `${method} ${client.baseUrl}${path}`,
    );
  return {
    async put(workload) {
      const m = workload.metadata as { namespace: string; name: string };
      await call('PUT', workloadPath(m.namespace, m.name), workload);
    },
    async heartbeat(namespace, name) {
      await call('POST', `${workloadPath(namespace, name)}/heartbeat`);
    },
    async remove(namespace, name) {
      try {
        await call('DELETE', workloadPath(namespace, name));
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return false;
        throw err;
      }
    },
  };
}

export interface RegistrationOptions {
  readonly api: WorkloadApi;
  readonly clock: Clock;
  /** The Workload to keep registered; its spec.ttlSeconds sets the heartbeat interval (ttl/3). */
  readonly workload: Resource;
  /** One line per event worth a log line (weft run prefixes and prints it). */
  readonly log: (line: string) => void;
}

export interface Registration {
  /** PUTs the Workload now; rejects when the control plane refuses or cannot be reached. */
  register(): Promise<void>;
  /** Starts the heartbeat ticks (after a successful register). */
  start(): void;
  /** Replaces what is registered (PUT now, retried on later ticks until stored). */
  update(workload: Resource): void;
  /** Stops the ticks and waits for a call in flight. */
  stop(): Promise<void>;
  /** stop(), then DELETE the Workload; false (and a log line) when that failed. */
  deregister(): Promise<boolean>;
  /** Heartbeats and PUTs that succeeded / failed so far (for tests and status lines). */
  readonly stats: { readonly renewed: number; readonly failed: number; readonly reregistered: number };
}

export function createRegistration(options: RegistrationOptions): Registration {
  const { api, clock, log } = options;
  let desired = options.workload;
  const meta = desired.metadata as { namespace: string; name: string };
  const id = `${meta.namespace}/${meta.name}`;
  const ttlSeconds = Number((desired.spec as { ttlSeconds?: number }).ttlSeconds ?? 15);
  const intervalMs = Math.max(1000, Math.floor((ttlSeconds * 1000) / 3));
  const stats = { renewed: 0, failed: 0, reregistered: 0 };
  let pending = false;
  let stopped = true;
  let timer: Timer | undefined;
  let inFlight: Promise<void> | undefined;
  let again = false;
  /** The message of the outage in progress, or undefined while all is well. */
  let outage: string | undefined;

  function schedule(ms: number): void {
    timer?.cancel();
    timer = clock.setTimer(ms, () => {
      timer = undefined;
      kick();
    });
  }

  /** Runs a tick now, or right after the one in flight. */
  function kick(): void {
    if (stopped) return;
    if (inFlight !== undefined) {
      again = true;
      return;
    }
    timer?.cancel();
    timer = undefined;
    inFlight = tick().finally(() => {
      inFlight = undefined;
      if (stopped) return;
      if (again) {
        again = false;
        kick();
      } else schedule(intervalMs);
    });
  }

  async function tick(): Promise<void> {
    try {
      if (pending) await putDesired();
      else {
        try {
          await api.heartbeat(meta.namespace, meta.name);
          stats.renewed++;
        } catch (err) {
          // Gone (expired while we could not reach the control plane, or deleted) or replaced
          // by a Workload without ttlSeconds (400): register ours again.
          if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 400)) throw err;
          log(`Workload ${id} is gone from the control plane (${err.message}); registering it again`);
          await putDesired();
          stats.reregistered++;
        }
      }
      if (outage !== undefined) {
        log(`control plane reachable again; Workload ${id} renewed`);
        outage = undefined;
      }
    } catch (err) {
      stats.failed++;
      const message = (err as Error).message;
      if (outage !== message)
        log(
          `heartbeat for ${id} failed: ${message}; retrying every ${intervalMs / 1000}s ` +
            '(the sidecar keeps serving its last config)',
        );
      outage = message;
    }
  }

  async function putDesired(): Promise<void> {
    const sent = desired;
    await api.put(sent);
    if (sent === desired) pending = false;
  }

  async function stop(): Promise<void> {
    stopped = true;
    timer?.cancel();
    timer = undefined;
    await inFlight;
  }

  return {
    stats,
    async register() {
      await api.put(desired);
      pending = false;
    },
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(intervalMs);
    },
    update(workload) {
      desired = workload;
      pending = true;
      kick();
    },
    stop,
    async deregister() {
      await stop();
      try {
        const existed = await api.remove(meta.namespace, meta.name);
        log(existed ? `deregistered Workload ${id}` : `Workload ${id} was already gone`);
        return true;
      } catch (err) {
        log(
          `could not deregister Workload ${id}: ${(err as Error).message}; ` +
            `it expires within ${ttlSeconds}s (its TTL)`,
        );
        return false;
      }
    },
  };
}

/** Rejects with WEFT_CONTROL_UNREACHABLE when `promise` takes longer than `ms` (it is left to settle). */
export function withTimeout<T>(promise: Promise<T>, clock: Clock, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(ms, () =>
      reject(new ApiError('WEFT_CONTROL_UNREACHABLE', 0, `${what}: no answer within ${ms / 1000}s`)),
    );
    promise.then(
      (v) => {
        timer.cancel();
        resolve(v);
      },
      (err: unknown) => {
        timer.cancel();
        reject(err);
      },
    );
  });
}
