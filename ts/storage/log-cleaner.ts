// Log compaction (Kafka's LogCleaner and its Cleaner): keeps the latest record of every key in a
// compacted log. One pass over a log:
//
//   1. Build a key → latest offset map over the dirty range [first dirty, first uncleanable)
//      (cleaner-offset-map.ts). When the map fills up, the pass stops there; the next pass goes on
//      from that offset (multi-pass cleaning with bounded memory).
//   2. Rewrite every segment from the log start up to where the map ends — never the active one —
//      in groups that fit `segment.bytes` (small cleaned segments merge): a record stays when no
//      later record of its key exists, and a tombstone (null value) stays until its batch's delete
//      horizon has passed. Batches keep their base offset and last offset delta (Kafka's
//      MemoryRecords.filterTo + overrideLastOffset), so offsets are preserved and gaps appear;
//      rewritten batches get a fresh CRC32C, and compressed ones are inflated and deflated again
//      with their codec.
//   3. Swap each cleaned group in for the old segments, crash-safely (segment-swap.ts), under the
//      log's mutex (PartitionLog.replaceSegments).
//
// Tombstones: the first cleaning that keeps a tombstone sets the batch's delete-horizon attribute
// bit and stores now + delete.retention.ms in its base timestamp (Kafka 3.x, KIP-534); a later
// cleaning after that time drops the tombstones of the batch.
//
// Empty batches: a batch whose records are all gone is dropped, except (as Kafka) the last batch
// of an idempotent producer the log still tracks, and the last batch before the first uncleanable
// offset; and (a Gödel addition) the last batch of every group, so a cleaned segment always ends
// where the segments it replaces ended — what crash recovery relies on (segment-swap.ts).
//
// Codecs: none and gzip are rewritten. Snappy, lz4 and zstd have no implementation here: their
// batches are kept whole, with a logged reason, and as their keys are unknown, no tombstone after
// such a batch is dropped in that pass (it could be hiding an older value of the same key).
//
// The work runs on the event loop in steps of `log.cleaner.io.buffer.size` bytes with a yield
// after each, so produce and fetch never wait behind more than one step.
import { performance } from 'node:perf_hooks';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Clock } from '../clock.js';
import type { LogEngine } from '../engine/types.js';
import { GodelError } from '../errors.js';
import {
  BATCH_BYTES_MAX,
  DECOMPRESSED_BATCH_BYTES_MAX,
  LOG_CLEANER_BACKOFF_MS_DEFAULT,
  LOG_CLEANER_DEDUPE_BUFFER_SIZE_DEFAULT,
  LOG_CLEANER_DEDUPE_BUFFER_SIZE_MAX,
  LOG_CLEANER_DEDUPE_BUFFER_SIZE_MIN,
  LOG_CLEANER_DEDUPE_LOAD_FACTOR_DEFAULT,
  LOG_CLEANER_IO_BUFFER_SIZE_DEFAULT,
} from '../limits.js';
import type { Logger } from '../log.js';
import { readFully } from './batch-scanner.js';
import { CleanerOffsetMap } from './cleaner-offset-map.js';
import { LogCleanerManager, segmentsOverlapping, type LogToClean } from './log-cleaner-manager.js';
import { topicPartitionKey } from './log-file-utils.js';
import type { LogSegment } from './log-segment.js';
import type { PartitionLog } from './partition-log.js';
import {
  ATTRIBUTES_OFFSET,
  attributesOf,
  BASE_TIMESTAMP_OFFSET,
  baseOffsetOf,
  baseTimestampOf,
  BATCH_LENGTH_OFFSET,
  checkBatch,
  COMPRESSION_CODEC_MASK,
  CompressionCodec,
  computeBatchCrc,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  DELETE_HORIZON_FLAG_MASK,
  LOG_OVERHEAD,
  lastOffsetDeltaOf,
  MAX_TIMESTAMP_OFFSET,
  maxTimestampOf,
  producerIdOf,
  readInt32,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  writeInt32,
  writeInt64,
} from './record-batch.js';
import { forEachRecord, newRecordView, type RecordView } from './records.js';
import { CleanedSegmentWriter } from './segment-swap.js';

// ---- Configuration --------------------------------------------------------------------------------

export interface CleanerConfig {
  /** `log.cleaner.enable`: run the background cleaner (runOnce works either way). */
  enable: boolean;
  /** `log.cleaner.dedupe.buffer.size`: memory of the offset map. */
  dedupeBufferBytes: number;
  /** `log.cleaner.io.buffer.load.factor`: how full a pass lets the map get. */
  loadFactor: number;
  /** `log.cleaner.io.buffer.size`: bytes read per step. */
  ioBufferBytes: number;
  /** `log.cleaner.backoff.ms`: wait when no log needed cleaning. */
  backoffMs: number;
}

