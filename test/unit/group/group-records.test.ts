import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeGroupMetadataValue,
  decodeGroupRecordKey,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  offsetCommitValueVersion,
  type GroupMetadataValue,
  type OffsetCommitValue,
} from '../../../ts/group/group-records.js';

/** Hand-built Kafka layout pieces (big-endian, int16-length strings, int32-length bytes). */
const i16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const i32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const i64 = (n: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigInt64BE(n); return b; };
const str = (s: string | null): Buffer => (s === null ? i16(-1) : Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]));
const bytes = (b: Buffer): Buffer => Buffer.concat([i32(b.length), b]);
const uv = (n: number): Buffer => { const out: number[] = []; while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n >>>= 7; } out.push(n); return Buffer.from(out); };
const cstr = (s: string | null): Buffer => (s === null ? uv(0) : Buffer.concat([uv(Buffer.byteLength(s) + 1), Buffer.from(s)]));
const cbytes = (b: Buffer): Buffer => Buffer.concat([uv(b.length + 1), b]);

const member = {
  memberId: 'consumer-1-abc', groupInstanceId: 'instance-1', clientId: 'consumer-1', clientHost: '/127.0.0.1',
  rebalanceTimeoutMs: 300_000, sessionTimeoutMs: 45_000, subscription: Buffer.from([0, 1, 2]), assignment: Buffer.from([9, 8]),
};
const group: GroupMetadataValue = {
  protocolType: 'consumer', generation: 7, protocol: 'range', leader: 'consumer-1-abc', currentStateTimestampMs: 1_700_000_000_123, members: [member],
};

describe('__consumer_offsets keys', () => {
  it('OffsetCommitKey v1: int16 version, group, topic, int32 partition', () => {
    const key = encodeOffsetCommitKey('my-group', 'orders', 5);
    expect(key).toEqual(Buffer.concat([i16(1), str('my-group'), str('orders'), i32(5)]));
    expect(decodeGroupRecordKey(key)).toEqual({ type: 'offset', version: 1, group: 'my-group', topic: 'orders', partition: 5 });
  });

  it('reads OffsetCommitKey v0 (the same fields)', () => {
    const key = Buffer.concat([i16(0), str('g'), str('t'), i32(0)]);
    expect(decodeGroupRecordKey(key)).toEqual({ type: 'offset', version: 0, group: 'g', topic: 't', partition: 0 });
  });

  it('GroupMetadataKey v2: int16 version, group', () => {
    const key = encodeGroupMetadataKey('my-group');
    expect(key).toEqual(Buffer.concat([i16(2), str('my-group')]));
    expect(decodeGroupRecordKey(key)).toEqual({ type: 'group', version: 2, group: 'my-group' });
  });

  it('reports unknown key versions instead of guessing', () => {
    expect(decodeGroupRecordKey(Buffer.concat([i16(3), str('x')]))).toEqual({ type: 'unknown', version: 3 });
    expect(() => decodeGroupRecordKey(Buffer.from([0]))).toThrow(/record key/);
    expect(() => decodeGroupRecordKey(Buffer.concat([i16(1), str('g')]))).toThrow(/offset commit key/);
  });
});

describe('OffsetCommitValue', () => {
  const value: OffsetCommitValue = { offset: 42n, leaderEpoch: 3, metadata: 'meta', commitTimestampMs: 1_700_000_000_000, expireTimestampMs: -1 };

  it('is written as v3 (leader epoch) unless an expiry was asked for, then v1', () => {
    expect(offsetCommitValueVersion(value)).toBe(3);
    expect(encodeOffsetCommitValue(value)).toEqual(Buffer.concat([i16(3), i64(42n), i32(3), str('meta'), i64(1_700_000_000_000n)]));
    const expiring = { ...value, expireTimestampMs: 1_800_000_000_000 };
    expect(offsetCommitValueVersion(expiring)).toBe(1);
    expect(encodeOffsetCommitValue(expiring)).toEqual(Buffer.concat([i16(1), i64(42n), str('meta'), i64(1_700_000_000_000n), i64(1_800_000_000_000n)]));
  });

  it('has Kafka\'s layout in every version', () => {
    expect(encodeOffsetCommitValue(value, 0)).toEqual(Buffer.concat([i16(0), i64(42n), str('meta'), i64(1_700_000_000_000n)]));
    expect(encodeOffsetCommitValue(value, 2)).toEqual(Buffer.concat([i16(2), i64(42n), str('meta'), i64(1_700_000_000_000n)]));
    expect(encodeOffsetCommitValue(value, 4)).toEqual(Buffer.concat([i16(4), i64(42n), i32(3), cstr('meta'), i64(1_700_000_000_000n), uv(0)]));
  });

  it('round-trips every version, with the fields each version lacks at their defaults', () => {
    for (let v = 0; v <= 4; v++) {
      const back = decodeOffsetCommitValue(encodeOffsetCommitValue({ ...value, expireTimestampMs: 99 }, v));
      expect(back).toEqual({
        offset: 42n, leaderEpoch: v >= 3 ? 3 : -1, metadata: 'meta', commitTimestampMs: 1_700_000_000_000, expireTimestampMs: v === 1 ? 99 : -1,
      });
    }
  });

  it('round-trips arbitrary values (property)', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: -1n, max: 2n ** 62n }), fc.integer({ min: -1, max: 2 ** 31 - 1 }), fc.string({ maxLength: 200 }),
      fc.integer({ min: 0, max: 2 ** 50 }), fc.constantFrom(-1, 1_900_000_000_000),
      (offset, leaderEpoch, metadata, commitTimestampMs, expireTimestampMs) => {
        const v: OffsetCommitValue = { offset, leaderEpoch: expireTimestampMs === -1 ? leaderEpoch : -1, metadata, commitTimestampMs, expireTimestampMs };
        expect(decodeOffsetCommitValue(encodeOffsetCommitValue(v))).toEqual(v);
      },
    ));
  });

  it('skips unknown tagged fields in the flexible version and rejects garbage', () => {
    const tagged = Buffer.concat([i16(4), i64(1n), i32(-1), cstr(''), i64(5n), uv(1), uv(7), uv(2), Buffer.from([1, 2])]);
    expect(decodeOffsetCommitValue(tagged)).toEqual({ offset: 1n, leaderEpoch: -1, metadata: '', commitTimestampMs: 5, expireTimestampMs: -1 });
    expect(() => decodeOffsetCommitValue(Buffer.concat([i16(9), i64(1n)]))).toThrow(/unknown version 9/);
    expect(() => decodeOffsetCommitValue(Buffer.concat([i16(3), i64(1n)]))).toThrow(/offset commit value v3/);
  });
});

