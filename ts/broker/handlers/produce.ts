// Produce (0): validate, append and acknowledge. Appends to each partition are queued
// synchronously in request order, so pipelined produce requests on one connection land in order.
// acks=0 gets no response at all; acks=1 and acks=all (a single node is the whole ISR) answer
// once the append is in the log, or after fdatasync in durable mode.
import type { TopicInfo } from '../../cluster/control-plane.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ProduceResponsePartitionProduceResponse, ProduceResponseTopicProduceResponse } from '../../protocol/generated/produce-response.js';
import type { PartitionLog } from '../../storage/partition-log.js';
import { batchSize, CompressionCodec, compressionCodecOf, CURRENT_MAGIC, LOG_OVERHEAD, MAGIC_OFFSET } from '../../storage/record-batch.js';
import { NO_RESPONSE, type ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';
import { godelErrorToKafka } from '../topic-manager.js';

/** First Produce version that may carry zstd (KIP-110). */
const ZSTD_MIN_VERSION = 7;
const NO_LEADER = { leaderId: -1, leaderEpoch: -1 };

type PartitionResult = ProduceResponsePartitionProduceResponse;

function failed(index: number, errorCode: number, errorMessage: string | null): PartitionResult {
  return {
    index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n,
    recordErrors: [], errorMessage, currentLeader: NO_LEADER,
  };
}

export function produceHandler(services: BrokerServices): ApiHandler<0> {
  const { topics, logger } = services;

  /** Kafka's checks of a partition's records before they reach the log. */
  function check(records: Buffer | null, version: number, topic: TopicInfo, log: PartitionLog, acks: number): [number, string] | null {
    if (records === null || records.length < LOG_OVERHEAD) return [ErrorCode.INVALID_RECORD, 'a produce request needs one record batch per partition'];
    // Produce v0-2 is advertised for librdkafka's compression check, not to store old formats.
    if (records.length > MAGIC_OFFSET && records[MAGIC_OFFSET] !== CURRENT_MAGIC) {
      return [ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `message format v${records[MAGIC_OFFSET]} is not supported: send record batches (magic 2, Produce v3+)`];
    }
    if (batchSize(records, 0) !== records.length) {
      return [ErrorCode.INVALID_RECORD, 'produce requests v3 and later carry exactly one record batch per partition'];
    }
    if (version < ZSTD_MIN_VERSION && compressionCodecOf(records, 0) === CompressionCodec.Zstd) {
      return [ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `zstd needs produce v${ZSTD_MIN_VERSION} or later`];
    }
    if (acks === -1 && log.logConfig.minInsyncReplicas > topic.replicationFactor) {
      return [ErrorCode.NOT_ENOUGH_REPLICAS, `min.insync.replicas ${log.logConfig.minInsyncReplicas} exceeds the ${topic.replicationFactor} in-sync replica(s)`];
    }
    return null;
  }

  return {
    apiKey: 0,
    minVersion: 0,
    maxVersion: 11,
    handle(request, ctx) {
      const acks = request.acks;
      const pending: Promise<unknown>[] = [];
      const responses: ProduceResponseTopicProduceResponse[] = [];
      for (const topicData of request.topicData) {
        const partitionResponses: PartitionResult[] = [];
        responses.push({ name: topicData.name, partitionResponses });
        const topic = topics.topic(topicData.name);
        for (const data of topicData.partitionData) {
          if (acks !== 0 && acks !== 1 && acks !== -1) {
            partitionResponses.push(failed(data.index, ErrorCode.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1, got ${acks}`));
            continue;
          }
          if (request.transactionalId !== null) {
            partitionResponses.push(failed(data.index, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactions are not supported by this broker'));
            continue;
          }
          const log = topic === undefined ? null : topics.partitionLog(topic.name, data.index);
          if (topic === undefined || log === null) {
            partitionResponses.push(failed(data.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topicData.name}-${data.index} does not exist`));
            continue;
          }
          if (topic.internal) {
            partitionResponses.push(failed(data.index, ErrorCode.INVALID_TOPIC_EXCEPTION, `cannot append to internal topic ${topic.name}`));
            continue;
          }
          const refused = check(data.records, ctx.apiVersion, topic, log, acks);
          if (refused !== null) {
            partitionResponses.push(failed(data.index, refused[0], refused[1]));
            continue;
          }
          const slot = partitionResponses.length;
          partitionResponses.push(failed(data.index, ErrorCode.REQUEST_TIMED_OUT, null));
          pending.push(log.append(data.records!).then(
            (info) => {
              partitionResponses[slot] = {
                index: data.index, errorCode: 0, baseOffset: info.baseOffset,
                logAppendTimeMs: BigInt(info.logAppendTimeMs), logStartOffset: info.logStartOffset,
                recordErrors: [], errorMessage: null, currentLeader: NO_LEADER,
              };
            },
            (err: unknown) => {
              const { errorCode, errorMessage } = godelErrorToKafka(err);
              if (errorCode === ErrorCode.KAFKA_STORAGE_ERROR || errorCode === ErrorCode.UNKNOWN_SERVER_ERROR) {
                logger.error({ topic: topicData.name, partition: data.index, err: errorMessage }, 'append failed');
              }
              partitionResponses[slot] = failed(data.index, errorCode, errorMessage);
            },
          ));
        }
      }
      // Once every append settled (written or refused), nothing refers to the request's records:
      // the log copied nothing and keeps no view of them.
      const settled = pending.length === 0 ? null : Promise.all(pending);
      if (ctx.releaseRequestBuffer !== undefined) {
        if (settled === null) ctx.releaseRequestBuffer();
        else void settled.then(ctx.releaseRequestBuffer);
      }
      if (acks === 0) return NO_RESPONSE;
      const response = { responses, throttleTimeMs: 0, nodeEndpoints: [] };
      if (settled === null) return response;
      return settled.then(() => response);
    },
  };
}
