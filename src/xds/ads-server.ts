// The ADS server: envoy.service.discovery.v3.AggregatedDiscoveryService over @grpc/grpc-js,
// both StreamAggregatedResources (state of the world) and DeltaAggregatedResources
// (incremental), serving per-proxy snapshots from an injected SnapshotSource. Snapshot
// changes are debounced into pushes; status() lists every connected proxy with its per-type
// SYNCED / STALE / NACKED state (for `weft proxy-status`).

import {
  type handleBidiStreamingCall,
  Server,
  ServerCredentials,
  type ServerOptions,
  status,
} from '@grpc/grpc-js';
import { type Clock, systemClock } from '../core/clock.js';
import { WeftError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { type AdsProtocol, AdsStream, type ProxyStatus, type StreamContext } from './ads-stream.js';
import { adsServiceDefinition } from './discovery-service.js';
import { createJsonCodec, type JsonCodec } from './json-codec.js';
import type { XdsProtos } from './protos.js';
import { createPushDebouncer } from './push-debouncer.js';
import { createResourceEncoder, type ResourceEncoder } from './resource-encoder.js';
import { createSendGate } from './send-gate.js';
import type { SnapshotChange, SnapshotSource } from './snapshot.js';
import { createSotwResponses, type SotwResponses } from './sotw-responses.js';

/** Streams refreshed per event-loop turn after a change. */
export const DEFAULT_REFRESH_BATCH = 100;

/** Istio's plaintext xDS port. */
export const DEFAULT_ADS_PORT = 15010;

export interface AdsServerOptions {
  readonly source: SnapshotSource;
  /** Loaded protos (see createProtoLoader); share one per process. */
  readonly protos: XdsProtos;
  /** Defaults to a codec over `protos`. */
  readonly codec?: JsonCodec;
  /** Defaults to an encoder over `codec`; pass one to share its cache between servers. */
  readonly encoder?: ResourceEncoder;
  /** Shared SotW outcomes and nonces (sotw-responses.ts); defaults to one per server. */
  readonly responses?: SotwResponses;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Default 127.0.0.1; set 0.0.0.0 (or a host address) when proxies on other hosts must reach it. */
  readonly host?: string;
  /** Default 15010; 0 picks a free port. */
  readonly port?: number;
  /** Quiet period before a push, ms (default 100). */
  readonly debounceMs?: number;
  /** Longest a change waits during a burst, ms (default 1000). */
  readonly maxDebounceMs?: number;
  /** Response bytes handed to gRPC and not yet written, over all streams (default 64 MiB); more waits. */
  readonly sendBudgetBytes?: number;
  /** Streams refreshed per event-loop turn after a change (default 100). */
  readonly refreshBatch?: number;
  /** Sent as control_plane.identifier in every response. */
  readonly controlPlaneId?: string;
  /** Passed to the grpc-js Server (keepalive, message size...). */
  readonly grpcOptions?: ServerOptions;
}

export interface AdsServer {
  /** Binds and starts serving; resolves with the bound port. */
  start(): Promise<{ port: number }>;
  /** Ends every stream with UNAVAILABLE (proxies reconnect elsewhere or later), then shuts down. */
  stop(): Promise<void>;
  /** Every identified stream, oldest first. */
  status(): ProxyStatus[];
  /** Pushes debounced changes now (the first refreshBatch streams at once, the rest on the next turns). */
  flush(): void;
  /** Number of open streams (identified or not). */
  readonly streamCount: number;
}

/** How long stop() lets open calls finish before it closes them (grpc-js forceShutdown). */
const SHUTDOWN_GRACE_MS = 2000;

export function createAdsServer(options: AdsServerOptions): AdsServer {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger();
  const codec = options.codec ?? createJsonCodec(options.protos);
  const encoder = options.encoder ?? createResourceEncoder(codec, logger);
  const responses = options.responses ?? createSotwResponses();
  const gate = createSendGate(options.sendBudgetBytes);
  const streams = new Set<AdsStream>();
  const byNode = new Map<string, Set<AdsStream>>();
  let nextStreamId = 1;
  let server: Server | undefined;
  let unsubscribe: (() => void) | undefined;

  // Streams owed a refresh, worked through REFRESH_BATCH at a time with an event-loop turn in
  // between: the first proxies' updates leave (and are processed by them) while later streams
  // are still being refreshed, instead of every write waiting for the whole pass
  // (bench:control, issue 5). A stream refreshes from the newest snapshot whenever its turn
  // comes, so a change arriving mid-pass only adds streams to the same pass.
  const owed = new Set<AdsStream>();
  let passScheduled = false;
  const refreshBatch = options.refreshBatch ?? DEFAULT_REFRESH_BATCH;
  const runPass = (): void => {
    passScheduled = false;
    let n = 0;
    for (const stream of owed) {
      owed.delete(stream);
      stream.refresh();
      if (++n >= refreshBatch && owed.size > 0) {
        passScheduled = true;
        setImmediate(runPass);
        return;
      }
    }
  };
  const refreshAll = (changes: SnapshotChange[]): void => {
    // A change without node ids may concern anyone; otherwise refresh only the named proxies.
    if (changes.some((c) => c.nodeIds === undefined)) for (const stream of streams) owed.add(stream);
    else {
      const ids = new Set(changes.flatMap((c) => c.nodeIds ?? []));
      for (const id of ids) for (const stream of byNode.get(id) ?? []) owed.add(stream);
    }
    if (!passScheduled) runPass();
  };
  const debouncer = createPushDebouncer<SnapshotChange>(
    clock,
    { quietMs: options.debounceMs ?? 100, maxMs: options.maxDebounceMs ?? 1000 },
    refreshAll,
  );

  const ctx: StreamContext = {
    source: options.source,
    encoder,
    responses,
    gate,
    codec,
    clock,
    logger,
    controlPlaneId: options.controlPlaneId ?? 'weft',
    onIdentified(stream) {
      const id = stream.node!.id;
      let set = byNode.get(id);
      if (set === undefined) byNode.set(id, (set = new Set()));
      set.add(stream);
      logger.info(`xds: proxy '${id}' connected (${stream.protocol}, stream ${stream.id}, ${stream.peer})`);
    },
    onClosed(stream) {
      streams.delete(stream);
      owed.delete(stream);
      const id = stream.node?.id;
      if (id === undefined) return;
      const set = byNode.get(id);
      set?.delete(stream);
      if (set?.size === 0) byNode.delete(id);
      logger.info(`xds: proxy '${id}' disconnected (stream ${stream.id})`);
    },
  };

  const open =
    (protocol: AdsProtocol): handleBidiStreamingCall<unknown, unknown> =>
    (call) => {
      streams.add(
        new AdsStream(nextStreamId++, protocol, call as ConstructorParameters<typeof AdsStream>[2], ctx),
      );
    };

  return {
    async start() {
      if (server !== undefined) throw new Error('ADS server already started');
      const grpcServer = new Server(options.grpcOptions);
      grpcServer.addService(adsServiceDefinition(options.protos), {
        StreamAggregatedResources: open('sotw'),
        DeltaAggregatedResources: open('delta'),
      });
      const host = options.host ?? '127.0.0.1';
      const address = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? DEFAULT_ADS_PORT}`;
      const port = await new Promise<number>((resolve, reject) => {
        grpcServer.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => {
          if (err)
            reject(
              new WeftError('WEFT_LISTEN_FAILED', `xDS server cannot listen on ${address}: ${err.message}`),
            );
          else resolve(bound);
        });
      });
      server = grpcServer;
      unsubscribe = options.source.subscribe((change) => debouncer.trigger(change));
      logger.info(`xds: ADS server listening on ${host}:${port}`);
      return { port };
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      debouncer.cancel();
      for (const stream of [...streams]) stream.close(status.UNAVAILABLE, 'xDS server shutting down');
      const grpcServer = server;
      server = undefined;
      if (grpcServer === undefined) return;
      await new Promise<void>((resolve) => {
        // Every call has been ended above, so tryShutdown completes once the statuses are
        // flushed. A proxy that reconnects at once may open a new call on a session in
        // between, which tryShutdown would wait for forever: after a grace, force it.
        const force = setTimeout(() => grpcServer.forceShutdown(), SHUTDOWN_GRACE_MS);
        force.unref();
        grpcServer.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
    status() {
      const out: ProxyStatus[] = [];
      for (const stream of streams) {
        const s = stream.status();
        if (s !== undefined) out.push(s);
      }
      return out.sort((a, b) => a.streamId - b.streamId);
    },
    flush() {
      debouncer.flush();
    },
    get streamCount() {
      return streams.size;
    },
  };
}
