// The load process of `npm run bench:control`: N lean SotW ADS clients in one Node process,
// driven by the bench over the fork IPC channel (messages in load-protocol.ts).
//
// Each client is one sidecar (`sidecar~<ns>~<workload>`) on its own gRPC channel and TCP
// connection (a local subchannel pool; grpc-js would otherwise share one connection). It
// speaks real gRPC/HTTP2 but decodes only the DiscoveryResponse head and resource names
// (wire.ts): CDS and LDS wildcard first, then EDS and RDS by the names those carry, ACKing
// every response with the current names, as Envoy does. A stream that ends is re-opened on a
// fresh channel after a full-jitter back-off (500 ms base, 30 s cap: Envoy's defaults), reset
// once a response arrives.

import { Client, type ClientDuplexStream, credentials } from '@grpc/grpc-js';
import { type Backoff, createBackoff } from '../../src/proxy/xds/backoff.js';
import { type LoadCommand, type LoadConfig, type LoadEvent, monotonicMs } from './load-protocol.js';
import {
  decodeResponseHead,
  edsServiceName,
  encodeNames,
  encodeNode,
  encodeRequest,
  rdsNames,
  resourceName,
  TYPE_CDS,
  TYPE_EDS,
  TYPE_LDS,
  TYPE_RDS,
} from './wire.js';

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const CHANNEL_OPTIONS = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
  'grpc.max_send_message_length': 256 * 1024 * 1024,
};
const TYPES = [TYPE_CDS, TYPE_LDS, TYPE_RDS, TYPE_EDS] as const;

/** Per client and type: what it holds and its last nonce. */
interface TypeView {
  version: string;
  nonce: string;
  /** Pre-encoded resource_names (shared between clients with the same list). */
  names: Buffer;
  key: string;
  /** A response of this type arrived on the current stream. */
  received: boolean;
}

/** Shared by all clients of the process: measurement hooks and the names-buffer cache. */
interface LoadContext {
  readonly config: LoadConfig;
  readonly namesCache: Map<string, Buffer>;
  readonly empty: Buffer;
  /** The EDS name being watched for a change, or null. */
  watchName: string | null;
  onSynced(client: LeanClient): void;
  onWatchHit(client: LeanClient, atMs: number): void;
}

class LeanClient {
  private client: Client | undefined;
  private call: ClientDuplexStream<Buffer, Buffer> | undefined;
  private readonly node: Buffer;
  private readonly views = new Map<string, TypeView>();
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Streams that ended; a stream opened after epoch E has epoch E. */
  epoch = 0;
  synced = false;
  syncedAtMs = 0;
  /** The watch id this client has already reported, so one change counts once. */
  watchSeen = -1;
  attempts = 0;

  constructor(
    readonly nodeId: string,
    private readonly ctx: LoadContext,
  ) {
    this.node = encodeNode(nodeId, ctx.config.cluster);
    for (const t of TYPES)
      this.views.set(t, { version: '', nonce: '', names: ctx.empty, key: '', received: false });
    this.backoff = createBackoff({ random: Math.random });
  }