/** The cleaner's settings from broker config keys (Kafka names); a bad value throws CONFIG_INVALID. */
export function cleanerConfigFrom(brokerConfig: Readonly<Record<string, string>>): CleanerConfig {
  const number = (key: string, fallback: number, min: number, max: number, integer: boolean): number => {
    const raw = brokerConfig[key];
    if (raw === undefined) return fallback;
    const value = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      throw new GodelError('CONFIG_INVALID', `invalid value "${raw}" for ${key}: must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`);
    }
    return value;
  };
  const enable = brokerConfig['log.cleaner.enable']?.trim().toLowerCase() ?? 'true';
  if (enable !== 'true' && enable !== 'false') throw new GodelError('CONFIG_INVALID', `invalid value "${enable}" for log.cleaner.enable: must be true or false`);
  return {
    enable: enable === 'true',
    dedupeBufferBytes: number('log.cleaner.dedupe.buffer.size', LOG_CLEANER_DEDUPE_BUFFER_SIZE_DEFAULT,
      LOG_CLEANER_DEDUPE_BUFFER_SIZE_MIN, LOG_CLEANER_DEDUPE_BUFFER_SIZE_MAX, true),
    loadFactor: number('log.cleaner.io.buffer.load.factor', LOG_CLEANER_DEDUPE_LOAD_FACTOR_DEFAULT, 0.1, 0.95, false),
    ioBufferBytes: number('log.cleaner.io.buffer.size', LOG_CLEANER_IO_BUFFER_SIZE_DEFAULT, 4096, BATCH_BYTES_MAX, true),
    backoffMs: number('log.cleaner.backoff.ms', LOG_CLEANER_BACKOFF_MS_DEFAULT, 1, 0x7fffffff, true),
  };
}

// ---- Records of a batch, inflated when compressed -------------------------------------------------

/** A batch whose records can be read in place: `buf[pos, pos + size)`, uncompressed. */
interface PlainBatch {
  buf: Buffer;
  pos: number;
  size: number;
}

/**
 * The batch at `buf[pos, pos + size)` with readable records: itself when uncompressed, a copy of
 * its header followed by the inflated records when gzip, null for a codec Gödel cannot inflate.
 * Throws on a payload that does not inflate or inflates past DECOMPRESSED_BATCH_BYTES_MAX.
 */
export function plainBatch(buf: Buffer, pos: number, size: number): PlainBatch | null {
  const codec = attributesOf(buf, pos) & COMPRESSION_CODEC_MASK;
  if (codec === CompressionCodec.None) return { buf, pos, size };
  if (codec !== CompressionCodec.Gzip) return null;
  const records = gunzipSync(buf.subarray(pos + RECORDS_OFFSET, pos + size), { maxOutputLength: DECOMPRESSED_BATCH_BYTES_MAX });
  const plain = Buffer.allocUnsafe(RECORDS_OFFSET + records.length);
  buf.copy(plain, 0, pos, pos + RECORDS_OFFSET);
  records.copy(plain, RECORDS_OFFSET);
  return { buf: plain, pos: 0, size: plain.length };
}

export type KeyCheck =
  | { kind: 'ok' }
  | { kind: 'keyless' }
  | { kind: 'corrupt'; message: string }
  /** Compressed with a codec Gödel cannot inflate: the keys were not checked. */
  | { kind: 'unchecked'; codec: number };

const keyCheckView = newRecordView();

/** Whether every record of the batch has a key (compacted topics refuse keyless records). */
export function checkRecordKeys(buf: Buffer, pos: number, size: number): KeyCheck {
  if ((attributesOf(buf, pos) & CONTROL_FLAG_MASK) !== 0) return { kind: 'ok' };
  let plain: PlainBatch | null;
  try {
    plain = plainBatch(buf, pos, size);
  } catch (err) {
    return { kind: 'corrupt', message: `the batch does not decompress: ${(err as Error).message}` };
  }
  if (plain === null) return { kind: 'unchecked', codec: attributesOf(buf, pos) & COMPRESSION_CODEC_MASK };
  let keyless = false;
  const error = forEachRecord(plain.buf, plain.pos, plain.size, keyCheckView, (record) => {
    keyless = record.keyLength < 0;
    return !keyless;
  });
  if (error !== null) return { kind: 'corrupt', message: error };
  return keyless ? { kind: 'keyless' } : { kind: 'ok' };
}

// ---- Statistics -----------------------------------------------------------------------------------

/** What one cleaning of one log did (Kafka's CleanerStats), logged at its end. */
export interface CleanerStats {
  log: string;
  firstDirtyOffset: bigint;
  /** Where this pass stopped: the next one starts here. */
  endOffset: bigint;
  /** Wall-clock times of the pass (performance.now(), ms), whatever clock the log uses. */
  startMs: number;
  mapDoneMs: number;
  endMs: number;
  mapBytesRead: number;
  mapRecordsRead: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsWritten: number;
  /** Keyless records dropped (Kafka drops them too). */
  invalidRecords: number;
  /** Batches kept whole because their codec cannot be inflated here, and those codecs. */
  uncompactedBatches: number;
  uncompactedCodecs: string[];
  segmentsCleaned: number;
  segmentsWritten: number;
  bufferUtilization: number;
}

