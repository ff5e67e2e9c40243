// Access-log filter predicates over StreamInfo, one kind at a time, and the way the
// configured tree of them is read (paths of the errors included).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AccessLogFilter } from '../../config/model.js';
import { readAccessLogFilter } from '../../config/validate-access-log-filter.js';
import type { ConfigIssue } from '../../core/errors.js';
import { createStreamInfo, ResponseFlag, type StreamInfo } from '../stream-info.js';
import { compileAccessLogFilter } from './filter.js';
import { grpcStatusOf } from './operators.js';

function info(patch: Partial<StreamInfo>): StreamInfo {
  return Object.assign(createStreamInfo(), { responseCode: 200, startMonotonic: 0, endMonotonic: 5 }, patch);
}

function compiled(filter: AccessLogFilter, random = () => 0.5) {
  return compileAccessLogFilter(filter, random);
}

describe('access log filter predicates', () => {
  test('status_code and duration compare with EQ, GE, LE, NE', () => {
    const ge500 = compiled({ kind: 'status_code', op: 'GE', value: 500 });
    assert.equal(ge500(info({ responseCode: 503 })), true);
    assert.equal(ge500(info({ responseCode: 404 })), false);
    assert.equal(compiled({ kind: 'status_code', op: 'NE', value: 200 })(info({})), false);
    assert.equal(compiled({ kind: 'status_code', op: 'LE', value: 299 })(info({})), true);
    const slow = compiled({ kind: 'duration', op: 'GE', value: 100 });
    assert.equal(slow(info({ endMonotonic: 100.4 })), true);
    assert.equal(slow(info({ endMonotonic: 99.9 })), false);
    assert.equal(compiled({ kind: 'duration', op: 'EQ', value: 5 })(info({})), true);
  });

  test('response_flag: listed flags, or any flag when none are listed', () => {
    const uhOrUt = compiled({ kind: 'response_flag', flags: ['UH', 'UT'] });
    assert.equal(uhOrUt(info({ responseFlags: ResponseFlag.UpstreamRequestTimeout })), true);
    assert.equal(uhOrUt(info({ responseFlags: ResponseFlag.RateLimited })), false);
    const any = compiled({ kind: 'response_flag', flags: [] });
    assert.equal(any(info({ responseFlags: ResponseFlag.RateLimited })), true);
    assert.equal(any(info({})), false);
    assert.equal(
      compiled({ kind: 'response_flag', flags: ['LH'] })(info({ responseFlags: -1 >>> 1 })),
      false,
    );
  });

  test('runtime: sampled by the x-request-id, or at random when independent', () => {
    const half = { numerator: 50, denominator: 100 };
    const byId = compiled({ kind: 'runtime', percent: half, independentRandomness: false }, () => 0.99);
    // 0x00000031 % 100 = 49 (in), 0x00000032 % 100 = 50 (out)
    assert.equal(
      byId(info({ requestHeaders: ['x-request-id', '00000031-aaaa-4bbb-8ccc-dddddddddddd'] })),
      true,
    );
    assert.equal(
      byId(info({ requestHeaders: ['x-request-id', '00000032-aaaa-4bbb-8ccc-dddddddddddd'] })),
      false,
    );
    assert.equal(byId(info({})), false, 'no request id: random (0.99)');
    const independent = compiled({ kind: 'runtime', percent: half, independentRandomness: true }, () => 0.2);
    assert.equal(independent(info({ requestHeaders: ['x-request-id', '00000032-aaaa'] })), true);
  });

  test('header, and/or, not_health_check', () => {
    const debug = compiled({
      kind: 'header',
      header: {
        name: 'x-debug',
        invertMatch: false,
        treatMissingHeaderAsEmpty: false,
        match: { kind: 'present', present: true },
      },
    });
    assert.equal(debug(info({ requestHeaders: ['x-debug', '1'] })), true);
    assert.equal(debug(info({})), false);
    const errors: AccessLogFilter = { kind: 'status_code', op: 'GE', value: 500 };
    const slow: AccessLogFilter = { kind: 'duration', op: 'GE', value: 1000 };
    assert.equal(compiled({ kind: 'and', filters: [errors, slow] })(info({ responseCode: 503 })), false);
    assert.equal(compiled({ kind: 'or', filters: [errors, slow] })(info({ responseCode: 503 })), true);
    assert.equal(compiled({ kind: 'not_health_check' })(info({})), true);
  });

  test('grpc_status: trailers, then headers, else mapped from the HTTP status', () => {
    assert.equal(
      grpcStatusOf(info({ responseTrailers: ['grpc-status', '14'], responseHeaders: ['grpc-status', '0'] })),
      14,
    );
    assert.equal(grpcStatusOf(info({ responseHeaders: ['grpc-status', '5'] })), 5);
    assert.equal(grpcStatusOf(info({ responseCode: 503 })), 14);
    assert.equal(grpcStatusOf(info({ responseCode: 200 })), 2);
    const unavailable = compiled({ kind: 'grpc_status', statuses: [14], exclude: false });
    assert.equal(unavailable(info({ responseTrailers: ['grpc-status', '14'] })), true);
    const notOk = compiled({ kind: 'grpc_status', statuses: [0], exclude: true });
    assert.equal(notOk(info({ responseTrailers: ['grpc-status', '0'] })), false);
    assert.equal(notOk(info({ responseTrailers: ['grpc-status', '13'] })), true);
  });
});

