// Which compacted logs need cleaning, and how far each was cleaned (Kafka's LogCleanerManager).
// A log's "first dirty offset" — where its last cleaning stopped — is kept in the data directory's
// `cleaner-offset-checkpoint` file, in Kafka's checkpoint format. The cleanable range of a log
// runs from there to its first uncleanable offset: the active segment's base offset, or the base
// of the first segment holding records younger than `min.compaction.lag.ms`. A log is cleaned when
// the dirty part is a large enough share of it (`min.cleanable.dirty.ratio`), or at once when a
// dirty segment holds records older than `max.compaction.lag.ms`. The filthiest log goes first.
import path from 'node:path';
import type { Logger } from '../log.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { compacts, deletesOldSegments } from './log-config.js';
import { topicPartitionKey, type TopicPartition } from './log-file-utils.js';
import type { LogSegment } from './log-segment.js';
import type { PartitionLog } from './partition-log.js';

export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

/** A log chosen for cleaning, with its dirty range and the sizes that chose it. */
export interface LogToClean {
  log: PartitionLog;
  /** The log's segments when it was chosen (a cleaning fails harmlessly if they change under it). */
  segments: readonly LogSegment[];
  /** Where the last cleaning stopped: records from here on may have newer versions nowhere else. */
  firstDirtyOffset: bigint;
  /** Base offset of the first segment that may not be cleaned (active, or too young). */
  firstUncleanableOffset: bigint;
  /** Bytes of the segments before the dirty range. */
  cleanBytes: number;
  /** Bytes of the segments of the dirty range that may be cleaned. */
  cleanableBytes: number;
  /** cleanableBytes / (cleanBytes + cleanableBytes). */
  cleanableRatio: number;
  /** A dirty segment holds records older than max.compaction.lag.ms. */
  needCompactionNow: boolean;
  /** How long past max.compaction.lag.ms the oldest dirty record is, in ms (0 when it is not). */
  compactionDelayMs: number;
}

export interface OffsetsToClean {
  firstDirtyOffset: bigint;
  firstUncleanableDirtyOffset: bigint;
  /** The checkpointed offset was outside the log: the checkpoint must be rewritten. */
  forceUpdateCheckpoint: boolean;
}

export class LogCleanerManager {
  private readonly checkpoints = new Map<string, { tp: TopicPartition; offset: bigint }>();
  private readonly inProgress = new Set<string>();
  /** Logs whose cleaning failed for a reason other than an abort; skipped until restart. */
  private readonly uncleanable = new Map<string, string>();
  /** Checkpoint writes, one after the other. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly file: string, private readonly logger: Logger) {}

  /** Reads the data directory's cleaner checkpoint (a damaged one counts as empty: clean from the start). */
  static async open(dataDir: string, logger: Logger): Promise<LogCleanerManager> {
    const manager = new LogCleanerManager(path.join(dataDir, CLEANER_OFFSET_CHECKPOINT_FILE), logger);
    try {
      for (const [key, entry] of await readCheckpoint(manager.file)) manager.checkpoints.set(key, entry);
    } catch (err) {
      logger.warn({ file: manager.file, err: String(err) }, 'ignoring an unreadable cleaner checkpoint; compacted logs are cleaned from their start');
    }
    return manager;
  }

  /** The checkpointed first dirty offset of a log, if any. */
  checkpointOf(tp: TopicPartition): bigint | undefined {
    return this.checkpoints.get(topicPartitionKey(tp))?.offset;
  }

  isInProgress(log: PartitionLog): boolean {
    return this.inProgress.has(topicPartitionKey(log.topicPartition));
  }

