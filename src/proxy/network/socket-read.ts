// Reading a socket into a reused buffer, the way Node's public `onread` option does for
// client sockets. Node 20 offers no such option for sockets a net.Server accepts (nor a
// way to set it on a client socket after net.connect), so this sets the same per-socket
// fields the option would have set, found by their symbol descriptions on the socket
// itself. Weft reads accepted and upstream sockets, plain and TLS, this way.
//
// Why: each read then skips the Readable-stream machinery (push, buffering, 'data'
// emit). On the bench that halved a bare Node pipe's user CPU per request
// (docs/benchmarks.md). net.Socket's pause()/resume() already honour these fields, and
// EOF still arrives as 'end'. When the fields are not there (another Node version), it
// returns false and the caller falls back to 'data' events.
//
// Every chunk handed over is a fresh copy (into Node's small-buffer
// pool), so callers may keep and queue chunks while the buffer is reused. Because the
// copy is made inside the read callback, before any other socket can be read, one buffer
// serves every socket of the process (SHARED_READ_BUFFER): memory does not grow with the
// number of connections.
//
// TLS sockets work the same way: their handle (TLSWrap) decrypts into the buffer it is
// given and reports each plaintext chunk through the same callback. Not used on a socket
// with bytes already in its stream buffer (a listener filter read them and put them back
// with unshift, or plaintext arrived with the end of the handshake): the reused buffer
// would skip those bytes.
//
// Reads in turn batches: the copy is made in the read callback, but the
// consumer gets it from ReadBatch, which hands over every small read of one event-loop
// turn on the same turn's check phase (an Immediate), before any timer or the next poll.
// On the bench this cut Weft's CPU per request by a sixth to a quarter (docs/benchmarks.md,
// "The tenth round"): the same parse/route/forward work costs less run for all the sockets
// that were ready at once than between their socket events.
// The reads go by lane, each lane in arrival order: upstream sockets' reads (responses)
// first, then downstream ones (requests). Different sockets' reads of one turn arrived
// together, so any order among them is one the network could have produced; this one runs
// the same code back to back, and returns upstream connections to their pool before the
// turn's new requests ask for one (~6% less CPU per request, "The eleventh round").
// Order and meaning are kept:
// - A socket's 'end', 'error' and 'close' listeners run after its queued reads: the batch
//   is flushed first (a listener prepended to each). So a response followed by a reset is
//   still seen whole, as when each read was handed over at once.
// - Reads of at least BATCH_MAX_READ_BYTES are handed over at once (after the queue, to
//   keep order): libuv keeps reading a socket while reads fill the buffer, and a consumer
//   must be able to pause() a bulk transfer between them, so backpressure stays as tight
//   as before. A smaller read ends libuv's loop for that socket, so the queue holds at most
//   one read per ready socket.
// - A read queued for a socket the proxy itself destroyed since (destroyed without an
//   error) is dropped, as it would not have been read.
//
// Writes made while a batch is handed over can wait for its end too: the hot write paths
// (HTTP/1 and HTTP/2 connections both ways) call holdWritesForTurn(socket)
// before writing, which corks the socket until the batch is done. The turn's JavaScript
// then runs in one stretch and its syscalls in another (another ~8% less CPU per request
// on the bench, "The tenth round"). A held socket's writes still go out in order, and
// end() flushes them at once; only a socket destroyed (reset) within the batch loses its
// held writes, which a reset discards anyway.

import type { Socket } from 'node:net';
import { NativeSocket } from './native-socket.js';
import type { ReadLane } from './read-lane.js';

/** Bytes read per read call into the reused buffer. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * The one read buffer of every socket read through readIntoReusedBuffer (accepted and
 * upstream ones alike). libuv fills it and Node calls the socket's read callback
 * synchronously, which copies the bytes out before returning, so no two reads overlap.
 * It holds no state between reads.
 */
const SHARED_READ_BUFFER: Buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);

interface UserBufferHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

/** Reads this large or larger are handed over at once (see the header). */
const BATCH_MAX_READ_BYTES = 16 * 1024;

export { READ_LANE_DOWNSTREAM, READ_LANE_UPSTREAM, type ReadLane } from './read-lane.js';

const LANES = 2;

/** Marks a stream hold() corked in the running flush (a field, not a Set: no lookup, no garbage). */
const HELD_MARK = Symbol('weft.heldForTurn');
/** What holding a stream's writes needs of it (a net.Socket, a NativeSocket, a Writable). */
interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
}
type HeldStream = Corkable & { [HELD_MARK]?: boolean };

/**
 * The process's queue of reads waiting for this turn's check phase. Like
 * SHARED_READ_BUFFER it is process-wide by nature: it belongs to the one event loop.
 */
class ReadBatch {
  /**
   * Per lane, flat triples: socket, consumer, chunk. The arrays keep their capacity from
   * turn to turn (entries are counted in `size`, not by length), so queueing allocates
   * nothing once they have grown; handed-over entries are cleared so no chunk is retained.
   */
  private readonly lanes: unknown[][] = [[], []];
  /** Per lane, the number of queued entries (3 per read). */
  private readonly size: number[] = [0, 0];
  /** Per lane, the index of the next entry to hand over while flushing. */
  private readonly next: number[] = [0, 0];
  private flushing = false;
  private scheduled = false;
  /** Streams corked by hold() until the running flush ends (the first `heldCount`); each carries HELD_MARK. */
  private readonly held: HeldStream[] = [];
  private heldCount = 0;

