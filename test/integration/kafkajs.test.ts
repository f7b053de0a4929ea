// KafkaJS, unchanged, against a real broker process: produce with keys, headers and compression,
// consume from earliest, latest, an offset and a timestamp, the idempotent producer, and a broker
// restart with every record intact. Each test checks the records a consumer gets back.
import { CompressionTypes, Kafka, logLevel, type Consumer, type EachMessagePayload } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';

interface Seen {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  timestamp: string;
}

let topicCounter = 0;
const uniqueTopic = (name: string): string => `${name}-${process.pid}-${++topicCounter}`;

describe('KafkaJS against godel', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    broker = await startBroker({ set: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '1' } });
    kafka = new Kafka({ brokers: [broker.address], clientId: 'godel-kafkajs-test', logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await broker?.stop();
  });

  /** Runs a group consumer on `topic` and collects what it gets. */
  async function consume(topic: string, options: { fromBeginning: boolean; onRunning?: (c: Consumer) => Promise<void> }): Promise<{ seen: Seen[]; consumer: Consumer; fetches: () => number }> {
    const consumer = kafka.consumer({ groupId: uniqueTopic('group'), sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
    consumers.push(consumer);
    const seen: Seen[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: options.fromBeginning });
    let joined = false;
    let fetches = 0;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    consumer.on(consumer.events.FETCH, () => {
      fetches++;
    });
    await consumer.run({
      eachMessage: async ({ partition, message }: EachMessagePayload) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        seen.push({
          partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null,
          headers, timestamp: message.timestamp,
        });
      },
    });
    await waitFor(() => joined, 'the consumer to join its group', 60_000);
    if (options.onRunning) await options.onRunning(consumer);
    return { seen, consumer, fetches: () => fetches };
  }

  it('produces keys, headers and gzip; a consumer from earliest reads them back in order', async () => {
    const topic = uniqueTopic('basic');
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const plain = await producer.send({
      topic,
      messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { seq: String(i), kind: 'plain' } })),
    });
    const gzip = await producer.send({
      topic, compression: CompressionTypes.GZIP,
      messages: Array.from({ length: 20 }, (_, i) => ({ key: `g${i}`, value: `gzip-${i}`, headers: { seq: String(20 + i), kind: 'gzip' } })),
    });
    await producer.disconnect();
    expect(plain[0]!.baseOffset).toBe('0');
    expect(gzip[0]!.baseOffset).toBe('20');
    const { seen, consumer } = await consume(topic, { fromBeginning: true });
    await waitFor(() => seen.length >= 40, '40 records', 60_000);
    await consumer.disconnect();
    expect(seen.map((r) => Number(r.offset))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(seen[0]).toMatchObject({ key: 'k0', value: 'v0', headers: { seq: '0', kind: 'plain' } });
    expect(seen[25]).toMatchObject({ key: 'g5', value: 'gzip-5', headers: { seq: '25', kind: 'gzip' } });
    expect(seen.map((r) => r.headers.seq)).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
  });

  it('a consumer from latest sees only what is produced after it joined', async () => {
    const topic = uniqueTopic('latest');
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'before-1' }, { value: 'before-2' }] });
    const { seen, consumer, fetches } = await consume(topic, { fromBeginning: false });
    // The consumer's position is the log end once it has fetched: only then produce more.
    await waitFor(() => fetches() > 0, 'the first fetch', 60_000);
    await producer.send({ topic, messages: [{ value: 'after-1' }, { value: 'after-2' }] });
    await waitFor(() => seen.length >= 2, 'the two new records', 60_000);
    await producer.disconnect();
    await consumer.disconnect();
    expect(seen.map((r) => r.value)).toEqual(['after-1', 'after-2']);
    expect(seen.map((r) => r.offset)).toEqual(['2', '3']);
  });

  it('seeks to an offset and to a timestamp', async () => {
    const topic = uniqueTopic('seek');
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const base = Date.now() - 60_000;
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, timestamp: String(base + i * 1000) })),
    });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, base + 6500);
    expect(byTime).toEqual([{ partition: 0, offset: '7' }]);
    const latest = await admin.fetchTopicOffsets(topic);
    expect(latest[0]).toMatchObject({ partition: 0, offset: '10', high: '10', low: '0' });
    await admin.disconnect();

    const fromOffset = await consume(topic, { fromBeginning: true, onRunning: async (c) => c.seek({ topic, partition: 0, offset: '4' }) });
    await waitFor(() => fromOffset.seen.some((r) => r.value === 'm9'), 'reading up to the end', 60_000);
    await fromOffset.consumer.disconnect();
    // Records before the seek may have been fetched before it took effect; from the seek on, all in order.
    const values = fromOffset.seen.map((r) => r.value);
    expect(values.slice(values.lastIndexOf('m4'))).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);

    const fromTime = await consume(topic, { fromBeginning: true, onRunning: async (c) => c.seek({ topic, partition: 0, offset: byTime[0]!.offset }) });
    await waitFor(() => fromTime.seen.some((r) => r.value === 'm9'), 'reading up to the end', 60_000);
    await fromTime.consumer.disconnect();
    const timed = fromTime.seen.map((r) => r.value);
    expect(timed.slice(timed.lastIndexOf('m7'))).toEqual(['m7', 'm8', 'm9']);
    expect(Number(fromTime.seen.find((r) => r.value === 'm7')!.timestamp)).toBe(base + 7000);
  });

  it('the idempotent producer writes every record exactly once', async () => {
    const topic = uniqueTopic('idempotent');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
    await producer.connect();
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 5 }, (_, j) => ({ key: `k${j}`, value: `${i}-${j}` })) });
    }
    await producer.disconnect();
    const { seen, consumer } = await consume(topic, { fromBeginning: true });
    await waitFor(() => seen.length >= 50, '50 records', 60_000);
    await consumer.disconnect();
    expect(seen.length).toBe(50);
    expect(new Set(seen.map((r) => r.value)).size).toBe(50);
    expect(seen.map((r) => Number(r.offset))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('keeps every record across a broker restart', async () => {
    const topic = uniqueTopic('restart');
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `before-${i}` })) });
    await producer.disconnect();
    broker = await broker.restart();
    kafka = new Kafka({ brokers: [broker.address], clientId: 'godel-kafkajs-test', logLevel: logLevel.NOTHING });
    const after = kafka.producer();
    await after.connect();
    const sent = await after.send({ topic, messages: [{ key: 'k30', value: 'after-restart' }] });
    await after.disconnect();
    expect(sent[0]!.baseOffset).toBe('30');
    const { seen, consumer } = await consume(topic, { fromBeginning: true });
    await waitFor(() => seen.length >= 31, '31 records', 60_000);
    await consumer.disconnect();
    expect(seen.map((r) => r.value)).toEqual([...Array.from({ length: 30 }, (_, i) => `before-${i}`), 'after-restart']);
  });
});
