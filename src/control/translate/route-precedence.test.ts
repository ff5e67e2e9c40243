// Gateway API match precedence, criterion by criterion, including the age and name ties.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMeshFixture } from './mesh-fixture.js';
import { orderGrpcMatches, orderHttpMatches } from './route-precedence.js';

test('HTTPRoute: exact > regex > longest prefix > method > headers > query params > age > name > rule order', () => {
  const f = createMeshFixture();
  const older = f.httpRoute('zeta', {
    rules: [
      { matches: [{ path: { value: '/a' } }] },
      { matches: [{ path: { value: '/a' }, queryParams: [{ name: 'q', value: '1' }] }] },
      { matches: [{ path: { value: '/a' }, headers: [{ name: 'h', value: '1' }] }] },
      { matches: [{ path: { value: '/a' }, method: 'GET' }] },
      { matches: [{ path: { value: '/a/b/' } }] },
      { matches: [{ path: { type: 'RegularExpression', value: '/r.*' } }] },
      { matches: [{ path: { type: 'Exact', value: '/a' } }] },
    ],
  });
  // Same timestamp as `alpha` below, so namespace/name decides between them.
  const ts = '2027-01-01T00:00:00Z';
  const newerB = f.httpRoute('beta', { rules: [{ matches: [{ path: { value: '/a' } }] }, {}] }, 'default', {
    creationTimestamp: ts,
  });
  const newerA = f.httpRoute('alpha', { rules: [{ matches: [{ path: { value: '/a' } }] }] }, 'default', {
    creationTimestamp: ts,
  });
  const order = orderHttpMatches([newerB, newerA, older]).map(
    (e) => `${e.route.metadata.name}:${e.ruleIndex}`,
  );
  assert.deepEqual(order, [
    'zeta:6', // Exact
    'zeta:5', // RegularExpression
    'zeta:4', // longest prefix (/a/b/ counts as /a/b)
    'zeta:3', // method
    'zeta:2', // header
    'zeta:1', // query param
    'zeta:0', // oldest route
    'alpha:0', // same age: namespace/name alphabetical
    'beta:0',
    'beta:1', // a rule without matches is PathPrefix "/"
  ]);
});

test('GRPCRoute: longest service, then method, then headers', () => {
  const f = createMeshFixture();
  const r = f.grpcRoute('g', {
    rules: [
      { matches: [{ method: { method: 'Get' } }] },
      { matches: [{ method: { service: 'a.B' } }] },
      { matches: [{ method: { service: 'a.B', method: 'Get' } }] },
      { matches: [{ method: { service: 'a.B', method: 'Get' }, headers: [{ name: 'x', value: 'y' }] }] },
      { matches: [{ method: { service: 'a.Longer' } }] },
    ],
  });
  assert.deepEqual(
    orderGrpcMatches([r]).map((e) => e.ruleIndex),
    [4, 3, 2, 1, 0],
  );
});
