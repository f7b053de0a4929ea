// Capture driver for @platformatic/kafka (the version in package-lock.json, 1.35.0): admin, an
// idempotent producer with and without gzip, and a consumer group that reads, commits and leaves.
// Run through scripts/capture-frames.ts (see test/fixtures/frames/README.md), which sets
// GODEL_CAPTURE_BOOTSTRAP.
import {
  Admin, ConfigResourceTypes, Consumer, IncrementalAlterConfigOperationTypes, Producer, stringDeserializers, stringSerializers,
  type Message,
} from '@platformatic/kafka';

const bootstrap = process.env.GODEL_CAPTURE_BOOTSTRAP;
if (bootstrap === undefined) throw new Error('GODEL_CAPTURE_BOOTSTRAP is not set');
const topic = 'capture-platformatic';
const groupId = 'capture-platformatic-group';
const clientId = 'capture-platformatic';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const admin = new Admin({ clientId, bootstrapBrokers: [bootstrap] });
await admin.createTopics({ topics: [topic], partitions: 2 });
await admin.metadata({ topics: [topic] });
await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['retention.ms'] }] });
await admin.alterConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: [{ name: 'retention.ms', value: '86400000' }] }] });
await admin.incrementalAlterConfigs({
  resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: [{ name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '3600000' }] }],
});
await admin.createPartitions({ topics: [{ name: topic, count: 3 }] });
await admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });

const producer = new Producer({ clientId, bootstrapBrokers: [bootstrap], serializers: stringSerializers, idempotent: true });
await producer.send({ messages: [{ topic, key: 'k', value: 'v', partition: 0, headers: new Map([['h', '1']]) }], acks: -1 });
await producer.send({ messages: [{ topic, key: 'kz', value: 'gzipped', partition: 1 }], acks: -1, compression: 'gzip' });
await producer.close();

const consumer = new Consumer({
  clientId, groupId, bootstrapBrokers: [bootstrap], deserializers: stringDeserializers,
  sessionTimeout: 10_000, heartbeatInterval: 300, maxWaitTime: 100,
});
const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
const seen: Message<string, string, string, string>[] = [];
stream.on('data', (m: Message<string, string, string, string>) => seen.push(m));
const deadline = Date.now() + 30_000;
while (seen.length < 2 && Date.now() < deadline) await sleep(100);
if (seen.length < 2) throw new Error(`the consumer read ${seen.length} of 2 records`);
for (const m of seen) await m.commit(); // OffsetCommit
await sleep(1500); // heartbeats
await stream.close();
await consumer.close(); // LeaveGroup

await admin.listGroups();
await admin.describeGroups({ groups: [groupId] });
await admin.listConsumerGroupOffsets({ groups: [groupId] });
await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 1n }] }] });
await admin.deleteGroups({ groups: [groupId] });
await admin.deleteTopics({ topics: [topic] });
await admin.close();
