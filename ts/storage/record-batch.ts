// RecordBatch v2, the unit Gödel stores and serves (Kafka's DefaultRecordBatch). The broker reads
// only the 61-byte header: it validates it, stamps the base offset and partition leader epoch
// (both outside the CRC's range, so the CRC stays valid) and appends the bytes as they came.
//
// Header layout (offset: field):
//   0 baseOffset i64 · 8 batchLength i32 (bytes after this field) · 12 partitionLeaderEpoch i32
//   16 magic i8 = 2 · 17 crc u32 (CRC32C of bytes 21..end) · 21 attributes i16
//   23 lastOffsetDelta i32 · 27 baseTimestamp i64 · 35 maxTimestamp i64 · 43 producerId i64
//   51 producerEpoch i16 · 53 baseSequence i32 · 57 recordsCount i32 · 61 records
import type { LogEngine } from '../engine/types.js';

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** baseOffset + batchLength: the bytes before what batchLength counts. */
export const LOG_OVERHEAD = 12;
/** The whole header; the smallest possible batch. */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
export const CURRENT_MAGIC = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

export const NO_TIMESTAMP = -1n;
export const NO_PRODUCER_ID = -1n;
export const NO_PARTITION_LEADER_EPOCH = -1;

export enum CompressionCodec {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

/** Why a batch was refused, with the Kafka error a producer will see. */
export interface BatchError {
  error: 'CORRUPT_MESSAGE' | 'INVALID_RECORD' | 'MESSAGE_TOO_LARGE' | 'INVALID_TIMESTAMP';
  message: string;
}

export interface AppendValidation {
  maxMessageBytes: number;
  /** CreateTime bounds; Infinity when unbounded. */
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  logAppendTime: boolean;
  nowMs: number;
}

/** Total bytes of the batch starting at `pos`, read from its length field. */
export function batchSize(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
}

export function readInt32(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) | 0;
}

export function readUint32(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos) >>> 0;
}

export function readInt16(buf: Uint8Array, pos: number): number {
  return (((buf[pos]! << 8) | buf[pos + 1]!) << 16) >> 16;
}

export function readInt64(buf: Uint8Array, pos: number): bigint {
  const hi = BigInt(readInt32(buf, pos));
  const lo = BigInt(readUint32(buf, pos + 4));
  return (hi << 32n) | lo;
}

export function writeInt32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value >>> 24;
  buf[pos + 1] = value >>> 16;
  buf[pos + 2] = value >>> 8;
  buf[pos + 3] = value;
}

export function writeInt64(buf: Uint8Array, pos: number, value: bigint): void {
  writeInt32(buf, pos, Number(BigInt.asIntN(32, value >> 32n)));
  writeInt32(buf, pos + 4, Number(BigInt.asUintN(32, value)));
}

export function baseOffsetOf(buf: Uint8Array, pos: number): bigint {
  return readInt64(buf, pos + BASE_OFFSET_OFFSET);
}

export function lastOffsetDeltaOf(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos + LAST_OFFSET_DELTA_OFFSET);
}

export function lastOffsetOf(buf: Uint8Array, pos: number): bigint {
  return baseOffsetOf(buf, pos) + BigInt(lastOffsetDeltaOf(buf, pos));
}

export function maxTimestampOf(buf: Uint8Array, pos: number): bigint {
  return readInt64(buf, pos + MAX_TIMESTAMP_OFFSET);
}

export function baseTimestampOf(buf: Uint8Array, pos: number): bigint {
  return readInt64(buf, pos + BASE_TIMESTAMP_OFFSET);
}

export function attributesOf(buf: Uint8Array, pos: number): number {
  return readInt16(buf, pos + ATTRIBUTES_OFFSET);
}

export function recordsCountOf(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos + RECORDS_COUNT_OFFSET);
}

export function producerIdOf(buf: Uint8Array, pos: number): bigint {
  return readInt64(buf, pos + PRODUCER_ID_OFFSET);
}

export function producerEpochOf(buf: Uint8Array, pos: number): number {
  return readInt16(buf, pos + PRODUCER_EPOCH_OFFSET);
}

export function baseSequenceOf(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos + BASE_SEQUENCE_OFFSET);
}

