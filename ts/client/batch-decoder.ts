// Decoding the record batches of a fetch response into messages. The fetched bytes hold whole
// stored batches back to back, the last one possibly cut short by the fetch's byte limit (it is
// then fetched again from its first offset next time). Keys, values and header values are views
// into the fetched (or decompressed) bytes, not copies. Control batches (transaction markers) are
// skipped, and so are records before the offset asked for (a fetch returns the whole batch that
// contains it).

import { defaultEngine } from '../engine/loader.js';
import type { LogEngine } from '../engine/types.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  CompressionCodec,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  RECORD_BATCH_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
} from '../storage/record-batch.js';
import { compressionImplementation } from './compression.js';
import { KafkaError } from './errors.js';

const CORRUPT_MESSAGE = 2;
const TWO_32 = 4294967296;

export type MessageHeaders = Record<string, Buffer | null | Array<Buffer | null>>;

/** A consumed record. key/value/headers are views into the fetched bytes. */
export interface KafkaMessage {
  offset: bigint;
  /** Milliseconds since the epoch: CreateTime, or the broker's LogAppendTime for such batches. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: MessageHeaders;
  /** The batch's attributes (codec bits 0-2, timestamp type bit 3 …). */
  attributes: number;
}

const EMPTY_HEADERS: MessageHeaders = Object.freeze({}) as MessageHeaders;

/**
 * A Buffer view made without Buffer#subarray's argument handling: the same trivial Uint8Array
 * subclass Node's own FastBuffer is, with Buffer.prototype above it, so it is a Buffer in every
 * respect (instanceof, Buffer.isBuffer, every method, util.inspect). About half the cost of
 * subarray(), and the consumer makes one or two per record.
 */
// The class is made anonymous inside a function on purpose: a class whose `name` property gets
// redefined (which esbuild's keepNames, and so tsx, does to every named class) loses V8's fast
// typed-array construction path, and costs ten times more to instantiate. Its prototype's
// `constructor` is Buffer, as FastBuffer's is, so util.inspect prints <Buffer …>.
function makeBufferView(): typeof Uint8Array {
  return class extends Uint8Array {};
}
const BufferView = makeBufferView();
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype);
Object.defineProperty(BufferView.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });

function view(buf: Buffer, start: number, length: number): Buffer {
  return new BufferView(buf.buffer, buf.byteOffset + start, length) as unknown as Buffer;
}

/** BigInt(n) for the offset deltas of a batch, made once. */
const DELTAS: bigint[] = [];
function delta(n: number): bigint {
  if (n < 4096) {
    let d = DELTAS[n];
    if (d === undefined) {
      for (let i = DELTAS.length; i <= n; i++) DELTAS[i] = BigInt(i);
      d = DELTAS[n]!;
    }
    return d;
  }
  return BigInt(n);
}

export interface DecodedBatches {
  messages: KafkaMessage[];
  /** The offset after the last complete batch, or -1n when no batch was complete. */
  nextOffset: bigint;
  /** Complete batches seen (control batches included). */
  batches: number;
}

export interface DecodeOptions {
  /** Records before this offset are dropped. */
  fromOffset: bigint;
  /** Verify each batch's CRC32C (Kafka's check.crcs, default true). */
  checkCrcs?: boolean;
  topic?: string;
  partition?: number;
  engine?: LogEngine;
}

