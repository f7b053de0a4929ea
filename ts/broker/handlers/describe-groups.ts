// DescribeGroups (15): state, protocol type, protocol and members (client id, host, and in a
// Stable group their metadata and assignment). An unknown group is described as Dead, as Kafka
// does. v3+ may ask for the authorized operations: without ACLs, every group operation.
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

/** Kafka's "not requested" sentinel. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
/** READ (3), DELETE (6) and DESCRIBE (8): the operations a group supports, as a bit field. */
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

export function describeGroupsHandler(services: BrokerServices): ApiHandler<15> {
  const { groupCoordinator } = services;
  return {
    apiKey: 15,
    minVersion: 0,
    maxVersion: 5,
    handle(request, ctx) {
      const v = ctx.apiVersion;
      const authorizedOperations = v >= 3 && request.includeAuthorizedOperations ? GROUP_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;
      return {
        throttleTimeMs: 0,
        groups: request.groups.map((groupId) => {
          const d = groupCoordinator.describeGroup(groupId);
          return {
            errorCode: d.errorCode,
            groupId,
            groupState: d.state,
            protocolType: d.protocolType,
            protocolData: d.protocol,
            members: d.members.map((m) => ({
              memberId: m.memberId, groupInstanceId: v >= 4 ? m.groupInstanceId : null, clientId: m.clientId, clientHost: m.clientHost,
              memberMetadata: m.metadata, memberAssignment: m.assignment,
            })),
            authorizedOperations,
          };
        }),
      };
    },
  };
}
