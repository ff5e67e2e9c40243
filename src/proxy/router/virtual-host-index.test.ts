// Virtual host selection: Envoy's domain precedence (exact > longest suffix wildcard >
// longest prefix wildcard > "*"), case-insensitivity, and Weft's port handling.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deps, req, routeConfig, seededRandom, vhost } from './route-fixtures.js';
import { compileRouteTable } from './route-table.js';
import { findPortStart, VirtualHostIndex } from './virtual-host-index.js';

function selectVhost(config: ReturnType<typeof routeConfig>, authority: string): string | null {
  const table = compileRouteTable(config, deps());
  return table.select(req(authority))?.virtualHostName ?? null;
}

test('domain precedence across the four kinds (no domain names a port)', () => {
  const config = routeConfig([
    vhost('prefix-short', ['api.*']),
    vhost('suffix-short', ['*.example.com']),
    vhost('exact', ['api.example.com']),
    vhost('prefix-long', ['api.example.*']),
    vhost('suffix-long', ['*.api.example.com']),
    vhost('default', ['*']),
  ]);
  const cases: Array<[string, string]> = [
    ['api.example.com', 'exact'],
    ['API.Example.COM', 'exact'],
    ['api.example.com:8080', 'exact'],
    ['v1.api.example.com', 'suffix-long'],
    ['v1.api.example.com:9000', 'suffix-long'],
    ['www.example.com', 'suffix-short'],
    ['api.example.org', 'prefix-long'],
    ['api.example.com.evil', 'prefix-long'],
    ['api.foo', 'prefix-short'],
    ['example.com', 'default'],
    // A wildcard stands for at least one character.
    ['.example.com', 'default'],
    ['api.', 'default'],
    ['', 'default'],
    ['[::1]:80', 'default'],
    ['other.org', 'default'],
  ];
  for (const [host, expected] of cases) {
    assert.equal(selectVhost(config, host), expected, `host ${JSON.stringify(host)}`);
  }
});

test('domains with ports: each kind tries the full authority, then without port', () => {
  const config = routeConfig([
    vhost('exact', ['a.com']),
    vhost('exact-port', ['a.com:8080']),
    vhost('exact-c', ['c.b.com']),
    vhost('suffix', ['*.b.com']),
    vhost('suffix-port', ['*.b.com:9090']),
    vhost('default', ['*']),
  ]);
  const cases: Array<[string, string]> = [
    ['a.com:8080', 'exact-port'],
    ['A.COM:8080', 'exact-port'],
    ['a.com:9999', 'exact'],
    ['a.com', 'exact'],
    ['x.b.com:9090', 'suffix-port'],
    ['x.b.com:1', 'suffix'],
    ['x.b.com', 'suffix'],
    // Kind order still rules: an exact domain beats a wildcard naming the port.
    ['c.b.com:9090', 'exact-c'],
    ['zzz:8080', 'default'],
  ];
  for (const [host, expected] of cases) {
    assert.equal(selectVhost(config, host), expected, `host ${JSON.stringify(host)}`);
  }
});

test('no matching virtual host and no "*" → no route', () => {
  const config = routeConfig([vhost('only', ['only.example.com'])]);
  assert.equal(selectVhost(config, 'other.example.com'), null);
  assert.equal(selectVhost(config, 'only.example.com'), 'only');
});

test('findPortStart follows RFC 3986 host syntax', () => {
  assert.equal(findPortStart('a.com:80'), 5);
  assert.equal(findPortStart('a.com:'), 5);
  assert.equal(findPortStart('a.com'), -1);
  assert.equal(findPortStart('[::1]'), -1);
  assert.equal(findPortStart('[::1]:443'), 5);
  assert.equal(findPortStart('a.com:http'), -1);
  assert.equal(findPortStart('[::1]:8a'), -1);
  assert.equal(findPortStart('a:b:80'), 3);
  assert.equal(findPortStart(':80'), 0);
  assert.equal(findPortStart('8080'), -1);
  assert.equal(findPortStart(''), -1);
});

// Property check against a naive reference: rank every domain of every vhost.
function reference(vhosts: Array<{ name: string; domains: string[] }>, authority: string): string | null {
  const host = authority.toLowerCase();
  const p = findPortStart(host);
  const anyPort = vhosts.some((v) => v.domains.some((d) => d.includes(':')));
  const candidates = p < 0 ? [host] : anyPort ? [host, host.slice(0, p)] : [host.slice(0, p)];
  const kinds: Array<(d: string, h: string) => number> = [
    (d, h) => (!d.includes('*') && d === h ? d.length : -1),
    (d, h) =>
      d.startsWith('*') && d !== '*' && h.length > d.length - 1 && h.endsWith(d.slice(1)) ? d.length : -1,
    (d, h) =>
      d.endsWith('*') && d !== '*' && h.length > d.length - 1 && h.startsWith(d.slice(0, -1)) ? d.length : -1,
  ];
  for (const kind of kinds) {
    for (const h of candidates) {
      let best: string | null = null;
      let bestLen = -1;
      for (const v of vhosts) {
        for (const d of v.domains) {
          const len = kind(d, h);
          if (len > bestLen) {
            best = v.name;
            bestLen = len;
          }
        }
      }
      if (best !== null) return best;
    }
  }
  return vhosts.find((v) => v.domains.includes('*'))?.name ?? null;
}

test('property: index agrees with a naive reference on random domains and hosts', () => {
  const rnd = seededRandom(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const labels = ['a', 'b', 'ab', 'ba', 'x'];
  const tlds = ['com', 'io'];
  const ports = ['', '', ':80', ':8080'];
  const name = () =>
    rnd() < 0.5 ? `${pick(labels)}.${pick(tlds)}` : `${pick(labels)}.${pick(labels)}.${pick(tlds)}`;
  for (let round = 0; round < 60; round++) {
    const used = new Set<string>();
    const vhosts: Array<{ name: string; domains: string[] }> = [];
    const withPorts = round % 2 === 1;
    for (let v = 0; v < 6; v++) {
      const domains: string[] = [];
      for (let k = 0; k < 3; k++) {
        const r = rnd();
        const port = withPorts ? pick(ports) : '';
        let d: string;
        if (r < 0.35) d = name() + port;
        else if (r < 0.65) d = `*${name().slice(Math.floor(rnd() * 3))}${port}`;
        else if (r < 0.95) d = `${name().slice(0, 1 + Math.floor(rnd() * 4))}*`;
        else d = '*';
        if (!used.has(d)) {
          used.add(d);
          domains.push(d);
        }
      }
      vhosts.push({ name: `vh${v}`, domains });
    }
    const index = new VirtualHostIndex(vhosts.map((v) => ({ domains: v.domains, value: v.name })));
    for (let i = 0; i < 40; i++) {
      const host = name() + pick(ports);
      const authority = rnd() < 0.2 ? host.toUpperCase() : host;
      assert.equal(index.find(authority), reference(vhosts, authority), `round ${round} host ${authority}`);
    }
  }
});