describe('GroupMetadataValue', () => {
  const memberV3 = Buffer.concat([
    str(member.memberId), str(member.groupInstanceId), str(member.clientId), str(member.clientHost),
    i32(member.rebalanceTimeoutMs), i32(member.sessionTimeoutMs), bytes(member.subscription), bytes(member.assignment),
  ]);

  it('is written as v3 in Kafka\'s layout', () => {
    expect(encodeGroupMetadataValue(group)).toEqual(Buffer.concat([
      i16(3), str('consumer'), i32(7), str('range'), str('consumer-1-abc'), i64(1_700_000_000_123n), i32(1), memberV3,
    ]));
  });

  it('lays out the older and the flexible versions as the schema says', () => {
    expect(encodeGroupMetadataValue(group, 0)).toEqual(Buffer.concat([
      i16(0), str('consumer'), i32(7), str('range'), str('consumer-1-abc'), i32(1),
      str(member.memberId), str(member.clientId), str(member.clientHost), i32(member.sessionTimeoutMs), bytes(member.subscription), bytes(member.assignment),
    ]));
    expect(encodeGroupMetadataValue(group, 1)).toEqual(Buffer.concat([
      i16(1), str('consumer'), i32(7), str('range'), str('consumer-1-abc'), i32(1),
      str(member.memberId), str(member.clientId), str(member.clientHost), i32(member.rebalanceTimeoutMs), i32(member.sessionTimeoutMs),
      bytes(member.subscription), bytes(member.assignment),
    ]));
    expect(encodeGroupMetadataValue(group, 4)).toEqual(Buffer.concat([
      i16(4), cstr('consumer'), i32(7), cstr('range'), cstr('consumer-1-abc'), i64(1_700_000_000_123n), uv(2),
      cstr(member.memberId), cstr(member.groupInstanceId), cstr(member.clientId), cstr(member.clientHost),
      i32(member.rebalanceTimeoutMs), i32(member.sessionTimeoutMs), cbytes(member.subscription), cbytes(member.assignment), uv(0), uv(0),
    ]));
  });

  it('round-trips every version, with missing fields at their defaults', () => {
    for (let v = 0; v <= 4; v++) {
      const back = decodeGroupMetadataValue(encodeGroupMetadataValue(group, v));
      expect(back).toEqual({
        ...group,
        currentStateTimestampMs: v >= 2 ? group.currentStateTimestampMs : -1,
        members: [{ ...member, groupInstanceId: v >= 3 ? member.groupInstanceId : null, rebalanceTimeoutMs: v >= 1 ? member.rebalanceTimeoutMs : -1 }],
      });
    }
  });

  it('writes an empty group with null protocol and leader', () => {
    const empty: GroupMetadataValue = { protocolType: 'consumer', generation: 3, protocol: null, leader: null, currentStateTimestampMs: 5, members: [] };
    const buf = encodeGroupMetadataValue(empty);
    expect(buf).toEqual(Buffer.concat([i16(3), str('consumer'), i32(3), str(null), str(null), i64(5n), i32(0)]));
    expect(decodeGroupMetadataValue(buf)).toEqual(empty);
  });

  it('returns copies of byte fields, not views of the record', () => {
    const buf = encodeGroupMetadataValue(group);
    const back = decodeGroupMetadataValue(buf);
    buf.fill(0);
    expect(back.members[0]!.subscription).toEqual(member.subscription);
  });

  it('rejects truncated values and lying member counts', () => {
    const buf = encodeGroupMetadataValue(group);
    for (const cut of [2, 10, buf.length - 1]) expect(() => decodeGroupMetadataValue(buf.subarray(0, cut))).toThrow(/group metadata value/);
    const lying = Buffer.concat([i16(3), str('consumer'), i32(7), str('range'), str('l'), i64(0n), i32(1_000_000)]);
    expect(() => decodeGroupMetadataValue(lying)).toThrow(/array length/);
  });
});
