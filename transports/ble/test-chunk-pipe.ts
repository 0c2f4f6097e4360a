/**
 * Test helper: two {@link ChunkPort}s joined in memory, standing in for a GATT connection.
 *
 * Chunks arrive in order, one per macrotask, like packets from a controller. The pipe
 * counts the DATA chunks written but not yet delivered in each direction, so tests can
 * check that credits bound every burst, counts the DATA chunks and their bytes written, so
 * tests can check how full the packets are, and it can lose a chosen chunk or cut the
 * connection to check how the link fails.
 */
import { ChunkKind } from './gatt-service.ts';
import { CreditLink, type ChunkPort, type CreditLinkOptions } from './credit-link.ts';

/** Where a pipe end delivers what its peer wrote. */
interface Receiver {
  onChunk(bytes: Uint8Array): void;
  onDisconnect(reason: string): void;
}

/** One direction of the pipe. */
class Lane {
  readonly queue: Uint8Array[] = [];
  inFlightData = 0;
  maxInFlightData = 0;
  written = 0;
  dataChunks = 0;
  dataBytes = 0;
  scheduled = false;
}

/** A pair of joined chunk ports and the controls a test needs. */
export interface ChunkPipe {
  a: ChunkPort;
  b: ChunkPort;
  /** Joins each end to the link that reads from it. */
  attach(a: Receiver, b: Receiver): void;
  /** Drops the connection at once: queued chunks are lost, both ends see a disconnect. */
  cut(): void;
  /** Most DATA chunks ever in flight from a to b, and from b to a. */
  maxInFlight(): { ab: number; ba: number };
  /** DATA chunks a wrote so far, and their bytes, headers included. */
  dataFromA(): { chunks: number; bytes: number };
  /** Loses the chunk with this index (0-based, counting every chunk a writes). */
  loseFromA(index: number): void;
  /**
   * Drops the connection when a writes the chunk with this index: the chunks before it
   * arrive, that one and all later ones are lost, and both ends see a disconnect.
   */
  cutAtFromA(index: number): void;
}

/** Makes a pipe whose packets carry at most `chunkSize` bytes. */
export function chunkPipe(chunkSize: number): ChunkPipe {
  const ab = new Lane();
  const ba = new Lane();
  const receivers: { a?: Receiver; b?: Receiver } = {};
  let connected = true;
  let loseIndex = -1;
  let cutIndex = -1;
  /** Stands in the queue where the connection drops. */
  const CUT = new Uint8Array(0);

  const disconnect = (reason: string) => {
    if (!connected) return;
    connected = false;
    ab.queue.length = 0;
    ba.queue.length = 0;
    setImmediate(() => {
      receivers.a?.onDisconnect(reason);
      receivers.b?.onDisconnect(reason);
    });
  };

  const drain = (lane: Lane, to: () => Receiver | undefined) => {
    lane.scheduled = false;
    const bytes = lane.queue.shift();
    if (!bytes || !connected) return;
    if (bytes === CUT) return disconnect('cut inside the stream');
    if (bytes[0] === ChunkKind.data) lane.inFlightData--;
    to()?.onChunk(bytes);
    schedule(lane, to);
  };
  const schedule = (lane: Lane, to: () => Receiver | undefined) => {
    if (lane.scheduled || lane.queue.length === 0) return;
    lane.scheduled = true;
    setImmediate(() => drain(lane, to));
  };

  const port = (lane: Lane, to: () => Receiver | undefined, isA: boolean): ChunkPort => ({
    chunkSize,
    async write(chunk) {
      if (!connected) throw new Error('not connected');
      if (chunk.length > chunkSize) throw new Error(`chunk of ${chunk.length} > ${chunkSize}`);
      const index = lane.written++;
      const data = chunk[0] === ChunkKind.data;
      if (data) {
        lane.dataChunks++;
        lane.dataBytes += chunk.length;
      }
      if (isA && index === loseIndex) return;
      if (isA && index === cutIndex) {
        lane.queue.push(CUT);
        schedule(lane, to);
        return;
      }
      if (data) {
        lane.inFlightData++;
        lane.maxInFlightData = Math.max(lane.maxInFlightData, lane.inFlightData);
      }
      lane.queue.push(chunk.slice());
      schedule(lane, to);
    },
    async end() {
      // Let what is queued arrive first, as an orderly disconnect does.
      while (connected && (ab.queue.length > 0 || ba.queue.length > 0)) {
        await new Promise((r) => setImmediate(r));
      }
      disconnect('ended by a peer');
    },
    abort() {
      disconnect('aborted by a peer');
    },
  });

  return {
    a: port(ab, () => receivers.b, true),
    b: port(ba, () => receivers.a, false),
    attach(a, b) {
      receivers.a = a;
      receivers.b = b;
    },
    cut: () => disconnect('cut'),
    maxInFlight: () => ({ ab: ab.maxInFlightData, ba: ba.maxInFlightData }),
    dataFromA: () => ({ chunks: ab.dataChunks, bytes: ab.dataBytes }),
    loseFromA(index) {
      loseIndex = index;
    },
    cutAtFromA(index) {
      cutIndex = index;
    },
  };
}

/** Two {@link CreditLink}s over one {@link chunkPipe}. */
export function creditLinkPair(
  chunkSize: number,
  options: CreditLinkOptions = {},
): { a: CreditLink; b: CreditLink; pipe: ChunkPipe } {
  const pipe = chunkPipe(chunkSize);
  const a = new CreditLink(pipe.a, options);
  const b = new CreditLink(pipe.b, options);
  pipe.attach(a, b);
  return { a, b, pipe };
}
