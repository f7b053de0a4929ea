// The client's RecordBatch encoder and decoder against the storage layer's own code: a batch the
// producer builds is byte for byte what storage's buildRecordBatch builds from the same records,
// passes the broker's produce validation, and reads back through storage's record reader; the
// consumer's decoder reads storage-built batches (gzip, headers, LogAppendTime, control batches,
// a cut-off tail) and refuses corrupt ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatches } from '../../../ts/client/batch-decoder.js';
import { BatchEncoder, recordSize, restampProducer, varintSize, varlongSize, writeVarint, writeVarlong } from '../../../ts/client/batch-encoder.js';
import { KafkaError } from '../../../ts/client/errors.js';
import { buildRecordBatch, type RecordInput } from '../../../ts/storage/record-batch-builder.js';
import {
  baseSequenceOf,
  CompressionCodec,
  CONTROL_FLAG_MASK,
  hasValidCrc,
  producerEpochOf,
  producerIdOf,
  recordsCountOf,
  stampBatch,
  validateProducedBatch,
  type AppendValidation,
} from '../../../ts/storage/record-batch.js';
import { forEachRecord, newRecordView } from '../../../ts/storage/records.js';
import { referenceEngine, testEngines } from '../../helpers/engines.js';

const RULES: AppendValidation = {
  maxMessageBytes: 64 * 1024 * 1024, timestampBeforeMaxMs: Infinity, timestampAfterMaxMs: Infinity, logAppendTime: false, nowMs: Date.now(),
};

interface Rec {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
  timestamp: number;
}

function encode(records: Rec[], maxBytes = 1 << 24): Buffer {
  const enc = new BatchEncoder(maxBytes);
  for (const r of records) expect(enc.append(r.timestamp, r.key, r.value, r.headers)).toBe(true);
  return Buffer.from(enc.finish(undefined, referenceEngine));
}

function storageBuild(records: Rec[], extra: { compression?: CompressionCodec } = {}): Buffer {
  const inputs: RecordInput[] = records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: BigInt(r.timestamp) }));
  return buildRecordBatch(referenceEngine, { records: inputs, baseTimestamp: BigInt(records[0]!.timestamp), ...extra });
}

const recArb: fc.Arbitrary<Rec> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)), { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 20 }), value: fc.option(fc.uint8Array({ maxLength: 50 }).map((a) => Buffer.from(a)), { nil: null }) }), { maxLength: 4 }),
  timestamp: fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }),
});

describe('varints', () => {
  it('writes zig-zag varints and varlongs exactly as storage does, with the sizes it predicts', () => {
    const buf = Buffer.alloc(16);
    const samples = [0, 1, -1, 63, -64, 64, -65, 8191, 8192, -8193, 2 ** 20, -(2 ** 20), 2 ** 30 - 1, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31)];
    for (const v of samples) {
      const end = writeVarint(buf, 0, v);
      expect(end).toBe(varintSize(v));
      expect(buf.subarray(0, end)).toEqual(encodeStorageVarlong(BigInt(v)));
    }
    for (const v of [...samples, 2 ** 33, -(2 ** 33) - 5, 2 ** 52 + 3, -(2 ** 52), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      const end = writeVarlong(buf, 0, v);
      expect(end).toBe(varlongSize(v));
      expect(buf.subarray(0, end)).toEqual(encodeStorageVarlong(BigInt(v)));
    }
  });
});

/** The storage builder's varlong, through a one-record batch is overkill: zig-zag by hand. */
function encodeStorageVarlong(value: bigint): Buffer {
  let zz = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  while (zz >= 0x80n) {
    out.push(Number(zz & 0x7fn) | 0x80);
    zz >>= 7n;
  }
  out.push(Number(zz));
  return Buffer.from(out);
}

