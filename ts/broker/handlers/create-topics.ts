// CreateTopics (19): several topics per request, each answered on its own. -1 partitions or
// replication factor take the broker defaults; a manual assignment is accepted only when every
// partition lives on this node alone. validate_only checks everything and creates nothing.
// v5+ answers with the partitions, replication factor and resulting configs; v7 with the topic id.
import { ErrorCode } from '../../protocol/error-codes.js';
import type { CreateTopicsRequestCreatableTopic } from '../../protocol/generated/create-topics-request.js';
import type { CreateTopicsResponseCreatableTopicResult } from '../../protocol/generated/create-topics-response.js';
import { ZERO_UUID } from '../../protocol/reader.js';
import type { ApiHandler } from '../api-registry.js';
import { configResourcesFor } from '../config-resources.js';
import type { BrokerServices } from '../services.js';
import { apiError, godelErrorToKafka, type ApiError, type CreateTopicSpec } from '../topic-manager.js';

type Result = CreateTopicsResponseCreatableTopicResult;

export function createTopicsHandler(services: BrokerServices): ApiHandler<19> {
  const { topics, controlPlane, config, logger } = services;
  const resources = configResourcesFor(services);

  function failed(name: string, error: ApiError): Result {
    return {
      name, topicId: ZERO_UUID, errorCode: error.errorCode, errorMessage: error.errorMessage,
      topicConfigErrorCode: 0, numPartitions: -1, replicationFactor: -1, configs: [],
    };
  }

  /** The spec a request entry asks for, or why it cannot be served. */
  function specOf(t: CreateTopicsRequestCreatableTopic): CreateTopicSpec | ApiError {
    const configs: Record<string, string> = {};
    for (const c of t.configs) {
      if (Object.hasOwn(configs, c.name)) return apiError(ErrorCode.INVALID_REQUEST, `Duplicate config key ${c.name} for topic ${t.name}`);
      if (c.value === null) return apiError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${c.name}`);
      configs[c.name] = c.value;
    }
    if (t.assignments.length === 0) return { name: t.name, partitions: t.numPartitions, replicationFactor: t.replicationFactor, configs };
    if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
      return apiError(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.');
    }
    const seen = new Set<number>();
    for (const a of t.assignments) {
      if (a.partitionIndex < 0 || a.partitionIndex >= t.assignments.length || seen.has(a.partitionIndex)) {
        return apiError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be numbered consecutively from 0, each once.');
      }
      seen.add(a.partitionIndex);
      if (a.brokerIds.length !== 1 || a.brokerIds[0] !== config.nodeId) {
        return apiError(ErrorCode.INVALID_REQUEST, `Manual replica assignment [${a.brokerIds.join(',')}] for partition ${a.partitionIndex} is not supported: this single-node broker can only place replicas on node ${config.nodeId}.`);
      }
    }
    return { name: t.name, partitions: t.assignments.length, replicationFactor: 1, configs };
  }

  return {
    apiKey: 19,
    minVersion: 0,
    maxVersion: 7,
    async handle(request, ctx) {
      const validateOnly = ctx.apiVersion >= 1 && request.validateOnly;
      const counts = new Map<string, number>();
      for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      const results: Result[] = [];
      const reportedDuplicates = new Set<string>();
      for (const t of request.topics) {
        if (counts.get(t.name)! > 1) {
          // Kafka answers a name given twice once, with INVALID_REQUEST.
          if (!reportedDuplicates.has(t.name)) results.push(failed(t.name, apiError(ErrorCode.INVALID_REQUEST, `Duplicate topic name ${t.name} in the request.`)));
          reportedDuplicates.add(t.name);
          continue;
        }
        const spec = specOf(t);
        if ('errorCode' in spec) {
          results.push(failed(t.name, spec));
          continue;
        }
        const valid = topics.validateCreate(spec, controlPlane.brokers().length);
        if ('error' in valid) {
          results.push(failed(t.name, valid.error));
          continue;
        }
        let topicId = ZERO_UUID;
        let created = valid.spec;
        if (!validateOnly) {
          try {
            const info = await topics.create(valid.spec);
            topicId = info.topicId;
            created = { ...valid.spec, partitions: info.partitions, replicationFactor: info.replicationFactor, configs: info.configs };
          } catch (err) {
            const error = godelErrorToKafka(err);
            if (error.errorCode === ErrorCode.UNKNOWN_SERVER_ERROR) logger.error({ topic: t.name, err: String(err) }, 'creating a topic failed');
            results.push(failed(t.name, error));
            continue;
          }
        }
        results.push({
          name: t.name, topicId, errorCode: 0, errorMessage: null, topicConfigErrorCode: 0,
          numPartitions: created.partitions, replicationFactor: created.replicationFactor,
          configs: resources.topicEntries(created.configs).map((e) => ({
            name: e.name, value: e.value, readOnly: e.readOnly, configSource: e.source, isSensitive: e.isSensitive,
          })),
        });
      }
      return { throttleTimeMs: 0, topics: results };
    },
  };
}
