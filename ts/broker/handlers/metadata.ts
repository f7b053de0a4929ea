// Metadata (3): brokers, cluster id, controller, and topics with their partitions. Auto-creation
// follows Kafka: v0-3 requests always may create, v4+ only with allow_auto_topic_creation, and
// only when `auto.create.topics.enable`; an all-topics request never creates.
import type { TopicInfo } from '../../cluster/control-plane.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { MetadataResponsePartition, MetadataResponseTopic } from '../../protocol/generated/metadata-response.js';
import { ZERO_UUID } from '../../protocol/reader.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';
import { topicNameError } from '../topic-manager.js';

/** Kafka's "authorized operations not requested" sentinel. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export function metadataHandler(services: BrokerServices): ApiHandler<3> {
  const { config, topics, controlPlane, logger } = services;

  function describe(topic: TopicInfo): MetadataResponseTopic {
    const partitions: MetadataResponsePartition[] = [];
    for (let p = 0; p < topic.partitions; p++) {
      partitions.push({
        errorCode: 0, partitionIndex: p, leaderId: config.nodeId, leaderEpoch: 0,
        replicaNodes: [config.nodeId], isrNodes: [config.nodeId], offlineReplicas: [],
      });
    }
    return {
      errorCode: 0, name: topic.name, topicId: topic.topicId, isInternal: topic.internal, partitions,
      topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
  }

  function missing(name: string | null, topicId: string, errorCode: number): MetadataResponseTopic {
    return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
  }

  async function lookup(name: string, mayCreate: boolean): Promise<MetadataResponseTopic> {
    const existing = topics.topic(name);
    if (existing !== undefined) return describe(existing);
    const nameError = topicNameError(name);
    if (nameError !== null) return missing(name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
    if (!mayCreate) return missing(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const valid = topics.validateCreate({ name, partitions: -1, replicationFactor: -1, configs: {} }, controlPlane.brokers().length);
    if ('error' in valid) {
      // Created by a concurrent request in the meantime.
      const raced = topics.topic(name);
      return raced !== undefined ? describe(raced) : missing(name, ZERO_UUID, valid.error.errorCode);
    }
    try {
      return describe(await topics.create(valid.spec));
    } catch (err) {
      const raced = topics.topic(name);
      if (raced !== undefined) return describe(raced);
      logger.error({ topic: name, err: String(err) }, 'auto-creating a topic failed');
      return missing(name, ZERO_UUID, ErrorCode.LEADER_NOT_AVAILABLE);
    }
  }

  return {
    apiKey: 3,
    minVersion: 0,
    maxVersion: 12,
    async handle(request, ctx) {
      const mayCreate = config.autoCreateTopicsEnable && (ctx.apiVersion < 4 || request.allowAutoTopicCreation);
      let result: MetadataResponseTopic[];
      // v0: an empty list means all topics; v1+: null means all topics.
      const all = request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0);
      if (all) {
        result = topics.topics().map(describe);
      } else {
        result = [];
        for (const t of request.topics!) {
          if (t.name === null) {
            const byId = topics.topicById(t.topicId);
            result.push(byId !== undefined ? describe(byId) : missing(null, t.topicId, ErrorCode.UNKNOWN_TOPIC_ID));
          } else {
            result.push(await lookup(t.name, mayCreate));
          }
        }
      }
      return {
        throttleTimeMs: 0,
        brokers: controlPlane.brokers().map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
        clusterId: controlPlane.clusterId(),
        controllerId: controlPlane.controllerId(),
        topics: result,
        clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      };
    },
  };
}
