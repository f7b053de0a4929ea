// ListOffsets (2): earliest (-2), latest (-1, the high watermark; the same under read_committed
// without transactions), max timestamp (-3, v7+), or the first offset at or after a timestamp.
// v0 answers with an offsets array, v1+ with one offset and its timestamp.
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ListOffsetsResponseListOffsetsPartitionResponse } from '../../protocol/generated/list-offsets-response.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';
import { godelErrorToKafka } from '../topic-manager.js';

export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;
export const MAX_TIMESTAMP = -3n;

type PartitionResponse = ListOffsetsResponseListOffsetsPartitionResponse;

export function listOffsetsHandler(services: BrokerServices): ApiHandler<2> {
  const { topics } = services;
  return {
    apiKey: 2,
    minVersion: 0,
    maxVersion: 7,
    async handle(request, ctx) {
      const v0 = ctx.apiVersion === 0;
      const result = [];
      for (const t of request.topics) {
        const partitions: PartitionResponse[] = [];
        result.push({ name: t.name, partitions });
        for (const p of t.partitions) {
          // Each version carries only its own fields; the others must stay at their defaults.
          const answer = (errorCode: number, offset: bigint, timestamp: bigint): PartitionResponse => ({
            partitionIndex: p.partitionIndex, errorCode,
            oldStyleOffsets: v0 && errorCode === 0 && offset >= 0n ? [offset] : [],
            timestamp: v0 ? -1n : timestamp,
            offset: v0 ? -1n : offset,
            leaderEpoch: ctx.apiVersion >= 4 && errorCode === 0 && offset >= 0n ? 0 : -1,
          });
          const log = topics.partitionLog(t.name, p.partitionIndex);
          if (log === null) {
            partitions.push(answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n, -1n));
            continue;
          }
          try {
            if (p.timestamp === LATEST_TIMESTAMP) {
              partitions.push(answer(0, log.logEndOffset, -1n));
            } else if (p.timestamp === EARLIEST_TIMESTAMP) {
              partitions.push(answer(0, log.logStartOffset, -1n));
            } else if (p.timestamp === MAX_TIMESTAMP) {
              const max = log.maxTimestampOffset();
              partitions.push(max === null ? answer(0, -1n, -1n) : answer(0, max.offset, max.timestamp));
            } else if (p.timestamp < 0n) {
              partitions.push(answer(ErrorCode.INVALID_REQUEST, -1n, -1n));
            } else {
              const found = await log.offsetForTimestamp(p.timestamp);
              // v0 has no "not found": it answers with the log end, as Kafka's old API did.
              if (found === null) partitions.push(v0 ? answer(0, log.logEndOffset, -1n) : answer(0, -1n, -1n));
              else partitions.push(answer(0, found.offset, found.timestamp));
            }
          } catch (err) {
            partitions.push(answer(godelErrorToKafka(err).errorCode, -1n, -1n));
          }
        }
      }
      return { throttleTimeMs: 0, topics: result };
    },
  };
}