function newStats(log: string, firstDirtyOffset: bigint, startMs: number): CleanerStats {
  return {
    log, firstDirtyOffset, endOffset: firstDirtyOffset, startMs, mapDoneMs: startMs, endMs: startMs,
    mapBytesRead: 0, mapRecordsRead: 0, bytesRead: 0, bytesWritten: 0, recordsRead: 0, recordsWritten: 0,
    invalidRecords: 0, uncompactedBatches: 0, uncompactedCodecs: [], segmentsCleaned: 0, segmentsWritten: 0, bufferUtilization: 0,
  };
}

/**
 * Thrown between steps when the cleaning of a log must stop (shutdown, deletion, log closed), or
 * when it failed because retention or truncation removed segments it was reading (Kafka pauses
 * cleaning around those instead). The log is cleaned again later.
 */
export class CleaningAbortedError extends Error {
  constructor(log: string, why = 'aborted', options?: { cause?: unknown }) {
    super(`cleaning of ${log}: ${why}`, options);
    this.name = 'CleaningAbortedError';
  }
}

// ---- One cleaning of one log ----------------------------------------------------------------------

/** Delete horizons are capped here (35,000 years), so record timestamp deltas stay exact doubles. */
const DELETE_HORIZON_MAX_MS = 2 ** 50;
const OFFSET_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** What the record filter needs while a pass rewrites a log. */
interface FilterContext {
  map: CleanerOffsetMap;
  nowMs: number;
  deleteRetentionMs: number;
  /** The last offset each idempotent producer the log tracks wrote: that batch stays, even empty. */
  lastProducerOffsets: Map<bigint, bigint>;
  /** The first uncleanable offset: the batch that ends there stays, even empty (as Kafka). */
  upperBoundOffset: bigint;
  /** A batch was kept whole because its keys are unknown: later tombstones must stay. */
  undecodableSeen: boolean;
  /** Codecs kept whole in this pass, for the log line. */
  undecodableCodecs: Set<number>;
  stats: CleanerStats;
}

type BatchOutcome = 'keep' | 'drop' | Buffer;

/** A record kept from a batch being rewritten. */
interface Retained {
  count: number;
  positions: number[];
  sizes: number[];
  timestamps: number[];
}

export class Cleaner {
  private map: CleanerOffsetMap | null = null;
  private readonly view: RecordView = newRecordView();
  private readonly retained: Retained = { count: 0, positions: [], sizes: [], timestamps: [] };

  constructor(
    private readonly engine: LogEngine,
    private config: CleanerConfig,
    private readonly clock: Clock,
  ) {}

  updateConfig(config: CleanerConfig): void {
    if (config.dedupeBufferBytes !== this.config.dedupeBufferBytes) this.map = null;
    this.config = config;
  }

  /** The offset map: made at the first cleaning, kept (it shrinks back at each clear()). */
  private offsetMap(): CleanerOffsetMap {
    this.map ??= new CleanerOffsetMap(this.config.dedupeBufferBytes);
    return this.map;
  }

  /**
   * Cleans the log once (Kafka's doClean): maps the dirty range, rewrites the log up to where the
   * map ends, and returns the statistics with `endOffset`, where the next pass starts.
   * `checkDone` throws CleaningAbortedError to stop between steps.
   */
  async clean(ltc: LogToClean, checkDone: () => void): Promise<CleanerStats> {
    const replaced = new Set<LogSegment>();
    try {
      return await this.doClean(ltc, replaced, checkDone);
    } catch (err) {
      if (!(err instanceof CleaningAbortedError) && segmentsChanged(ltc, replaced)) {
        throw new CleaningAbortedError(ltc.log.describe(), `the log changed under it (${String(err)})`, { cause: err });
      }
      throw err;
    }
  }

  private async doClean(ltc: LogToClean, replaced: Set<LogSegment>, checkDone: () => void): Promise<CleanerStats> {
    const log = ltc.log;
    const nowMs = this.clock.nowMs();
    const stats = newStats(log.describe(), ltc.firstDirtyOffset, performance.now());
    const map = this.offsetMap();
    map.clear();
    await this.buildOffsetMap(log, ltc.firstDirtyOffset, ltc.firstUncleanableOffset, map, stats, checkDone);
    const endOffset = BigInt(map.latestOffset + 1);
    stats.endOffset = endOffset > ltc.firstDirtyOffset ? endOffset : ltc.firstDirtyOffset;
    stats.mapDoneMs = performance.now();
    const segments = log.segmentsSnapshot();
    const cleanable = segments.slice(0, -1).filter((s) => s.baseOffset < stats.endOffset);
    const config = log.logConfig;
    const ctx: FilterContext = {
      map, nowMs, deleteRetentionMs: config.deleteRetentionMs, lastProducerOffsets: log.lastProducerOffsets(),
      upperBoundOffset: ltc.firstUncleanableOffset, undecodableSeen: false, undecodableCodecs: new Set(), stats,
    };
    for (const group of groupSegmentsBySize(cleanable, config.segmentBytes, config.segmentIndexBytes, ltc.firstUncleanableOffset)) {
      await this.cleanSegments(log, group, ctx, checkDone);
      for (const segment of group) replaced.add(segment);
    }
    stats.bufferUtilization = map.utilization;
    stats.uncompactedCodecs = [...ctx.undecodableCodecs].map((codec) => CompressionCodec[codec] ?? String(codec));
    stats.endMs = performance.now();
    return stats;
  }

