// The protocol primitives: Writer → Reader round trips, known encodings, and the sticky Reader's
// behaviour on short and lying input.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGodelError } from '../../../ts/errors.js';
import { PROTOCOL_ARRAY_LENGTH_MAX, PROTOCOL_WRITER_RETAINED_BYTES_MAX } from '../../../ts/limits.js';
import { Reader, ZERO_UUID } from '../../../ts/protocol/reader.js';
import { uvarintSize, Writer, ZERO_COPY_BYTES_MIN } from '../../../ts/protocol/writer.js';
import { encodeFetchResponse, decodeFetchResponse } from '../../../ts/protocol/generated/fetch-response.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const written = (f: (w: Writer) => void): Buffer => {
  const w = new Writer(16);
  f(w);
  return w.finish();
};

describe('round trips', () => {
  const cases: [string, fc.Arbitrary<unknown>, (w: Writer, v: never) => void, (r: Reader) => unknown][] = [
    ['int8', fc.integer({ min: -128, max: 127 }), (w, v) => w.int8(v), (r) => r.int8()],
    ['int16', fc.integer({ min: -32768, max: 32767 }), (w, v) => w.int16(v), (r) => r.int16()],
    ['uint16', fc.integer({ min: 0, max: 65535 }), (w, v) => w.uint16(v), (r) => r.uint16()],
    ['int32', fc.integer(), (w, v) => w.int32(v), (r) => r.int32()],
    ['uint32', fc.nat({ max: 0xffffffff }), (w, v) => w.uint32(v), (r) => r.uint32()],
    ['int64', fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (w, v) => w.int64(v), (r) => r.int64()],
    ['float64', fc.double(), (w, v) => w.float64(v), (r) => r.float64()],
    ['bool', fc.boolean(), (w, v) => w.bool(v), (r) => r.bool()],
    ['uvarint', fc.nat({ max: 0xffffffff }), (w, v) => w.uvarint(v), (r) => r.uvarint()],
    ['varint', fc.integer(), (w, v) => w.varint(v), (r) => r.varint()],
    ['varlong', fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (w, v) => w.varlong(v), (r) => r.varlong()],
    ['uuid', fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url')), (w, v) => w.uuid(v), (r) => r.uuid()],
    ['string', fc.string({ unit: 'binary' }), (w, v) => w.string(v), (r) => r.string()],
    ['nullableString', fc.option(fc.string({ unit: 'binary' }), { nil: null }), (w, v) => w.nullableString(v), (r) => r.nullableString()],
    ['compactString', fc.string({ unit: 'binary' }), (w, v) => w.compactString(v), (r) => r.compactString()],
    ['compactNullableString', fc.option(fc.string({ unit: 'binary' }), { nil: null }), (w, v) => w.compactNullableString(v), (r) => r.compactNullableString()],
    ['bytes', fc.uint8Array().map((b) => Buffer.from(b)), (w, v) => w.bytes(v), (r) => r.bytes()],
    ['nullableBytes', fc.option(fc.uint8Array().map((b) => Buffer.from(b)), { nil: null }), (w, v) => w.nullableBytes(v), (r) => r.nullableBytes()],
    ['compactBytes', fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), (w, v) => w.compactBytes(v), (r) => r.compactBytes()],
    ['compactNullableBytes', fc.option(fc.uint8Array().map((b) => Buffer.from(b)), { nil: null }), (w, v) => w.compactNullableBytes(v), (r) => r.compactNullableBytes()],
  ];

  it.each(cases)('%s', (_name, arb, write, read) => {
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 8 }), (values) => {
        const w = new Writer(16);
        for (const v of values) write(w, v as never);
        const r = new Reader(w.finish());
        for (const v of values) expect(read(r)).toEqual(v);
        expect(r.ok).toBe(true);
        expect(r.remaining).toBe(0);
      }),
    );
  });
});

