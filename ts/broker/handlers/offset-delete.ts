// OffsetDelete (47, KIP-496): removes a group's committed offsets (tombstones in __consumer_offsets,
// answered once the log has them). As in Kafka's request layer, partitions of unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION here and the rest go to the group coordinator; a group-level error
// (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, NOT_COORDINATOR …) is the whole answer, without topics.
// The codec is hand-written (protocol/offset-delete.ts): Kafka's spec for it is not in our spec set.
import { ErrorCode } from '../../protocol/error-codes.js';
import type { OffsetDeleteResponsePartition, OffsetDeleteResponseTopic } from '../../protocol/offset-delete.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

export function offsetDeleteHandler(services: BrokerServices): ApiHandler<47> {
  const { groupCoordinator, topics } = services;
  return {
    apiKey: 47,
    minVersion: 0,
    maxVersion: 0,
    async handle(request) {
      const response: OffsetDeleteResponseTopic[] = [];
      const entries: { topic: string; partition: number }[] = [];
      const slots: OffsetDeleteResponsePartition[] = [];
      for (const t of request.topics) {
        const partitions: OffsetDeleteResponsePartition[] = [];
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
          entries.push({ topic: t.name, partition: p.partitionIndex });
        }
      }
      const result = await groupCoordinator.deleteOffsets(request.groupId, entries);
      if (result.errorCode !== 0) return { errorCode: result.errorCode, throttleTimeMs: 0, topics: [] };
      result.partitions.forEach((r, i) => {
        slots[i]!.errorCode = r.errorCode;
      });
      return { errorCode: 0, throttleTimeMs: 0, topics: response };
    },
  };
}
