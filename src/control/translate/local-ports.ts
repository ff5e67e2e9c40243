// A sidecar's own local ports, read from its Workload's annotations so that many sidecars fit
// on one host (`weft up` writes them, src/up/run-plan.ts):
//
// - `weft.dev/outbound-http-port: "<port>"` moves the outbound HTTP (Host-routing) listener
//   off 15001. Node metadata WEFT_OUTBOUND_PORT still wins (translate.ts): the process knows
//   what it can bind.
// - `weft.dev/upstream-port-<service>: "<port>"` adds a listener on 127.0.0.1:<port> for one
//   Service, so the app calls `http://127.0.0.1:<port>/` with no Host. `<service>` names a
//   Service of the Workload's namespace, or `<name>.<namespace>` one of another namespace
//   (Service names are DNS labels, so the dot cannot be part of a name).
//
// A Workload with any of these annotations has *declared* its local ports: its sidecar gets no
// implicit per-Service TCP listeners (listeners.ts), which would bind the same loopback port in
// every sidecar of a host, and one failed bind makes a proxy refuse its whole LDS update.
//
// Bad values are reported (naming the Workload and the annotation) and skipped, never thrown.

import type { ServicePort } from '../kinds/mesh-types.js';
import type { MeshIndex, Service, Workload } from './mesh-index.js';
import { OUTBOUND_HTTP_PORT_ANNOTATION, UPSTREAM_PORT_ANNOTATION } from './names.js';
import { namespaceOf } from './snapshot.js';

export interface UpstreamPort {
  readonly service: Service;
  /** The Service port served: see `upstreamPortOf`. */
  readonly port: ServicePort;
  /** Where the listener binds on the outbound address. */
  readonly localPort: number;
  /** The annotation it came from, for warnings. */
  readonly annotation: string;
}

export interface LocalPorts {
  /** From `weft.dev/outbound-http-port`, when valid. */
  readonly outboundHttpPort?: number;
  /** Valid upstream annotations, in annotation-key order. */
  readonly upstreams: readonly UpstreamPort[];
  /** Some local-port annotation is present (valid or not): no implicit TCP listeners. */
  readonly declared: boolean;
}

export const NO_LOCAL_PORTS: LocalPorts = Object.freeze({ upstreams: Object.freeze([]), declared: false });

/** A decimal port number 1..65535, else undefined. */
export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * The port an upstream listener serves: the Service's HTTP port if it has exactly one (an
 * app calling a URL means HTTP), else its first port.
 */
export function upstreamPortOf(service: Service): ServicePort | undefined {
  const http = service.spec.ports.filter((p) => p.protocol === 'HTTP');
  return http.length === 1 ? http[0] : service.spec.ports[0];
}

export function localPortsOf(index: MeshIndex, workload: Workload, warnings: string[]): LocalPorts {
  const ns = namespaceOf(workload);
  const who = `Workload ${ns}/${workload.metadata.name}`;
  const annotations = workload.metadata.annotations ?? {};
  let declared = false;
  let outboundHttpPort: number | undefined;
  const text = annotations[OUTBOUND_HTTP_PORT_ANNOTATION];
  if (text !== undefined) {
    declared = true;
    outboundHttpPort = parsePort(text);
    if (outboundHttpPort === undefined)
      warnings.push(
        `${who}: annotation ${OUTBOUND_HTTP_PORT_ANNOTATION} '${text}' is not a port number; the outbound HTTP listener keeps its default port`,
      );
  }
  const upstreams: UpstreamPort[] = [];
  const byService = new Map<string, string>();
  const keys = Object.keys(annotations)
    .filter((k) => k.startsWith(UPSTREAM_PORT_ANNOTATION))
    .sort();
  for (const key of keys) {
    declared = true;
    const value = annotations[key];
    const ref = key.slice(UPSTREAM_PORT_ANNOTATION.length);
    const localPort = parsePort(value);
    if (localPort === undefined) {
      warnings.push(`${who}: annotation ${key} '${value}' is not a port number; no upstream listener`);
      continue;
    }
    const [name = '', namespace = ns, ...rest] = ref.split('.');
    const service = rest.length === 0 && name !== '' ? index.service(namespace, name) : undefined;
    if (service === undefined) {
      const looked =
        rest.length === 0 && name !== '' ? `no Service ${namespace}/${name}` : 'not a Service name';
      warnings.push(
        `${who}: annotation ${key} names no Service (${looked}; write <name> for one in ${ns}, or <name>.<namespace>); no upstream listener`,
      );
      continue;
    }
    const port = upstreamPortOf(service);
    if (port === undefined) continue; // validation requires ports; nothing to serve
    const id = `${namespace}/${name}`;
    const first = byService.get(id);
    if (first !== undefined) {
      warnings.push(`${who}: annotation ${key} names Service ${id} again (after ${first}); ignored`);
      continue;
    }
    byService.set(id, key);
    upstreams.push({ service, port, localPort, annotation: key });
  }
  return { outboundHttpPort, upstreams, declared };
}
