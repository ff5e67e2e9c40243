// A host's health flags (Envoy's Host::HealthFlag): why a host is out of rotation. A host
// is healthy when no flag is set; load balancers read only the derived `host.healthy`.
// Each source owns its flag: EDS `health_status` sets FAILED_EDS_HEALTH, active health
// checking FAILED_ACTIVE_HC (and PENDING_ACTIVE_HC until a host's first check finishes),
// outlier detection FAILED_OUTLIER_CHECK.
// https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--clusters

export const HealthFlag = {
  FailedActiveHc: 1,
  FailedOutlierCheck: 2,
  FailedEdsHealth: 4,
  PendingActiveHc: 8,
} as const;

/** Flags that take a host out of rotation (PENDING_ACTIVE_HC only marks the first check as outstanding). */
export const UNHEALTHY_FLAGS =
  HealthFlag.FailedActiveHc | HealthFlag.FailedOutlierCheck | HealthFlag.FailedEdsHealth;

/** Envoy's /clusters text for a host's flags: `healthy`, or `/failed_active_hc/failed_outlier_check`... */
export function formatHealthFlags(flags: number): string {
  if (flags === 0) return 'healthy';
  let s = '';
  if (flags & HealthFlag.FailedActiveHc) s += '/failed_active_hc';
  if (flags & HealthFlag.FailedOutlierCheck) s += '/failed_outlier_check';
  if (flags & HealthFlag.FailedEdsHealth) s += '/failed_eds_health';
  if (flags & HealthFlag.PendingActiveHc) s += '/pending_active_hc';
  return s;
}
