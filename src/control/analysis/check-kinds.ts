// The kinds `weft check` validates files against: the same KindDefinitions the control
// plane registers (control-plane.ts createMeshKinds), built here without loading the
// control plane's servers, so the CLI stays light. A test checks both lists agree.

import { createDestinationPolicyKind } from '../kinds/destination-policy.js';
import { createGrpcRouteKind } from '../kinds/grpc-route.js';
import { createHttpRouteKind } from '../kinds/http-route.js';
import { createHttpRouteGroupKind } from '../kinds/http-route-group.js';
import { createKindRegistry, type KindRegistry } from '../kinds/registry.js';
import { createServiceKind } from '../kinds/service.js';
import { createTcpRouteKind } from '../kinds/tcp-route.js';
import { createTrafficSplitKind } from '../kinds/traffic-split.js';
import { createWorkloadKind } from '../kinds/workload.js';

export function createCheckKinds(): KindRegistry {
  return createKindRegistry([
    createServiceKind(),
    createWorkloadKind(),
    createHttpRouteKind(),
    createGrpcRouteKind(),
    createTrafficSplitKind(),
    createHttpRouteGroupKind(),
    createTcpRouteKind(),
    createDestinationPolicyKind(),
  ]);
}
