// Topics as the broker serves them: names and ids from the control plane, one partition log per
// partition from the LogManager. Creation validates like Kafka (name, partitions, replication
// factor, configs) before anything is written; deletion removes the topic from metadata at once
// and its files in the background.
import type { ControlPlane, TopicInfo } from '../cluster/control-plane.js';
import { GodelError } from '../errors.js';
import type { Logger } from '../log.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { buildLogConfig, type LogConfig } from '../storage/log-config.js';
import type { LogManager } from '../storage/log-manager.js';
import type { PartitionLog } from '../storage/partition-log.js';

const TOPIC_NAME_LENGTH_MAX = 249;
const PARTITIONS_MAX = 100_000;

/** A Kafka error code with a message, as admin responses carry them. */
export interface ApiError {
  errorCode: number;
  errorMessage: string;
}

export function apiError(errorCode: number, errorMessage: string): ApiError {
  return { errorCode, errorMessage };
}

/** Kafka's topic name rules: 1-249 of [a-zA-Z0-9._-], not "." or "..". */
export function topicNameError(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name "${name}" is not allowed`;
  if (name.length > TOPIC_NAME_LENGTH_MAX) return `topic name is longer than ${TOPIC_NAME_LENGTH_MAX} characters`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `topic name "${name}" may only contain ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

export interface CreateTopicSpec {
  name: string;
  /** -1: the broker default (`num.partitions`). */
  partitions: number;
  /** -1: the broker default (`default.replication.factor`). */
  replicationFactor: number;
  configs: Record<string, string>;
  internal?: boolean;
}

export interface TopicDefaults {
  numPartitions: number;
  defaultReplicationFactor: number;
  /** Broker-level log settings (Kafka names), static and dynamic merged. */
  brokerLogConfig: () => Readonly<Record<string, string>>;
}

export class TopicManager {
  constructor(
    private readonly controlPlane: ControlPlane,
    private readonly logManager: LogManager,
    private readonly defaults: TopicDefaults,
    private readonly logger: Logger,
  ) {}

  topic(name: string): TopicInfo | undefined {
    return this.controlPlane.getTopic(name);
  }

  topicById(topicId: string): TopicInfo | undefined {
    return this.controlPlane.getTopicById(topicId);
  }

  topics(): TopicInfo[] {
    return this.controlPlane.listTopics();
  }

  /** The log of a partition, or null when the topic or partition does not exist. */
  partitionLog(topic: string, partition: number): PartitionLog | null {
    const info = this.controlPlane.getTopic(topic);
    if (info === undefined || !Number.isInteger(partition) || partition < 0 || partition >= info.partitions) return null;
    return this.logManager.getLog({ topic, partition }) ?? null;
  }

  logConfigFor(topic: TopicInfo): LogConfig {
    return buildLogConfig(topic.configs, this.defaults.brokerLogConfig());
  }

  /** Validates a creation; returns the resolved spec or the Kafka error a client should see. */
  validateCreate(spec: CreateTopicSpec, brokers: number): { spec: CreateTopicSpec } | { error: ApiError } {
    const nameError = topicNameError(spec.name);
    if (nameError !== null) return { error: apiError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError) };
    if (this.controlPlane.getTopic(spec.name) !== undefined) {
      return { error: apiError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${spec.name}' already exists.`) };
    }
    const collision = this.collidingTopic(spec.name);
    if (collision !== null) {
      return { error: apiError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${spec.name}' collides with existing topic '${collision}' ('.' and '_' are the same in metric names)`) };
    }
    const partitions = spec.partitions === -1 ? this.defaults.numPartitions : spec.partitions;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > PARTITIONS_MAX) {
      return { error: apiError(ErrorCode.INVALID_PARTITIONS, `Number of partitions must be between 1 and ${PARTITIONS_MAX}, got ${spec.partitions}.`) };
    }
    const replicationFactor = spec.replicationFactor === -1 ? this.defaults.defaultReplicationFactor : spec.replicationFactor;
    if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
      return { error: apiError(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor must be larger than 0, got ${spec.replicationFactor}.`) };
    }
    if (replicationFactor > brokers) {
      return { error: apiError(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor: ${replicationFactor} larger than available brokers: ${brokers}.`) };
    }
    try {
      buildLogConfig(spec.configs, this.defaults.brokerLogConfig());
    } catch (err) {
      return { error: apiError(ErrorCode.INVALID_CONFIG, (err as Error).message) };
    }
    return { spec: { ...spec, partitions, replicationFactor } };
  }

  private collidingTopic(name: string): string | null {
    const normal = name.replace(/\./g, '_');
    for (const t of this.controlPlane.listTopics()) {
      if (t.name !== name && t.name.replace(/\./g, '_') === normal) return t.name;
    }
    return null;
  }

  /** Creates a validated topic: metadata first, then one log per partition. */
  async create(spec: CreateTopicSpec): Promise<TopicInfo> {
    const topic = await this.controlPlane.createTopic({
      name: spec.name, partitions: spec.partitions, replicationFactor: spec.replicationFactor,
      configs: spec.configs, internal: spec.internal ?? false,
    });
    await this.ensureLogs(topic);
    this.logger.info({ topic: topic.name, partitions: topic.partitions, topicId: topic.topicId }, 'created topic');
    return topic;
  }

  async ensureLogs(topic: TopicInfo): Promise<void> {
    for (let p = 0; p < topic.partitions; p++) {
      const log = await this.logManager.getOrCreateLog({ topic: topic.name, partition: p }, topic.configs);
      log.updateConfig(this.logConfigFor(topic));
    }
  }

  /** Removes a topic from metadata now; its logs are deleted in the background. */
  async delete(name: string): Promise<TopicInfo | undefined> {
    const topic = await this.controlPlane.deleteTopic(name);
    if (topic === undefined) return undefined;
    const removals: Promise<void>[] = [];
    for (let p = 0; p < topic.partitions; p++) removals.push(this.logManager.deleteLog({ topic: name, partition: p }));
    void Promise.allSettled(removals).then((results) => {
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed > 0) this.logger.error({ topic: name, failed }, 'could not remove every log of a deleted topic');
      else this.logger.info({ topic: name, partitions: topic.partitions }, 'removed the logs of a deleted topic');
    });
    return topic;
  }

  async addPartitions(name: string, total: number): Promise<TopicInfo> {
    const topic = await this.controlPlane.setPartitionCount(name, total);
    await this.ensureLogs(topic);
    return topic;
  }

  async setConfigs(name: string, configs: Record<string, string>): Promise<TopicInfo> {
    const config = buildLogConfig(configs, this.defaults.brokerLogConfig());
    const topic = await this.controlPlane.setTopicConfigs(name, configs);
    for (let p = 0; p < topic.partitions; p++) this.logManager.getLog({ topic: name, partition: p })?.updateConfig(config);
    return topic;
  }

  /** Re-applies every topic's config after broker-level defaults changed. */
  refreshLogConfigs(): void {
    for (const topic of this.controlPlane.listTopics()) {
      const config = this.logConfigFor(topic);
      for (let p = 0; p < topic.partitions; p++) this.logManager.getLog({ topic: topic.name, partition: p })?.updateConfig(config);
    }
  }

  /** At start: every topic has its logs; logs of unknown topics are reported, not deleted. */
  async reconcile(): Promise<void> {
    for (const topic of this.controlPlane.listTopics()) await this.ensureLogs(topic);
    for (const log of this.logManager.allLogs()) {
      const topic = this.controlPlane.getTopic(log.topicPartition.topic);
      if (topic === undefined || log.topicPartition.partition >= topic.partitions) {
        this.logger.warn({ log: log.describe() }, 'a log on disk belongs to no known topic; it is kept but not served');
      }
    }
  }
}

