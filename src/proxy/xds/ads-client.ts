// The proxy's ADS client: one aggregated gRPC stream to the control plane, state of the world
// (StreamAggregatedResources) or incremental (DeltaAggregatedResources), following the xDS
// protocol doc (https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol).
//
// What it owns: the stream, the per-type subscriptions (wildcard or names), the nonces and
// the accepted versions, ACK/NACK, and reconnection with jittered exponential back-off on the
// injected clock. What it does not: the meaning of resources. Each response is decoded
// (Any -> proto3 JSON) and handed to the `AdsHandler`, whose verdict becomes the ACK (the
// version is adopted) or the NACK (`error_detail` carries the handler's message and the
// previous version stays, "ACK/NACK and resource type instance version").
//
// Responses are handled one at a time, in arrival order, so a Listener update is judged
// after the Cluster update the server sent before it. On reconnect the client re-sends what
// it holds (SotW: version_info and names; delta: initial_resource_versions), so a restarted
// control plane that serves the same config causes no churn.

import {
  type ChannelOptions,
  type Client,
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
} from '@grpc/grpc-js';
import type { Clock, Timer } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { adsServiceDefinition } from '../../xds/discovery-service.js';
import type { AnyMessage, JsonCodec, JsonObject } from '../../xds/json-codec.js';
import type { XdsProtos } from '../../xds/protos.js';
import { isFullStateType, shortTypeName } from '../../xds/type-urls.js';
import { type Backoff, createBackoff } from './backoff.js';

/** google.rpc.Code INTERNAL: the code Envoy puts in a NACK's error_detail. */
const NACK_CODE = 13;

export interface AdsResource {
  readonly name: string;
  /** Delta: the resource's own version; SotW: the response's version_info. */
  readonly version: string;
  /** The resource as proto3 JSON, "@type" first. */
  readonly json: JsonObject;
}

export interface AdsUpdate {
  readonly typeUrl: string;
  /** SotW version_info / delta system_version_info. */
  readonly versionInfo: string;
  readonly resources: readonly AdsResource[];
  /** Delta removed_resources. */
  readonly removed: readonly string[];
  /** SotW LDS/CDS: `resources` is the whole set, an absent name was deleted. */
  readonly complete: boolean;
}

export type AdsVerdict = { readonly ok: true } | { readonly ok: false; readonly message: string };

export interface AdsHandler {
  /** Judges and applies one response. Must not throw (a throw is a NACK with its message). */
  onUpdate(update: AdsUpdate): Promise<AdsVerdict>;
}

export interface AdsClientOptions {
  readonly protos: XdsProtos;
  readonly codec: JsonCodec;
  /** A grpc-js target: `ipv4:127.0.0.1:15010`, `dns:xds.internal:15010`... */
  readonly target: string;
  /** envoy.config.core.v3.Node as proto3 JSON. */
  readonly node: JsonObject;
  readonly protocol: 'sotw' | 'delta';
  /** Envoy's `set_node_on_first_message_only` (default false: node on every request). */
  readonly setNodeOnFirstMessageOnly?: boolean;
  readonly handler: AdsHandler;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  readonly channelOptions?: ChannelOptions;
  /** Told when a stream opens (true) or ends (false), for the control_plane.connected_state gauge. */
  onConnectedChange?(connected: boolean): void;
}

export interface AdsTypeStatus {
  readonly typeUrl: string;
  readonly type: string;
  /** "*" for a wildcard subscription. */
  readonly subscribed: readonly string[];
  /** SotW: the last accepted version_info; delta: the last accepted system_version_info. */
  readonly versionInfo: string;
  readonly nonce: string;
  /** Delta: name -> version of what the proxy holds. */
  readonly resourceVersions: Readonly<Record<string, string>>;
  /** The last NACK sent (cleared by a later ACK). */
  readonly lastNack: { readonly version: string; readonly message: string; readonly at: number } | null;
  readonly lastAckAt: number | null;
}

export interface AdsClientStatus {
  readonly target: string;
  readonly protocol: 'sotw' | 'delta';
  readonly connected: boolean;
  /** Streams opened so far (1 after the first connect). */
  readonly streamsOpened: number;
  readonly reconnectAttempts: number;
  readonly types: readonly AdsTypeStatus[];
}

