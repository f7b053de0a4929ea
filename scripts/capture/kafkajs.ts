// Capture driver for KafkaJS (the version in package-lock.json): admin, an idempotent producer with
// and without gzip, and a consumer group that reads, commits and leaves. Run through
// scripts/capture-frames.ts (see test/fixtures/frames/README.md), which sets GODEL_CAPTURE_BOOTSTRAP.
import kafkajs from 'kafkajs';

const { CompressionTypes, ConfigResourceTypes, Kafka, logLevel, Partitioners } = kafkajs; // CommonJS: no named imports in Node

const bootstrap = process.env.GODEL_CAPTURE_BOOTSTRAP;
if (bootstrap === undefined) throw new Error('GODEL_CAPTURE_BOOTSTRAP is not set');
const topic = 'capture-kafkajs';
const groupId = 'capture-kafkajs-group';
const kafka = new Kafka({ clientId: 'capture-kafkajs', brokers: [bootstrap], logLevel: logLevel.WARN });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
await admin.fetchTopicOffsets(topic);
await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }], includeSynonyms: false });
await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '86400000' }] }] });
await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });

const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v', partition: 0, headers: { h: '1' } }] });
await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: [{ key: 'kz', value: 'gzipped', partition: 1 }] });
await producer.disconnect();

const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
let got = 0;
await consumer.run({ autoCommitInterval: 200, eachMessage: async () => { got++; } });
const deadline = Date.now() + 30_000;
while (got < 2 && Date.now() < deadline) await sleep(100);
if (got < 2) throw new Error(`the consumer read ${got} of 2 records`);
await sleep(1500); // heartbeats and an interval commit
await consumer.disconnect(); // LeaveGroup

await admin.listGroups();
await admin.describeGroups([groupId]);
await admin.fetchOffsets({ groupId, topics: [topic] });
await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '1' }] });
await admin.deleteGroups([groupId]);
await admin.deleteTopics({ topics: [topic] });
await admin.disconnect();
