// The producer's RecordBatch v2 encoder: records are written straight into one growing buffer per
// batch, varints in place, with the 61-byte header left blank until the batch is closed; then the
// header is filled in and CRC32C (the storage engine's, native when it loads) is computed over the
// batch once. No per-record Buffer, no concat. A batch that is compressed gets its record bytes
// compressed once at close.
//
// Record: varint length, int8 attributes, varlong timestampDelta, varint offsetDelta,
// varint keyLength (-1 = null) + key, varint valueLength (-1 = null) + value, varint headerCount,
// then per header varint keyLength + key, varint valueLength (-1 = null) + value.

import { defaultEngine } from '../engine/loader.js';
import type { LogEngine } from '../engine/types.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CompressionCodec,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
} from '../storage/record-batch.js';
import { compressionImplementation } from './compression.js';

/** Header values as a producer sends them. Repeated keys are allowed (an array of values). */
export type HeaderValue = Buffer | string | null;
export type RecordHeaders = Record<string, HeaderValue | HeaderValue[] | undefined> | ReadonlyArray<{ key: string; value: HeaderValue }>;

const TWO_32 = 4294967296;

/** Bytes a zig-zag varint of the int32 `value` takes. */
export function varintSize(value: number): number {
  const v = ((value << 1) ^ (value >> 31)) >>> 0;
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes a zig-zag varlong of the safe integer `value` takes. */
export function varlongSize(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return varintSize(value);
  if (value >= 2 ** 52 || value < -(2 ** 52)) {
    let zz = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
    let n = 1;
    while (zz >= 0x80n) {
      zz >>= 7n;
      n++;
    }
    return n;
  }
  let z = value >= 0 ? value * 2 : -value * 2 - 1;
  let n = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Past 2^52 the zig-zag value would not be exact as a double: go through bigint. */
const VARLONG_EXACT_MAX = 2 ** 52;

export function writeVarlong(buf: Buffer, pos: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeVarint(buf, pos, value);
  if (value >= VARLONG_EXACT_MAX || value < -VARLONG_EXACT_MAX) {
    let zz = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
    while (zz >= 0x80n) {
      buf[pos++] = Number(zz & 0x7fn) | 0x80;
      zz >>= 7n;
    }
    buf[pos++] = Number(zz);
    return pos;
  }
  let z = value >= 0 ? value * 2 : -value * 2 - 1;
  while (z >= 0x80) {
    buf[pos++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[pos++] = z;
  return pos;
}

/** A signed 64-bit integer from a safe JS integer (timestamps). */
export function writeInt64Number(buf: Buffer, pos: number, value: number): void {
  buf.writeInt32BE(Math.floor(value / TWO_32), pos);
  buf.writeUInt32BE(value >>> 0, pos + 4);
}

function byteLength(value: Buffer | string): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

function writeBytes(buf: Buffer, pos: number, value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return writeVarint(buf, pos, -1);
  if (typeof value === 'string') {
    const n = Buffer.byteLength(value);
    pos = writeVarint(buf, pos, n);
    return pos + buf.write(value, pos, n, 'utf8');
  }
  pos = writeVarint(buf, pos, value.length);
  buf.set(value, pos);
  return pos + value.length;
}

function fieldSize(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 1;
  const n = byteLength(value);
  return varintSize(n) + n;
}

/** Size of a record's headers section (count varint included) and the header count. */
function headersSize(headers: RecordHeaders | undefined): number {
  if (headers === undefined) return 1;
  let count = 0;
  let size = 0;
  if (Array.isArray(headers)) {
    for (const h of headers as ReadonlyArray<{ key: string; value: HeaderValue }>) {
      count++;
      size += fieldSize(h.key) + fieldSize(h.value);
    }
  } else {
    for (const key in headers) {
      const value = (headers as Record<string, HeaderValue | HeaderValue[] | undefined>)[key];
      if (value === undefined) continue;
      const keySize = fieldSize(key);
      if (Array.isArray(value)) {
        for (const v of value) {
          count++;
          size += keySize + fieldSize(v);
        }
      } else {
        count++;
        size += keySize + fieldSize(value);
      }
    }
  }
  return varintSize(count) + size;
}

function writeHeaders(buf: Buffer, pos: number, headers: RecordHeaders | undefined): number {
  if (headers === undefined) {
    buf[pos] = 0;
    return pos + 1;
  }
  let count = 0;
  if (Array.isArray(headers)) {
    count = headers.length;
  } else {
    for (const key in headers) {
      const value = (headers as Record<string, HeaderValue | HeaderValue[] | undefined>)[key];
      if (value !== undefined) count += Array.isArray(value) ? value.length : 1;
    }
  }
  pos = writeVarint(buf, pos, count);
  if (Array.isArray(headers)) {
    for (const h of headers as ReadonlyArray<{ key: string; value: HeaderValue }>) {
      pos = writeBytes(buf, pos, h.key);
      pos = writeBytes(buf, pos, h.value);
    }
  } else {
    for (const key in headers) {
      const value = (headers as Record<string, HeaderValue | HeaderValue[] | undefined>)[key];
      if (value === undefined) continue;
      if (Array.isArray(value)) {
        for (const v of value) {
          pos = writeBytes(buf, pos, key);
          pos = writeBytes(buf, pos, v);
        }
      } else {
        pos = writeBytes(buf, pos, key);
        pos = writeBytes(buf, pos, value);
      }
    }
  }
  return pos;
}

/** The producer fields of a batch; -1/-1/-1 for a producer that is not idempotent. */
export interface BatchProducerFields {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

export const NO_PRODUCER: BatchProducerFields = Object.freeze({ producerId: -1n, producerEpoch: -1, baseSequence: -1 });

/** A record's size in a batch, length varint included (for batching and the sticky partitioner). */
export function recordSize(
  offsetDelta: number,
  timestampDelta: number,
  key: Buffer | string | null | undefined,
  value: Buffer | string | null | undefined,
  headers: RecordHeaders | undefined,
): number {
  const body = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + fieldSize(key) + fieldSize(value) + headersSize(headers);
  return varintSize(body) + body;
}

/**
 * One open batch. append() writes a record, or returns false when it would push the batch past
 * `maxBytes` (a first record always fits: a record bigger than maxBytes gets a batch of its own).
 */
export class BatchEncoder {
  private buf: Buffer;
  private pos = RECORDS_OFFSET;
  /** Records appended so far. */
  count = 0;
  /** Timestamp of the first record: every record stores its delta from it. */
  baseTimestamp = 0;
  maxTimestamp = 0;
  /** Highest safe position the batch may grow to. */
  readonly maxBytes: number;

  /**
   * `buffer`, when given, is used as the batch's memory from the start (a producer's pooled buffer
   * of maxBytes); otherwise the batch starts at `initialBytes` and doubles as it fills.
   */
  constructor(maxBytes: number, initialBytes = Math.min(maxBytes, 16 * 1024), buffer?: Buffer) {
    this.maxBytes = Math.max(maxBytes, RECORDS_OFFSET + 16);
    this.buf = buffer !== undefined && buffer.length >= RECORDS_OFFSET + 64 ? buffer : Buffer.allocUnsafe(Math.max(initialBytes, RECORDS_OFFSET + 64));
  }

  /** The memory the batch was built in (to give back to a pool once the batch is done). */
  get memory(): Buffer {
    return this.buf;
  }

  /** Bytes the batch holds now, header included. */
  get sizeInBytes(): number {
    return this.pos;
  }

  /** Appends a record; false when it does not fit (and the batch has records already). */
  append(
    timestamp: number,
    key: Buffer | string | null | undefined,
    value: Buffer | string | null | undefined,
    headers: RecordHeaders | undefined,
  ): boolean {
    const first = this.count === 0;
    if (first) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    }
    const timestampDelta = timestamp - this.baseTimestamp;
    const offsetDelta = this.count;
    const keySize = fieldSize(key);
    const valueSize = fieldSize(value);
    const hSize = headers === undefined ? 1 : headersSize(headers);
    const body = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + keySize + valueSize + hSize;
    const total = varintSize(body) + body;
    const end = this.pos + total;
    if (end > this.buf.length) {
      if (end > this.maxBytes && !first) return false;
      this.grow(end);
    }
    const buf = this.buf;
    let pos = writeVarint(buf, this.pos, body);
    buf[pos++] = 0;
    pos = writeVarlong(buf, pos, timestampDelta);
    pos = writeVarint(buf, pos, offsetDelta);
    pos = writeBytes(buf, pos, key);
    pos = writeBytes(buf, pos, value);
    pos = writeHeaders(buf, pos, headers);
    this.pos = pos;
    this.count++;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    return true;
  }

  private grow(needed: number): void {
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    capacity = Math.max(needed, Math.min(capacity, this.maxBytes));
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * Closes the batch without compression: fills in the header and the CRC and returns the batch
   * (a view of the encoder's buffer, which the encoder no longer touches).
   */
  finish(producer: BatchProducerFields = NO_PRODUCER, engine: LogEngine = defaultEngine()): Buffer {
    const batch = this.buf.subarray(0, this.pos);
    writeHeader(batch, CompressionCodec.None, this.count, this.baseTimestamp, this.maxTimestamp, producer);
    batch.writeUInt32BE(engine.crc32c(batch, ATTRIBUTES_OFFSET, batch.length, 0), CRC_OFFSET);
    return batch;
  }

  /** Closes the batch with its records compressed by `codec` (gzip, or a registered codec). */
  async finishCompressed(codec: CompressionCodec, producer: BatchProducerFields = NO_PRODUCER, engine: LogEngine = defaultEngine()): Promise<Buffer> {
    if (codec === CompressionCodec.None) return this.finish(producer, engine);
    const records = this.buf.subarray(RECORDS_OFFSET, this.pos);
    const compressed = await compressionImplementation(codec).compress(records);
    const batch = Buffer.allocUnsafe(RECORDS_OFFSET + compressed.length);
    compressed.copy(batch, RECORDS_OFFSET);
    writeHeader(batch, codec, this.count, this.baseTimestamp, this.maxTimestamp, producer);
    batch.writeUInt32BE(engine.crc32c(batch, ATTRIBUTES_OFFSET, batch.length, 0), CRC_OFFSET);
    return batch;
  }
}

function writeHeader(
  batch: Buffer,
  codec: CompressionCodec,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
  producer: BatchProducerFields,
): void {
  batch.fill(0, 0, 8); // baseOffset: the broker assigns it
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(-1, PARTITION_LEADER_EPOCH_OFFSET);
  batch[MAGIC_OFFSET] = CURRENT_MAGIC;
  batch.writeInt16BE(codec, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(count - 1, LAST_OFFSET_DELTA_OFFSET);
  writeInt64Number(batch, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64Number(batch, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  batch.writeBigInt64BE(producer.producerId, PRODUCER_ID_OFFSET);
  batch.writeInt16BE(producer.producerEpoch, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(producer.baseSequence, BASE_SEQUENCE_OFFSET);
  batch.writeInt32BE(count, RECORDS_COUNT_OFFSET);
}

/**
 * Rewrites the producer fields of a closed batch and its CRC (after the producer got a new id or
 * epoch, its unsent batches carry the new ones).
 */
export function restampProducer(batch: Buffer, producer: BatchProducerFields, engine: LogEngine = defaultEngine()): void {
  batch.writeBigInt64BE(producer.producerId, PRODUCER_ID_OFFSET);
  batch.writeInt16BE(producer.producerEpoch, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(producer.baseSequence, BASE_SEQUENCE_OFFSET);
  batch.writeUInt32BE(engine.crc32c(batch, ATTRIBUTES_OFFSET, batch.length, 0), CRC_OFFSET);
}
