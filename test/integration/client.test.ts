// Gödel's own client against a real broker process: produce and consume (keys, headers, gzip,
// acks, batching, murmur2 placement, KafkaJS on the other side), plain consumers from earliest,
// latest, an offset or a time, seek/pause/resume, eachBatch, idempotent retries through a proxy that
// cuts connections mid-flight (no duplicates, where a plain producer duplicates), consumer groups
// (range, roundrobin, cooperative-sticky; commits, rebalance listeners, leave on close), the admin
// client, and the errors a user sees.
import net from 'node:net';
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Godel, KafkaError, partitionForKey, type Consumer, type KafkaMessage, type Producer, type TopicPartition } from '../../ts/client/index.js';
import { type BrokerProcess, startBroker, waitFor } from '../helpers/broker.js';

const START_HOOK_MS = 120_000;
const GROUP_TEST_MS = 180_000;
/** Fast group settings for tests (the broker's group.min.session.timeout.ms is 6 s). */
const GROUP = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 30_000 } as const;

let broker: BrokerProcess;
let godel: Godel;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  broker = await startBroker({ set: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '1', 'auto.create.topics.enable': 'true' } });
  godel = new Godel({ brokers: [broker.address], clientId: 'client-test', retry: { retries: 8, initialRetryTimeMs: 50 } });
}, START_HOOK_MS);

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await Promise.resolve().then(close).catch(() => undefined);
});

afterAll(async () => {
  await broker?.stop();
}, START_HOOK_MS);

let topicCounter = 0;
function topicName(prefix: string): string {
  return `${prefix}-${++topicCounter}-${Date.now() % 100_000}`;
}

async function createTopic(partitions: number, prefix = 't', configs?: Record<string, string>): Promise<string> {
  const topic = topicName(prefix);
  const admin = godel.admin();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, configEntries: configs }] });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

function producer(options: Parameters<Godel['producer']>[0] = {}, client: Godel = godel): Producer {
  const p = client.producer(options);
  closers.push(() => p.disconnect());
  return p;
}

function consumer(options: Parameters<Godel['consumer']>[0] = {}, client: Godel = godel): Consumer {
  const c = client.consumer(options);
  closers.push(() => c.disconnect());
  c.on('crash', (err: unknown) => {
    throw new Error(`consumer crashed: ${String(err)}`);
  });
  return c;
}

interface Got extends TopicPartition {
  message: KafkaMessage;
}

/** Runs a consumer that records every message; `got` fills as they arrive. */
async function record(c: Consumer): Promise<Got[]> {
  const got: Got[] = [];
  await c.run({ eachMessage: ({ topic, partition, message }) => void got.push({ topic, partition, message }) });
  return got;
}

const str = (b: Buffer | null | undefined): string | null => (b === null || b === undefined ? null : b.toString());