export function godelErrorToKafka(err: unknown): ApiError {
  if (err instanceof GodelError) {
    switch (err.code) {
      case 'TOPIC_ALREADY_EXISTS': return apiError(ErrorCode.TOPIC_ALREADY_EXISTS, err.message);
      case 'UNKNOWN_TOPIC_OR_PARTITION': return apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, err.message);
      case 'CONFIG_INVALID': return apiError(ErrorCode.INVALID_CONFIG, err.message);
      case 'CORRUPT_MESSAGE': return apiError(ErrorCode.CORRUPT_MESSAGE, err.message);
      case 'INVALID_RECORD': return apiError(ErrorCode.INVALID_RECORD, err.message);
      case 'MESSAGE_TOO_LARGE': return apiError(ErrorCode.MESSAGE_TOO_LARGE, err.message);
      case 'INVALID_TIMESTAMP': return apiError(ErrorCode.INVALID_TIMESTAMP, err.message);
      case 'OFFSET_OUT_OF_RANGE': return apiError(ErrorCode.OFFSET_OUT_OF_RANGE, err.message);
      case 'STORAGE_ERROR':
      case 'LOG_OFFLINE': return apiError(ErrorCode.KAFKA_STORAGE_ERROR, err.message);
      case 'QUEUE_FULL': return apiError(ErrorCode.REQUEST_TIMED_OUT, err.message);
      case 'OUT_OF_ORDER_SEQUENCE_NUMBER': return apiError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, err.message);
      case 'INVALID_PRODUCER_EPOCH': return apiError(ErrorCode.INVALID_PRODUCER_EPOCH, err.message);
      case 'CLOSED': return apiError(ErrorCode.NOT_LEADER_OR_FOLLOWER, err.message);
      default: return apiError(ErrorCode.UNKNOWN_SERVER_ERROR, err.message);
    }
  }
  return apiError(ErrorCode.UNKNOWN_SERVER_ERROR, String((err as Error)?.message ?? err));
}
