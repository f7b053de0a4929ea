// Offset lookups and commits shared by the consumer and the admin client: ListOffsets (earliest,
// latest, by timestamp) sent to each partition's leader, and OffsetFetch / OffsetCommit sent to a
// group's coordinator. Each retries retriable errors (a moved leader or coordinator) with backoff.
import { Cluster } from './cluster.js';
import { KafkaError } from './errors.js';
import { withRetry } from './retry.js';

/** ListOffsets timestamps with a special meaning. */
export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;
export const MAX_TIMESTAMP = -3n;

const NOT_LEADER_ERRORS = new Set([3, 5, 6, 74, 75]);
const REBALANCE_ERRORS = new Set([22, 25, 27]);

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface OffsetQuery extends TopicPartition {
  /** Milliseconds, or LATEST_TIMESTAMP / EARLIEST_TIMESTAMP / MAX_TIMESTAMP. */
  timestamp: bigint;
}

export interface OffsetAnswer extends TopicPartition {
  /** -1n when no record has a timestamp at or after the one asked for. */
  offset: bigint;
  timestamp: bigint;
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Looks up offsets: each query goes to its partition's leader; results in query order. */
export async function listOffsets(cluster: Cluster, queries: readonly OffsetQuery[], isolationLevel = 0): Promise<OffsetAnswer[]> {
  if (queries.length === 0) return [];
  const answers = new Map<string, OffsetAnswer>();
  await withRetry(cluster.retry, async () => {
    const open = queries.filter((q) => !answers.has(tpKey(q.topic, q.partition)));
    await cluster.ensureTopics([...new Set(open.map((q) => q.topic))]);
    const byLeader = new Map<number, OffsetQuery[]>();
    for (const q of open) {
      const leader = cluster.leaderFor(q.topic, q.partition);
      if (leader < 0) {
        const t = cluster.topic(q.topic);
        if (t !== undefined && q.partition >= t.partitions.length) {
          throw new KafkaError(3, `partition ${q.partition} does not exist`, { topic: q.topic, partition: q.partition, retriable: false });
        }
        throw new KafkaError(5, undefined, { topic: q.topic, partition: q.partition });
      }
      let list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, (list = []));
      list.push(q);
    }
    let retriable: KafkaError | null = null;
    await Promise.all([...byLeader].map(async ([leader, list]) => {
      const byTopic = new Map<string, OffsetQuery[]>();
      for (const q of list) {
        let l = byTopic.get(q.topic);
        if (l === undefined) byTopic.set(q.topic, (l = []));
        l.push(q);
      }
      const response = await cluster.request(leader, 2, (version) => ({
        replicaId: -1,
        isolationLevel: version >= 2 ? isolationLevel : 0,
        topics: [...byTopic].map(([name, qs]) => ({
          name,
          partitions: qs.map((q) => ({ partitionIndex: q.partition, currentLeaderEpoch: -1, timestamp: q.timestamp, maxNumOffsets: 1 })),
        })),
      }));
      for (const t of response.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) {
            const err = new KafkaError(p.errorCode, undefined, { topic: t.name, partition: p.partitionIndex });
            if (!err.retriable) throw err;
            if (NOT_LEADER_ERRORS.has(p.errorCode)) await cluster.refreshMetadata([t.name]).catch(() => undefined);
            retriable = err;
            continue;
          }
          answers.set(tpKey(t.name, p.partitionIndex), { topic: t.name, partition: p.partitionIndex, offset: p.offset, timestamp: p.timestamp });
        }
      }
    }));
    if (retriable !== null) throw retriable;
  }, { aborted: () => cluster.isClosed });
  return queries.map((q) => {
    const a = answers.get(tpKey(q.topic, q.partition));
    if (a === undefined) throw new KafkaError(3, 'no answer for the partition', { topic: q.topic, partition: q.partition });
    return a;
  });
}

