// Partition choice: Kafka's murmur2 exactly (vectors from Kafka's own UtilsTest and librdkafka's
// unittest_murmur2, which checks its hashes against the Java client's), the Java client's
// toPositive(hash) % partitions, and the same partitions as KafkaJS's Java-compatible
// DefaultPartitioner; the sticky choice for keyless records.
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, murmur2Partition, murmur2String, partitionForKey, StickyPartitioner, toPositive } from '../../../ts/client/partitioner.js';

/** org.apache.kafka.common.utils.UtilsTest#testMurmur2 (apache/kafka). */
const KAFKA_UTILS_TEST: Array<[string | number[], number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  [[0x61, 0x62, 0x63], 479470107],
];

/** librdkafka src/rdmurmur2.c unittest_murmur2: `java_murmur2_results` (unsigned). */
const LIBRDKAFKA: Array<[string, number]> = [
  ['kafka', 0xd067cf64],
  ['giberish123456789', 0x8f552b0c],
  ['1234', 0x9fc97b14],
  ['234', 0xe7c009ca],
  ['34', 0x873930da],
  ['4', 0x5a4b5ca1],
  ['PreAmbleWillBeRemoved,ThePrePartThatIs', 0x78424f1c],
  ['reAmbleWillBeRemoved,ThePrePartThatIs', 0x4a62b377],
  ['eAmbleWillBeRemoved,ThePrePartThatIs', 0xe0e4e09e],
  ['AmbleWillBeRemoved,ThePrePartThatIs', 0x62b8b43f],
  ['', 0x106e08d9],
];

describe('murmur2', () => {
  it.each(KAFKA_UTILS_TEST)('equals Kafka UtilsTest for %j', (key, expected) => {
    const bytes = typeof key === 'string' ? Buffer.from(key) : Buffer.from(key);
    expect(murmur2(bytes)).toBe(expected);
  });

  it.each(LIBRDKAFKA)('equals librdkafka\'s Java vector for %j', (key, expected) => {
    expect(murmur2(Buffer.from(key)) >>> 0).toBe(expected);
  });

  it('hashes a sub-range the same as a copy of it, and strings by their UTF-8 bytes', () => {
    const buf = Buffer.from('xxPreAmbleWillBeRemoved,ThePrePartThatIsyy');
    expect(murmur2(buf, 2, buf.length - 2)).toBe(murmur2(Buffer.from('PreAmbleWillBeRemoved,ThePrePartThatIs')));
    for (const s of ['', 'a', 'héllo wörld', '日本語のキー', '🎉 emoji key', 'x'.repeat(1000)]) {
      expect(murmur2String(s)).toBe(murmur2(Buffer.from(s, 'utf8')));
    }
  });

  it('toPositive clears the sign bit, as Kafka\'s Utils.toPositive (not Math.abs)', () => {
    expect(toPositive(-973932308)).toBe(-973932308 & 0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(5)).toBe(5);
  });

  it('places keys as the Java client: toPositive(murmur2(key)) % partitions', () => {
    // Worked by hand from the UtilsTest hashes: -973932308 & 0x7fffffff = 1173551340.
    expect(partitionForKey(Buffer.from('21'), 10)).toBe(1173551340 % 10);
    expect(partitionForKey(Buffer.from('foobar'), 7)).toBe((-790332482 & 0x7fffffff) % 7);
    expect(murmur2Partition('kafka', 3)).toBe((0xd067cf64 & 0x7fffffff) % 3);
    expect(murmur2Partition(null, 3)).toBe(-1);
  });

  it('agrees with KafkaJS\'s Java-compatible DefaultPartitioner for 5,000 keys and several partition counts', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const partitionCount of [1, 2, 3, 7, 12, 50, 100]) {
      const partitionMetadata = Array.from({ length: partitionCount }, (_, i) => ({ partitionId: i, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
      for (let i = 0; i < 5000; i++) {
        const key = i % 3 === 0 ? `user-${i}` : i % 3 === 1 ? `キー${i * 7919}` : String(i * 104729);
        const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } });
        expect(murmur2Partition(key, partitionCount)).toBe(expected);
        expect(murmur2Partition(Buffer.from(key), partitionCount)).toBe(expected);
      }
    }
  });
});

describe('StickyPartitioner', () => {
  it('sticks to one partition until switchBytes went there, then moves to a different one', () => {
    let r = 0;
    const randoms = [0.5, 0.0, 0.99, 0.3];
    const sticky = new StickyPartitioner(1000, () => randoms[r++ % randoms.length]!);
    const first = sticky.partition('t', 4, 100);
    for (let i = 0; i < 9; i++) expect(sticky.partition('t', 4, 100)).toBe(first);
    const second = sticky.partition('t', 4, 100);
    expect(second).not.toBe(first);
    for (let i = 0; i < 9; i++) expect(sticky.partition('t', 4, 100)).toBe(second);
  });

  it('keeps topics apart, stays in range when a topic shrinks in view, and uses 0 for one partition', () => {
    const sticky = new StickyPartitioner(100, () => 0.75);
    expect(sticky.partition('a', 4, 10)).toBe(3);
    expect(sticky.partition('b', 1, 10)).toBe(0);
    expect(sticky.partition('a', 2, 10)).toBeLessThan(2);
    for (let i = 0; i < 50; i++) expect(sticky.partition('b', 1, 50)).toBe(0);
  });

  it('spreads keyless records over every partition in the long run', () => {
    const sticky = new StickyPartitioner(1000);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(sticky.partition('t', 5, 100));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
  });
});
