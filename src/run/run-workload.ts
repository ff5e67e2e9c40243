// What `weft run` registers and passes on, computed purely from the options and the ports
// picked: the Workload (labels, annotations, address, TTL), the Service --create-service
// makes, the sidecar's node id, and the app's environment. The wiring is weft up's
// (src/up/run-plan.ts: the same annotations, labels and WEFT_UPSTREAM_* variables), so a
// host joined with weft run is an endpoint of a weft up Service too.

import type { Resource } from '../control/resource.js';
import {
  APP_PORT_ANNOTATION_PREFIX,
  LOCALHOST,
  MANAGED_BY_LABEL,
  MESH_API_VERSION,
  OUTBOUND_HTTP_PORT_ANNOTATION,
  portNameOf,
  SERVICE_LABEL,
  SERVICE_PORT,
  UPSTREAM_PORT_ANNOTATION_PREFIX,
  upstreamEnvVar,
} from '../up/run-plan.js';
import type { RunOptions } from './run-options.js';

export const MANAGED_BY_WEFT_RUN = 'weft-run';
const MAX_NAME = 63;

export interface RunPorts {
  /** The sidecar's inbound port: the Workload's port, where the mesh sends traffic. */
  readonly inbound: number;
  /** The sidecar's Host-routing outbound HTTP port. */
  readonly outbound: number;
  /** One per --upstreams entry, in order. */
  readonly upstreams: readonly number[];
}

export interface RunWorkload {
  readonly name: string;
  readonly nodeId: string;
  readonly portName: string;
  readonly ports: RunPorts;
}

/**
 * `<service>-<hostname>` as a DNS label (lower case, other characters as '-', at most 63),
 * or with `suffix` (a short random id) when that name is taken or the hostname is unusable.
 */
export function defaultWorkloadName(service: string, hostname: string, suffix?: string): string {
  const host = hostname
    .toLowerCase()
    .split('.')[0]!
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const parts = [service, host, suffix].filter((p): p is string => p !== undefined && p !== '');
  if (parts.length === 1) parts.push('x');
  const tail = parts.slice(1).join('-');
  const room = MAX_NAME - service.length - 1;
  const name = `${service}-${tail.length > room ? tail.slice(tail.length - room) : tail}`;
  return name.replace(/-+$/g, '').replace(/--+/g, '-');
}

export function sidecarNodeId(namespace: string, name: string): string {
  return `sidecar~${namespace}~${name}`;
}

/** The Workload to register; `healthy: false` until the app accepts connections on its port. */
export function workloadResource(options: RunOptions, w: RunWorkload, healthy: boolean): Resource {
  const annotations: Record<string, string> = {
    [`${APP_PORT_ANNOTATION_PREFIX}${w.portName}`]: String(options.appPort),
    [OUTBOUND_HTTP_PORT_ANNOTATION]: String(w.ports.outbound),
  };
  options.upstreams.forEach((svc, i) => {
    annotations[`${UPSTREAM_PORT_ANNOTATION_PREFIX}${svc}`] = String(w.ports.upstreams[i]);
  });
  const spec: Record<string, unknown> = {
    address: options.address,
    ports: { [w.portName]: w.ports.inbound },
    ttlSeconds: options.ttlSeconds,
    healthy,
  };
  if (options.locality !== undefined) spec.locality = { ...options.locality };
  return {
    apiVersion: MESH_API_VERSION,
    kind: 'Workload',
    metadata: {
      name: w.name,
      namespace: options.namespace,
      labels: {
        app: options.service,
        ...options.labels,
        [SERVICE_LABEL]: options.service,
        [MANAGED_BY_LABEL]: MANAGED_BY_WEFT_RUN,
      },
      annotations,
    },
    spec,
  };
}

/** What --create-service applies: weft up's Service shape (selector weft.dev/service, port 80). */
export function serviceResource(options: RunOptions): Resource {
  return {
    apiVersion: MESH_API_VERSION,
    kind: 'Service',
    metadata: {
      name: options.service,
      namespace: options.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_WEFT_RUN },
    },
    spec: {
      selector: { [SERVICE_LABEL]: options.service },
      ports: [{ name: portNameOf(options.protocol), port: SERVICE_PORT, protocol: options.protocol }],
    },
  };
}

/**
 * The port name to serve: --port-name, else the Service's only port, else its port named
 * after the protocol default (`http`). undefined: ambiguous (the caller asks for --port-name).
 */
export function choosePortName(
  flag: string | undefined,
  servicePorts: readonly { readonly name: string }[],
): string | undefined {
  if (flag !== undefined) return flag;
  if (servicePorts.length === 1) return servicePorts[0]!.name;
  return servicePorts.some((p) => p.name === 'http') ? 'http' : undefined;
}

/**
 * The app's environment, added to weft run's own: as weft up gives it (docs/up.md) except
 * HTTP_PROXY, which weft run leaves alone — on a real host the app's other HTTP calls (the
 * internet, cloud APIs) must not go to the mesh. WEFT_OUTBOUND_URL names the proxy instead.
 */
export function appEnvironment(options: RunOptions, w: RunWorkload): Record<string, string> {
  const env: Record<string, string> = {
    PORT: String(options.appPort),
    WEFT_NAMESPACE: options.namespace,
    WEFT_SERVICE: options.service,
    WEFT_WORKLOAD: w.name,
    WEFT_OUTBOUND_URL: `http://${LOCALHOST}:${w.ports.outbound}`,
  };
  options.upstreams.forEach((svc, i) => {
    const port = w.ports.upstreams[i];
    // `reviews.other` (another namespace) → WEFT_UPSTREAM_REVIEWS_OTHER_URL
    const key = svc.replace('.', '_');
    env[upstreamEnvVar(key)] = `http://${LOCALHOST}:${port}`;
    env[upstreamEnvVar(key, 'ADDRESS')] = `${LOCALHOST}:${port}`;
  });
  return env;
}