  // -- 1. The offset map ---------------------------------------------------------------------------

  private async buildOffsetMap(
    log: PartitionLog, start: bigint, end: bigint, map: CleanerOffsetMap, stats: CleanerStats, checkDone: () => void,
  ): Promise<void> {
    const segments = log.segmentsSnapshot();
    const dirty = segmentsOverlapping(segments.slice(0, -1), start, end);
    for (let i = 0; i < dirty.length; i++) {
      const nextStart = i + 1 < dirty.length ? dirty[i + 1]!.baseOffset : end;
      if (await this.mapSegment(dirty[i]!, start, nextStart, map, stats, checkDone)) return;
    }
  }

  /** Adds the keys of one segment at or past `start`; true when the map filled up on the way. */
  private async mapSegment(
    segment: LogSegment, start: bigint, nextStart: bigint, map: CleanerOffsetMap, stats: CleanerStats, checkDone: () => void,
  ): Promise<boolean> {
    const maxEntries = Math.floor(map.maxSlots * this.config.loadFactor);
    const startNum = Number(start);
    let full = false;
    await this.forEachChunk(segment, segment.offsetIndex.lookup(start).position, checkDone, (buf, pos, end) => {
      for (; pos < end; pos += batchSizeAt(buf, pos)) {
        const size = batchSizeAt(buf, pos);
        const base = baseOffsetOf(buf, pos);
        const last = base + BigInt(lastOffsetDeltaOf(buf, pos));
        if (last > OFFSET_MAX) throw new Error(`offset ${last} is past 2^53: this log cannot be cleaned`);
        stats.mapBytesRead += size;
        if (last < start || (attributesOf(buf, pos) & CONTROL_FLAG_MASK) !== 0) continue;
        const plain = plainBatch(buf, pos, size);
        if (plain !== null) {
          const baseNum = Number(base);
          const error = forEachRecord(plain.buf, plain.pos, plain.size, this.view, (record) => {
            const offset = baseNum + record.offsetDelta;
            if (record.keyLength >= 0 && offset >= startNum) {
              if (map.size >= maxEntries) {
                full = true;
                return false;
              }
              map.put(plain.buf, record.keyStart, record.keyLength, offset);
            }
            stats.mapRecordsRead++;
            return true;
          });
          if (error !== null) throw new Error(`malformed batch at offset ${base} in ${segment.logPath}: ${error}`);
          if (full) return false;
        }
        map.updateLatestOffset(Number(last));
      }
      return true;
    });
    if (full) return true;
    // Offsets may have gaps: everything up to the next segment is mapped.
    map.updateLatestOffset(Number(nextStart) - 1);
    return false;
  }

  // -- 2. Rewriting --------------------------------------------------------------------------------

  /** Cleans a group of segments into one and swaps it in (Kafka's cleanSegments). */
  private async cleanSegments(log: PartitionLog, group: LogSegment[], ctx: FilterContext, checkDone: () => void): Promise<void> {
    const sizes = group.map((s) => s.size);
    if (sizes.every((size) => size === 0)) return;
    const groupEnd = group[group.length - 1]!.nextOffset;
    const writer = await CleanedSegmentWriter.create(this.engine, log.dir, group[0]!.baseOffset, {
      indexIntervalBytes: log.logConfig.indexIntervalBytes, segmentIndexBytes: log.logConfig.segmentIndexBytes,
    });
    let swapped = false;
    try {
      for (let i = 0; i < group.length; i++) {
        await this.cleanInto(group[i]!, sizes[i]!, writer, groupEnd, ctx, checkDone);
      }
      checkDone();
      await writer.finish();
      if (writer.nextOffset !== groupEnd) {
        throw new Error(`cleaned segment ends at ${writer.nextOffset}, the segments it replaces at ${groupEnd}`);
      }
      // From here a failure may leave a swap half done on disk: the log goes offline and the next
      // start finishes it, so the cleaned files must stay.
      swapped = true;
      if (!await log.replaceSegments(group, sizes, [writer.baseOffset])) throw new CleaningAbortedError(log.describe(), 'the log changed under it');
    } catch (err) {
      if (!swapped || err instanceof CleaningAbortedError) await writer.discard();
      throw err;
    }
    ctx.stats.segmentsCleaned += group.length;
    ctx.stats.segmentsWritten++;
  }

