// Who is asking for xDS: maps the Node a proxy sends in its first ADS request to the
// translator's ProxyIdentity, by Weft's node-id convention (docs/control.md):
//
//   sidecar~<namespace>~<workload>   the sidecar of that Workload (inbound + outbound config)
//   anything else                    a consumer (outbound config only) in the namespace named by
//                                    node.metadata.NAMESPACE, else `default`
//
// Node metadata may also move a sidecar's own listeners, for many sidecars on one host
// (`weft up`): WEFT_OUTBOUND_PORT (the outbound HTTP listener's port, default 15001; it wins
// over the Workload annotation weft.dev/outbound-http-port, as the process knows what it can
// bind) and WEFT_INBOUND_ADDRESS (where inbound listeners bind); WEFT_ACCESS_LOG=stdout
// turns on access logs (Envoy's default format, response flags included) on the sidecar's
// HTTP and TCP listeners. They become translator options and part of the proxy's shape.
//
// A proxyless gRPC client (node.user_agent_name starting with "gRPC", as grpc-js-xds,
// grpc-go and grpc-java send, or node.metadata.PROXYLESS = "true") is always a consumer and
// gets gRPC API listeners instead of socket listeners (proxyless-grpc.ts).

import { isIP } from 'node:net';
import type { ProxyNode } from '../../xds/snapshot.js';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../kinds/metadata.js';
import type { ProxyIdentity, TranslateOptions } from '../translate/snapshot.js';

export const SIDECAR_NODE_PREFIX = 'sidecar~';
export const DEFAULT_NODE_NAMESPACE = 'default';

export interface NodeIdentity {
  readonly identity: ProxyIdentity;
  /** A proxyless gRPC client: served API listeners named after its xds:/// targets. */
  readonly proxyless: boolean;
  /** Why the node was not read as it seems to intend (a malformed sidecar id); shown in logs. */
  readonly problem?: string;
  /** Translator options this node asks for through its metadata ({} when none). */
  readonly overrides: TranslateOptions;
  /** A stable text form of `overrides` ('' when none), for keying caches. */
  readonly overridesKey: string;
}

/** Reads WEFT_OUTBOUND_PORT / WEFT_INBOUND_ADDRESS / WEFT_ACCESS_LOG; ignores (with a problem) values that are not valid. */
function overridesOf(metadata: Record<string, unknown>): {
  overrides: TranslateOptions;
  key: string;
  problem?: string;
} {
  const out: { nodeOutboundHttpPort?: number; inboundAddress?: string; accessLog?: 'stdout' } = {};
  const problems: string[] = [];
  const port = metadata.WEFT_OUTBOUND_PORT;
  if (port !== undefined) {
    const n = typeof port === 'number' ? port : Number(port);
    if (Number.isInteger(n) && n >= 1 && n <= 65535) out.nodeOutboundHttpPort = n;
    else
      problems.push(`metadata.WEFT_OUTBOUND_PORT '${String(port)}' is not a port number; using the default`);
  }
  const address = metadata.WEFT_INBOUND_ADDRESS;
  if (address !== undefined) {
    if (typeof address === 'string' && isIP(address) !== 0) out.inboundAddress = address;
    else
      problems.push(
        `metadata.WEFT_INBOUND_ADDRESS '${String(address)}' is not an IP address; using the default`,
      );
  }
  const log = metadata.WEFT_ACCESS_LOG;
  if (log === 'stdout') out.accessLog = 'stdout';
  else if (log !== undefined && log !== 'off')
    problems.push(`metadata.WEFT_ACCESS_LOG '${String(log)}' is not stdout or off; access logs stay off`);
  const key = `${out.nodeOutboundHttpPort ?? ''}|${out.inboundAddress ?? ''}|${out.accessLog ?? ''}`;
  return {
    overrides: out,
    key: key === '||' ? '' : key,
    problem: problems.length > 0 ? problems.join('; ') : undefined,
  };
}

export function nodeIdentityOf(node: Pick<ProxyNode, 'id' | 'metadata' | 'raw'>): NodeIdentity {
  const proxyless = isProxylessGrpc(node);
  const o = overridesOf(node.metadata);
  const base = { overrides: o.overrides, overridesKey: o.key };
  const metaNs = node.metadata.NAMESPACE;
  const consumerNs =
    typeof metaNs === 'string' && dns1123LabelProblem(metaNs) === null ? metaNs : DEFAULT_NODE_NAMESPACE;
  if (!proxyless && node.id.startsWith(SIDECAR_NODE_PREFIX)) {
    const [namespace = '', workload = '', ...rest] = node.id.slice(SIDECAR_NODE_PREFIX.length).split('~');
    if (
      rest.length === 0 &&
      dns1123LabelProblem(namespace) === null &&
      dns1123SubdomainProblem(workload) === null
    )
      return withProblem(
        { identity: { kind: 'sidecar', namespace, workload }, proxyless, ...base },
        o.problem,
      );
    return withProblem(
      {
        identity: { kind: 'consumer', namespace: consumerNs },
        proxyless,
        ...base,
        problem: `node id '${node.id}' is not sidecar~<namespace>~<workload>; serving it as a consumer in '${consumerNs}'`,
      },
      o.problem,
    );
  }
  return withProblem(
    { identity: { kind: 'consumer', namespace: consumerNs }, proxyless, ...base },
    o.problem,
  );
}

function withProblem(who: NodeIdentity, problem: string | undefined): NodeIdentity {
  if (problem === undefined) return who;
  return { ...who, problem: who.problem === undefined ? problem : `${who.problem}; ${problem}` };
}

function isProxylessGrpc(node: Pick<ProxyNode, 'metadata' | 'raw'>): boolean {
  const flag = node.metadata.PROXYLESS;
  if (flag === true || flag === 'true') return true;
  const agent = node.raw.user_agent_name;
  return typeof agent === 'string' && /^grpc\b/i.test(agent);
}

/** The node id a sidecar of this Workload should use. */
export function sidecarNodeId(namespace: string, workload: string): string {
  return `${SIDECAR_NODE_PREFIX}${namespace}~${workload}`;
}
