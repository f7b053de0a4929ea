// The group API handlers at every version we advertise: requests go through the generated request
// codec, responses through the response codec, so a field a version cannot carry fails here.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiHandler, RequestContext } from '../../../ts/broker/api-registry.js';
import { deleteGroupsHandler } from '../../../ts/broker/handlers/delete-groups.js';
import { describeGroupsHandler } from '../../../ts/broker/handlers/describe-groups.js';
import { findCoordinatorHandler } from '../../../ts/broker/handlers/find-coordinator.js';
import { heartbeatHandler } from '../../../ts/broker/handlers/heartbeat.js';
import { clientHostOf, joinGroupHandler } from '../../../ts/broker/handlers/join-group.js';
import { leaveGroupHandler } from '../../../ts/broker/handlers/leave-group.js';
import { listGroupsHandler } from '../../../ts/broker/handlers/list-groups.js';
import { offsetCommitHandler } from '../../../ts/broker/handlers/offset-commit.js';
import { offsetFetchHandler } from '../../../ts/broker/handlers/offset-fetch.js';
import { syncGroupHandler } from '../../../ts/broker/handlers/sync-group.js';
import type { BrokerServices } from '../../../ts/broker/services.js';
import { ManualClock } from '../../../ts/clock.js';
import { DEFAULT_GROUP_COORDINATOR_CONFIG, GroupCoordinator } from '../../../ts/group/group-coordinator.js';
import { MemoryGroupStorage } from '../../../ts/group/offset-store.js';
import { ManualScheduler } from '../../../ts/group/scheduler.js';
import { silentLogger } from '../../../ts/log.js';
import { ErrorCode } from '../../../ts/protocol/error-codes.js';
import { encodeConsumerProtocolAssignmentVersioned } from '../../../ts/protocol/generated/consumer-protocol-assignment.js';
import { protocolCodec as apiCodec, type ProtocolMessages as ApiMessages } from '../../../ts/protocol/codecs.js';
import type { ApiKeyWithCodec } from '../../../ts/protocol/headers.js';
import { Reader } from '../../../ts/protocol/reader.js';
import { Writer } from '../../../ts/protocol/writer.js';

const clock = new ManualClock();
const scheduler = new ManualScheduler(clock);
const coordinator = new GroupCoordinator(
  { ...DEFAULT_GROUP_COORDINATOR_CONFIG, offsetsTopicNumPartitions: 5, groupInitialRebalanceDelayMs: 0 },
  { storage: new MemoryGroupStorage(), scheduler, logger: silentLogger, partitionLeader: () => ({ nodeId: 7, host: 'broker-7', port: 9093 }) },
);
const services = {
  groupCoordinator: coordinator,
  topics: { topic: (name: string) => (name === 't' ? { name: 't', partitions: 2 } : undefined) },
} as unknown as BrokerServices;

const handlers = {
  find: findCoordinatorHandler(services), join: joinGroupHandler(services), sync: syncGroupHandler(services),
  heartbeat: heartbeatHandler(services), leave: leaveGroupHandler(services), commit: offsetCommitHandler(services),
  fetch: offsetFetchHandler(services), list: listGroupsHandler(services), describe: describeGroupsHandler(services),
  delete: deleteGroupsHandler(services),
};

