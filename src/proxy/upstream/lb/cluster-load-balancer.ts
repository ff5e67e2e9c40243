// A cluster's load balancer over all its hosts: chooses the priority level, applies panic
// mode, locality-weighted or zone-aware locality choice, and hands the pick to the
// policy's balancer for that host list (policy.ts). Follows Envoy's
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/overview
//
// - Priority levels: a level's health is min(100, overprovisioning_factor × healthy / total)
//   percent (factor 1.4 by default). Levels take load in priority order up to their health
//   and the rest spills to the next level; when the health of all levels sums to less
//   than 100 the loads are scaled up proportionally. With no healthy host anywhere, load
//   is spread by host count. A hashed request picks its level from its hash, so it sticks.
// - Panic: a level whose healthy share is below healthy_panic_threshold (default 50%)
//   routes to all its hosts, healthy or not (stat lb_healthy_panic); threshold 0 = never.
// - Locality weighted (locality_weighted_lb_config): a locality is chosen by smooth
//   weighted round robin over load_balancing_weight × min(1, factor × healthy / total);
//   a locality without a weight gets no traffic.
// - Zone aware (zone_aware_lb_config, single priority level): the proxy's own
//   node.locality. Weft has no local cluster, so it takes the local side to be spread like
//   the upstream's hosts. When the local zone's share of healthy hosts is at least its
//   share of all hosts, every request stays local (lb_zone_routing_all_directly);
//   otherwise a request stays local with probability healthy share / host share
//   (lb_zone_routing_sampled) and else goes to another zone chosen by its spare healthy
//   share (lb_zone_routing_cross_zone). Below min_cluster_size hosts (default 6) zone
//   routing is off (lb_zone_cluster_too_small).
//
// Health is read at pick time: each pick counts healthy hosts per level and locality
// (O(hosts), no allocation) and recomputes loads only when a count changed.

import type { ClusterLbConfig, ClusterLoadAssignment, LbPolicy, Locality } from '../../../config/model.js';
import type { Clock } from '../../../core/clock.js';
import type { Counter } from '../../stats/store.js';
import type { Host } from '../host.js';
import type { LoadBalancer, LoadBalancerContext } from './load-balancer.js';
import { createPolicyLoadBalancer } from './policy.js';
import { SlowStart } from './slow-start.js';

export const DEFAULT_OVERPROVISIONING_FACTOR = 140;

export interface LoadBalancerStats {
  readonly lb_healthy_panic: Counter;
  readonly lb_zone_routing_all_directly: Counter;
  readonly lb_zone_routing_sampled: Counter;
  readonly lb_zone_routing_cross_zone: Counter;
  readonly lb_zone_cluster_too_small: Counter;
}

export interface ClusterLoadBalancerDeps {
  readonly random: () => number;
  readonly stats: LoadBalancerStats;
  /** The proxy's own `node.locality`, for zone-aware routing. */
  readonly localLocality: Locality | null;
  /** For slow start (absent: slow start is off). */
  readonly clock?: Clock;
}

interface LocalityGroup {
  readonly key: string;
  readonly hosts: Host[];
  /** The locality's load_balancing_weight (0 when it has none). */
  readonly weight: number;
  lb: LoadBalancer;
  healthy: number;
}

interface Level {
  readonly priority: number;
  readonly hosts: Host[];
  readonly lb: LoadBalancer;
  panicLb: LoadBalancer | null;
  readonly groups: LocalityGroup[];
  /** Per host of `hosts`: its index in `groups` (when localities are used). */
  hostGroups: Int32Array;
  /** Healthy hosts per group, counted at each pick. */
  groupCounts: Int32Array;
  /** Index in `groups` of the proxy's own locality, or -1. */
  localGroup: number;
  healthy: number;
  /** Share of the load, in percent. */
  load: number;
  panic: boolean;
}

export function localityKey(priority: number, locality: Locality | null): string {
  return locality === null
    ? `${priority}|||`
    : `${priority}|${locality.region}|${locality.zone}|${locality.subZone}`;
}

