// DeleteTopics (20): by name (v0-5) or by name or topic id (v6). A deleted topic leaves the
// metadata at once and its files are removed in the background (TopicManager.delete).
// `delete.topic.enable=false` refuses every deletion; internal topics are never deleted.
import type { TopicInfo } from '../../cluster/control-plane.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { DeleteTopicsResponseDeletableTopicResult } from '../../protocol/generated/delete-topics-response.js';
import { ZERO_UUID } from '../../protocol/reader.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';
import { godelErrorToKafka } from '../topic-manager.js';

type Result = DeleteTopicsResponseDeletableTopicResult;

export function deleteTopicsHandler(services: BrokerServices): ApiHandler<20> {
  const { topics, config, logger } = services;
  return {
    apiKey: 20,
    minVersion: 0,
    maxVersion: 6,
    async handle(request, ctx) {
      const v6 = ctx.apiVersion >= 6;
      const wanted: { name: string | null; topicId: string }[] = v6
        ? request.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
        : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
      const keyOf = (w: { name: string | null; topicId: string }): string => (w.name !== null ? `name:${w.name}` : `id:${w.topicId}`);
      const keys = wanted.map(keyOf);
      const responses: Result[] = [];
      for (const [i, w] of wanted.entries()) {
        const answer = (errorCode: number, errorMessage: string | null, topic?: TopicInfo): void => {
          responses.push({
            name: topic?.name ?? w.name,
            topicId: v6 ? topic?.topicId ?? w.topicId : ZERO_UUID,
            errorCode,
            errorMessage,
          });
        };
        if (keys.indexOf(keys[i]!) !== keys.lastIndexOf(keys[i]!)) {
          answer(ErrorCode.INVALID_REQUEST, 'Duplicate topic in the request.');
          continue;
        }
        const byId = w.name === null;
        if (byId && w.topicId === ZERO_UUID) {
          answer(ErrorCode.INVALID_REQUEST, 'A topic needs a name or a topic id.');
          continue;
        }
        const topic = byId ? topics.topicById(w.topicId) : topics.topic(w.name!);
        if (topic === undefined) {
          if (byId) answer(ErrorCode.UNKNOWN_TOPIC_ID, `Topic id ${w.topicId} does not exist.`);
          else answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${w.name}' does not exist.`);
          continue;
        }
        if (!config.deleteTopicEnable) {
          answer(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled (delete.topic.enable=false).', topic);
          continue;
        }
        if (topic.internal) {
          answer(ErrorCode.INVALID_REQUEST, `Internal topic ${topic.name} cannot be deleted.`, topic);
          continue;
        }
        try {
          const deleted = await topics.delete(topic.name);
          if (deleted === undefined) answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${topic.name}' does not exist.`, topic);
          else {
            logger.info({ topic: topic.name, topicId: topic.topicId }, 'deleted topic');
            answer(0, null, topic);
          }
        } catch (err) {
          const error = godelErrorToKafka(err);
          answer(error.errorCode, error.errorMessage, topic);
        }
      }
      return { throttleTimeMs: 0, responses };
    },
  };
}
