// Kafka's LogSegment: a `.log` file of record batches plus its sparse `.index` and `.timeindex`,
// all named by the segment's base offset. The segment tracks what is visible (`size`), the offset
// after its last batch, and the largest timestamp (for retention and lookup by time).
import fs from 'node:fs/promises';
import type { LogEngine, SegmentFile } from '../engine/types.js';
import { BATCH_BYTES_MAX } from '../limits.js';
import { readFully, scanBatches, type ScanResult } from './batch-scanner.js';
import {
  DELETED_FILE_SUFFIX,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  segmentFilePath,
  TIME_INDEX_FILE_SUFFIX,
} from './log-file-utils.js';
import { OffsetIndex } from './offset-index.js';
import { acquireReadBuffer, releaseReadBuffer } from './read-buffer-pool.js';
import {
  baseOffsetOf,
  batchSize,
  hasValidCrc,
  LOG_OVERHEAD,
  lastOffsetDeltaOf,
  lastOffsetOf,
  maxTimestampOf,
  NO_TIMESTAMP,
  readInt32,
  RECORD_BATCH_OVERHEAD,
  type BatchError,
} from './record-batch.js';
import { TimeIndex } from './time-index.js';

/** Header bytes up to and including lastOffsetDelta. */
const BATCH_HEADER_STEP_BYTES = 27;
/** Read ends remembered per segment: about one per consumer reading it. */
const READ_ENDS_KEPT = 4;

/** A read ended at `position`, right before the batch holding `offset` (or the first after it). */
interface ReadEnd {
  offset: bigint;
  position: number;
}

export interface SegmentSettings {
  indexIntervalBytes: number;
  segmentIndexBytes: number;
}

/** Whole batches read from a segment: `buf[start, end)`. */
export interface SegmentRead {
  buf: Buffer;
  start: number;
  end: number;
  /** Offset of the first batch returned. */
  firstOffset: bigint;
  /** A batch failed its CRC right after the returned ones (or as the first: then start === end). */
  corruption: BatchError | null;
}

export class LogSegment {
  /** Bytes of whole batches in the file that readers may see. */
  size = 0;
  /** The offset after the last batch (the base offset when empty). */
  nextOffset: bigint;
  maxTimestamp = NO_TIMESTAMP;
  offsetOfMaxTimestamp: bigint;
  /** When the segment got its first batch (ms), for `segment.ms` rolls; undefined while empty. */
  rollingBasedTimestampMs: number | undefined;
  private bytesSinceLastIndexEntry = 0;
  /**
   * Where recent reads ended. A consumer's next fetch starts at the offset after its last batch,
   * and starting from here costs neither an index lookup nor a header read (a thread-pool round
   * trip). Truncation forgets them; `readEndsEpoch` keeps a read that overlapped it from adding one.
   */
  private readonly readEnds: ReadEnd[] = [];
  private readEndsEpoch = 0;
  /** Bytes written since the last fsync of the log file. */
  unflushedBytes = 0;
  /** The background flush after a roll, which must end before the files close. */
  flushing: Promise<void> | null = null;

  private constructor(
    private readonly engine: LogEngine,
    readonly dir: string,
    readonly baseOffset: bigint,
    readonly log: SegmentFile,
    public offsetIndex: OffsetIndex,
    public timeIndex: TimeIndex,
    private readonly settings: SegmentSettings,
  ) {
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
  }

  get logPath(): string {
    return this.log.path;
  }

  /**
   * Creates an empty segment (three new files; stale ones of the same name are emptied). On failure
   * the files already created are removed: a stray empty `.log` left by a failed roll would sit
   * inside the log's offsets once appends moved past it, and the next start would take it for an
   * overlapping segment and drop every segment after it.
   */
  static async create(engine: LogEngine, dir: string, baseOffset: bigint, settings: SegmentSettings): Promise<LogSegment> {
    let files: [SegmentFile, SegmentFile, SegmentFile];
    try {
      files = await openFiles(engine, dir, baseOffset, true);
      try {
        await Promise.all(files.map((f) => f.truncate(0)));
      } catch (err) {
        await Promise.allSettled(files.map((f) => f.close()));
        throw err;
      }
    } catch (err) {
      await Promise.allSettled([LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX].map((suffix) =>
        fs.rm(segmentFilePath(dir, baseOffset, suffix), { force: true })));
      throw err;
    }
    const [log, index, timeIndex] = files;
    return new LogSegment(
      engine, dir, baseOffset, log,
      new OffsetIndex(engine, index, baseOffset, settings.segmentIndexBytes),
      new TimeIndex(engine, timeIndex, baseOffset, settings.segmentIndexBytes),
      settings,
    );
  }