export class ClusterLoadBalancer {
  private levels: Level[] = [];
  private overprovisioning = DEFAULT_OVERPROVISIONING_FACTOR;
  private localityWeights = new Map<string, number>();
  private readonly usesGroups: boolean;
  /** Locality-weighted choice: smooth round-robin scores and effective weights, per level group. */
  private groupScores: Float64Array[] = [];
  private groupWeights: Float64Array[] = [];
  /** Zone-aware: per group of level 0, the share of all hosts and of healthy hosts. */
  private hostShare = new Float64Array(0);
  private healthyShare = new Float64Array(0);
  private dirty = true;
  private readonly slowStart: SlowStart | null;
  /** One level, no locality groups: only its panic state matters (see refreshHealth). */
  private singleLevel = false;
  /** Healthy hosts the single level needs to stay out of panic. */
  private panicNeed = 0;

  constructor(
    private readonly policy: LbPolicy,
    private readonly config: ClusterLbConfig,
    private readonly deps: ClusterLoadBalancerDeps,
  ) {
    this.usesGroups = config.localityWeighted || config.zoneAware !== null;
    const slow = config.slowStart ?? null;
    this.slowStart = slow !== null && deps.clock !== undefined ? new SlowStart(slow, deps.clock) : null;
  }

  /** The endpoints' locality weights and overprovisioning factor (call before hostsChanged). */
  setLoadAssignment(assignment: ClusterLoadAssignment | null): void {
    this.overprovisioning = assignment?.overprovisioningFactor ?? DEFAULT_OVERPROVISIONING_FACTOR;
    const weights = new Map<string, number>();
    for (const l of assignment?.endpoints ?? []) {
      const key = localityKey(l.priority, l.locality);
      if (!weights.has(key)) weights.set(key, l.loadBalancingWeight ?? 0);
    }
    this.localityWeights = weights;
  }

  hostsChanged(hosts: readonly Host[]): void {
    this.slowStart?.hostsChanged(hosts);
    const byPriority = new Map<number, Level>();
    for (const h of hosts) {
      let level = byPriority.get(h.priority);
      if (level === undefined) {
        level = {
          priority: h.priority,
          hosts: [],
          lb: null as unknown as LoadBalancer,
          panicLb: null,
          groups: [],
          hostGroups: new Int32Array(0),
          groupCounts: new Int32Array(0),
          localGroup: -1,
          healthy: -1,
          load: 0,
          panic: false,
        };
        byPriority.set(h.priority, level);
      }
      level.hosts.push(h);
    }
    const levels = [...byPriority.values()].sort((a, b) => a.priority - b.priority);
    const random = this.deps.random;
    this.groupScores = [];
    this.groupWeights = [];
    for (let li = 0; li < levels.length; li++) {
      const level = levels[li];
      (level as { lb: LoadBalancer }).lb = createPolicyLoadBalancer(
        this.policy,
        this.config,
        level.hosts,
        random,
        false,
        this.slowStart,
      );
      if (this.usesGroups) {
        const groups = new Map<string, LocalityGroup>();
        level.hostGroups = new Int32Array(level.hosts.length);
        for (let hi = 0; hi < level.hosts.length; hi++) {
          const h = level.hosts[hi];
          const key = localityKey(level.priority, h.locality);
          let g = groups.get(key);
          if (g === undefined) {
            g = {
              key,
              hosts: [],
              weight: this.localityWeights.get(key) ?? 0,
              lb: null as unknown as LoadBalancer,
              healthy: 0,
            };
            groups.set(key, g);
            level.groups.push(g);
          }
          g.hosts.push(h);
          level.hostGroups[hi] = level.groups.indexOf(g);
        }
        level.groupCounts = new Int32Array(level.groups.length);
        for (const g of level.groups)
          g.lb = createPolicyLoadBalancer(this.policy, this.config, g.hosts, random, false, this.slowStart);
        const local = this.deps.localLocality;
        if (local !== null)
          level.localGroup = level.groups.findIndex((g) => g.key === localityKey(level.priority, local));
      }
      this.groupScores.push(new Float64Array(level.groups.length));
      this.groupWeights.push(new Float64Array(level.groups.length));
    }
    this.levels = levels;
    this.singleLevel = levels.length === 1 && !this.usesGroups;
    const threshold = this.config.healthyPanicThresholdPercent;
    // healthy × 100 / n < threshold  ⟺  healthy < ceil(threshold × n / 100) for integer healthy.
    this.panicNeed = this.singleLevel ? Math.ceil((threshold * levels[0].hosts.length) / 100) : 0;
    this.hostShare = new Float64Array(levels[0]?.groups.length ?? 0);
    this.healthyShare = new Float64Array(levels[0]?.groups.length ?? 0);
    this.dirty = true;
  }

