// How `weft up` starts the control plane and the sidecars, and applies resources: an
// interface, so the up machinery runs (and is tested) with any implementation, and the
// default one, which runs this build's own `weft control` and `weft proxy --xds`.
// The flags the default launcher assumes are listed in docs/up.md ("Processes").

import { fileURLToPath } from 'node:url';
import { createControlClient } from '../cli/control-client.js';
import type { Resource } from '../control/resource.js';
import { WEFT_NODE_FLAGS } from '../core/runtime-flags.js';
import { LOCALHOST, type ReplicaPlan, type RunPlan } from './run-plan.js';
import type { ProcessSpec } from './supervisor.js';
import { UpError } from './up-error.js';

export interface Launcher {
  /** The control plane process; must become ready when its API answers. */
  controlPlane(plan: RunPlan, stateDir: string): ProcessSpec;
  /** Applies resources (all or nothing); rejects with a message naming what is wrong. */
  apply(apiUrl: string, resources: readonly Resource[]): Promise<void>;
  /** The sidecar of one replica; ready once its inbound listener (from xDS) accepts. */
  sidecar(plan: RunPlan, replica: ReplicaPlan): ProcessSpec;
}

export interface DefaultLauncherOptions {
  /** The compiled CLI entry (default: ../cli/main.js next to this module). */
  readonly cliPath?: string;
  readonly nodePath?: string;
  readonly logLevel?: string;
}

export function controlApiUrl(plan: RunPlan): string {
  return `http://${LOCALHOST}:${plan.control.apiPort}`;
}

export function controlXdsAddress(plan: RunPlan): string {
  return `${LOCALHOST}:${plan.control.xdsPort}`;
}

export function sidecarName(replica: ReplicaPlan): string {
  return `${replica.name}.sidecar`;
}

export function createDefaultLauncher(options: DefaultLauncherOptions = {}): Launcher {
  const cli = options.cliPath ?? fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const node = options.nodePath ?? process.execPath;
  // bin/weft.js runs node with these flags; keep the same runtime for the children.
  const nodeArgs = [...WEFT_NODE_FLAGS, cli];
  const logArgs = options.logLevel === undefined ? [] : ['--log-level', options.logLevel];
  return {
    controlPlane(plan, stateDir) {
      return {
        name: 'control',
        role: 'control',
        command: node,
        args: [
          ...nodeArgs,
          'control',
          '--state-dir',
          stateDir,
          '--api-address',
          `${LOCALHOST}:${plan.control.apiPort}`,
          '--xds-address',
          controlXdsAddress(plan),
          ...logArgs,
        ],
        cwd: plan.mesh.dir,
        readiness: { kind: 'http', host: LOCALHOST, port: plan.control.apiPort, path: '/healthz' },
        readyTimeoutMs: 30_000,
        ports: { api: plan.control.apiPort, xds: plan.control.xdsPort },
      };
    },

    async apply(apiUrl, resources) {
      try {
        await createControlClient(apiUrl).request('POST', '/v1/apply', { items: resources });
      } catch (err) {
        const issues = (err as { issues?: { path: string; message: string }[] }).issues ?? [];
        throw new UpError(
          'WEFT_UP_LAUNCH_FAILED',
          `applying ${resources.length} resource(s) to ${apiUrl} failed: ${(err as Error).message}` +
            issues.map((i) => `\n  - ${i.path}: ${i.message}`).join(''),
          { cause: err },
        );
      }
    },

    sidecar(plan, replica) {
      const s = replica.sidecar;
      return {
        name: sidecarName(replica),
        role: 'sidecar',
        command: node,
        args: [
          ...nodeArgs,
          'proxy',
          '--xds',
          controlXdsAddress(plan),
          '--node',
          s.nodeId,
          // Every sidecar here shares one host: inbound listeners bind loopback, where the
          // Workloads say the mesh reaches them, not every interface.
          '--node-metadata',
          `WEFT_INBOUND_ADDRESS=${LOCALHOST}`,
          // One access-log line per request, with response flags, in the streamed logs.
          '--node-metadata',
          'WEFT_ACCESS_LOG=stdout',
          // Where the Workload says it runs: zone-aware routing keeps its calls in its zone.
          ...localityArgs(plan.mesh.workloads.find((w) => w.name === replica.workload)?.locality),
          '--admin-address',
          `${LOCALHOST}:${s.adminPort}`,
          ...logArgs,
        ],
        cwd: plan.mesh.dir,
        readiness: { kind: 'tcp', host: LOCALHOST, port: s.inboundPort },
        readyTimeoutMs: 30_000,
        dependsOn: ['control'],
        ports: {
          inbound: s.inboundPort,
          outbound: s.outboundPort,
          admin: s.adminPort,
          ...Object.fromEntries(replica.upstreams.map((u) => [`to-${u.service}`, u.port])),
        },
      };
    },
  };
}

/** `--locality REGION[/ZONE]` for a sidecar whose Workload names a region; none otherwise. */
export function localityArgs(
  locality: { readonly region?: string; readonly zone?: string } | undefined,
): string[] {
  if (locality?.region === undefined) return [];
  return [
    '--locality',
    locality.zone === undefined ? locality.region : `${locality.region}/${locality.zone}`,
  ];
}
