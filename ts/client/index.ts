// Gödel's TypeScript Kafka client: any Kafka-compatible broker (Gödel, Apache Kafka), KafkaJS-like
// API, strict types, offsets as bigint, timestamps in milliseconds.
//
//   const godel = new Godel({ brokers: ['localhost:9092'], clientId: 'app' });
//
//   const producer = godel.producer({ acks: -1, idempotent: true, compression: 'gzip', lingerMs: 5 });
//   await producer.connect();
//   const [meta] = await producer.send({ topic: 'orders', messages: [{ key: 'user-1', value: '{"total":3}', headers: { source: 'web' } }] });
//   const { offset } = await producer.sendOne('orders', { value: 'one more' });
//
//   const consumer = godel.consumer({ groupId: 'billing', assignors: ['cooperative-sticky'] });
//   await consumer.subscribe({ topics: ['orders'], fromBeginning: true });
//   await consumer.run({ eachMessage: async ({ topic, partition, message }) => { ... } });
//   consumer.on('crash', (err) => ...);   // a handler that throws, or a fatal error, stops the loop
//
//   const plain = godel.consumer();      // no group: read chosen partitions from chosen offsets
//   await plain.assign([{ topic: 'orders', partition: 0, offset: { timestamp: Date.now() - 3_600_000 } }]);
//
//   const admin = godel.admin();
//   await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 6 }] });
//
// Every broker error and network failure is a KafkaError (Kafka's error name in `type`, `code`,
// `retriable`, and the `topic`/`partition` concerned); retriable ones are retried with backoff first.
export { Godel, type GodelOptions } from './client.js';
export {
  Producer,
  type Acks,
  type ProducerMessage,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
  type RecordResult,
} from './producer.js';
export {
  Consumer,
  type AssignedPartition,
  type AutoOffsetReset,
  type Batch,
  type ConsumerOptions,
  type EachBatchPayload,
  type EachMessagePayload,
  type KafkaMessage,
  type MessageHeaders,
  type RebalanceListener,
  type RunOptions,
  type StartOffset,
  type SubscribeOptions,
} from './consumer.js';
export {
  Admin,
  type ClusterDescription,
  type LogDirDescription,
  type ConfigAlteration,
  type ConfigEntry,
  type ConfigResourceResult,
  type ConfigResourceType,
  type GroupDescription,
  type GroupMemberDescription,
  type GroupOverview,
  type NewTopic,
  type PartitionDescription,
  type ResetTarget,
  type TopicDescription,
  type TopicOffsets,
} from './admin.js';
export {
  BUILT_IN_ASSIGNORS,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  type Assignor,
  type AssignorName,
  type GroupAssignment,
  type MemberSubscription,
  type RebalanceProtocol,
} from './assignors.js';
export { KafkaError, isKafkaError, isRetriableError, type KafkaErrorOptions } from './errors.js';
export { murmur2, partitionForKey, toPositive, type Partitioner } from './partitioner.js';
export { registerCompressionCodec, type CompressionImplementation, type CompressionName } from './compression.js';
export type { RecordHeaders, HeaderValue } from './batch-encoder.js';
export { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP, type CommittedOffset, type OffsetAnswer, type OffsetQuery, type TopicPartition } from './offsets.js';
export type { RetryOptions } from './retry.js';