export interface AdsClient {
  /** Opens the stream (and keeps re-opening it until close()). */
  start(): void;
  /** Sets what the proxy wants of a type: "*" (wildcard) or exact names. Sends a request when it changed. */
  subscribe(typeUrl: string, names: '*' | readonly string[]): void;
  status(): AdsClientStatus;
  /** Resolves once every response received so far has been handled (tests, shutdown). */
  idle(): Promise<void>;
  close(): void;
}

interface TypeSubscription {
  readonly typeUrl: string;
  wildcard: boolean;
  names: Set<string>;
  /** Accepted version_info (SotW) / system_version_info (delta). */
  versionInfo: string;
  /** Latest nonce received on the current stream. */
  nonce: string;
  /** Delta: what the proxy holds, name -> version. */
  held: Map<string, string>;
  /** Delta: the names (and '*') subscribed on the current stream. */
  sent: Set<string>;
  /** A request for this type went out on the current stream. */
  requested: boolean;
  lastNack: AdsTypeStatus['lastNack'];
  lastAckAt: number | null;
}

interface RawSotwResponse {
  version_info?: string;
  resources?: AnyMessage[];
  type_url?: string;
  nonce?: string;
}

interface RawDeltaResponse {
  system_version_info?: string;
  resources?: Array<{ name?: string; version?: string; resource?: AnyMessage | null }>;
  type_url?: string;
  removed_resources?: string[];
  nonce?: string;
}

type Call = ClientDuplexStream<Record<string, unknown>, RawSotwResponse | RawDeltaResponse>;

/** The name a SotW resource carries itself (xDS protocol doc, "Resource names"). */
export function resourceNameOf(json: JsonObject): string {
  const n = json.name ?? json.cluster_name;
  return typeof n === 'string' ? n : '';
}