  /** Corks `stream` until the running flush ends; nothing when no flush is running. */
  hold(stream: Corkable): void {
    const marked = stream as HeldStream;
    if (!this.flushing || marked[HELD_MARK] === true) return;
    stream.cork();
    marked[HELD_MARK] = true;
    this.held[this.heldCount++] = marked;
  }

  queue(socket: Socket, onData: (chunk: Buffer) => void, chunk: Buffer, lane: ReadLane): void {
    const entries = this.lanes[lane];
    const n = this.size[lane];
    entries[n] = socket;
    entries[n + 1] = onData;
    entries[n + 2] = chunk;
    this.size[lane] = n + 3;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /**
   * Hands every queued read to its consumer: lane by lane, each in arrival order (reads
   * queued meanwhile join their lane and are handed over too). Re-entered (a consumer ends a
   * socket whose listener flushes), the running flush goes on where it is. A consumer that
   * throws leaves the reads after it queued for the next flush.
   */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    const lanes = this.lanes;
    const size = this.size;
    const next = this.next;
    try {
      for (let lane = 0; lane < LANES; ) {
        const entries = lanes[lane];
        const i = next[lane];
        if (i >= size[lane]) {
          lane++;
          continue;
        }
        next[lane] = i + 3;
        const socket = entries[i] as Socket;
        const onData = entries[i + 1] as (chunk: Buffer) => void;
        const chunk = entries[i + 2] as Buffer;
        entries[i] = entries[i + 1] = entries[i + 2] = undefined;
        if (!socket.destroyed || socket.errored) onData(chunk);
        // A read queued on an earlier lane meanwhile (rare: reads arrive in the poll phase) goes next.
        for (let l = 0; l < lane; l++) if (next[l] < size[l]) lane = l;
      }
    } finally {
      let left = 0;
      for (let lane = 0; lane < LANES; lane++) {
        const done = next[lane];
        const n = size[lane];
        if (done < n) {
          // A consumer threw: the rest moves to the front for the next flush.
          const entries = lanes[lane];
          entries.copyWithin(0, done, n);
          entries.fill(undefined, n - done, n);
        }
        size[lane] = n - done;
        next[lane] = 0;
        left += n - done;
      }
      const held = this.held;
      for (let i = 0; i < this.heldCount; i++) {
        const stream = held[i];
        held[i] = undefined as unknown as HeldStream;
        stream[HELD_MARK] = false;
        if (!stream.destroyed) stream.uncork();
      }
      this.heldCount = 0;
      this.flushing = false;
      if (left > 0 && !this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    }
  };
}

const READ_BATCH = new ReadBatch();

/**
 * Called before writing to `stream` on a hot path: while a turn's reads are being handed
 * over, its writes wait (corked) until they all have been; otherwise nothing happens.
 */
export function holdWritesForTurn(stream: Corkable): void {
  READ_BATCH.hold(stream);
}

/**
 * Delivers the socket's bytes to `onData` through a reused buffer, in turn batches (see the
 * header). Returns false (and changes nothing) when this Node version does not have the
 * fields it needs.
 */
export function readIntoReusedBuffer(
  socket: Socket,
  lane: ReadLane,
  onData: (chunk: Buffer) => void,
): boolean {
  if (socket.readableLength > 0) return false;
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  if (handle === undefined || handle === null || typeof handle.useUserBuffer !== 'function') return false;
  let kBuffer: symbol | undefined;
  let kBufferCb: symbol | undefined;
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    if (sym.description === 'kBuffer') kBuffer = sym;
    else if (sym.description === 'kBufferCb') kBufferCb = sym;
  }
  if (kBuffer === undefined || kBufferCb === undefined) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[kBuffer] !== null || fields[kBufferCb] !== null) return false;
  fields[kBuffer] = SHARED_READ_BUFFER;
  fields[kBufferCb] = copyOutBatched(socket, lane, onData);
  (handle as UserBufferHandle).useUserBuffer(SHARED_READ_BUFFER);
  socket.prependListener('end', READ_BATCH.flush);
  socket.prependListener('error', READ_BATCH.flush);
  socket.prependListener('close', READ_BATCH.flush);
  return true;
}

/**
 * Reads the socket: a NativeSocket through its addon (which batches by turn and lane the
 * same way), a net.Socket through readIntoReusedBuffer, or through its 'data' events when
 * this Node version (or a socket with bytes already buffered) does not allow it.
 */
export function readSocket(
  socket: Socket | NativeSocket,
  lane: ReadLane,
  onData: (chunk: Buffer) => void,
): void {
  if (socket instanceof NativeSocket) socket.startReading(onData);
  else if (!readIntoReusedBuffer(socket, lane, onData)) socket.on('data', onData);
}

/** The read callback of a turn-batched socket: queues a copy, or hands a large read over at once. */
function copyOutBatched(
  socket: Socket,
  lane: ReadLane,
  onData: (chunk: Buffer) => void,
): (n: number, buf: Uint8Array) => boolean {
  return (n, buf) => {
    const chunk = Buffer.from(buf.subarray(0, n));
    if (n < BATCH_MAX_READ_BYTES) READ_BATCH.queue(socket, onData, chunk, lane);
    else {
      READ_BATCH.flush();
      onData(chunk);
    }
    return true;
  };
}