describe('BatchEncoder', () => {
  it('builds byte for byte the batch storage builds from the same records (property)', () => {
    fc.assert(fc.property(fc.array(recArb, { minLength: 1, maxLength: 30 }), (records) => {
      expect(encode(records)).toEqual(storageBuild(records));
    }), { numRuns: 150 });
  });

  it.each(testEngines)('passes the broker\'s produce validation and reads back through storage ($name engine)', ({ engine }) => {
    const records: Rec[] = [
      { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }], timestamp: 1_700_000_000_000 },
      { key: null, value: null, headers: [], timestamp: 1_700_000_000_005 },
      { key: Buffer.alloc(0), value: Buffer.alloc(200_000, 7), headers: [{ key: 'null', value: null }], timestamp: 1_699_999_999_990 },
    ];
    const enc = new BatchEncoder(1 << 20);
    for (const r of records) enc.append(r.timestamp, r.key, r.value, r.headers);
    const batch = Buffer.from(enc.finish({ producerId: 42n, producerEpoch: 3, baseSequence: 17 }, engine));
    expect(validateProducedBatch(engine, batch, 0, batch.length, RULES)).toBe(batch.length);
    expect(recordsCountOf(batch, 0)).toBe(3);
    expect(producerIdOf(batch, 0)).toBe(42n);
    expect(producerEpochOf(batch, 0)).toBe(3);
    expect(baseSequenceOf(batch, 0)).toBe(17);
    expect(batch.readBigInt64BE(35)).toBe(1_700_000_000_005n); // maxTimestamp
    const seen: Array<{ key: Buffer | null; value: Buffer | null; delta: bigint }> = [];
    const view = newRecordView();
    expect(forEachRecord(batch, 0, batch.length, view, (v) => {
      seen.push({
        key: v.keyLength < 0 ? null : batch.subarray(v.keyStart, v.keyStart + v.keyLength),
        value: v.valueLength < 0 ? null : batch.subarray(v.valueStart, v.valueStart + v.valueLength),
        delta: v.timestampDelta,
      });
      return true;
    })).toBeNull();
    expect(seen.map((s) => s.key)).toEqual([Buffer.from('k1'), null, Buffer.alloc(0)]);
    expect(seen.map((s) => s.value?.length ?? null)).toEqual([2, null, 200_000]);
    expect(seen.map((s) => s.delta)).toEqual([0n, 5n, -10n]);
  });

  it('writes string keys, values and headers (object and array forms, repeated keys) as UTF-8', async () => {
    const enc = new BatchEncoder(1 << 16);
    enc.append(1000, 'clé', 'välue 日本', { a: 'x', b: ['1', Buffer.from('2')], skipped: undefined });
    enc.append(1001, null, 'v', [{ key: 'k', value: null }, { key: 'k', value: 'again' }]);
    const batch = enc.finish(undefined, referenceEngine);
    const { messages } = await decodeRecordBatches(batch, { fromOffset: 0n, engine: referenceEngine });
    expect(messages[0]!.key!.toString()).toBe('clé');
    expect(messages[0]!.value!.toString()).toBe('välue 日本');
    expect(messages[0]!.headers).toEqual({ a: Buffer.from('x'), b: [Buffer.from('1'), Buffer.from('2')] });
    expect(messages[1]!.headers).toEqual({ k: [null, Buffer.from('again')] });
    expect(messages.map((m) => m.timestamp)).toEqual([1000, 1001]);
  });

  it('refuses a record that would pass maxBytes, except the first, which gets a batch of its own', () => {
    const enc = new BatchEncoder(1000);
    expect(enc.append(1, null, Buffer.alloc(5000), undefined)).toBe(true); // oversized first record
    expect(enc.append(1, null, Buffer.alloc(10), undefined)).toBe(false);
    expect(enc.count).toBe(1);
    const small = new BatchEncoder(1000, 64);
    let appended = 0;
    while (small.append(1, null, Buffer.alloc(100), undefined)) appended++;
    expect(small.sizeInBytes).toBeLessThanOrEqual(1000);
    expect(appended).toBe(Math.floor((1000 - 61) / recordSize(0, 0, null, Buffer.alloc(100), undefined)));
  });

  it('predicts each record\'s size (recordSize) as it writes it', () => {
    fc.assert(fc.property(recArb, fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (r, offsetDelta, tsDelta) => {
      const enc = new BatchEncoder(1 << 24);
      for (let i = 0; i < offsetDelta % 3; i++) enc.append(0, null, null, undefined);
      const before = enc.sizeInBytes;
      enc.append(enc.count === 0 ? 0 : tsDelta, r.key, r.value, r.headers);
      const delta = enc.count === 1 ? 0 : tsDelta;
      expect(enc.sizeInBytes - before).toBe(recordSize(enc.count - 1, delta, r.key, r.value, r.headers));
    }), { numRuns: 100 });
  });

  it('compresses with gzip into a batch storage validates and the decoder reads back', async () => {
    const records: Rec[] = Array.from({ length: 100 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`value ${i} `.repeat(20)), headers: [], timestamp: 1_700_000_000_000 + i }));
    const enc = new BatchEncoder(1 << 20);
    for (const r of records) enc.append(r.timestamp, r.key, r.value, r.headers);
    const batch = await enc.finishCompressed(CompressionCodec.Gzip, undefined, referenceEngine);
    expect(batch.readInt16BE(21) & 7).toBe(CompressionCodec.Gzip);
    expect(batch.length).toBeLessThan(enc.sizeInBytes / 4);
    expect(validateProducedBatch(referenceEngine, batch, 0, batch.length, RULES)).toBe(batch.length);
    stampBatch(batch, 0, 500n, 0);
    const { messages, nextOffset } = await decodeRecordBatches(batch, { fromOffset: 0n, engine: referenceEngine });
    expect(nextOffset).toBe(600n);
    expect(messages.map((m) => m.offset)).toEqual(records.map((_, i) => 500n + BigInt(i)));
    expect(messages.map((m) => m.value!.toString())).toEqual(records.map((r) => r.value!.toString()));
  });

  it('restamps the producer fields of a closed batch with a CRC that still holds', () => {
    const enc = new BatchEncoder(4096);
    enc.append(5, 'k', 'v', undefined);
    const batch = Buffer.from(enc.finish({ producerId: 1n, producerEpoch: 0, baseSequence: 0 }, referenceEngine));
    restampProducer(batch, { producerId: 99n, producerEpoch: 2, baseSequence: 1234 }, referenceEngine);
    expect(hasValidCrc(referenceEngine, batch, 0, batch.length)).toBe(true);
    expect([producerIdOf(batch, 0), producerEpochOf(batch, 0), baseSequenceOf(batch, 0)]).toEqual([99n, 2, 1234]);
  });
});

