// Matching a peer certificate's subject alternative names against
// `match_typed_subject_alt_names` (CertificateValidationContext): the certificate passes
// when some SAN of a matcher's type satisfies that matcher. As in Envoy, a DNS SAN that is
// a wildcard (`*.example.com`) satisfies an `exact` matcher for a name it covers.

import type { SanMatcher } from '../../config/model.js';
import { CompiledStringMatcher } from '../router/string-matcher.js';

export type SanType = SanMatcher['sanType'];

export interface SubjectAltName {
  readonly type: SanType;
  readonly value: string;
}

const NODE_TYPES: Readonly<Record<string, SanType>> = {
  DNS: 'DNS',
  URI: 'URI',
  email: 'EMAIL',
  'IP Address': 'IP_ADDRESS',
};

/**
 * The SANs of a certificate, from Node's `subjectAltName` text ("DNS:a, URI:spiffe://x,
 * IP Address:1.2.3.4"; values with special characters are JSON-quoted).
 */
export function subjectAltNames(text: string | undefined): SubjectAltName[] {
  if (text === undefined || text === '') return [];
  const out: SubjectAltName[] = [];
  const re = /(DNS|URI|email|IP Address|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(text); m !== null && m[0] !== ''; m = re.exec(text)) {
    const type = NODE_TYPES[m[1]];
    if (type === undefined) continue;
    let value = m[2];
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    out.push({ type, value });
  }
  return out;
}

interface Compiled {
  readonly type: SanType;
  readonly matcher: CompiledStringMatcher;
  /** For DNS exact matchers: the name, lower-cased, for wildcard SANs. */
  readonly exactDns: string | null;
}

export class SanMatchers {
  private readonly list: readonly Compiled[];

  constructor(config: readonly SanMatcher[]) {
    this.list = config.map((m) => ({
      type: m.sanType,
      matcher: new CompiledStringMatcher(m.matcher),
      exactDns: m.sanType === 'DNS' && m.matcher.kind === 'exact' ? m.matcher.value.toLowerCase() : null,
    }));
  }

  get isEmpty(): boolean {
    return this.list.length === 0;
  }

  /** True when no matcher is configured, or some SAN satisfies some matcher. */
  matches(sans: readonly SubjectAltName[]): boolean {
    if (this.list.length === 0) return true;
    for (const m of this.list) {
      for (const san of sans) {
        if (san.type !== m.type) continue;
        if (m.matcher.match(san.value)) return true;
        if (m.exactDns !== null && dnsWildcardCovers(san.value.toLowerCase(), m.exactDns)) return true;
      }
    }
    return false;
  }
}

/** `*.example.com` covers `a.example.com` (one label), RFC 6125 §6.4.3. */
function dnsWildcardCovers(san: string, name: string): boolean {
  if (!san.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot) === san.slice(1);
}