  /** Copies what stays of one segment into the cleaned one, a step of batches at a time. */
  private async cleanInto(
    segment: LogSegment, size: number, writer: CleanedSegmentWriter, groupEnd: bigint, ctx: FilterContext, checkDone: () => void,
  ): Promise<void> {
    const outputs: Buffer[] = [];
    await this.forEachChunk(segment, 0, checkDone, (buf, pos, end) => {
      // A run of batches kept as they are goes out as one slice of the read buffer.
      let runStart = -1;
      for (; pos < end;) {
        const checked = checkBatch(this.engine, buf, pos, end, false);
        if (typeof checked !== 'number') throw new Error(`corrupt batch at position ${pos} of a read of ${segment.logPath}: ${checked.message}`);
        const outcome = this.filterBatch(buf, pos, checked, groupEnd, ctx);
        ctx.stats.bytesRead += checked;
        if (outcome === 'keep') {
          if (runStart < 0) runStart = pos;
          ctx.stats.bytesWritten += checked;
        } else {
          if (runStart >= 0) outputs.push(buf.subarray(runStart, pos));
          runStart = -1;
          if (outcome !== 'drop') {
            outputs.push(outcome);
            ctx.stats.bytesWritten += outcome.length;
          }
        }
        pos += checked;
      }
      if (runStart >= 0) outputs.push(buf.subarray(runStart, end));
      return true;
    }, size, async () => {
      await writer.append(outputs);
      outputs.length = 0;
    });
  }

  /** What becomes of one batch (Kafka's checkBatchRetention + shouldRetainRecord + filterTo). */
  private filterBatch(buf: Buffer, pos: number, size: number, groupEnd: bigint, ctx: FilterContext): BatchOutcome {
    const attributes = attributesOf(buf, pos);
    // Gödel has no transactions: a control batch is kept as it is.
    if ((attributes & CONTROL_FLAG_MASK) !== 0) return 'keep';
    const plain = plainBatch(buf, pos, size);
    const base = baseOffsetOf(buf, pos);
    const last = base + BigInt(lastOffsetDeltaOf(buf, pos));
    if (plain === null) {
      ctx.undecodableCodecs.add(attributes & COMPRESSION_CODEC_MASK);
      ctx.stats.uncompactedBatches++;
      ctx.undecodableSeen = true;
      return 'keep';
    }
    const hasHorizon = (attributes & DELETE_HORIZON_FLAG_MASK) !== 0;
    const horizon = hasHorizon ? baseTimestampOf(buf, pos) : -1n;
    const retainDeletes = !hasHorizon || BigInt(ctx.nowMs) < horizon || ctx.undecodableSeen;
    const map = ctx.map;
    const latestMapped = map.latestOffset;
    const baseNum = Number(base);
    const baseTimestamp = Number(baseTimestampOf(plain.buf, plain.pos));
    const retained = this.retained;
    retained.count = 0;
    let read = 0;
    let tombstones = false;
    const error = forEachRecord(plain.buf, plain.pos, plain.size, this.view, (record) => {
      read++;
      const offset = baseNum + record.offsetDelta;
      let keep: boolean;
      if (offset > latestMapped) {
        keep = true;
      } else if (record.keyLength < 0) {
        ctx.stats.invalidRecords++;
        keep = false;
      } else {
        keep = offset >= map.get(plain.buf, record.keyStart, record.keyLength) && (record.valueLength >= 0 || retainDeletes);
      }
      if (keep) {
        const at = retained.count++;
        retained.positions[at] = record.position;
        retained.sizes[at] = record.sizeInBytes;
        retained.timestamps[at] = baseTimestamp + Number(record.timestampDelta);
        if (record.valueLength < 0) tombstones = true;
      }
      return true;
    });
    if (error !== null) throw new Error(`malformed batch at offset ${base}: ${error}`);
    ctx.stats.recordsRead += read;
    ctx.stats.recordsWritten += retained.count;
    if (retained.count === 0) {
      const producerId = producerIdOf(buf, pos);
      const keepEmpty = (producerId >= 0n && ctx.lastProducerOffsets.get(producerId) === last)
        || last + 1n === ctx.upperBoundOffset || last + 1n === groupEnd;
      return keepEmpty ? emptyBatch(this.engine, buf, pos) : 'drop';
    }
    const needsHorizon = tombstones && !hasHorizon;
    if (retained.count === read && !needsHorizon) return 'keep';
    let newHorizon = horizon;
    if (needsHorizon) newHorizon = BigInt(Math.min(ctx.nowMs + ctx.deleteRetentionMs, DELETE_HORIZON_MAX_MS));
    return rebuildBatch(this.engine, buf, pos, plain, retained, newHorizon);
  }

  // -- Reading -------------------------------------------------------------------------------------

