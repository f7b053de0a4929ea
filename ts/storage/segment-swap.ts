// Crash-safe replacement of log segments by cleaned ones (Kafka's LocalLog.replaceSegments and the
// swap recovery of its LogLoader), as file-system steps with a fixed order:
//
//   1. The cleaner writes each new segment as `<base>.log.cleaned` (+ `.index.cleaned`,
//      `.timeindex.cleaned`) and fsyncs the three files.
//   2. New segments, in descending base offset, are renamed `.cleaned` → `.swap` (the `.log` last),
//      then the directory is fsynced. The swap is committed when no `.cleaned` file is left.
//   3. The old segments' files are renamed `.deleted` (removed later, after file.delete.delay.ms).
//   4. The new segments' `.swap` files get their final names (the `.log` first); directory fsync.
//
// Recovery (recoverInterruptedSwaps, called by the loader before it lists segments):
//   - `.deleted` files are removed (the loader does this);
//   - a `.cleaned` file means step 2 did not finish: every `.cleaned` file is removed, and so is
//     every `.swap` file at or above the lowest `.cleaned` base offset (renamed in step 2 of the same
//     interrupted swap, which renames from the highest offset down) — the old segments stay;
//   - the remaining `.swap` files are committed swaps: each `<base>.log.swap` replaces every old
//     segment whose base offset lies in [base, its next offset), so those old files are removed,
//     then every `.swap` file is renamed to its final name.
// The cleaner makes the second rule exact: a cleaned segment always keeps the last batch of the
// segments it replaces (see log-cleaner.ts), so its offsets reach the end of the last one. After a
// crash at any step the log therefore holds either all the old segments or all the new ones.
//
// Test hook: GODEL_TEST_CRASH_AT=<step> kills this process with SIGKILL when a swap reaches <step>
// (one of SWAP_CRASH_POINTS). It is read once at load and costs one comparison per step otherwise.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LogEngine, SegmentFile } from '../engine/types.js';
import type { Logger } from '../log.js';
import { scanBatches } from './batch-scanner.js';
import { fsyncDir } from './fs-utils.js';
import {
  CLEANED_FILE_SUFFIX,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  offsetFromFileName,
  segmentFilePath,
  SWAP_FILE_SUFFIX,
  TIME_INDEX_FILE_SUFFIX,
} from './log-file-utils.js';
import { OffsetIndex } from './offset-index.js';
import { baseOffsetOf, lastOffsetDeltaOf, maxTimestampOf, NO_TIMESTAMP } from './record-batch.js';
import type { SegmentSettings } from './log-segment.js';
import { TimeIndex } from './time-index.js';

/** Where GODEL_TEST_CRASH_AT may stop a swap, in the order a swap passes them. */
export const SWAP_CRASH_POINTS = [
  'before-swap-rename', // cleaned files written and fsynced, nothing renamed
  'during-swap-rename', // the first `.cleaned` file renamed to `.swap`, the others not
  'after-swap-rename', // every new file is `.swap` and the directory fsynced: the commit point
  'during-delete-rename', // the first old segment renamed `.deleted`, the others not
  'after-delete-rename', // every old segment renamed `.deleted`
  'during-final-rename', // the first `.swap` file has its final name, the others not
  'after-final-rename', // the swap is done on disk
] as const;
export type SwapCrashPoint = (typeof SWAP_CRASH_POINTS)[number];

const crashAt = process.env.GODEL_TEST_CRASH_AT;

function crashPoint(step: SwapCrashPoint): void {
  if (crashAt === step) process.kill(process.pid, 'SIGKILL');
}

/** The files of a segment, `.log` last (the order of the `.cleaned` → `.swap` renames). */
const SUFFIXES_LOG_LAST = [INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX] as const;
/** The files of a segment, `.log` first (the order of the final renames). */
const SUFFIXES_LOG_FIRST = [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX] as const;

/**
 * Writes one cleaned segment as `.cleaned` files: whole batches appended in offset order, with the
 * sparse offset and time indexes built as LogSegment builds them. finish() fsyncs and closes the
 * files; discard() removes them.
 */
