// WEFT0104 for routes: a parentRef the route cannot attach to (the Service is missing,
// lacks the port or section, has only TCP ports, or the parent is not a Service). The
// verdict is the translator's own Accepted condition (translate/status.ts), so `weft check`
// and `weft get httproutes` never disagree; such a parentRef routes nothing.

import type { GRPCRouteSpec, HTTPRouteSpec, RouteStatus } from '../kinds/gateway-types.js';
import type { Resource } from '../resource.js';
import type { MeshIndex } from '../translate/mesh-index.js';
import { routeStatus } from '../translate/status.js';
import { type Finding, finding } from './catalogue.js';

type AnyRoute = Resource<HTTPRouteSpec | GRPCRouteSpec, RouteStatus>;

/** Any fixed time: only the conditions' status and message are read here. */
const UNUSED_TIME = '1970-01-01T00:00:00Z';

export function analyseRouteParents(index: MeshIndex): Finding[] {
  const out: Finding[] = [];
  const routes: AnyRoute[] = [...index.snapshot.httpRoutes, ...index.snapshot.grpcRoutes];
  for (const route of routes) {
    // Without the previous status, so that a stale copy from the store cannot colour it.
    const { status: _ignored, ...fresh } = route;
    const status = routeStatus(index, fresh, { now: UNUSED_TIME });
    status.parents.forEach((parent, i) => {
      const accepted = parent.conditions.find((c) => c.type === 'Accepted');
      if (accepted === undefined || accepted.status === 'True') return;
      out.push(
        finding('WEFT0104', route, `${accepted.message}: this parentRef routes no traffic`, {
          path: `spec.parentRefs[${i}]`,
        }),
      );
    });
  }
  return out;
}