  chooseHost(context?: LoadBalancerContext | null): Host | null {
    const levels = this.levels;
    if (levels.length === 0) return null;
    this.refreshHealth();
    const key = context?.hashKey ?? null;
    let level = levels[0];
    if (levels.length > 1) {
      const roll = key === null ? this.deps.random() * 100 : Number(key % 10000n) / 100;
      let acc = 0;
      for (let i = 0; i < levels.length; i++) {
        acc += levels[i].load;
        level = levels[i];
        if (roll < acc) break;
      }
    }
    if (level.panic) {
      this.deps.stats.lb_healthy_panic.value++;
      if (level.panicLb === null) {
        level.panicLb = createPolicyLoadBalancer(
          this.policy,
          this.config,
          level.hosts,
          this.deps.random,
          true,
        );
      }
      return level.panicLb.chooseHost(context);
    }
    if (this.config.zoneAware !== null && levels.length === 1) {
      const g = this.zoneAwareGroup(level);
      if (g >= 0) return level.groups[g].lb.chooseHost(context) ?? level.lb.chooseHost(context);
    } else if (this.config.localityWeighted) {
      const g = this.weightedGroup(levels.indexOf(level), level);
      if (g >= 0) return level.groups[g].lb.chooseHost(context) ?? level.lb.chooseHost(context);
    }
    return level.lb.chooseHost(context);
  }

  /** Recounts healthy hosts per level and group; recomputes loads when any count changed. */
  private refreshHealth(): void {
    const levels = this.levels;
    if (this.singleLevel) {
      // The common case: the level takes all the load, so only panic matters, and counting
      // can stop once enough healthy hosts were seen.
      const level = levels[0];
      const hosts = level.hosts;
      const need = this.panicNeed;
      let healthy = 0;
      for (let i = 0; i < hosts.length && healthy < need; i++) if (hosts[i].healthy) healthy++;
      level.panic = healthy < need;
      return;
    }
    const groupsUsed = this.usesGroups;
    let changed = this.dirty;
    this.dirty = false;
    for (let li = 0; li < levels.length; li++) {
      const level = levels[li];
      const hosts = level.hosts;
      const counts = level.groupCounts;
      if (groupsUsed) counts.fill(0);
      let healthy = 0;
      for (let i = 0; i < hosts.length; i++) {
        if (!hosts[i].healthy) continue;
        healthy++;
        if (groupsUsed) counts[level.hostGroups[i]]++;
      }
      if (healthy !== level.healthy) {
        level.healthy = healthy;
        changed = true;
      }
      for (let gi = 0; gi < level.groups.length; gi++) {
        if (level.groups[gi].healthy !== counts[gi]) {
          level.groups[gi].healthy = counts[gi];
          changed = true;
        }
      }
    }
    if (changed) this.computeLoads();
  }

