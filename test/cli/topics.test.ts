// `godel topics create|list|get|alter|delete` against a real broker process: the tables (their
// meaningful cells), the --json output, and the errors (one line, exit code 1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Godel } from '../../ts/client/index.js';
import { startBroker, type BrokerProcess } from '../helpers/broker.js';
import { expectOneLineError, expectSuccess, godel, parseFields, parseTable } from './godel.js';

describe('godel topics', { timeout: 180_000 }, () => {
  let broker: BrokerProcess;
  let b: string[];

  beforeAll(async () => {
    broker = await startBroker();
    b = ['-b', broker.address];
  }, 120_000);

  afterAll(async () => {
    await broker?.stop();
  });

  it('creates topics (table and JSON), refusing an existing one unless --if-not-exists', async () => {
    const [created, json] = await Promise.all([
      godel(['topics', 'create', 'orders', '-p', '3', '--config', 'retention.ms=86400000', ...b]),
      godel(['topics', 'create', 'payments', '--partitions', '2', '--replication-factor', '1', '--json', ...b]),
    ]);
    expectSuccess(created);
    expect(created.stdout).toBe('created topic "orders" (3 partitions, replication factor 1)\n');
    expectSuccess(json);
    expect(JSON.parse(json.stdout)).toEqual({ topic: 'payments', created: true, partitions: 2, replicationFactor: 1, configs: {} });

    const [again, accepted] = await Promise.all([
      godel(['topics', 'create', 'orders', ...b]),
      godel(['topics', 'create', 'orders', '--if-not-exists', '--json', ...b]),
    ]);
    expectOneLineError(again, /topic "orders" already exists \(use --if-not-exists/);
    expectSuccess(accepted);
    expect(JSON.parse(accepted.stdout)).toMatchObject({ topic: 'orders', created: false, partitions: 3 });
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

  it('describes a topic: partitions with log start/end offsets and record counts, config overrides, size not available', async () => {
    const client = new Godel({ brokers: [broker.address] });
    const producer = client.producer();
    const admin = client.admin();
    try {
      await producer.send({ topic: 'orders', messages: [0, 1, 2, 3, 4].map((i) => ({ value: `v${i}`, partition: 0 })) });
      await producer.send({ topic: 'orders', messages: [{ value: 'x', partition: 2 }, { value: 'y', partition: 2 }] });
      await admin.deleteRecords({ topic: 'orders', partitions: [{ partition: 0, offset: 2n }] });
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
    const [table, json] = await Promise.all([godel(['topics', 'get', 'orders', ...b]), godel(['topics', 'get', 'orders', '--json', ...b])]);
    expectSuccess(table);
    const info = parseFields(table.stdout);
    expect(info).toMatchObject({ topic: 'orders', partitions: '3', 'replication factor': '1', 'config overrides': 'retention.ms=86400000' });
    expect(info.records).toMatch(/^5 /);
    expect(info.size).toMatch(/not available/);
    expect(parseTable(table.stdout)).toEqual([
      { PARTITION: '0', LEADER: '1', REPLICAS: '1', ISR: '1', 'LOG-START': '2', 'LOG-END': '5', RECORDS: '3' },
      { PARTITION: '1', LEADER: '1', REPLICAS: '1', ISR: '1', 'LOG-START': '0', 'LOG-END': '0', RECORDS: '0' },
      { PARTITION: '2', LEADER: '1', REPLICAS: '1', ISR: '1', 'LOG-START': '0', 'LOG-END': '2', RECORDS: '2' },
    ]);
    expectSuccess(json);
    const d = JSON.parse(json.stdout) as Record<string, unknown> & { partitions: Array<Record<string, unknown>> };
    expect(d).toMatchObject({ topic: 'orders', partitionCount: 3, replicationFactor: 1, records: 5, sizeBytes: null, configs: { 'retention.ms': '86400000' } });
    expect(d.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(d.partitions[0]).toEqual({ partition: 0, leader: 1, replicas: [1], isr: [1], logStartOffset: 2, logEndOffset: 5, records: 3, sizeBytes: null });
  });

  it('alters partitions and configs; the partition count only grows', async () => {
    const altered = await godel(['topics', 'alter', 'payments', '-p', '4', '--config', 'cleanup.policy=compact', '--config', 'retention.ms=1000', ...b]);
    expectSuccess(altered);
    expect(altered.stdout).toContain('topic "payments": partitions 2 -> 4');
    expect(altered.stdout).toContain('topic "payments": cleanup.policy=compact');
    const [json, shrink, reverted] = await Promise.all([
      godel(['topics', 'get', 'payments', '--json', ...b]),
      godel(['topics', 'alter', 'payments', '-p', '1', ...b]),
      godel(['topics', 'alter', 'payments', '--delete-config', 'retention.ms', '--json', ...b]),
    ]);
    expectSuccess(json);
    const d = JSON.parse(json.stdout) as { partitionCount: number; configs: Record<string, string> };
    expect(d.partitionCount).toBe(4);
    expect(d.configs['cleanup.policy']).toBe('compact');
    expectOneLineError(shrink, /topic "payments" has 4 partitions: the count can only grow \(asked for 1\)/);
    expectSuccess(reverted);
    expect(JSON.parse(reverted.stdout)).toMatchObject({ topic: 'payments', configsDeleted: ['retention.ms'] });
    const after = await godel(['topics', 'get', 'payments', '--json', ...b]);
    expect((JSON.parse(after.stdout) as { configs: Record<string, string> }).configs).toEqual({ 'cleanup.policy': 'compact' });
  });

  it('deletes topics; a missing one is an error unless --if-exists', async () => {
    await godel(['topics', 'create', 'doomed', '-p', '1', ...b]).then(expectSuccess);
    const deleted = await godel(['topics', 'delete', 'doomed', ...b]);
    expectSuccess(deleted);
    expect(deleted.stdout).toBe('deleted topic "doomed"\n');
    const [again, ignored, listed] = await Promise.all([
      godel(['topics', 'delete', 'doomed', ...b]),
      godel(['topics', 'delete', 'doomed', '--if-exists', '--json', ...b]),
      godel(['topics', 'list', '--json', ...b]),
    ]);
    expectOneLineError(again, /topic "doomed" does not exist \(use --if-exists/);
    expectSuccess(ignored);
    expect(JSON.parse(ignored.stdout)).toEqual({ deleted: [], missing: ['doomed'] });
    expect((JSON.parse(listed.stdout) as Array<{ topic: string }>).map((t) => t.topic)).not.toContain('doomed');
  });

  it('reports an unknown topic and bad arguments in one line', async () => {
    const runs = await Promise.all([
      godel(['topics', 'get', 'nope', ...b]),
      godel(['topics', 'create', 'x', '-p', 'three', ...b]),
      godel(['topics', 'create', 'x', '--config', 'retention.ms', ...b]),
      godel(['topics', 'create', 'bad/name', ...b]),
      godel(['topics', 'alter', 'orders', ...b]),
    ]);
    expectOneLineError(runs[0]!, /^godel: topic "nope" does not exist/);
    expectOneLineError(runs[1]!, /--partitions must be an integer >= 1, got "three"/);
    expectOneLineError(runs[2]!, /--config expects KEY=VALUE, got "retention.ms"/);
    expectOneLineError(runs[3]!, /INVALID_TOPIC_EXCEPTION|bad\/name/);
    expectOneLineError(runs[4]!, /nothing to change/);
  });

  it('has --help for the group and each subcommand', async () => {
    const [group, create] = await Promise.all([godel(['topics', '--help']), godel(['topics', 'create', '--help'])]);
    expectSuccess(group);
    for (const sub of ['create', 'list', 'get', 'delete', 'alter']) expect(group.stdout).toMatch(new RegExp(`^\\s+${sub} `, 'm'));
    expectSuccess(create);
    for (const option of ['-b, --bootstrap', '--json', '--partitions', '--replication-factor', '--config', '--verbose']) expect(create.stdout).toContain(option);
    expect(create.stdout).toContain('localhost:9092');
  });
});
