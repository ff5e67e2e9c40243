// The mesh analysis `weft check` runs: every analyser over one MeshIndex (each a pure
// function in its own module, one concern each), findings in a stable order. The same
// entry point serves offline files, the live mesh, and the live mesh with files applied.

import type { MeshIndex } from '../translate/mesh-index.js';
import { compareFindings, type Finding } from './catalogue.js';
import { analysePolicies } from './policies.js';
import { analyseRouteBackends } from './route-backends.js';
import { analyseRouteConflicts } from './route-conflicts.js';
import { analyseRouteParents } from './route-parents.js';
import { analyseServices } from './services.js';
import { analyseTrafficSplits } from './traffic-splits.js';
import { analyseWorkloads } from './workloads.js';

export type MeshAnalyser = (index: MeshIndex) => Finding[];

/** Every analyser, in the order their concerns are documented in docs/check.md. */
export const MESH_ANALYSERS: readonly MeshAnalyser[] = Object.freeze([
  analyseRouteBackends,
  analyseServices,
  analyseRouteParents,
  analyseRouteConflicts,
  analyseTrafficSplits,
  analysePolicies,
  analyseWorkloads,
]);

export function analyseMesh(
  index: MeshIndex,
  analysers: readonly MeshAnalyser[] = MESH_ANALYSERS,
): Finding[] {
  return analysers.flatMap((analyse) => analyse(index)).sort(compareFindings);
}
