// The route table of an HCM whose routes come from RDS: a RouteTable that forwards to the
// current compiled table of one route configuration name. An RDS update swaps the compiled
// table in place, so every connection of every listener using that name follows the new
// routes from its next request on, with no listener churn and no connection drained (as
// Envoy applies RDS). A request already routed keeps its route: pickCluster works on the
// route's own compiled entry, whichever table it came from.

import type { ClusterPick, CompiledRoute, RouteRequest, RouteTable } from '../router/route-table.js';

export interface RdsRouteTable extends RouteTable {
  /** False until the first route configuration arrived (an RDS listener then still warms). */
  readonly ready: boolean;
  readonly current: RouteTable | null;
  set(table: RouteTable): void;
}

class RdsRouteTableImpl implements RdsRouteTable {
  current: RouteTable | null = null;

  constructor(readonly name: string) {}

  get ready(): boolean {
    return this.current !== null;
  }

  set(table: RouteTable): void {
    this.current = table;
  }

  get internalOnlyHeaders(): readonly string[] {
    return this.current === null ? [] : this.current.internalOnlyHeaders;
  }

  select(req: RouteRequest): CompiledRoute | null {
    // Not ready: no route (404 NR). Listeners are not bound before their routes arrive, so
    // this only happens when the initial fetch timed out.
    return this.current === null ? null : this.current.select(req);
  }

  pickCluster(route: CompiledRoute): ClusterPick {
    if (this.current === null) throw new TypeError(`route configuration '${this.name}' has no routes yet`);
    return this.current.pickCluster(route);
  }
}

export function createRdsRouteTable(name: string): RdsRouteTable {
  return new RdsRouteTableImpl(name);
}
