// Reading a whole log back as a consumer would, for the crash and fault tests: every batch a read
// returns is checked (length, magic, CRC32C with the reference engine) before its records are
// decoded with decodeRecords from ./storage.js. Also lists the batches of a segment file on disk,
// so a test can tear, truncate or flip bits at batch boundaries.
import fs from 'node:fs/promises';
import { isGodelError } from '../../ts/errors.js';
import type { PartitionLog } from '../../ts/storage/partition-log.js';
import { baseOffsetOf, batchSize, checkBatch, lastOffsetOf, LOG_OVERHEAD } from '../../ts/storage/record-batch.js';
import { referenceEngine } from './engines.js';
import { decodeRecords, type DecodedRecord } from './storage.js';

export type { DecodedRecord };

/** One record batch in a buffer or file. */
export interface BatchSpan {
  baseOffset: bigint;
  lastOffset: bigint;
  /** Byte position of the batch in the buffer (or file). */
  position: number;
  size: number;
}

/**
 * The whole batches in `buf`, each checked with the reference engine; throws when a batch is torn
 * or fails its checks (a read must never return such bytes).
 */
export function checkedBatches(buf: Buffer): BatchSpan[] {
  const spans: BatchSpan[] = [];
  for (let pos = 0; pos < buf.length;) {
    const checked = checkBatch(referenceEngine, buf, pos, buf.length, false);
    if (typeof checked !== 'number') throw new Error(`bad batch at position ${pos} of a read: ${checked.message}`);
    spans.push({ baseOffset: baseOffsetOf(buf, pos), lastOffset: lastOffsetOf(buf, pos), position: pos, size: checked });
    pos += checked;
  }
  return spans;
}

/** Decodes a read result after checking every batch in it. */
export function decodeChecked(buf: Buffer): DecodedRecord[] {
  checkedBatches(buf);
  return decodeRecords(buf);
}

/**
 * Every record from `from` to the log end, by repeated reads of at most `maxBytes`. Throws on an
 * empty read before the log end (a read must make progress) and on any bad batch.
 */
export async function readAll(log: PartitionLog, from = log.logStartOffset, maxBytes = 256 * 1024): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  let offset = from;
  const end = log.logEndOffset;
  while (offset < end) {
    const { records } = await log.read(offset, maxBytes);
    if (records.length === 0) throw new Error(`read at ${offset} returned nothing before the log end ${end}`);
    const spans = checkedBatches(records);
    for (const record of decodeRecords(records)) if (record.offset >= offset) out.push(record);
    offset = spans[spans.length - 1]!.lastOffset + 1n;
  }
  return out;
}

/** What reading the batch holding `offset` fails with: the GodelError code, or null when it succeeds. */
export async function readErrorCode(log: PartitionLog, offset: bigint, maxBytes = 1024 * 1024): Promise<string | null> {
  try {
    await log.read(offset, maxBytes);
    return null;
  } catch (err) {
    if (isGodelError(err)) return err.code;
    throw err;
  }
}

/**
 * The batches of a segment file as laid out on disk, by their length fields only (no CRC check),
 * stopping at the first length that does not fit.
 */
export function batchSpans(file: Buffer): BatchSpan[] {
  const spans: BatchSpan[] = [];
  for (let pos = 0; pos + LOG_OVERHEAD <= file.length;) {
    const size = batchSize(file, pos);
    if (size <= LOG_OVERHEAD || pos + size > file.length) break;
    spans.push({ baseOffset: baseOffsetOf(file, pos), lastOffset: lastOffsetOf(file, pos), position: pos, size });
    pos += size;
  }
  return spans;
}

/** batchSpans() of the segment file at `path`, with its bytes. */
export async function segmentFileBatches(path: string): Promise<{ bytes: Buffer; spans: BatchSpan[] }> {
  const bytes = await fs.readFile(path);
  return { bytes, spans: batchSpans(bytes) };
}
