// Cluster choice for a route: a fixed cluster, or a weighted pick among `weighted_clusters`.
//
// Envoy (RouteEntryImplBase::pickWeightedCluster) draws a value in [0, total) and walks
// the clusters in config order, taking the first whose running weight sum exceeds it, so
// each cluster gets weight/total of the traffic and a zero weight gets none. The random
// source is injected, so a test can drive it. Every possible answer is built at compile
// time: picking allocates nothing.

import type { ClusterWeight, RouteAction } from '../../config/model.js';
import {
  type CompileHeaderValue,
  compileHeaderMutations,
  type HeaderMutationPlan,
} from './header-mutations.js';
import { mergePerFilterConfigs, type PerFilterConfigs } from './per-filter-config.js';

export interface ClusterPick {
  readonly cluster: string;
  /** The chosen weighted cluster's own mutations (apply BEFORE the route's); null when none. */
  readonly requestHeaderMutations: HeaderMutationPlan | null;
  readonly responseHeaderMutations: HeaderMutationPlan | null;
  /** The route's typed_per_filter_config with the chosen weighted cluster's own over it. */
  readonly perFilterConfig: PerFilterConfigs | null;
}

export class ClusterPicker {
  private readonly picks: readonly ClusterPick[];
  /** Running sums of the weights, in config order. */
  private readonly cumulative: readonly number[];
  private readonly total: number;

  constructor(
    cluster: RouteAction['cluster'],
    private readonly random: () => number,
    compileHeaderValue: CompileHeaderValue,
    routePerFilterConfig: PerFilterConfigs | null = null,
  ) {
    if (cluster.kind === 'cluster') {
      this.picks = [
        Object.freeze({
          cluster: cluster.name,
          requestHeaderMutations: null,
          responseHeaderMutations: null,
          perFilterConfig: routePerFilterConfig,
        }),
      ];
      this.cumulative = [1];
      this.total = 1;
      return;
    }
    const picks: ClusterPick[] = [];
    const cumulative: number[] = [];
    let sum = 0;
    for (const cw of cluster.clusters) {
      picks.push(compilePick(cw, compileHeaderValue, routePerFilterConfig));
      sum += cw.weight;
      cumulative.push(sum);
    }
    // The sum of the weights is the total (Envoy's `total_weight`, when given, must equal it).
    this.picks = picks;
    this.cumulative = cumulative;
    this.total = sum;
  }

  pick(): ClusterPick {
    const picks = this.picks;
    if (picks.length === 1 || this.total <= 0) return picks[0];
    let r = Math.floor(this.random() * this.total);
    if (r >= this.total) r = this.total - 1; // a random() that returns 1.0 must not fall off the end
    const cumulative = this.cumulative;
    for (let i = 0; i < cumulative.length; i++) {
      if (r < cumulative[i]) return picks[i];
    }
    return picks[picks.length - 1];
  }
}

function compilePick(
  cw: ClusterWeight,
  compileHeaderValue: CompileHeaderValue,
  routePerFilterConfig: PerFilterConfigs | null,
): ClusterPick {
  const m = compileHeaderMutations(cw, null, null, compileHeaderValue);
  return Object.freeze({
    cluster: cw.name,
    requestHeaderMutations: m.request,
    responseHeaderMutations: m.response,
    perFilterConfig: mergePerFilterConfigs(routePerFilterConfig, cw.typedPerFilterConfig),
  });
}
