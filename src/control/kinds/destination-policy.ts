// Weft's DestinationPolicy kind (weft.dev/v1alpha1): how clients talk to one Service —
// load balancing, connection pool, circuit breakers, outlier detection, active health
// checks, retry budget and connection timeouts. Every field maps 1:1 onto a field of
// Envoy's envoy.config.cluster.v3.Cluster (see docs/translation.md for the table), so the
// translation is mechanical and Envoy's docs describe the behaviour.

import { isPrime, MAX_MAGLEV_TABLE_SIZE } from '../../config/validate-lb.js';
import type { KindDefinition, Resource, ResourceIssue } from '../resource.js';
import { RULES } from './gateway-common.js';
import { DURATION_HINT, parseGatewayDuration } from './gateway-duration.js';
import { WEFT_API_VERSION } from './mesh-types.js';
import { readResourceSpec, type SpecReader } from './spec-reader.js';

export const LB_POLICIES = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'] as const;
export type LbPolicy = (typeof LB_POLICIES)[number];
export const LOCALITY_MODES = ['Weighted', 'ZoneAware'] as const;
export type LocalityMode = (typeof LOCALITY_MODES)[number];

/** One hash input (Envoy RouteAction.HashPolicy): exactly one of header, cookie, sourceIP. */
export interface HashInput {
  header?: { name: string };
  cookie?: { name: string; ttl?: string; path?: string };
  sourceIP?: boolean;
  /** Envoy `terminal`: stop at this input when it produced a hash. */
  terminal?: boolean;
}

export interface HealthCheck {
  timeout: string;
  interval: string;
  /** Default 3. */
  unhealthyThreshold?: number;
  /** Default 1. */
  healthyThreshold?: number;
  /** Random extra time added to each interval, up to this much. */
  intervalJitter?: string;
  http?: { path: string; host?: string; expectedStatuses?: Array<{ start: number; end: number }> };
  tcp?: Record<string, never>;
  grpc?: { serviceName?: string; authority?: string };
}

export interface DestinationPolicySpec {
  /** The Service (in the policy's namespace) this policy applies to; `port` limits it to one port. */
  targetRef: { group?: string; kind: 'Service'; name: string; port?: number };
  loadBalancer?: {
    policy?: LbPolicy;
    hash?: HashInput[];
    ringHash?: { minimumRingSize?: number; maximumRingSize?: number };
    leastRequest?: { choiceCount?: number };
    /** MAGLEV's lookup table size (a prime; Envoy's default 65537). */
    maglev?: { tableSize?: number };
    /** ROUND_ROBIN / LEAST_REQUEST: a new endpoint's weight ramps up over `window`. */
    slowStart?: { window: string; aggression?: number; minWeightPercent?: number };
    /** Percent of healthy endpoints below which the proxy balances over all of them (Envoy: 50). */
    healthyPanicThreshold?: number;
    /** Locality choice before the endpoint: by locality weight, or staying in the caller's zone. */
    locality?: { mode: LocalityMode; routingEnabledPercent?: number; minClusterSize?: number };
  };
  connectionPool?: { maxRequestsPerConnection?: number; perConnectionBufferLimitBytes?: number };
  circuitBreakers?: {
    maxConnections?: number;
    maxPendingRequests?: number;
    maxRequests?: number;
    maxRetries?: number;
  };
  outlierDetection?: {
    consecutive5xx?: number;
    consecutiveGatewayFailure?: number;
    consecutiveLocalOriginFailure?: number;
    interval?: string;
    baseEjectionTime?: string;
    maxEjectionTime?: string;
    maxEjectionPercent?: number;
    splitExternalLocalOriginErrors?: boolean;
    /** Ejects an endpoint whose success rate is `stdevFactor` deviations below the mean. */
    successRate?: {
      minimumHosts?: number;
      requestVolume?: number;
      stdevFactor?: number;
      enforcingPercent?: number;
    };
    /** Ejects an endpoint whose failure percentage is at least `thresholdPercent`. */
    failurePercentage?: {
      thresholdPercent?: number;
      minimumHosts?: number;
      requestVolume?: number;
      enforcingPercent?: number;
    };
  };
  healthChecks?: HealthCheck[];
  retryBudget?: { budgetPercent: number; minRetryConcurrency?: number };
  timeouts?: { connect?: string; idle?: string };
}

const UINT32_MAX = 0xffff_ffff;

