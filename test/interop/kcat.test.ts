// kcat 1.7 (librdkafka 2.0) against a real Gödel broker: produce with keys and headers in every
// codec librdkafka supports, consume from the beginning / an offset / the end / a timestamp,
// offset queries, metadata, and a balanced consumer group with committed offsets.
import { afterAll, describe, expect, test } from 'vitest';
import { Godel, type KafkaMessage } from '../../ts/client/index.js';
import {
  brokerProblems, describeRun, expectStoredCodec, GROUP_APIS, withApiHint, expectKeysStickToPartitions, expectSameRecords, jsonLines, killAll,
  requireCommand, run, setupOnce, startBroker, uniqueName, waitUntilClockPasses,
  type GotRecord, type Headers, type InteropBroker, type SentRecord,
} from './helpers.js';

const PARTITIONS = 3;
const RUN_TIMEOUT_MS = 90_000;

let broker: InteropBroker;

setupOnce(async () => {
  requireCommand('kcat (Debian package kcat)', 'kcat', ['-V']);
  // Topics are auto-created by kcat's producer (Metadata with allow_auto_topic_creation) with
  // this many partitions.
  broker = await startBroker({ set: { 'num.partitions': String(PARTITIONS) } });
});

afterAll(async () => {
  killAll();
  await broker?.stop();
});

interface KcatEnvelope {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

function toGot(e: KcatEnvelope): GotRecord {
  const headers: Headers = [];
  for (let i = 0; i + 1 < (e.headers?.length ?? 0); i += 2) headers.push([e.headers![i]!, e.headers![i + 1]!]);
  return { partition: e.partition, offset: e.offset, key: e.key, value: e.payload, headers, timestamp: e.ts };
}

async function kcat(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const r = await run('kcat', ['-b', broker.bootstrap, ...args], { input, timeoutMs: RUN_TIMEOUT_MS });
  if (r.code !== 0 || r.timedOut) {
    throw new Error(`${describeRun(`kcat ${args.join(' ')}`, r)}\n  broker warnings:\n${brokerProblems(broker)}`);
  }
  return r;
}

/** Produces `records` (one line each, `key:value`, the same -H headers on all) in one kcat run. */
async function produce(topic: string, records: SentRecord[], extra: string[] = []): Promise<void> {
  const headerArgs = records[0]!.headers.flatMap(([k, v]) => ['-H', `${k}=${v}`]);
  const lines = records.map((r) => (r.key === null ? r.value : `${r.key}:${r.value}`)).join('\n') + '\n';
  await kcat(['-P', '-t', topic, '-K', ':', ...headerArgs, ...extra], lines);
}

/** Consumes with -e (exit at the end of every partition), -J (JSON envelope). */
async function consume(topic: string, extra: string[]): Promise<GotRecord[]> {
  const r = await kcat(['-C', '-t', topic, '-e', '-J', '-q', ...extra]);
  return jsonLines<KcatEnvelope>(r.stdout).map(toGot);
}

function makeRecords(tag: string, count: number, headers: Headers, from = 0): SentRecord[] {
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    // Mostly keyed (keys repeat, so the partitioner's stickiness is visible), some empty keys,
    // some null keys (a line without the delimiter).
    const key = i % 11 === 5 ? null : i % 13 === 7 ? '' : `key-${i % 7}`;
    return { key, value: `${tag}-${i}`, headers };
  });
}

