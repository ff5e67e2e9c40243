// Validation of `RouteAction.request_mirror_policies` (envoy.config.route.v3.RouteAction.RequestMirrorPolicy):
// which cluster gets a shadow copy of the route's requests (`cluster`, or `cluster_header`
// naming it per request), how many (`runtime_fraction.default_value`, 100% when absent),
// and whether the `-shadow` host suffix is appended.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-msg-config-route-v3-routeaction-requestmirrorpolicy

import { type FieldReader, readMessage } from './fields.js';
import type { FractionalPercent, RequestMirrorPolicy } from './model.js';
import { readPercentage } from './validate-fault-filter.js';
import type { ClusterRef } from './validation-context.js';

const ALL: FractionalPercent = { numerator: 100, denominator: 100 };
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** Reads `request_mirror_policies` of a RouteAction; null when absent or empty. */
export function readRequestMirrorPolicies(r: FieldReader, refs: ClusterRef[]): RequestMirrorPolicy[] | null {
  const items = r.list('request_mirror_policies');
  if (items.length === 0) return null;
  const out: RequestMirrorPolicy[] = [];
  for (let i = 0; i < items.length; i++) {
    const m = readMessage(items[i], `${r.at('request_mirror_policies')}[${i}]`, r.issues);
    const which = m.oneOf(['cluster', 'cluster_header'], 'cluster, cluster_header');
    let cluster = '';
    let clusterHeader = '';
    if (which === 'cluster') {
      cluster = m.requiredString('cluster');
      if (cluster !== '') refs.push({ name: cluster, path: m.at('cluster') });
    } else if (which === 'cluster_header') {
      clusterHeader = (m.string('cluster_header') ?? '').toLowerCase();
      if (!HEADER_NAME.test(clusterHeader)) m.issue('cluster_header', 'must be a valid header name');
    } else {
      m.issue(null, 'one of cluster or cluster_header is required');
    }
    m.ignore('cluster');
    m.ignore('cluster_header');
    let fraction = ALL;
    const rf = m.message('runtime_fraction');
    if (rf !== null) {
      fraction = readPercentage(rf, 'default_value');
      // Weft has no runtime layer: the key is accepted and default_value always applies.
      rf.string('runtime_key');
    }
    // Weft has no tracing yet: trace_sampled changes nothing.
    m.boolean('trace_sampled', true);
    const disableShadowHostSuffixAppend = m.boolean('disable_shadow_host_suffix_append', false);
    m.done();
    out.push({ cluster, clusterHeader, fraction, disableShadowHostSuffixAppend });
  }
  return out;
}
