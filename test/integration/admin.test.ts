// Admin APIs against a real broker process, through the clients users touch: KafkaJS's admin and
// @platformatic/kafka's Admin. CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs,
// AlterConfigs, IncrementalAlterConfigs, DeleteRecords; DescribeCluster and OffsetForLeaderEpoch,
// which neither client sends, go over a raw connection with the project's codecs, as does a sweep
// of every advertised version of each admin API.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Admin as PlatformaticAdmin, ConfigResourceTypes as P, IncrementalAlterConfigOperationTypes as Op } from '@platformatic/kafka';
import { ConfigResourceTypes, Kafka, logLevel, type Admin as KafkaJSAdmin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../ts/protocol/error-codes.js';
import { ZERO_UUID } from '../../ts/protocol/reader.js';
import { BrokerProcess, kafkaRequest, startBroker, waitFor } from '../helpers/broker.js';

const NODE_ID = 1;
/** Tests that start or restart brokers, on a loaded machine. */
const RESTART_TEST_MS = 240_000;
const START_HOOK_MS = 120_000;

/** Kafka's DescribeConfigsResponse.ConfigSource. */
const ConfigSources = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

// ---- clients -----------------------------------------------------------------------------------

const closers: (() => Promise<unknown>)[] = [];

async function closeClients(): Promise<void> {
  // A close that throws, even synchronously, must not keep the broker from being stopped.
  for (const close of closers.splice(0).reverse()) await Promise.resolve().then(close).catch(() => undefined);
}

async function kafkajs(broker: BrokerProcess): Promise<{ admin: KafkaJSAdmin; producer: Producer; kafka: Kafka }> {
  const kafka = new Kafka({
    clientId: 'admin-test', brokers: [broker.address], logLevel: logLevel.NOTHING,
    retry: { retries: 0 }, connectionTimeout: 10_000, requestTimeout: 30_000,
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  await admin.connect();
  closers.push(() => admin.disconnect());
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  closers.push(() => producer.disconnect());
  return { admin, producer, kafka };
}

function platformatic(broker: BrokerProcess): PlatformaticAdmin {
  const admin = new PlatformaticAdmin({ clientId: 'admin-test-p', bootstrapBrokers: [broker.address], retries: 0, timeout: 30_000 });
  closers.push(() => admin.close());
  return admin;
}

interface ServerError {
  apiId: string;
  serverErrorMessage: string | null;
}

/** Every Kafka protocol error inside a @platformatic/kafka error (they nest). */
function serverErrors(err: unknown): ServerError[] {
  const found: ServerError[] = [];
  const visit = (e: unknown): void => {
    if (e === null || typeof e !== 'object') return;
    const o = e as { apiId?: unknown; serverErrorMessage?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof o.apiId === 'string') found.push({ apiId: o.apiId, serverErrorMessage: (o.serverErrorMessage as string | null) ?? null });
    for (const inner of o.errors ?? []) visit(inner);
    if (o.cause !== undefined) visit(o.cause);
  };
  visit(err);
  return found;
}

/** The single protocol error a @platformatic/kafka call failed with. */
async function rejection(promise: Promise<unknown>): Promise<ServerError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err, 'the call should have failed').not.toBeNull();
  const errors = serverErrors(err);
  expect(errors.length, `no protocol error in ${String(err)}`).toBeGreaterThan(0);
  return errors[0]!;
}

/** The Kafka error type(s) a KafkaJS call failed with. */
async function kafkajsRejection(promise: Promise<unknown>): Promise<string[]> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err, 'the call should have failed').not.toBeNull();
  // Retriable errors arrive wrapped in KafkaJSNumberOfRetriesExceeded (cause).
  let e = err as { type?: string; errors?: { type?: string }[]; cause?: unknown };
  while (e.type === undefined && e.errors === undefined && e.cause !== undefined) e = e.cause as typeof e;
  if (Array.isArray(e.errors)) return e.errors.map((x) => x.type ?? String(x));
  return [e.type ?? String(err)];
}

interface Described {
  value: string | null | undefined;
  configSource: number;
  readOnly: boolean;
}

async function topicConfigs(admin: PlatformaticAdmin, topic: string, keys?: string[]): Promise<Map<string, Described>> {
  const [result] = await admin.describeConfigs({ resources: [{ resourceType: P.TOPIC, resourceName: topic, configurationKeys: keys ?? null }] });
  return new Map(result!.configs.map((c) => [c.name, { value: c.value, configSource: c.configSource, readOnly: c.readOnly }]));
}

async function brokerConfigs(admin: PlatformaticAdmin, name = String(NODE_ID)): Promise<Map<string, Described>> {
  const [result] = await admin.describeConfigs({ resources: [{ resourceType: P.BROKER, resourceName: name }] });
  return new Map(result!.configs.map((c) => [c.name, { value: c.value, configSource: c.configSource, readOnly: c.readOnly }]));
}

async function produce(producer: Producer, topic: string, count: number, partition = 0, size = 10): Promise<void> {
  // One batch per send, so small segments roll between them.
  for (let i = 0; i < count; i++) {
    await producer.send({ topic, acks: -1, messages: [{ partition, key: `k${i}`, value: `${'v'.repeat(size)}${i}` }] });
  }
}

/** @platformatic/kafka prints topic ids as UUIDs; Kafka's wire form is base64url. */
function kafkaUuid(uuid: string): string {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex').toString('base64url');
}

async function offsets(admin: KafkaJSAdmin, topic: string, partition = 0): Promise<{ low: string; high: string }> {
  const all = await admin.fetchTopicOffsets(topic);
  const p = all.find((o) => o.partition === partition)!;
  return { low: p.low, high: p.high };
}

async function logFiles(broker: BrokerProcess, topic: string, partition = 0): Promise<string[]> {
  const entries = await fs.readdir(path.join(broker.dataDir, `${topic}-${partition}`));
  return entries.filter((f) => f.endsWith('.log')).sort();
}

// ---- one broker for most tests ----------------------------------------------------------------