describe('readAccessLogFilter', () => {
  const read = (raw: unknown) => {
    const issues: ConfigIssue[] = [];
    const filter = readAccessLogFilter(raw, 'f', issues);
    return { filter, issues: issues.map((i) => `${i.path}: ${i.message}`) };
  };

  test('a tree of filters, with names and defaults', () => {
    const { filter, issues } = read({
      and_filter: {
        filters: [
          {
            status_code_filter: { comparison: { op: 'GE', value: { default_value: 400, runtime_key: 'x' } } },
          },
          { not_health_check_filter: {} },
          { grpc_status_filter: { statuses: ['UNAVAILABLE', 4], exclude: true } },
          {
            runtime_filter: {
              runtime_key: 'r',
              percent_sampled: { numerator: 5, denominator: 'TEN_THOUSAND' },
            },
          },
        ],
      },
    });
    assert.deepEqual(issues, []);
    assert.deepEqual(filter, {
      kind: 'and',
      filters: [
        { kind: 'status_code', op: 'GE', value: 400 },
        { kind: 'not_health_check' },
        { kind: 'grpc_status', statuses: [14, 4], exclude: true },
        { kind: 'runtime', percent: { numerator: 5, denominator: 10_000 }, independentRandomness: false },
      ],
    });
  });

  test('errors name their paths', () => {
    assert.deepEqual(read({ traceable_filter: {} }).issues, ['f.traceable_filter: is not supported by Weft']);
    assert.match(read({}).issues[0], /^f: needs one of status_code_filter/);
    assert.match(read({ status_code_filter: {}, duration_filter: {} }).issues.join('\n'), /only one of/);
    assert.deepEqual(
      read({
        or_filter: {
          filters: [{ response_flag_filter: { flags: ['UH', 'XX'] } }],
        },
      }).issues.map((i) => i.split(':')[0]),
      ['f.or_filter.filters', 'f.or_filter.filters[0].response_flag_filter.flags[1]'],
    );
    assert.match(
      read({ grpc_status_filter: { statuses: ['NOPE'] } }).issues[0],
      /statuses\[0\]: unknown gRPC status/,
    );
    assert.match(
      read({ status_code_filter: { comparison: { op: 'GT', value: { default_value: 1 } } } }).issues[0],
      /comparison\.op/,
    );
  });
});
