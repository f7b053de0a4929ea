// LeaveGroup (13): members leave (v0-2 one by member id; v3+ a batch, by member id or by group
// instance id). Up to v2 the response has one error code: the group's, else the member's.
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

const BATCH_FROM_VERSION = 3;

export function leaveGroupHandler(services: BrokerServices): ApiHandler<13> {
  const { groupCoordinator } = services;
  return {
    apiKey: 13,
    minVersion: 0,
    maxVersion: 5,
    handle(request, ctx) {
      const batch = ctx.apiVersion >= BATCH_FROM_VERSION;
      const leaving = batch
        ? request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, reason: m.reason }))
        : [{ memberId: request.memberId, groupInstanceId: null, reason: null }];
      const result = groupCoordinator.leaveGroup(request.groupId, leaving);
      if (!batch) {
        const errorCode = result.errorCode !== 0 ? result.errorCode : (result.members.find((m) => m.errorCode !== 0)?.errorCode ?? 0);
        return { throttleTimeMs: 0, errorCode, members: [] };
      }
      return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members };
    },
  };
}