describe('decodeRecordBatches', () => {
  const base = 1_700_000_000_000;
  const mk = (baseOffset: bigint, n: number, extra: Parameters<typeof buildRecordBatch>[1] = { records: [] }): Buffer => buildRecordBatch(referenceEngine, {
    baseOffset,
    baseTimestamp: BigInt(base),
    ...extra,
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`r${baseOffset + BigInt(i)}`), timestamp: BigInt(base + i) })),
  });

  it('reads several batches, drops records before fromOffset, and stops at a cut-off tail', async () => {
    const a = mk(10n, 5);
    const b = mk(15n, 5, { records: [], compression: CompressionCodec.Gzip });
    const c = mk(20n, 5);
    const bytes = Buffer.concat([a, b, c.subarray(0, c.length - 3)]);
    const out = await decodeRecordBatches(bytes, { fromOffset: 12n, engine: referenceEngine });
    expect(out.messages.map((m) => m.offset)).toEqual([12n, 13n, 14n, 15n, 16n, 17n, 18n, 19n]);
    expect(out.messages.map((m) => m.value!.toString())).toEqual(['r12', 'r13', 'r14', 'r15', 'r16', 'r17', 'r18', 'r19']);
    expect(out.messages[0]!.timestamp).toBe(base + 2);
    expect(out.nextOffset).toBe(20n);
    expect(out.batches).toBe(2);
  });

  it('gives every record the batch\'s max timestamp under LogAppendTime', async () => {
    const batch = mk(0n, 3, { records: [], logAppendTime: true });
    const out = await decodeRecordBatches(batch, { fromOffset: 0n, engine: referenceEngine });
    expect(out.messages.map((m) => m.timestamp)).toEqual([base + 2, base + 2, base + 2]);
    expect(out.messages[0]!.attributes & 0x08).toBe(0x08);
  });

  it('skips control batches but moves past their offsets', async () => {
    const control = mk(3n, 1);
    control.writeInt16BE(control.readInt16BE(21) | CONTROL_FLAG_MASK, 21);
    control.writeUInt32BE(referenceEngine.crc32c(control, 21, control.length, 0), 17);
    const out = await decodeRecordBatches(Buffer.concat([mk(0n, 3), control, mk(4n, 1)]), { fromOffset: 0n, engine: referenceEngine });
    expect(out.messages.map((m) => m.offset)).toEqual([0n, 1n, 2n, 4n]);
    expect(out.nextOffset).toBe(5n);
  });

  it('refuses a batch whose CRC does not hold, naming the partition (unless checkCrcs is off)', async () => {
    const batch = mk(0n, 2);
    batch[batch.length - 2] ^= 0x01; // a byte of the last value
    const err = await decodeRecordBatches(batch, { fromOffset: 0n, engine: referenceEngine, topic: 't', partition: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect(err).toMatchObject({ type: 'CORRUPT_MESSAGE', topic: 't', partition: 3, retriable: false });
    const lax = await decodeRecordBatches(batch, { fromOffset: 0n, engine: referenceEngine, checkCrcs: false });
    expect(lax.messages).toHaveLength(2);
  });

  it('refuses records whose lengths lie', async () => {
    const batch = mk(0n, 2);
    batch[61] = 0x7e; // the first record's length varint: 63 bytes, more than the batch holds
    batch.writeUInt32BE(referenceEngine.crc32c(batch, 21, batch.length, 0), 17);
    await expect(decodeRecordBatches(batch, { fromOffset: 0n, engine: referenceEngine })).rejects.toMatchObject({ type: 'CORRUPT_MESSAGE' });
  });

  it('returns nothing and nextOffset -1 for bytes that hold no complete batch', async () => {
    const batch = mk(0n, 2);
    const out = await decodeRecordBatches(batch.subarray(0, 40), { fromOffset: 0n, engine: referenceEngine });
    expect(out).toEqual({ messages: [], nextOffset: -1n, batches: 0 });
  });
});