  /**
   * Opens an existing segment. Indexes that are missing or fail their sanity check are rebuilt
   * from the log. `recover` re-validates every batch and cuts the file at the first bad one.
   */
  static async open(
    engine: LogEngine,
    dir: string,
    baseOffset: bigint,
    settings: SegmentSettings,
    recover: boolean,
  ): Promise<{ segment: LogSegment; truncatedBytes: number; error: BatchError | null; rebuiltIndexes: boolean }> {
    const log = await engine.openSegmentFile(segmentFilePath(dir, baseOffset, LOG_FILE_SUFFIX), { create: false });
    let indexFile: SegmentFile | undefined;
    let timeFile: SegmentFile | undefined;
    try {
      const index = await openIndexFile(engine, segmentFilePath(dir, baseOffset, INDEX_FILE_SUFFIX));
      indexFile = index.file;
      const time = await openIndexFile(engine, segmentFilePath(dir, baseOffset, TIME_INDEX_FILE_SUFFIX));
      timeFile = time.file;
      const fileSize = await log.size();
      // A missing index file is recreated empty, which would pass for a sound index without entries.
      const missing = index.created || time.created;
      const offsetIndex = recover || missing ? null : await OffsetIndex.load(engine, indexFile, baseOffset, settings.segmentIndexBytes, fileSize);
      const timeIndex = recover || offsetIndex === null ? null : await TimeIndex.load(engine, timeFile, baseOffset, settings.segmentIndexBytes);
      const segment = new LogSegment(
        engine, dir, baseOffset, log,
        offsetIndex ?? new OffsetIndex(engine, indexFile, baseOffset, settings.segmentIndexBytes),
        timeIndex ?? new TimeIndex(engine, timeFile, baseOffset, settings.segmentIndexBytes),
        settings,
      );
      const rebuild = offsetIndex === null || timeIndex === null;
      if (rebuild) {
        // Recovery validates every batch. Rebuilding the index of a segment known to be on disk only
        // needs sane lengths: a flipped bit there is caught by the CRC check when it is read, and
        // must not cost the rest of the segment.
        segment.offsetIndex.reset();
        segment.timeIndex.reset();
        const result = await segment.rebuild(fileSize, recover);
        const truncatedBytes = fileSize - segment.size;
        if (truncatedBytes > 0) await log.truncate(segment.size);
        await segment.offsetIndex.writePending();
        await segment.timeIndex.writePending();
        return { segment, truncatedBytes, error: result.error, rebuiltIndexes: true };
      }
      // Indexes are sound: only the tail after the last index entry needs a look, for the offset
      // after the last batch and the largest timestamp.
      const result = await segment.loadTail(fileSize);
      const truncatedBytes = fileSize - segment.size;
      if (truncatedBytes > 0) {
        await log.truncate(segment.size);
      }
      return { segment, truncatedBytes, error: result.error, rebuiltIndexes: false };
    } catch (err) {
      await Promise.allSettled([log.close(), indexFile?.close(), timeFile?.close()]);
      throw err;
    }
  }

  /** Walks every batch from the start, rebuilding both indexes; stops at the first bad batch. */
  private async rebuild(fileSize: number, verify: boolean): Promise<ScanResult> {
    this.size = 0;
    this.bytesSinceLastIndexEntry = 0;
    const result = await scanBatches(this.engine, this.log, 0, fileSize, verify, this.indexVisitor);
    return this.finishScan(result, fileSize);
  }

  /**
   * Reads the batches after the last offset index entry. Only their structure is checked: this
   * path runs for segments known to be on disk, whose CRCs are checked when they are read.
   */
  private async loadTail(fileSize: number): Promise<ScanResult> {
    const last = this.offsetIndex.lastEntry();
    const lastTime = this.timeIndex.lastEntry();
    if (lastTime !== null) {
      this.maxTimestamp = lastTime.timestamp;
      this.offsetOfMaxTimestamp = lastTime.offset;
    }
    this.size = last.position;
    this.bytesSinceLastIndexEntry = 0;
    // The batch at the last entry is already indexed: with no bytes counted since that entry,
    // indexBatch() adds no entry for it and only tracks its offsets and timestamps.
    const result = await scanBatches(this.engine, this.log, last.position, fileSize, false, this.indexVisitor);
    if (this.size > 0) await this.loadRollingTimestamp();
    return this.finishScan(result, fileSize);
  }

