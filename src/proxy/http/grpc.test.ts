import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseFlag } from '../stream-info.js';
import {
  GrpcStatus,
  grpcStatusForLocalReply,
  isGrpcRequest,
  parseGrpcTimeout,
  percentEncodeGrpcMessage,
  routeTimeoutFor,
} from './grpc.js';

test('grpc-timeout: every unit, rounding up, malformed values', () => {
  assert.equal(parseGrpcTimeout('1H'), 3_600_000);
  assert.equal(parseGrpcTimeout('2M'), 120_000);
  assert.equal(parseGrpcTimeout('3S'), 3000);
  assert.equal(parseGrpcTimeout('250m'), 250);
  assert.equal(parseGrpcTimeout('1500u'), 2);
  assert.equal(parseGrpcTimeout('1n'), 1);
  assert.equal(parseGrpcTimeout('0m'), 0);
  assert.equal(parseGrpcTimeout('99999999S'), 99_999_999_000);
  for (const bad of ['', 'm', '10', '10x', '-1S', '1.5S', '123456789S', ' 1S'])
    assert.equal(parseGrpcTimeout(bad), -1, bad);
});

test('route timeout from grpc-timeout: cap, offset, zero and absence', () => {
  const h = (v: string) => ['content-type', 'application/grpc', 'grpc-timeout', v];
  const msd = (max: number | null, offset = 0) => ({
    maxStreamDurationMs: null,
    grpcTimeoutHeaderMaxMs: max,
    grpcTimeoutHeaderOffsetMs: offset,
  });
  assert.equal(routeTimeoutFor(15_000, msd(null), h('1S')), 15_000, 'max unset: header ignored');
  assert.equal(routeTimeoutFor(15_000, msd(0), h('1S')), 1000, 'max 0: header as is');
  assert.equal(routeTimeoutFor(15_000, msd(500), h('1S')), 500, 'capped');
  assert.equal(routeTimeoutFor(15_000, msd(0, 100), h('1S')), 900, 'offset');
  assert.equal(routeTimeoutFor(15_000, msd(0), ['content-type', 'application/grpc']), 15_000, 'no header');
  assert.equal(routeTimeoutFor(15_000, msd(0), h('0S')), null, 'zero: no timeout');
  assert.equal(routeTimeoutFor(15_000, msd(200), h('0S')), 200, 'zero with a cap: the cap');
  assert.equal(routeTimeoutFor(15_000, msd(0), h('bogus')), 15_000, 'malformed: route timeout');
});

test('local reply statuses as Envoy maps them; timeouts are DEADLINE_EXCEEDED', () => {
  assert.equal(grpcStatusForLocalReply(503, ResponseFlag.UpstreamConnectionFailure), GrpcStatus.Unavailable);
  assert.equal(grpcStatusForLocalReply(503, ResponseFlag.UpstreamOverflow), GrpcStatus.Unavailable);
  assert.equal(grpcStatusForLocalReply(502, 0), GrpcStatus.Unavailable);
  assert.equal(
    grpcStatusForLocalReply(504, ResponseFlag.UpstreamRequestTimeout),
    GrpcStatus.DeadlineExceeded,
  );
  assert.equal(grpcStatusForLocalReply(408, ResponseFlag.StreamIdleTimeout), GrpcStatus.DeadlineExceeded);
  assert.equal(grpcStatusForLocalReply(408, ResponseFlag.DurationTimeout), GrpcStatus.DeadlineExceeded);
  assert.equal(grpcStatusForLocalReply(408, 0), GrpcStatus.Unknown);
  assert.equal(grpcStatusForLocalReply(404, ResponseFlag.NoRouteFound), GrpcStatus.Unimplemented);
  assert.equal(grpcStatusForLocalReply(400, 0), GrpcStatus.Internal);
  assert.equal(grpcStatusForLocalReply(401, 0), GrpcStatus.Unauthenticated);
  assert.equal(grpcStatusForLocalReply(403, 0), GrpcStatus.PermissionDenied);
  assert.equal(grpcStatusForLocalReply(429, 0), GrpcStatus.Unavailable);
  assert.equal(grpcStatusForLocalReply(500, 0), GrpcStatus.Unknown);
});

test('gRPC requests by content-type; grpc-message percent-encoding', () => {
  assert.equal(isGrpcRequest(['content-type', 'application/grpc']), true);
  assert.equal(isGrpcRequest(['content-type', 'application/grpc+proto']), true);
  assert.equal(isGrpcRequest(['content-type', 'application/json']), false);
  assert.equal(isGrpcRequest([]), false);
  assert.equal(percentEncodeGrpcMessage('no healthy upstream'), 'no healthy upstream');
  assert.equal(percentEncodeGrpcMessage('100% ok\n'), '100%25 ok%0A');
  assert.equal(percentEncodeGrpcMessage('é'), '%C3%A9');
});