function readInt64Number(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

function corrupt(message: string, options: DecodeOptions): KafkaError {
  return new KafkaError(CORRUPT_MESSAGE, message, { topic: options.topic, partition: options.partition, retriable: false });
}

/**
 * Decodes every complete batch in `records`. Uncompressed batches are decoded synchronously; a
 * compressed one awaits its codec (gzip runs on the thread pool).
 */
export async function decodeRecordBatches(records: Buffer, options: DecodeOptions): Promise<DecodedBatches> {
  const messages: KafkaMessage[] = [];
  const checkCrcs = options.checkCrcs ?? true;
  const engine = options.engine ?? defaultEngine();
  let pos = 0;
  let nextOffset = -1n;
  let batches = 0;
  const end = records.length;
  while (end - pos >= LOG_OVERHEAD) {
    const size = records.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (size > end - pos) break; // a partial batch at the end of the fetch
    if (size < RECORD_BATCH_OVERHEAD) throw corrupt(`record batch of ${size} bytes is shorter than its header`, options);
    const magic = records[pos + MAGIC_OFFSET];
    if (magic !== 2) throw corrupt(`record batch magic ${magic} is not supported (only 2)`, options);
    if (checkCrcs) {
      const expected = engine.crc32c(records, pos + ATTRIBUTES_OFFSET, pos + size, 0);
      if (expected !== records.readUInt32BE(pos + CRC_OFFSET)) throw corrupt(`record batch at offset ${records.readBigInt64BE(pos)} fails its CRC32C`, options);
    }
    const baseOffset = records.readBigInt64BE(pos + BASE_OFFSET_OFFSET);
    const lastOffsetDelta = records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
    const attributes = records.readInt16BE(pos + ATTRIBUTES_OFFSET);
    batches++;
    nextOffset = baseOffset + BigInt(lastOffsetDelta) + 1n;
    if ((attributes & CONTROL_FLAG_MASK) === 0 && nextOffset > options.fromOffset) {
      const codec = attributes & COMPRESSION_CODEC_MASK;
      let body = records;
      let bodyStart = pos + RECORDS_OFFSET;
      let bodyEnd = pos + size;
      if (codec !== CompressionCodec.None) {
        body = await compressionImplementation(codec).decompress(records.subarray(bodyStart, bodyEnd));
        bodyStart = 0;
        bodyEnd = body.length;
      }
      const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
      const baseTimestamp = readInt64Number(records, pos + BASE_TIMESTAMP_OFFSET);
      const maxTimestamp = readInt64Number(records, pos + MAX_TIMESTAMP_OFFSET);
      const count = records.readInt32BE(pos + RECORDS_COUNT_OFFSET);
      const error = decodeRecords(body, bodyStart, bodyEnd, count, baseOffset, options.fromOffset, logAppendTime ? maxTimestamp : baseTimestamp, logAppendTime, attributes, messages);
      if (error !== null) throw corrupt(`record batch at offset ${baseOffset}: ${error}`, options);
    }
    pos += size;
  }
  return { messages, nextOffset, batches };
}

/**
 * Decodes `count` records from body[start, end) into `out`. Returns an error message for malformed
 * bytes, else null. Varints are read inline: this is the consumer's hot loop.
 */
function decodeRecords(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  baseOffset: bigint,
  fromOffset: bigint,
  baseTimestamp: number,
  logAppendTime: boolean,
  attributes: number,
  out: KafkaMessage[],
): string | null {
  let pos = start;
  // Offsets as numbers relative to the batch: the bigint is made once per record.
  const skipBelow = fromOffset > baseOffset ? Number(fromOffset - baseOffset) : 0;
  for (let i = 0; i < count; i++) {
    // length
    let b = buf[pos++]!;
    let v = b & 0x7f;
    let shift = 7;
    while (b >= 0x80) {
      if (pos >= end || shift > 28) return `record ${i} has a bad length`;
      b = buf[pos++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    }
    const length = (v >>> 1) ^ -(v & 1);
    const recordEnd = pos + length;
    if (length < 0 || recordEnd > end) return `record ${i} has a bad length ${length}`;
    pos++; // attributes
    // timestampDelta (varlong): fast path for deltas that fit 28 bits
    b = buf[pos++]!;
    let timestampDelta: number;
    if (b < 0x80) {
      timestampDelta = (b >>> 1) ^ -(b & 1);
    } else {
      let z = b & 0x7f;
      let mul = 128;
      do {
        if (pos >= recordEnd || mul > 2 ** 63) return `record ${i} has a bad timestamp delta`;
        b = buf[pos++]!;
        z += (b & 0x7f) * mul;
        mul *= 128;
      } while (b >= 0x80);
      timestampDelta = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    // offsetDelta
    b = buf[pos++]!;
    v = b & 0x7f;
    shift = 7;
    while (b >= 0x80) {
      b = buf[pos++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    }
    const offsetDelta = (v >>> 1) ^ -(v & 1);
    // key
    b = buf[pos++]!;
    v = b & 0x7f;
    shift = 7;
    while (b >= 0x80) {
      b = buf[pos++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    }
    const keyLength = (v >>> 1) ^ -(v & 1);
    let key: Buffer | null = null;
    if (keyLength >= 0) {
      if (pos + keyLength > recordEnd) return `record ${i} has a bad key length`;
      key = view(buf, pos, keyLength);
      pos += keyLength;
    }
    // value
    b = buf[pos++]!;
    v = b & 0x7f;
    shift = 7;
    while (b >= 0x80) {
      b = buf[pos++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    }
    const valueLength = (v >>> 1) ^ -(v & 1);
    let value: Buffer | null = null;
    if (valueLength >= 0) {
      if (pos + valueLength > recordEnd) return `record ${i} has a bad value length`;
      value = view(buf, pos, valueLength);
      pos += valueLength;
    }
    // headers
    let headers = EMPTY_HEADERS;
    if (buf[pos] === 0) {
      pos++;
    } else {
      const decoded = decodeHeaders(buf, pos, recordEnd);
      if (decoded === null) return `record ${i} has malformed headers`;
      headers = decoded;
    }
    if (pos > recordEnd) return `record ${i} overruns its length`;
    pos = recordEnd;
    if (offsetDelta < skipBelow) continue;
    out.push({
      offset: baseOffset + delta(offsetDelta),
      timestamp: logAppendTime ? baseTimestamp : baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      attributes,
    });
  }
  return null;
}

function readVarintAt(buf: Buffer, at: { pos: number }, end: number): number | null {
  let v = 0;
  let shift = 0;
  for (;;) {
    if (at.pos >= end || shift > 28) return null;
    const b = buf[at.pos++]!;
    v |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return (v >>> 1) ^ -(v & 1);
}

function decodeHeaders(buf: Buffer, pos: number, end: number): MessageHeaders | null {
  const at = { pos };
  const count = readVarintAt(buf, at, end);
  if (count === null || count < 0) return null;
  const headers: MessageHeaders = {};
  for (let h = 0; h < count; h++) {
    const keyLength = readVarintAt(buf, at, end);
    if (keyLength === null || keyLength < 0 || at.pos + keyLength > end) return null;
    const key = buf.toString('utf8', at.pos, at.pos + keyLength);
    at.pos += keyLength;
    const valueLength = readVarintAt(buf, at, end);
    if (valueLength === null || valueLength < -1 || at.pos + Math.max(0, valueLength) > end) return null;
    const value = valueLength < 0 ? null : view(buf, at.pos, valueLength);
    at.pos += Math.max(0, valueLength);
    const existing = headers[key];
    if (existing === undefined) headers[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[key] = [existing, value];
  }
  return headers;
}