  /** `segment.ms` counts from the first batch's timestamp (Kafka's rollingBasedTimestamp). */
  private async loadRollingTimestamp(): Promise<void> {
    const header = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD);
    if ((await readFully(this.log, header, RECORD_BATCH_OVERHEAD, 0)) < RECORD_BATCH_OVERHEAD) return;
    const ts = maxTimestampOf(header, 0);
    this.rollingBasedTimestampMs = ts >= 0n ? Number(ts) : undefined;
  }

  /** A scan the visitor stopped early found a batch whose offsets do not belong here: corruption. */
  private finishScan(result: ScanResult, end: number): ScanResult {
    if (result.error === null && result.position < end) {
      return { position: result.position, error: { error: 'CORRUPT_MESSAGE', message: 'batch offsets go back or leave this segment' } };
    }
    return result;
  }

  /** A batch belongs here only if its offsets do not go back and fit a u32 relative offset. */
  private fits(buf: Buffer, pos: number): boolean {
    const base = baseOffsetOf(buf, pos);
    const last = base + BigInt(lastOffsetDeltaOf(buf, pos));
    return base >= this.nextOffset && last - this.baseOffset <= 0xffffffffn;
  }

  /** Scan visitor: batches whose offsets belong here are indexed; any other stops the scan. */
  private readonly indexVisitor = (buf: Buffer, pos: number, size: number, filePosition: number): boolean => {
    if (!this.fits(buf, pos)) return false;
    this.indexBatch(buf, pos, size, filePosition);
    return true;
  };

  /**
   * Records a batch now in the file at `filePosition` (Kafka's LogSegment.append, per batch): an
   * index entry when more than `index.interval.bytes` passed since the last one, then the batch's
   * offsets and timestamps. Batches must arrive in file order.
   */
  indexBatch(buf: Uint8Array, pos: number, size: number, filePosition: number): void {
    const last = baseOffsetOf(buf, pos) + BigInt(lastOffsetDeltaOf(buf, pos));
    const ts = maxTimestampOf(buf, pos);
    if (ts > this.maxTimestamp) {
      this.maxTimestamp = ts;
      this.offsetOfMaxTimestamp = last;
    }
    if (this.rollingBasedTimestampMs === undefined && ts >= 0n) this.rollingBasedTimestampMs = Number(ts);
    if (this.bytesSinceLastIndexEntry > this.settings.indexIntervalBytes && filePosition > 0) {
      this.offsetIndex.append(last, filePosition);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.nextOffset = last + 1n;
    this.size = filePosition + size;
  }

  /** Whether one more index entry may be needed and there is no room: the log must roll first. */
  indexesFull(): boolean {
    return this.offsetIndex.isFull() || this.timeIndex.isFull();
  }

  /**
   * Reads whole batches starting with the one containing `offset`, up to `maxBytes` (at least one
   * batch even when larger), stopping before any batch at or past `maxOffset`. Every batch
   * returned passed its CRC; a bad one ends the read and is reported. Null when no batch here has
   * offsets at or past `offset`.
   */
  async read(offset: bigint, maxBytes: number, maxOffset: bigint, minOneBatch = true): Promise<SegmentRead | null> {
    if (offset >= this.nextOffset || this.size === 0) return null;
    const visibleEnd = this.size;
    const epoch = this.readEndsEpoch;
    let position = this.readEnds.find((e) => e.offset === offset && e.position < visibleEnd)?.position ?? -1;
    if (position < 0) {
      const indexed = this.offsetIndex.lookup(offset);
      position = indexed.position;
      if (indexed.offset < offset && position > 0) position = await this.stepOverEarlierBatch(position, offset, visibleEnd);
    }
    // First read: from there, enough to pass the index gap (none after a read end) and fill maxBytes.
    let length = Math.min(visibleEnd - position, maxBytes + this.settings.indexIntervalBytes + RECORD_BATCH_OVERHEAD);
    // Each round either returns or moves to a later position with the exact length needed, so a
    // handful of rounds always suffice; the bound only guards against a broken invariant.
    for (let round = 0; round < 64; round++) {
      // A pooled buffer: the caller may give it back (releaseReadBuffer) once done with the read.
      const buf = acquireReadBuffer(Math.max(length, LOG_OVERHEAD));
      let found: ReturnType<LogSegment['collect']>;
      try {
        const got = await readFully(this.log, buf, length, position);
        found = this.collect(buf, got, offset, maxBytes, maxOffset, position, visibleEnd, minOneBatch);
      } catch (err) {
        releaseReadBuffer(buf);
        throw err;
      }
      if (found.kind === 'done') {
        if (epoch === this.readEndsEpoch) this.noteReadEnd(found.read, position);
        return found.read;
      }
      releaseReadBuffer(buf);
      if (found.kind === 'none') return null;
      // The wanted batches start at found.position but did not fit this read: read exactly them.
      position = found.position;
      length = Math.min(visibleEnd - position, Math.max(found.firstSize, maxBytes));
    }
    throw new Error(`segment ${this.logPath}: read of offset ${offset} did not converge`);
  }

  /** Remembers where `read` (whose buffer starts at `filePosition`) ended, and the offset next. */
  private noteReadEnd(read: SegmentRead, filePosition: number): void {
    if (read.corruption !== null || read.end === read.start) return;
    let last = read.start;
    for (let pos = read.start; pos < read.end; pos += batchSize(read.buf, pos)) last = pos;
    const offset = lastOffsetOf(read.buf, last) + 1n;
    const position = filePosition + read.end;
    if (this.readEnds.some((e) => e.offset === offset)) return;
    if (this.readEnds.length >= READ_ENDS_KEPT) this.readEnds.shift();
    this.readEnds.push({ offset, position });
  }

  /**
   * An index entry names the last offset of the batch at its position, so the batch found for
   * `offset` often ends just before it: a consumer's next fetch starts right after a batch. Its
   * header says how long it is; stepping over it keeps the data read within maxBytes plus the
   * index gap (else every such fetch read a whole batch too many, came up short at the end, and
   * read everything again). Returns `position` unchanged when in doubt; collect() then decides.
   */
  private async stepOverEarlierBatch(position: number, offset: bigint, visibleEnd: number): Promise<number> {
    const header = Buffer.allocUnsafe(BATCH_HEADER_STEP_BYTES);
    if (position + BATCH_HEADER_STEP_BYTES > visibleEnd) return position;
    if ((await readFully(this.log, header, BATCH_HEADER_STEP_BYTES, position)) < BATCH_HEADER_STEP_BYTES) return position;
    const size = readInt32(header, 8) + LOG_OVERHEAD;
    if (size < RECORD_BATCH_OVERHEAD || size > BATCH_BYTES_MAX || position + size >= visibleEnd) return position;
    return baseOffsetOf(header, 0) + BigInt(lastOffsetDeltaOf(header, 0)) < offset ? position + size : position;
  }

  private collect(
    buf: Buffer,
    got: number,
    offset: bigint,
    maxBytes: number,
    maxOffset: bigint,
    filePosition: number,
    visibleEnd: number,
    minOneBatch: boolean,
  ): { kind: 'done'; read: SegmentRead } | { kind: 'none' } | { kind: 'more'; position: number; firstSize: number } {
    let pos = 0;
    let start = -1;
    let firstOffset = -1n;
    while (pos + LOG_OVERHEAD <= got) {
      const size = readInt32(buf, pos + 8) + LOG_OVERHEAD;
      if (size < RECORD_BATCH_OVERHEAD || size > BATCH_BYTES_MAX) {
        return this.corrupt(buf, start, pos, firstOffset, `impossible batch length at position ${filePosition + pos}`);
      }
      if (start < 0 && !minOneBatch && size > maxBytes && baseOffsetOf(buf, pos) + BigInt(lastOffsetDeltaOf(buf, pos)) >= offset) {
        // The wanted batch does not fit and the caller did not ask for one regardless.
        return { kind: 'done', read: { buf, start: pos, end: pos, firstOffset: baseOffsetOf(buf, pos), corruption: null } };
      }
      if (pos + size > got) {
        if (start < 0) return { kind: 'more', position: filePosition + pos, firstSize: size };
        // Batches after the first one that do not fit: fetch them next time unless budget remains.
        if (pos - start + size <= maxBytes && filePosition + got < visibleEnd) {
          return { kind: 'more', position: filePosition + start, firstSize: pos - start + size };
        }
        break;
      }
      const base = baseOffsetOf(buf, pos);
      if (base >= maxOffset) break;
      if (start < 0) {
        if (base + BigInt(lastOffsetDeltaOf(buf, pos)) < offset) {
          pos += size;
          continue;
        }
        start = pos;
        firstOffset = base;
      } else if (pos - start + size > maxBytes) {
        break;
      }
      if (!hasValidCrc(this.engine, buf, pos, size)) {
        return this.corrupt(buf, start, pos, firstOffset, `CRC32C mismatch in the batch at offset ${base}, position ${filePosition + pos} of ${this.logPath}`);
      }
      pos += size;
    }
    if (start < 0) {
      // Nothing at or after `offset` in what was read: more may follow if the read stopped early.
      if (filePosition + got < visibleEnd && pos > 0) return { kind: 'more', position: filePosition + pos, firstSize: RECORD_BATCH_OVERHEAD };
      return { kind: 'none' };
    }
    return { kind: 'done', read: { buf, start, end: pos, firstOffset, corruption: null } };
  }

  private corrupt(
    buf: Buffer,
    start: number,
    pos: number,
    firstOffset: bigint,
    message: string,
  ): { kind: 'done'; read: SegmentRead } {
    const from = start < 0 ? pos : start;
    return { kind: 'done', read: { buf, start: from, end: pos, firstOffset, corruption: { error: 'CORRUPT_MESSAGE', message } } };
  }

  /**
   * Cuts the segment before the first batch whose last offset is >= `offset` (Kafka truncates at
   * batch boundaries). Returns the bytes removed.
   */
  async truncateTo(offset: bigint): Promise<number> {
    if (offset >= this.nextOffset) return 0;
    this.forgetReadEnds();
    try {
      return await this.truncateFrom(offset);
    } finally {
      this.forgetReadEnds();
    }
  }

  private forgetReadEnds(): void {
    this.readEnds.length = 0;
    this.readEndsEpoch++;
  }

  private async truncateFrom(offset: bigint): Promise<number> {
    const indexed = this.offsetIndex.lookup(offset);
    let cut = -1;
    const scan = await scanBatches(this.engine, this.log, indexed.position, this.size, false, (buf, pos, _size, filePosition) => {
      if (baseOffsetOf(buf, pos) + BigInt(lastOffsetDeltaOf(buf, pos)) >= offset) {
        cut = filePosition;
        return false;
      }
      return true;
    });
    if (cut < 0) cut = scan.position;
    const removed = this.size - cut;
    this.offsetIndex.truncateTo(offset);
    this.timeIndex.truncateTo(offset);
    await this.log.truncate(cut);
    // Re-derive the offsets and timestamps of what remains from the last index entry on.
    this.nextOffset = this.baseOffset;
    this.maxTimestamp = NO_TIMESTAMP;
    this.offsetOfMaxTimestamp = this.baseOffset;
    this.rollingBasedTimestampMs = undefined;
    const tail = await this.loadTail(cut);
    if (tail.error !== null) throw new Error(`segment ${this.logPath} is corrupt below the truncation point: ${tail.error.message}`);
    await this.offsetIndex.writePending();
    await this.timeIndex.writePending();
    return removed;
  }

  /** Writes pending index entries and fsyncs the log and both indexes. */
  async flush(): Promise<void> {
    await this.log.sync();
    this.unflushedBytes = 0;
    await Promise.all([this.offsetIndex.flush(), this.timeIndex.flush()]);
  }

  async close(): Promise<void> {
    await this.flushing;
    const results = await Promise.allSettled([this.log.close(), this.offsetIndex.close(), this.timeIndex.close()]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Renames the three files with a `.deleted` suffix; they are removed later by deleteFiles(). */
  async markDeleted(): Promise<string[]> {
    const renamed: string[] = [];
    for (const suffix of [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX]) {
      const from = segmentFilePath(this.dir, this.baseOffset, suffix);
      const to = from + DELETED_FILE_SUFFIX;
      try {
        await fs.rename(from, to);
        renamed.push(to);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return renamed;
  }
}

/** Opens an index file, creating it when it is missing; `created` says which it was. */
async function openIndexFile(engine: LogEngine, path: string): Promise<{ file: SegmentFile; created: boolean }> {
  try {
    return { file: await engine.openSegmentFile(path, { create: false }), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { file: await engine.openSegmentFile(path, { create: true }), created: true };
}

async function openFiles(engine: LogEngine, dir: string, baseOffset: bigint, create: boolean): Promise<[SegmentFile, SegmentFile, SegmentFile]> {
  const opened: SegmentFile[] = [];
  try {
    for (const suffix of [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX]) {
      opened.push(await engine.openSegmentFile(segmentFilePath(dir, baseOffset, suffix), { create }));
    }
  } catch (err) {
    await Promise.allSettled(opened.map((f) => f.close()));
    throw err;
  }
  return opened as [SegmentFile, SegmentFile, SegmentFile];
}