describe('known encodings', () => {
  it('unsigned varints: 7 bits per byte, low group first', () => {
    expect(written((w) => w.uvarint(0))).toEqual(hex('00'));
    expect(written((w) => w.uvarint(127))).toEqual(hex('7f'));
    expect(written((w) => w.uvarint(128))).toEqual(hex('8001'));
    expect(written((w) => w.uvarint(300))).toEqual(hex('ac02'));
    expect(written((w) => w.uvarint(0xffffffff))).toEqual(hex('ffffffff0f'));
    for (const n of [0, 127, 128, 16383, 16384, 2097151, 2097152, 268435455, 268435456, 0xffffffff]) {
      expect(written((w) => w.uvarint(n)).length).toBe(uvarintSize(n));
    }
  });

  it('zig-zag varints and varlongs (record format)', () => {
    expect(written((w) => w.varint(0))).toEqual(hex('00'));
    expect(written((w) => w.varint(-1))).toEqual(hex('01'));
    expect(written((w) => w.varint(1))).toEqual(hex('02'));
    expect(written((w) => w.varint(-64))).toEqual(hex('7f'));
    expect(written((w) => w.varint(64))).toEqual(hex('8001'));
    expect(written((w) => w.varint(2147483647))).toEqual(hex('feffffff0f'));
    expect(written((w) => w.varint(-2147483648))).toEqual(hex('ffffffff0f'));
    expect(written((w) => w.varlong(-1n))).toEqual(hex('01'));
    expect(written((w) => w.varlong(2n ** 63n - 1n))).toEqual(hex('feffffffffffffffff01'));
    expect(written((w) => w.varlong(-(2n ** 63n)))).toEqual(hex('ffffffffffffffffff01'));
  });

  it('strings, bytes and nulls', () => {
    expect(written((w) => w.string('hi'))).toEqual(hex('0002 6869'));
    expect(written((w) => w.nullableString(null))).toEqual(hex('ffff'));
    expect(written((w) => w.compactString('hi'))).toEqual(hex('03 6869'));
    expect(written((w) => w.compactNullableString(null))).toEqual(hex('00'));
    expect(written((w) => w.compactString(''))).toEqual(hex('01'));
    expect(written((w) => w.nullableBytes(null))).toEqual(hex('ffffffff'));
    expect(written((w) => w.compactBytes(Buffer.from([7])))).toEqual(hex('02 07'));
    expect(written((w) => w.compactArrayLength(-1))).toEqual(hex('00'));
    expect(written((w) => w.arrayLength(-1))).toEqual(hex('ffffffff'));
  });

  it('uuids are 16 raw bytes; our string form is Kafka\'s base64url', () => {
    const bytes = hex('0123456789abcdef0123456789abcdef');
    expect(new Reader(bytes).uuid()).toBe('ASNFZ4mrze8BI0VniavN7w');
    expect(written((w) => w.uuid('ASNFZ4mrze8BI0VniavN7w'))).toEqual(bytes);
    expect(new Reader(Buffer.alloc(16)).uuid()).toBe(ZERO_UUID);
  });
});

