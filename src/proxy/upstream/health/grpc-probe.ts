// gRPC health checks (`grpc_health_check`): a unary grpc.health.v1.Health/Check call over
// HTTP/2 (node:http2, one connection per host kept across checks) for `service_name`,
// with `:authority` = `authority` (the cluster name when empty). SERVING passes; any other
// status, a non-200 answer or a grpc-status other than OK fails at once; a reset or a
// broken connection is a network failure.
// https://github.com/grpc/grpc/blob/master/doc/health-checking.md

import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from 'node:http2';
import type { GrpcHealthCheck } from '../../../config/model.js';
import { formatAddress } from '../../../core/address.js';
import type { Host } from '../host.js';
import { ProbeOutcome, type ProbeSession } from './probe.js';

const CHECK_PATH = '/grpc.health.v1.Health/Check';
/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING. */
const SERVING = 1;

/** A length-prefixed gRPC message holding HealthCheckRequest{service}. */
export function encodeCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const body: number[] = [];
  if (name.length > 0) {
    body.push(0x0a); // field 1, length-delimited
    let n = name.length;
    while (n >= 0x80) {
      body.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    body.push(n);
  }
  const msg = Buffer.concat([Buffer.from(body), name]);
  const frame = Buffer.alloc(5 + msg.length);
  frame.writeUInt32BE(msg.length, 1);
  msg.copy(frame, 5);
  return frame;
}

/** The `status` of a length-prefixed HealthCheckResponse; -1 when it cannot be read. */
export function decodeCheckResponse(data: Buffer): number {
  if (data.length < 5 || data[0] !== 0) return -1;
  const len = data.readUInt32BE(1);
  if (data.length < 5 + len) return -1;
  const msg = data.subarray(5, 5 + len);
  let i = 0;
  let status = 0; // proto3 default: UNKNOWN
  while (i < msg.length) {
    const tag = msg[i++];
    const wire = tag & 7;
    let v = 0;
    let shift = 0;
    if (wire === 0 || wire === 2) {
      for (;;) {
        if (i >= msg.length) return -1;
        const b = msg[i++];
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if ((b & 0x80) === 0) break;
        if (shift > 63) return -1; // longer than a varint may be
      }
      if (wire === 2) i += v;
      else if (tag >>> 3 === 1) {
        // An enum is an int32: anything larger is not a status this decoder can trust.
        if (v > 0x7fff_ffff) return -1;
        status = v;
      }
    } else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else return -1;
  }
  return i === msg.length ? status : -1;
}

class GrpcProbeSession implements ProbeSession {
  private session: ClientHttp2Session | null = null;
  private stream: ClientHttp2Stream | null = null;
  private token: object | null = null;

  constructor(
    private readonly host: Host,
    private readonly request: Buffer,
    private readonly authority: string,
  ) {}

  private connection(): ClientHttp2Session {
    const existing = this.session;
    if (existing !== null && !existing.closed && !existing.destroyed) return existing;
    const session = connect(`http://${formatAddress(this.host.address, this.host.port)}`);
    session.on('error', () => {});
    session.on('close', () => {
      if (this.session === session) this.session = null;
    });
    session.on('goaway', () => {
      if (this.session === session) this.session = null;
    });
    this.session = session;
    return session;
  }

  check(done: (outcome: ProbeOutcome, detail: string) => void): void {
    // Each check has its own token: events of a cancelled check never reach a later one.
    const token = {};
    this.token = token;
    const finish = (outcome: ProbeOutcome, detail: string) => {
      if (this.token !== token) return;
      this.token = null;
      this.stream = null;
      done(outcome, detail);
    };
    let stream: ClientHttp2Stream;
    try {
      stream = this.connection().request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: CHECK_PATH,
        [constants.HTTP2_HEADER_AUTHORITY]: this.authority,
        [constants.HTTP2_HEADER_SCHEME]: 'http',
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': 'Envoy/HC',
      });
    } catch (err) {
      this.session?.destroy();
      this.session = null;
      finish(ProbeOutcome.NetworkFailure, (err as Error).message);
      return;
    }
    this.stream = stream;
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => {
      httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS] ?? 0);
      const s = headers['grpc-status'];
      if (typeof s === 'string') grpcStatus = s; // trailers-only answer
    });
    stream.on('trailers', (trailers) => {
      const s = trailers['grpc-status'];
      if (typeof s === 'string') grpcStatus = s;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err) => finish(ProbeOutcome.NetworkFailure, err.message));
    stream.on('close', () => {
      if (httpStatus === 0) {
        finish(ProbeOutcome.NetworkFailure, 'stream closed without a response');
        return;
      }
      if (httpStatus !== 200) {
        finish(ProbeOutcome.ActiveFailure, `HTTP status ${httpStatus}`);
        return;
      }
      if (grpcStatus !== '0') {
        finish(ProbeOutcome.ActiveFailure, `grpc-status ${grpcStatus ?? 'missing'}`);
        return;
      }
      const status = decodeCheckResponse(Buffer.concat(chunks));
      if (status === SERVING) finish(ProbeOutcome.Success, '');
      else if (status < 0) finish(ProbeOutcome.ActiveFailure, 'malformed HealthCheckResponse');
      else finish(ProbeOutcome.ActiveFailure, `serving status ${status}`);
    });
    stream.end(this.request);
  }

  cancel(): void {
    this.token = null;
    const stream = this.stream;
    this.stream = null;
    stream?.close(constants.NGHTTP2_CANCEL);
    // A timed-out check may mean a dead connection: start the next one on a fresh one.
    this.session?.destroy();
    this.session = null;
  }

  close(): void {
    this.cancel();
  }
}

export function createGrpcProbeFactory(
  config: GrpcHealthCheck,
  clusterName: string,
): (host: Host) => ProbeSession {
  const request = encodeCheckRequest(config.serviceName);
  const authority = config.authority === '' ? clusterName : config.authority;
  return (host) => new GrpcProbeSession(host, request, authority);
}