describe('kcat produce and consume', () => {
  test.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'])('codec %s: keys, headers, order per partition', async (codec) => {
    const topic = uniqueName(`kcat-${codec}`);
    const headers: Headers = [['codec', codec], ['src', 'kcat'], ['dup', '1'], ['dup', '2']];
    const first = makeRecords(`v-${codec}`, 60, headers);
    const second = makeRecords(`v-${codec}`, 40, headers, 60);
    // Two producer runs, so partitions hold several batches.
    await produce(topic, first, ['-X', `compression.codec=${codec}`]);
    await produce(topic, second, ['-X', `compression.codec=${codec}`, '-X', 'linger.ms=0', '-X', 'batch.num.messages=7']);
    // Stored as sent: the batches in the segment files carry the codec.
    await expectStoredCodec(broker, topic, codec, first.length + second.length, { orUncompressed: true });
    const got = await consume(topic, ['-o', 'beginning']);
    expectSameRecords(got, [...first, ...second], { contiguousFrom: 0, what: `kcat ${codec}` });
    expectKeysStickToPartitions(got);
    for (const r of got) expect(r.timestamp, 'CreateTime from the producer').toBeGreaterThan(1_600_000_000_000);
  });

  test.each(['snappy', 'zstd'] as const)('codec %s with the Gödel client: it reads what kcat compressed, kcat reads what it compressed', async (codec) => {
    const topic = uniqueName(`kcat-godel-${codec}`);
    const fromKcat = Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 5}`, value: `kcat-${codec}-${i} `.repeat(8).trim(), headers: [] as Headers, partition: 0 }));
    await produce(topic, fromKcat, ['-p', '0', '-X', `compression.codec=${codec}`]);
    await expectStoredCodec(broker, topic, codec, fromKcat.length);
    const godel = new Godel({ brokers: [broker.bootstrap] });
    const producer = godel.producer({ compression: codec, acks: 1 });
    const consumer = godel.consumer({});
    try {
      const fromGodel = Array.from({ length: 200 }, (_, i) => ({ key: `g${i % 5}`, value: `godel-${codec}-${i} `.repeat(8).trim() }));
      await producer.send({ topic, messages: fromGodel.map((m) => ({ ...m, partition: 0 })) });
      await expectStoredCodec(broker, topic, codec, fromKcat.length + fromGodel.length);
      // The Gödel consumer decompresses both producers' batches.
      const got: KafkaMessage[] = [];
      await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      await consumer.run({ eachMessage: ({ message }) => void got.push(message) });
      const deadline = Date.now() + RUN_TIMEOUT_MS;
      while (got.length < 400 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(got.map((m) => m.value?.toString()), `Gödel consumer, ${codec}`).toEqual([...fromKcat, ...fromGodel].map((r) => r.value));
      // kcat (librdkafka) decompresses the Gödel producer's batches.
      const read = await consume(topic, ['-p', '0', '-o', String(fromKcat.length)]);
      expect(read.map((r) => [r.key, r.value]), `kcat, ${codec}`).toEqual(fromGodel.map((m) => [m.key, m.value]));
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  test('consumes from an absolute offset and from an offset relative to the end', async () => {
    const topic = uniqueName('kcat-offset');
    const headers: Headers = [['h', 'x']];
    const records = Array.from({ length: 25 }, (_, i) => ({ key: `k${i}`, value: `off-${i}`, headers, partition: 1 }));
    // Several batches in partition 1 (one message per batch for the first run).
    await produce(topic, records.slice(0, 10), ['-p', '1', '-X', 'linger.ms=0', '-X', 'batch.num.messages=1']);
    await produce(topic, records.slice(10), ['-p', '1', '-X', 'compression.codec=lz4']);

    // Offset 13 sits inside the second run's batch: whole batches come back, kcat drops the rest.
    const fromOffset = await consume(topic, ['-p', '1', '-o', '13']);
    expectSameRecords(fromOffset, records.slice(13), { contiguousFrom: 13, what: '-o 13' });

    const fromEnd = await consume(topic, ['-p', '1', '-o', '-4']);
    expectSameRecords(fromEnd, records.slice(21), { contiguousFrom: 21, what: '-o -4' });

    // Other partitions are empty: -o beginning on them ends at once with nothing.
    expect(await consume(topic, ['-p', '0', '-o', 'beginning'])).toEqual([]);
  });

  test('consumes from a timestamp (-o s@ts) and queries offsets by timestamp (-Q)', async () => {
    const topic = uniqueName('kcat-ts');
    const headers: Headers = [['phase', 'ts']];
    const before = Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `before-${i}`, headers, partition: 0 }));
    const after = Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `after-${i}`, headers, partition: 0 }));
    await produce(topic, before, ['-p', '0']);
    const firstRun = await consume(topic, ['-p', '0', '-o', 'beginning']);
    expectSameRecords(firstRun, before, { contiguousFrom: 0, what: 'before' });
    const boundary = Math.max(...firstRun.map((r) => r.timestamp!)) + 1;
    await waitUntilClockPasses(boundary);
    await produce(topic, after, ['-p', '0']);

    const fromTs = await consume(topic, ['-p', '0', '-o', `s@${boundary}`]);
    expectSameRecords(fromTs, after, { contiguousFrom: 10, what: `-o s@${boundary}` });
    for (const r of fromTs) expect(r.timestamp).toBeGreaterThanOrEqual(boundary);

    // Without -p: every partition is looked up by timestamp; the empty ones have no such offset.
    const allPartitions = await consume(topic, ['-o', `s@${boundary}`]);
    expectSameRecords(allPartitions, after, { contiguousFrom: 10, what: `-o s@${boundary}, all partitions` });

    const q = await kcat(['-Q', '-t', `${topic}:0:${boundary}`]);
    expect(q.stdout).toMatch(new RegExp(`${topic} \\[0\\] offset 10\\b`));
    const q0 = await kcat(['-Q', '-t', `${topic}:0:0`]);
    expect(q0.stdout).toMatch(new RegExp(`${topic} \\[0\\] offset 0\\b`));
    // Later than every record: no offset (-1), as in Kafka.
    const future = Math.max(...fromTs.map((r) => r.timestamp!)) + 3_600_000;
    const qf = await kcat(['-Q', '-t', `${topic}:0:${future}`]);
    expect(qf.stdout).toMatch(new RegExp(`${topic} \\[0\\] offset -1\\b`));
  });
});

describe('kcat metadata', () => {
  test('-L lists the broker and the topic with its partitions and leaders', async () => {
    const topic = uniqueName('kcat-meta');
    await produce(topic, [{ key: 'a', value: 'meta-0', headers: [['m', '1']] }]);
    const all = JSON.parse((await kcat(['-L', '-J'])).stdout) as {
      controllerid: number;
      brokers: { id: number; name: string }[];
      topics: { topic: string; error?: string; partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[] }[] }[];
    };
    expect(all.brokers).toEqual([{ id: 1, name: broker.bootstrap }]);
    expect(all.controllerid).toBe(1);
    const t = all.topics.find((x) => x.topic === topic);
    expect(t, `${topic} in -L`).toBeDefined();
    expect(t!.error).toBeUndefined();
    expect(t!.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
    for (const p of t!.partitions) {
      expect(p.leader).toBe(1);
      expect(p.replicas).toEqual([{ id: 1 }]);
      expect(p.isrs).toEqual([{ id: 1 }]);
    }
    const one = JSON.parse((await kcat(['-L', '-J', '-t', topic])).stdout) as typeof all;
    expect(one.topics.map((x) => x.topic)).toEqual([topic]);
    expect(one.topics[0]!.partitions).toHaveLength(PARTITIONS);
  });
});

describe('kcat consumer group (-G)', () => {
  test('a balanced consumer reads everything, commits, and resumes after the committed offsets', () => withApiHint(broker, GROUP_APIS, async () => {
    const topic = uniqueName('kcat-group');
    const group = uniqueName('kcat-g');
    const headers: Headers = [['g', '1']];
    const first = makeRecords('grp', 30, headers);
    await produce(topic, first);
    const groupArgs = ['-G', group, topic, '-X', 'auto.offset.reset=earliest', '-d', 'cgrp'];
    // kcat -G takes topics as trailing arguments; -e exits once every assigned partition is at its end.
    const run1 = jsonLines<KcatEnvelope>((await kcat(['-e', '-J', '-q', ...groupArgs])).stdout).map(toGot);
    expectSameRecords(run1, first, { contiguousFrom: 0, what: 'group, first run' });

    const more = makeRecords('grp', 12, headers, 30);
    await produce(topic, more);
    const run2 = jsonLines<KcatEnvelope>((await kcat(['-e', '-J', '-q', ...groupArgs])).stdout).map(toGot);
    // Only what came after the offsets the first run committed when it closed.
    expectSameRecords(run2, more, { what: 'group, second run' });
  }));
});