describe('sticky reader', () => {
  it('a short read marks the reader bad, returns zero values and keeps the first reason', () => {
    const r = new Reader(hex('0001 02'));
    expect(r.int16()).toBe(1);
    expect(r.int32()).toBe(0);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/needed 4 bytes, 1 remain/);
    expect(r.remaining).toBe(0);
    expect(r.int8()).toBe(0);
    expect(r.int64()).toBe(0n);
    expect(r.string()).toBe('');
    expect(r.nullableBytes()).toEqual(Buffer.alloc(0));
    expect(r.compactNullableString()).toBe('');
    expect(r.reason).toMatch(/needed 4 bytes/);
    let thrown: unknown;
    try {
      r.check('test message');
    } catch (err) {
      thrown = err;
    }
    expect(isGodelError(thrown, 'PROTOCOL_ERROR')).toBe(true);
    expect((thrown as Error).message).toMatch(/^test message: needed 4 bytes, 1 remain \(at byte 2\)$/);
  });

  it('checks string and bytes lengths against the bytes remaining', () => {
    const s = new Reader(hex('7fff 6162'));
    expect(s.string()).toBe('');
    expect(s.reason).toMatch(/needed 32767 bytes, 2 remain/);
    const b = new Reader(hex('7fffffff 00'));
    expect(b.bytes()).toEqual(Buffer.alloc(0));
    expect(b.reason).toMatch(/needed 2147483647 bytes/);
    const c = new Reader(hex('ffffffff0f'));
    expect(c.compactBytes()).toEqual(Buffer.alloc(0));
    expect(c.ok).toBe(false);
  });

  it('rejects strings above 32767 bytes and negative lengths other than null', () => {
    const big = new Reader(Buffer.concat([hex('818002'), Buffer.alloc(32768)])); // compact length 32768
    expect(big.compactString()).toBe('');
    expect(big.reason).toMatch(/string length 32768 above 32767/);
    const neg = new Reader(hex('fffe'));
    expect(neg.nullableString()).toBe('');
    expect(neg.reason).toMatch(/negative string length -2/);
    const nullInNonNullable = new Reader(hex('ffffffff'));
    expect(nullInNonNullable.bytes()).toEqual(Buffer.alloc(0));
    expect(nullInNonNullable.reason).toMatch(/null in non-nullable bytes/);
  });

  it('checks array counts against the bytes remaining, the minimum element size and the limit', () => {
    const r1 = new Reader(hex('00000003 0000000100000002')); // 3 int32s claimed, 8 bytes present
    expect(r1.arrayLength(4)).toBe(0);
    expect(r1.reason).toMatch(/array length 3 needs at least 12 bytes, 8 remain/);
    const r2 = new Reader(hex('00000002 0000000100000002'));
    expect(r2.arrayLength(4)).toBe(2);
    const limit = Buffer.alloc(4 + PROTOCOL_ARRAY_LENGTH_MAX + 1);
    limit.writeInt32BE(PROTOCOL_ARRAY_LENGTH_MAX + 1, 0);
    const r3 = new Reader(limit);
    expect(r3.arrayLength(1)).toBe(0);
    expect(r3.reason).toMatch(/above 1000000/);
    expect(new Reader(hex('ffffffff')).nullableArrayLength(1)).toBe(-1);
    expect(new Reader(hex('00')).compactNullableArrayLength(1)).toBe(-1);
    const r4 = new Reader(hex('00'));
    expect(r4.compactArrayLength(1)).toBe(0);
    expect(r4.reason).toMatch(/null in a non-nullable compact array/);
  });

  it('rejects over-long varints', () => {
    const r = new Reader(hex('ffffffff1f'));
    expect(r.uvarint()).toBe(0);
    expect(r.reason).toMatch(/longer than 32 bits/);
    const l = new Reader(hex('ffffffffffffffffff03'));
    expect(l.varlong()).toBe(0n);
    expect(l.reason).toMatch(/longer than 64 bits/);
  });

  it('bounds tagged sections by the bytes remaining', () => {
    const r = new Reader(hex('05 00 00'));
    r.skipTaggedFields();
    expect(r.reason).toMatch(/tagged field count 5 needs at least 10 bytes/);
    const s = new Reader(hex('01 00 05 aa'));
    s.skipTaggedFields();
    expect(s.reason).toMatch(/needed 5 bytes/);
    const ok = new Reader(hex('02 00 01 aa 07 00 ff'));
    ok.skipTaggedFields();
    expect(ok.ok).toBe(true);
    expect(ok.remaining).toBe(1);
  });

  it('bytes are views into the frame, not copies', () => {
    const frame = hex('00000003 616263 04 78797a');
    const r = new Reader(frame);
    const a = r.bytes();
    const b = r.compactBytes();
    expect(a.buffer).toBe(frame.buffer);
    expect(a.byteOffset).toBe(frame.byteOffset + 4);
    expect(b.buffer).toBe(frame.buffer);
    expect(b.toString()).toBe('xyz');
  });

  it('reads only within its slice of a larger buffer', () => {
    const buf = hex('ffff 0001 0002 ffff');
    const r = new Reader(buf, 2, 6);
    expect(r.int16()).toBe(1);
    expect(r.int16()).toBe(2);
    expect(r.int16()).toBe(0);
    expect(r.ok).toBe(false);
    expect(() => new Reader(buf, 4, 100)).toThrowError(/reader bounds/);
  });
});