  /**
   * The dirty range of a log (Kafka's cleanableOffsets): from the checkpoint (reset to the log start
   * when it lies outside the log) to the first uncleanable offset, never below the first.
   */
  cleanableOffsets(log: PartitionLog, segments: readonly LogSegment[], nowMs: number): OffsetsToClean {
    const logStart = log.logStartOffset;
    const checkpoint = this.checkpointOf(log.topicPartition) ?? logStart;
    let firstDirtyOffset = checkpoint;
    let forceUpdateCheckpoint = false;
    if (checkpoint < logStart) {
      // Retention or DeleteRecords moved the start past the cleaned part: expected with compact,delete.
      if (!deletesOldSegments(log.logConfig)) {
        this.logger.warn({ log: log.describe(), checkpoint: String(checkpoint), logStartOffset: String(logStart) }, 'resetting the first dirty offset to the log start');
      }
      firstDirtyOffset = logStart;
      forceUpdateCheckpoint = true;
    } else if (checkpoint > log.logEndOffset) {
      this.logger.warn({ log: log.describe(), checkpoint: String(checkpoint), logEndOffset: String(log.logEndOffset) }, 'cleaner checkpoint is past the log end; cleaning the whole log');
      firstDirtyOffset = logStart;
      forceUpdateCheckpoint = true;
    }
    const active = segments[segments.length - 1]!;
    let firstUncleanable = active.baseOffset;
    const minLagMs = log.logConfig.minCompactionLagMs;
    if (minLagMs > 0) {
      for (const s of nonActiveSegmentsFrom(segments, firstDirtyOffset)) {
        if (Number(s.maxTimestamp) > nowMs - minLagMs) {
          if (s.baseOffset < firstUncleanable) firstUncleanable = s.baseOffset;
          break;
        }
      }
    }
    return {
      firstDirtyOffset,
      firstUncleanableDirtyOffset: firstUncleanable > firstDirtyOffset ? firstUncleanable : firstDirtyOffset,
      forceUpdateCheckpoint,
    };
  }

  /** The log's dirty range and sizes, or null for a log that does not compact or has no bytes. */
  toClean(log: PartitionLog, nowMs: number): LogToClean | null {
    if (!compacts(log.logConfig) || log.isOffline) return null;
    const segments = log.segmentsSnapshot();
    const offsets = this.cleanableOffsets(log, segments, nowMs);
    if (offsets.forceUpdateCheckpoint) this.setCheckpoint(log.topicPartition, offsets.firstDirtyOffset);
    const compactionDelayMs = maxCompactionDelayMs(log, segments, offsets.firstDirtyOffset, nowMs);
    // Kafka's calculateCleanableBytes: whole segments, up to the one holding the uncleanable offset.
    const uncleanable = nonActiveSegmentsFrom(segments, offsets.firstUncleanableDirtyOffset)[0] ?? segments[segments.length - 1]!;
    const firstUncleanableOffset = uncleanable.baseOffset;
    const from = offsets.firstDirtyOffset < firstUncleanableOffset ? offsets.firstDirtyOffset : firstUncleanableOffset;
    let cleanableBytes = 0;
    for (const s of segmentsOverlapping(segments, from, firstUncleanableOffset)) cleanableBytes += s.size;
    let cleanBytes = 0;
    for (const s of segments) if (s.baseOffset < offsets.firstDirtyOffset) cleanBytes += s.size;
    const totalBytes = cleanBytes + cleanableBytes;
    if (totalBytes === 0) return null;
    return {
      log, segments, firstDirtyOffset: offsets.firstDirtyOffset, firstUncleanableOffset, cleanBytes, cleanableBytes,
      cleanableRatio: cleanableBytes / totalBytes, needCompactionNow: compactionDelayMs > 0, compactionDelayMs,
    };
  }

