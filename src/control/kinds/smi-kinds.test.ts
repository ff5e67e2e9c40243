// SMI TrafficSplit, HTTPRouteGroup and TCPRoute validation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../resource.js';
import { validateHttpRouteGroup } from './http-route-group.js';
import { validateTcpRoute } from './tcp-route.js';
import { validateTrafficSplit } from './traffic-split.js';

function res(spec: unknown): Resource<unknown, unknown> {
  return { apiVersion: 'x', kind: 'x', metadata: { name: 'n' }, spec };
}

test('TrafficSplit: valid split passes; bad backends are reported by path', () => {
  assert.deepEqual(
    validateTrafficSplit(
      res({
        service: 'web',
        backends: [
          { service: 'web-v1', weight: 80 },
          { service: 'web-v2', weight: 20 },
        ],
      }),
    ),
    [],
  );
  const issues = validateTrafficSplit(
    res({
      backends: [
        { service: 'a', weight: 0 },
        { service: 'a', weight: 0 },
        { service: 'B_', weight: 1.5 },
      ],
      matches: [{ kind: 'HTTPRoute', name: 'x' }],
    }),
  );
  const by = Object.fromEntries(issues.map((i) => [i.path, i.message]));
  assert.equal(by['spec.service'], 'is required');
  assert.match(by['spec.backends[1].service'], /already a backend at backends\[0\]/);
  assert.match(by['spec.backends[2].service'], /not a valid namespace/);
  assert.match(by['spec.backends[2].weight'], /expected an integer/);
  assert.match(by['spec.matches[0].kind'], /HTTPRouteGroup, TCPRoute/);
  assert.match(by['spec.backends'], /must not all be zero/);
});

test('HTTPRouteGroup: methods, regexes and unique names', () => {
  assert.deepEqual(
    validateHttpRouteGroup(
      res({
        matches: [{ name: 'api', pathRegex: '/api', methods: ['GET', '*'], headers: { 'x-user': 'a.*' } }],
      }),
    ),
    [],
  );
  const issues = validateHttpRouteGroup(
    res({
      matches: [
        { name: 'a', methods: ['get'], pathRegex: '(a' },
        { name: 'a', headers: { 'x-y': 1 } },
      ],
    }),
  );
  const by = Object.fromEntries(issues.map((i) => [i.path, i.message]));
  assert.match(by['spec.matches[0].methods[0]'], /unsupported method "get"/);
  assert.match(by['spec.matches[0].pathRegex'], /regex/);
  assert.match(by['spec.matches[1].name'], /already used by matches\[0\]/);
  assert.match(by['spec.matches[1].headers.x-y'], /expected a string/);
});

test('TCPRoute: ports must be valid and unique', () => {
  assert.deepEqual(validateTcpRoute(res({ matches: { name: 'db', ports: [5432] } })), []);
  const issues = validateTcpRoute(res({ matches: { ports: [0, 80, 80] } }));
  assert.deepEqual(
    issues.map((i) => i.path),
    ['spec.matches.ports[0]', 'spec.matches.ports[2]'],
  );
});
