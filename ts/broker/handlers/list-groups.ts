// ListGroups (16): the groups this coordinator holds; v4+ filter by state (case-insensitive), v5
// by type (all groups here are "classic").
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

export function listGroupsHandler(services: BrokerServices): ApiHandler<16> {
  const { groupCoordinator } = services;
  return {
    apiKey: 16,
    minVersion: 0,
    maxVersion: 5,
    handle(request, ctx) {
      const v = ctx.apiVersion;
      const result = groupCoordinator.listGroups(v >= 4 ? request.statesFilter : [], v >= 5 ? request.typesFilter : []);
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        groups: result.groups.map((g) => ({
          groupId: g.groupId, protocolType: g.protocolType, groupState: v >= 4 ? g.state : '', groupType: v >= 5 ? g.groupType : '',
        })),
      };
    },
  };
}
