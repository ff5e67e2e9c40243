// Validation of RouteAction `hash_policy` (envoy.config.route.v3.RouteAction.HashPolicy):
// header, cookie, connection_properties.source_ip and query_parameter, each with
// `terminal`. filter_state and header regex_rewrite are refused.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routeaction-hashpolicy

import { type FieldReader, readMessage } from './fields.js';
import type { HashPolicy } from './model.js';

const KINDS = ['header', 'cookie', 'connection_properties', 'query_parameter', 'filter_state'] as const;
const PSEUDO_HEADERS = new Set([':authority', ':path', ':method']);

/** The route's hash policies, or null when `hash_policy` is absent or empty. */
export function readHashPolicies(r: FieldReader): HashPolicy[] | null {
  const items = r.list('hash_policy');
  const out: HashPolicy[] = [];
  for (let i = 0; i < items.length; i++) {
    const h = readMessage(items[i], `${r.at('hash_policy')}[${i}]`, r.issues);
    const policy = readOne(h);
    const terminal = h.boolean('terminal', false);
    h.done();
    if (policy !== null) out.push({ ...policy, terminal } as HashPolicy);
  }
  return out.length === 0 ? null : out;
}

type Unterminated = { kind: HashPolicy['kind'] } & Record<string, unknown>;

function readOne(h: FieldReader): Unterminated | null {
  const which = h.oneOf(KINDS, KINDS.join(', '));
  if (which === null) {
    h.issue(null, `one of ${KINDS.join(', ')} is required`);
    return null;
  }
  const m = h.requiredMessage(which);
  switch (which) {
    case 'header': {
      const headerName = m.requiredString('header_name').toLowerCase();
      if (headerName.startsWith(':') && !PSEUDO_HEADERS.has(headerName))
        m.issue(
          'header_name',
          `pseudo-header '${headerName}' cannot be hashed; use :authority, :path or :method`,
        );
      return { kind: 'header', headerName };
    }
    case 'cookie': {
      const name = m.requiredString('name');
      const ttlMs = m.duration('ttl', null);
      const path = m.string('path') ?? '';
      return { kind: 'cookie', name, ttlMs, path };
    }
    case 'connection_properties':
      if (!m.boolean('source_ip', false)) m.issue('source_ip', 'must be true (the only connection property)');
      return { kind: 'source_ip' };
    case 'query_parameter':
      return { kind: 'query_parameter', name: m.requiredString('name') };
    default:
      h.issue(which, 'is not supported by Weft');
      m.ignoreRest();
      return null;
  }
}
