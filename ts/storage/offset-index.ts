// Kafka's OffsetIndex: sparse map from offset to file position in a segment. Entries are 8 bytes,
// big-endian: offset relative to the segment's base offset (u32), position in the .log (u32).
import { OFFSET_INDEX_ENTRY_BYTES, type LogEngine, type SegmentFile } from '../engine/types.js';
import { readUint32, writeInt32 } from './record-batch.js';
import { AbstractIndex } from './abstract-index.js';

export interface OffsetPosition {
  offset: bigint;
  position: number;
}

export class OffsetIndex extends AbstractIndex {
  constructor(engine: LogEngine, file: SegmentFile, baseOffset: bigint, maxIndexBytes: number) {
    super(engine, file, baseOffset, Math.floor(maxIndexBytes / OFFSET_INDEX_ENTRY_BYTES), OFFSET_INDEX_ENTRY_BYTES);
  }

  /** Adds an entry; offsets and positions must grow strictly. */
  append(offset: bigint, position: number): void {
    const relative = Number(offset - this.baseOffset);
    if (this.entryCount > 0) {
      const last = this.entryCount - 1;
      if (relative <= this.relativeOffsetAt(last) || position <= this.positionAt(last)) {
        throw new Error(`offset index entry (${offset}, ${position}) does not follow the last one (${this.relativeOffsetAt(last)}, ${this.positionAt(last)}) base ${this.baseOffset} entries ${this.entryCount}`);
      }
    }
    const at = this.reserve();
    writeInt32(this.buf, at, relative);
    writeInt32(this.buf, at + 4, position);
  }

  relativeOffsetAt(slot: number): number {
    return readUint32(this.buf, slot * OFFSET_INDEX_ENTRY_BYTES);
  }

  positionAt(slot: number): number {
    return readUint32(this.buf, slot * OFFSET_INDEX_ENTRY_BYTES + 4);
  }

  /** The greatest entry at or below `offset`, or the segment's start when there is none. */
  lookup(offset: bigint): OffsetPosition {
    const relative = offset - this.baseOffset;
    const target = relative > 0xffffffffn ? 0xffffffff : Number(relative);
    const slot = this.engine.searchOffsetIndex(this.buf, this.entryCount, target);
    if (slot < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + BigInt(this.relativeOffsetAt(slot)), position: this.positionAt(slot) };
  }

  lastEntry(): OffsetPosition {
    if (this.entryCount === 0) return { offset: this.baseOffset, position: 0 };
    const last = this.entryCount - 1;
    return { offset: this.baseOffset + BigInt(this.relativeOffsetAt(last)), position: this.positionAt(last) };
  }

  /** Drops entries for offsets >= `offset`. */
  truncateTo(offset: bigint): void {
    let keep = this.entryCount;
    while (keep > 0 && this.baseOffset + BigInt(this.relativeOffsetAt(keep - 1)) >= offset) keep--;
    this.truncateEntries(keep);
  }

  /**
   * Loads the index file, or returns null when it is unusable (size not a multiple of 8, entries
   * not strictly increasing, or a position past the end of the log): the caller rebuilds it.
   */
  static async load(engine: LogEngine, file: SegmentFile, baseOffset: bigint, maxIndexBytes: number, logSize: number): Promise<OffsetIndex | null> {
    const index = new OffsetIndex(engine, file, baseOffset, maxIndexBytes);
    const data = await AbstractIndex.readAll(file);
    // A preallocated Kafka index ends in zero entries; ours never holds one (the first batch of a
    // segment, at position 0, is never indexed), so trailing zeros are unused space.
    let entries = Math.floor(data.length / OFFSET_INDEX_ENTRY_BYTES);
    if (data.length % OFFSET_INDEX_ENTRY_BYTES !== 0 || entries > index.maxEntries) return null;
    while (entries > 0 && readUint32(data, (entries - 1) * 8) === 0 && readUint32(data, (entries - 1) * 8 + 4) === 0) entries--;
    for (let i = 0; i < entries; i++) {
      const rel = readUint32(data, i * 8);
      const pos = readUint32(data, i * 8 + 4);
      if (pos === 0 || pos >= logSize) return null;
      if (i > 0 && (rel <= readUint32(data, (i - 1) * 8) || pos <= readUint32(data, (i - 1) * 8 + 4))) return null;
    }
    index.adopt(data, entries);
    return index;
  }
}
