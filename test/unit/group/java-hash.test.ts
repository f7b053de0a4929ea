import { describe, expect, it } from 'vitest';
import { groupPartition, javaStringHashCode, kafkaAbs } from '../../../ts/group/java-hash.js';

describe('java String.hashCode and the offsets partition of a group', () => {
  it('matches Java for known strings', () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('a')).toBe(97);
    expect(javaStringHashCode('hello')).toBe(99162322);
    // Overflows wrap as 32-bit ints: compare with the definition computed in BigInt.
    for (const s of ['the quick brown fox', 'consumer-group-with-a-long-name-0123456789']) {
      let exact = 0n;
      for (let i = 0; i < s.length; i++) exact += BigInt(s.charCodeAt(i)) * 31n ** BigInt(s.length - 1 - i);
      expect(javaStringHashCode(s)).toBe(Number(BigInt.asIntN(32, exact)));
    }
    // The famous string whose hashCode is Integer.MIN_VALUE.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    // UTF-16 code units, not code points or UTF-8 bytes.
    expect(javaStringHashCode('é')).toBe(233);
    expect(javaStringHashCode('😀')).toBe(0xd83d * 31 + 0xde00);
  });

  it('uses Kafka\'s Utils.abs (MIN_VALUE maps to 0)', () => {
    expect(kafkaAbs(-5)).toBe(5);
    expect(kafkaAbs(7)).toBe(7);
    expect(kafkaAbs(-2147483648)).toBe(0);
    expect(groupPartition('polygenelubricants', 50)).toBe(0);
  });

  it('puts groups where Kafka does', () => {
    // Values printed by `abs(id.hashCode()) % 50` in jshell (Strimzi's kafka-cp helper).
    expect(groupPartition('my-group', 50)).toBe(12);
    expect(groupPartition('kafka-txn-0', 50)).toBe(30);
    for (const id of ['a', 'group-1', 'consumer-group', 'x'.repeat(300)]) {
      const p = groupPartition(id, 7);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
      expect(p).toBe(Math.abs(javaStringHashCode(id)) % 7);
    }
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => groupPartition('g', 0)).toThrow(RangeError);
    expect(() => groupPartition('g', 1.5)).toThrow(RangeError);
  });
});