export class CleanedSegmentWriter {
  /** Bytes written to the `.log.cleaned` file. */
  size = 0;
  /** The offset after the last batch written (the base offset while empty). */
  nextOffset: bigint;
  private maxTimestamp = NO_TIMESTAMP;
  private offsetOfMaxTimestamp: bigint;
  private bytesSinceLastIndexEntry = 0;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly baseOffset: bigint,
    private readonly log: SegmentFile,
    private readonly offsetIndex: OffsetIndex,
    private readonly timeIndex: TimeIndex,
    private readonly settings: SegmentSettings,
  ) {
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
  }

  static async create(engine: LogEngine, dir: string, baseOffset: bigint, settings: SegmentSettings): Promise<CleanedSegmentWriter> {
    const opened: SegmentFile[] = [];
    try {
      for (const suffix of [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX]) {
        const file = await engine.openSegmentFile(segmentFilePath(dir, baseOffset, suffix) + CLEANED_FILE_SUFFIX, { create: true });
        opened.push(file);
        await file.truncate(0);
      }
    } catch (err) {
      await Promise.allSettled(opened.map((f) => f.close()));
      await removeCleanedFiles(dir, baseOffset);
      throw err;
    }
    const [log, index, time] = opened as [SegmentFile, SegmentFile, SegmentFile];
    return new CleanedSegmentWriter(
      dir, baseOffset, log,
      new OffsetIndex(engine, index, baseOffset, settings.segmentIndexBytes),
      new TimeIndex(engine, time, baseOffset, settings.segmentIndexBytes),
      settings,
    );
  }

  /** Appends buffers, each holding whole batches back to back, with one writev. */
  async append(buffers: readonly Buffer[]): Promise<void> {
    if (buffers.length === 0) return;
    const position = this.size;
    await this.log.writev(buffers, position);
    let at = position;
    for (const buf of buffers) {
      for (let pos = 0; pos < buf.length;) {
        const size = buf.readInt32BE(pos + 8) + 12;
        this.indexBatch(buf, pos, size, at);
        pos += size;
        at += size;
      }
    }
  }

  /** LogSegment.indexBatch, for a segment nobody reads yet. */
  private indexBatch(buf: Buffer, pos: number, size: number, filePosition: number): void {
    const last = baseOffsetOf(buf, pos) + BigInt(lastOffsetDeltaOf(buf, pos));
    if (last < this.nextOffset || last - this.baseOffset > 0xffffffffn) {
      throw new Error(`cleaned batch ending at ${last} does not belong after offset ${this.nextOffset} in segment ${this.baseOffset}`);
    }
    const ts = maxTimestampOf(buf, pos);
    if (ts > this.maxTimestamp) {
      this.maxTimestamp = ts;
      this.offsetOfMaxTimestamp = last;
    }
    if (this.bytesSinceLastIndexEntry > this.settings.indexIntervalBytes && filePosition > 0 && !this.offsetIndex.isFull() && !this.timeIndex.isFull()) {
      this.offsetIndex.append(last, filePosition);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.nextOffset = last + 1n;
    this.size = filePosition + size;
  }

  /** Writes the indexes, fsyncs all three files and closes them: the segment is ready to swap in. */
  async finish(): Promise<void> {
    await this.offsetIndex.flush();
    await this.timeIndex.flush();
    await this.log.sync();
    await this.close();
  }

  /** Closes and removes the `.cleaned` files (a cleaning that was aborted or failed). */
  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await removeCleanedFiles(this.dir, this.baseOffset);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const results = await Promise.allSettled([this.log.close(), this.offsetIndex.close(), this.timeIndex.close()]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}

async function removeCleanedFiles(dir: string, baseOffset: bigint): Promise<void> {
  await Promise.allSettled([LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX].map((suffix) =>
    fs.rm(segmentFilePath(dir, baseOffset, suffix) + CLEANED_FILE_SUFFIX, { force: true })));
}

/** What swapSegmentFiles needs of an old segment: LogSegment.markDeleted. */
export interface ReplacedSegment {
  readonly baseOffset: bigint;
  /** Renames the segment's files to `.deleted`; returns the new paths. */
  markDeleted(): Promise<string[]>;
}

/**
 * Steps 2 to 4 above: swaps the finished `.cleaned` segments at `newBaseOffsets` in for `old`.
 * Returns the `.deleted` paths of the old files, for the caller to remove once no read uses them.
 * A failure part way leaves the directory in a state recovery completes or rolls back.
 */
export async function swapSegmentFiles(dir: string, newBaseOffsets: readonly bigint[], old: readonly ReplacedSegment[]): Promise<string[]> {
  const descending = [...newBaseOffsets].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  crashPoint('before-swap-rename');
  let first = true;
  for (const base of descending) {
    for (const suffix of SUFFIXES_LOG_LAST) {
      const file = segmentFilePath(dir, base, suffix);
      await fs.rename(file + CLEANED_FILE_SUFFIX, file + SWAP_FILE_SUFFIX);
      if (first) crashPoint('during-swap-rename');
      first = false;
    }
  }
  await fsyncDir(dir);
  crashPoint('after-swap-rename');
  const deleted: string[] = [];
  for (const segment of old) {
    deleted.push(...await segment.markDeleted());
    crashPoint('during-delete-rename');
  }
  crashPoint('after-delete-rename');
  first = true;
  for (const base of [...descending].reverse()) {
    for (const suffix of SUFFIXES_LOG_FIRST) {
      const file = segmentFilePath(dir, base, suffix);
      await fs.rename(file + SWAP_FILE_SUFFIX, file);
      if (first) crashPoint('during-final-rename');
      first = false;
    }
  }
  await fsyncDir(dir);
  crashPoint('after-final-rename');
  return deleted;
}

export interface SwapRecovery {
  /** `.cleaned` and `.swap` files of interrupted swaps that were rolled back (removed). */
  rolledBack: string[];
  /** Committed swaps that were finished: the `.swap` files renamed into place. */
  completed: string[];
  /** Old segment files that a completed swap replaced (removed). */
  replaced: string[];
}

/**
 * The recovery rules above, for a log directory at load, before its segments are listed. Leaves
 * no `.cleaned` or `.swap` file behind.
 */
export async function recoverInterruptedSwaps(engine: LogEngine, dir: string, logger: Logger): Promise<SwapRecovery> {
  const names = await fs.readdir(dir);
  const result: SwapRecovery = { rolledBack: [], completed: [], replaced: [] };
  let minCleaned: bigint | null = null;
  for (const name of names) {
    if (!name.endsWith(CLEANED_FILE_SUFFIX)) continue;
    const offset = offsetFromFileName(name);
    if (offset !== null && (minCleaned === null || offset < minCleaned)) minCleaned = offset;
    result.rolledBack.push(name);
  }
  const swaps: string[] = [];
  for (const name of names) {
    if (!name.endsWith(SWAP_FILE_SUFFIX)) continue;
    const offset = offsetFromFileName(name);
    if (offset === null || (minCleaned !== null && offset >= minCleaned)) result.rolledBack.push(name);
    else swaps.push(name);
  }
  for (const name of result.rolledBack) await fs.rm(path.join(dir, name), { force: true });
  // Each committed `.log.swap` covers [base, next offset): old segments there are replaced.
  const ranges: { from: bigint; to: bigint }[] = [];
  for (const name of swaps) {
    if (!name.endsWith(LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX)) continue;
    const from = offsetFromFileName(name)!;
    ranges.push({ from, to: await nextOffsetOf(engine, path.join(dir, name), from) });
  }
  for (const name of names) {
    const offset = offsetFromFileName(name);
    if (offset === null || !SUFFIXES_LOG_FIRST.some((suffix) => name.endsWith(suffix))) continue;
    if (ranges.some((r) => offset >= r.from && offset < r.to)) {
      await fs.rm(path.join(dir, name), { force: true });
      result.replaced.push(name);
    }
  }
  // `.log` first, as in the swap itself.
  swaps.sort((a, b) => Number(b.endsWith(LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX)) - Number(a.endsWith(LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX)));
  for (const name of swaps) {
    await fs.rename(path.join(dir, name), path.join(dir, name.slice(0, -SWAP_FILE_SUFFIX.length)));
    result.completed.push(name);
  }
  if (result.rolledBack.length > 0 || result.completed.length > 0) {
    await fsyncDir(dir);
    logger.info({ log: dir, ...result }, 'recovered an interrupted segment swap');
  }
  return result;
}

/** The offset after the last whole batch of a segment file (its base offset when it has none). */
async function nextOffsetOf(engine: LogEngine, file: string, baseOffset: bigint): Promise<bigint> {
  const handle = await engine.openSegmentFile(file, { create: false });
  try {
    let next = baseOffset;
    await scanBatches(engine, handle, 0, await handle.size(), false, (buf, pos) => {
      next = baseOffsetOf(buf, pos) + BigInt(lastOffsetDeltaOf(buf, pos)) + 1n;
      return true;
    });
    return next;
  } finally {
    await handle.close();
  }
}
