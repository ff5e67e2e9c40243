// Validation of filter chain selection on a listener: `filter_chain_match`
// (envoy.config.listener.v3.FilterChainMatch), `listener_filters` (only
// envoy.filters.listener.tls_inspector) with `listener_filters_timeout` and
// `continue_on_listener_filters_timeout`, and Envoy's load-time checks across chains: two
// chains with the same matching criteria are rejected, and matching on what only the TLS
// inspector can see (server_names, transport_protocol, application_protocols) needs it.

import { isIP } from 'node:net';
import { parseIp } from '../core/ip-address.js';
import { type FieldReader, readMessage } from './fields.js';
import type { CidrRange, FilterChain, FilterChainMatch, ListenerFilters } from './model.js';

export const TLS_INSPECTOR_NAME = 'envoy.filters.listener.tls_inspector';
export const TLS_INSPECTOR_TYPE =
  'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
/** Envoy's listener_filters_timeout default. */
const DEFAULT_LISTENER_FILTERS_TIMEOUT_MS = 15_000;
/** Above this many combinations per chain the duplicate check is skipped (never in practice). */
const MAX_COMBINATIONS = 100_000;

export function readFilterChainMatch(r: FieldReader): FilterChainMatch {
  const destinationPort = r.optionalUint32('destination_port', 1, 65535);
  const prefixRanges = readCidrList(r, 'prefix_ranges');
  const serverNames = r.stringList('server_names').map((n) => n.toLowerCase());
  serverNames.forEach((n, i) => {
    const star = n.indexOf('*');
    if (n === '') r.issue(`server_names[${i}]`, 'must not be empty');
    else if (star >= 0 && (star !== 0 || !n.startsWith('*.') || n.indexOf('*', 1) >= 0 || n.length < 3))
      r.issue(
        `server_names[${i}]`,
        `partial wildcards are not supported in '${n}'; use an exact name or '*.suffix'`,
      );
  });
  const transportProtocol = r.string('transport_protocol') ?? '';
  if (transportProtocol !== '' && transportProtocol !== 'tls' && transportProtocol !== 'raw_buffer')
    r.issue('transport_protocol', `unsupported '${transportProtocol}'; supported: tls, raw_buffer`);
  const applicationProtocols = r.stringList('application_protocols');
  const sourcePrefixRanges = readCidrList(r, 'source_prefix_ranges');
  const ports = r.list('source_ports');
  const sourcePorts: number[] = [];
  ports.forEach((p, i) => {
    const n = typeof p === 'number' ? p : typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      r.issue(`source_ports[${i}]`, 'must be a port from 1 to 65535');
    else sourcePorts.push(n);
  });
  // source_type, direct_source_prefix_ranges, address_suffix... are not read: done() refuses them.
  return {
    destinationPort,
    prefixRanges,
    serverNames,
    transportProtocol,
    applicationProtocols,
    sourcePrefixRanges,
    sourcePorts,
  };
}

/** A list of `envoy.config.core.v3.CidrRange` at `parent.name`, each checked. */
export function readCidrList(parent: FieldReader, name: string): CidrRange[] {
  const items = parent.list(name);
  const out: CidrRange[] = [];
  for (let i = 0; i < items.length; i++) {
    const r = readMessage(items[i], `${parent.at(name)}[${i}]`, parent.issues);
    const addressPrefix = r.requiredString('address_prefix');
    const family = isIP(addressPrefix);
    const max = family === 6 && parseIp(addressPrefix)?.length === 16 ? 128 : 32;
    const prefixLen = r.uint32('prefix_len', 0, 0, max);
    if (addressPrefix !== '' && family === 0)
      r.issue('address_prefix', `'${addressPrefix}' is not an IP address`);
    r.done();
    out.push({ addressPrefix, prefixLen });
  }
  return out;
}

