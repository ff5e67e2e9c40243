// Filter chain selection in Envoy's order, one field at a time: a specific match beats a
// chain that does not constrain the field, longest prefixes and wildcard suffixes win,
// and the default chain catches what nothing matches.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FilterChainMatch } from '../../config/model.js';
import { parseIp } from '../../core/ip-address.js';
import { type ConnectionFacts, FilterChainSelector } from './filter-chain-selector.js';

const ANY: FilterChainMatch = {
  destinationPort: null,
  prefixRanges: [],
  serverNames: [],
  transportProtocol: '',
  applicationProtocols: [],
  sourcePrefixRanges: [],
  sourcePorts: [],
};

function facts(
  f: Partial<Omit<ConnectionFacts, 'localIp' | 'remoteIp'>> & { local?: string; remote?: string } = {},
): ConnectionFacts {
  return {
    localIp: parseIp(f.local ?? '127.0.0.1'),
    localPort: f.localPort ?? 443,
    remoteIp: parseIp(f.remote ?? '127.0.0.1'),
    remotePort: f.remotePort ?? 50000,
    serverName: f.serverName ?? '',
    transportProtocol: f.transportProtocol ?? 'tls',
    alpn: f.alpn ?? [],
  };
}

function selector(chains: Record<string, Partial<FilterChainMatch>>, def: string | null = null) {
  return new FilterChainSelector(
    Object.entries(chains).map(([value, m]) => ({ match: { ...ANY, ...m }, value })),
    def,
  );
}

describe('FilterChainSelector', () => {
  it('matches server names exactly before the longest wildcard, then unconstrained chains', () => {
    const s = selector({
      exact: { serverNames: ['api.example.com'] },
      wide: { serverNames: ['*.example.com'] },
      narrow: { serverNames: ['*.eu.example.com'] },
      none: {},
    });
    assert.equal(s.select(facts({ serverName: 'api.example.com' })), 'exact');
    assert.equal(s.select(facts({ serverName: 'x.eu.example.com' })), 'narrow');
    assert.equal(s.select(facts({ serverName: 'a.b.example.com' })), 'wide');
    assert.equal(s.select(facts({ serverName: 'example.com' })), 'none');
    assert.equal(s.select(facts({ serverName: '' })), 'none');
  });

  it('checks destination port before server name (Envoy order)', () => {
    const s = selector({ port8443: { destinationPort: 8443 }, sni: { serverNames: ['a.test'] } });
    // The port-specific chain wins even though the other names the server.
    assert.equal(s.select(facts({ localPort: 8443, serverName: 'a.test' })), 'port8443');
    assert.equal(s.select(facts({ localPort: 443, serverName: 'a.test' })), 'sni');
    assert.equal(s.select(facts({ localPort: 443, serverName: 'b.test' })), null);
  });

  it('uses the longest destination and source prefixes, IPv4-mapped addresses as IPv4', () => {
    const s = selector({
      wide: { sourcePrefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }] },
      narrow: { sourcePrefixRanges: [{ addressPrefix: '10.1.0.0', prefixLen: 16 }] },
      v6: { sourcePrefixRanges: [{ addressPrefix: 'fd00::', prefixLen: 8 }] },
    });
    assert.equal(s.select(facts({ remote: '10.1.2.3' })), 'narrow');
    assert.equal(s.select(facts({ remote: '::ffff:10.2.0.1' })), 'wide');
    assert.equal(s.select(facts({ remote: 'fd12::1' })), 'v6');
    assert.equal(s.select(facts({ remote: '192.168.0.1' })), null);
    const d = selector({ lo: { prefixRanges: [{ addressPrefix: '127.0.0.0', prefixLen: 8 }] }, other: {} });
    assert.equal(d.select(facts({ local: '127.0.0.2' })), 'lo');
    assert.equal(d.select(facts({ local: '10.0.0.1' })), 'other');
  });

  it('then transport protocol, application protocols and source ports; default chain last', () => {
    const s = selector(
      {
        tlsH2: { transportProtocol: 'tls', applicationProtocols: ['h2'] },
        tls: { transportProtocol: 'tls' },
        raw: { transportProtocol: 'raw_buffer', sourcePorts: [40000] },
      },
      'default',
    );
    assert.equal(s.select(facts({ alpn: ['h2', 'http/1.1'] })), 'tlsH2');
    assert.equal(s.select(facts({ alpn: ['http/1.1'] })), 'tls');
    assert.equal(s.select(facts({ transportProtocol: 'raw_buffer', remotePort: 40000 })), 'raw');
    assert.equal(s.select(facts({ transportProtocol: 'raw_buffer', remotePort: 40001 })), 'default');
  });
});
