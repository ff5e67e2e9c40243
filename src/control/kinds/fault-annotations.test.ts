import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResourceIssue } from '../resource.js';
import { readRouteFault } from './fault-annotations.js';

function read(annotations: Record<string, string> | undefined) {
  const issues: ResourceIssue[] = [];
  const fault = readRouteFault({ name: 'r', annotations }, issues);
  return { fault, issues };
}

describe('route fault annotations', () => {
  test('no fault annotations: no fault, no issue', () => {
    assert.deepEqual(read(undefined), { fault: null, issues: [] });
    assert.deepEqual(read({ 'weft.dev/other': 'x' }), { fault: null, issues: [] });
  });

  test('a delay with its percentage, an HTTP abort defaulting to 100%', () => {
    const { fault, issues } = read({
      'weft.dev/fault-delay': '1s500ms',
      'weft.dev/fault-delay-percent': '12.5',
      'weft.dev/fault-abort-status': '503',
    });
    assert.deepEqual(issues, []);
    assert.deepEqual(fault, {
      delay: { ms: 1500, perMillion: 125_000 },
      abort: { httpStatus: 503, perMillion: 1_000_000 },
    });
  });

  test('a gRPC abort', () => {
    const { fault } = read({
      'weft.dev/fault-abort-grpc-status': '14',
      'weft.dev/fault-abort-percent': '0.0001',
    });
    assert.deepEqual(fault, { delay: null, abort: { grpcStatus: 14, perMillion: 1 } });
  });

  test('every problem is reported by annotation, and nothing half-understood is returned', () => {
    const { fault, issues } = read({
      'weft.dev/fault-delay': '2 seconds',
      'weft.dev/fault-delay-percent': '101',
      'weft.dev/fault-abort-status': '700',
      'weft.dev/fault-abort-percen': '5',
    });
    assert.equal(fault, null);
    assert.deepEqual(
      issues.map((i) => i.path),
      [
        'metadata.annotations["weft.dev/fault-abort-percen"]',
        'metadata.annotations["weft.dev/fault-delay"]',
        'metadata.annotations["weft.dev/fault-delay-percent"]',
        'metadata.annotations["weft.dev/fault-abort-status"]',
      ],
    );
    assert.match(issues[0].message, /unknown fault annotation; known: weft\.dev\/fault-delay,/);
    assert.match(issues[1].message, /'2 seconds' is not a Gateway API duration/);
    assert.match(issues[2].message, /'101' is not a percentage between 0 and 100/);
    assert.match(issues[3].message, /'700' is not a status code in 200-599/);
  });

  test('a percentage without what it samples, both abort kinds, a zero delay', () => {
    assert.match(
      read({ 'weft.dev/fault-delay-percent': '5' }).issues[0].message,
      /needs weft\.dev\/fault-delay/,
    );
    assert.match(
      read({ 'weft.dev/fault-abort-percent': '5' }).issues[0].message,
      /needs weft\.dev\/fault-abort-status/,
    );
    assert.match(
      read({ 'weft.dev/fault-abort-status': '503', 'weft.dev/fault-abort-grpc-status': '14' }).issues[0]
        .message,
      /either .* not both/,
    );
    assert.match(read({ 'weft.dev/fault-delay': '0s' }).issues[0].message, /greater than 0/);
  });
});
