// OffsetDelete in the group coordinator (Kafka's handleDeleteOffsets): unknown groups, simple and
// empty groups, consumer groups with members (GROUP_SUBSCRIBED_TO_TOPIC for subscribed topics),
// other protocol types, tombstones in the log before the answer, and a restart that keeps them.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../ts/clock.js';
import { GodelError } from '../../../ts/errors.js';
import { DEFAULT_GROUP_COORDINATOR_CONFIG, GroupCoordinator, type OffsetCommitEntry } from '../../../ts/group/group-coordinator.js';
import { decodeGroupRecordKey } from '../../../ts/group/group-records.js';
import { MemoryGroupStorage } from '../../../ts/group/offset-store.js';
import { ManualScheduler } from '../../../ts/group/scheduler.js';
import { silentLogger } from '../../../ts/log.js';
import { ErrorCode } from '../../../ts/protocol/error-codes.js';
import { encodeConsumerProtocolSubscriptionVersioned } from '../../../ts/protocol/generated/consumer-protocol-subscription.js';
import { Writer } from '../../../ts/protocol/writer.js';

const DELAY_MS = 100;

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function subscription(topics: string[]): Buffer {
  const w = new Writer(64);
  encodeConsumerProtocolSubscriptionVersioned(w, { topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null }, 1);
  return w.finish();
}

async function coordinator(storage = new MemoryGroupStorage()): Promise<{ c: GroupCoordinator; scheduler: ManualScheduler; storage: MemoryGroupStorage }> {
  const scheduler = new ManualScheduler(new ManualClock());
  const c = new GroupCoordinator(
    { ...DEFAULT_GROUP_COORDINATOR_CONFIG, offsetsTopicNumPartitions: 3, groupInitialRebalanceDelayMs: DELAY_MS },
    { storage, scheduler, logger: silentLogger, partitionLeader: () => ({ nodeId: 1, host: 'localhost', port: 9092 }) },
  );
  await c.start();
  await c.loaded();
  return { c, scheduler, storage };
}

const entry = (topic: string, partition: number, offset: bigint): OffsetCommitEntry =>
  ({ topic, partition, offset, leaderEpoch: -1, metadata: null, commitTimestampMs: -1 });

async function simpleCommit(c: GroupCoordinator, groupId: string, offsets: OffsetCommitEntry[]): Promise<void> {
  const results = await c.commitOffsets({ groupId, generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, offsets });
  expect(results.every((r) => r.errorCode === 0)).toBe(true);
}

const offsetOf = (c: GroupCoordinator, groupId: string, topic: string, partition: number): bigint =>
  c.fetchOffsets(groupId, [{ name: topic, partitions: [partition] }]).topics[0]!.partitions[0]!.offset;

/** One member joins with `protocolType` and metadata, and syncs: the group is Stable. */
async function stableGroup(c: GroupCoordinator, scheduler: ManualScheduler, groupId: string, protocolType: string, metadata: Buffer): Promise<{ memberId: string; generationId: number }> {
  const join = c.joinGroup({
    groupId, memberId: '', groupInstanceId: null, clientId: 'client', clientHost: '/127.0.0.1', sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000, protocolType, protocols: [{ name: 'range', metadata }], requireKnownMemberId: false,
    supportSkippingAssignment: false, reason: null,
  });
  scheduler.advance(DELAY_MS);
  await settle();
  const j = await join;
  expect(j.errorCode).toBe(0);
  const s = await c.syncGroup({
    groupId, generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, protocolType: null, protocolName: null,
    assignments: [{ memberId: j.memberId, assignment: Buffer.alloc(0) }],
  });
  expect(s.errorCode).toBe(0);
  expect(c.group(groupId)?.state).toBe('Stable');
  return { memberId: j.memberId, generationId: j.generationId };
}

/** The offset-commit keys tombstoned in the in-memory log. */
function tombstones(storage: MemoryGroupStorage): string[] {
  const out: string[] = [];
  for (const records of storage.partitions.values()) {
    for (const r of records) {
      if (r.value !== null) continue;
      const key = decodeGroupRecordKey(r.key);
      if (key.type === 'offset') out.push(`${key.group}/${key.topic}/${key.partition}`);
    }
  }
  return out.sort();
}

