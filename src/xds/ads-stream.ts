// One connected proxy: an ADS stream, state-of-the-world or incremental (delta). Keeps the
// per-type state (type-state.ts), answers requests, and pushes only what changed for this
// proxy when asked to refresh. At most one response per type is outstanding: the next one
// waits for the proxy's ACK/NACK (the flow control go-control-plane uses), so a slow proxy
// gets the newest state rather than a queue of stale ones.
// xDS protocol doc: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol

import { status as grpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type {
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DeltaResource,
  DiscoveryRequest,
  DiscoveryResponse,
  RpcStatus,
} from './discovery-service.js';
import type { JsonCodec } from './json-codec.js';
import type { ResourceEncoder } from './resource-encoder.js';
import type { SendGate } from './send-gate.js';
import type { ProxyNode, ResourceSet, Snapshot, SnapshotSource } from './snapshot.js';
import { NOTHING_SENT, type SotwResponses } from './sotw-responses.js';
import {
  computeChanges,
  createTypeState,
  EMPTY_SET,
  heldVersion,
  isSubscribed,
  markSent,
  type NackRecord,
  recordAnswer,
  replaceNames,
  type SyncState,
  syncState,
  type TypeState,
} from './type-state.js';
import { allowsLegacyWildcard, isFullStateType, shortTypeName } from './type-urls.js';

export interface StreamContext {
  readonly source: SnapshotSource;
  readonly encoder: ResourceEncoder;
  /** SotW outcomes and response bytes shared by the server's streams; also hands out nonces. */
  readonly responses: SotwResponses;
  /** Bounds the response bytes in flight over all streams. */
  readonly gate: SendGate;
  readonly codec: JsonCodec;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly controlPlaneId: string;
  /** Called once the stream knows its node (first request) and when it closes. */
  onIdentified(stream: AdsStream): void;
  onClosed(stream: AdsStream): void;
}

export type AdsProtocol = 'sotw' | 'delta';

export interface TypeStatus {
  readonly typeUrl: string;
  /** LDS, RDS, CDS, EDS, SDS or the message name. */
  readonly type: string;
  readonly state: SyncState;
  /** Subscribed names; "*" stands for a wildcard subscription. */
  readonly subscribed: string[];
  readonly sentVersion?: string;
  readonly sentNonce?: string;
  /** The last version the proxy accepted (its version_info after a NACK). */
  readonly ackedVersion?: string;
  /** How many resources of the type the proxy holds. */
  readonly resources: number;
  readonly nack?: NackRecord;
}

export interface ProxyStatus {
  readonly streamId: number;
  readonly nodeId: string;
  readonly cluster: string;
  readonly protocol: AdsProtocol;
  readonly peer: string;
  /** Clock.now() at connection. */
  readonly connectedAt: number;
  readonly userAgent: string;
  readonly types: TypeStatus[];
}

type AnyCall = ServerDuplexStream<
  DiscoveryRequest | DeltaDiscoveryRequest,
  DiscoveryResponse | DeltaDiscoveryResponse
>;

export class AdsStream {
  node: ProxyNode | undefined;
  private readonly types = new Map<string, TypeState>();
  /** SotW: the last resource_names list per type, already applied with replaceNames. */
  private readonly lastNames = new Map<string, readonly string[]>();
  private lastSnapshot: Snapshot | undefined;
  private closed = false;
  readonly connectedAt: number;
  readonly peer: string;

  constructor(
    readonly id: number,
    readonly protocol: AdsProtocol,
    private readonly call: AnyCall,
    private readonly ctx: StreamContext,
  ) {
    this.connectedAt = ctx.clock.now();
    this.peer = call.getPeer();
    call.on('data', (req: DiscoveryRequest | DeltaDiscoveryRequest) => this.onData(req));
    // The proxy half-closed: finish our side too. 'error'/'cancelled' mean it went away.
    call.on('end', () => this.close());
    call.on('error', () => this.close());
    call.on('cancelled', () => this.close());
  }

  /** Ends the stream (with a status other than OK when given) and forgets it. */
  close(code?: grpcStatus, details?: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (code === undefined || code === grpcStatus.OK) this.call.end();
      else this.call.emit('error', { code, details: details ?? '' });
    } catch {
      // Already torn down by the transport; nothing left to tell the proxy.
    }
    this.ctx.gate.drop(this);
    this.ctx.onClosed(this);
  }

  /** Snapshots may have changed: push whatever changed for this proxy. */
  refresh(): void {
    if (this.closed || this.node === undefined) return;
    const snapshot = this.ctx.source.snapshotFor(this.node);
    let owed = false;
    for (const state of this.types.values()) owed ||= state.owed;
    if (snapshot === this.lastSnapshot && !owed) return;
    // Remembered only here, where every type is compared with it; a request-driven push of
    // one type must not make the others look up to date.
    this.lastSnapshot = snapshot;
    // A type asked for while there was no snapshot still owes the proxy its first answer,
    // even an empty LDS/CDS.
    for (const state of this.types.values())
      this.push(state, state.sentSet === undefined && state.responses === 0);
  }

  status(): ProxyStatus | undefined {
    if (this.node === undefined) return undefined;
    const snapshot = this.ctx.source.snapshotFor(this.node);
    const types: TypeStatus[] = [];
    for (const state of this.types.values()) {
      let sync = syncState(state);
      if (sync !== 'NOT_SENT' && sync !== 'STALE') {
        // A change not pushed yet (debounce pending) makes the proxy stale too.
        const pending = computeChanges(state, snapshot?.get(state.typeUrl));
        if (snapshot !== undefined && (pending.updated.length > 0 || pending.removed.length > 0))
          sync = 'STALE';
      }
      types.push({
        typeUrl: state.typeUrl,
        type: shortTypeName(state.typeUrl),
        state: sync,
        subscribed: [...(state.wildcard ? ['*'] : []), ...state.names],
        sentVersion: state.sentVersion,
        sentNonce: state.lastNonce,
        ackedVersion: state.ackedVersion,
        resources: countHeld(state),
        nack: state.nack,
      });
    }
    const raw = this.node.raw;
    return {
      streamId: this.id,
      nodeId: this.node.id,
      cluster: this.node.cluster,
      protocol: this.protocol,
      peer: this.peer,
      connectedAt: this.connectedAt,
      userAgent: [raw.user_agent_name, raw.user_agent_version].filter((s) => typeof s === 'string').join('/'),
      types,
    };
  }

  private onData(req: DiscoveryRequest | DeltaDiscoveryRequest): void {
    if (this.closed) return;
    try {
      if (this.node === undefined) {
        if (req.node == null) {
          this.close(grpcStatus.INVALID_ARGUMENT, 'the first request on an ADS stream must carry node');
          return;
        }
        this.node = this.nodeOf(req.node);
        this.ctx.onIdentified(this);
      }
      const typeUrl = req.type_url ?? '';
      if (typeUrl === '') {
        this.close(grpcStatus.INVALID_ARGUMENT, 'type_url is required on an aggregated (ADS) stream');
        return;
      }
      if (this.protocol === 'sotw') this.onSotwRequest(typeUrl, req as DiscoveryRequest);
      else this.onDeltaRequest(typeUrl, req as DeltaDiscoveryRequest);
    } catch (err) {
      this.ctx.logger.error(
        `xds: stream ${this.id} (${this.node?.id ?? '?'}): ${(err as Error).stack ?? String(err)}`,
      );
      this.close(grpcStatus.INTERNAL, 'internal error handling the request');
    }
  }

  private nodeOf(message: protobuf.Message): ProxyNode {
    const raw = this.ctx.codec.messageToJson('envoy.config.core.v3.Node', message);
    const metadata = raw.metadata;
    return {
      id: typeof raw.id === 'string' ? raw.id : '',
      cluster: typeof raw.cluster === 'string' ? raw.cluster : '',
      metadata: metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) ? metadata : {},
      raw,
    };
  }

  private stateOf(typeUrl: string): { state: TypeState; first: boolean } {
    let state = this.types.get(typeUrl);
    if (state !== undefined) return { state, first: false };
    state = createTypeState(typeUrl);
    this.types.set(typeUrl, state);
    return { state, first: true };
  }

  // ---- state of the world ----------------------------------------------------------------------

  private onSotwRequest(typeUrl: string, req: DiscoveryRequest): void {
    const { state } = this.stateOf(typeUrl);
    const nonce = req.response_nonce ?? '';
    if (nonce !== '') {
      // A request answering an older response is stale and ignored: the proxy will answer the
      // newer one too, with its current subscription ("ACK/NACK and resource type instance version").
      if (nonce !== state.lastNonce) {
        this.ctx.logger.debug(
          `xds: ${this.describe()} ${shortTypeName(typeUrl)} stale nonce ${nonce} ignored`,
        );
        return;
      }
      if (state.pendingNonce === nonce) this.answer(state, req.error_detail, req.version_info ?? '');
    }
    // An empty list decodes to a fresh array each time: one shared empty list keeps the
    // subscription recognisable by identity (sotw-responses.ts).
    const names = req.resource_names?.length ? req.resource_names : NO_NAMES;
    if (names.length > 0) state.everExplicit = true;
    // "*" subscribes to everything; an empty list does too for LDS/CDS until the proxy has
    // named resources explicitly ("How the client specifies what resources to return").
    const wildcard =
      names.includes('*') || (names.length === 0 && allowsLegacyWildcard(typeUrl) && !state.everExplicit);
    const wildcardChanged = this.setWildcard(state, wildcard);
    // Most requests are ACKs repeating the previous list (a sidecar's EDS list names every
    // Service): compare with it instead of rebuilding the Set (bench:control, issue 5).
    const namesChanged = sameList(this.lastNames.get(typeUrl), names)
      ? false
      : replaceNames(
          state,
          names.filter((n) => n !== '*'),
        );
    this.lastNames.set(typeUrl, names);
    const changed = wildcardChanged || namesChanged;
    if (nonce === '') this.push(state, true);
    else if (changed) this.push(state, isFullStateType(typeUrl));
    else if (state.owed) this.push(state, false);
  }

  // ---- incremental (delta) ------------------------------------------------------------------------

  private onDeltaRequest(typeUrl: string, req: DeltaDiscoveryRequest): void {
    const { state, first } = this.stateOf(typeUrl);
    const nonce = req.response_nonce ?? '';
    // In delta, a stale nonce only voids the ACK/NACK: subscription changes are incremental and
    // must still be applied ("Incremental xDS").
    if (nonce !== '' && nonce === state.pendingNonce) this.answer(state, req.error_detail, '');
    const subscribe = req.resource_names_subscribe ?? [];
    const unsubscribe = req.resource_names_unsubscribe ?? [];
    let changed = first;
    if (first) {
      const initial = req.initial_resource_versions ?? {};
      if (Object.keys(initial).length > 0) state.declared = new Map(Object.entries(initial));
      if (subscribe.length === 0 && allowsLegacyWildcard(typeUrl)) this.setWildcard(state, true);
    }
    for (const name of subscribe) {
      if (name === '*') changed = this.setWildcard(state, true) || changed;
      else if (!state.names.has(name)) {
        state.names.add(name);
        state.unsent.add(name);
        changed = true;
      }
    }
    for (const name of unsubscribe) {
      if (name === '*') changed = this.setWildcard(state, false) || changed;
      else if (state.names.delete(name)) {
        state.unsent.delete(name);
        changed = true;
      }
    }
    if (changed || state.owed) this.push(state, first);
  }

  // ---- shared -------------------------------------------------------------------------------------

  private answer(state: TypeState, errorDetail: RpcStatus | null | undefined, proxyVersion: string): void {
    const nack =
      errorDetail != null ? { code: errorDetail.code ?? 0, message: errorDetail.message ?? '' } : undefined;
    recordAnswer(state, nack, proxyVersion, this.ctx.clock.now());
    if (nack !== undefined) {
      this.ctx.logger.warn(
        `xds: ${this.describe()} rejected ${shortTypeName(state.typeUrl)} version ${state.nack?.version}: ${nack.message}`,
      );
    }
  }

  /** Turning a wildcard on means the proxy now wants names it never held: pin down what it holds. */
  private setWildcard(state: TypeState, wildcard: boolean): boolean {
    if (state.wildcard === wildcard) return false;
    if (wildcard && state.declared === undefined && state.sentSet !== undefined) {
      const held = new Map<string, string>();
      for (const name of state.sentSet.resources.keys()) {
        const version = isSubscribed(state, name) ? heldVersion(state, name) : undefined;
        if (version !== undefined) held.set(name, version);
      }
      state.declared = held;
    }
    state.wildcard = wildcard;
    return true;
  }

  /** Sends what changed for one type; `force` answers even when nothing did (initial requests). */
  private push(state: TypeState, force: boolean): void {
    if (this.closed || this.node === undefined) return;
    if (state.pendingNonce !== undefined) {
      state.owed = true;
      return;
    }
    state.owed = false;
    const snapshot = this.ctx.source.snapshotFor(this.node);
    if (snapshot === undefined) return; // no config for this proxy yet: it waits
    const set = snapshot.get(state.typeUrl);
    if (this.protocol === 'sotw') this.pushSotw(state, set, force);
    else this.pushDelta(state, set, force);
  }

  private pushSotw(state: TypeState, set: ResourceSet | undefined, force: boolean): void {
    const typeUrl = state.typeUrl;
    const full = isFullStateType(typeUrl);
    const to = set ?? EMPTY_SET;
    // Nothing can have changed for a proxy that holds exactly this set.
    if (!force && state.sentSet === to && state.unsent.size === 0 && state.declared === undefined) return;
    // The transition is shared with every stream that holds the same set and subscription.
    const from =
      state.declared !== undefined
        ? undefined
        : state.sentSet === undefined
          ? NOTHING_SENT
          : state.unsent.size === 0
            ? state.sentSet
            : undefined;
    const names = this.lastNames.get(typeUrl) ?? NO_NAMES;
    const shared = this.ctx.responses;
    let outcome = from === undefined ? undefined : shared.get(typeUrl, from, to, names, state.wildcard);
    if (outcome === undefined) {
      const changes = computeChanges(state, set);
      // LDS/CDS responses carry the whole subscribed set; others only what changed
      // ("Grouping Resources into Responses").
      const picked = full ? [...to.resources].filter(([name]) => isSubscribed(state, name)) : changes.updated;
      const entries: Uint8Array[] = [];
      for (const [name, resource] of picked) {
        const entry = this.ctx.encoder.encodeEntry(typeUrl, name, resource);
        if (entry !== undefined) entries.push(entry);
      }
      outcome = {
        anything: changes.updated.length > 0 || changes.removed.length > 0,
        updated: changes.updated.length > 0,
        entries,
        encoded: undefined,
      };
      if (from !== undefined) shared.set(typeUrl, from, to, names, state.wildcard, outcome);
    }
    const respond = full ? outcome.anything || force : outcome.updated;
    if (!respond) {
      markSent(state, set);
      return;
    }
    // Pre-encoded bytes (wire-response.ts); the service's serializer passes them through.
    const { nonce, bytes, framed } = shared.bytes(outcome, Number(state.lastNonce ?? 0), {
      versionInfo: set?.version ?? '',
      typeUrl,
      controlPlaneId: this.ctx.controlPlaneId,
    });
    // Framed bytes are shared by every stream sent them: nothing is copied per stream.
    this.write(framed ? 0 : bytes.length, bytes as unknown as DiscoveryResponse);
    this.sent(state, set, String(nonce));
  }

  private pushDelta(state: TypeState, set: ResourceSet | undefined, force: boolean): void {
    const changes = computeChanges(state, set);
    const full = isFullStateType(state.typeUrl);
    const anything = changes.updated.length > 0 || changes.removed.length > 0;
    if (!(anything || (force && full && state.responses === 0))) {
      markSent(state, set);
      return;
    }
    const nonce = String(this.ctx.responses.nextNonce());
    const typeUrl = state.typeUrl;
    const resources: DeltaResource[] = [];
    let size = 0;
    for (const [name, resource] of changes.updated) {
      const any = this.ctx.encoder.encode(typeUrl, name, resource);
      if (any === undefined) continue;
      resources.push({ name, version: resource.version, resource: any });
      size += any.value.length;
    }
    const response: DeltaDiscoveryResponse = {
      system_version_info: set?.version ?? '',
      resources,
      type_url: typeUrl,
      removed_resources: changes.removed,
      nonce,
      control_plane: { identifier: this.ctx.controlPlaneId },
    };
    this.write(size, response);
    this.sent(state, set, nonce);
  }

  /** Writes through the server's send gate (send-gate.ts): bounded bytes in flight, in order. */
  private write(size: number, message: DiscoveryResponse | DeltaDiscoveryResponse): void {
    this.ctx.gate.send(this, size, (done) => {
      if (this.closed) done();
      else this.call.write(message, done);
    });
  }

  private sent(state: TypeState, set: ResourceSet | undefined, nonce: string): void {
    state.pendingNonce = nonce;
    state.lastNonce = nonce;
    state.sentVersion = set?.version ?? '';
    state.responses++;
    markSent(state, set);
  }

  private describe(): string {
    return `proxy '${this.node?.id ?? '?'}' (stream ${this.id})`;
  }
}

const NO_NAMES: readonly string[] = Object.freeze([]);

/** Two name lists are equal element by element. */
function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === b) return true;
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function countHeld(state: TypeState): number {
  const set: ResourceSet | undefined = state.sentSet;
  if (set === undefined) return 0;
  let n = 0;
  for (const name of set.resources.keys())
    if (isSubscribed(state, name) && heldVersion(state, name) !== undefined) n++;
  return n;
}
