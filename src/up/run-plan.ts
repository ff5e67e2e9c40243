// The run plan of `weft up`: from a validated mesh file, what will run and how it is wired —
// one entry per workload replica (its name, app port, its sidecar's inbound, outbound,
// per-upstream and admin ports, its environment) and the Service/Workload resources to
// apply. Pure: ports come from an injected `takePort` (free ports allocated beforehand), so
// the same mesh and ports always give the same plan. The wiring is documented in docs/up.md.

import type { Resource } from '../control/resource.js';
import type { MeshFile, MeshReadiness, MeshWorkload, WorkloadProtocol } from './mesh-file.js';

export const MESH_API_VERSION = 'weft.dev/v1alpha1';
/** Every Service weft up creates listens on this (virtual) port, so `http://reviews/` needs no port. */
export const SERVICE_PORT = 80;
export const LOCALHOST = '127.0.0.1';
export const MANAGED_BY_LABEL = 'weft.dev/managed-by';
export const SERVICE_LABEL = 'weft.dev/service';
export const WORKLOAD_LABEL = 'weft.dev/workload';
export const APP_PORT_ANNOTATION_PREFIX = 'weft.dev/app-port-';
/** Proposed: the control plane puts this sidecar's Host-routing outbound HTTP listener on this port. */
export const OUTBOUND_HTTP_PORT_ANNOTATION = 'weft.dev/outbound-http-port';
/** Proposed: a listener on this port sends everything to the named Service (no Host needed). */
export const UPSTREAM_PORT_ANNOTATION_PREFIX = 'weft.dev/upstream-port-';

export interface UpstreamPlan {
  readonly service: string;
  /** Local port of this replica's sidecar that forwards to the service. */
  readonly port: number;
  /** `WEFT_UPSTREAM_<SERVICE>_URL` */
  readonly envVar: string;
}

export interface SidecarPlan {
  /** `sidecar~<namespace>~<replica>` (src/control/server/node-identity.ts). */
  readonly nodeId: string;
  /** Where the mesh sends traffic for this replica; the Workload's port. */
  readonly inboundPort: number;
  /** Host-routing HTTP proxy port (the app's HTTP_PROXY). */
  readonly outboundPort: number;
  readonly adminPort: number;
}

export interface ReplicaPlan {
  /** `<workload>-<index>`: the Workload resource's name. */
  readonly name: string;
  readonly workload: string;
  readonly service: string;
  readonly index: number;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** What weft up adds to the app's environment (user `env` included; the parent's env is not). */
  readonly env: Readonly<Record<string, string>>;
  readonly appPort: number;
  readonly protocol: WorkloadProtocol;
  /** The Service/Workload port name (`http`, `http2`, `grpc`, `tcp`). */
  readonly portName: string;
  readonly readiness: MeshReadiness;
  readonly restart: boolean;
  readonly upstreams: readonly UpstreamPlan[];
  readonly sidecar: SidecarPlan;
}

export interface ServicePlan {
  readonly name: string;
  readonly protocol: WorkloadProtocol;
  readonly portName: string;
  readonly port: number;
  /** Replica names behind it. */
  readonly endpoints: readonly string[];
}

export interface RunPlan {
  readonly mesh: MeshFile;
  readonly namespace: string;
  readonly control: { readonly apiPort: number; readonly xdsPort: number };
  readonly services: readonly ServicePlan[];
  readonly replicas: readonly ReplicaPlan[];
  /** Services first, then Workloads: what weft up applies before starting the sidecars. */
  readonly resources: readonly Resource[];
}

/** How many ports `buildRunPlan` will take: allocate this many before calling it. */
export function countPlanPorts(mesh: MeshFile): number {
  let n = (mesh.control.apiPort === 0 ? 1 : 0) + (mesh.control.xdsPort === 0 ? 1 : 0);
  for (const w of mesh.workloads) n += w.replicas * ((w.port === 0 ? 1 : 0) + 3 + w.upstreams.length);
  return n;
}

/** `reviews-api` → `WEFT_UPSTREAM_REVIEWS_API_URL`. */
export function upstreamEnvVar(service: string, suffix: 'URL' | 'ADDRESS' = 'URL'): string {
  return `WEFT_UPSTREAM_${service.toUpperCase().replace(/-/g, '_')}_${suffix}`;
}

export function portNameOf(protocol: WorkloadProtocol): string {
  return protocol.toLowerCase();
}

/**
 * Computes the plan. `takePort` is called in a fixed order (control API, control xDS, then per
 * replica: app port when the mesh file leaves it 0, inbound, outbound, admin, one per upstream).
 */