describe('group coordinator: deleteOffsets', () => {
  it('an unknown group is GROUP_ID_NOT_FOUND, with no per-partition answers', async () => {
    const { c } = await coordinator();
    expect(await c.deleteOffsets('nope', [{ topic: 't', partition: 0 }])).toEqual({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] });
  });

  it('removes a simple group\'s offsets with tombstones written before the answer; the group goes once it has none', async () => {
    const { c, storage } = await coordinator();
    await simpleCommit(c, 'simple', [entry('t', 0, 5n), entry('t', 1, 6n), entry('u', 0, 7n)]);
    const appends = storage.appends;
    const result = await c.deleteOffsets('simple', [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }, { topic: 't', partition: 2 }]);
    expect(result).toEqual({
      errorCode: 0,
      partitions: [{ topic: 't', partition: 0, errorCode: 0 }, { topic: 't', partition: 1, errorCode: 0 }, { topic: 't', partition: 2, errorCode: 0 }],
    });
    expect(storage.appends).toBe(appends + 1);
    expect(tombstones(storage)).toEqual(['simple/t/0', 'simple/t/1']);
    expect(offsetOf(c, 'simple', 't', 0)).toBe(-1n);
    expect(offsetOf(c, 'simple', 'u', 0)).toBe(7n);
    expect(c.group('simple')?.state).toBe('Empty');
    // The last offset goes: the group is dead and unknown afterwards.
    expect((await c.deleteOffsets('simple', [{ topic: 'u', partition: 0 }])).errorCode).toBe(0);
    expect(c.group('simple')).toBeUndefined();
    expect((await c.deleteOffsets('simple', [{ topic: 'u', partition: 0 }])).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('answers only after the append is acknowledged, and reports a failed append', async () => {
    const { c, storage } = await coordinator();
    await simpleCommit(c, 'g', [entry('t', 0, 1n), entry('t', 1, 2n)]);
    let open!: () => void;
    storage.gate = new Promise<void>((resolve) => { open = resolve; });
    let done = false;
    const pending = c.deleteOffsets('g', [{ topic: 't', partition: 0 }]).then((r) => { done = true; return r; });
    await settle();
    expect(done).toBe(false);
    open();
    storage.gate = null;
    expect((await pending).partitions[0]!.errorCode).toBe(0);
    storage.failWith = new GodelError('STORAGE_ERROR', 'io');
    const failed = await c.deleteOffsets('g', [{ topic: 't', partition: 1 }]);
    expect(failed.errorCode).toBe(0);
    expect(failed.partitions[0]!.errorCode).not.toBe(0);
  });

  it('keeps deleted offsets deleted across a restart (replay of the tombstones)', async () => {
    const storage = new MemoryGroupStorage();
    const first = await coordinator(storage);
    await simpleCommit(first.c, 'g', [entry('t', 0, 5n), entry('t', 1, 6n)]);
    await first.c.deleteOffsets('g', [{ topic: 't', partition: 0 }]);
    first.c.shutdown();
    const { c } = await coordinator(storage);
    expect(offsetOf(c, 'g', 't', 0)).toBe(-1n);
    expect(offsetOf(c, 'g', 't', 1)).toBe(6n);
  });

  it('a consumer group with members keeps the offsets of subscribed topics (GROUP_SUBSCRIBED_TO_TOPIC) and loses the others', async () => {
    const { c, scheduler } = await coordinator();
    const { memberId, generationId } = await stableGroup(c, scheduler, 'g', 'consumer', subscription(['t']));
    const committed = await c.commitOffsets({ groupId: 'g', generationId, memberId, groupInstanceId: null, retentionTimeMs: -1, offsets: [entry('t', 0, 3n), entry('old', 0, 4n)] });
    expect(committed.map((r) => r.errorCode)).toEqual([0, 0]);
    const result = await c.deleteOffsets('g', [{ topic: 't', partition: 0 }, { topic: 'old', partition: 0 }]);
    expect(result).toEqual({
      errorCode: 0,
      partitions: [{ topic: 't', partition: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }, { topic: 'old', partition: 0, errorCode: 0 }],
    });
    expect(offsetOf(c, 'g', 't', 0)).toBe(3n);
    expect(offsetOf(c, 'g', 'old', 0)).toBe(-1n);
    expect(c.group('g')?.state).toBe('Stable');
  });

  it('a consumer group whose subscriptions do not parse counts as subscribed to everything', async () => {
    const { c, scheduler } = await coordinator();
    await stableGroup(c, scheduler, 'g', 'consumer', Buffer.from([0xff]));
    const result = await c.deleteOffsets('g', [{ topic: 'any', partition: 0 }]);
    expect(result.partitions).toEqual([{ topic: 'any', partition: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }]);
  });

  it('a group with members of another protocol type is NON_EMPTY_GROUP', async () => {
    const { c, scheduler } = await coordinator();
    await stableGroup(c, scheduler, 'connect', 'connect', Buffer.from('x'));
    expect(await c.deleteOffsets('connect', [{ topic: 't', partition: 0 }])).toEqual({ errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] });
  });

  it('once the members leave, the consumer group is Empty and every offset can go', async () => {
    const { c, scheduler } = await coordinator();
    const { memberId, generationId } = await stableGroup(c, scheduler, 'g', 'consumer', subscription(['t']));
    await c.commitOffsets({ groupId: 'g', generationId, memberId, groupInstanceId: null, retentionTimeMs: -1, offsets: [entry('t', 0, 3n)] });
    c.leaveGroup('g', [{ memberId, groupInstanceId: null, reason: null }]);
    await settle();
    expect(c.group('g')?.state).toBe('Empty');
    expect((await c.deleteOffsets('g', [{ topic: 't', partition: 0 }])).partitions[0]!.errorCode).toBe(0);
    expect(offsetOf(c, 'g', 't', 0)).toBe(-1n);
  });
});
