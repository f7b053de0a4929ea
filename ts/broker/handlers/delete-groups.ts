// DeleteGroups (42): removes empty groups and their offsets (tombstones in __consumer_offsets);
// a group with members gets NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND.
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

export function deleteGroupsHandler(services: BrokerServices): ApiHandler<42> {
  const { groupCoordinator } = services;
  return {
    apiKey: 42,
    minVersion: 0,
    maxVersion: 2,
    async handle(request) {
      const results = await groupCoordinator.deleteGroups(request.groupsNames);
      return { throttleTimeMs: 0, results };
    },
  };
}
