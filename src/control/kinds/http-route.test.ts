// HTTPRoute and GRPCRoute validation: valid GAMMA routes pass; each broken field is
// reported at its full path with what is wrong.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Resource } from '../resource.js';
import { validateGrpcRoute } from './grpc-route.js';
import { validateHttpRoute } from './http-route.js';

function route(kind: string, spec: unknown): Resource<unknown, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind,
    metadata: { name: 'r', namespace: 'shop' },
    spec,
  };
}

function issuesAt(issues: { path: string; message: string }[], path: string): string[] {
  return issues.filter((i) => i.path === path).map((i) => i.message);
}

const PARENT = { group: '', kind: 'Service', name: 'cart', port: 80 };

describe('HTTPRoute validation', () => {
  test('a full GAMMA route is valid', () => {
    const issues = validateHttpRoute(
      route('HTTPRoute', {
        parentRefs: [PARENT],
        rules: [
          {
            name: 'v2',
            matches: [
              {
                path: { type: 'PathPrefix', value: '/api' },
                headers: [{ name: 'x-version', value: 'v2' }],
                queryParams: [{ type: 'RegularExpression', name: 'q', value: '[a-z]+' }],
                method: 'GET',
              },
            ],
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], remove: ['x-b'] },
              },
              {
                type: 'URLRewrite',
                urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } },
              },
              {
                type: 'RequestMirror',
                requestMirror: { backendRef: { name: 'shadow', port: 80 }, percent: 10 },
              },
            ],
            backendRefs: [
              { name: 'cart-v2', port: 80, weight: 90 },
              { name: 'cart-v1', port: 80, weight: 10 },
            ],
            timeouts: { request: '10s', backendRequest: '2s' },
            retry: { codes: [503], attempts: 2, backoff: '100ms' },
          },
        ],
      }),
    );
    assert.deepEqual(issues, []);
  });

  test('every problem is reported with its path', () => {
    const issues = validateHttpRoute(
      route('HTTPRoute', {
        parentRefs: [
          { kind: 'Service', name: 'cart', port: 70000 },
          { kind: 'Service', name: 'cart', port: 70000 },
        ],
        rules: [
          {
            matches: [
              { path: { type: 'Prefix', value: '/a' } },
              { path: { value: 'no-slash' }, method: 'FETCH', headers: [{ name: 'bad header', value: 'x' }] },
              { path: { type: 'RegularExpression', value: '(?=x)' } },
            ],
            backendRefs: [{ name: 'cart', weight: -1 }],
            filters: [{ type: 'RequestRedirect', urlRewrite: {} }],
            timeouts: { request: '1s', backendRequest: '5s' },
            retry: { codes: [200], backoff: '1 second' },
            colour: 'blue',
          },
        ],
      }),
    );
    assert.match(issuesAt(issues, 'spec.parentRefs[0].port')[0], /between 1 and 65535/);
    assert.match(
      issuesAt(issues, 'spec.rules[0].matches[0].path.type')[0],
      /expected one of Exact, PathPrefix, RegularExpression/,
    );
    assert.match(issuesAt(issues, 'spec.rules[0].matches[1].path.value')[0], /start.*'\/'/);
    assert.match(issuesAt(issues, 'spec.rules[0].matches[1].method')[0], /FETCH/);
    assert.match(issuesAt(issues, 'spec.rules[0].matches[1].headers[0].name')[0], /not a valid header name/);
    assert.match(issuesAt(issues, 'spec.rules[0].matches[2].path.value')[0], /lookahead/);
    assert.match(
      issuesAt(issues, 'spec.rules[0].backendRefs[0].port')[0],
      /required when the backend is a Service/,
    );
    assert.match(issuesAt(issues, 'spec.rules[0].backendRefs[0].weight')[0], /between 0 and 1000000/);
    assert.match(issuesAt(issues, 'spec.rules[0].filters[0].requestRedirect')[0], /is required/);
    assert.match(
      issuesAt(issues, 'spec.rules[0].filters[0].urlRewrite')[0],
      /must not be set for a RequestRedirect/,
    );
    assert.match(
      issuesAt(issues, 'spec.rules[0].timeouts.backendRequest')[0],
      /longer than the request timeout/,
    );
    assert.match(issuesAt(issues, 'spec.rules[0].retry.codes[0]')[0], /400 to 599/);
    assert.match(issuesAt(issues, 'spec.rules[0].retry.backoff')[0], /Gateway API duration/);
    assert.deepEqual(issuesAt(issues, 'spec.rules[0].colour'), ['unknown field']);
    assert.equal(
      issues.filter((i) => i.path === 'spec.parentRefs[1]').length,
      1,
      'duplicate parentRef reported',
    );
  });

  test('CEL rules: redirect without backends, one rewrite kind, ReplacePrefixMatch needs one PathPrefix match', () => {
    const issues = validateHttpRoute(
      route('HTTPRoute', {
        parentRefs: [PARENT],
        rules: [
          {
            matches: [{ path: { type: 'Exact', value: '/a' } }],
            filters: [
              {
                type: 'RequestRedirect',
                requestRedirect: {
                  statusCode: 304,
                  path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' },
                },
              },
              { type: 'URLRewrite', urlRewrite: { hostname: 'x.example' } },
              { type: 'URLRewrite', urlRewrite: { hostname: 'y.example' } },
            ],
            backendRefs: [{ name: 'cart', port: 80 }],
          },
        ],
      }),
    );
    const messages = issues.map((i) => `${i.path}: ${i.message}`);
    assert.ok(
      messages.some((m) =>
        /^spec\.rules\[0\]\.filters: may not contain both RequestRedirect and URLRewrite/.test(m),
      ),
      messages.join('\n'),
    );
    assert.ok(messages.some((m) => /^spec\.rules\[0\]\.backendRefs: must be empty/.test(m)));
    assert.ok(messages.some((m) => /^spec\.rules\[0\]\.matches: a ReplacePrefixMatch/.test(m)));
    assert.ok(
      messages.some((m) =>
        /^spec\.rules\[0\]\.filters\[0\]\.requestRedirect\.statusCode: unsupported value 304/.test(m),
      ),
    );
    assert.ok(
      messages.some((m) =>
        /^spec\.rules\[0\]\.filters\[2\]\.type: a URLRewrite filter may appear only once/.test(m),
      ),
    );
  });

  test('limits: at most 16 rules and 128 matches in total', () => {
    const rules = Array.from({ length: 17 }, () => ({ matches: Array.from({ length: 8 }, () => ({})) }));
    const issues = validateHttpRoute(route('HTTPRoute', { parentRefs: [PARENT], rules }));
    assert.ok(issuesAt(issues, 'spec.rules').some((m) => /at most 16 items/.test(m)));
    assert.ok(issuesAt(issues, 'spec.rules').some((m) => /at most 128 matches in total, got 136/.test(m)));
  });

  test('a missing or non-object spec is one issue, and never throws', () => {
    assert.deepEqual(validateHttpRoute(route('HTTPRoute', undefined)), [
      { path: 'spec', message: 'is required' },
    ]);
    assert.match(validateHttpRoute(route('HTTPRoute', [1]))[0].message, /expected an object/);
    for (const junk of [null, 1, 'x', { spec: { rules: 'x', parentRefs: [null] } }]) {
      assert.doesNotThrow(() => validateHttpRoute(junk as unknown as Resource<unknown, unknown>));
    }
  });
});

describe('GRPCRoute validation', () => {
  test('a valid route passes; method matches need service or method', () => {
    const ok = validateGrpcRoute(
      route('GRPCRoute', {
        parentRefs: [PARENT],
        rules: [
          {
            matches: [
              { method: { service: 'shop.v1.Cart', method: 'Add' } },
              { method: { type: 'RegularExpression', method: 'Get.*' } },
            ],
            backendRefs: [{ name: 'cart', port: 80 }],
          },
        ],
      }),
    );
    assert.deepEqual(ok, []);
    const bad = validateGrpcRoute(
      route('GRPCRoute', {
        parentRefs: [PARENT],
        rules: [
          {
            matches: [{ method: {} }, { method: { service: 'not a service' } }],
            filters: [{ type: 'URLRewrite' }],
          },
        ],
      }),
    );
    assert.match(issuesAt(bad, 'spec.rules[0].matches[0].method')[0], /one or both of service and method/);
    assert.match(
      issuesAt(bad, 'spec.rules[0].matches[1].method.service')[0],
      /not a valid gRPC service name/,
    );
    assert.match(issuesAt(bad, 'spec.rules[0].filters[0].type')[0], /expected one of RequestHeaderModifier/);
  });
});
