// Heartbeat (12): keeps a member's session alive and tells it whether a rebalance is under way.
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

export function heartbeatHandler(services: BrokerServices): ApiHandler<12> {
  const { groupCoordinator } = services;
  return {
    apiKey: 12,
    minVersion: 0,
    maxVersion: 4,
    handle(request, ctx) {
      const errorCode = groupCoordinator.heartbeat({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: ctx.apiVersion >= 3 ? request.groupInstanceId : null,
      });
      return { throttleTimeMs: 0, errorCode };
    },
  };
}
