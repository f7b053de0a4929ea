// Where the coordinator keeps its records: the compacted internal topic __consumer_offsets,
// written through the normal log path (one batch per write, keys set, a null value for a
// tombstone) and read back whole at start. The coordinator sees it through GroupStorage, so unit
// tests can run it over memory and a cluster can put replication underneath.
import type { LogEngine } from '../engine/types.js';
import type { Logger } from '../log.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { buildRecordBatch } from '../storage/record-batch-builder.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { TopicManager } from '../broker/topic-manager.js';
import { godelErrorToKafka } from '../broker/topic-manager.js';
import type { Clock } from '../clock.js';
import { replayLog } from './coordinator-loader.js';

export const OFFSETS_TOPIC = '__consumer_offsets';
/** Kafka's offsets.topic.segment.bytes default. */
export const OFFSETS_TOPIC_SEGMENT_BYTES = 100 * 1024 * 1024;
/** Kafka's offsets.topic.replication.factor default (capped by the brokers there are). */
export const OFFSETS_TOPIC_REPLICATION_FACTOR = 3;

export interface GroupRecord {
  key: Buffer;
  /** null: a tombstone. */
  value: Buffer | null;
}

export interface GroupStorage {
  /** Creates __consumer_offsets when absent; returns its partition count. */
  ensureTopic(partitions: number): Promise<number>;
  /** Appends the records as one batch; resolves once the log acknowledged them. */
  append(partition: number, records: GroupRecord[]): Promise<void>;
  /** Visits every record of a partition, oldest first. */
  replay(partition: number, visit: (key: Buffer, value: Buffer | null) => void): Promise<void>;
}

/** __consumer_offsets in the broker's own logs. */
export class LogGroupStorage implements GroupStorage {
  constructor(
    private readonly topics: TopicManager,
    private readonly engine: LogEngine,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly brokerCount: () => number,
  ) {}

  async ensureTopic(partitions: number): Promise<number> {
    const existing = this.topics.topic(OFFSETS_TOPIC);
    if (existing !== undefined) {
      if (existing.partitions !== partitions) {
        this.logger.warn({ topic: OFFSETS_TOPIC, partitions: existing.partitions, configured: partitions },
          'offsets.topic.num.partitions differs from the existing topic; the topic wins');
      }
      return existing.partitions;
    }
    const topic = await this.topics.create({
      name: OFFSETS_TOPIC,
      partitions,
      replicationFactor: Math.max(1, Math.min(OFFSETS_TOPIC_REPLICATION_FACTOR, this.brokerCount())),
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(OFFSETS_TOPIC_SEGMENT_BYTES) },
      internal: true,
    });
    return topic.partitions;
  }

  private log(partition: number): PartitionLog {
    const log = this.topics.partitionLog(OFFSETS_TOPIC, partition);
    if (log === null) throw Object.assign(new Error(`${OFFSETS_TOPIC}-${partition} has no log`), { kafkaCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    return log;
  }

  async append(partition: number, records: GroupRecord[]): Promise<void> {
    const log = this.log(partition);
    const batch = buildRecordBatch(this.engine, {
      records: records.map((r) => ({ key: r.key, value: r.value })),
      baseTimestamp: BigInt(this.clock.nowMs()),
    });
    await log.append(batch);
  }

  async replay(partition: number, visit: (key: Buffer, value: Buffer | null) => void): Promise<void> {
    const skipped = await replayLog(this.log(partition), visit);
    if (skipped > 0) this.logger.warn({ partition, skipped }, `skipped ${OFFSETS_TOPIC} batches that are compressed or malformed`);
  }
}

/** Records kept in memory (unit tests; a broker without persistence). */
export class MemoryGroupStorage implements GroupStorage {
  readonly partitions = new Map<number, GroupRecord[]>();
  /** When set, the next appends fail with this error (tests of write failures). */
  failWith: Error | null = null;
  /** When set, appends wait for this promise (tests of writes in flight). */
  gate: Promise<void> | null = null;
  appends = 0;

  async ensureTopic(partitions: number): Promise<number> {
    for (let p = 0; p < partitions; p++) if (!this.partitions.has(p)) this.partitions.set(p, []);
    return this.partitions.size;
  }

  async append(partition: number, records: GroupRecord[]): Promise<void> {
    this.appends++;
    if (this.gate !== null) await this.gate;
    if (this.failWith !== null) throw this.failWith;
    const log = this.partitions.get(partition);
    if (log === undefined) throw Object.assign(new Error(`no partition ${partition}`), { kafkaCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    for (const r of records) log.push({ key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) });
  }

  async replay(partition: number, visit: (key: Buffer, value: Buffer | null) => void): Promise<void> {
    for (const r of this.partitions.get(partition) ?? []) visit(r.key, r.value);
  }
}

/** The Kafka error code of a failed append. */
export function appendErrorCode(err: unknown): number {
  const code = (err as { kafkaCode?: unknown } | null)?.kafkaCode;
  if (typeof code === 'number') return code;
  return godelErrorToKafka(err).errorCode;
}

/** What an offset commit answers when its append failed (Kafka's maybeConvertOffsetCommitError). */
export function offsetCommitErrorCode(err: unknown): number {
  const code = appendErrorCode(err);
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return code;
  }
}

/** What a group metadata write (SyncGroup, a static rejoin) answers when its append failed. */
export function storeGroupErrorCode(err: unknown): number {
  const code = appendErrorCode(err);
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.REBALANCE_IN_PROGRESS;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}