export function buildRunPlan(mesh: MeshFile, takePort: () => number): RunPlan {
  const control = {
    apiPort: mesh.control.apiPort === 0 ? takePort() : mesh.control.apiPort,
    xdsPort: mesh.control.xdsPort === 0 ? takePort() : mesh.control.xdsPort,
  };
  const replicas: ReplicaPlan[] = [];
  for (const w of mesh.workloads)
    for (let index = 0; index < w.replicas; index++) replicas.push(planReplica(mesh, w, index, takePort));
  const services = planServices(mesh, replicas);
  const resources: Resource[] = [
    ...services.map((s) => serviceResource(mesh.namespace, s)),
    ...replicas.map((r) => workloadResource(mesh, r)),
  ];
  return { mesh, namespace: mesh.namespace, control, services, replicas, resources };
}

function planReplica(mesh: MeshFile, w: MeshWorkload, index: number, takePort: () => number): ReplicaPlan {
  const name = `${w.name}-${index}`;
  const appPort = w.port === 0 ? takePort() : w.port;
  const sidecar: SidecarPlan = {
    nodeId: `sidecar~${mesh.namespace}~${name}`,
    inboundPort: takePort(),
    outboundPort: takePort(),
    adminPort: takePort(),
  };
  const upstreams = w.upstreams.map((service) => ({
    service,
    port: takePort(),
    envVar: upstreamEnvVar(service),
  }));
  const proxyUrl = `http://${LOCALHOST}:${sidecar.outboundPort}`;
  const env: Record<string, string> = {
    ...w.env,
    PORT: String(appPort),
    WEFT_NAMESPACE: mesh.namespace,
    WEFT_SERVICE: w.service,
    WEFT_WORKLOAD: name,
    WEFT_OUTBOUND_URL: proxyUrl,
    // HTTP_PROXY-aware clients reach `http://reviews/` through the sidecar; the lower-case
    // form is the one curl reads. Local addresses (the upstream URLs below) bypass the proxy.
    HTTP_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    NO_PROXY: 'localhost,127.0.0.1,::1',
    no_proxy: 'localhost,127.0.0.1,::1',
  };
  for (const u of upstreams) {
    env[u.envVar] = `http://${LOCALHOST}:${u.port}`;
    env[upstreamEnvVar(u.service, 'ADDRESS')] = `${LOCALHOST}:${u.port}`;
  }
  return {
    name,
    workload: w.name,
    service: w.service,
    index,
    command: w.command,
    args: w.args,
    cwd: w.cwd,
    env,
    appPort,
    protocol: w.protocol,
    portName: portNameOf(w.protocol),
    readiness: w.readiness,
    restart: w.restart,
    upstreams,
    sidecar,
  };
}

function planServices(mesh: MeshFile, replicas: readonly ReplicaPlan[]): ServicePlan[] {
  const out: ServicePlan[] = [];
  for (const w of mesh.workloads) {
    if (out.some((s) => s.name === w.service)) continue;
    out.push({
      name: w.service,
      protocol: w.protocol,
      portName: portNameOf(w.protocol),
      port: SERVICE_PORT,
      endpoints: replicas.filter((r) => r.service === w.service).map((r) => r.name),
    });
  }
  return out;
}

function serviceResource(namespace: string, s: ServicePlan): Resource {
  return {
    apiVersion: MESH_API_VERSION,
    kind: 'Service',
    metadata: { name: s.name, namespace, labels: { [MANAGED_BY_LABEL]: 'weft-up' } },
    spec: {
      selector: { [SERVICE_LABEL]: s.name },
      ports: [{ name: s.portName, port: s.port, protocol: s.protocol }],
    },
  };
}

function workloadResource(mesh: MeshFile, r: ReplicaPlan): Resource {
  const w = mesh.workloads.find((x) => x.name === r.workload);
  const annotations: Record<string, string> = {
    [`${APP_PORT_ANNOTATION_PREFIX}${r.portName}`]: String(r.appPort),
    [OUTBOUND_HTTP_PORT_ANNOTATION]: String(r.sidecar.outboundPort),
  };
  for (const u of r.upstreams) annotations[`${UPSTREAM_PORT_ANNOTATION_PREFIX}${u.service}`] = String(u.port);
  const spec: Record<string, unknown> = {
    address: LOCALHOST,
    ports: { [r.portName]: r.sidecar.inboundPort },
  };
  if (w?.locality !== undefined) spec.locality = { ...w.locality };
  return {
    apiVersion: MESH_API_VERSION,
    kind: 'Workload',
    metadata: {
      name: r.name,
      namespace: mesh.namespace,
      labels: {
        ...w?.labels,
        [SERVICE_LABEL]: r.service,
        [WORKLOAD_LABEL]: r.workload,
        [MANAGED_BY_LABEL]: 'weft-up',
      },
      annotations,
    },
    spec,
  };
}

/**
 * Start order for the processes of the plan: upstreams before the replicas that call them
 * (callees first), declaration order otherwise; a cycle keeps declaration order. Stopping
 * goes the other way (the supervisor derives it from the same edges).
 */
export function replicaDependencies(plan: RunPlan): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const r of plan.replicas) {
    const callees = plan.replicas
      .filter((o) => o.name !== r.name && r.upstreams.some((u) => u.service === o.service))
      .map((o) => o.name);
    deps.set(r.name, callees);
  }
  return deps;
}