/** `listener_filters` and their timeout; null when the listener has none. */
export function readListenerFilters(r: FieldReader): ListenerFilters | null {
  const items = r.list('listener_filters');
  const timeoutMs = r.duration('listener_filters_timeout', DEFAULT_LISTENER_FILTERS_TIMEOUT_MS, true);
  const continueOnTimeout = r.boolean('continue_on_listener_filters_timeout', false);
  let tlsInspector = false;
  for (let i = 0; i < items.length; i++) {
    const f = readMessage(items[i], `${r.at('listener_filters')}[${i}]`, r.issues);
    const name = f.string('name') ?? '';
    const tc = f.message('typed_config');
    const typeUrl = tc?.requiredString('@type') ?? '';
    const isInspector = typeUrl === TLS_INSPECTOR_TYPE || (typeUrl === '' && name === TLS_INSPECTOR_NAME);
    if (!isInspector) {
      const what = typeUrl !== '' ? `type '${typeUrl}'` : `'${name}'`;
      f.issue(
        typeUrl !== '' ? 'typed_config.@type' : 'name',
        `unsupported listener filter ${what}; supported: ${TLS_INSPECTOR_NAME}`,
      );
      tc?.ignoreRest();
    } else if (tlsInspector) {
      f.issue(null, 'tls_inspector is given twice');
    }
    // TlsInspector options (enable_ja3_fingerprinting...) are not read: done() refuses them.
    tlsInspector ||= isInspector;
    f.done();
  }
  if (items.length === 0) return null;
  return { tlsInspector, timeoutMs, continueOnTimeout };
}

/** Envoy's load-time checks across the chains of one listener. */
export function checkFilterChainMatches(
  chains: readonly FilterChain[],
  listenerFilters: ListenerFilters | null,
  r: FieldReader,
): void {
  const inspector = listenerFilters?.tlsInspector === true;
  const seen = new Map<string, number>();
  chains.forEach((chain, ci) => {
    const m = chain.match;
    const at = `filter_chains[${ci}].filter_chain_match`;
    if (m !== undefined && !inspector) {
      for (const field of ['server_names', 'transport_protocol', 'application_protocols'] as const) {
        const used =
          field === 'transport_protocol'
            ? m.transportProtocol !== ''
            : (field === 'server_names' ? m.serverNames : m.applicationProtocols).length > 0;
        if (used)
          r.issue(
            `${at}.${field}`,
            `needs the ${TLS_INSPECTOR_NAME} listener filter (listener_filters) to see it`,
          );
      }
    }
    for (const key of matchKeys(m)) {
      const other = seen.get(key);
      if (other !== undefined && other !== ci) {
        r.issue(
          `filter_chains[${ci}]`,
          `has the same filter_chain_match as filter_chains[${other}]; Envoy rejects chains that match the same connections`,
        );
        return;
      }
      seen.set(key, ci);
    }
  });
}

/** Every combination of one value per matching field (empty = '*'): two chains sharing one are duplicates. */
function matchKeys(m: FilterChainMatch | undefined): string[] {
  const one = <T>(v: readonly T[]): string[] => (v.length === 0 ? ['*'] : v.map(String));
  const dims =
    m === undefined
      ? [['*'], ['*'], ['*'], ['*'], ['*'], ['*'], ['*']]
      : [
          [m.destinationPort === null ? '*' : String(m.destinationPort)],
          one(m.prefixRanges.map((c) => `${c.addressPrefix}/${c.prefixLen}`)),
          one(m.serverNames),
          [m.transportProtocol === '' ? '*' : m.transportProtocol],
          one(m.applicationProtocols),
          one(m.sourcePrefixRanges.map((c) => `${c.addressPrefix}/${c.prefixLen}`)),
          one(m.sourcePorts),
        ];
  let total = 1;
  for (const d of dims) total *= d.length;
  if (total > MAX_COMBINATIONS) return [];
  let keys = [''];
  for (const d of dims) {
    const next: string[] = [];
    for (const k of keys) for (const v of d) next.push(`${k}|${v}`);
    keys = next;
  }
  return keys;
}
