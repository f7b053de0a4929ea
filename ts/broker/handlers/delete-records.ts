// DeleteRecords (21): moves each partition's log start offset forward (offset -1 = the high
// watermark) and answers with the new low watermark. Reads below it fail at once; the start
// offsets are checkpointed before the answer so a restart keeps them, and whole segments below
// them go in a retention pass run right away. As in Kafka, logs that do not delete old data
// (cleanup.policy=compact) refuse with POLICY_VIOLATION.
import { ErrorCode } from '../../protocol/error-codes.js';
import type { DeleteRecordsResponseDeleteRecordsPartitionResult, DeleteRecordsResponseDeleteRecordsTopicResult } from '../../protocol/generated/delete-records-response.js';
import { deletesOldSegments } from '../../storage/log-config.js';
import type { PartitionLog } from '../../storage/partition-log.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';
import { godelErrorToKafka } from '../topic-manager.js';

/** The high watermark: a single node's ISR is itself, so it is the log end offset. */
const HIGH_WATERMARK = -1n;

type PartitionResult = DeleteRecordsResponseDeleteRecordsPartitionResult;

export function deleteRecordsHandler(services: BrokerServices): ApiHandler<21> {
  const { topics, logManager, logger } = services;
  return {
    apiKey: 21,
    minVersion: 0,
    maxVersion: 2,
    async handle(request) {
      const advanced: PartitionLog[] = [];
      const results: DeleteRecordsResponseDeleteRecordsTopicResult[] = [];
      for (const t of request.topics) {
        const partitions: PartitionResult[] = [];
        results.push({ name: t.name, partitions });
        for (const p of t.partitions) {
          const answer = (errorCode: number, lowWatermark: bigint): void => {
            partitions.push({ partitionIndex: p.partitionIndex, lowWatermark, errorCode });
          };
          const log = topics.partitionLog(t.name, p.partitionIndex);
          if (log === null) {
            answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n);
            continue;
          }
          if (log.isOffline) {
            answer(ErrorCode.KAFKA_STORAGE_ERROR, -1n);
            continue;
          }
          if (!deletesOldSegments(log.logConfig)) {
            answer(ErrorCode.POLICY_VIOLATION, -1n);
            continue;
          }
          const highWatermark = log.logEndOffset;
          const offset = p.offset === HIGH_WATERMARK ? highWatermark : p.offset;
          if (offset < 0n || offset > highWatermark) {
            answer(ErrorCode.OFFSET_OUT_OF_RANGE, -1n);
            continue;
          }
          try {
            const before = log.logStartOffset;
            log.advanceLogStartOffset(offset);
            if (log.logStartOffset > before) advanced.push(log);
            answer(0, log.logStartOffset);
          } catch (err) {
            answer(godelErrorToKafka(err).errorCode, -1n);
          }
        }
      }
      if (advanced.length > 0) {
        try {
          await logManager.checkpointLogStartOffsets();
          for (const log of advanced) {
            logger.info({ log: log.describe(), logStartOffset: String(log.logStartOffset) }, 'deleted records');
            await log.deleteOldSegments();
          }
          await logManager.checkpointLogStartOffsets();
        } catch (err) {
          // The new start offsets are in effect; the next checkpoint or retention pass retries.
          logger.error({ err: String(err) }, 'checkpointing log start offsets after DeleteRecords failed');
        }
      }
      return { throttleTimeMs: 0, topics: results };
    },
  };
}
