// Idempotent producers (Kafka's ProducerStateManager): per partition, the epoch and the last few
// batches of each producer id, so a retried batch is acknowledged with its original offsets instead
// of being written twice, and a gap in sequence numbers is refused. State is kept in `.snapshot`
// files (at roll and shutdown) and rebuilt from the batches written after the latest snapshot.
import fs from 'node:fs/promises';
import path from 'node:path';
import { PRODUCERS_PER_PARTITION_MAX } from '../limits.js';
import { writeFileAtomic } from './fs-utils.js';
import { filenamePrefixFromOffset, offsetFromFileName } from './log-file-utils.js';

/** Kafka keeps the last five batches per producer: the most a client has in flight. */
const BATCHES_PER_PRODUCER = 5;
const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOTS_KEPT = 2;
const INT32_MAX = 0x7fffffff;

export interface BatchRecord {
  firstSeq: number;
  lastSeq: number;
  firstOffset: bigint;
  lastOffset: bigint;
  /** Set while the batch waits to be written; a duplicate of it waits for the same outcome. */
  written: Promise<void> | null;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchRecord[];
}

export type SequenceCheck =
  | { kind: 'append'; batch: BatchRecord }
  | { kind: 'duplicate'; batch: BatchRecord }
  | { kind: 'error'; error: 'OUT_OF_ORDER_SEQUENCE_NUMBER' | 'INVALID_PRODUCER_EPOCH'; message: string };

function nextSeq(seq: number): number {
  return seq === INT32_MAX ? 0 : seq + 1;
}

export class ProducerStateManager {
  private readonly producers = new Map<bigint, ProducerEntry>();

  constructor(private readonly dir: string) {}

  get producerCount(): number {
    return this.producers.size;
  }

  /**
   * Checks a batch of producer `producerId` before it is queued, and on success records it as
   * pending (offsets filled in by `assigned`). Rules as Kafka's ProducerAppendInfo: an older epoch is
   * fenced; a new epoch starts at sequence 0; within an epoch, a batch equal to one of the last five
   * is a duplicate and anything but the next sequence is out of order. An unknown producer (state
   * expired or never seen) may start anywhere.
   */
  check(producerId: bigint, epoch: number, firstSeq: number, lastSeq: number): SequenceCheck {
    const entry = this.producers.get(producerId);
    const batch: BatchRecord = { firstSeq, lastSeq, firstOffset: -1n, lastOffset: -1n, written: null };
    if (entry === undefined) {
      this.remember(producerId, { epoch, batches: [batch] });
      return { kind: 'append', batch };
    }
    if (epoch < entry.epoch) {
      return { kind: 'error', error: 'INVALID_PRODUCER_EPOCH', message: `producer ${producerId} epoch ${epoch} is older than the current epoch ${entry.epoch}` };
    }
    if (epoch > entry.epoch) {
      if (firstSeq !== 0) {
        return { kind: 'error', error: 'OUT_OF_ORDER_SEQUENCE_NUMBER', message: `producer ${producerId} starts epoch ${epoch} at sequence ${firstSeq}, not 0` };
      }
      this.remember(producerId, { epoch, batches: [batch] });
      return { kind: 'append', batch };
    }
    for (const cached of entry.batches) {
      if (cached.firstSeq === firstSeq && cached.lastSeq === lastSeq) return { kind: 'duplicate', batch: cached };
    }
    const last = entry.batches[entry.batches.length - 1];
    if (last !== undefined && firstSeq !== nextSeq(last.lastSeq)) {
      return {
        kind: 'error', error: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
        message: `producer ${producerId} sent sequence ${firstSeq}, expected ${nextSeq(last.lastSeq)}`,
      };
    }
    entry.batches.push(batch);
    if (entry.batches.length > BATCHES_PER_PRODUCER) entry.batches.shift();
    this.remember(producerId, entry);
    return { kind: 'append', batch };
  }

  /** A pending batch could not be written: forget it, so the client's retry is not a "duplicate". */
  forget(producerId: bigint, batch: BatchRecord): void {
    const entry = this.producers.get(producerId);
    if (entry === undefined) return;
    const at = entry.batches.indexOf(batch);
    if (at >= 0) entry.batches.splice(at);
    if (entry.batches.length === 0) this.producers.delete(producerId);
  }