  /**
   * The logs due for cleaning now, filthiest first (Kafka's grabFilthiestCompactedLog, for all of
   * them): dirty ratio above min.cleanable.dirty.ratio, or records past max.compaction.lag.ms.
   * Logs being cleaned and logs marked uncleanable are left out.
   */
  cleanableLogs(logs: Iterable<PartitionLog>, nowMs: number): LogToClean[] {
    const due: LogToClean[] = [];
    for (const log of logs) {
      const key = topicPartitionKey(log.topicPartition);
      if (this.inProgress.has(key) || this.uncleanable.has(key)) continue;
      const ltc = this.toClean(log, nowMs);
      if (ltc === null) continue;
      if ((ltc.needCompactionNow && ltc.cleanableBytes > 0) || ltc.cleanableRatio > log.logConfig.minCleanableDirtyRatio) due.push(ltc);
    }
    return due.sort((a, b) => b.cleanableRatio - a.cleanableRatio);
  }

  /** Claims a log for cleaning; false when it is already being cleaned. */
  claim(log: PartitionLog): boolean {
    const key = topicPartitionKey(log.topicPartition);
    if (this.inProgress.has(key)) return false;
    this.inProgress.add(key);
    return true;
  }

  release(log: PartitionLog): void {
    this.inProgress.delete(topicPartitionKey(log.topicPartition));
  }

  /** A cleaning reached `endOffset`: the next one starts there. Writes the checkpoint file. */
  async doneCleaning(log: PartitionLog, endOffset: bigint): Promise<void> {
    this.setCheckpoint(log.topicPartition, endOffset);
    await this.writeCheckpoints();
  }

  /** Skips the log until restart (its cleaning failed for a reason that will not go away by itself). */
  markUncleanable(log: PartitionLog, reason: string): void {
    this.uncleanable.set(topicPartitionKey(log.topicPartition), reason);
  }

  isUncleanable(log: PartitionLog): boolean {
    return this.uncleanable.has(topicPartitionKey(log.topicPartition));
  }

  /** A deleted log: forget its checkpoint. */
  async removeLog(tp: TopicPartition): Promise<void> {
    const key = topicPartitionKey(tp);
    this.uncleanable.delete(key);
    if (this.checkpoints.delete(key)) await this.writeCheckpoints();
  }

  private setCheckpoint(tp: TopicPartition, offset: bigint): void {
    this.checkpoints.set(topicPartitionKey(tp), { tp, offset });
  }

  /** Writes every checkpoint, after any write already under way. */
  writeCheckpoints(): Promise<void> {
    const write = this.writing.then(() => writeCheckpoint(this.file, [...this.checkpoints.values()]));
    this.writing = write.catch(() => undefined);
    return write;
  }
}

/** Non-active segments from the one holding `offset` (or the first after it) on. */
function nonActiveSegmentsFrom(segments: readonly LogSegment[], offset: bigint): LogSegment[] {
  const out: LogSegment[] = [];
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    const next = segments[i + 1]!;
    if (next.baseOffset > offset || s.baseOffset >= offset) out.push(s);
  }
  return out;
}

/** Segments whose offsets meet [from, to) (Kafka's logSegments(from, to)). */
export function segmentsOverlapping(segments: readonly LogSegment[], from: bigint, to: bigint): LogSegment[] {
  const out: LogSegment[] = [];
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.baseOffset >= to) break;
    const next = segments[i + 1];
    if (next === undefined || next.baseOffset > from) out.push(s);
  }
  return out;
}

/**
 * How far past `max.compaction.lag.ms` the oldest dirty record is (Kafka's maxCompactionDelay): the
 * earliest first-batch timestamp of the dirty, non-active segments against now − lag; 0 if within.
 */
function maxCompactionDelayMs(log: PartitionLog, segments: readonly LogSegment[], firstDirtyOffset: bigint, nowMs: number): number {
  const lagMs = log.logConfig.maxCompactionLagMs;
  if (!Number.isFinite(lagMs)) return 0;
  let earliest = Infinity;
  for (const s of nonActiveSegmentsFrom(segments, firstDirtyOffset)) {
    const ts = s.rollingBasedTimestampMs;
    if (ts !== undefined && ts > 0 && ts < earliest) earliest = ts;
  }
  const cleanUntilMs = nowMs - lagMs;
  return earliest < cleanUntilMs ? cleanUntilMs - earliest : 0;
}
