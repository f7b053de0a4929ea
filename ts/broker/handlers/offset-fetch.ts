// OffsetFetch (9): committed offsets, -1 where none is. v0-7 ask for one group (topics null from
// v2: every committed offset), v8+ for several. Up to v1 a group error is reported on each
// requested partition, since there is no top-level error code yet.
import type { OffsetFetchResponseGroup, OffsetFetchResponseTopic } from '../../protocol/generated/offset-fetch-response.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

const GROUPS_FROM_VERSION = 8;
const TOP_LEVEL_ERROR_FROM_VERSION = 2;

export function offsetFetchHandler(services: BrokerServices): ApiHandler<9> {
  const { groupCoordinator } = services;
  return {
    apiKey: 9,
    minVersion: 0,
    maxVersion: 9,
    handle(request, ctx) {
      const v = ctx.apiVersion;
      if (v >= GROUPS_FROM_VERSION) {
        const groups: OffsetFetchResponseGroup[] = request.groups.map((g) => {
          const result = groupCoordinator.fetchOffsets(g.groupId, g.topics === null ? null : g.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes })));
          return {
            groupId: g.groupId,
            errorCode: result.errorCode,
            topics: result.topics.map((t) => ({
              name: t.name,
              partitions: t.partitions.map((p) => ({
                partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: p.leaderEpoch, metadata: p.metadata, errorCode: p.errorCode,
              })),
            })),
          };
        });
        return { throttleTimeMs: 0, topics: [], errorCode: 0, groups };
      }
      const requested = request.topics === null ? null : request.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes }));
      const result = groupCoordinator.fetchOffsets(request.groupId, requested);
      let topics: OffsetFetchResponseTopic[];
      if (result.errorCode !== 0 && v < TOP_LEVEL_ERROR_FROM_VERSION) {
        topics = (requested ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: result.errorCode })),
        }));
      } else {
        topics = result.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: p.leaderEpoch, metadata: p.metadata, errorCode: p.errorCode,
          })),
        }));
      }
      return { throttleTimeMs: 0, topics, errorCode: v >= TOP_LEVEL_ERROR_FROM_VERSION ? result.errorCode : 0, groups: [] };
    },
  };
}
