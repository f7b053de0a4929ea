// Encodes records into a RecordBatch v2 (the client side of the format; tests and tools use it
// too). The broker never calls this on its hot path: it stores batches as producers sent them.
import { gzipSync } from 'node:zlib';
import type { LogEngine } from '../engine/types.js';
import {
  CompressionCodec,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  computeBatchCrc,
  writeInt32,
  writeInt64,
} from './record-batch.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Milliseconds; defaults to the batch's base timestamp. */
  timestamp?: bigint;
  /** Offset delta; defaults to the record's index (set it to build a compacted-looking batch). */
  offsetDelta?: number;
}

export interface BatchInput {
  records: RecordInput[];
  baseOffset?: bigint;
  baseTimestamp?: bigint;
  compression?: CompressionCodec;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  partitionLeaderEpoch?: number;
  logAppendTime?: boolean;
  transactional?: boolean;
  /** Override the computed last offset delta (compacted batches keep their original range). */
  lastOffsetDelta?: number;
}

export function buildRecordBatch(engine: LogEngine, input: BatchInput): Buffer {
  if (input.records.length === 0 && input.lastOffsetDelta === undefined) throw new RangeError('a record batch needs records');
  const baseTimestamp = input.baseTimestamp ?? input.records[0]?.timestamp ?? BigInt(Date.now());
  const bodies = input.records.map((r, i) => encodeRecord(r, i, baseTimestamp));
  let payload = Buffer.concat(bodies);
  const codec = input.compression ?? CompressionCodec.None;
  if (codec === CompressionCodec.Gzip) payload = gzipSync(payload);
  else if (codec !== CompressionCodec.None) throw new RangeError(`compression codec ${codec} is not supported by this builder`);
  let maxTimestamp = baseTimestamp;
  let lastDelta = 0;
  input.records.forEach((r, i) => {
    if ((r.timestamp ?? baseTimestamp) > maxTimestamp) maxTimestamp = r.timestamp!;
    lastDelta = Math.max(lastDelta, r.offsetDelta ?? i);
  });
  const buf = Buffer.alloc(RECORDS_OFFSET + payload.length);
  writeInt64(buf, 0, input.baseOffset ?? 0n);
  writeInt32(buf, 8, buf.length - LOG_OVERHEAD);
  writeInt32(buf, 12, input.partitionLeaderEpoch ?? -1);
  buf[16] = CURRENT_MAGIC;
  let attributes = codec;
  if (input.logAppendTime) attributes |= TIMESTAMP_TYPE_MASK;
  if (input.transactional) attributes |= 0x10;
  buf.writeInt16BE(attributes, 21);
  writeInt32(buf, 23, input.lastOffsetDelta ?? lastDelta);
  writeInt64(buf, 27, baseTimestamp);
  writeInt64(buf, 35, maxTimestamp);
  writeInt64(buf, 43, input.producerId ?? -1n);
  buf.writeInt16BE(input.producerEpoch ?? -1, 51);
  writeInt32(buf, 53, input.baseSequence ?? -1);
  writeInt32(buf, 57, input.records.length);
  payload.copy(buf, RECORDS_OFFSET);
  writeInt32(buf, CRC_OFFSET, computeBatchCrc(engine, buf, 0, buf.length));
  return buf;
}

function encodeRecord(record: RecordInput, index: number, baseTimestamp: bigint): Buffer {
  const body: Buffer[] = [Buffer.from([0])]; // attributes: unused in v2
  const push = (b: Buffer): void => {
    body.push(b);
  };
  push(varlong((record.timestamp ?? baseTimestamp) - baseTimestamp));
  push(varint(record.offsetDelta ?? index));
  pushBytes(push, record.key ?? null);
  pushBytes(push, record.value);
  const headers = record.headers ?? [];
  push(varint(headers.length));
  for (const h of headers) {
    pushBytes(push, Buffer.from(h.key, 'utf8'));
    pushBytes(push, h.value);
  }
  const content = Buffer.concat(body);
  return Buffer.concat([varint(content.length), content]);
}

function pushBytes(push: (b: Buffer) => void, value: Buffer | null): void {
  if (value === null) {
    push(varint(-1));
    return;
  }
  push(varint(value.length));
  push(value);
}

export function varint(value: number): Buffer {
  return varlong(BigInt(value));
}

export function varlong(value: bigint): Buffer {
  let zz = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  while (zz >= 0x80n) {
    out.push(Number(zz & 0x7fn) | 0x80);
    zz >>= 7n;
  }
  out.push(Number(zz));
  return Buffer.from(out);
}
