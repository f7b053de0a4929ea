// Gödel's TypeScript Kafka client.
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
