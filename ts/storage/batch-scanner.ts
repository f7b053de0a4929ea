// Walks the record batches of a segment file region, reading large chunks instead of one header
// at a time. Used where the broker must look at every batch: recovery, index rebuilds, finding
// the log end. The visitor sees each whole batch in a buffer that is only valid during the call.
import type { LogEngine, SegmentFile } from '../engine/types.js';
import { BATCH_BYTES_MAX } from '../limits.js';
import { checkBatch, LOG_OVERHEAD, readInt32, RECORD_BATCH_OVERHEAD, type BatchError } from './record-batch.js';

const CHUNK_BYTES = 1024 * 1024;

export interface ScanResult {
  /** File position after the last batch visited (where a torn or corrupt tail starts). */
  position: number;
  /** Why the scan stopped before `end`, if it did for a reason other than the visitor. */
  error: BatchError | null;
}

/** Visitor: return false to stop the scan. */
export type BatchVisitor = (buf: Buffer, pos: number, size: number, filePosition: number) => boolean;

/**
 * Visits batches in `file[start, end)`. With `verify`, each batch is checked in full (length,
 * magic, CRC, counts); without, only its length must be sane. Stops at the first bad batch.
 */
export async function scanBatches(
  engine: LogEngine,
  file: SegmentFile,
  start: number,
  end: number,
  verify: boolean,
  visit: BatchVisitor,
): Promise<ScanResult> {
  let chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(end - start, RECORD_BATCH_OVERHEAD)));
  let position = start;
  while (position < end) {
    const want = Math.min(chunk.length, end - position);
    const got = await readFully(file, chunk, want, position);
    let pos = 0;
    while (pos < got) {
      if (got - pos < LOG_OVERHEAD) break;
      const size = readInt32(chunk, pos + 8) + LOG_OVERHEAD;
      if (size < RECORD_BATCH_OVERHEAD || size > BATCH_BYTES_MAX || position + pos + size > end) {
        const torn = position + pos + Math.max(size, 0) > end;
        return { position: position + pos, error: { error: 'CORRUPT_MESSAGE', message: torn ? 'torn batch at the end of the file' : `impossible batch length ${size - LOG_OVERHEAD}` } };
      }
      if (pos + size > got) break;
      if (verify) {
        const checked = checkBatch(engine, chunk, pos, pos + size, false);
        if (typeof checked !== 'number') return { position: position + pos, error: checked };
      }
      if (!visit(chunk, pos, size, position + pos)) return { position: position + pos, error: null };
      pos += size;
    }
    if (pos === 0) {
      // The next batch is larger than the chunk: grow it to hold that batch whole.
      const size = got >= LOG_OVERHEAD ? readInt32(chunk, 8) + LOG_OVERHEAD : RECORD_BATCH_OVERHEAD;
      if (got < want || size <= chunk.length) {
        return { position, error: { error: 'CORRUPT_MESSAGE', message: 'torn batch at the end of the file' } };
      }
      chunk = Buffer.allocUnsafe(size);
      continue;
    }
    position += pos;
  }
  return { position, error: null };
}

/** Reads until `length` bytes arrived or the file ended; returns the count. */
export async function readFully(file: SegmentFile, target: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await file.read(target, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
