// One partition's log (Kafka's UnifiedLog for a single replica): an ordered list of segments, the
// last one active. Appends are validated at once, then queued; one drain loop assigns offsets in
// order, stamps them into the batches and writes whole groups of appends with a single writev.
// In durable mode (flush.messages=1) an append is acknowledged only after an fdatasync, and
// appends arriving while one is in flight share the next (group commit).
import fs from 'node:fs/promises';
import type { Clock } from '../clock.js';
import type { LogEngine } from '../engine/types.js';
import { GodelError, type GodelErrorCode } from '../errors.js';
import {
  PARTITION_APPEND_BYTES_QUEUED_MAX,
  PARTITION_APPENDS_QUEUED_MAX,
  READ_BYTES_MAX,
  READ_SEGMENTS_MAX,
  WRITEV_BUFFERS_MAX,
} from '../limits.js';
import type { Logger } from '../log.js';
import { checkRecordKeys } from './log-cleaner.js';
import { compacts, deletesOldSegments, type LogConfig } from './log-config.js';
import type { TopicPartition } from './log-file-utils.js';
import { LogSegment, type SegmentRead } from './log-segment.js';
import { fsyncDir } from './fs-utils.js';
import { Mutex } from './mutex.js';
import {
  baseOffsetOf,
  baseSequenceOf,
  baseTimestampOf,
  batchSize,
  CompressionCodec,
  lastOffsetOf,
  compressionCodecOf,
  lastOffsetDeltaOf,
  maxTimestampOf,
  producerEpochOf,
  producerIdOf,
  setLogAppendTime,
  stampBatch,
  TIMESTAMP_TYPE_MASK,
  attributesOf,
  isControlBatch,
  recordsCountOf,
  validateProducedBatch,
  type BatchError,
} from './record-batch.js';
import { ProducerStateManager, type BatchRecord } from './producer-state-manager.js';
import { forEachRecord, newRecordView } from './records.js';
import { planRetention, type RetentionReason } from './retention.js';
import { swapSegmentFiles } from './segment-swap.js';
import { releaseReadBuffer } from './read-buffer-pool.js';
import { TailCache } from './tail-cache.js';

/** Bytes one writev may carry: large enough to amortise the syscall, small enough to bound latency. */
const WRITE_GROUP_BYTES_MAX = 8 * 1024 * 1024;
/** Bytes read at a time while looking for a timestamp inside a segment. */
const TIMESTAMP_SCAN_BYTES = 1024 * 1024;
/** Bytes read at a time while rebuilding producer state. */
const PRODUCER_REPLAY_BYTES = 1024 * 1024;

export interface AppendInfo {
  baseOffset: bigint;
  lastOffset: bigint;
  /** The broker time stamped into the batches under LogAppendTime, else -1. */
  logAppendTimeMs: number;
  logStartOffset: bigint;
  recordCount: number;
}

export interface AppendOptions {
  /** The partition leader epoch stamped into each batch. */
  leaderEpoch?: number;
}

export interface LogReadResult {
  /** Whole record batches, possibly none (at the log end). */
  records: Buffer;
  logStartOffset: bigint;
  logEndOffset: bigint;
  /**
   * Gives the buffer behind `records` back for reuse (read-buffer-pool.ts). Optional to call; only
   * once nothing reads `records` any more (the fetch response holding it is written).
   */
  release: (() => void) | null;
}

export interface ReadOptions {
  /** Serve no batch whose base offset is at or past this (the high watermark, in a cluster). */
  maxOffset?: bigint;
  /**
   * Return the first batch even when it is larger than maxBytes (default true). A fetch sets it
   * only for the first partition with data (KIP-74), so the response stays within its limit.
   */
  minOneBatch?: boolean;
}

/** A producer batch checked at append time, completed when its write succeeds or fails. */
interface ProducerBatch {
  producerId: bigint;
  batch: BatchRecord;
  settle: (error: Error | null) => void;
}

interface PendingAppend {
  buf: Buffer;
  producerBatches: ProducerBatch[] | null;
  bytes: number;
  recordCount: number;
  leaderEpoch: number;
  logAppendTimeMs: number;
  maxTimestamp: bigint;
  baseOffset: bigint;
  lastOffset: bigint;
  resolve: (info: AppendInfo) => void;
  reject: (err: Error) => void;
}

export interface PartitionLogOptions {
  engine: LogEngine;
  dir: string;
  topicPartition: TopicPartition;
  config: LogConfig;
  clock: Clock;
  logger: Logger;
  segments: LogSegment[];
  logStartOffset: bigint;
  recoveryPoint: bigint;
}

export class PartitionLog {
  readonly topicPartition: TopicPartition;
  readonly dir: string;
  private config: LogConfig;
  private readonly engine: LogEngine;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly segments: LogSegment[];
  private _logStartOffset: bigint;
  private _recoveryPoint: bigint;
  private readonly queue: PendingAppend[] = [];
  private queuedBytes = 0;
  private draining = false;
  private readonly mutex = new Mutex();
  private offline: Error | null = null;
  /** Settles when every durable-mode group written so far was acknowledged or refused. */
  private durableAcks: Promise<void> = Promise.resolve();
  private closed = false;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  /** Deleted segments waiting for `file.delete.delay.ms`, and the removals under way. */
  private readonly delayedDeletes = new Map<NodeJS.Timeout, () => Promise<void>>();
  private readonly runningDeletes = new Set<Promise<void>>();
  /** A compacted log got a batch whose keys could not be checked (codec); warned once. */
  private warnedUncheckedKeys = false;
  /** Called after each group of appends becomes visible (wakes long-polling fetches). */
  onAppend: (() => void) | undefined;
  /** The newest batches of the active segment, for fetches at the tail (tail-cache.ts). */
  private readonly tail: TailCache;
  readonly producerState: ProducerStateManager;