describe('produce and consume', () => {
  it('round-trips keys, values, headers and timestamps, gzip and uncompressed, and places keys by murmur2', async () => {
    const topic = await createTopic(4, 'roundtrip');
    const plain = producer({ acks: 1 });
    const gzip = producer({ acks: -1, compression: 'gzip' });
    const messages = Array.from({ length: 200 }, (_, i) => ({
      key: `key-${i % 37}`,
      value: i % 10 === 0 ? null : `value ${i} ${'x'.repeat(i)}`,
      headers: { n: String(i), tag: ['a', Buffer.from('b')] },
      timestamp: 1_700_000_000_000 + i,
    }));
    const r1 = await plain.send({ topic, messages: messages.slice(0, 100) });
    const r2 = await gzip.send({ topic, messages: messages.slice(100) });
    expect(r1.length + r2.length).toBeGreaterThan(0);
    for (const r of [...r1, ...r2]) expect(r.baseOffset).toBeGreaterThanOrEqual(0n);

    const c = consumer({});
    await c.assign([0, 1, 2, 3].map((partition) => ({ topic, partition, offset: 'earliest' as const })));
    const got = await record(c);
    await waitFor(() => got.length >= 200, '200 records');
    expect(got).toHaveLength(200);
    const byValue = new Map(got.map((g) => [g.message.headers.n!.toString(), g]));
    for (const [i, m] of messages.entries()) {
      const g = byValue.get(String(i))!;
      expect(str(g.message.key)).toBe(m.key);
      expect(str(g.message.value)).toBe(m.value);
      expect(g.message.timestamp).toBe(m.timestamp);
      expect(g.message.headers.tag).toEqual([Buffer.from('a'), Buffer.from('b')]);
      // The Java client's partition for the key.
      expect(g.partition).toBe(partitionForKey(Buffer.from(m.key), 4));
    }
    // Offsets run 0.. in each partition, in send order.
    for (let p = 0; p < 4; p++) {
      const offsets = got.filter((g) => g.partition === p).map((g) => g.message.offset);
      expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)));
    }
    expect(got.some((g) => (g.message.attributes & 7) === 1)).toBe(true); // some came gzipped
  });

  it('round-trips lz4-compressed batches through the broker', async () => {
    const topic = await createTopic(1, 'lz4');
    const p = producer({ acks: 1, compression: 'lz4' });
    const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: `lz4 value ${i} `.repeat(10) }));
    await p.send({ topic, messages });
    const c = consumer({});
    await c.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const got = await record(c);
    await waitFor(() => got.length >= 500, '500 records');
    expect(got.map((g) => str(g.message.value))).toEqual(messages.map((m) => m.value));
    expect(got.every((g) => (g.message.attributes & 7) === 3)).toBe(true);
  });

  it.each(['snappy', 'zstd'] as const)('round-trips %s-compressed batches through the broker', async (codec) => {
    const topic = await createTopic(1, codec);
    const p = producer({ acks: 1, compression: codec });
    const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: `${codec} value ${i} `.repeat(10) }));
    await p.send({ topic, messages });
    const c = consumer({});
    await c.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const got = await record(c);
    await waitFor(() => got.length >= 500, '500 records');
    expect(got.map((g) => str(g.message.value))).toEqual(messages.map((m) => m.value));
    expect(got.every((g) => (g.message.attributes & 7) === (codec === 'snappy' ? 2 : 4))).toBe(true);
  });

  it('puts keyed records on the partitions KafkaJS\'s Java-compatible partitioner picks, and each reads the other\'s records', async () => {
    const topic = await createTopic(5, 'kafkajs');
    const kafka = new Kafka({ brokers: [broker.address], clientId: 'kafkajs-interop', logLevel: logLevel.NOTHING });
    const kp = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await kp.connect();
    closers.push(() => kp.disconnect());
    const keys = Array.from({ length: 60 }, (_, i) => `account-${i * 31}`);
    await kp.send({ topic, compression: CompressionTypes.GZIP, messages: keys.map((key) => ({ key, value: `from kafkajs ${key}`, headers: { origin: 'kafkajs' } })) });
    await producer({ acks: 1 }).send({ topic, messages: keys.map((key) => ({ key, value: `from godel ${key}`, headers: { origin: 'godel' } })) });

    // Gödel reads both.
    const c = consumer({});
    await c.assign(Array.from({ length: 5 }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
    const got = await record(c);
    await waitFor(() => got.length >= 120, '120 records');
    for (const key of keys) {
      const mine = got.filter((g) => str(g.message.key) === key);
      expect(mine.map((g) => str(g.message.headers.origin as Buffer)).sort()).toEqual(['godel', 'kafkajs']);
      expect(new Set(mine.map((g) => g.partition)).size).toBe(1); // same partition from both clients
    }
    // KafkaJS reads ours.
    const kc = kafka.consumer({ groupId: `kafkajs-${topic}` });
    await kc.connect();
    closers.push(() => kc.disconnect());
    await kc.subscribe({ topic, fromBeginning: true });
    const theirs: string[] = [];
    await kc.run({ eachMessage: async ({ message }) => void theirs.push(String(message.value)) });
    await waitFor(() => theirs.length >= 120, 'KafkaJS reading 120 records', 90_000);
    expect(theirs.filter((v) => v.startsWith('from godel')).sort()).toEqual(keys.map((k) => `from godel ${k}`).sort());
  });

  it('batches concurrent sendOne() calls under lingerMs and gives every record its own offset', async () => {
    const topic = await createTopic(1, 'linger');
    const p = producer({ acks: 1, lingerMs: 50 });
    await p.connect();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => p.sendOne(topic, { value: `r${i}` })));
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i)));
    const admin = godel.admin();
    closers.push(() => admin.disconnect());
    expect((await admin.fetchTopicOffsets(topic))[0]!.high).toBe(50n);
  });

  it('sends with acks=0 (no offsets come back) and splits large sends into batch.size batches', async () => {
    const topic = await createTopic(1, 'acks0');
    const p = producer({ acks: 0, batchSize: 4096 });
    const r = await p.send({ topic, messages: Array.from({ length: 300 }, (_, i) => ({ value: `v${i}`.padEnd(100, '.') })) });
    expect(r).toEqual([{ topic, partition: 0, baseOffset: -1n, logAppendTime: -1n, logStartOffset: -1n }]);
    const admin = godel.admin();
    closers.push(() => admin.disconnect());
    await waitFor(async () => (await admin.fetchTopicOffsets(topic))[0]!.high === 300n, '300 records in the log');
    const c = consumer({});
    await c.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const batches: number[] = [];
    await c.run({ eachBatch: ({ batch }) => void batches.push(batch.messages.length) });
    await waitFor(() => batches.reduce((a, b) => a + b, 0) >= 300, '300 records');
    expect(batches.reduce((a, b) => a + b, 0)).toBe(300);
  });

  it('flush() sends lingering records now; disconnect() flushes', async () => {
    const topic = await createTopic(1, 'flush');
    const p = producer({ acks: 1, lingerMs: 60_000 });
    await p.connect();
    const pending = p.send({ topic, messages: [{ value: 'a' }] });
    await p.flush();
    expect((await pending)[0]!.baseOffset).toBe(0n);
    const later = p.send({ topic, messages: [{ value: 'b' }] });
    await p.disconnect();
    expect((await later)[0]!.baseOffset).toBe(1n);
    await expect(p.send({ topic, messages: [{ value: 'c' }] })).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('plain consumers', () => {
  let topic: string;
  const t0 = 1_750_000_000_000;

  beforeAll(async () => {
    topic = await createTopic(2, 'plain');
    const p = godel.producer({ acks: 1 });
    // 50 records per partition, timestamps t0 + 1000 * i.
    for (let i = 0; i < 50; i++) await p.send({ topic, messages: [0, 1].map((partition) => ({ partition, value: `p${partition}-${i}`, timestamp: t0 + 1000 * i })) });
    await p.disconnect();
  }, START_HOOK_MS);

  it('reads from earliest, from an offset, and from a time', async () => {
    const c = consumer({});
    await c.assign([
      { topic, partition: 0, offset: 'earliest' },
      { topic, partition: 1, offset: 30n },
    ]);
    const got = await record(c);
    await waitFor(() => got.length >= 70, '70 records');
    expect(got.filter((g) => g.partition === 0).map((g) => str(g.message.value))).toEqual(Array.from({ length: 50 }, (_, i) => `p0-${i}`));
    expect(got.filter((g) => g.partition === 1).map((g) => g.message.offset)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(30 + i)));
    await c.stop();

    const byTime = consumer({});
    await byTime.assign([{ topic, partition: 0, offset: { timestamp: t0 + 41_500 } }]);
    const late = await record(byTime);
    await waitFor(() => late.length >= 8, '8 records');
    expect(late.map((g) => g.message.offset)).toEqual([42n, 43n, 44n, 45n, 46n, 47n, 48n, 49n]);
  });

  it('reads from latest only what arrives after it starts', async () => {
    const c = consumer({ autoOffsetReset: 'latest' });
    await c.assign([{ topic, partition: 0 }]);
    const got = await record(c);
    await waitFor(() => c.positions()[0]!.offset >= 50n, 'the position at the end');
    const p = producer({ acks: 1 });
    await p.send({ topic, messages: [{ partition: 0, value: 'new' }] });
    await waitFor(() => got.length >= 1, 'the new record');
    expect(got.map((g) => str(g.message.value))).toEqual(['new']);
  });

  it('seeks back while running, and pauses and resumes a partition', async () => {
    const t = await createTopic(2, 'seek');
    const p = producer({ acks: 1 });
    await p.send({ topic: t, messages: Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `v${i}` })) });
    const c = consumer({});
    await c.assign([{ topic: t, partition: 0, offset: 'earliest' }, { topic: t, partition: 1, offset: 'earliest' }]);
    const got = await record(c);
    await waitFor(() => got.length >= 20, '20 records');
    c.seek({ topic: t, partition: 0, offset: 5n });
    await waitFor(() => got.length >= 25, 'partition 0 again from offset 5');
    expect(got.slice(20).map((g) => [g.partition, g.message.offset])).toEqual([5n, 6n, 7n, 8n, 9n].map((o) => [0, o]));

    c.pause([{ topic: t, partitions: [1] }]);
    expect(c.paused()).toEqual([{ topic: t, partition: 1 }]);
    await p.send({ topic: t, messages: [{ partition: 0, value: 'to-0' }, { partition: 1, value: 'to-1' }] });
    await waitFor(() => got.some((g) => str(g.message.value) === 'to-0'), 'the record on the running partition');
    // Give the paused partition a chance to (wrongly) deliver: another record on partition 0 proves a fetch went by.
    await p.send({ topic: t, messages: [{ partition: 0, value: 'to-0-again' }] });
    await waitFor(() => got.some((g) => str(g.message.value) === 'to-0-again'), 'a later fetch');
    expect(got.some((g) => str(g.message.value) === 'to-1')).toBe(false);
    c.resume([{ topic: t, partitions: [1] }]);
    await waitFor(() => got.some((g) => str(g.message.value) === 'to-1'), 'the paused record after resume');
    expect(got.filter((g) => str(g.message.value) === 'to-1')).toHaveLength(1);
  });

  it('stops with a crash event when a handler throws, without marking its message processed', async () => {
    const c = godel.consumer({});
    closers.push(() => c.disconnect());
    const crashed = new Promise<unknown>((resolve) => c.on('crash', resolve));
    await c.assign([{ topic, partition: 0, offset: 10n }]);
    await c.run({
      eachMessage: ({ message }) => {
        if (message.offset === 12n) throw new Error('handler failed on 12');
      },
    });
    expect(String(await crashed)).toContain('handler failed on 12');
    expect(c.positions()).toEqual([{ topic, partition: 0, offset: 12n }]);
  });

  it('hands eachBatch whole batches, and resolveOffset moves the position', async () => {
    const c = consumer({});
    await c.assign([{ topic, partition: 1, offset: 'earliest' }]);
    const seen: bigint[] = [];
    await c.run({
      eachBatchAutoResolve: false,
      eachBatch: ({ batch, resolveOffset, isStale }) => {
        expect(batch.highWatermark).toBeGreaterThanOrEqual(50n);
        for (const m of batch.messages) {
          if (isStale()) break;
          seen.push(m.offset);
          if (m.offset <= 24n) resolveOffset(m.offset);
        }
      },
    });
    await waitFor(() => seen.length >= 50, '50 records');
    expect(c.positions()).toEqual([{ topic, partition: 1, offset: 25n }]);
  });
});