  /**
   * Reads `segment[from, end)` a step at a time and hands each step's whole batches to `visit`
   * (`buf[pos, stop)`; false stops), then runs `afterStep`, checks for an abort and yields to the
   * event loop. The next step is read while this one is processed, into the other of two buffers:
   * `visit`'s slices stay valid until `afterStep` returns.
   */
  private async forEachChunk(
    segment: LogSegment,
    from: number,
    checkDone: () => void,
    visit: (buf: Buffer, pos: number, stop: number) => boolean,
    end = segment.size,
    afterStep?: () => Promise<void>,
  ): Promise<void> {
    const size = Math.max(RECORD_BATCH_OVERHEAD, Math.min(this.config.ioBufferBytes, end - from));
    const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    let current = 0;
    const readAt = (buf: Buffer, at: number): Promise<{ buf: Buffer; want: number; got: number }> => {
      const want = Math.min(buf.length, end - at);
      return readFully(segment.log, buf, want, at).then((got) => ({ buf, want, got }));
    };
    let position = from;
    let pending = position < end ? readAt(buffers[current]!, position) : null;
    while (pending !== null) {
      checkDone();
      const { buf, want, got } = await pending;
      pending = null;
      let stop = 0;
      while (stop + LOG_OVERHEAD <= got) {
        const batch = batchSizeAt(buf, stop);
        if (batch < RECORD_BATCH_OVERHEAD || batch > BATCH_BYTES_MAX) throw new Error(`impossible batch length at position ${position + stop} of ${segment.logPath}`);
        if (stop + batch > got) break;
        stop += batch;
      }
      if (stop === 0) {
        // The next batch is larger than the buffer: grow it to hold that batch whole.
        const batch = got >= LOG_OVERHEAD ? batchSizeAt(buf, 0) : 0;
        if (got < want || batch <= buf.length || position + batch > end) throw new Error(`torn batch at position ${position} of ${segment.logPath}`);
        buffers[current] = Buffer.allocUnsafe(batch);
        pending = readAt(buffers[current]!, position);
        continue;
      }
      const next = position + stop;
      current = 1 - current;
      if (next < end) pending = readAt(buffers[current]!, next);
      const more = visit(buf, 0, stop);
      if (afterStep !== undefined) await afterStep();
      position = next;
      if (!more) {
        await pending?.catch(() => undefined);
        return;
      }
      await yieldToEventLoop();
    }
  }
}

/** Whether a segment the cleaning started from (not the active one, nor one it replaced) left the log. */
function segmentsChanged(ltc: LogToClean, replaced: ReadonlySet<LogSegment>): boolean {
  const now = new Set(ltc.log.segmentsSnapshot());
  return ltc.segments.slice(0, -1).some((s) => !now.has(s) && !replaced.has(s));
}

function batchSizeAt(buf: Buffer, pos: number): number {
  return readInt32(buf, pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Groups consecutive segments to be cleaned into one (Kafka's groupSegmentsBySize): the log and each
 * index within their maximum sizes, and the offsets within a segment's 31-bit relative range.
 */
export function groupSegmentsBySize(segments: readonly LogSegment[], maxBytes: number, maxIndexBytes: number, firstUncleanableOffset: bigint): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let i = 0;
  while (i < segments.length) {
    const first = segments[i]!;
    const group = [first];
    let logBytes = first.size;
    let indexBytes = first.offsetIndex.sizeInBytes();
    let timeIndexBytes = first.timeIndex.sizeInBytes();
    i++;
    while (i < segments.length) {
      const next = segments[i]!;
      // Kafka estimates a segment's last offset from the next base offset (exact reads cost I/O).
      const nextLast = (i + 1 < segments.length ? segments[i + 1]!.baseOffset : firstUncleanableOffset) - 1n;
      if (logBytes + next.size > maxBytes || indexBytes + next.offsetIndex.sizeInBytes() > maxIndexBytes
        || timeIndexBytes + next.timeIndex.sizeInBytes() > maxIndexBytes
        || (next.size > 0 && nextLast - first.baseOffset > 0x7fffffffn)) break;
      group.push(next);
      logBytes += next.size;
      indexBytes += next.offsetIndex.sizeInBytes();
      timeIndexBytes += next.timeIndex.sizeInBytes();
      i++;
    }
    groups.push(group);
  }
  return groups;
}

// ---- Writing batches ------------------------------------------------------------------------------

/**
 * A batch with no records left, kept for the offsets and producer fields its header carries
 * (Kafka's DefaultRecordBatch.writeEmptyHeader): no codec, no delete horizon, base timestamp -1,
 * the original max timestamp, last offset delta and producer fields.
 */
function emptyBatch(engine: LogEngine, buf: Buffer, pos: number): Buffer {
  const out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD);
  buf.copy(out, 0, pos, pos + RECORD_BATCH_OVERHEAD);
  writeInt32(out, BATCH_LENGTH_OFFSET, RECORD_BATCH_OVERHEAD - LOG_OVERHEAD);
  out.writeInt16BE(attributesOf(buf, pos) & (TIMESTAMP_TYPE_MASK | TRANSACTIONAL_FLAG_MASK | CONTROL_FLAG_MASK), ATTRIBUTES_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, -1n);
  writeInt32(out, RECORDS_COUNT_OFFSET, 0);
  writeInt32(out, CRC_OFFSET, computeBatchCrc(engine, out, 0, out.length));
  return out;
}

/** Scratch space where the records of a rewritten batch are assembled. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The batch with only the retained records (Kafka's buildRetainedRecordsInto): same base offset,
 * last offset delta, producer fields, leader epoch and codec; the delete horizon (if any) as its
 * base timestamp, else the first record's timestamp; record timestamps unchanged (their deltas are
 * rebased); max timestamp over the records (CreateTime) or the original (LogAppendTime).
 */
function rebuildBatch(engine: LogEngine, buf: Buffer, pos: number, plain: PlainBatch, retained: Retained, horizon: bigint): Buffer {
  const attributes = attributesOf(buf, pos);
  const oldBase = Number(baseTimestampOf(plain.buf, plain.pos));
  const newBase = horizon >= 0n ? Number(horizon) : retained.timestamps[0]!;
  let maxTimestamp = -1;
  for (let i = 0; i < retained.count; i++) if (retained.timestamps[i]! > maxTimestamp) maxTimestamp = retained.timestamps[i]!;
  // Worst case per record: its size, plus room for a longer timestamp delta and length varint.
  let bound = 0;
  for (let i = 0; i < retained.count; i++) bound += retained.sizes[i]! + 20;
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.max(bound, scratch.length * 2));
  let at = 0;
  for (let i = 0; i < retained.count; i++) {
    const start = retained.positions[i]!;
    const size = retained.sizes[i]!;
    if (newBase === oldBase) {
      plain.buf.copy(scratch, at, start, start + size);
      at += size;
    } else {
      at = rebaseRecord(plain.buf, start, size, retained.timestamps[i]! - newBase, scratch, at);
    }
  }
  let records: Buffer = scratch.subarray(0, at);
  const codec = attributes & COMPRESSION_CODEC_MASK;
  if (codec === CompressionCodec.Gzip) records = gzipSync(records);
  const out = Buffer.allocUnsafe(RECORDS_OFFSET + records.length);
  buf.copy(out, 0, pos, pos + RECORDS_OFFSET);
  records.copy(out, RECORDS_OFFSET);
  writeInt32(out, BATCH_LENGTH_OFFSET, out.length - LOG_OVERHEAD);
  out.writeInt16BE((attributes & ~DELETE_HORIZON_FLAG_MASK) | (horizon >= 0n ? DELETE_HORIZON_FLAG_MASK : 0), ATTRIBUTES_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, BigInt(newBase));
  if ((attributes & TIMESTAMP_TYPE_MASK) === 0) writeInt64(out, MAX_TIMESTAMP_OFFSET, BigInt(maxTimestamp));
  else writeInt64(out, MAX_TIMESTAMP_OFFSET, maxTimestampOf(buf, pos));
  writeInt32(out, RECORDS_COUNT_OFFSET, retained.count);
  writeInt32(out, CRC_OFFSET, computeBatchCrc(engine, out, 0, out.length));
  return out;
}

