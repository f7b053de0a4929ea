// Read-ahead for consumers catching up from disk. A consumer reading a partition from far behind
// fetches the range that starts where its last fetch ended, and waits for the answer before it
// asks again (the Java consumer does not fetch a partition while it still holds its records). A
// disk read costs a thread-pool round trip, a copy of up to a MiB and the CRC checks — half a
// millisecond per MiB on a 2-core VM, on the consumer's critical path. So once a fetch has read a
// well-filled range from disk, the partition starts reading the next one in the background; the
// next fetch at that offset with the same limit takes it, often already in memory.
//
// A range is keyed by fetch offset and by the log's read generation, which truncation and segment
// changes bump: a range read before such a change is never served. A fetch with a smaller byte
// limit than the range was read with takes it too (the log cuts it to whole batches within the
// limit); a larger limit reads afresh. A partition keeps READ_AHEAD_SLOTS_PER_PARTITION ranges:
// more consumers catching up on it at once read as before rather than evict each other's ranges
// (which would read everything twice). Ranges nobody takes go back to the read-buffer pool after
// READ_AHEAD_IDLE_MS; READ_AHEAD_BYTES_MAX bounds what the whole process holds.
import { READ_AHEAD_BYTES_MAX, READ_AHEAD_IDLE_MS, READ_AHEAD_SLOTS_PER_PARTITION } from '../limits.js';

/** Whole batches read ahead, and how to give their buffer back. */
export interface ReadAheadRange {
  records: Buffer;
  release: () => void;
}

interface Slot {
  fetchOffset: bigint;
  limit: number;
  generation: number;
  startedMs: number;
  /** Undefined while reading; null when the read failed or found nothing to serve. */
  range: ReadAheadRange | null | undefined;
  /** Dropped before its read finished: release the range when it arrives. */
  dropped: boolean;
  done: Promise<ReadAheadRange | null>;
}

/** Bytes reserved by every partition's pending and finished ranges. */
let processBytes = 0;
/** Partitions holding ranges, so that an idle partition's ranges can be dropped by others. */
const holders = new Set<ReadAhead>();

export function readAheadBytes(): number {
  return processBytes;
}

export class ReadAhead {
  private slots: Slot[] = [];

  constructor(private readonly nowMs: () => number) {}

  /**
   * The range read ahead for a fetch at `fetchOffset` of at most `limit` bytes, if any; it is the
   * caller's from then on (serve it or release it). Resolves to null when that read failed: read
   * normally instead.
   */
  take(fetchOffset: bigint, limit: number, generation: number): Promise<ReadAheadRange | null> | null {
    this.dropIdle();
    const i = this.slots.findIndex((s) => s.fetchOffset === fetchOffset && s.generation === generation);
    if (i < 0) return null;
    if (this.slots[i]!.limit < limit) {
      // Too short for this consumer, who will not ask for its offset again.
      this.drop(this.slots[i]!);
      return null;
    }
    const [slot] = this.slots.splice(i, 1);
    this.unreserve(slot!);
    return slot!.done;
  }

  /**
   * Starts `read` for the fetch expected next, unless that range is being read already, the
   * partition's slots are taken, or the process holds READ_AHEAD_BYTES_MAX. `read` must not reject.
   */
  start(fetchOffset: bigint, limit: number, generation: number, read: () => Promise<ReadAheadRange | null>): void {
    this.dropIdle();
    if (this.slots.length >= READ_AHEAD_SLOTS_PER_PARTITION || this.slots.some((s) => s.fetchOffset === fetchOffset && s.generation === generation)) return;
    if (processBytes + limit > READ_AHEAD_BYTES_MAX) dropIdleEverywhere();
    if (processBytes + limit > READ_AHEAD_BYTES_MAX) return;
    const slot: Slot = { fetchOffset, limit, generation, startedMs: this.nowMs(), range: undefined, dropped: false, done: Promise.resolve(null) };
    slot.done = read().then((range) => {
      slot.range = range;
      if (slot.dropped) range?.release();
      return slot.dropped ? null : range;
    });
    processBytes += limit;
    this.slots.push(slot);
    holders.add(this);
  }

  /** Drops every range (truncation, segment changes, close). */
  clear(): void {
    while (this.slots.length > 0) this.drop(this.slots[0]!);
  }

  /** Drops ranges nobody took within READ_AHEAD_IDLE_MS. */
  dropIdle(): void {
    const now = this.nowMs();
    for (const slot of [...this.slots]) if (now - slot.startedMs > READ_AHEAD_IDLE_MS) this.drop(slot);
  }

  private drop(slot: Slot): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    this.unreserve(slot);
    slot.dropped = true;
    slot.range?.release();
  }

  private unreserve(slot: Slot): void {
    processBytes -= slot.limit;
    if (this.slots.length === 0) holders.delete(this);
  }
}

function dropIdleEverywhere(): void {
  for (const holder of [...holders]) holder.dropIdle();
}
