// OffsetCommit (8): committed offsets, written to __consumer_offsets and answered once the log has
// them. Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION here, as in Kafka's request
// layer; the rest go to the group coordinator. v0 has no generation (a simple commit), v1 a
// per-partition commit timestamp, v2-4 a retention time, v6+ the leader epoch, v7+ the group
// instance id.
import { ErrorCode } from '../../protocol/error-codes.js';
import type { OffsetCommitResponsePartition, OffsetCommitResponseTopic } from '../../protocol/generated/offset-commit-response.js';
import type { OffsetCommitEntry } from '../../group/group-coordinator.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

export function offsetCommitHandler(services: BrokerServices): ApiHandler<8> {
  const { groupCoordinator, topics } = services;
  return {
    apiKey: 8,
    minVersion: 0,
    maxVersion: 9,
    async handle(request, ctx) {
      const v = ctx.apiVersion;
      const response: OffsetCommitResponseTopic[] = [];
      const entries: OffsetCommitEntry[] = [];
      const slots: OffsetCommitResponsePartition[] = [];
      for (const t of request.topics) {
        const partitions: OffsetCommitResponsePartition[] = [];
        response.push({ name: t.name, partitions });
        const topic = topics.topic(t.name);
        for (const p of t.partitions) {
          if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
            partitions.push({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
            continue;
          }
          const slot = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR };
          partitions.push(slot);
          slots.push(slot);
          entries.push({
            topic: t.name, partition: p.partitionIndex, offset: p.committedOffset,
            leaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
            metadata: p.committedMetadata,
            commitTimestampMs: v === 1 ? Number(p.commitTimestamp) : -1,
          });
        }
      }
      if (entries.length > 0) {
        const results = await groupCoordinator.commitOffsets({
          groupId: request.groupId,
          generationId: v >= 1 ? request.generationIdOrMemberEpoch : -1,
          memberId: v >= 1 ? request.memberId : '',
          groupInstanceId: v >= 7 ? request.groupInstanceId : null,
          retentionTimeMs: v >= 2 && v <= 4 ? Number(request.retentionTimeMs) : -1,
          offsets: entries,
        });
        results.forEach((r, i) => {
          slots[i]!.errorCode = r.errorCode;
        });
      }
      return { throttleTimeMs: 0, topics: response };
    },
  };
}
