// CreatePartitions (37): raises a topic's partition count (never lowers it). New partitions get
// empty logs at once; an explicit assignment must put each new partition on this node alone.
// validate_only checks and changes nothing. Internal topics keep their count: groups map to
// __consumer_offsets partitions by a hash modulo that count.
import { ErrorCode } from '../../protocol/error-codes.js';
import type { CreatePartitionsRequestCreatePartitionsTopic } from '../../protocol/generated/create-partitions-request.js';
import type { CreatePartitionsResponseCreatePartitionsTopicResult } from '../../protocol/generated/create-partitions-response.js';
import { Mutex } from '../../storage/mutex.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';
import { apiError, godelErrorToKafka, topicNameError, type ApiError } from '../topic-manager.js';

/** The same bound CreateTopics applies (TopicManager.validateCreate). */
const PARTITIONS_MAX = 100_000;

type Result = CreatePartitionsResponseCreatePartitionsTopicResult;

export function createPartitionsHandler(services: BrokerServices): ApiHandler<37> {
  const { topics, config, logger } = services;
  // Check and change under one lock, so two requests never lower a count between them.
  const mutex = new Mutex();

  function check(t: CreatePartitionsRequestCreatePartitionsTopic): ApiError | null {
    const nameError = topicNameError(t.name);
    if (nameError !== null) return apiError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
    const topic = topics.topic(t.name);
    if (topic === undefined) return apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${t.name}' does not exist.`);
    if (topic.internal) return apiError(ErrorCode.INVALID_REQUEST, `The partition count of internal topic ${t.name} cannot change.`);
    if (t.count === topic.partitions) return apiError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${topic.partitions} partitions.`);
    if (t.count < topic.partitions) {
      return apiError(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${topic.partitions} partitions, which is higher than the requested ${t.count}.`);
    }
    if (t.count > PARTITIONS_MAX) return apiError(ErrorCode.INVALID_PARTITIONS, `Number of partitions must be at most ${PARTITIONS_MAX}, got ${t.count}.`);
    // An empty list asks for no particular placement, like null (Kafka would refuse it).
    if (t.assignments !== null && t.assignments.length > 0) {
      const added = t.count - topic.partitions;
      if (t.assignments.length !== added) {
        return apiError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Increasing the number of partitions by ${added} but ${t.assignments.length} assignments provided.`);
      }
      for (const a of t.assignments) {
        if (a.brokerIds.length !== 1 || a.brokerIds[0] !== config.nodeId) {
          return apiError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Replica assignment [${a.brokerIds.join(',')}] is not supported: this single-node broker can only place replicas on node ${config.nodeId}.`);
        }
      }
    }
    return null;
  }

  return {
    apiKey: 37,
    minVersion: 0,
    maxVersion: 3,
    async handle(request) {
      const names = request.topics.map((t) => t.name);
      const results: Result[] = [];
      for (const t of request.topics) {
        const answer = (error: ApiError | null): void => {
          results.push({ name: t.name, errorCode: error?.errorCode ?? 0, errorMessage: error?.errorMessage ?? null });
        };
        if (names.indexOf(t.name) !== names.lastIndexOf(t.name)) {
          answer(apiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic in the request.'));
          continue;
        }
        answer(await mutex.runExclusive(async () => {
          const error = check(t);
          if (error !== null || request.validateOnly) return error;
          try {
            const before = topics.topic(t.name)!.partitions;
            await topics.addPartitions(t.name, t.count);
            logger.info({ topic: t.name, from: before, to: t.count }, 'added partitions');
            return null;
          } catch (err) {
            return godelErrorToKafka(err);
          }
        }));
      }
      return { throttleTimeMs: 0, results };
    },
  };
}