  private computeLoads(): void {
    const levels = this.levels;
    const factor = this.overprovisioning / 100;
    const threshold = this.config.healthyPanicThresholdPercent;
    let totalHealth = 0;
    let totalHosts = 0;
    for (const level of levels) {
      const n = level.hosts.length;
      level.load = n === 0 ? 0 : Math.min(100, (factor * level.healthy * 100) / n);
      level.panic = threshold > 0 && (level.healthy * 100) / n < threshold;
      totalHealth += level.load;
      totalHosts += n;
    }
    if (totalHealth === 0) {
      // Total panic: spread by host count.
      for (const level of levels) level.load = (level.hosts.length * 100) / totalHosts;
    } else {
      const normalized = Math.min(100, totalHealth);
      let remaining = 100;
      for (const level of levels) {
        const load = Math.min(remaining, (level.load * 100) / normalized);
        level.load = load;
        remaining -= load;
      }
    }
    for (let li = 0; li < levels.length; li++) {
      const level = levels[li];
      const weights = this.groupWeights[li];
      for (let gi = 0; gi < level.groups.length; gi++) {
        const g = level.groups[gi];
        weights[gi] = g.weight * Math.min(1, (factor * g.healthy) / g.hosts.length);
      }
    }
    const level0 = levels[0];
    if (this.config.zoneAware !== null && level0 !== undefined) {
      for (let gi = 0; gi < level0.groups.length; gi++) {
        const g = level0.groups[gi];
        this.hostShare[gi] = g.hosts.length / level0.hosts.length;
        this.healthyShare[gi] = level0.healthy === 0 ? 0 : g.healthy / level0.healthy;
      }
    }
  }

  /** Smooth weighted round robin over the level's localities; -1 when none has weight. */
  private weightedGroup(li: number, level: Level): number {
    const scores = this.groupScores[li];
    const weights = this.groupWeights[li];
    let total = 0;
    let best = -1;
    for (let gi = 0; gi < level.groups.length; gi++) {
      const w = weights[gi];
      if (w === 0) continue;
      scores[gi] += w;
      total += w;
      if (best < 0 || scores[gi] > scores[best]) best = gi;
    }
    if (best >= 0) scores[best] -= total;
    return best;
  }

  /** The locality group a zone-aware pick uses, or -1 to pick over the whole level. */
  private zoneAwareGroup(level: Level): number {
    const zone = this.config.zoneAware!;
    const local = level.localGroup;
    if (local < 0 || level.groups.length < 2) return -1;
    const stats = this.deps.stats;
    if (level.hosts.length < zone.minClusterSize) {
      stats.lb_zone_cluster_too_small.value++;
      return -1;
    }
    const random = this.deps.random;
    if (zone.routingEnabledPercent < 100 && random() * 100 >= zone.routingEnabledPercent) return -1;
    const localHosts = this.hostShare[local];
    const localHealthy = this.healthyShare[local];
    if (localHealthy >= localHosts) {
      stats.lb_zone_routing_all_directly.value++;
      return local;
    }
    if (random() < localHealthy / localHosts) {
      stats.lb_zone_routing_sampled.value++;
      return local;
    }
    stats.lb_zone_routing_cross_zone.value++;
    // Another zone, chosen by its spare capacity: healthy share beyond its host share.
    let spare = 0;
    for (let gi = 0; gi < level.groups.length; gi++) {
      if (gi !== local) spare += Math.max(0, this.healthyShare[gi] - this.hostShare[gi]);
    }
    if (spare === 0) return -1;
    let target = random() * spare;
    let last = -1;
    for (let gi = 0; gi < level.groups.length; gi++) {
      if (gi === local) continue;
      const s = Math.max(0, this.healthyShare[gi] - this.hostShare[gi]);
      if (s === 0) continue;
      last = gi;
      target -= s;
      if (target < 0) return gi;
    }
    return last;
  }
}

export function createClusterLoadBalancer(
  policy: LbPolicy,
  config: ClusterLbConfig,
  deps: ClusterLoadBalancerDeps,
): ClusterLoadBalancer {
  return new ClusterLoadBalancer(policy, config, deps);
}
