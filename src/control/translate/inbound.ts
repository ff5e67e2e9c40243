// The inbound side of a sidecar: which of its Workload's ports get an inbound listener,
// where the app listens behind each, and the protocol spoken there.
//
// The app's private port comes from the Workload annotation `weft.dev/app-port-<port
// name>` (the Workload's own port is where the sidecar listens, so the app must be
// elsewhere). A port without the annotation gets no inbound listener: traffic reaches the
// app directly. The protocol is that of the oldest Service in the Workload's namespace
// that selects it and has a port of that name; TCP when none does.

import type { ServicePortProtocol } from '../kinds/mesh-types.js';
import type { MeshIndex, Workload } from './mesh-index.js';
import { APP_PORT_ANNOTATION } from './names.js';
import { namespaceOf } from './snapshot.js';

export interface InboundPort {
  readonly portName: string;
  /** The Workload's port: where the sidecar's inbound listener binds. */
  readonly port: number;
  readonly appPort: number;
  readonly protocol: ServicePortProtocol;
}

export function inboundPorts(index: MeshIndex, workload: Workload, warnings: string[]): InboundPort[] {
  const ns = namespaceOf(workload);
  const out: InboundPort[] = [];
  for (const [portName, port] of Object.entries(workload.spec.ports).sort((a, b) => a[1] - b[1])) {
    const text = workload.metadata.annotations?.[`${APP_PORT_ANNOTATION}${portName}`];
    if (text === undefined) continue;
    const appPort = Number(text);
    if (!/^\d+$/.test(text) || appPort < 1 || appPort > 65535) {
      warnings.push(
        `Workload ${ns}/${workload.metadata.name}: annotation ${APP_PORT_ANNOTATION}${portName} '${text}' is not a port number; no inbound listener for port ${port}`,
      );
      continue;
    }
    const protocol =
      index
        .servicesSelecting(workload)
        .flatMap((s) => s.spec.ports)
        .find((p) => p.name === portName)?.protocol ?? 'TCP';
    out.push({ portName, port, appPort, protocol });
  }
  return out;
}