describe('admin APIs', () => {
  let broker: BrokerProcess;
  let admin: KafkaJSAdmin;
  let producer: Producer;
  let padmin: PlatformaticAdmin;

  beforeAll(async () => {
    broker = await startBroker({
      set: {
        'num.partitions': '2',
        'auto.create.topics.enable': 'false',
        'log.retention.hours': '48',
        'log.retention.check.interval.ms': '200',
      },
    });
    ({ admin, producer } = await kafkajs(broker));
    padmin = platformatic(broker);
  }, START_HOOK_MS);

  afterAll(async () => {
    try {
      await closeClients();
    } finally {
      await broker?.stop();
    }
  }, START_HOOK_MS);

  describe('CreateTopics', () => {
    it('creates several topics in one request, with partitions, defaults and configs (KafkaJS)', async () => {
      const created = await admin.createTopics({
        topics: [
          { topic: 'orders', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact' }] },
          { topic: 'events' },
        ],
      });
      expect(created).toBe(true);
      expect(await admin.listTopics()).toEqual(expect.arrayContaining(['orders', 'events']));
      const metadata = await admin.fetchTopicMetadata({ topics: ['orders', 'events'] });
      const byName = new Map(metadata.topics.map((t) => [t.name, t.partitions]));
      expect(byName.get('orders')!.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
      // -1 partitions: the broker's num.partitions.
      expect(byName.get('events')).toHaveLength(2);
      for (const p of byName.get('orders')!) {
        expect(p.leader).toBe(NODE_ID);
        expect(p.replicas).toEqual([NODE_ID]);
        expect(p.isr).toEqual([NODE_ID]);
      }
      const described = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configNames: ['retention.ms', 'cleanup.policy', 'segment.bytes'] }],
        includeSynonyms: false,
      });
      const entries = new Map(described.resources[0]!.configEntries.map((e) => [e.configName, e]));
      expect(entries.get('retention.ms')).toMatchObject({ configValue: '3600000', isDefault: false, configSource: ConfigSources.DYNAMIC_TOPIC_CONFIG });
      expect(entries.get('cleanup.policy')).toMatchObject({ configValue: 'compact', configSource: ConfigSources.DYNAMIC_TOPIC_CONFIG });
      expect(entries.get('segment.bytes')).toMatchObject({ configValue: '1073741824', isDefault: true, configSource: ConfigSources.DEFAULT_CONFIG });
    });

    it('answers v7 with the topic id, partitions, replication factor and resulting configs (@platformatic/kafka)', async () => {
      const [created] = await padmin.createTopics({ topics: ['pl-created'], partitions: 4, configs: [{ name: 'segment.bytes', value: '1048576' }] });
      expect(created).toMatchObject({ name: 'pl-created', partitions: 4, replicas: 1 });
      expect(created!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(kafkaUuid(created!.id)).not.toBe(ZERO_UUID);
      expect(created!.configuration['segment.bytes']).toBe('1048576');
      // Inherited from the broker's log.retention.hours=48.
      expect(created!.configuration['retention.ms']).toBe(String(48 * 3_600_000));
      const metadata = await padmin.metadata({ topics: ['pl-created'] });
      expect(metadata.topics.get('pl-created')!.partitionsCount).toBe(4);
      expect(metadata.topics.get('pl-created')!.id).toBe(created!.id);
    });

    it('accepts a manual assignment that places every partition on this node, refuses any other', async () => {
      const [created] = await padmin.createTopics({
        topics: ['assigned'], assignments: [{ partition: 0, brokers: [NODE_ID] }, { partition: 1, brokers: [NODE_ID] }],
      });
      expect(created).toMatchObject({ name: 'assigned', partitions: 2, replicas: 1 });
      const refused = await rejection(padmin.createTopics({ topics: ['assigned-elsewhere'], assignments: [{ partition: 0, brokers: [2] }] }));
      expect(refused.apiId).toBe('INVALID_REQUEST');
      expect(refused.serverErrorMessage).toMatch(/node 1/);
      expect(await padmin.listTopics()).not.toContain('assigned-elsewhere');
    });

    it('validate_only checks everything and creates nothing', async () => {
      expect(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'dry-run', numPartitions: 5 }] })).toBe(true);
      expect(await admin.listTopics()).not.toContain('dry-run');
      expect(await kafkajsRejection(admin.createTopics({
        validateOnly: true, waitForLeaders: false,
        topics: [{ topic: 'dry-run', configEntries: [{ name: 'retention.ms', value: 'soon' }] }],
      }))).toEqual(['INVALID_CONFIG']);
      // v5+ tells what would have been created.
      const answer = await kafkaRequest(broker.address, 19, 5, {
        topics: [{ name: 'dry-run', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] }],
        timeoutMs: 30_000, validateOnly: true,
      });
      expect(answer.topics[0]).toMatchObject({ name: 'dry-run', errorCode: 0, numPartitions: 2, replicationFactor: 1 });
      expect(answer.topics[0]!.configs!.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '1000', configSource: ConfigSources.DYNAMIC_TOPIC_CONFIG });
      expect(await admin.listTopics()).not.toContain('dry-run');
    });

    it('refuses existing topics, bad names, partitions, replication factors and configs, each with its message', async () => {
      await admin.createTopics({ topics: [{ topic: 'taken', numPartitions: 1 }] });
      // KafkaJS reports an existing topic as "not created".
      expect(await admin.createTopics({ topics: [{ topic: 'taken', numPartitions: 1 }] })).toBe(false);
      const exists = await rejection(padmin.createTopics({ topics: ['taken'] }));
      expect(exists).toMatchObject({ apiId: 'TOPIC_ALREADY_EXISTS', serverErrorMessage: "Topic 'taken' already exists." });

      expect(await kafkajsRejection(admin.createTopics({ topics: [{ topic: 'bad name!' }] }))).toEqual(['INVALID_TOPIC_EXCEPTION']);
      const badName = await rejection(padmin.createTopics({ topics: ['a'.repeat(250)] }));
      expect(badName.apiId).toBe('INVALID_TOPIC_EXCEPTION');
      expect(badName.serverErrorMessage).toMatch(/longer than 249/);
      expect((await rejection(padmin.createTopics({ topics: ['..'] }))).apiId).toBe('INVALID_TOPIC_EXCEPTION');

      const partitions = await rejection(padmin.createTopics({ topics: ['no-partitions'], partitions: 0 }));
      expect(partitions.apiId).toBe('INVALID_PARTITIONS');
      expect(partitions.serverErrorMessage).toMatch(/partitions/i);

      const replicas = await rejection(padmin.createTopics({ topics: ['three-replicas'], replicas: 3 }));
      expect(replicas.apiId).toBe('INVALID_REPLICATION_FACTOR');
      expect(replicas.serverErrorMessage).toMatch(/larger than available brokers: 1/);

      const badValue = await rejection(padmin.createTopics({ topics: ['bad-config'], configs: [{ name: 'retention.ms', value: 'forever' }] }));
      expect(badValue.apiId).toBe('INVALID_CONFIG');
      expect(badValue.serverErrorMessage).toMatch(/retention\.ms/);
      const unknownKey = await rejection(padmin.createTopics({ topics: ['bad-config'], configs: [{ name: 'retention.sometimes', value: '1' }] }));
      expect(unknownKey).toMatchObject({ apiId: 'INVALID_CONFIG' });
      expect(unknownKey.serverErrorMessage).toMatch(/retention\.sometimes/);
      expect(await kafkajsRejection(admin.createTopics({ topics: [{ topic: 'bad-config', configEntries: [{ name: 'cleanup.policy', value: 'shred' }] }] })))
        .toEqual(['INVALID_CONFIG']);

      const topics = await admin.listTopics();
      for (const name of ['no-partitions', 'three-replicas', 'bad-config']) expect(topics).not.toContain(name);
    });

    it('answers each topic on its own, and a name given twice with INVALID_REQUEST', async () => {
      const topic = (name: string, numPartitions = 1) => ({ name, numPartitions, replicationFactor: -1, assignments: [], configs: [] });
      const answer = await kafkaRequest(broker.address, 19, 4, {
        topics: [topic('mixed-ok'), topic('twice'), topic('mixed-bad', 0), topic('twice')], timeoutMs: 30_000, validateOnly: false,
      });
      const byName = new Map(answer.topics.map((t) => [t.name, t]));
      expect(answer.topics).toHaveLength(3);
      expect(byName.get('mixed-ok')).toMatchObject({ errorCode: 0, errorMessage: null });
      expect(byName.get('mixed-bad')!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
      expect(byName.get('twice')!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
      const topics = await admin.listTopics();
      expect(topics).toContain('mixed-ok');
      expect(topics).not.toContain('twice');
    });
  });

  describe('DeleteTopics', () => {
    it('removes a topic from metadata at once; its files go in the background and the name is reusable', async () => {
      await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 2 }] });
      await produce(producer, 'doomed', 5);
      expect((await offsets(admin, 'doomed')).high).toBe('5');
      await admin.deleteTopics({ topics: ['doomed'] });
      expect(await admin.listTopics()).not.toContain('doomed');
      expect(await kafkajsRejection(admin.fetchTopicMetadata({ topics: ['doomed'] }))).toEqual(['UNKNOWN_TOPIC_OR_PARTITION']);
      await waitFor(async () => {
        const left = (await fs.readdir(broker.dataDir)).filter((d) => d.startsWith('doomed-'));
        return left.length === 0;
      }, 'the deleted topic\'s directories to go', 60_000);

      // Same name again: a new, empty topic with a new id.
      const [again] = await padmin.createTopics({ topics: ['doomed'], partitions: 1 });
      expect(again!.partitions).toBe(1);
      expect(await offsets(admin, 'doomed')).toEqual({ low: '0', high: '0' });
      await produce(producer, 'doomed', 1);
      expect((await offsets(admin, 'doomed')).high).toBe('1');
    }, 120_000);

    it('deletes by topic id (v6) and reports unknown names and ids', async () => {
      const [created] = await padmin.createTopics({ topics: ['by-id'] });
      const topicId = kafkaUuid(created!.id);
      const answer = await kafkaRequest(broker.address, 20, 6, {
        topics: [{ name: null, topicId }, { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }, { name: 'never-was', topicId: ZERO_UUID }],
        topicNames: [], timeoutMs: 30_000,
      });
      expect(answer.responses[0]).toMatchObject({ name: 'by-id', topicId, errorCode: 0 });
      expect(answer.responses[1]).toMatchObject({ name: null, errorCode: ErrorCode.UNKNOWN_TOPIC_ID });
      expect(answer.responses[2]).toMatchObject({ name: 'never-was', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
      expect(await padmin.listTopics()).not.toContain('by-id');

      const unknown = await rejection(padmin.deleteTopics({ topics: ['never-was'] }));
      expect(unknown.apiId).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      expect(await kafkajsRejection(admin.deleteTopics({ topics: ['never-was'] }))).toEqual(['UNKNOWN_TOPIC_OR_PARTITION']);
    });
  });

  describe('CreatePartitions', () => {
    it('raises the partition count; new partitions take records at once', async () => {
      await admin.createTopics({ topics: [{ topic: 'growing', numPartitions: 2 }] });
      await admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: 5 }] });
      const metadata = await admin.fetchTopicMetadata({ topics: ['growing'] });
      expect(metadata.topics[0]!.partitions).toHaveLength(5);
      await producer.send({ topic: 'growing', messages: [{ partition: 4, value: 'on the new partition' }] });
      expect((await offsets(admin, 'growing', 4)).high).toBe('1');
    });

    it('never lowers it, and validate_only changes nothing', async () => {
      await admin.createTopics({ topics: [{ topic: 'steady', numPartitions: 3 }] });
      expect(await kafkajsRejection(admin.createPartitions({ topicPartitions: [{ topic: 'steady', count: 2 }] }))).toEqual(['INVALID_PARTITIONS']);
      const lower = await rejection(padmin.createPartitions({ topics: [{ name: 'steady', count: 1 }] }));
      expect(lower).toMatchObject({ apiId: 'INVALID_PARTITIONS', serverErrorMessage: 'Topic currently has 3 partitions, which is higher than the requested 1.' });
      const same = await rejection(padmin.createPartitions({ topics: [{ name: 'steady', count: 3 }] }));
      expect(same).toMatchObject({ apiId: 'INVALID_PARTITIONS', serverErrorMessage: 'Topic already has 3 partitions.' });
      await padmin.createPartitions({ topics: [{ name: 'steady', count: 6 }], validateOnly: true });
      expect((await admin.fetchTopicMetadata({ topics: ['steady'] })).topics[0]!.partitions).toHaveLength(3);
      const unknown = await rejection(padmin.createPartitions({ topics: [{ name: 'nowhere', count: 6 }] }));
      expect(unknown.apiId).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      const elsewhere = await rejection(padmin.createPartitions({ topics: [{ name: 'steady', count: 4, assignments: [{ brokerIds: [3] }] }] }));
      expect(elsewhere.apiId).toBe('INVALID_REPLICA_ASSIGNMENT');
      await padmin.createPartitions({ topics: [{ name: 'steady', count: 4, assignments: [{ brokerIds: [NODE_ID] }] }] });
      expect((await admin.fetchTopicMetadata({ topics: ['steady'] })).topics[0]!.partitions).toHaveLength(4);
    });
  });

  describe('DescribeConfigs', () => {
    it('lists every topic key with its value, source, read-only flag, type, synonyms and documentation', async () => {
      await padmin.createTopics({ topics: ['described'], configs: [{ name: 'max.message.bytes', value: '65536' }] });
      const [result] = await padmin.describeConfigs({
        resources: [{ resourceType: P.TOPIC, resourceName: 'described' }], includeSynonyms: true, includeDocumentation: true,
      });
      const configs = new Map(result!.configs.map((c) => [c.name, c]));
      for (const key of ['cleanup.policy', 'retention.ms', 'retention.bytes', 'segment.bytes', 'segment.ms', 'max.message.bytes', 'min.insync.replicas', 'message.timestamp.type']) {
        expect(configs.has(key), key).toBe(true);
      }
      // A topic override.
      expect(configs.get('max.message.bytes')).toMatchObject({ value: '65536', configSource: ConfigSources.DYNAMIC_TOPIC_CONFIG, readOnly: false, isSensitive: false, configType: 3 });
      expect(configs.get('max.message.bytes')!.synonyms.map((s) => [s.name, s.source])).toEqual([
        ['max.message.bytes', ConfigSources.DYNAMIC_TOPIC_CONFIG], ['message.max.bytes', ConfigSources.DEFAULT_CONFIG],
      ]);
      // From the broker's static config (log.retention.hours=48).
      expect(configs.get('retention.ms')).toMatchObject({ value: '172800000', configSource: ConfigSources.STATIC_BROKER_CONFIG, configType: 5 });
      expect(configs.get('retention.ms')!.synonyms[0]).toMatchObject({ name: 'log.retention.hours', value: '48', source: ConfigSources.STATIC_BROKER_CONFIG });
      // Kafka's defaults, as Kafka prints them.
      expect(configs.get('retention.bytes')).toMatchObject({ value: '-1', configSource: ConfigSources.DEFAULT_CONFIG });
      expect(configs.get('cleanup.policy')).toMatchObject({ value: 'delete', configSource: ConfigSources.DEFAULT_CONFIG, configType: 7 });
      expect(configs.get('segment.bytes')!.documentation).toBeTruthy();

      // Filtered by key; without synonyms or documentation when not asked.
      const [filtered] = await padmin.describeConfigs({ resources: [{ resourceType: P.TOPIC, resourceName: 'described', configurationKeys: ['segment.bytes', 'no.such.key'] }] });
      expect(filtered!.configs.map((c) => c.name)).toEqual(['segment.bytes']);
      expect(filtered!.configs[0]!.synonyms).toEqual([]);
      expect(filtered!.configs[0]!.documentation).toBeNull();
    });

    it('describes the broker: static keys read-only, log defaults changeable; names only this node', async () => {
      const configs = await brokerConfigs(padmin);
      expect(configs.get('num.partitions')).toMatchObject({ value: '2', configSource: ConfigSources.STATIC_BROKER_CONFIG, readOnly: true });
      expect(configs.get('node.id')).toMatchObject({ value: String(NODE_ID), readOnly: true });
      expect(configs.get('listeners')).toMatchObject({ readOnly: true, configSource: ConfigSources.STATIC_BROKER_CONFIG });
      expect(configs.get('log.retention.hours')).toMatchObject({ value: '48', configSource: ConfigSources.STATIC_BROKER_CONFIG, readOnly: false });
      expect(configs.get('log.segment.bytes')).toMatchObject({ value: '1073741824', configSource: ConfigSources.DEFAULT_CONFIG, readOnly: false });
      expect(configs.get('delete.topic.enable')).toMatchObject({ value: 'true', configSource: ConfigSources.DEFAULT_CONFIG, readOnly: true });

      const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: String(NODE_ID), configNames: ['num.partitions'] }], includeSynonyms: false });
      expect(described.resources[0]!.configEntries).toEqual([expect.objectContaining({ configName: 'num.partitions', configValue: '2', readOnly: true })]);

      // Both clients route a broker resource to the broker it names; sent here anyway, it is refused.
      const otherNode = await kafkaRequest(broker.address, 32, 4, {
        resources: [{ resourceType: P.BROKER, resourceName: '7', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false,
      });
      expect(otherNode.results[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, configs: [] });
      const unknownTopic = await rejection(padmin.describeConfigs({ resources: [{ resourceType: P.TOPIC, resourceName: 'not-here' }] }));
      expect(unknownTopic.apiId).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      expect(await kafkajsRejection(admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'not-here' }], includeSynonyms: false })))
        .toEqual(['UNKNOWN_TOPIC_OR_PARTITION']);
    });

    it('answers v0 with is_default instead of a source', async () => {
      await padmin.createTopics({ topics: ['described-v0'], configs: [{ name: 'segment.ms', value: '60000' }] });
      const answer = await kafkaRequest(broker.address, 32, 0, {
        resources: [{ resourceType: P.TOPIC, resourceName: 'described-v0', configurationKeys: ['segment.ms', 'segment.bytes'] }],
        includeSynonyms: false, includeDocumentation: false,
      });
      const configs = new Map(answer.results[0]!.configs.map((c) => [c.name, c]));
      expect(configs.get('segment.ms')).toMatchObject({ value: '60000', isDefault: false });
      expect(configs.get('segment.bytes')).toMatchObject({ value: '1073741824', isDefault: true });
    });
  });

  describe('AlterConfigs and IncrementalAlterConfigs on topics', () => {
    it('AlterConfigs replaces the whole set of overrides (KafkaJS)', async () => {
      await admin.createTopics({ topics: [{ topic: 'replaced', configEntries: [{ name: 'segment.bytes', value: '1048576' }] }] });
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'replaced', configEntries: [{ name: 'retention.ms', value: '600000' }] }],
      });
      const configs = await topicConfigs(padmin, 'replaced');
      expect(configs.get('retention.ms')).toMatchObject({ value: '600000', configSource: ConfigSources.DYNAMIC_TOPIC_CONFIG });
      // Left out of the new set: back to its default.
      expect(configs.get('segment.bytes')).toMatchObject({ value: '1073741824', configSource: ConfigSources.DEFAULT_CONFIG });
    });

    it('refuses a bad value with its message and applies nothing of that resource; validate_only applies nothing', async () => {
      await admin.createTopics({ topics: [{ topic: 'guarded', configEntries: [{ name: 'retention.ms', value: '120000' }] }] });
      expect(await kafkajsRejection(admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'guarded', configEntries: [{ name: 'segment.bytes', value: '2097152' }, { name: 'retention.ms', value: 'x' }] }],
      }))).toEqual(['INVALID_CONFIG']);
      const refused = await rejection(padmin.incrementalAlterConfigs({
        resources: [{ resourceType: P.TOPIC, resourceName: 'guarded', configs: [
          { name: 'segment.bytes', configOperation: Op.SET, value: '2097152' },
          { name: 'min.cleanable.dirty.ratio', configOperation: Op.SET, value: '1.5' },
        ] }],
      }));
      expect(refused.apiId).toBe('INVALID_CONFIG');
      expect(refused.serverErrorMessage).toMatch(/min\.cleanable\.dirty\.ratio.*between 0 and 1/);
      const unknownKey = await rejection(padmin.alterConfigs({ resources: [{ resourceType: P.TOPIC, resourceName: 'guarded', configs: [{ name: 'retention.hours', value: '1' }] }] }));
      expect(unknownKey).toMatchObject({ apiId: 'INVALID_CONFIG' });
      expect(unknownKey.serverErrorMessage).toMatch(/retention\.hours/);

      await admin.alterConfigs({
        validateOnly: true,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'guarded', configEntries: [{ name: 'segment.bytes', value: '2097152' }] }],
      });
      await padmin.incrementalAlterConfigs({
        validateOnly: true,
        resources: [{ resourceType: P.TOPIC, resourceName: 'guarded', configs: [{ name: 'retention.ms', configOperation: Op.DELETE }] }],
      });
      const configs = await topicConfigs(padmin, 'guarded', ['segment.bytes', 'retention.ms']);
      expect(configs.get('segment.bytes')!.value).toBe('1073741824');
      expect(configs.get('retention.ms')).toMatchObject({ value: '120000', configSource: ConfigSources.DYNAMIC_TOPIC_CONFIG });

      const unknownTopic = await rejection(padmin.incrementalAlterConfigs({
        resources: [{ resourceType: P.TOPIC, resourceName: 'not-here', configs: [{ name: 'retention.ms', configOperation: Op.SET, value: '1' }] }],
      }));
      expect(unknownTopic.apiId).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    });

    it('IncrementalAlterConfigs sets, deletes, appends to and subtracts from lists (@platformatic/kafka)', async () => {
      await padmin.createTopics({ topics: ['incremental'], configs: [{ name: 'segment.bytes', value: '1048576' }] });
      const alter = (configs: Parameters<PlatformaticAdmin['incrementalAlterConfigs']>[0]['resources'][0]['configs']) =>
        padmin.incrementalAlterConfigs({ resources: [{ resourceType: P.TOPIC, resourceName: 'incremental', configs }] });
      await alter([{ name: 'retention.ms', configOperation: Op.SET, value: '900000' }, { name: 'segment.bytes', configOperation: Op.DELETE }]);
      let configs = await topicConfigs(padmin, 'incremental');
      expect(configs.get('retention.ms')).toMatchObject({ value: '900000', configSource: ConfigSources.DYNAMIC_TOPIC_CONFIG });
      expect(configs.get('segment.bytes')).toMatchObject({ value: '1073741824', configSource: ConfigSources.DEFAULT_CONFIG });

      await alter([{ name: 'cleanup.policy', configOperation: Op.APPEND, value: 'compact' }]);
      expect((await topicConfigs(padmin, 'incremental')).get('cleanup.policy')!.value).toBe('delete,compact');
      await alter([{ name: 'cleanup.policy', configOperation: Op.SUBTRACT, value: 'delete' }]);
      configs = await topicConfigs(padmin, 'incremental');
      expect(configs.get('cleanup.policy')).toMatchObject({ value: 'compact', configSource: ConfigSources.DYNAMIC_TOPIC_CONFIG });
      // The earlier SET is still there: incremental changes only what it names.
      expect(configs.get('retention.ms')!.value).toBe('900000');

      const notList = await rejection(alter([{ name: 'retention.ms', configOperation: Op.APPEND, value: '1' }]));
      expect(notList).toMatchObject({ apiId: 'INVALID_CONFIG', serverErrorMessage: "Can't APPEND to key retention.ms because its type is not LIST." });
    });

    it('changes take effect at runtime: segment.bytes rolls segments, retention.ms deletes old ones', async () => {
      await admin.createTopics({ topics: [{ topic: 'live', numPartitions: 1 }] });
      await produce(producer, 'live', 3);
      expect(await logFiles(broker, 'live')).toHaveLength(1);
      await padmin.incrementalAlterConfigs({
        resources: [{ resourceType: P.TOPIC, resourceName: 'live', configs: [{ name: 'segment.bytes', configOperation: Op.SET, value: '100' }] }],
      });
      expect((await topicConfigs(padmin, 'live', ['segment.bytes'])).get('segment.bytes')!.value).toBe('100');
      await produce(producer, 'live', 4, 0, 200);
      expect((await logFiles(broker, 'live')).length).toBeGreaterThanOrEqual(4);
      expect((await offsets(admin, 'live')).low).toBe('0');

      await padmin.incrementalAlterConfigs({
        resources: [{ resourceType: P.TOPIC, resourceName: 'live', configs: [{ name: 'retention.ms', configOperation: Op.SET, value: '1' }] }],
      });
      // The retention pass (every 200 ms here) deletes every closed segment; the active one stays.
      await waitFor(async () => (await offsets(admin, 'live')).low === '6', 'retention to move the log start to the active segment', 60_000);
      expect((await offsets(admin, 'live')).high).toBe('7');
    }, 120_000);
  });

  describe('DeleteRecords', () => {
    it('moves the low watermark; -1 means the high watermark; beyond it is OFFSET_OUT_OF_RANGE', async () => {
      await admin.createTopics({ topics: [{ topic: 'trimmed', numPartitions: 2 }] });
      await produce(producer, 'trimmed', 10, 0);
      await produce(producer, 'trimmed', 3, 1);
      // KafkaJS finds partition leaders in its cached metadata only: load the topic into it first.
      await admin.fetchTopicMetadata({ topics: ['trimmed'] });
      await admin.deleteTopicRecords({ topic: 'trimmed', partitions: [{ partition: 0, offset: '4' }] });
      expect(await offsets(admin, 'trimmed', 0)).toEqual({ low: '4', high: '10' });

      const [deleted] = await padmin.deleteRecords({ topics: [{ name: 'trimmed', partitions: [{ partition: 1, offset: -1n }] }] });
      expect(deleted!.partitions).toEqual([{ partition: 1, lowWatermark: 3n }]);
      const [listed] = await padmin.listOffsets({ topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 1, timestamp: -2n }] }] });
      expect(listed!.partitions[0]!.offset).toBe(3n);

      // Below the current start: nothing changes.
      const [again] = await padmin.deleteRecords({ topics: [{ name: 'trimmed', partitions: [{ partition: 0, offset: 2n }] }] });
      expect(again!.partitions[0]!.lowWatermark).toBe(4n);

      const beyond = await rejection(padmin.deleteRecords({ topics: [{ name: 'trimmed', partitions: [{ partition: 0, offset: 11n }] }] }));
      expect(beyond.apiId).toBe('OFFSET_OUT_OF_RANGE');
      expect((await offsets(admin, 'trimmed', 0)).low).toBe('4');
      // @platformatic/kafka checks partitions itself; the broker's answer, raw.
      const unknown = await kafkaRequest(broker.address, 21, 2, {
        topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 9, offset: 1n }] }, { name: 'nowhere', partitions: [{ partitionIndex: 0, offset: 1n }] }],
        timeoutMs: 30_000,
      });
      expect(unknown.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    });

    it('removes the segments below the new start and refuses compacted topics', async () => {
      await padmin.createTopics({ topics: ['trimmed-segments'], partitions: 1, configs: [{ name: 'segment.bytes', value: '100' }, { name: 'file.delete.delay.ms', value: '0' }] });
      await produce(producer, 'trimmed-segments', 5, 0, 200);
      expect((await logFiles(broker, 'trimmed-segments')).length).toBeGreaterThanOrEqual(5);
      await padmin.deleteRecords({ topics: [{ name: 'trimmed-segments', partitions: [{ partition: 0, offset: -1n }] }] });
      expect(await offsets(admin, 'trimmed-segments')).toEqual({ low: '5', high: '5' });
      await waitFor(async () => (await logFiles(broker, 'trimmed-segments')).length === 1, 'the segments below the log start to go', 60_000);

      await padmin.createTopics({ topics: ['compacted'], partitions: 1, configs: [{ name: 'cleanup.policy', value: 'compact' }] });
      await produce(producer, 'compacted', 2);
      const refused = await rejection(padmin.deleteRecords({ topics: [{ name: 'compacted', partitions: [{ partition: 0, offset: 1n }] }] }));
      expect(refused.apiId).toBe('POLICY_VIOLATION');
    }, 120_000);
  });

  describe('DescribeCluster and OffsetForLeaderEpoch', () => {
    it('DescribeCluster names this node, the cluster id and the controller, as Metadata does', async () => {
      const cluster = await admin.describeCluster();
      for (const version of [0, 1]) {
        const answer = await kafkaRequest(broker.address, 60, version, { includeClusterAuthorizedOperations: false, endpointType: 1 });
        expect(answer).toMatchObject({
          errorCode: 0, errorMessage: null, endpointType: 1, clusterId: cluster.clusterId, controllerId: cluster.controller,
          brokers: [{ brokerId: NODE_ID, host: '127.0.0.1', port: broker.port, rack: null }],
        });
      }
      expect(cluster.brokers).toEqual([{ nodeId: NODE_ID, host: '127.0.0.1', port: broker.port }]);
      const controllers = await kafkaRequest(broker.address, 60, 1, { includeClusterAuthorizedOperations: false, endpointType: 2 });
      expect(controllers.errorCode).toBe(ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
    });

    it('OffsetForLeaderEpoch answers epoch 0 ending at the log end offset, over every version', async () => {
      await admin.createTopics({ topics: [{ topic: 'epochs', numPartitions: 1 }] });
      await produce(producer, 'epochs', 5);
      for (let version = 0; version <= 4; version++) {
        const answer = await kafkaRequest(broker.address, 23, version, {
          replicaId: -1,
          topics: [{ topic: 'epochs', partitions: [
            { partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 },
            { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0 },
          ] }],
        });
        const [known, unknown] = answer.topics[0]!.partitions;
        expect(known).toMatchObject({ errorCode: 0, partition: 0, endOffset: 5n, leaderEpoch: version >= 1 ? 0 : -1 });
        expect(unknown!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      }
      const fenced = await kafkaRequest(broker.address, 23, 4, {
        replicaId: -1, topics: [{ topic: 'epochs', partitions: [{ partition: 0, currentLeaderEpoch: 3, leaderEpoch: 3 }] }],
      });
      expect(fenced.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    });
  });

  it('answers every advertised version of each admin API', async () => {
    for (let v = 0; v <= 7; v++) {
      const answer = await kafkaRequest(broker.address, 19, v, {
        topics: [{ name: `sweep-${v}`, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '100000' }] }],
        timeoutMs: 30_000, validateOnly: false,
      });
      expect(answer.topics[0], `CreateTopics v${v}`).toMatchObject({ name: `sweep-${v}`, errorCode: 0 });
      if (v >= 5) expect(answer.topics[0]!.numPartitions).toBe(1);
      if (v >= 7) expect(answer.topics[0]!.topicId).not.toBe(ZERO_UUID);
    }
    for (let v = 0; v <= 3; v++) {
      const answer = await kafkaRequest(broker.address, 37, v, { topics: [{ name: `sweep-${v}`, count: 2, assignments: null }], timeoutMs: 30_000, validateOnly: false });
      expect(answer.results[0], `CreatePartitions v${v}`).toMatchObject({ errorCode: 0 });
    }
    for (let v = 0; v <= 4; v++) {
      const answer = await kafkaRequest(broker.address, 32, v, {
        resources: [{ resourceType: P.TOPIC, resourceName: 'sweep-0', configurationKeys: null }, { resourceType: P.BROKER, resourceName: '', configurationKeys: null }],
        includeSynonyms: v >= 1, includeDocumentation: v >= 3,
      });
      expect(answer.results.map((r) => r.errorCode), `DescribeConfigs v${v}`).toEqual([0, 0]);
      expect(answer.results[0]!.configs.find((c) => c.name === 'retention.ms')!.value).toBe('100000');
    }
    for (let v = 0; v <= 2; v++) {
      const answer = await kafkaRequest(broker.address, 33, v, {
        resources: [{ resourceType: P.TOPIC, resourceName: 'sweep-1', configs: [{ name: 'retention.ms', value: String(1000 + v) }] }], validateOnly: false,
      });
      expect(answer.responses[0], `AlterConfigs v${v}`).toMatchObject({ errorCode: 0, errorMessage: null, resourceName: 'sweep-1' });
    }
    for (let v = 0; v <= 1; v++) {
      const answer = await kafkaRequest(broker.address, 44, v, {
        resources: [{ resourceType: P.TOPIC, resourceName: 'sweep-2', configs: [{ name: 'retention.ms', configOperation: Op.SET, value: '5000' }] }], validateOnly: false,
      });
      expect(answer.responses[0], `IncrementalAlterConfigs v${v}`).toMatchObject({ errorCode: 0 });
    }
    await produce(producer, 'sweep-3', 3);
    for (let v = 0; v <= 2; v++) {
      const answer = await kafkaRequest(broker.address, 21, v, { topics: [{ name: 'sweep-3', partitions: [{ partitionIndex: 0, offset: BigInt(v + 1) }] }], timeoutMs: 30_000 });
      expect(answer.topics[0]!.partitions[0], `DeleteRecords v${v}`).toMatchObject({ errorCode: 0, lowWatermark: BigInt(v + 1) });
    }
    for (let v = 0; v <= 6; v++) {
      const answer = await kafkaRequest(broker.address, 20, v, {
        topics: v >= 6 ? [{ name: `sweep-${v}`, topicId: ZERO_UUID }] : [], topicNames: v >= 6 ? [] : [`sweep-${v}`], timeoutMs: 30_000,
      });
      expect(answer.responses[0], `DeleteTopics v${v}`).toMatchObject({ name: `sweep-${v}`, errorCode: 0 });
    }
    const left = await admin.listTopics();
    expect(left.filter((t) => t.startsWith('sweep-'))).toEqual(['sweep-7']);
  });
});

