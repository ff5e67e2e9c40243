// Bounds the response bytes an ADS server has handed to gRPC but not yet written to sockets.
//
// grpc-js copies every message into a fresh framed Buffer when it is written, and that copy
// lives until the bytes have left through the proxy's HTTP/2 flow-control window. A reconnect
// storm (thousands of proxies each owed ~600 KB of CDS/EDS/RDS at once) used to put all of
// those copies in memory together, and the allocator kept the peak afterwards
// (bench:control, issue 5). Sends now go through one FIFO per server: a send starts when the
// bytes in flight plus its own fit in the budget (or nothing is in flight), and the rest wait
// for earlier writes to complete. First in, first out keeps each stream's responses in order.

export interface SendGate {
  /**
   * Runs `write` now, or once earlier sends have drained enough. `write` gets a `done` to call
   * when the bytes are written (or will never be); calling it more than once is harmless.
   */
  send(owner: object, size: number, write: (done: () => void) => void): void;
  /** The owner went away: its queued sends are dropped and its bytes in flight released. */
  drop(owner: object): void;
  /** Bytes handed to writes that have not completed. */
  readonly inFlight: number;
  /** Sends waiting for room. */
  readonly queued: number;
}

/** Default budget: ~100 full syncs of a 1000-Service sidecar at once. */
export const DEFAULT_SEND_BUDGET_BYTES = 64 * 1024 * 1024;

interface Pending {
  readonly owner: object;
  readonly size: number;
  readonly write: (done: () => void) => void;
}

export function createSendGate(budgetBytes: number = DEFAULT_SEND_BUDGET_BYTES): SendGate {
  let queue: Pending[] = [];
  let head = 0;
  let inFlight = 0;
  /** Bytes in flight per owner (present while the owner has any, or has queued sends). */
  const owners = new Map<object, { inFlight: number; queued: number }>();

  const ownerOf = (owner: object): { inFlight: number; queued: number } => {
    let o = owners.get(owner);
    if (o === undefined) owners.set(owner, (o = { inFlight: 0, queued: 0 }));
    return o;
  };

  function start(p: Pending): void {
    const o = ownerOf(p.owner);
    o.inFlight += p.size;
    inFlight += p.size;
    let finished = false;
    p.write(() => {
      if (finished) return;
      finished = true;
      // A dropped owner's bytes were released by drop().
      if (owners.get(p.owner) !== o) return;
      o.inFlight -= p.size;
      inFlight -= p.size;
      if (o.inFlight === 0 && o.queued === 0) owners.delete(p.owner);
      pump();
    });
  }

  function fits(size: number): boolean {
    return inFlight === 0 || inFlight + size <= budgetBytes;
  }

  function pump(): void {
    while (head < queue.length) {
      const p = queue[head];
      const o = owners.get(p.owner);
      if (o === undefined) {
        head++; // dropped while queued
        continue;
      }
      if (!fits(p.size)) break;
      head++;
      o.queued--;
      start(p);
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  }

  return {
    send(owner, size, write) {
      const p = { owner, size, write };
      if (head === queue.length && fits(size)) start(p);
      else {
        ownerOf(owner).queued++;
        queue.push(p);
      }
    },
    drop(owner) {
      const o = owners.get(owner);
      if (o === undefined) return;
      owners.delete(owner);
      inFlight -= o.inFlight;
      // Its queued entries are skipped when reached (the owner is no longer known).
      pump();
    },
    get inFlight() {
      return inFlight;
    },
    get queued() {
      let n = 0;
      for (const o of owners.values()) n += o.queued;
      return n;
    },
  };
}