// ---- idempotence through a connection-cutting proxy ---------------------------------------------

/**
 * A TCP proxy between the client and the broker that can drop the response to the next N Produce
 * requests: it cuts both sockets instead of forwarding it, so the broker has appended the batch
 * but the client never hears back (the case a retry must not turn into a duplicate).
 */
class CuttingProxy {
  port = 0;
  target = 0;
  dropProduceResponses = 0;
  dropped = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor() {
    this.server = net.createServer((client) => this.accept(client));
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.port = (this.server.address() as net.AddressInfo).port;
      resolve(this.port);
    }));
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect({ host: '127.0.0.1', port: this.target });
    this.sockets.add(client).add(upstream);
    const apiByCorrelation = new Map<number, number>();
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    let up = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      up = Buffer.concat([up, chunk]);
      while (up.length >= 4 && up.length >= 4 + up.readInt32BE(0)) {
        const size = up.readInt32BE(0);
        apiByCorrelation.set(up.readInt32BE(8), up.readInt16BE(4));
        upstream.write(up.subarray(0, 4 + size));
        up = up.subarray(4 + size);
      }
    });
    let down = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      down = Buffer.concat([down, chunk]);
      while (down.length >= 4 && down.length >= 4 + down.readInt32BE(0)) {
        const size = down.readInt32BE(0);
        const correlationId = down.readInt32BE(4);
        if (apiByCorrelation.get(correlationId) === 0 && this.dropProduceResponses > 0) {
          this.dropProduceResponses--;
          this.dropped++;
          cut();
          return;
        }
        apiByCorrelation.delete(correlationId);
        client.write(down.subarray(0, 4 + size));
        down = down.subarray(4 + size);
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('idempotent producer', () => {
  let proxy: CuttingProxy;
  let behind: BrokerProcess;
  let client: Godel;

  beforeAll(async () => {
    proxy = new CuttingProxy();
    const port = await proxy.listen();
    behind = await startBroker({ set: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`, 'num.partitions': '3' } });
    proxy.target = behind.port;
    client = new Godel({ brokers: [`127.0.0.1:${port}`], clientId: 'idempotence-test', retry: { retries: 10, initialRetryTimeMs: 20, maxRetryTimeMs: 500 } });
  }, START_HOOK_MS);

  afterAll(async () => {
    await proxy?.close();
    await behind?.stop();
  }, START_HOOK_MS);

  async function produceThroughCuts(idempotent: boolean, topic: string): Promise<string[]> {
    const p = producer({ idempotent, acks: -1, maxInFlightRequests: 5, lingerMs: 2 }, client);
    await p.connect();
    const sends: Promise<unknown>[] = [];
    const start = proxy.dropped;
    let armed = 0;
    for (let i = 0; i < 60; i++) {
      // Cut the connection on a few Produce responses along the way, several batches in flight.
      if (i === 5 || i === 25 || i === 45) {
        if (armed > 0) await waitFor(() => proxy.dropped - start >= armed, `cut ${armed}`);
        armed++;
        proxy.dropProduceResponses = 1;
      }
      sends.push(p.send({ topic, messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i % 3}`, value: `${i * 10 + j}` })) }));
      if (i % 4 === 3) await Promise.race(sends);
    }
    await Promise.all(sends);
    await p.disconnect();
    expect(proxy.dropped - start).toBe(armed);
    proxy.dropProduceResponses = 0;
    const c = consumer({}, client);
    await c.assign([0, 1, 2].map((partition) => ({ topic, partition, offset: 'earliest' as const })));
    const got = await record(c);
    const admin = client.admin();
    closers.push(() => admin.disconnect());
    const ends = await admin.fetchTopicOffsets(topic);
    const total = ends.reduce((a, e) => a + Number(e.high), 0);
    await waitFor(() => got.length >= total, `${total} records`);
    await c.stop();
    return got.map((g) => `${g.partition}:${str(g.message.value)}`);
  }

  it('writes each record exactly once, in order per key, although responses were lost mid-flight', async () => {
    const topic = topicName('idem');
    const values = await produceThroughCuts(true, topic);
    expect(values).toHaveLength(600);
    expect(new Set(values.map((v) => v.split(':')[1])).size).toBe(600);
    // Per key (one partition each), values in send order.
    for (let k = 0; k < 3; k++) {
      const partition = partitionForKey(Buffer.from(`k${k}`), 3);
      const mine = values.filter((v) => v.startsWith(`${partition}:`)).map((v) => Number(v.split(':')[1]));
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
  }, GROUP_TEST_MS);

  it('(control) a producer without idempotence duplicates the records whose response was lost', async () => {
    const topic = topicName('dupes');
    const values = await produceThroughCuts(false, topic);
    expect(values.length).toBeGreaterThan(600);
    expect(new Set(values.map((v) => v.split(':')[1])).size).toBe(600);
  }, GROUP_TEST_MS);
});

