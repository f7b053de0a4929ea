// DescribeLogDirs (35) against a real broker process: the admin client's describeLogDirs() gives
// the data dir and each partition's size, which grows as records are produced and equals the
// partition's segment files on disk; every advertised version answers, v4 with the volume's bytes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Godel, type Admin, type Producer } from '../../ts/client/index.js';
import { kafkaRequest, startBroker, type BrokerProcess } from '../helpers/broker.js';

/** Bytes of a partition's .log files in the broker's data dir, as `du` would add them up. */
async function segmentBytesOnDisk(dataDir: string, topic: string, partition: number): Promise<bigint> {
  const dir = path.join(dataDir, `${topic}-${partition}`);
  let total = 0n;
  for (const name of await fs.readdir(dir)) {
    if (name.endsWith('.log')) total += BigInt((await fs.stat(path.join(dir, name))).size);
  }
  return total;
}

describe('DescribeLogDirs', { timeout: 180_000 }, () => {
  let broker: BrokerProcess;
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    broker = await startBroker();
    const godel = new Godel({ brokers: [broker.address] });
    admin = godel.admin();
    producer = godel.producer();
    await admin.createTopics({ topics: [{ topic: 'sized', numPartitions: 2 }, { topic: 'other', numPartitions: 1 }] });
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  });

  const sizesOf = async (topic: string): Promise<Map<number, bigint>> => {
    const dirs = await admin.describeLogDirs({ topics: [topic] });
    expect(dirs).toHaveLength(1);
    return new Map(dirs[0]!.partitions.filter((p) => p.topic === topic).map((p) => [p.partition, p.size]));
  };

  it('reports the data dir and the volume, and each partition\'s size growing with what is produced', async () => {
    const [dir] = await admin.describeLogDirs();
    expect(dir!.broker).toBe(1);
    expect(dir!.logDir).toBe(path.resolve(broker.dataDir));
    expect(dir!.totalBytes).toBeGreaterThan(0n);
    expect(dir!.usableBytes).toBeGreaterThan(0n);
    expect(dir!.usableBytes!).toBeLessThanOrEqual(dir!.totalBytes!);
    expect(dir!.partitions).toEqual(expect.arrayContaining([
      { topic: 'sized', partition: 0, size: 0n, offsetLag: 0n, isFuture: false },
      { topic: 'sized', partition: 1, size: 0n, offsetLag: 0n, isFuture: false },
      { topic: 'other', partition: 0, size: 0n, offsetLag: 0n, isFuture: false },
    ]));

    const value = Buffer.alloc(100, 7);
    await producer.send({ topic: 'sized', messages: Array.from({ length: 1000 }, () => ({ value, partition: 0 })) });
    const afterFirst = await sizesOf('sized');
    expect(afterFirst.get(0)).toBeGreaterThan(100_000n);
    expect(afterFirst.get(1)).toBe(0n);
    expect(afterFirst.get(0)).toBe(await segmentBytesOnDisk(broker.dataDir, 'sized', 0));

    await producer.send({ topic: 'sized', messages: Array.from({ length: 500 }, () => ({ value, partition: 1 })) });
    await producer.send({ topic: 'sized', messages: Array.from({ length: 500 }, () => ({ value, partition: 0 })) });
    const afterSecond = await sizesOf('sized');
    expect(afterSecond.get(0)).toBeGreaterThan(afterFirst.get(0)!);
    expect(afterSecond.get(1)).toBeGreaterThan(50_000n);
    for (const p of [0, 1]) expect(afterSecond.get(p), `partition ${p}`).toBe(await segmentBytesOnDisk(broker.dataDir, 'sized', p));
    // Only the topics asked for.
    expect((await admin.describeLogDirs({ topics: ['other'] }))[0]!.partitions.map((p) => p.topic)).toEqual(['other']);
  });

  it('answers every advertised version (0-4); unknown topics and partitions are left out', async () => {
    const expected = await segmentBytesOnDisk(broker.dataDir, 'sized', 0);
    for (const version of [0, 1, 2, 3, 4]) {
      const r = await kafkaRequest(broker.address, 35, version, { topics: [{ topic: 'sized', partitions: [0, 9] }, { topic: 'missing', partitions: [0] }] });
      expect(r.errorCode, `v${version}`).toBe(0);
      expect(r.results, `v${version}`).toEqual([{
        errorCode: 0, logDir: path.resolve(broker.dataDir),
        topics: [{ name: 'sized', partitions: [{ partitionIndex: 0, partitionSize: expected, offsetLag: 0n, isFutureKey: false }] }],
        totalBytes: version >= 4 ? expect.any(BigInt) : -1n,
        usableBytes: version >= 4 ? expect.any(BigInt) : -1n,
      }]);
      const all = await kafkaRequest(broker.address, 35, version, { topics: null });
      expect(all.results[0]!.topics.map((t) => t.name).sort(), `v${version}`).toEqual(expect.arrayContaining(['other', 'sized']));
    }
  });
});