/** Encodes the request at `version`, decodes it as the broker would, handles it, and round-trips the response. */
async function call<K extends ApiKeyWithCodec>(handler: ApiHandler<K>, version: number, request: ApiMessages[K]['request']): Promise<ApiMessages[K]['response']> {
  const codec = apiCodec(handler.apiKey)!;
  const w = new Writer();
  codec.request.encode(w, request, version);
  const decoded = codec.request.decode(new Reader(w.finish()), version) as ApiMessages[K]['request'];
  const ctx: RequestContext = { apiKey: handler.apiKey, apiVersion: version, correlationId: 1, clientId: 'test-client', connectionId: 1, remoteAddress: '127.0.0.1:50000' };
  const response = await handler.handle(decoded, ctx);
  if (typeof response === 'symbol') throw new Error('no response');
  const out = new Writer();
  codec.response.encode(out, response, version);
  return codec.response.decode(new Reader(out.finish()), version) as ApiMessages[K]['response'];
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const assignmentBytes = (): Buffer => {
  const w = new Writer();
  encodeConsumerProtocolAssignmentVersioned(w, { assignedPartitions: [{ topic: 't', partitions: [0, 1] }], userData: null }, 0);
  return w.finish();
};

describe('group API handlers', () => {
  beforeAll(async () => {
    await coordinator.start();
    await coordinator.loaded();
  });

  it('finds the coordinator, one key up to v3, a batch in v4', async () => {
    for (let v = 0; v <= 3; v++) {
      const r = await call(handlers.find, v, { key: 'g', keyType: 0, coordinatorKeys: [] });
      expect(r).toMatchObject({ errorCode: 0, nodeId: 7, host: 'broker-7', port: 9093 });
    }
    const txn = await call(handlers.find, 1, { key: 'tx', keyType: 1, coordinatorKeys: [] });
    expect(txn).toMatchObject({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, nodeId: -1, host: '', port: -1 });
    expect(txn.errorMessage).toMatch(/not available/);
    const batch = await call(handlers.find, 4, { key: '', keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(batch.coordinators).toEqual([
      { key: 'a', nodeId: 7, host: 'broker-7', port: 9093, errorCode: 0, errorMessage: null },
      { key: 'b', nodeId: 7, host: 'broker-7', port: 9093, errorCode: 0, errorMessage: null },
    ]);
  });

  for (let v = 0; v <= 9; v++) {
    it(`runs a member's whole life at JoinGroup v${v} (and the matching versions of the other APIs)`, async () => {
      const groupId = `group-v${v}`;
      const protocols = [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 116, 0, 0, 0, 0]) }];
      const joinRequest = (memberId: string) => ({
        groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: v >= 1 ? 20_000 : -1, memberId, groupInstanceId: null,
        protocolType: 'consumer', protocols, reason: v >= 8 ? 'testing' : null,
      });
      let memberId = '';
      if (v >= 4) {
        const first = await call(handlers.join, v, joinRequest(''));
        expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
        expect(first.memberId).toMatch(/^test-client-/);
        memberId = first.memberId;
      }
      const pending = call(handlers.join, v, joinRequest(memberId));
      scheduler.advance(0);
      const joined = await pending;
      expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', skipAssignment: false });
      expect(joined.protocolType).toBe(v >= 7 ? 'consumer' : null);
      memberId = joined.memberId;
      expect(joined.leader).toBe(memberId);
      expect(joined.members.map((m) => m.metadata)).toEqual([protocols[0]!.metadata]);

      const sv = Math.min(v, 5);
      const synced = await call(handlers.sync, sv, {
        groupId, generationId: 1, memberId, groupInstanceId: null,
        protocolType: sv >= 5 ? 'consumer' : null, protocolName: sv >= 5 ? 'range' : null,
        assignments: [{ memberId, assignment: assignmentBytes() }],
      });
      expect(synced).toMatchObject({ errorCode: 0, assignment: assignmentBytes() });
      expect(synced.protocolName).toBe(sv >= 5 ? 'range' : null);

      const hb = await call(handlers.heartbeat, Math.min(v, 4), { groupId, generationId: 1, memberId, groupInstanceId: null });
      expect(hb.errorCode).toBe(0);
      const staleHb = await call(handlers.heartbeat, Math.min(v, 4), { groupId, generationId: 0, memberId, groupInstanceId: null });
      expect(staleHb.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);

      const committed = await call(handlers.commit, v, {
        groupId, generationIdOrMemberEpoch: v >= 1 ? 1 : -1, memberId: v >= 1 ? memberId : '', groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [
          { name: 't', partitions: [
            { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: v >= 6 ? 3 : -1, commitTimestamp: -1n, committedMetadata: 'meta' },
            { partitionIndex: 9, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null },
          ] },
          { name: 'missing', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null }] },
        ],
      });
      // v0 carries no generation: a simple commit, refused by a group that has members.
      expect(committed.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([
        [v === 0 ? ErrorCode.UNKNOWN_MEMBER_ID : 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ]);

      const expectedOffset = v === 0 ? -1n : 42n;
      if (v >= 8) {
        const fetched = await call(handlers.fetch, v, {
          groupId: '', topics: [], requireStable: false,
          groups: [
            { groupId, memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0, 1] }] },
            { groupId: 'nobody', memberId: null, memberEpoch: -1, topics: null },
          ],
        });
        expect(fetched.groups[0]!.topics[0]!.partitions.map((p) => [p.committedOffset, p.committedLeaderEpoch])).toEqual([[expectedOffset, 3], [-1n, -1]]);
        expect(fetched.groups[1]).toEqual({ groupId: 'nobody', topics: [], errorCode: 0 });
      } else {
        const fetched = await call(handlers.fetch, v, { groupId, topics: [{ name: 't', partitionIndexes: [0, 1] }], groups: [], requireStable: false });
        expect(fetched.topics[0]!.partitions.map((p) => p.committedOffset)).toEqual([expectedOffset, -1n]);
        expect(fetched.topics[0]!.partitions[0]!.committedLeaderEpoch).toBe(v >= 6 ? 3 : -1);
        if (v >= 2) {
          const all = await call(handlers.fetch, v, { groupId, topics: null, groups: [], requireStable: false });
          expect(all.topics.map((t) => t.name)).toEqual(['t']);
        }
      }

      const described = await call(handlers.describe, Math.min(v, 5), { groups: [groupId], includeAuthorizedOperations: Math.min(v, 5) >= 3 });
      expect(described.groups[0]).toMatchObject({
        errorCode: 0, groupId, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range',
        authorizedOperations: Math.min(v, 5) >= 3 ? 328 : -2147483648,
      });
      expect(described.groups[0]!.members[0]).toMatchObject({ memberId, clientId: 'test-client', clientHost: '/127.0.0.1', memberAssignment: assignmentBytes() });

      const lv = Math.min(v, 5);
      const listed = await call(handlers.list, lv, { statesFilter: lv >= 4 ? ['Stable'] : [], typesFilter: lv >= 5 ? ['classic'] : [] });
      expect(listed.groups.find((g) => g.groupId === groupId)).toMatchObject({ protocolType: 'consumer', groupState: lv >= 4 ? 'Stable' : '' });

      const nonEmpty = await call(handlers.delete, Math.min(v, 2), { groupsNames: [groupId] });
      expect(nonEmpty.results).toEqual([{ groupId, errorCode: ErrorCode.NON_EMPTY_GROUP }]);

      const leaveVersion = Math.min(v, 5);
      const left = leaveVersion >= 3
        ? await call(handlers.leave, leaveVersion, { groupId, memberId: '', members: [{ memberId, groupInstanceId: null, reason: leaveVersion >= 5 ? 'done' : null }, { memberId: 'ghost', groupInstanceId: null, reason: null }] })
        : await call(handlers.leave, leaveVersion, { groupId, memberId, members: [] });
      expect(left.errorCode).toBe(0);
      if (leaveVersion >= 3) expect(left.members.map((m) => m.errorCode)).toEqual([0, ErrorCode.UNKNOWN_MEMBER_ID]);
      await settle();
      const gone = await call(handlers.leave, Math.min(lv, 2), { groupId, memberId, members: [] });
      expect(gone.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

      const deleted = await call(handlers.delete, Math.min(v, 2), { groupsNames: [groupId, 'never-existed'] });
      expect(deleted.results).toEqual([{ groupId, errorCode: 0 }, { groupId: 'never-existed', errorCode: ErrorCode.GROUP_ID_NOT_FOUND }]);
    });
  }

  it('refuses SyncGroup v5 without protocol type and name', async () => {
    const r = await call(handlers.sync, 5, { groupId: 'x', generationId: 1, memberId: 'm', groupInstanceId: null, protocolType: null, protocolName: 'range', assignments: [] });
    expect(r.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('reports a group error on each partition for OffsetFetch v0-1, top level from v2', async () => {
    const v1 = await call(handlers.fetch, 1, { groupId: '', topics: [{ name: 't', partitionIndexes: [0] }], groups: [], requireStable: false });
    expect(v1.topics[0]!.partitions[0]!.errorCode).toBe(0);
    coordinator.onResignation(coordinator.partitionFor('elsewhere'));
    const old = await call(handlers.fetch, 1, { groupId: 'elsewhere', topics: [{ name: 't', partitionIndexes: [0, 1] }], groups: [], requireStable: false });
    expect(old.topics[0]!.partitions.map((p) => [p.errorCode, p.committedOffset])).toEqual([[ErrorCode.NOT_COORDINATOR, -1n], [ErrorCode.NOT_COORDINATOR, -1n]]);
    const newer = await call(handlers.fetch, 2, { groupId: 'elsewhere', topics: [{ name: 't', partitionIndexes: [0] }], groups: [], requireStable: false });
    expect(newer).toMatchObject({ errorCode: ErrorCode.NOT_COORDINATOR, topics: [] });
    await coordinator.onElection(coordinator.partitionFor('elsewhere'));
  });

  it('reports the client host as Kafka does', () => {
    expect(clientHostOf('127.0.0.1:5000')).toBe('/127.0.0.1');
    expect(clientHostOf('::ffff:10.0.0.2:5000')).toBe('/10.0.0.2');
    expect(clientHostOf('::1:5000')).toBe('/::1');
  });
});