  open(): void {
    if (this.stopped) return;
    this.attempts++;
    const client = new Client(this.ctx.config.xdsAddress, credentials.createInsecure(), CHANNEL_OPTIONS);
    const call = client.makeBidiStreamRequest<Buffer, Buffer>(
      ADS_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    this.client = client;
    this.call = call;
    for (const v of this.views.values()) v.received = false;
    call.on('data', (buf: Buffer) => this.onResponse(call, buf));
    call.on('error', () => this.lost(call));
    call.on('end', () => this.lost(call));
    // CDS and LDS wildcard (empty names); EDS and RDS again by name after a reconnect.
    let first = true;
    for (const t of TYPES) {
      const v = this.views.get(t)!;
      if ((t === TYPE_EDS || t === TYPE_RDS) && v.key === '') continue;
      call.write(encodeRequest(t, v.version, '', v.names, first ? this.node : undefined));
      first = false;
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.call?.cancel();
    this.client?.close();
  }

  private lost(call: ClientDuplexStream<Buffer, Buffer>): void {
    if (call !== this.call) return;
    this.call = undefined;
    this.client?.close();
    this.client = undefined;
    this.epoch++;
    this.synced = false;
    if (this.stopped) return;
    this.timer = setTimeout(() => this.open(), this.backoff.next());
  }

  private setNames(view: TypeView, names: Set<string>): boolean {
    const sorted = [...names].sort();
    const key = sorted.join('\n');
    if (key === view.key) return false;
    let buf = this.ctx.namesCache.get(key);
    if (buf === undefined) this.ctx.namesCache.set(key, (buf = encodeNames(sorted)));
    view.key = key;
    view.names = buf;
    return true;
  }

  private onResponse(call: ClientDuplexStream<Buffer, Buffer>, buf: Buffer): void {
    if (call !== this.call) return;
    const head = decodeResponseHead(buf);
    if (head === null) return;
    const view = this.views.get(head.typeUrl);
    if (view === undefined) return;
    this.backoff.reset();
    view.version = head.versionInfo;
    view.nonce = head.nonce;
    view.received = true;
    let follow: { type: string; view: TypeView } | undefined;
    if (head.typeUrl === TYPE_CDS) {
      const eds = new Set<string>();
      for (const value of head.values) {
        const name = edsServiceName(value);
        if (name !== null) eds.add(name);
      }
      const edsView = this.views.get(TYPE_EDS)!;
      if (this.setNames(edsView, eds)) follow = { type: TYPE_EDS, view: edsView };
    } else if (head.typeUrl === TYPE_LDS) {
      const rds = new Set<string>();
      for (const value of head.values) rdsNames(value, rds);
      const rdsView = this.views.get(TYPE_RDS)!;
      if (this.setNames(rdsView, rds)) follow = { type: TYPE_RDS, view: rdsView };
    } else if (head.typeUrl === TYPE_EDS && this.ctx.watchName !== null) {
      const watched = this.ctx.watchName;
      for (const value of head.values) {
        if (resourceName(value) === watched) {
          this.ctx.onWatchHit(this, monotonicMs());
          break;
        }
      }
    }
    call.write(encodeRequest(head.typeUrl, view.version, view.nonce, view.names));
    if (follow)
      call.write(encodeRequest(follow.type, follow.view.version, follow.view.nonce, follow.view.names));
    if (!this.synced && this.isSynced()) {
      this.synced = true;
      this.syncedAtMs = monotonicMs();
      this.ctx.onSynced(this);
    }
  }

  /** Every type it subscribes to has answered on this stream. */
  private isSynced(): boolean {
    for (const [t, v] of this.views) {
      if (!v.received && !((t === TYPE_RDS || t === TYPE_EDS) && v.key === '')) return false;
    }
    // EDS and RDS names are only known once CDS and LDS have answered.
    return this.views.get(TYPE_CDS)!.received && this.views.get(TYPE_LDS)!.received;
  }
}

function runLoad(config: LoadConfig, send: (e: LoadEvent) => void): (cmd: LoadCommand) => void {
  const clients: LeanClient[] = [];
  let syncWaiter: { minEpoch: Map<LeanClient, number>; since: number } | null = null;
  let watch: { id: number; arrivals: number[]; timer: NodeJS.Timeout } | null = null;

  const checkAllSynced = (): void => {
    if (syncWaiter === null) return;
    let last = 0;
    for (const c of clients) {
      if (!c.synced || c.epoch < (syncWaiter.minEpoch.get(c) ?? 0)) return;
      if (c.syncedAtMs > last) last = c.syncedAtMs;
    }
    const attempts = clients.reduce((n, c) => n + c.attempts, 0);
    syncWaiter = null;
    send({ type: 'all-synced', atMs: last, attempts });
  };
  const endWatch = (): void => {
    if (watch === null) return;
    clearTimeout(watch.timer);
    send({ type: 'watch-done', id: watch.id, arrivalsMs: watch.arrivals });
    watch = null;
    ctx.watchName = null;
  };

  const ctx: LoadContext = {
    config,
    namesCache: new Map(),
    empty: Buffer.alloc(0),
    watchName: null,
    onSynced() {
      checkAllSynced();
    },
    onWatchHit(client, atMs) {
      if (watch === null || client.watchSeen === watch.id) return;
      client.watchSeen = watch.id;
      watch.arrivals.push(atMs);
      if (watch.arrivals.length === clients.length) endWatch();
    },
  };

  return (cmd) => {
    switch (cmd.type) {
      case 'start': {
        // Opened in small batches so the first connection is not itself the reconnect storm.
        const batch = 100;
        for (let i = 0; i < config.nodeIds.length; i++) {
          const client = new LeanClient(config.nodeIds[i], ctx);
          clients.push(client);
          setTimeout(() => client.open(), Math.floor(i / batch) * 100);
        }
        syncWaiter = { minEpoch: new Map(), since: monotonicMs() };
        break;
      }
      case 'await-resync': {
        // Every client must lose its stream (epoch grows) and sync again on a new one.
        const minEpoch = new Map<LeanClient, number>();
        for (const c of clients) minEpoch.set(c, c.epoch + 1);
        for (const c of clients) c.attempts = 0;
        syncWaiter = { minEpoch, since: monotonicMs() };
        break;
      }
      case 'watch': {
        endWatch();
        watch = {
          id: cmd.id,
          arrivals: [],
          timer: setTimeout(endWatch, cmd.timeoutMs),
        };
        ctx.watchName = cmd.name;
        send({ type: 'watch-armed', id: cmd.id });
        break;
      }
      case 'status': {
        send({ type: 'status', synced: clients.filter((c) => c.synced).length, total: clients.length });
        break;
      }
      case 'stop': {
        for (const c of clients) c.stop();
        send({ type: 'stopped' });
        break;
      }
    }
  };
}

/** Entry point when forked by run.ts: the config arrives as the first message. */
function main(): void {
  const send = (e: LoadEvent): void => {
    process.send?.(e);
  };
  let handle: ((cmd: LoadCommand) => void) | undefined;
  process.on('message', (msg: LoadConfig | LoadCommand) => {
    if (handle === undefined) handle = runLoad(msg as LoadConfig, send);
    else handle(msg as LoadCommand);
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'hello' });
}

if (process.send !== undefined) main();