export function validateDestinationPolicy(resource: Resource<unknown, unknown>): ResourceIssue[] {
  const issues: ResourceIssue[] = [];
  const spec = readResourceSpec(resource, issues);
  readTargetRef(spec);
  readLoadBalancer(spec);
  const pool = spec.object('connectionPool');
  if (pool !== null) {
    pool.integer('maxRequestsPerConnection', 1, UINT32_MAX);
    pool.integer('perConnectionBufferLimitBytes', 1, UINT32_MAX);
    pool.done();
  }
  const cb = spec.object('circuitBreakers');
  if (cb !== null) {
    for (const f of ['maxConnections', 'maxPendingRequests', 'maxRequests', 'maxRetries'])
      cb.integer(f, 0, UINT32_MAX);
    cb.done();
  }
  readOutlierDetection(spec);
  readHealthChecks(spec);
  const budget = spec.object('retryBudget');
  if (budget !== null) {
    const pct = budget.take('budgetPercent');
    if (pct === undefined) budget.issue('budgetPercent', 'is required');
    else if (typeof pct !== 'number' || !(pct >= 0 && pct <= 100))
      budget.issue('budgetPercent', 'must be a number from 0 to 100');
    budget.integer('minRetryConcurrency', 0, UINT32_MAX);
    budget.done();
  }
  const t = spec.object('timeouts');
  if (t !== null) {
    const connect = readDuration(t, 'connect');
    if (connect === 0) t.issue('connect', 'must be greater than 0');
    readDuration(t, 'idle');
    t.done();
  }
  spec.done();
  return issues;
}

function readTargetRef(spec: SpecReader): void {
  const ref = spec.object('targetRef', true);
  if (ref === null) return;
  const group = ref.string('group');
  if (group !== undefined && group !== '' && group !== 'weft.dev')
    ref.issue('group', `must be '' or 'weft.dev' (a Weft Service), got '${group}'`);
  const kind = ref.string('kind', { required: true });
  if (kind !== undefined && kind !== 'Service') ref.issue('kind', `must be 'Service', got '${kind}'`);
  ref.string('name', { required: true, maxLength: 63, pattern: RULES.namespace.pattern });
  ref.integer('port', 1, 65535);
  if (ref.has('namespace')) {
    ref.take('namespace');
    ref.issue('namespace', 'is not allowed: a DestinationPolicy applies to a Service in its own namespace');
  }
  ref.done();
}

function readLoadBalancer(spec: SpecReader): void {
  const lb = spec.object('loadBalancer');
  if (lb === null) return;
  const policy = lb.enumeration('policy', LB_POLICIES) ?? 'ROUND_ROBIN';
  const hashing = policy === 'RING_HASH' || policy === 'MAGLEV';
  const hash = lb.objectList('hash', { maxItems: 8 });
  if (hash.length > 0 && !hashing)
    lb.issue('hash', `only applies with policy RING_HASH or MAGLEV (policy is ${policy})`);
  for (const h of hash) {
    const set = ['header', 'cookie', 'sourceIP'].filter((f) => h.has(f));
    if (set.length !== 1)
      h.issue(null, `exactly one of header, cookie, sourceIP must be set (found ${set.length})`);
    const header = h.object('header');
    if (header !== null) {
      header.string('name', RULES.headerName);
      header.done();
    }
    const cookie = h.object('cookie');
    if (cookie !== null) {
      cookie.string('name', { required: true, maxLength: 256 });
      readDuration(cookie, 'ttl');
      const path = cookie.string('path');
      if (path !== undefined && !path.startsWith('/')) cookie.issue('path', "must start with '/'");
      cookie.done();
    }
    const sourceIp = h.boolean('sourceIP');
    if (sourceIp === false) h.issue('sourceIP', 'must be true when given');
    h.boolean('terminal');
    h.done();
  }
  const ring = lb.object('ringHash');
  if (ring !== null) {
    if (policy !== 'RING_HASH') ring.issue(null, `only applies with policy RING_HASH (policy is ${policy})`);
    // Envoy's RingHashLbConfig bounds: sizes up to 8M entries.
    const min = ring.integer('minimumRingSize', 1, 8_388_608);
    const max = ring.integer('maximumRingSize', 1, 8_388_608);
    if (min !== undefined && max !== undefined && min > max)
      ring.issue('minimumRingSize', 'must not be greater than maximumRingSize');
    ring.done();
  }
  const maglev = lb.object('maglev');
  if (maglev !== null) {
    if (policy !== 'MAGLEV') maglev.issue(null, `only applies with policy MAGLEV (policy is ${policy})`);
    const size = maglev.integer('tableSize', 2, MAX_MAGLEV_TABLE_SIZE);
    if (size !== undefined && !isPrime(size))
      maglev.issue('tableSize', `must be a prime number, got ${size}`);
    maglev.done();
  }
  const slow = lb.object('slowStart');
  if (slow !== null) {
    if (policy !== 'ROUND_ROBIN' && policy !== 'LEAST_REQUEST')
      slow.issue(null, `only applies with policy ROUND_ROBIN or LEAST_REQUEST (policy is ${policy})`);
    if (readDuration(slow, 'window', true) === 0) slow.issue('window', 'must be greater than 0');
    const aggression = slow.take('aggression');
    if (aggression !== undefined && !(typeof aggression === 'number' && aggression > 0 && aggression < 1e6))
      slow.issue('aggression', 'must be a number greater than 0 (1 = linear)');
    readPercent(slow, 'minWeightPercent');
    slow.done();
  }
  readPercent(lb, 'healthyPanicThreshold');
  const locality = lb.object('locality');
  if (locality !== null) {
    if (hashing) locality.issue(null, `does not apply with policy ${policy} (the hash picks the endpoint)`);
    const mode = locality.enumeration('mode', LOCALITY_MODES, true);
    const pct = readPercent(locality, 'routingEnabledPercent');
    const min = locality.integer('minClusterSize', 0, UINT32_MAX);
    if (mode === 'Weighted' && (pct !== undefined || min !== undefined))
      locality.issue(null, 'routingEnabledPercent and minClusterSize only apply with mode ZoneAware');
    locality.done();
  }
  const lr = lb.object('leastRequest');
  if (lr !== null) {
    if (policy !== 'LEAST_REQUEST')
      lr.issue(null, `only applies with policy LEAST_REQUEST (policy is ${policy})`);
    lr.integer('choiceCount', 2, UINT32_MAX);
    lr.done();
  }
  lb.done();
}

