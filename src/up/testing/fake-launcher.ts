// A Launcher for tests: the control plane is fake-control.js, each sidecar a tcp-forwarder.js
// carrying the replica's inbound port to its app and each upstream port to the inbound port
// of the upstream service's first replica. Real processes, real sockets, no xDS.

import { fileURLToPath } from 'node:url';
import type { Launcher } from '../launcher.js';
import { sidecarName } from '../launcher.js';
import { LOCALHOST } from '../run-plan.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

export function createFakeLauncher(): Launcher {
  return {
    controlPlane(plan) {
      return {
        name: 'control',
        role: 'control',
        command: process.execPath,
        args: [here('./fake-control.js'), String(plan.control.apiPort)],
        readiness: { kind: 'http', host: LOCALHOST, port: plan.control.apiPort, path: '/healthz' },
        readyTimeoutMs: 20_000,
        ports: { api: plan.control.apiPort, xds: plan.control.xdsPort },
      };
    },
    async apply(apiUrl, resources) {
      const res = await fetch(`${apiUrl}/v1/apply`, {
        method: 'POST',
        body: JSON.stringify({ items: resources }),
      });
      if (!res.ok) throw new Error(`apply failed: ${res.status}`);
      await res.text();
    },
    sidecar(plan, replica) {
      const pairs = [`${replica.sidecar.inboundPort}:${replica.appPort}`];
      for (const u of replica.upstreams) {
        const target = plan.replicas.find((r) => r.service === u.service)!;
        pairs.push(`${u.port}:${target.sidecar.inboundPort}`);
      }
      return {
        name: sidecarName(replica),
        role: 'sidecar',
        command: process.execPath,
        args: [here('./tcp-forwarder.js'), ...pairs],
        readiness: { kind: 'tcp', host: LOCALHOST, port: replica.sidecar.inboundPort },
        readyTimeoutMs: 20_000,
        dependsOn: ['control'],
        ports: { inbound: replica.sidecar.inboundPort, admin: replica.sidecar.adminPort },
      };
    },
  };
}
