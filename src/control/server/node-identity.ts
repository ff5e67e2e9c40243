// Who is asking for xDS: maps the Node a proxy sends in its first ADS request to the
// translator's ProxyIdentity, by Weft's node-id convention (docs/control.md):
//
//   sidecar~<namespace>~<workload>   the sidecar of that Workload (inbound + outbound config)
//   anything else                    a consumer (outbound config only) in the namespace named by
//                                    node.metadata.NAMESPACE, else `default`
//
// A proxyless gRPC client (node.user_agent_name starting with "gRPC", as grpc-js-xds,
// grpc-go and grpc-java send, or node.metadata.PROXYLESS = "true") is always a consumer and
// gets gRPC API listeners instead of socket listeners (proxyless-grpc.ts).

import type { ProxyNode } from '../../xds/snapshot.js';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../kinds/metadata.js';
import type { ProxyIdentity } from '../translate/snapshot.js';

export const SIDECAR_NODE_PREFIX = 'sidecar~';
export const DEFAULT_NODE_NAMESPACE = 'default';

export interface NodeIdentity {
  readonly identity: ProxyIdentity;
  /** A proxyless gRPC client: served API listeners named after its xds:/// targets. */
  readonly proxyless: boolean;
  /** Why the node was not read as it seems to intend (a malformed sidecar id); shown in logs. */
  readonly problem?: string;
}

export function nodeIdentityOf(node: Pick<ProxyNode, 'id' | 'metadata' | 'raw'>): NodeIdentity {
  const proxyless = isProxylessGrpc(node);
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
      return { identity: { kind: 'sidecar', namespace, workload }, proxyless };
    return {
      identity: { kind: 'consumer', namespace: consumerNs },
      proxyless,
      problem: `node id '${node.id}' is not sidecar~<namespace>~<workload>; serving it as a consumer in '${consumerNs}'`,
    };
  }
  return { identity: { kind: 'consumer', namespace: consumerNs }, proxyless };
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
