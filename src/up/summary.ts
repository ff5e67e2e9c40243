// The summary `weft up` prints once everything is ready: the services and their endpoints,
// where to send traffic, how apps reach each other, and the control plane and admin
// addresses — what a user needs to start poking at the mesh.

import type { RunPlan } from './run-plan.js';
import { LOCALHOST } from './run-plan.js';
import { formatTable } from './text-table.js';

export interface SummaryAddresses {
  readonly apiUrl: string;
  readonly xdsAddress: string;
  /** Relative to the current directory when inside it. */
  readonly stateFile: string;
}

export function formatSummary(plan: RunPlan, addr: SummaryAddresses): string {
  const lines: string[] = [];
  const processes = plan.replicas.length * 2 + 1;
  lines.push(
    `weft up: ${plan.services.length} service(s), ${plan.replicas.length} replica(s), ${processes} processes ready`,
  );
  lines.push('');
  lines.push(`Services (namespace ${plan.namespace}):`);
  const rows: string[][] = [['SERVICE', 'PROTOCOL', 'REPLICA', 'SIDECAR INBOUND', 'APP PORT', 'ADMIN']];
  for (const s of plan.services)
    for (const name of s.endpoints) {
      const r = plan.replicas.find((x) => x.name === name)!;
      rows.push([
        s.name,
        s.protocol,
        r.name,
        `${LOCALHOST}:${r.sidecar.inboundPort}`,
        String(r.appPort),
        `http://${LOCALHOST}:${r.sidecar.adminPort}/`,
      ]);
    }
  lines.push(formatTable(rows, '  '));
  lines.push('');
  lines.push('Send traffic (through the sidecar of the first replica of each service):');
  for (const s of plan.services) {
    const r = plan.replicas.find((x) => x.name === s.endpoints[0])!;
    const target = `${LOCALHOST}:${r.sidecar.inboundPort}`;
    lines.push(
      s.protocol === 'TCP' || s.protocol === 'GRPC'
        ? `  ${s.name}: ${target}`
        : `  curl http://${target}/   # ${s.name}`,
    );
  }
  lines.push('');
  lines.push(
    'Apps reach their upstreams at $WEFT_UPSTREAM_<SERVICE>_URL, or through $HTTP_PROXY as http://<service>/',
  );
  lines.push('');
  lines.push(`Control plane API  ${addr.apiUrl}   (weft get svc --control ${addr.apiUrl})`);
  lines.push(`xDS                ${addr.xdsAddress}`);
  lines.push(
    `State              ${addr.stateFile}   (weft status / weft down from another terminal; Ctrl-C stops all)`,
  );
  return `${lines.join('\n')}\n`;
}