export function partitionLeaderEpochOf(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

export function isControlBatch(buf: Uint8Array, pos: number): boolean {
  return (attributesOf(buf, pos) & CONTROL_FLAG_MASK) !== 0;
}

export function compressionCodecOf(buf: Uint8Array, pos: number): number {
  return attributesOf(buf, pos) & COMPRESSION_CODEC_MASK;
}

/** The CRC32C the batch at `pos` (of `size` bytes) should carry. */
export function computeBatchCrc(engine: LogEngine, buf: Uint8Array, pos: number, size: number): number {
  return engine.crc32c(buf, pos + ATTRIBUTES_OFFSET, pos + size, 0);
}

export function hasValidCrc(engine: LogEngine, buf: Uint8Array, pos: number, size: number): boolean {
  return computeBatchCrc(engine, buf, pos, size) === readUint32(buf, pos + CRC_OFFSET);
}

/**
 * Checks the structure of the batch at `pos` within `buf[pos, end)`: a sane length that fits,
 * magic 2 and a matching CRC. Returns its size, or a BatchError. `strictCount` (producer input)
 * also requires recordsCount = lastOffsetDelta + 1 > 0; a cleaned log may hold fewer records.
 */
export function checkBatch(
  engine: LogEngine,
  buf: Uint8Array,
  pos: number,
  end: number,
  strictCount: boolean,
): number | BatchError {
  const remaining = end - pos;
  if (remaining < RECORD_BATCH_OVERHEAD) {
    return { error: 'CORRUPT_MESSAGE', message: `${remaining} bytes cannot hold a record batch header of ${RECORD_BATCH_OVERHEAD}` };
  }
  const length = readInt32(buf, pos + BATCH_LENGTH_OFFSET);
  const size = length + LOG_OVERHEAD;
  if (length < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD || size > remaining) {
    return { error: 'CORRUPT_MESSAGE', message: `batch length ${length} does not fit the ${remaining} bytes given` };
  }
  const magic = buf[pos + MAGIC_OFFSET]!;
  if (magic !== CURRENT_MAGIC) {
    return { error: 'INVALID_RECORD', message: `record batch magic ${magic} is not supported (only 2)` };
  }
  const expected = computeBatchCrc(engine, buf, pos, size);
  const stored = readUint32(buf, pos + CRC_OFFSET);
  if (expected !== stored) {
    return { error: 'CORRUPT_MESSAGE', message: `CRC32C mismatch: batch says ${hex(stored)}, bytes give ${hex(expected)}` };
  }
  const lastOffsetDelta = lastOffsetDeltaOf(buf, pos);
  const count = recordsCountOf(buf, pos);
  if (lastOffsetDelta < 0) return { error: 'INVALID_RECORD', message: `negative last offset delta ${lastOffsetDelta}` };
  if (strictCount ? count !== lastOffsetDelta + 1 || count <= 0 : count < 0 || count > lastOffsetDelta + 1) {
    return { error: 'INVALID_RECORD', message: `records count ${count} does not match last offset delta ${lastOffsetDelta}` };
  }
  return size;
}

/**
 * Validates a batch a producer sent (Kafka's LogValidator, header level): structure, size limit,
 * no control batches, producer fields and CreateTime bounds. Returns its size or the reason.
 */
export function validateProducedBatch(
  engine: LogEngine,
  buf: Uint8Array,
  pos: number,
  end: number,
  rules: AppendValidation,
): number | BatchError {
  if (end - pos >= LOG_OVERHEAD) {
    const declared = readInt32(buf, pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (declared > rules.maxMessageBytes && declared <= end - pos) {
      return { error: 'MESSAGE_TOO_LARGE', message: `batch of ${declared} bytes exceeds max.message.bytes ${rules.maxMessageBytes}` };
    }
  }
  const size = checkBatch(engine, buf, pos, end, true);
  if (typeof size !== 'number') return size;
  const attributes = attributesOf(buf, pos);
  if ((attributes & CONTROL_FLAG_MASK) !== 0) {
    return { error: 'INVALID_RECORD', message: 'clients may not produce control batches' };
  }
  const codec = attributes & COMPRESSION_CODEC_MASK;
  if (codec > CompressionCodec.Zstd) return { error: 'INVALID_RECORD', message: `unknown compression codec ${codec}` };
  if (producerIdOf(buf, pos) >= 0n && baseSequenceOf(buf, pos) < 0) {
    return { error: 'INVALID_RECORD', message: 'a batch with a producer id needs a base sequence >= 0' };
  }
  if (!rules.logAppendTime) {
    const error = checkTimestamp(baseTimestampOf(buf, pos), rules) ?? checkTimestamp(maxTimestampOf(buf, pos), rules);
    if (error !== null) return error;
  }
  return size;
}

/** CreateTime bounds (`message.timestamp.before.max.ms` / `after.max.ms`); -1 means no timestamp. */
function checkTimestamp(ts: bigint, rules: AppendValidation): BatchError | null {
  if (ts === NO_TIMESTAMP) return null;
  if (ts < 0n) return { error: 'INVALID_TIMESTAMP', message: `timestamp ${ts} is negative` };
  const t = Number(ts);
  if (rules.nowMs - t > rules.timestampBeforeMaxMs || t - rules.nowMs > rules.timestampAfterMaxMs) {
    return { error: 'INVALID_TIMESTAMP', message: `timestamp ${ts} is out of the allowed range around ${rules.nowMs}` };
  }
  return null;
}

/** Stamps the offset and leader epoch in place; both lie outside the CRC, which stays valid. */
export function stampBatch(buf: Uint8Array, pos: number, baseOffset: bigint, leaderEpoch: number): void {
  writeInt64(buf, pos + BASE_OFFSET_OFFSET, baseOffset);
  writeInt32(buf, pos + PARTITION_LEADER_EPOCH_OFFSET, leaderEpoch);
}

/**
 * LogAppendTime: sets the timestamp-type bit and maxTimestamp = now, then recomputes the CRC
 * (both lie inside its range). Consumers then use maxTimestamp for every record of the batch.
 */
export function setLogAppendTime(engine: LogEngine, buf: Uint8Array, pos: number, size: number, nowMs: number): void {
  const attributes = attributesOf(buf, pos) | TIMESTAMP_TYPE_MASK;
  buf[pos + ATTRIBUTES_OFFSET] = attributes >>> 8;
  buf[pos + ATTRIBUTES_OFFSET + 1] = attributes;
  writeInt64(buf, pos + MAX_TIMESTAMP_OFFSET, BigInt(nowMs));
  writeInt32(buf, pos + CRC_OFFSET, computeBatchCrc(engine, buf, pos, size));
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
