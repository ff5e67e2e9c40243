// gRPC health checks (`grpc_health_check`): a unary grpc.health.v1.Health/Check call over
// HTTP/2 (Weft's ClientSession, one connection per host kept across checks) for `service_name`,
// with `:authority` = `authority` (the cluster name when empty). SERVING passes; any other
// status, a non-200 answer or a grpc-status other than OK fails at once; a reset or a
// broken connection is a network failure.
// https://github.com/grpc/grpc/blob/master/doc/health-checking.md

import * as net from 'node:net';
import type { GrpcHealthCheck } from '../../../config/model.js';
import { getHeader } from '../../http/headers.js';
import { ClientSession, type ClientSessionHandler } from '../../http2/client-session.js';
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

/** One connection to the host: a socket and Weft's HTTP/2 client session on it. */
interface ProbeConnection {
  readonly socket: net.Socket;
  readonly session: ClientSession;
  /** GOAWAY or a closed socket: the next check opens a new connection. */
  usable: boolean;
}

class GrpcProbeSession implements ProbeSession {
  private conn: ProbeConnection | null = null;
  /** The check in flight: its stream id, and what its answer has said so far. */
  private stream = 0;
  private httpStatus = 0;
  private grpcStatus: string | undefined;
  private chunks: Buffer[] = [];
  private done: ((outcome: ProbeOutcome, detail: string) => void) | null = null;

  constructor(
    private readonly host: Host,
    private readonly request: Buffer,
    private readonly authority: string,
  ) {}

  private connection(): ProbeConnection {
    const existing = this.conn;
    if (existing?.usable) return existing;
    existing?.socket.destroy();
    const socket = net.connect({ port: this.host.port, host: this.host.address, noDelay: true });
    const handler: ClientSessionHandler = {
      onResponse: (id, headers, endStream) => {
        if (id !== this.stream || Number(headers[1]) < 200) return;
        this.httpStatus = Number(headers[1]);
        this.grpcStatus = getHeader(headers, 'grpc-status'); // a trailers-only answer
        if (endStream) this.evaluate();
      },
      onData: (id, chunk, endStream) => {
        if (id !== this.stream) return;
        this.chunks.push(chunk);
        conn.session.consumed(id, chunk.length);
        if (endStream) this.evaluate();
      },
      onTrailers: (id, trailers) => {
        if (id !== this.stream) return;
        this.grpcStatus = getHeader(trailers, 'grpc-status');
        this.evaluate();
      },
      onReset: (id, code) => {
        if (id === this.stream) this.finish(ProbeOutcome.NetworkFailure, `stream reset with code ${code}`);
      },
      onWritable: () => {},
      onClose: () => {
        conn.usable = false;
      },
    };
    const conn: ProbeConnection = {
      socket,
      session: new ClientSession((data) => socket.write(data), handler),
      usable: true,
    };
    socket.on('data', (d: Buffer) => conn.session.receive(d));
    socket.on('drain', () => conn.session.outputDrained());
    socket.on('error', () => {});
    socket.on('close', () => {
      conn.usable = false;
      if (this.conn === conn) {
        this.conn = null;
        this.finish(ProbeOutcome.NetworkFailure, 'connection closed without a response');
      }
    });
    this.conn = conn;
    return conn;
  }

  check(done: (outcome: ProbeOutcome, detail: string) => void): void {
    this.done = done;
    this.httpStatus = 0;
    this.grpcStatus = undefined;
    this.chunks = [];
    const { session } = this.connection();
    this.stream = session.request(
      [
        ':method',
        'POST',
        ':scheme',
        'http',
        ':path',
        CHECK_PATH,
        ':authority',
        this.authority,
        'content-type',
        'application/grpc',
        'te',
        'trailers',
        'user-agent',
        'Envoy/HC',
      ],
      false,
    );
    session.data(this.stream, this.request, true);
  }

  /** The answer is complete: judge it. */
  private evaluate(): void {
    if (this.httpStatus !== 200) {
      this.finish(ProbeOutcome.ActiveFailure, `HTTP status ${this.httpStatus}`);
      return;
    }
    if (this.grpcStatus !== '0') {
      this.finish(ProbeOutcome.ActiveFailure, `grpc-status ${this.grpcStatus ?? 'missing'}`);
      return;
    }
    const status = decodeCheckResponse(Buffer.concat(this.chunks));
    if (status === SERVING) this.finish(ProbeOutcome.Success, '');
    else if (status < 0) this.finish(ProbeOutcome.ActiveFailure, 'malformed HealthCheckResponse');
    else this.finish(ProbeOutcome.ActiveFailure, `serving status ${status}`);
  }

  /** Reports the check in flight once; events after that (or after cancel) are dropped. */
  private finish(outcome: ProbeOutcome, detail: string): void {
    const done = this.done;
    if (done === null) return;
    this.done = null;
    this.stream = 0;
    done(outcome, detail);
  }

  cancel(): void {
    this.done = null;
    this.stream = 0;
    // A timed-out check may mean a dead connection: start the next one on a fresh one.
    const conn = this.conn;
    this.conn = null;
    conn?.socket.destroy();
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