// ---- brokers of their own: configs, restarts, deletion disabled --------------------------------

describe('admin changes survive a restart', () => {
  let broker: BrokerProcess | undefined;

  afterAll(async () => {
    try {
      await closeClients();
    } finally {
      await broker?.stop();
    }
  }, START_HOOK_MS);

  it('broker and topic configs, applied at runtime and persisted; read-only keys refused', async () => {
    broker = await startBroker({ set: { 'auto.create.topics.enable': 'false' } });
    let padmin = platformatic(broker);
    let { admin } = await kafkajs(broker);
    await padmin.createTopics({ topics: ['kept'], configs: [{ name: 'segment.bytes', value: '1048576' }] });

    // Broker-level log default, per node: every topic without an override follows it at once.
    await padmin.incrementalAlterConfigs({
      resources: [{ resourceType: P.BROKER, resourceName: String(NODE_ID), configs: [{ name: 'log.retention.ms', configOperation: Op.SET, value: '7200000' }] }],
    });
    let brokerView = await brokerConfigs(padmin);
    expect(brokerView.get('log.retention.ms')).toMatchObject({ value: '7200000', configSource: ConfigSources.DYNAMIC_BROKER_CONFIG, readOnly: false });
    expect((await topicConfigs(padmin, 'kept')).get('retention.ms')).toMatchObject({ value: '7200000', configSource: ConfigSources.DYNAMIC_BROKER_CONFIG });

    // Through KafkaJS's AlterConfigs too: it replaces the whole dynamic set.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: String(NODE_ID), configEntries: [
        { name: 'log.retention.ms', value: '7200000' }, { name: 'log.cleanup.policy', value: 'delete' },
      ] }],
    });
    // The cluster default (""): neither client can name it (both route by broker id), so raw.
    const clusterDefault = await kafkaRequest(broker.address, 32, 4, {
      resources: [{ resourceType: P.BROKER, resourceName: '', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false,
    });
    expect(clusterDefault.results[0]!.configs.map((c) => [c.name, c.value, c.configSource])).toEqual([
      ['log.cleanup.policy', 'delete', ConfigSources.DYNAMIC_DEFAULT_BROKER_CONFIG],
      ['log.retention.ms', '7200000', ConfigSources.DYNAMIC_DEFAULT_BROKER_CONFIG],
    ]);

    // Read-only and bad values: refused with the reason, nothing applied.
    const readOnly = await rejection(padmin.incrementalAlterConfigs({
      resources: [{ resourceType: P.BROKER, resourceName: String(NODE_ID), configs: [{ name: 'listeners', configOperation: Op.SET, value: 'PLAINTEXT://:1' }] }],
    }));
    expect(readOnly.apiId).toBe('INVALID_REQUEST');
    expect(readOnly.serverErrorMessage).toMatch(/listeners.*read-only/);
    expect(await kafkajsRejection(admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: String(NODE_ID), configEntries: [{ name: 'log.dirs', value: '/elsewhere' }] }],
    }))).toEqual(['INVALID_REQUEST']);
    const badValue = await rejection(padmin.incrementalAlterConfigs({
      resources: [{ resourceType: P.BROKER, resourceName: String(NODE_ID), configs: [
        { name: 'log.retention.ms', configOperation: Op.SET, value: '1' },
        { name: 'log.segment.bytes', configOperation: Op.SET, value: 'big' },
      ] }],
    }));
    expect(badValue.apiId).toBe('INVALID_CONFIG');
    expect(badValue.serverErrorMessage).toMatch(/log\.segment\.bytes/);
    // Clients route a broker resource to the broker it names; sent here anyway, it is refused.
    const otherNode = await kafkaRequest(broker.address, 44, 1, {
      resources: [{ resourceType: P.BROKER, resourceName: '5', configs: [{ name: 'log.retention.ms', configOperation: Op.SET, value: '1' }] }], validateOnly: false,
    });
    expect(otherNode.responses[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    brokerView = await brokerConfigs(padmin);
    expect(brokerView.get('log.retention.ms')!.value).toBe('7200000');
    expect(brokerView.get('log.segment.bytes')!.value).toBe('1073741824');

    // A topic override beats the broker default.
    await padmin.incrementalAlterConfigs({
      resources: [{ resourceType: P.TOPIC, resourceName: 'kept', configs: [{ name: 'retention.ms', configOperation: Op.SET, value: '300000' }] }],
    });

    await closeClients();
    broker = await broker.restart();
    padmin = platformatic(broker);
    ({ admin } = await kafkajs(broker));

    brokerView = await brokerConfigs(padmin);
    expect(brokerView.get('log.retention.ms')).toMatchObject({ value: '7200000', configSource: ConfigSources.DYNAMIC_BROKER_CONFIG });
    expect(brokerView.get('log.cleanup.policy')).toMatchObject({ value: 'delete', configSource: ConfigSources.DYNAMIC_BROKER_CONFIG });
    const topicView = await topicConfigs(padmin, 'kept');
    expect(topicView.get('retention.ms')).toMatchObject({ value: '300000', configSource: ConfigSources.DYNAMIC_TOPIC_CONFIG });
    expect(topicView.get('segment.bytes')).toMatchObject({ value: '1048576', configSource: ConfigSources.DYNAMIC_TOPIC_CONFIG });

    // Deleting the dynamic value returns to the static/default one.
    await padmin.incrementalAlterConfigs({
      resources: [{ resourceType: P.BROKER, resourceName: String(NODE_ID), configs: [{ name: 'log.retention.ms', configOperation: Op.DELETE }] }],
    });
    expect((await brokerConfigs(padmin)).get('log.retention.ms')).toMatchObject({ value: '604800000', configSource: ConfigSources.DEFAULT_CONFIG });
  }, RESTART_TEST_MS);

  it('deleted records stay deleted after a restart', async () => {
    await closeClients();
    await broker?.stop();
    broker = await startBroker({ set: { 'auto.create.topics.enable': 'false' } });
    let { admin, producer } = await kafkajs(broker);
    await admin.createTopics({ topics: [{ topic: 'trim-restart', numPartitions: 1 }] });
    await produce(producer, 'trim-restart', 8);
    await admin.fetchTopicMetadata({ topics: ['trim-restart'] });
    await admin.deleteTopicRecords({ topic: 'trim-restart', partitions: [{ partition: 0, offset: '6' }] });
    expect(await offsets(admin, 'trim-restart')).toEqual({ low: '6', high: '8' });

    await closeClients();
    broker = await broker.restart();
    ({ admin, producer } = await kafkajs(broker));
    expect(await offsets(admin, 'trim-restart')).toEqual({ low: '6', high: '8' });
    await produce(producer, 'trim-restart', 1);
    expect(await offsets(admin, 'trim-restart')).toEqual({ low: '6', high: '9' });
  }, RESTART_TEST_MS);

  it('delete.topic.enable=false refuses deletions', async () => {
    await closeClients();
    await broker?.stop();
    broker = await startBroker({ set: { 'delete.topic.enable': 'false', 'auto.create.topics.enable': 'false' } });
    const padmin = platformatic(broker);
    await padmin.createTopics({ topics: ['permanent'] });
    const refused = await rejection(padmin.deleteTopics({ topics: ['permanent'] }));
    expect(refused.apiId).toBe('TOPIC_DELETION_DISABLED');
    expect(await padmin.listTopics()).toContain('permanent');
  }, RESTART_TEST_MS);
});
