// `godel topics create|list|get|alter|delete` against a real broker process: the tables (their
// meaningful cells), the --json output, and the errors (one line, exit code 1).
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Godel, type Admin } from '../../ts/client/index.js';
import { startBroker, type BrokerProcess } from '../helpers/broker.js';
import { expectOneLineError, expectSuccess, godel, parseFields, parseTable } from './godel.js';

describe('godel topics', { timeout: 180_000 }, () => {
  let broker: BrokerProcess;
  let b: string[];
  let admin: Admin;

  beforeAll(async () => {
    broker = await startBroker();
    b = ['-b', broker.address];
    admin = new Godel({ brokers: [broker.address] }).admin();
  }, 120_000);

  afterAll(async () => {
    await admin?.disconnect();
    await broker?.stop();
  });

  it('creates topics (table and JSON), refusing an existing one', async () => {
    const [created, json, again] = await Promise.all([
      godel(['topics', 'create', 'orders', '-p', '3', '--config', 'retention.ms=86400000', ...b]),
      godel(['topics', 'create', 'payments', '--partitions', '2', '--replication-factor', '1', '--config', 'retention.ms=1000', '--json', ...b]),
      admin.createTopics({ topics: [{ topic: 'taken', numPartitions: 1 }] }).then(() => godel(['topics', 'create', 'taken', ...b])),
    ]);
    expectSuccess(created);
    expect(created.stdout).toBe('created topic "orders" (3 partitions, replication factor 1)\n');
    expectSuccess(json);
    expect(JSON.parse(json.stdout)).toEqual({ topic: 'payments', created: true, partitions: 2, replicationFactor: 1, configs: { 'retention.ms': '1000' } });
    expectOneLineError(again, /topic "taken" already exists \(use --if-not-exists/);
  });

  it('lists topics with partition counts; internal ones only with --internal', async () => {
    const [listed, json] = await Promise.all([
      godel(['topics', 'list', ...b]),
      godel(['topics', 'list', '--internal', '--json', ...b]),
    ]);
    expectSuccess(listed);
    const rows = parseTable(listed.stdout);
    expect(rows).toContainEqual({ TOPIC: 'orders', PARTITIONS: '3', REPLICATION: '1' });
    expect(rows).toContainEqual({ TOPIC: 'payments', PARTITIONS: '2', REPLICATION: '1' });
    expect(rows.map((r) => r.TOPIC)).not.toContain('__consumer_offsets');
    expectSuccess(json);
    const topics = JSON.parse(json.stdout) as Array<{ topic: string; partitions: number; internal: boolean }>;
    expect(topics).toContainEqual({ topic: 'orders', partitions: 3, replicationFactor: 1, internal: false });
    expect(topics.find((t) => t.topic === '__consumer_offsets')?.internal).toBe(true);
  });

  /** Bytes of a partition's .log segment files in the broker's data dir. */
  async function bytesOnDisk(topic: string, partition: number): Promise<number> {
    const dir = path.join(broker.dataDir, `${topic}-${partition}`);
    let total = 0;
    for (const name of await fs.readdir(dir)) if (name.endsWith('.log')) total += (await fs.stat(path.join(dir, name))).size;
    return total;
  }

  it('describes a topic: partitions with log start/end offsets, record counts and sizes on disk, config overrides', async () => {
    const producer = new Godel({ brokers: [broker.address] }).producer();
    try {
      await producer.send({ topic: 'orders', messages: [0, 1, 2, 3, 4].map((i) => ({ value: `v${i}`, partition: 0 })) });
      await producer.send({ topic: 'orders', messages: [{ value: 'x', partition: 2 }, { value: 'y', partition: 2 }] });
      await admin.deleteRecords({ topic: 'orders', partitions: [{ partition: 0, offset: 2n }] });
    } finally {
      await producer.disconnect();
    }
    const [table, json] = await Promise.all([godel(['topics', 'get', 'orders', ...b]), godel(['topics', 'get', 'orders', '--json', ...b])]);
    const onDisk = await Promise.all([0, 1, 2].map((p) => bytesOnDisk('orders', p)));
    expect(onDisk[0]).toBeGreaterThan(0);
    expect(onDisk[1]).toBe(0);
    expectSuccess(table);
    const info = parseFields(table.stdout);
    expect(info).toMatchObject({ topic: 'orders', partitions: '3', 'replication factor': '1', 'config overrides': 'retention.ms=86400000' });
    expect(info.records).toMatch(/^5 /);
    expect(info.size).toBe(`${onDisk[0]! + onDisk[2]!} B (${onDisk[0]! + onDisk[2]!} bytes, leader replicas)`);
    expect(parseTable(table.stdout)).toEqual([
      { PARTITION: '0', LEADER: '1', REPLICAS: '1', ISR: '1', 'LOG-START': '2', 'LOG-END': '5', RECORDS: '3', SIZE: `${onDisk[0]} B` },
      { PARTITION: '1', LEADER: '1', REPLICAS: '1', ISR: '1', 'LOG-START': '0', 'LOG-END': '0', RECORDS: '0', SIZE: '0 B' },
      { PARTITION: '2', LEADER: '1', REPLICAS: '1', ISR: '1', 'LOG-START': '0', 'LOG-END': '2', RECORDS: '2', SIZE: `${onDisk[2]} B` },
    ]);
    expectSuccess(json);
    const d = JSON.parse(json.stdout) as Record<string, unknown> & { partitions: Array<Record<string, unknown>> };
    expect(d).toMatchObject({ topic: 'orders', partitionCount: 3, replicationFactor: 1, records: 5, sizeBytes: onDisk[0]! + onDisk[2]!, configs: { 'retention.ms': '86400000' } });
    expect(d.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(d.partitions[0]).toEqual({ partition: 0, leader: 1, replicas: [1], isr: [1], logStartOffset: 2, logEndOffset: 5, records: 3, sizeBytes: onDisk[0] });
  });

  it('shows sizes in binary units once a partition passes a KiB', async () => {
    await admin.createTopics({ topics: [{ topic: 'big', numPartitions: 1 }] });
    const producer = new Godel({ brokers: [broker.address] }).producer();
    try {
      await producer.send({ topic: 'big', messages: Array.from({ length: 200 }, () => ({ value: Buffer.alloc(10_000, 1) })) });
    } finally {
      await producer.disconnect();
    }
    const shown = await godel(['topics', 'get', 'big', ...b]);
    expectSuccess(shown);
    const bytes = await bytesOnDisk('big', 0);
    expect(bytes).toBeGreaterThan(2_000_000);
    expect(parseTable(shown.stdout)[0]!.SIZE).toBe(`${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  });

  it('alters partitions and configs; the partition count only grows', async () => {
    const [altered, shrink] = await Promise.all([
      godel(['topics', 'alter', 'payments', '-p', '4', '--config', 'cleanup.policy=compact', '--delete-config', 'retention.ms', ...b]),
      godel(['topics', 'alter', 'orders', '-p', '1', ...b]),
    ]);
    expectSuccess(altered);
    expect(altered.stdout).toBe([
      'topic "payments": partitions 2 -> 4',
      'topic "payments": cleanup.policy=compact',
      'topic "payments": retention.ms back to the broker default',
    ].join('\n') + '\n');
    expectOneLineError(shrink, /topic "orders" has 3 partitions: the count can only grow \(asked for 1\)/);
    const [described] = await admin.describeTopics(['payments']);
    expect(described!.partitions).toHaveLength(4);
    const [configs] = await admin.describeConfigs({ resources: [{ type: 'topic', name: 'payments' }] });
    const overrides = Object.fromEntries(configs!.configs.filter((c) => c.source === 'DYNAMIC_TOPIC_CONFIG').map((c) => [c.name, c.value]));
    expect(overrides).toEqual({ 'cleanup.policy': 'compact' });
  });

  it('deletes topics; a missing one is an error unless --if-exists', async () => {
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 1 }, { topic: 'doomed-too', numPartitions: 1 }] });
    const deleted = await godel(['topics', 'delete', 'doomed', ...b]);
    expectSuccess(deleted);
    expect(deleted.stdout).toBe('deleted topic "doomed"\n');
    const [again, ignored] = await Promise.all([
      godel(['topics', 'delete', 'doomed', ...b]),
      godel(['topics', 'delete', 'doomed', 'doomed-too', '--if-exists', '--json', ...b]),
    ]);
    expectOneLineError(again, /topic "doomed" does not exist \(use --if-exists/);
    expectSuccess(ignored);
    expect(JSON.parse(ignored.stdout)).toEqual({ deleted: ['doomed-too'], missing: ['doomed'] });
    expect(await admin.listTopics()).not.toEqual(expect.arrayContaining(['doomed']));
    expect(await admin.listTopics()).not.toEqual(expect.arrayContaining(['doomed-too']));
  });

  it('reports an unknown topic, a malformed --config and the broker\'s refusal in one line', async () => {
    const runs = await Promise.all([
      godel(['topics', 'get', 'nope', ...b]),
      godel(['topics', 'create', 'x', '--config', 'retention.ms', ...b]),
      godel(['topics', 'create', 'bad/name', ...b]),
    ]);
    expectOneLineError(runs[0]!, /^godel: topic "nope" does not exist \(see godel topics list\)$/);
    expectOneLineError(runs[1]!, /--config expects KEY=VALUE, got "retention.ms"/);
    expectOneLineError(runs[2]!, /INVALID_TOPIC_EXCEPTION.*bad\/name/);
  });
});
