// RecordBatch v2 validation, stamping and LogAppendTime, over both engines' CRC32C.
import { describe, expect, it } from 'vitest';
import {
  attributesOf,
  baseOffsetOf,
  checkBatch,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  hasValidCrc,
  maxTimestampOf,
  partitionLeaderEpochOf,
  RECORD_BATCH_OVERHEAD,
  setLogAppendTime,
  stampBatch,
  TIMESTAMP_TYPE_MASK,
  validateProducedBatch,
  writeInt32,
  type AppendValidation,
} from '../../../ts/storage/record-batch.js';
import { buildRecordBatch } from '../../../ts/storage/record-batch-builder.js';
import { testEngines } from '../../helpers/engines.js';
import { batchOf, decodeRecords } from '../../helpers/storage.js';

const NOW = 1_700_000_000_000;
const rules: AppendValidation = {
  maxMessageBytes: 1024 * 1024,
  timestampBeforeMaxMs: Infinity,
  timestampAfterMaxMs: Infinity,
  logAppendTime: false,
  nowMs: NOW,
};

describe.each(testEngines)('RecordBatch v2: $name engine', ({ engine }) => {
  const validate = (buf: Buffer, r: Partial<AppendValidation> = {}) => validateProducedBatch(engine, buf, 0, buf.length, { ...rules, ...r });

  it('accepts a well-formed batch and reports its size', () => {
    const batch = batchOf(engine, 'a', 3);
    expect(validate(batch)).toBe(batch.length);
  });

  it('rejects a flipped bit anywhere in the CRC range as CORRUPT_MESSAGE', () => {
    const batch = batchOf(engine, 'a', 3);
    for (const at of [21, 30, RECORD_BATCH_OVERHEAD, batch.length - 1]) {
      const bad = Buffer.from(batch);
      bad[at]! ^= 0x10;
      const result = validate(bad);
      expect(result, `bit flipped at ${at}`).toMatchObject({ error: 'CORRUPT_MESSAGE' });
    }
  });

  it('rejects lengths that lie or do not fit', () => {
    const batch = batchOf(engine, 'a', 2);
    expect(validate(batch.subarray(0, batch.length - 1))).toMatchObject({ error: 'CORRUPT_MESSAGE' });
    expect(validate(batch.subarray(0, 30))).toMatchObject({ error: 'CORRUPT_MESSAGE' });
    const short = Buffer.from(batch);
    writeInt32(short, 8, 10);
    expect(validate(short)).toMatchObject({ error: 'CORRUPT_MESSAGE' });
    const negative = Buffer.from(batch);
    writeInt32(negative, 8, -5);
    expect(validate(negative)).toMatchObject({ error: 'CORRUPT_MESSAGE' });
  });

  it('rejects other magic values as INVALID_RECORD', () => {
    const batch = batchOf(engine, 'a');
    batch[16] = 1;
    expect(validate(batch)).toMatchObject({ error: 'INVALID_RECORD' });
  });

  it('rejects batches over max.message.bytes as MESSAGE_TOO_LARGE', () => {
    const batch = buildRecordBatch(engine, { records: [{ value: Buffer.alloc(2000) }] });
    expect(validate(batch, { maxMessageBytes: 1000 })).toMatchObject({ error: 'MESSAGE_TOO_LARGE' });
    expect(validate(batch, { maxMessageBytes: batch.length })).toBe(batch.length);
  });

  it('rejects a record count that disagrees with the last offset delta', () => {
    const batch = buildRecordBatch(engine, { records: [{ value: Buffer.from('x') }, { value: Buffer.from('y') }], lastOffsetDelta: 5 });
    expect(validate(batch)).toMatchObject({ error: 'INVALID_RECORD' });
    // A cleaned log may hold fewer records than its offset range: recovery accepts that.
    expect(checkBatch(engine, batch, 0, batch.length, false)).toBe(batch.length);
  });

  it('rejects control batches and producer ids without a sequence', () => {
    const control = batchOf(engine, 'c');
    const attributes = attributesOf(control, 0) | CONTROL_FLAG_MASK;
    control.writeInt16BE(attributes, 21);
    writeInt32(control, CRC_OFFSET, engine.crc32c(control, 21, control.length, 0));
    expect(validate(control)).toMatchObject({ error: 'INVALID_RECORD' });
    const idempotent = batchOf(engine, 'p', 1, { producerId: 7n, producerEpoch: 0, baseSequence: -1 });
    expect(validate(idempotent)).toMatchObject({ error: 'INVALID_RECORD' });
    expect(validate(batchOf(engine, 'p', 1, { producerId: 7n, producerEpoch: 0, baseSequence: 0 }))).toBeTypeOf('number');
  });

  it('checks CreateTime bounds and negative timestamps', () => {
    const old = batchOf(engine, 't', 1, { baseTimestamp: BigInt(NOW - 10_000) });
    expect(validate(old, { timestampBeforeMaxMs: 5_000 })).toMatchObject({ error: 'INVALID_TIMESTAMP' });
    expect(validate(old, { timestampBeforeMaxMs: 20_000 })).toBe(old.length);
    const future = batchOf(engine, 't', 1, { baseTimestamp: BigInt(NOW + 10_000) });
    expect(validate(future, { timestampAfterMaxMs: 5_000 })).toMatchObject({ error: 'INVALID_TIMESTAMP' });
    const negative = batchOf(engine, 't', 1, { baseTimestamp: -5n });
    expect(validate(negative)).toMatchObject({ error: 'INVALID_TIMESTAMP' });
    expect(validate(batchOf(engine, 't', 1, { baseTimestamp: -1n }))).toBeTypeOf('number');
    // Under LogAppendTime the producer's timestamps do not matter.
    expect(validate(old, { timestampBeforeMaxMs: 5_000, logAppendTime: true })).toBe(old.length);
  });

  it('stamps base offset and leader epoch without invalidating the CRC', () => {
    const batch = batchOf(engine, 's', 4);
    stampBatch(batch, 0, 123_456_789_012n, 7);
    expect(baseOffsetOf(batch, 0)).toBe(123_456_789_012n);
    expect(partitionLeaderEpochOf(batch, 0)).toBe(7);
    expect(hasValidCrc(engine, batch, 0, batch.length)).toBe(true);
    expect(decodeRecords(batch).map((r) => r.offset)).toEqual([123_456_789_012n, 123_456_789_013n, 123_456_789_014n, 123_456_789_015n]);
  });

  it('LogAppendTime sets the type bit and max timestamp, and recomputes the CRC', () => {
    const batch = batchOf(engine, 'l', 2, { baseTimestamp: 5n });
    setLogAppendTime(engine, batch, 0, batch.length, NOW);
    expect(attributesOf(batch, 0) & TIMESTAMP_TYPE_MASK).toBe(TIMESTAMP_TYPE_MASK);
    expect(maxTimestampOf(batch, 0)).toBe(BigInt(NOW));
    expect(hasValidCrc(engine, batch, 0, batch.length)).toBe(true);
  });

  it('never throws on random bytes', () => {
    for (let i = 0; i < 500; i++) {
      const junk = Buffer.alloc(Math.floor(Math.random() * 200));
      for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(Math.random() * 256);
      const result = validate(junk);
      expect(typeof result === 'number' ? 'ok' : result.error).toMatch(/ok|CORRUPT_MESSAGE|INVALID_RECORD|MESSAGE_TOO_LARGE|INVALID_TIMESTAMP/);
    }
  });
});
