// The pool of a host whose cluster has `use_downstream_protocol_config`: an HTTP/1.1 pool
// and an HTTP/2 pool side by side; each request goes to the one matching its downstream
// protocol (PoolWaiter.downstreamHttp2), and a connection goes back to the pool it came from.

import type { ConnectionPool, PendingRequest, PoolWaiter, UpstreamConnection } from './connection-pool.js';

class ByDownstreamProtocolPool implements ConnectionPool {
  constructor(
    private readonly http1: ConnectionPool,
    private readonly http2: ConnectionPool,
  ) {}

  acquire(waiter: PoolWaiter): PendingRequest | null {
    return waiter.downstreamHttp2 === true ? this.http2.acquire(waiter) : this.http1.acquire(waiter);
  }

  release(conn: UpstreamConnection, reusable: boolean): void {
    if (conn.httpVersion === 2) this.http2.release(conn, reusable);
    else this.http1.release(conn, reusable);
  }

  get idleCount(): number {
    return this.http1.idleCount + this.http2.idleCount;
  }
  get activeCount(): number {
    return this.http1.activeCount + this.http2.activeCount;
  }
  get pendingCount(): number {
    return this.http1.pendingCount + this.http2.pendingCount;
  }
  get connectingCount(): number {
    return this.http1.connectingCount + this.http2.connectingCount;
  }

  drain(): void {
    this.http1.drain();
    this.http2.drain();
  }

  close(): void {
    this.http1.close();
    this.http2.close();
  }
}

export function createByDownstreamProtocolPool(http1: ConnectionPool, http2: ConnectionPool): ConnectionPool {
  return new ByDownstreamProtocolPool(http1, http2);
}