/**
 * Re-encodes the record at `src[start, start + size)` with a new timestamp delta into `out` at
 * `at`; returns the position after it. Everything after the offset delta is copied as it is.
 */
function rebaseRecord(src: Buffer, start: number, size: number, timestampDelta: number, out: Buffer, at: number): number {
  let p = start;
  p = skipVarint(src, p); // length
  p++; // attributes
  p = skipVarint(src, p); // timestamp delta
  const offsetDeltaStart = p;
  p = skipVarint(src, p);
  const offsetDeltaBytes = p - offsetDeltaStart;
  const tailBytes = start + size - p;
  const bodyBytes = 1 + varlongSize(timestampDelta) + offsetDeltaBytes + tailBytes;
  at = writeVarlong(out, at, bodyBytes);
  out[at++] = 0;
  at = writeVarlong(out, at, timestampDelta);
  src.copy(out, at, offsetDeltaStart, start + size);
  return at + offsetDeltaBytes + tailBytes;
}

function skipVarint(buf: Buffer, p: number): number {
  while ((buf[p++]! & 0x80) !== 0);
  return p;
}

/** Zigzag varint/varlong of a safe integer (|value| < 2^52 here). */
function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function varlongSize(value: number): number {
  let zz = zigzag(value);
  let n = 1;
  while (zz >= 128) {
    zz = Math.floor(zz / 128);
    n++;
  }
  return n;
}

function writeVarlong(out: Buffer, at: number, value: number): number {
  let zz = zigzag(value);
  while (zz >= 128) {
    out[at++] = (zz % 128) | 0x80;
    zz = Math.floor(zz / 128);
  }
  out[at++] = zz;
  return at;
}

// ---- The background cleaner -----------------------------------------------------------------------

export interface LogCleanerOptions {
  engine: LogEngine;
  clock: Clock;
  logger: Logger;
  config: CleanerConfig;
  manager: LogCleanerManager;
  /** The logs to look at (the LogManager's, at the time of the call). */
  logs: () => Iterable<PartitionLog>;
}

/**
 * The cleaner's thread of control (Kafka's LogCleaner + CleanerThread): cleans the filthiest log,
 * again at once if there was one, else after `log.cleaner.backoff.ms`. One log at a time.
 */
export class LogCleaner {
  readonly manager: LogCleanerManager;
  private readonly cleaner: Cleaner;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly logs: () => Iterable<PartitionLog>;
  private config: CleanerConfig;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  /** The cleaning under way per log, so an abort can wait for it. */
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly aborting = new Set<string>();
  /** The statistics of the last cleaning of each log (for tests and tools). */
  readonly lastStats = new Map<string, CleanerStats>();

  constructor(options: LogCleanerOptions) {
    this.manager = options.manager;
    this.logger = options.logger;
    this.clock = options.clock;
    this.logs = options.logs;
    this.config = options.config;
    this.cleaner = new Cleaner(options.engine, options.config, options.clock);
  }

  updateConfig(config: CleanerConfig): void {
    this.config = config;
    this.cleaner.updateConfig(config);
  }

