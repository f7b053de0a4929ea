// Log compaction end to end, against a real broker process with a short log.cleaner.backoff.ms:
// KafkaJS creates a compacted topic (CreateTopics with cleanup.policy=compact and small segments),
// produces many updates per key (plain and gzip batches, and some tombstones), the background
// cleaner runs, and a KafkaJS group consumer from the beginning sees exactly the latest value of
// every key, at increasing offsets, with gaps where older values were. A record without a key is
// refused with INVALID_RECORD, as Kafka refuses it on a compacted topic.
import { CompressionTypes, Kafka, logLevel, type Consumer, type Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';

const KEYS = 40;
const ROUNDS = 25;
const DELETED = ['k3', 'k17', 'k29'];
/** A loaded 2-core machine: the broker starts under tsx, the cleaner runs between produce and fetch. */
const TEST_MS = 240_000;

interface Seen {
  offset: bigint;
  key: string | null;
  value: string | null;
}

describe('log compaction through KafkaJS', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    broker = await startBroker({
      set: { 'log.cleaner.backoff.ms': '100', 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '1' },
    });
    kafka = new Kafka({ brokers: [broker.address], clientId: 'godel-compaction-test', logLevel: logLevel.NOTHING });
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await broker?.stop();
  });

  /** The broker's "cleaned log" lines for `topic`: where each cleaning of partition 0 stopped. */
  function cleanedUpTo(topic: string): bigint[] {
    return broker.logRecords()
      .filter((r) => r.msg === 'cleaned log' && r.log === `${topic}-0`)
      .map((r) => BigInt(/, (\d+)\)$/.exec(String(r.dirtySection))![1]!));
  }

  it('a consumer from the beginning sees exactly the latest value of every key, at increasing offsets', async () => {
    const topic = `compacted-${process.pid}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic, numPartitions: 1, replicationFactor: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '4096' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          ],
        }],
      });
    } finally {
      await admin.disconnect();
    }

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const latest = new Map<string, string | null>();
    let produced = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const messages: Message[] = [];
        for (let k = 0; k < KEYS; k++) {
          const key = `k${k}`;
          const value = round === ROUNDS - 1 && DELETED.includes(key) ? null : `value-${round}-of-${key}-${'.'.repeat(k % 7)}`;
          messages.push({ key, value });
          latest.set(key, value);
        }
        await producer.send({ topic, messages, compression: round % 2 === 0 ? CompressionTypes.None : CompressionTypes.GZIP });
        produced += messages.length;
      }
      // A record without a key has no place in a compacted topic.
      const refused = await producer.send({ topic, messages: [{ value: 'no key' }] }).then(() => null, (err: unknown) => err);
      expect((refused as { type?: string } | null)?.type).toBe('INVALID_RECORD');
      // Other keys, enough to roll past the updates: the cleaner never touches the active segment.
      for (let i = 0; i < 10; i++) {
        const messages = Array.from({ length: 20 }, (_, j) => ({ key: `filler-${i}-${j}`, value: 'x'.repeat(40) }));
        await producer.send({ topic, messages });
        for (const m of messages) latest.set(m.key, m.value);
        produced += messages.length;
      }
    } finally {
      await producer.disconnect();
    }

    // The background cleaner gets there by itself (backoff 100 ms).
    const updatesEnd = BigInt(KEYS * ROUNDS);
    await waitFor(() => cleanedUpTo(topic).some((end) => end >= updatesEnd), 'the cleaner to clean past the updates', 120_000);
    // It ran while the producer wrote, so maybe several times: every older value went exactly once.
    const lines = broker.logRecords().filter((r) => r.msg === 'cleaned log' && r.log === `${topic}-0`);
    expect(lines.reduce((sum, r) => sum + Number(r.recordsRemoved), 0)).toBe(KEYS * (ROUNDS - 1));
    for (const r of lines) expect(Number(r.bytesWritten)).toBeLessThanOrEqual(Number(r.bytesRead));
    expect(broker.logRecords().filter((r) => String(r.msg).startsWith('log cleaning failed') || r.msg === 'log cleaner pass failed')).toEqual([]);

    const consumer = kafka.consumer({ groupId: `compaction-${process.pid}`, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
    consumers.push(consumer);
    const seen: Seen[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push({ offset: BigInt(message.offset), key: message.key?.toString() ?? null, value: message.value?.toString() ?? null });
      },
    });
    const lastOffset = BigInt(produced - 1);
    await waitFor(() => seen.some((r) => r.offset === lastOffset), 'the consumer to reach the log end', 120_000);
    await consumer.disconnect();

    // Offsets only increase, and each key appears once: with its latest value (null for a tombstone,
    // kept for delete.retention.ms).
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.offset).toBeGreaterThan(seen[i - 1]!.offset);
    const keys = seen.map((r) => r.key);
    expect(keys.length).toBe(new Set(keys).size);
    expect(new Map(seen.map((r) => [r.key, r.value]))).toEqual(latest);
    expect(seen.length).toBe(latest.size);
    // Offsets were kept: every update key is at the offset it was last written at.
    for (const r of seen.filter((s) => s.key!.startsWith('k'))) {
      expect(r.offset).toBe(BigInt((ROUNDS - 1) * KEYS + Number(r.key!.slice(1))));
    }
  }, TEST_MS);
});
