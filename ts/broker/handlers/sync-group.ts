// SyncGroup (14): the leader brings the assignment; every member gets its own part once it is
// stored. v3+ carry group.instance.id, v5 the protocol type and name (mandatory there).
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

const EMPTY = Buffer.alloc(0);

export function syncGroupHandler(services: BrokerServices): ApiHandler<14> {
  const { groupCoordinator } = services;
  return {
    apiKey: 14,
    minVersion: 0,
    maxVersion: 5,
    async handle(request, ctx) {
      const v = ctx.apiVersion;
      if (v >= 5 && (request.protocolType === null || request.protocolName === null)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, protocolType: null, protocolName: null, assignment: EMPTY };
      }
      const result = await groupCoordinator.syncGroup({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: v >= 3 ? request.groupInstanceId : null,
        protocolType: v >= 5 ? request.protocolType : null,
        protocolName: v >= 5 ? request.protocolName : null,
        assignments: request.assignments,
      });
      return {
        throttleTimeMs: 0, errorCode: result.errorCode,
        protocolType: result.protocolType, protocolName: result.protocolName, assignment: result.assignment,
      };
    },
  };
}