function readOutlierDetection(spec: SpecReader): void {
  const od = spec.object('outlierDetection');
  if (od === null) return;
  for (const f of ['consecutive5xx', 'consecutiveGatewayFailure', 'consecutiveLocalOriginFailure'])
    od.integer(f, 0, UINT32_MAX);
  for (const f of ['interval', 'baseEjectionTime', 'maxEjectionTime']) {
    if (readDuration(od, f) === 0) od.issue(f, 'must be greater than 0');
  }
  od.integer('maxEjectionPercent', 0, 100);
  od.boolean('splitExternalLocalOriginErrors');
  const sr = od.object('successRate');
  if (sr !== null) {
    sr.integer('minimumHosts', 0, UINT32_MAX);
    sr.integer('requestVolume', 0, UINT32_MAX);
    const factor = sr.take('stdevFactor');
    if (factor !== undefined && !(typeof factor === 'number' && factor > 0 && factor <= 1_000_000))
      sr.issue('stdevFactor', 'must be a number greater than 0 (Envoy: 1.9)');
    sr.integer('enforcingPercent', 0, 100);
    sr.done();
  }
  const fp = od.object('failurePercentage');
  if (fp !== null) {
    fp.integer('thresholdPercent', 0, 100);
    fp.integer('minimumHosts', 0, UINT32_MAX);
    fp.integer('requestVolume', 0, UINT32_MAX);
    fp.integer('enforcingPercent', 0, 100);
    fp.done();
  }
  od.done();
}

function readHealthChecks(spec: SpecReader): void {
  const checks = spec.objectList('healthChecks', { maxItems: 8 });
  for (const hc of checks) {
    for (const f of ['timeout', 'interval']) {
      const ms = readDuration(hc, f, true);
      if (ms === 0) hc.issue(f, 'must be greater than 0');
    }
    hc.integer('unhealthyThreshold', 1, UINT32_MAX);
    hc.integer('healthyThreshold', 1, UINT32_MAX);
    readDuration(hc, 'intervalJitter');
    const kinds = ['http', 'tcp', 'grpc'].filter((k) => hc.has(k));
    if (kinds.length !== 1)
      hc.issue(null, `exactly one of http, tcp, grpc must be set (found ${kinds.length})`);
    const http = hc.object('http');
    if (http !== null) {
      const path = http.string('path', { required: true });
      if (path !== undefined && !path.startsWith('/')) http.issue('path', "must start with '/'");
      http.string('host', RULES.preciseHostname);
      const ranges = http.objectList('expectedStatuses');
      for (const r of ranges) {
        // Envoy's Int64Range for expected_statuses: [start, end), within [100, 600).
        const start = r.integer('start', 100, 599, true);
        const end = r.integer('end', 101, 600, true);
        if (start !== undefined && end !== undefined && start >= end)
          r.issue('end', 'must be greater than start');
        r.done();
      }
      http.done();
    }
    const tcp = hc.object('tcp');
    tcp?.done();
    const grpc = hc.object('grpc');
    if (grpc !== null) {
      grpc.string('serviceName', { maxLength: 1024 });
      grpc.string('authority', RULES.preciseHostname);
      grpc.done();
    }
    hc.done();
  }
}

/** A percentage 0-100 (fractions allowed, as Envoy's Percent is a double). */
function readPercent(r: SpecReader, field: string): number | undefined {
  const v = r.take(field);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v >= 0 && v <= 100)) {
    r.issue(field, 'must be a number from 0 to 100');
    return undefined;
  }
  return v;
}

function readDuration(r: SpecReader, field: string, required = false): number | undefined {
  const text = r.string(field, { required });
  if (text === undefined) return undefined;
  const ms = parseGatewayDuration(text);
  if (ms === null) r.issue(field, `'${text}' is not ${DURATION_HINT}`);
  return ms ?? undefined;
}

export function createDestinationPolicyKind(): KindDefinition {
  return {
    apiVersion: WEFT_API_VERSION,
    kind: 'DestinationPolicy',
    plural: 'destinationpolicies',
    aliases: ['destinationpolicy', 'dp'],
    namespaced: true,
    validate: validateDestinationPolicy,
  };
}