  constructor(options: PartitionLogOptions) {
    if (options.segments.length === 0) throw new Error('a partition log needs at least one segment');
    this.topicPartition = options.topicPartition;
    this.dir = options.dir;
    this.config = options.config;
    this.engine = options.engine;
    this.clock = options.clock;
    this.logger = options.logger;
    this.segments = options.segments;
    this._logStartOffset = options.logStartOffset > this.segments[0]!.baseOffset ? options.logStartOffset : this.segments[0]!.baseOffset;
    this._recoveryPoint = options.recoveryPoint;
    this.lastFlushMs = this.clock.nowMs();
    this.producerState = new ProducerStateManager(this.dir);
    this.tail = new TailCache(() => this.clock.nowMs());
  }

  get logStartOffset(): bigint {
    return this._logStartOffset;
  }

  /** The offset the next appended record gets; everything below it is written and readable. */
  get logEndOffset(): bigint {
    return this.activeSegment.nextOffset;
  }

  /** Offsets below this are known to be on disk (fsynced). */
  get recoveryPoint(): bigint {
    return this._recoveryPoint;
  }

  get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  get isOffline(): boolean {
    return this.offline !== null;
  }

  /** Closed or deleted: no more appends, reads or cleaning. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes of all segments. */
  size(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  /** Base offsets of the segments, oldest first (for tools and tests). */
  segmentBaseOffsets(): bigint[] {
    return this.segments.map((s) => s.baseOffset);
  }

  /**
   * The segments as they are now, oldest first, the active one last (a copy of the list). For the
   * cleaner, which reads segments other than the active one: those never change while in the log.
   */
  segmentsSnapshot(): LogSegment[] {
    return this.segments.slice();
  }

  get logConfig(): LogConfig {
    return this.config;
  }

  /** Applies a new config at runtime (retention, roll and flush settings take effect at once). */
  updateConfig(config: LogConfig): void {
    this.config = config;
  }

  /**
   * Appends the record batches a producer sent (one or more, back to back). Every batch is
   * validated before anything is queued; a bad one refuses the whole append and writes nothing.
   */
  append(records: Buffer, options: AppendOptions = {}): Promise<AppendInfo> {
    const refusal = this.refusal();
    if (refusal !== null) return Promise.reject(refusal);
    const nowMs = this.clock.nowMs();
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime';
    const rules = {
      maxMessageBytes: this.config.maxMessageBytes,
      timestampBeforeMaxMs: this.config.messageTimestampBeforeMaxMs,
      timestampAfterMaxMs: this.config.messageTimestampAfterMaxMs,
      logAppendTime,
      nowMs,
    };
    if (records.length === 0) return Promise.reject(new GodelError('INVALID_RECORD', 'an append needs at least one record batch'));
    let recordCount = 0;
    let maxTimestamp = -1n;
    for (let pos = 0; pos < records.length;) {
      const size = validateProducedBatch(this.engine, records, pos, records.length, rules);
      if (typeof size !== 'number') return Promise.reject(batchError(size));
      recordCount += lastOffsetDeltaOf(records, pos) + 1;
      if (logAppendTime) setLogAppendTime(this.engine, records, pos, size, nowMs);
      const ts = maxTimestampOf(records, pos);
      if (ts > maxTimestamp) maxTimestamp = ts;
      pos += size;
    }
    if (compacts(this.config)) {
      const keyless = this.refuseKeyless(records);
      if (keyless !== null) return Promise.reject(keyless);
    }
    if (this.queue.length >= PARTITION_APPENDS_QUEUED_MAX || this.queuedBytes + records.length > PARTITION_APPEND_BYTES_QUEUED_MAX) {
      return Promise.reject(new GodelError('QUEUE_FULL', `${this.describe()}: too many appends queued; retry later`));
    }
    const checked = this.checkProducers(records);
    if (checked instanceof GodelError) return Promise.reject(checked);
    if (checked !== null && 'duplicate' in checked) return this.duplicateOf(checked.duplicate, recordCount);
    return new Promise<AppendInfo>((resolve, reject) => {
      this.queue.push({
        buf: records, producerBatches: checked, bytes: records.length, recordCount, leaderEpoch: options.leaderEpoch ?? 0,
        logAppendTimeMs: logAppendTime ? nowMs : -1, maxTimestamp, baseOffset: -1n, lastOffset: -1n, resolve, reject,
      });
      this.queuedBytes += records.length;
      if (!this.draining) void this.drain();
    });
  }

  /**
   * A compacted topic keeps the latest record per key, so a record without a key has no place in
   * it: Kafka refuses the append with INVALID_RECORD, and so does Gödel. Batches compressed with a
   * codec Gödel cannot inflate (snappy, lz4, zstd) are let through unchecked, with one warning.
   */
  private refuseKeyless(records: Buffer): GodelError | null {
    for (let pos = 0; pos < records.length; pos += batchSize(records, pos)) {
      const check = checkRecordKeys(records, pos, batchSize(records, pos));
      if (check.kind === 'keyless') {
        return new GodelError('INVALID_RECORD', `Compacted topic cannot accept message without key in topic partition ${this.describe()}.`);
      }
      if (check.kind === 'corrupt') return new GodelError('CORRUPT_MESSAGE', `${this.describe()}: ${check.message}`);
      if (check.kind === 'unchecked' && !this.warnedUncheckedKeys) {
        this.warnedUncheckedKeys = true;
        this.logger.warn({ log: this.describe(), codec: CompressionCodec[check.codec] ?? check.codec },
          'compacted log accepted a batch whose keys cannot be checked (codec not supported here); the cleaner keeps such batches whole');
      }
    }
    return null;
  }

  /**
   * Idempotence: checks every batch that carries a producer id against the producer's state.
   * Returns the batches now pending, a duplicate to answer from, an error, or null (no producer).
   */
  private checkProducers(records: Buffer): ProducerBatch[] | { duplicate: BatchRecord } | GodelError | null {
    let pending: ProducerBatch[] | null = null;
    const single = batchSize(records, 0) === records.length;
    for (let pos = 0; pos < records.length; pos += batchSize(records, pos)) {
      const producerId = producerIdOf(records, pos);
      if (producerId < 0n) continue;
      const firstSeq = baseSequenceOf(records, pos);
      const lastSeq = (firstSeq + lastOffsetDeltaOf(records, pos)) % 0x80000000;
      const result = this.producerState.check(producerId, producerEpochOf(records, pos), firstSeq, lastSeq);
      if (result.kind === 'error') {
        for (const p of pending ?? []) this.producerState.forget(p.producerId, p.batch);
        return new GodelError(result.error, `${this.describe()}: ${result.message}`);
      }
      if (result.kind === 'duplicate') {
        if (single) return { duplicate: result.batch };
        for (const p of pending ?? []) this.producerState.forget(p.producerId, p.batch);
        return new GodelError('OUT_OF_ORDER_SEQUENCE_NUMBER', `${this.describe()}: a duplicate batch inside a multi-batch append`);
      }
      const batch = result.batch;
      let settle!: (error: Error | null) => void;
      batch.written = new Promise<void>((resolve, reject) => {
        settle = (error) => (error === null ? resolve() : reject(error));
      });
      batch.written.catch(() => undefined);
      (pending ??= []).push({ producerId, batch, settle });
    }
    return pending;
  }

  /** A retried batch already in the log (or on its way): answer with its offsets, write nothing. */
  private async duplicateOf(batch: BatchRecord, recordCount: number): Promise<AppendInfo> {
    if (batch.written !== null) await batch.written;
    return { baseOffset: batch.firstOffset, lastOffset: batch.lastOffset, logAppendTimeMs: -1, logStartOffset: this._logStartOffset, recordCount };
  }

  /** Completes (or forgets, on failure) the producer batches of an append. */
  private settleProducers(item: PendingAppend, error: Error | null): void {
    if (item.producerBatches === null) return;
    for (const p of item.producerBatches) {
      if (error !== null) this.producerState.forget(p.producerId, p.batch);
      p.batch.written = null;
      p.settle(error);
    }
  }

  /**
   * Rebuilds idempotent-producer state at load: the newest snapshot, then every batch after it
   * (from the active segment when there is no snapshot: older producers count as unknown, which
   * only means an old retry is not recognised).
   */
  async loadProducerState(): Promise<void> {
    const fromSnapshot = await this.producerState.loadSnapshot(this.logEndOffset);
    let offset = fromSnapshot ?? this.activeSegment.baseOffset;
    if (offset < this._logStartOffset) offset = this._logStartOffset;
    while (offset < this.logEndOffset) {
      let records: Buffer;
      try {
        records = (await this.read(offset, PRODUCER_REPLAY_BYTES)).records;
      } catch (err) {
        this.logger.warn({ log: this.describe(), offset: String(offset), err: String(err) }, 'stopped rebuilding producer state early');
        return;
      }
      if (records.length === 0) return;
      for (let pos = 0; pos < records.length; pos += batchSize(records, pos)) {
        const base = baseOffsetOf(records, pos);
        const last = lastOffsetOf(records, pos);
        const producerId = producerIdOf(records, pos);
        if (producerId >= 0n && last >= offset) {
          const firstSeq = baseSequenceOf(records, pos);
          this.producerState.replay(producerId, producerEpochOf(records, pos), firstSeq,
            (firstSeq + lastOffsetDeltaOf(records, pos)) % 0x80000000, base, last);
        }
        if (last + 1n > offset) offset = last + 1n;
      }
    }
  }

  private async snapshotProducers(offset: bigint): Promise<void> {
    try {
      await this.producerState.takeSnapshot(offset);
    } catch (err) {
      this.logger.warn({ log: this.describe(), err: String(err) }, 'could not write a producer state snapshot');
    }
  }

  private refusal(): GodelError | null {
    if (this.offline !== null) return new GodelError('LOG_OFFLINE', `${this.describe()} is offline after a storage failure: ${this.offline.message}`);
    if (this.closed) return new GodelError('CLOSED', `${this.describe()} is closed`);
    return null;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        await this.mutex.runExclusive(() => this.writeNextGroup());
      }
    } finally {
      this.draining = false;
    }
  }

  /** Takes appends from the queue that fit the active segment and writes them with one writev. */
  private async writeNextGroup(): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== null) {
      this.failQueued(refusal);
      return;
    }
    const first = this.queue[0]!;
    if (this.shouldRoll(first)) {
      try {
        await this.roll();
      } catch (err) {
        // Could not create the next segment (disk full, I/O error): refuse this append only.
        this.queue.shift();
        this.queuedBytes -= first.bytes;
        this.fail(first, storageError(this, 'could not roll a new segment', err));
        return;
      }
    }
    const segment = this.activeSegment;
    const group: PendingAppend[] = [];
    const buffers: Buffer[] = [];
    let bytes = 0;
    let nextOffset = segment.nextOffset;
    while (this.queue.length > 0 && group.length < WRITEV_BUFFERS_MAX) {
      const item = this.queue[0]!;
      if (group.length > 0 && (bytes + item.bytes > WRITE_GROUP_BYTES_MAX || this.shouldRoll(item, bytes))) break;
      this.queue.shift();
      this.queuedBytes -= item.bytes;
      item.baseOffset = nextOffset;
      let producerBatch = 0;
      for (let pos = 0; pos < item.buf.length;) {
        const size = batchSize(item.buf, pos);
        stampBatch(item.buf, pos, nextOffset, item.leaderEpoch);
        const last = nextOffset + BigInt(lastOffsetDeltaOf(item.buf, pos));
        if (item.producerBatches !== null && producerIdOf(item.buf, pos) >= 0n) {
          const p = item.producerBatches[producerBatch++]!;
          p.batch.firstOffset = nextOffset;
          p.batch.lastOffset = last;
        }
        nextOffset = last + 1n;
        pos += size;
      }
      item.lastOffset = nextOffset - 1n;
      group.push(item);
      buffers.push(item.buf);
      bytes += item.bytes;
    }
    const position = segment.size;
    try {
      await segment.log.writev(buffers, position);
    } catch (err) {
      await this.undoWrite(segment, position, err);
      const error = storageError(this, 'write failed', err);
      for (const item of group) this.fail(item, error);
      return;
    }
    let at = position;
    for (const item of group) {
      for (let pos = 0; pos < item.buf.length;) {
        const size = batchSize(item.buf, pos);
        segment.indexBatch(item.buf, pos, size, at);
        pos += size;
        at += size;
      }
    }
    segment.unflushedBytes += bytes;
    this.tail.append(buffers, bytes, group[0]!.baseOffset, nextOffset);
    let messages = 0;
    for (const item of group) messages += item.recordCount;
    this.unflushedMessages += messages;
    this.onAppend?.();
    if (this.unflushedMessages >= this.config.flushMessages) {
      // Durable mode: acknowledge after the fdatasync. Not awaited here, so the next group is
      // written while this sync runs and joins the following one.
      this.unflushedMessages = 0;
      const upTo = nextOffset;
      // A failed fdatasync takes the log offline at once. Acknowledgements go out in offset order,
      // each group after the ones before it, and none once the log is offline: an fdatasync of a
      // newer segment, or one that succeeds after a failed one (which may have dropped dirty
      // pages), says nothing about earlier data, and an append after lost data must not be acked.
      const synced = segment.log.sync().then(
        () => null,
        (err: unknown) => {
          this.takeOffline('fdatasync failed', err);
          return err;
        },
      );
      this.durableAcks = this.durableAcks.then(() => synced).then((failure) => {
        if (failure !== null) {
          const error = storageError(this, 'fdatasync failed', failure);
          for (const item of group) this.fail(item, error);
        } else if (this.offline !== null) {
          const error = new GodelError('LOG_OFFLINE', `${this.describe()} went offline before this append was durable: ${this.offline.message}`);
          for (const item of group) this.fail(item, error);
        } else {
          this.advanceRecoveryPoint(upTo, segment);
          for (const item of group) this.succeed(item);
        }
      });
      return;
    }
    for (const item of group) this.succeed(item);
  }

  private succeed(item: PendingAppend): void {
    this.settleProducers(item, null);
    item.resolve(this.appendInfo(item));
  }

  private fail(item: PendingAppend, error: Error): void {
    this.settleProducers(item, error);
    item.reject(error);
  }

  private appendInfo(item: PendingAppend): AppendInfo {
    return {
      baseOffset: item.baseOffset,
      lastOffset: item.lastOffset,
      logAppendTimeMs: item.logAppendTimeMs,
      logStartOffset: this._logStartOffset,
      recordCount: item.recordCount,
    };
  }

  /** A failed writev may have left a prefix in the file: cut it, or go offline if that fails too. */
  private async undoWrite(segment: LogSegment, position: number, cause: unknown): Promise<void> {
    this.logger.error({ log: this.describe(), err: String(cause) }, 'append write failed; cutting the partial write');
    try {
      await segment.log.truncate(position);
    } catch (err) {
      this.takeOffline('could not cut a partial write', err);
    }
  }

  private takeOffline(what: string, cause: unknown): void {
    if (this.offline !== null) return;
    this.offline = cause instanceof Error ? cause : new Error(String(cause));
    this.logger.error({ log: this.describe(), err: String(cause) }, `${what}; the log is offline and refuses appends and reads`);
    this.failQueued(new GodelError('LOG_OFFLINE', `${this.describe()} is offline: ${what}`));
  }

  private failQueued(error: GodelError): void {
    const queued = this.queue.splice(0, this.queue.length);
    this.queuedBytes = 0;
    for (const item of queued) this.fail(item, error);
  }

  private shouldRoll(item: PendingAppend, pendingBytes = 0): boolean {
    const segment = this.activeSegment;
    const size = segment.size + pendingBytes;
    if (size === 0) return false;
    if (size + item.bytes > this.config.segmentBytes) return true;
    if (segment.indexesFull()) return true;
    // Relative offsets are u32: the segment must roll before they would overflow.
    if (segment.nextOffset + BigInt(item.recordCount) - segment.baseOffset > 0x7fffffffn) return true;
    const segmentMs = this.maxSegmentMs();
    if (segment.rollingBasedTimestampMs !== undefined && Number.isFinite(segmentMs)) {
      const reference = item.maxTimestamp >= 0n && item.logAppendTimeMs < 0 ? Number(item.maxTimestamp) : this.clock.nowMs();
      if (reference - segment.rollingBasedTimestampMs > segmentMs - this.config.segmentJitterMs) return true;
    }
    return false;
  }

  /**
   * Kafka's LogConfig.maxSegmentMs: a compacted log also rolls when its active segment is older than
   * max.compaction.lag.ms, since the cleaner never touches the active segment.
   */
  private maxSegmentMs(): number {
    if (compacts(this.config) && this.config.maxCompactionLagMs < this.config.segmentMs) return this.config.maxCompactionLagMs;
    return this.config.segmentMs;
  }

  /** Starts a new active segment at the log end; the old one is flushed in the background. */
  private async roll(): Promise<void> {
    const old = this.activeSegment;
    const baseOffset = old.nextOffset;
    const segment = await LogSegment.create(this.engine, this.dir, baseOffset, this.segmentSettings());
    await fsyncDir(this.dir);
    // The cache holds the active segment only: the cleaner may rewrite the others.
    this.tail.clear();
    this.segments.push(segment);
    this.logger.debug({ log: this.describe(), baseOffset: String(baseOffset) }, 'rolled a new segment');
    old.flushing = this.flushSegment(old, baseOffset);
    void this.snapshotProducers(baseOffset);
  }

  private segmentSettings(): { indexIntervalBytes: number; segmentIndexBytes: number } {
    return { indexIntervalBytes: this.config.indexIntervalBytes, segmentIndexBytes: this.config.segmentIndexBytes };
  }

  private async flushSegment(segment: LogSegment, upTo: bigint): Promise<void> {
    try {
      await segment.flush();
      this.advanceRecoveryPoint(upTo, segment);
    } catch (err) {
      this.takeOffline(`flushing segment ${segment.baseOffset} failed`, err);
    }
  }

  /** The recovery point moves only past segments that are all fsynced. */
  private advanceRecoveryPoint(upTo: bigint, synced: LogSegment): void {
    for (const s of this.segments) {
      if (s === synced) break;
      if (s.unflushedBytes > 0) return;
    }
    if (upTo > this._recoveryPoint) this._recoveryPoint = upTo;
  }

  /**
   * Flushes every segment with unflushed data (log and indexes) and moves the recovery point to the
   * log end as it was when the flush began. Used by flush.ms, checkpoints and shutdown.
   */
  async flush(): Promise<void> {
    if (this.offline !== null) throw this.refusal();
    await this.mutex.runExclusive(async () => {
      const upTo = this.logEndOffset;
      try {
        for (const segment of this.segments) {
          await segment.flushing;
          if (segment.unflushedBytes > 0 || segment === this.activeSegment) await segment.flush();
        }
      } catch (err) {
        this.takeOffline('flush failed', err);
        throw storageError(this, 'flush failed', err);
      }
      this.unflushedMessages = 0;
      this.lastFlushMs = this.clock.nowMs();
      if (upTo > this._recoveryPoint) this._recoveryPoint = upTo;
    });
  }

  /** Whether `flush.ms` has passed since the last flush and there is something to flush. */
  flushDue(): boolean {
    if (!Number.isFinite(this.config.flushMs) || this.offline !== null || this.closed) return false;
    if (this._recoveryPoint >= this.logEndOffset) return false;
    return this.clock.nowMs() - this.lastFlushMs >= this.config.flushMs;
  }

  /**
   * Reads whole batches starting with the one that contains `fetchOffset`, up to `maxBytes` but at
   * least one batch. Empty at the log end. OFFSET_OUT_OF_RANGE outside [logStart, logEnd];
   * a batch that fails its CRC is never served: it ends the read, or fails it if it comes first.
   */
  async read(fetchOffset: bigint, maxBytes: number, options: ReadOptions = {}): Promise<LogReadResult> {
    const refusal = this.refusal();
    if (refusal !== null) throw refusal;
    const logEndOffset = this.logEndOffset;
    if (fetchOffset < this._logStartOffset || fetchOffset > logEndOffset) {
      throw new GodelError('OFFSET_OUT_OF_RANGE',
        `offset ${fetchOffset} is outside ${this.describe()}'s range [${this._logStartOffset}, ${logEndOffset}]`);
    }
    const empty = { records: Buffer.alloc(0), logStartOffset: this._logStartOffset, logEndOffset, release: null };
    const maxOffset = options.maxOffset ?? logEndOffset;
    const limit = Math.max(1, Math.min(maxBytes, READ_BYTES_MAX));
    if (fetchOffset >= logEndOffset) this.tail.noteTailReader();
    if (fetchOffset >= maxOffset) return empty;
    const cached = this.tail.read(fetchOffset, limit, maxOffset, options.minOneBatch ?? true);
    if (cached !== null) return { records: cached.records, logStartOffset: this._logStartOffset, logEndOffset, release: cached.release };
    for (let i = this.segmentIndexFor(fetchOffset); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.baseOffset >= maxOffset) break;
      const read = await segment.read(fetchOffset, limit, maxOffset, options.minOneBatch ?? true);
      if (read === null) continue;
      if (read.corruption !== null) {
        this.logger.error({ log: this.describe(), segment: segment.logPath, reason: read.corruption.message }, 'corrupt batch found on read; not served');
        if (read.end === read.start) throw new GodelError('CORRUPT_MESSAGE', `${this.describe()}: ${read.corruption.message}`);
      }
      let records = read.buf.subarray(read.start, read.end);
      let release: (() => void) | null = () => releaseReadBuffer(read.buf);
      if (read.corruption === null && records.length < limit && !hasRecordsFrom(records, fetchOffset)) {
        const more = await this.readOn(records, fetchOffset, limit, maxOffset);
        if (more !== records) {
          // readOn copied everything into a buffer of its own.
          release();
          release = null;
          records = more;
        }
      }
      return { records, logStartOffset: this._logStartOffset, logEndOffset, release };
    }
    return empty;
  }

  /**
   * Compaction leaves batches that are empty, or whose records all lie before the fetch offset, at
   * the end of segments. Some clients (KafkaJS) make no progress on a fetch that returns only such
   * batches, so the read goes on into the next segments until it holds a batch with records at or
   * after the fetch offset, its byte budget is spent, or READ_SEGMENTS_MAX segments were read.
   */
  private async readOn(first: Buffer, fetchOffset: bigint, limit: number, maxOffset: bigint): Promise<Buffer> {
    const parts = [first];
    const buffers: Buffer[] = [];
    let bytes = first.length;
    let next = lastBatchEnd(first);
    for (let segmentsRead = 1; bytes < limit && next < maxOffset && segmentsRead < READ_SEGMENTS_MAX;) {
      let read: SegmentRead | null = null;
      let segment: LogSegment | undefined;
      for (let i = this.segmentIndexFor(next); i < this.segments.length && read === null && segmentsRead < READ_SEGMENTS_MAX; i++) {
        segment = this.segments[i]!;
        if (segment.baseOffset >= maxOffset) break;
        segmentsRead++;
        read = await segment.read(next, limit - bytes, maxOffset, false);
      }
      if (read === null || read.start === read.end) break;
      const part = read.buf.subarray(read.start, read.end);
      parts.push(part);
      buffers.push(read.buf);
      bytes += part.length;
      if (read.corruption !== null) {
        this.logger.error({ log: this.describe(), segment: segment?.logPath, reason: read.corruption.message }, 'corrupt batch found on read; not served');
        break;
      }
      if (hasRecordsFrom(part, fetchOffset)) break;
      next = lastBatchEnd(part);
    }
    if (parts.length === 1) return first;
    const joined = Buffer.concat(parts, bytes);
    for (const buf of buffers) releaseReadBuffer(buf);
    return joined;
  }

  /** Index of the segment whose base offset is the greatest at or below `offset` (0 if none). */
  private segmentIndexFor(offset: bigint): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * The earliest offset whose record timestamp is >= `timestampMs` (ListOffsets by time), with that
   * timestamp; null when every record is older. Inside a compressed batch the batch's first
   * offset is returned (the client skips earlier records itself).
   */
  async offsetForTimestamp(timestampMs: bigint): Promise<{ offset: bigint; timestamp: bigint } | null> {
    for (const segment of this.segments.slice()) {
      if (segment.maxTimestamp < timestampMs) continue;
      const fromTime = segment.timeIndex.lookup(timestampMs);
      let fetchOffset = fromTime === null ? segment.baseOffset : fromTime.offset;
      if (fetchOffset < this._logStartOffset) fetchOffset = this._logStartOffset;
      while (fetchOffset < segment.nextOffset) {
        const read = await segment.read(fetchOffset, TIMESTAMP_SCAN_BYTES, segment.nextOffset);
        if (read === null || read.start === read.end) break;
        for (let pos = read.start; pos < read.end;) {
          const size = batchSize(read.buf, pos);
          const found = this.findInBatch(read.buf, pos, size, timestampMs);
          if (found !== null && found.offset >= this._logStartOffset) return found;
          fetchOffset = lastOffsetOf(read.buf, pos) + 1n;
          pos += size;
        }
      }
    }
    return null;
  }

  private findInBatch(buf: Buffer, pos: number, size: number, timestampMs: bigint): { offset: bigint; timestamp: bigint } | null {
    const maxTimestamp = maxTimestampOf(buf, pos);
    if (maxTimestamp < timestampMs) return null;
    const baseOffset = baseOffsetOf(buf, pos);
    const logAppendTime = (attributesOf(buf, pos) & TIMESTAMP_TYPE_MASK) !== 0;
    if (logAppendTime || compressionCodecOf(buf, pos) !== CompressionCodec.None) return { offset: baseOffset, timestamp: maxTimestamp };
    const baseTimestamp = baseTimestampOf(buf, pos);
    let found: { offset: bigint; timestamp: bigint } | null = null;
    forEachRecord(buf, pos, size, newRecordView(), (record) => {
      const ts = baseTimestamp + record.timestampDelta;
      if (ts >= timestampMs) {
        found = { offset: baseOffset + BigInt(record.offsetDelta), timestamp: ts };
        return false;
      }
      return true;
    });
    return found ?? { offset: baseOffset, timestamp: maxTimestamp };
  }

  /** The record with the largest timestamp (ListOffsets MAX_TIMESTAMP), or null when empty. */
  maxTimestampOffset(): { offset: bigint; timestamp: bigint } | null {
    let best: { offset: bigint; timestamp: bigint } | null = null;
    for (const segment of this.segments) {
      if (segment.maxTimestamp >= 0n && (best === null || segment.maxTimestamp > best.timestamp)) {
        best = { offset: segment.offsetOfMaxTimestamp, timestamp: segment.maxTimestamp };
      }
    }
    return best;
  }

  /**
   * Removes every batch whose last offset is >= `offset` (replica truncation). Later segments are
   * deleted; the log end becomes the end of what remains.
   */
  async truncateTo(offset: bigint): Promise<void> {
    await this.mutex.runExclusive(async () => {
      if (offset >= this.logEndOffset) return;
      if (offset < this._logStartOffset) throw new GodelError('OFFSET_OUT_OF_RANGE', `cannot truncate ${this.describe()} below its log start ${this._logStartOffset}`);
      const keep = this.segmentIndexFor(offset);
      this.tail.clear();
      const removed = this.segments.splice(keep + 1);
      // If the target falls on a segment's base offset, that segment empties but stays active.
      try {
        await this.removeSegments(removed, 0);
        await this.segments[keep]!.truncateTo(offset);
        this.producerState.truncateTo(this.logEndOffset);
        this._recoveryPoint = this._recoveryPoint < this.logEndOffset ? this._recoveryPoint : this.logEndOffset;
      } catch (err) {
        this.takeOffline('truncation failed', err);
        throw storageError(this, 'truncation failed', err);
      }
    });
  }

  /**
   * Moves the log start offset forward (DeleteRecords). Segments wholly below it are deleted by the
   * next retention pass; reads below it fail with OFFSET_OUT_OF_RANGE at once.
   */
  advanceLogStartOffset(offset: bigint): void {
    if (offset > this.logEndOffset) throw new GodelError('OFFSET_OUT_OF_RANGE', `log start ${offset} is past the log end ${this.logEndOffset}`);
    if (offset > this._logStartOffset) this._logStartOffset = offset;
  }

  /**
   * Retention (cleanup.policy=delete): deletes whole segments past `retention.ms` or over
   * `retention.bytes`, and those below the log start offset; never the active segment.
   * Returns how many were deleted.
   */
  async deleteOldSegments(): Promise<number> {
    if (this.offline !== null || this.closed) return 0;
    return this.mutex.runExclusive(async () => {
      const plan = planRetention(
        this.segments.map((s) => ({ baseOffset: s.baseOffset, nextOffset: s.nextOffset, sizeInBytes: s.size, maxTimestampMs: Number(s.maxTimestamp) })),
        {
          retentionMs: deletesOldSegments(this.config) ? this.config.retentionMs : Infinity,
          retentionBytes: deletesOldSegments(this.config) ? this.config.retentionBytes : Infinity,
          logStartOffset: this._logStartOffset,
          nowMs: this.clock.nowMs(),
        },
      );
      if (plan.count === 0) return 0;
      const removed = this.segments.splice(0, plan.count);
      const newStart = this.segments[0]!.baseOffset;
      if (newStart > this._logStartOffset) this._logStartOffset = newStart;
      this.logRetention(removed, plan.reason);
      try {
        await this.removeSegments(removed, this.config.fileDeleteDelayMs);
      } catch (err) {
        this.takeOffline('deleting segments failed', err);
      }
      return removed.length;
    });
  }

  private logRetention(removed: LogSegment[], reason: RetentionReason | null): void {
    this.logger.info({
      log: this.describe(), reason, segments: removed.map((s) => String(s.baseOffset)),
      logStartOffset: String(this._logStartOffset),
    }, 'deleted old segments');
  }

  /**
   * Renames the segments' files to `.deleted` (so a restart never sees them again), then closes and
   * removes them after `delayMs`, letting reads in flight finish.
   */
  private async removeSegments(segments: LogSegment[], delayMs: number): Promise<void> {
    if (segments.length === 0) return;
    const renamed: string[] = [];
    await Promise.all(segments.map((s) => s.flushing));
    for (const segment of segments) renamed.push(...await segment.markDeleted());
    await fsyncDir(this.dir);
    await this.deleteRenamed(segments, renamed, delayMs);
  }

  /** Closes segments already renamed `.deleted` and removes their files, after `delayMs`. */
  private async deleteRenamed(segments: LogSegment[], renamed: string[], delayMs: number): Promise<void> {
    const finish = async (): Promise<void> => {
      await Promise.allSettled(segments.map((s) => s.close()));
      await Promise.allSettled(renamed.map((f) => fs.rm(f, { force: true })));
    };
    if (delayMs <= 0 || this.closed) {
      await finish();
      return;
    }
    const timer = setTimeout(() => {
      this.delayedDeletes.delete(timer);
      const done = finish().finally(() => this.runningDeletes.delete(done));
      this.runningDeletes.add(done);
    }, Math.min(delayMs, 0x7fffffff));
    timer.unref();
    this.delayedDeletes.set(timer, finish);
  }

  /**
   * Swaps cleaned segments in for `old` (Kafka's replaceSegments): `old` must still be consecutive
   * segments of this log, not the active one, with the sizes `oldSizes` the cleaner read; `cleaned`
   * names finished `.cleaned` segments (segment-swap.ts) covering exactly their offsets. Returns
   * false, having touched nothing, when the log changed meanwhile (retention, truncation, close):
   * the caller drops its files. A failure during the swap takes the log offline; the next start
   * completes the swap from what is on disk.
   */
  async replaceSegments(old: readonly LogSegment[], oldSizes: readonly number[], cleaned: readonly bigint[]): Promise<boolean> {
    if (old.length === 0 || cleaned.length === 0) throw new Error('replaceSegments needs old and new segments');
    return this.mutex.runExclusive(async () => {
      if (this.refusal() !== null) return false;
      const at = this.segments.indexOf(old[0]!);
      if (at < 0 || at + old.length >= this.segments.length) return false;
      for (let i = 0; i < old.length; i++) {
        if (this.segments[at + i] !== old[i] || old[i]!.size !== oldSizes[i]) return false;
      }
      await Promise.all(old.map((s) => s.flushing));
      let fresh: LogSegment[];
      try {
        const renamed = await swapSegmentFiles(this.dir, cleaned, old);
        fresh = [];
        for (const base of [...cleaned].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
          fresh.push((await LogSegment.open(this.engine, this.dir, base, this.segmentSettings(), false)).segment);
        }
        this.segments.splice(at, old.length, ...fresh);
        await this.deleteRenamed([...old], renamed, this.config.fileDeleteDelayMs);
      } catch (err) {
        this.takeOffline('swapping in cleaned segments failed', err);
        throw storageError(this, 'swapping in cleaned segments failed', err);
      }
      this.logger.debug({
        log: this.describe(), replaced: old.map((s) => String(s.baseOffset)), cleaned: fresh.map((s) => String(s.baseOffset)),
      }, 'swapped in cleaned segments');
      return true;
    });
  }

  /**
   * The last offset each idempotent producer the log remembers wrote; the cleaner keeps that batch,
   * even when its records are gone, so the producer's sequence survives (as Kafka does).
   */
  lastProducerOffsets(): Map<bigint, bigint> {
    return this.producerState.lastWrittenOffsets();
  }

  /** Waits for queued appends, flushes everything and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.draining || this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    this.closed = true;
    this.tail.clear();
    await this.mutex.runExclusive(async () => {
      for (const [timer, finish] of this.delayedDeletes) {
        clearTimeout(timer);
        await finish();
      }
      this.delayedDeletes.clear();
      await Promise.allSettled([...this.runningDeletes]);
      if (this.offline === null) {
        try {
          for (const segment of this.segments) {
            await segment.flushing;
            if (segment.unflushedBytes > 0 || segment === this.activeSegment) await segment.flush();
          }
          this._recoveryPoint = this.logEndOffset;
        } catch (err) {
          this.takeOffline('final flush failed', err);
        }
        if (this.offline === null) await this.snapshotProducers(this.logEndOffset);
      }
      await Promise.allSettled(this.segments.map((s) => s.close()));
    });
  }

  /** Closes the files and removes the whole directory (topic deletion). */
  async delete(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.tail.clear();
      this.failQueued(new GodelError('CLOSED', `${this.describe()} was deleted`));
      await this.mutex.runExclusive(async () => {
        for (const timer of this.delayedDeletes.keys()) clearTimeout(timer);
        this.delayedDeletes.clear();
        await Promise.allSettled(this.segments.map((s) => s.close()));
      });
    }
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  describe(): string {
    return `${this.topicPartition.topic}-${this.topicPartition.partition}`;
  }
}

/** Whether `buf` (whole batches) holds a data batch with records whose base offset is >= `offset`. */
function hasRecordsFrom(buf: Buffer, offset: bigint): boolean {
  for (let pos = 0; pos < buf.length; pos += batchSize(buf, pos)) {
    if (recordsCountOf(buf, pos) > 0 && !isControlBatch(buf, pos) && baseOffsetOf(buf, pos) >= offset) return true;
  }
  return false;
}

/** The offset after the last batch in `buf` (whole batches, at least one). */
function lastBatchEnd(buf: Buffer): bigint {
  let end = -1n;
  for (let pos = 0; pos < buf.length; pos += batchSize(buf, pos)) end = lastOffsetOf(buf, pos) + 1n;
  return end;
}

function batchError(error: BatchError): GodelError {
  return new GodelError(error.error as GodelErrorCode, error.message);
}

function storageError(log: PartitionLog, what: string, cause: unknown): GodelError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new GodelError('STORAGE_ERROR', `${log.describe()}: ${what}${code ? ` (${code})` : ''}: ${String((cause as Error)?.message ?? cause)}`, { cause });
}
