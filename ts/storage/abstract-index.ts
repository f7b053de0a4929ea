// What the offset and time indexes share (Kafka's AbstractIndex): fixed-size big-endian entries
// kept in memory, appended to their file in order, searched by the engine. Kafka memory-maps a
// preallocated file; Node has no mmap, so entries live in a growable buffer and the file receives
// only the entries it lacks, at flush, roll and close. Recovery rebuilds what a crash left out.
import { GodelError } from '../errors.js';
import type { LogEngine, SegmentFile } from '../engine/types.js';

const INITIAL_ENTRIES = 64;

export abstract class AbstractIndex {
  protected buf: Buffer;
  protected entryCount = 0;
  /** Entries already written to the file (the file may also hold more, stale ones, until trimmed). */
  private writtenEntries = 0;
  private fileEntries = 0;

  protected constructor(
    protected readonly engine: LogEngine,
    readonly file: SegmentFile,
    readonly baseOffset: bigint,
    readonly maxEntries: number,
    readonly entryBytes: number,
  ) {
    this.buf = Buffer.alloc(Math.min(maxEntries, INITIAL_ENTRIES) * entryBytes);
  }

  get entries(): number {
    return this.entryCount;
  }

  isFull(): boolean {
    return this.entryCount >= this.maxEntries;
  }

  sizeInBytes(): number {
    return this.entryCount * this.entryBytes;
  }

  /** Room for one more entry; callers check isFull() first (a full index rolls the segment). */
  protected reserve(): number {
    if (this.isFull()) throw new GodelError('CORRUPT_INDEX', `index ${this.file.path} is full (${this.maxEntries} entries)`);
    const needed = (this.entryCount + 1) * this.entryBytes;
    if (needed > this.buf.length) {
      const grown = Buffer.alloc(Math.min(this.maxEntries * this.entryBytes, Math.max(needed, this.buf.length * 2)));
      this.buf.copy(grown, 0, 0, this.entryCount * this.entryBytes);
      this.buf = grown;
    }
    return this.entryCount++ * this.entryBytes;
  }

  /** Keeps the first `entries` entries. */
  protected truncateEntries(entries: number): void {
    this.entryCount = Math.min(this.entryCount, entries);
    this.writtenEntries = Math.min(this.writtenEntries, this.entryCount);
  }

  /** Loads entries read from disk (already sanity-checked by the subclass). */
  protected adopt(data: Buffer, entries: number): void {
    this.buf = Buffer.alloc(Math.max(Math.min(this.maxEntries, INITIAL_ENTRIES), entries) * this.entryBytes);
    data.copy(this.buf, 0, 0, entries * this.entryBytes);
    this.entryCount = entries;
    this.writtenEntries = entries;
    this.fileEntries = Math.ceil(data.length / this.entryBytes);
  }

  /** Writes the entries the file lacks and cuts stale ones after them; does not sync. */
  async writePending(): Promise<void> {
    const from = this.writtenEntries;
    const to = this.entryCount;
    if (to > from) {
      await this.file.writev([this.buf.subarray(from * this.entryBytes, to * this.entryBytes)], from * this.entryBytes);
    }
    this.writtenEntries = to;
    if (this.fileEntries > to) await this.file.truncate(to * this.entryBytes);
    this.fileEntries = to;
  }

  async flush(): Promise<void> {
    await this.writePending();
    await this.file.sync();
  }

  /** Drops every entry (before a rebuild); the file's old content is cut at the next write. */
  reset(): void {
    this.entryCount = 0;
    this.writtenEntries = 0;
    this.fileEntries = Infinity;
  }

  async close(): Promise<void> {
    await this.writePending();
    await this.file.close();
  }

  /** Reads the index file whole. */
  protected static async readAll(file: SegmentFile): Promise<Buffer> {
    const size = await file.size();
    const data = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = await file.read(data, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return data.subarray(0, done);
  }
}
