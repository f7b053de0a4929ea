// Kafka's TimeIndex: sparse map from timestamp to offset in a segment. Entries are 12 bytes,
// big-endian: the largest timestamp seen so far (i64), and the relative offset (u32) of the batch
// that carries it. Timestamps only grow along the index.
import { TIME_INDEX_ENTRY_BYTES, type LogEngine, type SegmentFile } from '../engine/types.js';
import { readInt64, readUint32, writeInt32, writeInt64 } from './record-batch.js';
import { AbstractIndex } from './abstract-index.js';

export interface TimestampOffset {
  timestamp: bigint;
  offset: bigint;
}

export class TimeIndex extends AbstractIndex {
  constructor(engine: LogEngine, file: SegmentFile, baseOffset: bigint, maxIndexBytes: number) {
    super(engine, file, baseOffset, Math.floor(maxIndexBytes / TIME_INDEX_ENTRY_BYTES), TIME_INDEX_ENTRY_BYTES);
  }

  /** Adds an entry when `timestamp` is larger than the last one (else there is nothing to add). */
  maybeAppend(timestamp: bigint, offset: bigint): void {
    if (this.entryCount > 0) {
      const last = this.entryCount - 1;
      if (timestamp <= this.timestampAt(last)) return;
      if (offset - this.baseOffset < BigInt(this.relativeOffsetAt(last))) {
        throw new Error(`time index entry (${timestamp}, ${offset}) goes back in offsets`);
      }
    }
    const at = this.reserve();
    writeInt64(this.buf, at, timestamp);
    writeInt32(this.buf, at + 8, Number(offset - this.baseOffset));
  }

  timestampAt(slot: number): bigint {
    return readInt64(this.buf, slot * TIME_INDEX_ENTRY_BYTES);
  }

  relativeOffsetAt(slot: number): number {
    return readUint32(this.buf, slot * TIME_INDEX_ENTRY_BYTES + 8);
  }

  /** The greatest entry whose timestamp is <= `timestamp`, or null when there is none. */
  lookup(timestamp: bigint): TimestampOffset | null {
    const slot = this.engine.searchTimeIndex(this.buf, this.entryCount, timestamp);
    if (slot < 0) return null;
    return { timestamp: this.timestampAt(slot), offset: this.baseOffset + BigInt(this.relativeOffsetAt(slot)) };
  }

  lastEntry(): TimestampOffset | null {
    if (this.entryCount === 0) return null;
    const last = this.entryCount - 1;
    return { timestamp: this.timestampAt(last), offset: this.baseOffset + BigInt(this.relativeOffsetAt(last)) };
  }

  /** Drops entries for offsets >= `offset`. */
  truncateTo(offset: bigint): void {
    let keep = this.entryCount;
    while (keep > 0 && this.baseOffset + BigInt(this.relativeOffsetAt(keep - 1)) >= offset) keep--;
    this.truncateEntries(keep);
  }

  /** Loads the file, or null when it is unusable (bad size, timestamps or offsets going back). */
  static async load(engine: LogEngine, file: SegmentFile, baseOffset: bigint, maxIndexBytes: number): Promise<TimeIndex | null> {
    const index = new TimeIndex(engine, file, baseOffset, maxIndexBytes);
    const data = await AbstractIndex.readAll(file);
    const entries = data.length / TIME_INDEX_ENTRY_BYTES;
    if (!Number.isInteger(entries) || entries > index.maxEntries) return null;
    for (let i = 1; i < entries; i++) {
      const prev = (i - 1) * TIME_INDEX_ENTRY_BYTES;
      const at = i * TIME_INDEX_ENTRY_BYTES;
      if (readInt64(data, at) <= readInt64(data, prev) || readUint32(data, at + 8) < readUint32(data, prev + 8)) return null;
    }
    index.adopt(data, entries);
    return index;
  }
}