  /** Starts the background loop (when `log.cleaner.enable` is true). */
  start(): void {
    if (this.loop !== null || !this.config.enable) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Stops the loop, aborting a cleaning under way, and waits until it has stopped. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = null;
    await Promise.allSettled([...this.running.values()]);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let cleaned = false;
      try {
        cleaned = await this.cleanFilthiestLog();
      } catch (err) {
        this.logger.error({ err: String(err) }, 'log cleaner pass failed');
      }
      if (this.stopping) break;
      if (cleaned) await yieldToEventLoop();
      else await this.sleep(this.config.backoffMs);
    }
  }

  /** Waits `ms`, or until stop() wakes the loop. */
  private async sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      this.wake = resolve;
    });
    clearTimeout(timer);
    this.wake = null;
  }

  /** Cleans the filthiest log, if one is due; whether one was. */
  private async cleanFilthiestLog(): Promise<boolean> {
    const due = this.manager.cleanableLogs(this.logs(), this.clock.nowMs());
    for (const ltc of due) {
      if (await this.cleanLog(ltc) !== null) return true;
    }
    return false;
  }

  /**
   * One pass over every log due for cleaning now (filthiest first); returns what each did. For
   * tests and tools; the background loop does the same one log at a time.
   */
  async runOnce(): Promise<CleanerStats[]> {
    const done: CleanerStats[] = [];
    for (const ltc of this.manager.cleanableLogs(this.logs(), this.clock.nowMs())) {
      const stats = await this.cleanLog(ltc);
      if (stats !== null) done.push(stats);
    }
    return done;
  }

  /** Stops the cleaning of `log` if one is under way, and waits until it has stopped. */
  async abortCleaning(log: PartitionLog): Promise<void> {
    const key = topicPartitionKey(log.topicPartition);
    const running = this.running.get(key);
    if (running === undefined) return;
    this.aborting.add(key);
    try {
      await running.catch(() => undefined);
    } finally {
      this.aborting.delete(key);
    }
  }

  private async cleanLog(ltc: LogToClean): Promise<CleanerStats | null> {
    const log = ltc.log;
    if (!this.manager.claim(log)) return null;
    const key = topicPartitionKey(log.topicPartition);
    const checkDone = (): void => {
      if (this.stopping || this.aborting.has(key) || log.isClosed || log.isOffline) throw new CleaningAbortedError(log.describe());
    };
    const cleaning = this.cleaner.clean(ltc, checkDone);
    this.running.set(key, cleaning);
    try {
      const stats = await cleaning;
      await this.manager.doneCleaning(log, stats.endOffset);
      this.lastStats.set(key, stats);
      this.logStats(stats, ltc);
      return stats;
    } catch (err) {
      if (err instanceof CleaningAbortedError || log.isClosed) {
        this.logger.info({ log: log.describe(), reason: err instanceof Error ? err.message : String(err) }, 'log cleaning aborted');

      } else if (log.isOffline) {
        this.logger.error({ log: log.describe(), err: String(err) }, 'log cleaning failed and the log is offline');
      } else {
        this.logger.error({ log: log.describe(), err: String(err) }, 'log cleaning failed; the log is marked uncleanable until restart');
        this.manager.markUncleanable(log, String(err));
      }
      return null;
    } finally {
      this.running.delete(key);
      this.manager.release(log);
    }
  }

  private logStats(stats: CleanerStats, ltc: LogToClean): void {
    const seconds = Math.max(stats.endMs - stats.startMs, 1) / 1000;
    this.logger.info({
      log: stats.log,
      dirtySection: `[${stats.firstDirtyOffset}, ${stats.endOffset})`,
      cleanableRatio: Number(ltc.cleanableRatio.toFixed(3)),
      compactionDelayMs: ltc.compactionDelayMs,
      bytesRead: stats.bytesRead,
      bytesWritten: stats.bytesWritten,
      recordsRead: stats.recordsRead,
      recordsWritten: stats.recordsWritten,
      recordsRemoved: stats.recordsRead - stats.recordsWritten,
      mapBytesRead: stats.mapBytesRead,
      mapRecordsRead: stats.mapRecordsRead,
      segmentsCleaned: stats.segmentsCleaned,
      segmentsWritten: stats.segmentsWritten,
      bufferUtilization: Number(stats.bufferUtilization.toFixed(3)),
      durationMs: Math.round(stats.endMs - stats.startMs),
      mapDurationMs: Math.round(stats.mapDoneMs - stats.startMs),
      mbPerSecond: Number((stats.bytesRead / 1048576 / seconds).toFixed(2)),
    }, 'cleaned log');
    if (stats.invalidRecords > 0) this.logger.warn({ log: stats.log, records: stats.invalidRecords }, 'dropped records without a key while cleaning');
    if (stats.uncompactedBatches > 0) {
      this.logger.warn({ log: stats.log, batches: stats.uncompactedBatches, codecs: stats.uncompactedCodecs },
        'kept compressed batches uncompacted: Gödel cannot inflate snappy, lz4 or zstd; tombstones after them are kept too');
    }
  }
}
