// Reading the records inside an uncompressed RecordBatch v2 payload, for the few broker paths that
// need them (lookup by timestamp inside a batch, keys for compaction). The hot produce and fetch
// paths never come here. One RecordView is reused for every record: no per-record allocation.
//
// Record: varint length, int8 attributes, varlong timestampDelta, varint offsetDelta,
// varint keyLength (-1 = null) + key, varint valueLength (-1 = null) + value, varint headerCount,
// then per header: varint keyLength + key, varint valueLength (-1 = null) + value.
import { BASE_TIMESTAMP_OFFSET, RECORDS_COUNT_OFFSET, RECORDS_OFFSET, readInt32, readInt64 } from './record-batch.js';

export interface RecordView {
  /** Position of the record's first byte (its length varint) in the buffer. */
  position: number;
  /** Total bytes of the record, length varint included. */
  sizeInBytes: number;
  timestampDelta: bigint;
  offsetDelta: number;
  /** Start of the key in the buffer and its length; -1 when the key is null. */
  keyStart: number;
  keyLength: number;
  valueStart: number;
  valueLength: number;
  headerCount: number;
}

export function newRecordView(): RecordView {
  return {
    position: 0, sizeInBytes: 0, timestampDelta: 0n, offsetDelta: 0,
    keyStart: 0, keyLength: -1, valueStart: 0, valueLength: -1, headerCount: 0,
  };
}

/** A cursor over a byte range that reports malformed input instead of throwing. */
class VarintCursor {
  pos = 0;
  end = 0;
  bad = false;

  reset(pos: number, end: number): void {
    this.pos = pos;
    this.end = end;
    this.bad = false;
  }

  varint(buf: Uint8Array): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end || shift > 28) {
        this.bad = true;
        return 0;
      }
      const b = buf[this.pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    return (result >>> 1) ^ -(result & 1);
  }

  varlong(buf: Uint8Array): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end || shift > 63n) {
        this.bad = true;
        return 0n;
      }
      const b = buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    return (result >> 1n) ^ -(result & 1n);
  }

  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      this.bad = true;
      return;
    }
    this.pos += n;
  }
}

/**
 * Calls `visit` for each record of the uncompressed batch at `buf[pos, pos + size)`; `visit`
 * returns false to stop. Returns an error message if the records are malformed, else null.
 */
export function forEachRecord(
  buf: Uint8Array,
  pos: number,
  size: number,
  view: RecordView,
  visit: (view: RecordView) => boolean,
): string | null {
  const count = readInt32(buf, pos + RECORDS_COUNT_OFFSET);
  const end = pos + size;
  const cursor = new VarintCursor();
  let at = pos + RECORDS_OFFSET;
  for (let i = 0; i < count; i++) {
    cursor.reset(at, end);
    const length = cursor.varint(buf);
    const bodyStart = cursor.pos;
    if (cursor.bad || length < 0 || bodyStart + length > end) return `record ${i} has a bad length`;
    cursor.reset(bodyStart, bodyStart + length);
    cursor.skip(1); // attributes: unused in v2
    view.position = at;
    view.sizeInBytes = bodyStart - at + length;
    view.timestampDelta = cursor.varlong(buf);
    view.offsetDelta = cursor.varint(buf);
    view.keyLength = cursor.varint(buf);
    view.keyStart = cursor.pos;
    if (view.keyLength > 0) cursor.skip(view.keyLength);
    view.valueLength = cursor.varint(buf);
    view.valueStart = cursor.pos;
    if (view.valueLength > 0) cursor.skip(view.valueLength);
    view.headerCount = cursor.varint(buf);
    for (let h = 0; h < view.headerCount && !cursor.bad; h++) {
      const keyLength = cursor.varint(buf);
      cursor.skip(keyLength);
      const valueLength = cursor.varint(buf);
      if (valueLength > 0) cursor.skip(valueLength);
    }
    if (cursor.bad || view.keyLength < -1 || view.valueLength < -1 || view.headerCount < 0) {
      return `record ${i} is malformed`;
    }
    if (!visit(view)) return null;
    at = bodyStart + length;
  }
  return null;
}

export function baseTimestampFor(buf: Uint8Array, batchPos: number): bigint {
  return readInt64(buf, batchPos + BASE_TIMESTAMP_OFFSET);
}
