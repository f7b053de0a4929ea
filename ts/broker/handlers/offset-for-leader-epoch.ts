// OffsetForLeaderEpoch (23): the end offset of a leader epoch. A single node has only ever had
// leader epoch 0, so any requested epoch >= 0 ends at the log end offset; an undefined epoch (-1)
// gets undefined answers. A current leader epoch (v2+) newer than 0 is UNKNOWN_LEADER_EPOCH.
import { ErrorCode } from '../../protocol/error-codes.js';
import type { OffsetForLeaderEpochResponseEpochEndOffset } from '../../protocol/generated/offset-for-leader-epoch-response.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

const LEADER_EPOCH = 0;
const UNDEFINED_EPOCH = -1;
const UNDEFINED_OFFSET = -1n;

export function offsetForLeaderEpochHandler(services: BrokerServices): ApiHandler<23> {
  const { topics } = services;
  return {
    apiKey: 23,
    minVersion: 0,
    maxVersion: 4,
    handle(request, ctx) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p): OffsetForLeaderEpochResponseEpochEndOffset => {
            const answer = (errorCode: number, leaderEpoch: number, endOffset: bigint): OffsetForLeaderEpochResponseEpochEndOffset => ({
              errorCode, partition: p.partition, leaderEpoch, endOffset,
            });
            const log = topics.partitionLog(t.topic, p.partition);
            if (log === null) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UNDEFINED_EPOCH, UNDEFINED_OFFSET);
            if (ctx.apiVersion >= 2 && p.currentLeaderEpoch > LEADER_EPOCH) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH, UNDEFINED_EPOCH, UNDEFINED_OFFSET);
            if (log.isOffline) return answer(ErrorCode.KAFKA_STORAGE_ERROR, UNDEFINED_EPOCH, UNDEFINED_OFFSET);
            if (p.leaderEpoch < 0) return answer(0, UNDEFINED_EPOCH, UNDEFINED_OFFSET);
            return answer(0, LEADER_EPOCH, log.logEndOffset);
          }),
        })),
      };
    },
  };
}