// ---- consumer groups ------------------------------------------------------------------------------

describe('consumer groups', () => {
  async function fill(topic: string, count: number, from = 0): Promise<void> {
    const p = godel.producer({ acks: 1 });
    await p.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `key-${from + i}`, value: String(from + i) })) });
    await p.disconnect();
  }

  function member(groupId: string, assignors: Array<'range' | 'roundrobin' | 'cooperative-sticky'>, extra: Parameters<Godel['consumer']>[0] = {}): { c: Consumer; got: Got[]; events: string[] } {
    const events: string[] = [];
    const c = consumer({
      groupId, ...GROUP, assignors, ...extra,
      rebalanceListener: {
        onPartitionsAssigned: (tps) => void events.push(`assigned ${tps.map((tp) => tp.partition).sort().join(',')}`),
        onPartitionsRevoked: (tps) => void events.push(`revoked ${tps.map((tp) => tp.partition).sort().join(',')}`),
      },
    });
    return { c, got: [], events };
  }

  async function start(m: { c: Consumer; got: Got[] }, topic: string): Promise<void> {
    await m.c.subscribe({ topics: [topic], fromBeginning: true });
    await m.c.run({ eachMessage: ({ topic: t, partition, message }) => void m.got.push({ topic: t, partition, message }) });
  }

  const partitionsOf = (c: Consumer): number[] => c.assignment().map((tp) => tp.partition).sort((a, b) => a - b);

  it('splits partitions with range, rebalances when a member leaves, and loses nothing', async () => {
    const topic = await createTopic(6, 'range');
    await fill(topic, 300);
    const groupId = `g-${topic}`;
    const a = member(groupId, ['range']);
    const b = member(groupId, ['range']);
    const c = member(groupId, ['range']);
    await Promise.all([start(a, topic), start(b, topic), start(c, topic)]);
    await waitFor(() => [a, b, c].every((m) => m.c.assignment().length === 2), 'two partitions each', 90_000);
    expect([...partitionsOf(a.c), ...partitionsOf(b.c), ...partitionsOf(c.c)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const m of [a, b, c]) {
      const ps = partitionsOf(m.c);
      expect(ps[1]! - ps[0]!).toBe(1); // range: contiguous
    }
    await waitFor(() => a.got.length + b.got.length + c.got.length >= 300, '300 records', 90_000);
    const held = partitionsOf(c.c).join(',');
    await c.c.disconnect(); // commits, revokes, leaves the group
    await waitFor(() => a.c.assignment().length === 3 && b.c.assignment().length === 3, 'three partitions each after the leave', 90_000);
    await fill(topic, 300, 300);
    await waitFor(() => new Set([...a.got, ...b.got, ...c.got].map((g) => str(g.message.value))).size >= 600, 'all 600 records', 90_000);
    const values = [...a.got, ...b.got, ...c.got].map((g) => Number(str(g.message.value)));
    expect(new Set(values).size).toBe(600);
    expect(c.events).toEqual([`assigned ${held}`, `revoked ${held}`]);
  }, GROUP_TEST_MS);

  it('deals partitions with roundrobin', async () => {
    const topic = await createTopic(4, 'rr');
    const groupId = `g-${topic}`;
    const a = member(groupId, ['roundrobin']);
    const b = member(groupId, ['roundrobin']);
    await Promise.all([start(a, topic), start(b, topic)]);
    await waitFor(() => a.c.assignment().length === 2 && b.c.assignment().length === 2, 'two partitions each', 90_000);
    const sets = [partitionsOf(a.c), partitionsOf(b.c)].sort((x, y) => x[0]! - y[0]!);
    expect(sets).toEqual([[0, 2], [1, 3]]);
  }, GROUP_TEST_MS);

  it('moves only the partitions it must with cooperative-sticky: members keep the rest through a join', async () => {
    const topic = await createTopic(6, 'coop');
    await fill(topic, 120);
    const groupId = `g-${topic}`;
    const a = member(groupId, ['cooperative-sticky']);
    const b = member(groupId, ['cooperative-sticky']);
    expect(a.c.rebalanceProtocol).toBe('cooperative');
    await Promise.all([start(a, topic), start(b, topic)]);
    await waitFor(() => a.c.assignment().length === 3 && b.c.assignment().length === 3, 'three partitions each', 90_000);
    await waitFor(() => a.got.length + b.got.length >= 120, '120 records', 90_000);
    const beforeA = partitionsOf(a.c);
    const beforeB = partitionsOf(b.c);
    const c = member(groupId, ['cooperative-sticky']);
    await start(c, topic);
    await waitFor(() => [a, b, c].every((m) => m.c.assignment().length === 2), 'two partitions each after the join', 90_000);
    // Sticky: what a and b keep is a subset of what they had; nobody revoked everything.
    expect(partitionsOf(a.c).every((p) => beforeA.includes(p))).toBe(true);
    expect(partitionsOf(b.c).every((p) => beforeB.includes(p))).toBe(true);
    const revokedA = a.events.filter((e) => e.startsWith('revoked'));
    expect(revokedA.every((e) => e.split(' ')[1]!.split(',').length <= 1)).toBe(true);
    // Records keep flowing to the new layout, each once.
    await fill(topic, 120, 120);
    await waitFor(() => new Set([...a.got, ...b.got, ...c.got].map((g) => str(g.message.value))).size >= 240, '240 records', 90_000);
  }, GROUP_TEST_MS);

  it('commits on close (auto-commit) and a new member continues where the group left off', async () => {
    const topic = await createTopic(2, 'commit');
    await fill(topic, 100);
    const groupId = `g-${topic}`;
    const first = member(groupId, ['range']);
    await start(first, topic);
    await waitFor(() => first.got.length >= 100, '100 records', 90_000);
    await first.c.disconnect();
    const admin = godel.admin();
    closers.push(() => admin.disconnect());
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    expect(committed.map((c) => c.offset)).toEqual(ends.map((e) => e.high));
    expect((await admin.describeGroups([groupId]))[0]!.state).toBe('Empty');

    await fill(topic, 10, 100);
    const second = member(groupId, ['range']);
    await start(second, topic);
    await waitFor(() => second.got.length >= 10, '10 new records', 90_000);
    expect(second.got.map((g) => Number(str(g.message.value))).sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
  }, GROUP_TEST_MS);

  it('commits manually with autoCommit off', async () => {
    const topic = await createTopic(1, 'manual');
    await fill(topic, 20);
    const groupId = `g-${topic}`;
    const m = member(groupId, ['range'], { autoCommit: false });
    await start(m, topic);
    await waitFor(() => m.got.length >= 20, '20 records', 90_000);
    const admin = godel.admin();
    closers.push(() => admin.disconnect());
    expect((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.offset).toBe(-1n);
    await m.c.commitOffsets([{ topic, partition: 0, offset: 7n }]);
    expect((await m.c.committed())[0]!.offset).toBe(7n);
    await m.c.commitOffsets();
    expect((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.offset).toBe(20n);
  }, GROUP_TEST_MS);
});

// ---- admin ----------------------------------------------------------------------------------------

describe('admin', () => {
  it('creates, lists, describes, grows and deletes topics', async () => {
    const admin = godel.admin();
    closers.push(() => admin.disconnect());
    const topic = topicName('adm');
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2, configEntries: { 'retention.ms': '3600000' } }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] })).toBe(false);
    expect(await admin.listTopics()).toContain(topic);
    const [d] = await admin.describeTopics([topic]);
    expect(d!.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr])).toEqual([[0, 1, [1], [1]], [1, 1, [1], [1]]]);
    await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
    expect((await admin.describeTopics([topic]))[0]!.partitions).toHaveLength(5);
    await expect(admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] })).rejects.toMatchObject({ type: 'INVALID_PARTITIONS', topic });
    await admin.deleteTopics({ topics: [topic] });
    expect(await admin.listTopics()).not.toContain(topic);
    await expect(admin.describeTopics([topic])).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', topic });
  });

  it('describes and incrementally alters topic and broker configs', async () => {
    const admin = godel.admin();
    closers.push(() => admin.disconnect());
    const topic = await createTopic(1, 'cfg', { 'retention.ms': '3600000' });
    const get = async (): Promise<Map<string, { value: string | null; source: string }>> => {
      const [r] = await admin.describeConfigs({ resources: [{ type: 'topic', name: topic, configNames: ['retention.ms', 'cleanup.policy'] }] });
      return new Map(r!.configs.map((c) => [c.name, c]));
    };
    expect((await get()).get('retention.ms')).toMatchObject({ value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG' });
    await admin.alterConfigs({ resources: [{ type: 'topic', name: topic, configs: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'retention.ms', op: 'delete' }] }] });
    const after = await get();
    expect(after.get('cleanup.policy')!.value).toBe('compact');
    expect(after.get('retention.ms')!.source).not.toBe('DYNAMIC_TOPIC_CONFIG');
    await expect(admin.alterConfigs({ resources: [{ type: 'topic', name: topic, configs: [{ name: 'retention.ms', value: 'soon' }] }] })).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    const [brokerConfigs] = await admin.describeConfigs({ resources: [{ type: 'broker', name: '1' }] });
    expect(brokerConfigs!.configs.length).toBeGreaterThan(5);
  });

  it('deletes records and looks up offsets by time', async () => {
    const admin = godel.admin();
    closers.push(() => admin.disconnect());
    const topic = await createTopic(1, 'del');
    const t0 = 1_760_000_000_000;
    await producer({ acks: 1 }).send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i), timestamp: t0 + i * 10 })) });
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, t0 + 35)).toEqual([{ partition: 0, offset: 4n }]);
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, t0 + 1_000_000)).toEqual([{ partition: 0, offset: 10n }]);
    expect(await admin.deleteRecords({ topic, partitions: [{ partition: 0, offset: 6n }] })).toEqual([{ partition: 0, lowWatermark: 6n }]);
    expect(await admin.fetchTopicOffsets(topic)).toEqual([{ partition: 0, low: 6n, high: 10n }]);
  });

  it('lists, describes, resets, removes members of and deletes groups', async () => {
    const admin = godel.admin();
    closers.push(() => admin.disconnect());
    const topic = await createTopic(2, 'grp');
    await producer({ acks: 1 }).send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ partition: i % 2, value: String(i) })) });
    const groupId = `g-${topic}`;
    const c = consumer({ groupId, ...GROUP, assignors: ['range'] });
    await c.subscribe({ topics: [topic], fromBeginning: true });
    const got = await record(c);
    await waitFor(() => got.length >= 40, '40 records', 90_000);
    await c.commitOffsets();

    expect((await admin.listGroups()).find((g) => g.groupId === groupId)).toMatchObject({ protocolType: 'consumer', state: 'Stable' });
    const [described] = await admin.describeGroups([groupId]);
    expect(described).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocol: 'range' });
    expect(described!.members).toHaveLength(1);
    expect(described!.members[0]!.clientId).toBe('client-test');
    expect(described!.members[0]!.subscribedTopics).toEqual([topic]);
    expect(described!.members[0]!.assignment.map((tp) => tp.partition).sort()).toEqual([0, 1]);
    expect(await admin.groupLag({ groupId, topic })).toEqual([
      { partition: 0, committed: 20n, high: 20n, lag: 0n },
      { partition: 1, committed: 20n, high: 20n, lag: 0n },
    ]);
    await expect(admin.deleteGroups([groupId])).rejects.toMatchObject({ type: 'NON_EMPTY_GROUP' });
    await expect(admin.setOffsets({ groupId, offsets: [{ topic, partition: 0, offset: 0n }] })).rejects.toBeInstanceOf(KafkaError);

    // Remove the member: the group empties (our consumer will try to rejoin: stop it first).
    const memberId = described!.members[0]!.memberId;
    await c.stop();
    await admin.removeMembers({ groupId, members: [{ memberId }] });
    await waitFor(async () => (await admin.describeGroups([groupId]))[0]!.state === 'Empty', 'an empty group');

    expect(await admin.resetOffsets({ groupId, topic, to: 'earliest' })).toEqual([{ topic, partition: 0, offset: 0n }, { topic, partition: 1, offset: 0n }]);
    await admin.setOffsets({ groupId, offsets: [{ topic, partition: 1, offset: 15n }] });
    expect((await admin.fetchOffsets({ groupId, topics: [topic] })).map((o) => o.offset)).toEqual([0n, 15n]);
    await admin.resetOffsets({ groupId, topic, to: 'latest', partitions: [0] });
    expect((await admin.fetchOffsets({ groupId })).map((o) => o.offset)).toEqual([20n, 15n]);
    await admin.deleteGroups([groupId]);
    expect((await admin.listGroups()).some((g) => g.groupId === groupId)).toBe(false);
    await expect(admin.deleteGroups([groupId])).rejects.toMatchObject({ type: 'GROUP_ID_NOT_FOUND' });
  }, GROUP_TEST_MS);

  it('describes the cluster', async () => {
    const admin = godel.admin();
    closers.push(() => admin.disconnect());
    const d = await admin.describeCluster();
    expect(d.controller).toBe(1);
    expect(d.brokers).toEqual([{ nodeId: 1, host: broker.host, port: broker.port, rack: null }]);
    expect(d.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

// ---- errors -------------------------------------------------------------------------------------

describe('errors', () => {
  it('names the topic that does not exist when auto-creation is off', async () => {
    const p = producer({ allowAutoTopicCreation: false, retry: { retries: 2, initialRetryTimeMs: 20 } });
    const err = await p.send({ topic: 'no-such-topic', messages: [{ value: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect(err).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', topic: 'no-such-topic' });
    const c = consumer({ retry: { retries: 2, initialRetryTimeMs: 20 } });
    await expect(c.assign([{ topic: 'no-such-topic', partition: 0 }])).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('refuses a partition the topic does not have', async () => {
    const topic = await createTopic(2, 'range-check');
    await expect(producer().send({ topic, messages: [{ partition: 7, value: 'x' }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', partition: 7 });
  });

  it('reports an unreachable broker as NETWORK_EXCEPTION after its retries', async () => {
    const probe = net.createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as net.AddressInfo).port)));
    await new Promise((resolve) => probe.close(resolve));
    const lonely = new Godel({ brokers: [`127.0.0.1:${port}`], retry: { retries: 1, initialRetryTimeMs: 10 } });
    const admin = lonely.admin();
    closers.push(() => admin.disconnect());
    await expect(admin.listTopics()).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION', retriable: true });
  });

  it('refuses bad options up front', () => {
    expect(() => godel.producer({ idempotent: true, acks: 1 })).toThrow(/acks=all/);
    expect(() => godel.producer({ compression: 'brotli' as 'zstd' })).toThrow(/unknown compression "brotli"/);
    expect(() => godel.consumer({ groupId: 'x', assignors: ['sticky' as 'range'] })).toThrow(/unknown assignor/);
    expect(() => new Godel({ brokers: ['nonsense:port'] }).admin()).toThrow(/host:port/);
  });
});
