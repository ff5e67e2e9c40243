// The debug views behind `GET /v1/proxy-status` and `GET /v1/proxy-config/{nodeId}` (and so
// `weft proxy-status` / `weft proxy-config`): the ADS server's per-stream status with times as
// RFC 3339, and the resources a proxy was last sent, per type, as Envoy JSON (with `@type`).
//
// The ADS server records which version of each type it sent; versions are content hashes, so
// the set with that version is looked up in the snapshot builder, which keeps the sets of the
// current and the previous mesh generation. A proxy that is further behind (it has not
// answered for two rebuilds) shows `retained: false` and no resources.

import type { ProxyStatus } from '../../xds/ads-stream.js';
import type { ResourceSet } from '../../xds/snapshot.js';

export interface ProxyDebugDeps {
  /** The ADS server's status(). */
  status(): ProxyStatus[];
  findSet(typeUrl: string, version: string): ResourceSet | undefined;
}

export interface ProxyStatusView {
  readonly proxies: readonly unknown[];
}

export interface ProxyConfigView {
  readonly nodeId: string;
  readonly streamId: number;
  readonly protocol: string;
  /** By short type name (CDS, LDS, RDS, EDS, ...). */
  readonly types: Record<string, unknown>;
}

export interface ProxyDebug {
  proxyStatus(): ProxyStatusView;
  /** The newest stream of that node id; undefined when no such proxy is connected. */
  proxyConfig(nodeId: string): ProxyConfigView | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function createProxyDebug(deps: ProxyDebugDeps): ProxyDebug {
  return {
    proxyStatus() {
      return {
        proxies: deps.status().map((p) => ({
          ...p,
          connectedAt: iso(p.connectedAt),
          types: p.types.map((t) =>
            t.nack === undefined ? t : { ...t, nack: { ...t.nack, at: iso(t.nack.at) } },
          ),
        })),
      };
    },
    proxyConfig(nodeId) {
      const stream = deps
        .status()
        .filter((p) => p.nodeId === nodeId)
        .at(-1);
      if (stream === undefined) return undefined;
      const types: Record<string, unknown> = {};
      for (const t of stream.types) {
        const set = t.sentVersion === undefined ? undefined : deps.findSet(t.typeUrl, t.sentVersion);
        const wildcard = t.subscribed.includes('*');
        const wanted = new Set(t.subscribed);
        const resources =
          set === undefined
            ? []
            : [...set.resources]
                .filter(([name]) => wildcard || wanted.has(name))
                .map(([, r]) => ({ '@type': t.typeUrl, ...(r.json as object) }));
        types[t.type] = {
          typeUrl: t.typeUrl,
          state: t.state,
          version: t.sentVersion ?? null,
          ackedVersion: t.ackedVersion ?? null,
          retained: t.sentVersion === undefined || set !== undefined,
          ...(t.nack === undefined ? {} : { nack: { ...t.nack, at: iso(t.nack.at) } }),
          resources,
        };
      }
      return { nodeId, streamId: stream.streamId, protocol: stream.protocol, types };
    },
  };
}