  /** Replays a batch already in the log (rebuilding state at load). */
  replay(producerId: bigint, epoch: number, firstSeq: number, lastSeq: number, firstOffset: bigint, lastOffset: bigint): void {
    const batch: BatchRecord = { firstSeq, lastSeq, firstOffset, lastOffset, written: null };
    const entry = this.producers.get(producerId);
    if (entry === undefined || epoch > entry.epoch) {
      this.remember(producerId, { epoch, batches: [batch] });
      return;
    }
    if (epoch < entry.epoch) return;
    entry.batches.push(batch);
    if (entry.batches.length > BATCHES_PER_PRODUCER) entry.batches.shift();
  }

  /** The last offset each producer has in the log (batches still being written are left out). */
  lastWrittenOffsets(): Map<bigint, bigint> {
    const last = new Map<bigint, bigint>();
    for (const [producerId, entry] of this.producers) {
      for (const batch of entry.batches) {
        if (batch.lastOffset >= 0n && (last.get(producerId) ?? -1n) < batch.lastOffset) last.set(producerId, batch.lastOffset);
      }
    }
    return last;
  }

  /** Drops state for offsets >= `offset` (truncation) by forgetting producers that wrote there. */
  truncateTo(offset: bigint): void {
    for (const [id, entry] of this.producers) {
      entry.batches = entry.batches.filter((b) => b.lastOffset >= 0n && b.lastOffset < offset);
      if (entry.batches.length === 0) this.producers.delete(id);
    }
  }

  /** Most recently used last; the least recently used producer goes when the map is full. */
  private remember(producerId: bigint, entry: ProducerEntry): void {
    this.producers.delete(producerId);
    this.producers.set(producerId, entry);
    if (this.producers.size > PRODUCERS_PER_PARTITION_MAX) {
      const oldest = this.producers.keys().next().value as bigint;
      this.producers.delete(oldest);
    }
  }

  /** Writes `<offset>.snapshot` with every producer's written batches, and prunes older ones. */
  async takeSnapshot(offset: bigint): Promise<void> {
    const producers = [...this.producers].map(([id, e]) => ({
      producerId: String(id),
      epoch: e.epoch,
      batches: e.batches.filter((b) => b.lastOffset >= 0n && b.lastOffset < offset).map((b) => ({
        firstSeq: b.firstSeq, lastSeq: b.lastSeq, firstOffset: String(b.firstOffset), lastOffset: String(b.lastOffset),
      })),
    })).filter((p) => p.batches.length > 0);
    await writeFileAtomic(path.join(this.dir, filenamePrefixFromOffset(offset) + SNAPSHOT_SUFFIX), JSON.stringify({ version: 1, offset: String(offset), producers }));
    const offsets = await this.snapshotOffsets();
    for (const old of offsets.slice(0, Math.max(0, offsets.length - SNAPSHOTS_KEPT))) {
      await fs.rm(path.join(this.dir, filenamePrefixFromOffset(old) + SNAPSHOT_SUFFIX), { force: true });
    }
  }

  private async snapshotOffsets(): Promise<bigint[]> {
    const names = await fs.readdir(this.dir);
    return names.filter((n) => n.endsWith(SNAPSHOT_SUFFIX)).map(offsetFromFileName)
      .filter((o): o is bigint => o !== null).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Loads the newest readable snapshot at or below `logEndOffset` (snapshots past it describe
   * batches that are gone, and are removed). Returns the offset replay must start from, or null
   * when there is no usable snapshot.
   */
  async loadSnapshot(logEndOffset: bigint): Promise<bigint | null> {
    const offsets = await this.snapshotOffsets();
    for (const offset of offsets.filter((o) => o > logEndOffset)) {
      await fs.rm(path.join(this.dir, filenamePrefixFromOffset(offset) + SNAPSHOT_SUFFIX), { force: true });
    }
    for (const offset of offsets.filter((o) => o <= logEndOffset).reverse()) {
      try {
        const text = await fs.readFile(path.join(this.dir, filenamePrefixFromOffset(offset) + SNAPSHOT_SUFFIX), 'utf8');
        const data = JSON.parse(text) as { version: number; producers: { producerId: string; epoch: number; batches: { firstSeq: number; lastSeq: number; firstOffset: string; lastOffset: string }[] }[] };
        if (data.version !== 1) continue;
        this.producers.clear();
        for (const p of data.producers) {
          this.producers.set(BigInt(p.producerId), {
            epoch: p.epoch,
            batches: p.batches.map((b) => ({ firstSeq: b.firstSeq, lastSeq: b.lastSeq, firstOffset: BigInt(b.firstOffset), lastOffset: BigInt(b.lastOffset), written: null })),
          });
        }
        return offset;
      } catch {
        // A damaged snapshot is skipped: an older one, or a replay, rebuilds the state.
        continue;
      }
    }
    return null;
  }
}
