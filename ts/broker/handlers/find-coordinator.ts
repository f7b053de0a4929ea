// FindCoordinator (10): which broker coordinates a group — the leader of the group's partition of
// __consumer_offsets (this node while it is alone). v4 looks up a batch of keys. Transaction
// coordinators do not exist here yet: COORDINATOR_NOT_AVAILABLE.
import { kafkaError } from '../../protocol/error-codes.js';
import type { FindCoordinatorResponseCoordinator } from '../../protocol/generated/find-coordinator-response.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

const BATCHED_FROM_VERSION = 4;

export function findCoordinatorHandler(services: BrokerServices): ApiHandler<10> {
  const { groupCoordinator } = services;
  const messageOf = (errorCode: number): string | null => (errorCode === 0 ? null : kafkaError(errorCode)?.message ?? null);
  return {
    apiKey: 10,
    minVersion: 0,
    maxVersion: 4,
    handle(request, ctx) {
      if (ctx.apiVersion >= BATCHED_FROM_VERSION) {
        const coordinators: FindCoordinatorResponseCoordinator[] = request.coordinatorKeys.map((key) => {
          const { errorCode, node } = groupCoordinator.findCoordinator(key, request.keyType);
          return {
            key, nodeId: node?.nodeId ?? -1, host: node?.host ?? '', port: node?.port ?? -1,
            errorCode, errorMessage: messageOf(errorCode),
          };
        });
        return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 0, host: '', port: 0, coordinators };
      }
      const { errorCode, node } = groupCoordinator.findCoordinator(request.key, request.keyType);
      return {
        throttleTimeMs: 0, errorCode, errorMessage: messageOf(errorCode),
        nodeId: node?.nodeId ?? -1, host: node?.host ?? '', port: node?.port ?? -1, coordinators: [],
      };
    },
  };
}
