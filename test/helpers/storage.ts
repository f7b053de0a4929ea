// Shared set-up for storage tests: temp data directories, batches with recognisable payloads, and
// decoding what a read returns back into (offset, key, value) so tests assert what a consumer sees.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LogEngine } from '../../ts/engine/types.js';
import { baseOffsetOf, baseTimestampOf, batchSize, compressionCodecOf } from '../../ts/storage/record-batch.js';
import { buildRecordBatch, type BatchInput } from '../../ts/storage/record-batch-builder.js';
import { forEachRecord, newRecordView } from '../../ts/storage/records.js';

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `godel-${prefix}-`));
}

/** A batch of `count` records whose values are `${tag}-${i}` and keys `k${i}`. */
export function batchOf(engine: LogEngine, tag: string, count = 1, extra: Partial<BatchInput> = {}): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`${tag}-${i}`) }));
  return buildRecordBatch(engine, { records, ...extra });
}

export interface DecodedRecord {
  offset: bigint;
  timestamp: bigint;
  key: string | null;
  value: string | null;
}

/** Decodes uncompressed batches as a consumer would. */
export function decodeRecords(buf: Buffer): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  const view = newRecordView();
  for (let pos = 0; pos < buf.length;) {
    const size = batchSize(buf, pos);
    if (compressionCodecOf(buf, pos) !== 0) throw new Error('decodeRecords handles uncompressed batches only');
    const base = baseOffsetOf(buf, pos);
    const baseTs = baseTimestampOf(buf, pos);
    const error = forEachRecord(buf, pos, size, view, (r) => {
      out.push({
        offset: base + BigInt(r.offsetDelta),
        timestamp: baseTs + r.timestampDelta,
        key: r.keyLength < 0 ? null : buf.toString('utf8', r.keyStart, r.keyStart + r.keyLength),
        value: r.valueLength < 0 ? null : buf.toString('utf8', r.valueStart, r.valueStart + r.valueLength),
      });
      return true;
    });
    if (error !== null) throw new Error(error);
    pos += size;
  }
  return out;
}

/** Base offsets of the batches in a read. */
export function batchBaseOffsets(buf: Buffer): bigint[] {
  const out: bigint[] = [];
  for (let pos = 0; pos < buf.length; pos += batchSize(buf, pos)) out.push(baseOffsetOf(buf, pos));
  return out;
}