class AdsClientImpl implements AdsClient {
  private readonly subs = new Map<string, TypeSubscription>();
  private readonly backoff: Backoff;
  private readonly Client: ReturnType<typeof makeGenericClientConstructor>;
  private client: Client | null = null;
  private call: Call | null = null;
  private generation = 0;
  private connected = false;
  private nodeSent = false;
  private closed = false;
  private started = false;
  private retryTimer: Timer | null = null;
  private streamsOpened = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: AdsClientOptions) {
    this.backoff = createBackoff({ ...o.backoff, random: o.random });
    this.Client = makeGenericClientConstructor(adsServiceDefinition(o.protos), 'AggregatedDiscoveryService');
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.open();
  }

  subscribe(typeUrl: string, names: '*' | readonly string[]): void {
    let sub = this.subs.get(typeUrl);
    if (sub === undefined) {
      sub = {
        typeUrl,
        wildcard: false,
        names: new Set(),
        versionInfo: '',
        nonce: '',
        held: new Map(),
        sent: new Set(),
        requested: false,
        lastNack: null,
        lastAckAt: null,
      };
      this.subs.set(typeUrl, sub);
    }
    const wildcard = names === '*';
    const next = new Set(names === '*' ? [] : names);
    const changed = sub.wildcard !== wildcard || !sameSet(sub.names, next) || !sub.requested;
    sub.wildcard = wildcard;
    sub.names = next;
    if (!changed || !this.connected) return;
    // A by-name type with nothing to ask for needs no request until it has names.
    if (!sub.requested && !wildcard && next.size === 0) return;
    this.sendRequest(sub);
  }

  status(): AdsClientStatus {
    return {
      target: this.o.target,
      protocol: this.o.protocol,
      connected: this.connected,
      streamsOpened: this.streamsOpened,
      reconnectAttempts: this.backoff.attempts,
      types: [...this.subs.values()].map((s) => ({
        typeUrl: s.typeUrl,
        type: shortTypeName(s.typeUrl),
        subscribed: s.wildcard ? ['*'] : [...s.names].sort(),
        versionInfo: s.versionInfo,
        nonce: s.nonce,
        resourceVersions: Object.fromEntries(s.held),
        lastNack: s.lastNack,
        lastAckAt: s.lastAckAt,
      })),
    };
  }

  idle(): Promise<void> {
    return this.queue;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.teardown();
  }

  // ---- stream lifecycle ---------------------------------------------------------------------------

  private open(): void {
    if (this.closed) return;
    const generation = ++this.generation;
    this.streamsOpened++;
    // A fresh channel per attempt: the back-off (and its clock) is ours alone, not mixed with
    // grpc-js's own subchannel reconnect back-off.
    const client = new this.Client(this.o.target, credentials.createInsecure(), {
      'grpc.enable_retries': 0,
      ...this.o.channelOptions,
    });
    const method = this.o.protocol === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    const call = (client as unknown as Record<string, () => Call>)[method].call(client);
    this.client = client;
    this.call = call;
    this.setConnected(true);
    this.nodeSent = false;
    for (const sub of this.subs.values()) {
      sub.requested = false;
      sub.nonce = '';
      sub.sent = new Set();
    }
    call.on('data', (msg: RawSotwResponse | RawDeltaResponse) => {
      if (generation !== this.generation) return;
      // Handled strictly in order; a slow apply delays the next response, never reorders it.
      this.queue = this.queue.then(() => this.handle(generation, msg));
    });
    // 'error' must have a listener or grpc-js would throw; the status event carries the reason.
    call.on('error', () => {});
    call.on('status', (s: { code: number; details: string }) => {
      if (generation !== this.generation) return;
      this.onStreamEnd(`${s.code} ${s.details}`);
    });
    for (const sub of this.subs.values()) {
      if (sub.wildcard || sub.names.size > 0) this.sendRequest(sub);
    }
  }

  private onStreamEnd(reason: string): void {
    this.teardown();
    if (this.closed) return;
    const delay = this.backoff.next();
    this.o.logger.warn(
      `xds: ADS stream to ${this.o.target} closed (${reason}); the last config keeps serving; retrying in ${delay} ms`,
    );
    this.retryTimer = this.o.clock.setTimer(delay, () => {
      this.retryTimer = null;
      this.open();
    });
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.o.onConnectedChange?.(connected);
  }

  private teardown(): void {
    this.generation++;
    this.setConnected(false);
    const call = this.call;
    const client = this.client;
    this.call = null;
    this.client = null;
    try {
      call?.cancel();
    } catch {
      // Already ended.
    }
    client?.close();
  }

  private write(msg: Record<string, unknown>): void {
    const call = this.call;
    if (call === null) return;
    if (!this.nodeSent || this.o.setNodeOnFirstMessageOnly !== true) {
      msg.node = this.o.codec.jsonToMessage('envoy.config.core.v3.Node', this.o.node);
      this.nodeSent = true;
    }
    call.write(msg);
  }

  // ---- requests -----------------------------------------------------------------------------------

  /** A subscription request (initial, or after the wanted names changed). */
  private sendRequest(sub: TypeSubscription): void {
    const initial = !sub.requested;
    sub.requested = true;
    if (this.o.protocol === 'sotw') {
      this.write({
        type_url: sub.typeUrl,
        version_info: sub.versionInfo,
        resource_names: this.sotwNames(sub),
        response_nonce: sub.nonce,
      });
      return;
    }
    const want = new Set(sub.wildcard ? ['*', ...sub.names] : sub.names);
    const subscribe = [...want].filter((n) => !sub.sent.has(n));
    const unsubscribe = [...sub.sent].filter((n) => !want.has(n));
    if (!initial && subscribe.length === 0 && unsubscribe.length === 0) return;
    sub.sent = want;
    const msg: Record<string, unknown> = {
      type_url: sub.typeUrl,
      resource_names_subscribe: subscribe,
      resource_names_unsubscribe: unsubscribe,
      response_nonce: '',
    };
    // "initial_resource_versions": what survived the last stream, so the server sends only changes.
    if (initial && sub.held.size > 0) msg.initial_resource_versions = Object.fromEntries(sub.held);
    this.write(msg);
  }

  private sotwNames(sub: TypeSubscription): string[] {
    // LDS/CDS wildcard: "*" (an empty list means the same, but only before any name was used).
    return sub.wildcard ? ['*', ...sub.names] : [...sub.names].sort();
  }

  // ---- responses ----------------------------------------------------------------------------------

  private async handle(generation: number, msg: RawSotwResponse | RawDeltaResponse): Promise<void> {
    if (generation !== this.generation) return;
    const typeUrl = msg.type_url ?? '';
    const sub = this.subs.get(typeUrl);
    const nonce = msg.nonce ?? '';
    // A response means the control plane is reachable and serving: start back-off afresh.
    this.backoff.reset();
    if (sub === undefined) {
      this.o.logger.warn(`xds: ignoring a response of unsubscribed type ${typeUrl}`);
      return;
    }
    sub.nonce = nonce;
    let update: AdsUpdate;
    let verdict: AdsVerdict;
    try {
      update =
        this.o.protocol === 'sotw'
          ? this.decodeSotw(typeUrl, msg as RawSotwResponse)
          : this.decodeDelta(typeUrl, msg as RawDeltaResponse);
      verdict = await this.o.handler.onUpdate(update);
    } catch (err) {
      update = { typeUrl, versionInfo: versionOf(msg), resources: [], removed: [], complete: false };
      verdict = { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    // The stream may have ended while the update was applied; the next stream re-syncs.
    if (generation !== this.generation) return;
    const now = this.o.clock.now();
    if (verdict.ok) {
      sub.versionInfo = update.versionInfo;
      sub.lastNack = null;
      sub.lastAckAt = now;
      if (this.o.protocol === 'delta') {
        for (const r of update.resources) sub.held.set(r.name, r.version);
        for (const name of update.removed) sub.held.delete(name);
      }
    } else {
      sub.lastNack = { version: update.versionInfo, message: verdict.message, at: now };
      this.o.logger.warn(
        `xds: rejected ${shortTypeName(typeUrl)} version ${update.versionInfo}: ${verdict.message}`,
      );
    }
    const error_detail = verdict.ok ? undefined : { code: NACK_CODE, message: verdict.message };
    if (this.o.protocol === 'sotw') {
      // The ACK carries the current names, so a subscription change made while this response
      // was in flight (and ignored by the server as stale) is not lost.
      this.write({
        type_url: typeUrl,
        version_info: sub.versionInfo,
        resource_names: this.sotwNames(sub),
        response_nonce: nonce,
        error_detail,
      });
    } else {
      this.write({ type_url: typeUrl, response_nonce: nonce, error_detail });
      // Names wanted since the last request go out now.
      this.sendRequest(sub);
    }
  }

  private decodeSotw(typeUrl: string, msg: RawSotwResponse): AdsUpdate {
    const versionInfo = msg.version_info ?? '';
    const resources: AdsResource[] = [];
    for (const [i, any] of (msg.resources ?? []).entries()) {
      const json = this.decodeAny(typeUrl, any, `resources[${i}]`);
      resources.push({ name: resourceNameOf(json), version: versionInfo, json });
    }
    return { typeUrl, versionInfo, resources, removed: [], complete: isFullStateType(typeUrl) };
  }

  private decodeDelta(typeUrl: string, msg: RawDeltaResponse): AdsUpdate {
    const resources: AdsResource[] = [];
    for (const [i, r] of (msg.resources ?? []).entries()) {
      if (r.resource == null) throw new Error(`resources[${i}] ('${r.name ?? ''}'): no resource body`);
      const json = this.decodeAny(typeUrl, r.resource, `resources[${i}]`);
      resources.push({ name: r.name || resourceNameOf(json), version: r.version ?? '', json });
    }
    return {
      typeUrl,
      versionInfo: msg.system_version_info ?? '',
      resources,
      removed: msg.removed_resources ?? [],
      complete: false,
    };
  }

  private decodeAny(typeUrl: string, any: AnyMessage, where: string): JsonObject {
    if (any.type_url !== typeUrl) {
      throw new Error(`${where}: type '${any.type_url}' in a ${shortTypeName(typeUrl)} response`);
    }
    try {
      return this.o.codec.fromAny(any);
    } catch (err) {
      throw new Error(`${where}: cannot decode: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function versionOf(msg: RawSotwResponse | RawDeltaResponse): string {
  return 'version_info' in msg
    ? (msg.version_info ?? '')
    : ((msg as RawDeltaResponse).system_version_info ?? '');
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

export function createAdsClient(options: AdsClientOptions): AdsClient {
  return new AdsClientImpl(options);
}
