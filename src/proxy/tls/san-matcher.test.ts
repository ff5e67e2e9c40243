// SAN extraction from Node's subjectAltName text and matching by type, including DNS
// wildcard certificates against exact matchers.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SanMatchers, subjectAltNames } from './san-matcher.js';

describe('subjectAltNames', () => {
  it('parses every type, quoted values included', () => {
    assert.deepEqual(
      subjectAltNames(
        'DNS:a.test, URI:spiffe://td/ns/x/sa/y, IP Address:10.0.0.1, email:a@b.test, DNS:"odd, name"',
      ),
      [
        { type: 'DNS', value: 'a.test' },
        { type: 'URI', value: 'spiffe://td/ns/x/sa/y' },
        { type: 'IP_ADDRESS', value: '10.0.0.1' },
        { type: 'EMAIL', value: 'a@b.test' },
        { type: 'DNS', value: 'odd, name' },
      ],
    );
    assert.deepEqual(subjectAltNames(undefined), []);
  });
});

describe('SanMatchers', () => {
  it('matches by type; any matcher suffices; no matchers accept anything', () => {
    const m = new SanMatchers([
      { sanType: 'URI', matcher: { kind: 'prefix', value: 'spiffe://weft.test/', ignoreCase: false } },
      { sanType: 'DNS', matcher: { kind: 'exact', value: 'api.example.com', ignoreCase: false } },
    ]);
    assert.equal(m.matches([{ type: 'URI', value: 'spiffe://weft.test/ns/a' }]), true);
    assert.equal(m.matches([{ type: 'DNS', value: 'spiffe://weft.test/ns/a' }]), false, 'type must agree');
    assert.equal(
      m.matches([{ type: 'DNS', value: '*.example.com' }]),
      true,
      'wildcard SAN covers the exact name',
    );
    assert.equal(m.matches([{ type: 'DNS', value: '*.other.com' }]), false);
    assert.equal(m.matches([]), false);
    assert.equal(new SanMatchers([]).matches([]), true);
  });
});