describe('writer', () => {
  it('grows past its initial size and reuses its buffer after reset', () => {
    const w = new Writer(16);
    for (let i = 0; i < 1000; i++) w.int32(i);
    const out = w.finish();
    expect(out.length).toBe(4000);
    expect(out.readInt32BE(3996)).toBe(999);
    w.reset();
    w.int8(1);
    expect(out.readInt32BE(0)).toBe(0); // finish() returned a copy
    expect(w.finish()).toEqual(hex('01'));
  });

  it('drops a buffer that grew past the retention limit on reset', () => {
    const w = new Writer(16);
    w.raw(Buffer.alloc(PROTOCOL_WRITER_RETAINED_BYTES_MAX + 1));
    w.reset();
    w.int16(7);
    expect(w.view().buffer.byteLength).toBeLessThanOrEqual(PROTOCOL_WRITER_RETAINED_BYTES_MAX);
    expect(w.finish()).toEqual(hex('0007'));
  });

  it('writes a sized section with its uvarint size in front (1 and 2 byte sizes)', () => {
    for (const n of [0, 5, 127, 128, 300, 20000]) {
      const w = new Writer(16);
      w.int8(9);
      const start = w.beginSized();
      w.raw(Buffer.alloc(n, 0xab));
      w.endSized(start);
      w.int8(8);
      const r = new Reader(w.finish());
      expect(r.int8()).toBe(9);
      expect(r.uvarint()).toBe(n);
      expect(r.raw(n)).toEqual(Buffer.alloc(n, 0xab));
      expect(r.int8()).toBe(8);
      expect(r.remaining).toBe(0);
    }
  });

  it('patches a reserved int32 (frame sizes)', () => {
    const w = new Writer();
    const at = w.reserveInt32();
    w.string('abc');
    w.int32At(at, w.length - 4);
    expect(w.finish()).toEqual(hex('00000005 0003 616263'));
    expect(() => w.int32At(10, 1)).toThrowError(/outside/);
  });

  it('refuses values the wire cannot carry', () => {
    const w = new Writer();
    expect(() => w.string('x'.repeat(32768))).toThrowError(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
    expect(() => w.compactString('é'.repeat(20000))).toThrowError(/above 32767/);
    expect(() => w.uuid('not-a-uuid')).toThrowError(/not a uuid/);
    expect(() => w.uuid('AAAAAAAAAAAAAAAAAAAAAB')).toThrowError(/not a uuid/); // non-canonical trailing bits
    expect(() => w.uvarint(-1)).toThrowError(/out of range/);
    expect(() => w.uvarint(2 ** 32)).toThrowError(/out of range/);
    expect(() => w.int16(40000)).toThrowError(RangeError);
  });

  it('references large bytes instead of copying them; finish() and finishChunks() agree', () => {
    const big = Buffer.alloc(ZERO_COPY_BYTES_MIN, 0x5a);
    const w = new Writer(16);
    const sizeAt = w.reserveInt32();
    w.int16(1);
    w.bytes(big);
    for (let i = 0; i < 100; i++) w.int32(i); // grows the buffer after the reference
    w.compactBytes(big);
    w.int32At(sizeAt, w.length - 4);
    const whole = w.finish();
    const chunks = w.finishChunks();
    expect(Buffer.concat(chunks)).toEqual(whole);
    expect(chunks.filter((c) => c === big)).toHaveLength(2); // the very same Buffer, twice
    expect(whole.readInt32BE(0)).toBe(whole.length - 4);
    const r = new Reader(whole, 4);
    expect(r.int16()).toBe(1);
    expect(r.bytes()).toEqual(big);
    for (let i = 0; i < 100; i++) expect(r.int32()).toBe(i);
    expect(r.compactBytes()).toEqual(big);
    expect(r.remaining).toBe(0);
    w.reset();
    w.int8(3);
    expect(Buffer.concat(chunks)).toEqual(whole); // the chunks outlive reset()
    expect(w.finishChunks()).toEqual([hex('03')]);
  });

  it('copies large bytes inside a sized section (tagged fields stay contiguous)', () => {
    const big = Buffer.alloc(ZERO_COPY_BYTES_MIN + 1, 1);
    const w = new Writer(16);
    const start = w.beginSized();
    w.bytes(big);
    w.endSized(start);
    expect(w.finishChunks()).toHaveLength(1);
    const r = new Reader(w.finish());
    expect(r.uvarint()).toBe(big.length + 4);
    expect(r.bytes()).toEqual(big);
  });

  it('a Fetch response with large record batches goes out without copying them', () => {
    const records = Buffer.alloc(64 * 1024, 7);
    const partition = {
      partitionIndex: 0, errorCode: 0, highWatermark: 10n, lastStableOffset: 10n, logStartOffset: 0n,
      divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 }, snapshotId: { endOffset: -1n, epoch: -1 },
      abortedTransactions: null, preferredReadReplica: -1, records,
    };
    const body = { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: 't', topicId: ZERO_UUID, partitions: [partition, { ...partition, partitionIndex: 1 }] }], nodeEndpoints: [] };
    for (const version of [4, 12, 17]) {
      const w = new Writer();
      encodeFetchResponse(w, body, version);
      const chunks = w.finishChunks();
      expect(chunks.filter((c) => c === records)).toHaveLength(2);
      const decoded = decodeFetchResponse(new Reader(Buffer.concat(chunks)), version);
      expect(decoded.responses[0]!.partitions.map((p) => p.records)).toEqual([records, records]);
    }
  });
});