export interface CommittedOffset extends TopicPartition {
  /** -1n when the group has committed nothing for the partition. */
  offset: bigint;
  metadata: string | null;
  leaderEpoch: number;
}

/** Sends a request to the group's coordinator, rediscovering it after coordinator errors. */
export async function withCoordinator<T>(cluster: Cluster, groupId: string, fn: (nodeId: number) => Promise<T>): Promise<T> {
  return withRetry(cluster.retry, async () => {
    const nodeId = await cluster.findCoordinator(groupId);
    try {
      return await fn(nodeId);
    } catch (err) {
      if (Cluster.isCoordinatorError(err) || (err instanceof KafkaError && err.code === 13)) cluster.invalidateCoordinator(groupId);
      throw err;
    }
  }, { aborted: () => cluster.isClosed });
}

/** The group's committed offsets for `partitions` (null: every partition the group has committed). */
export async function fetchCommittedOffsets(cluster: Cluster, groupId: string, partitions: readonly TopicPartition[] | null): Promise<CommittedOffset[]> {
  return withCoordinator(cluster, groupId, async (nodeId) => {
    let topics: { name: string; partitionIndexes: number[] }[] | null = null;
    if (partitions !== null) {
      const byTopic = new Map<string, number[]>();
      for (const tp of partitions) {
        let l = byTopic.get(tp.topic);
        if (l === undefined) byTopic.set(tp.topic, (l = []));
        l.push(tp.partition);
      }
      topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    }
    const response = await cluster.request(nodeId, 9, (version) => {
      if (topics === null && version < 2) throw new KafkaError(35, 'OffsetFetch for all partitions needs v2+');
      return { groupId, topics, groups: [], requireStable: false };
    }, { purpose: 'coordinator' });
    if (response.errorCode !== 0) throw new KafkaError(response.errorCode, undefined, { brokerMessage: `group ${groupId}` });
    const out: CommittedOffset[] = [];
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw new KafkaError(p.errorCode, undefined, { topic: t.name, partition: p.partitionIndex });
        out.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata, leaderEpoch: p.committedLeaderEpoch });
      }
    }
    return out;
  });
}

export interface OffsetToCommit extends TopicPartition {
  /** The next offset to consume (Kafka's convention: last processed + 1). */
  offset: bigint;
  metadata?: string | null;
}

export interface CommitIdentity {
  groupId: string;
  /** -1 (and memberId '') for a commit outside a group generation (admin, plain consumers). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

/**
 * Commits offsets. Group errors (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID) and
 * partition errors are thrown as KafkaErrors; coordinator moves are retried.
 */
export async function commitOffsets(cluster: Cluster, identity: CommitIdentity, offsets: readonly OffsetToCommit[]): Promise<void> {
  if (offsets.length === 0) return;
  const byTopic = new Map<string, OffsetToCommit[]>();
  for (const o of offsets) {
    let l = byTopic.get(o.topic);
    if (l === undefined) byTopic.set(o.topic, (l = []));
    l.push(o);
  }
  await withCoordinator(cluster, identity.groupId, async (nodeId) => {
    const response = await cluster.request(nodeId, 8, (version) => ({
      groupId: identity.groupId,
      generationIdOrMemberEpoch: identity.generationId,
      memberId: identity.memberId,
      groupInstanceId: version >= 7 ? identity.groupInstanceId : null,
      retentionTimeMs: -1n,
      topics: [...byTopic].map(([name, list]) => ({
        name,
        partitions: list.map((o) => ({
          partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1,
          commitTimestamp: -1n, committedMetadata: o.metadata ?? null,
        })),
      })),
    }), { purpose: 'coordinator' });
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode === 0) continue;
        throw new KafkaError(p.errorCode, undefined, {
          topic: t.name, partition: p.partitionIndex,
          retriable: REBALANCE_ERRORS.has(p.errorCode) ? false : undefined,
        });
      }
    }
  });
}
