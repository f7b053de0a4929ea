// The classic group state machine, driven by a manual clock: joins, syncs, heartbeats, timeouts,
// leaves, static members, generation checks, the protocol vote, MEMBER_ID_REQUIRED, offsets and
// their persistence, over records kept in memory.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../ts/clock.js';
import { GodelError } from '../../../ts/errors.js';
import {
  DEFAULT_GROUP_COORDINATOR_CONFIG,
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type JoinGroupParams,
  type OffsetCommitParams,
} from '../../../ts/group/group-coordinator.js';
import { decodeGroupMetadataValue, decodeGroupRecordKey, decodeOffsetCommitValue } from '../../../ts/group/group-records.js';
import type { JoinGroupResult, SyncGroupResult } from '../../../ts/group/member-metadata.js';
import { MemoryGroupStorage, type GroupStorage } from '../../../ts/group/offset-store.js';
import { ManualScheduler } from '../../../ts/group/scheduler.js';
import { silentLogger } from '../../../ts/log.js';
import { ErrorCode } from '../../../ts/protocol/error-codes.js';

const SESSION_MS = 10_000;
const REBALANCE_MS = 30_000;
const DELAY_MS = 100;

interface Tracked<T> {
  done: boolean;
  value: T | undefined;
}

function track<T>(promise: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { done: false, value: undefined };
  void promise.then((v) => {
    t.done = true;
    t.value = v;
  });
  return t;
}

/** Lets promise continuations (appends, callbacks) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function value<T>(t: Tracked<T>): T {
  if (!t.done) throw new Error('not answered yet');
  return t.value!;
}

const meta = (s: string): Buffer => Buffer.from(s);

class Harness {
  readonly clock = new ManualClock();
  readonly scheduler = new ManualScheduler(this.clock);
  readonly coordinator: GroupCoordinator;

  constructor(readonly storage: GroupStorage = new MemoryGroupStorage(), config: Partial<GroupCoordinatorConfig> = {}) {
    this.coordinator = new GroupCoordinator(
      { ...DEFAULT_GROUP_COORDINATOR_CONFIG, offsetsTopicNumPartitions: 3, groupInitialRebalanceDelayMs: DELAY_MS, ...config },
      { storage, scheduler: this.scheduler, logger: silentLogger, partitionLeader: () => ({ nodeId: 1, host: 'localhost', port: 9092 }) },
    );
  }

  async start(): Promise<this> {
    await this.coordinator.start();
    await this.coordinator.loaded();
    return this;
  }

  join(overrides: Partial<JoinGroupParams> = {}): Tracked<JoinGroupResult> {
    return track(this.coordinator.joinGroup({
      groupId: 'g', memberId: '', groupInstanceId: null, clientId: 'client', clientHost: '/127.0.0.1',
      sessionTimeoutMs: SESSION_MS, rebalanceTimeoutMs: REBALANCE_MS, protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: meta('m') }], requireKnownMemberId: false, supportSkippingAssignment: false, reason: null,
      ...overrides,
    }));
  }

  sync(memberId: string, generationId: number, assignments: Record<string, string> = {}, overrides: Partial<Parameters<GroupCoordinator['syncGroup']>[0]> = {}): Tracked<SyncGroupResult> {
    return track(this.coordinator.syncGroup({
      groupId: 'g', generationId, memberId, groupInstanceId: null, protocolType: null, protocolName: null,
      assignments: Object.entries(assignments).map(([id, a]) => ({ memberId: id, assignment: meta(a) })),
      ...overrides,
    }));
  }

  heartbeat(memberId: string, generationId: number, groupInstanceId: string | null = null, groupId = 'g'): number {
    return this.coordinator.heartbeat({ groupId, generationId, memberId, groupInstanceId });
  }

  commit(overrides: Partial<OffsetCommitParams> & { offsets?: OffsetCommitParams['offsets'] } = {}): Tracked<{ errorCode: number }[]> {
    return track(this.coordinator.commitOffsets({
      groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1,
      offsets: [{ topic: 't', partition: 0, offset: 10n, leaderEpoch: -1, metadata: null, commitTimestampMs: -1 }],
      ...overrides,
    }));
  }

  state(groupId = 'g'): string | undefined {
    return this.coordinator.group(groupId)?.state;
  }

  /** Joins one member into a new group and takes it to Stable; returns its id and generation. */
  async stableSingle(overrides: Partial<JoinGroupParams> = {}): Promise<{ memberId: string; generation: number }> {
    const j = this.join(overrides);
    this.scheduler.advance(DELAY_MS);
    await settle();
    const r = value(j);
    expect(r.errorCode).toBe(0);
    const s = this.sync(r.memberId, r.generationId, { [r.memberId]: 'a0' }, { groupInstanceId: overrides.groupInstanceId ?? null });
    await settle();
    expect(value(s).errorCode).toBe(0);
    return { memberId: r.memberId, generation: r.generationId };
  }
}

describe('group coordinator: join and sync', () => {
  it('takes a first member through the initial delay, the join and the sync to Stable', async () => {
    const h = await new Harness().start();
    const j = h.join();
    await settle();
    expect(j.done).toBe(false);
    expect(h.state()).toBe('PreparingRebalance');
    h.scheduler.advance(DELAY_MS - 1);
    await settle();
    expect(j.done).toBe(false);
    h.scheduler.advance(1);
    await settle();
    const r = value(j);
    expect(r).toMatchObject({ errorCode: 0, generationId: 1, protocolType: 'consumer', protocolName: 'range', leader: r.memberId });
    expect(r.memberId).toMatch(/^client-[0-9a-f-]{36}$/);
    expect(r.members).toEqual([{ memberId: r.memberId, groupInstanceId: null, metadata: meta('m') }]);
    expect(h.state()).toBe('CompletingRebalance');
    const s = h.sync(r.memberId, 1, { [r.memberId]: 'assignment' });
    await settle();
    expect(value(s)).toEqual({ errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment: meta('assignment') });
    expect(h.state()).toBe('Stable');
  });

  it('answers MEMBER_ID_REQUIRED with a new id, then accepts the member under it', async () => {
    const h = await new Harness().start();
    const first = h.join({ requireKnownMemberId: true, clientId: 'rdkafka' });
    await settle();
    expect(value(first).errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const id = value(first).memberId;
    expect(id).toMatch(/^rdkafka-/);
    expect(h.coordinator.group('g')!.isPendingMember(id)).toBe(true);
    const second = h.join({ memberId: id, requireKnownMemberId: true, clientId: 'rdkafka' });
    h.scheduler.advance(DELAY_MS);
    await settle();
    expect(value(second)).toMatchObject({ errorCode: 0, memberId: id, leader: id, generationId: 1 });
  });

  it('forgets a pending member that does not come back within its session timeout', async () => {
    const h = await new Harness().start();
    const first = h.join({ requireKnownMemberId: true });
    await settle();
    const id = value(first).memberId;
    h.scheduler.advance(SESSION_MS);
    await settle();
    expect(h.coordinator.group('g')).toBeUndefined();
    const late = h.join({ memberId: id });
    await settle();
    expect(value(late).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('waits longer in the initial delay while new members keep arriving; leader gets all metadata, followers none', async () => {
    const h = await new Harness().start();
    const a = h.join({ clientId: 'a', protocols: [{ name: 'range', metadata: meta('ma') }] });
    h.scheduler.advance(DELAY_MS / 2);
    const b = h.join({ clientId: 'b', protocols: [{ name: 'range', metadata: meta('mb') }] });
    h.scheduler.advance(DELAY_MS / 2);
    await settle();
    expect(a.done || b.done).toBe(false); // a member arrived during the delay: it was extended
    h.scheduler.advance(DELAY_MS);
    await settle();
    const ra = value(a);
    const rb = value(b);
    expect(ra.generationId).toBe(1);
    expect(rb.generationId).toBe(1);
    expect(ra.leader).toBe(ra.memberId);
    expect(rb.leader).toBe(ra.memberId);
    expect(ra.members.map((m) => m.metadata.toString())).toEqual(['ma', 'mb']);
    expect(rb.members).toEqual([]);
  });

  it('holds followers\' SyncGroup until the leader\'s, then gives each member its own assignment (missing: empty)', async () => {
    const h = await new Harness().start();
    const a = h.join({ clientId: 'a' });
    const b = h.join({ clientId: 'b' });
    const c = h.join({ clientId: 'c' });
    h.scheduler.advance(DELAY_MS * 3);
    await settle();
    const [ra, rb, rc] = [value(a), value(b), value(c)];
    const sb = h.sync(rb.memberId, 1);
    const sc = h.sync(rc.memberId, 1);
    await settle();
    expect(sb.done || sc.done).toBe(false);
    const sa = h.sync(ra.memberId, 1, { [ra.memberId]: 'A', [rb.memberId]: 'B', 'someone-else': 'X' });
    await settle();
    expect(value(sa).assignment).toEqual(meta('A'));
    expect(value(sb).assignment).toEqual(meta('B'));
    expect(value(sc)).toEqual({ errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.alloc(0) });
    expect(h.state()).toBe('Stable');
    // A SyncGroup in Stable returns the member's assignment at once.
    const again = h.sync(rb.memberId, 1);
    await settle();
    expect(value(again).assignment).toEqual(meta('B'));
  });

  it('re-answers a member that rejoins with the same metadata while the group completes its rebalance', async () => {
    const h = await new Harness().start();
    const j = h.join();
    h.scheduler.advance(DELAY_MS);
    await settle();
    const r = value(j);
    const again = h.join({ memberId: r.memberId });
    await settle();
    expect(value(again)).toMatchObject({ errorCode: 0, generationId: 1, leader: r.memberId });
    expect(value(again).members).toHaveLength(1);
    expect(h.state()).toBe('CompletingRebalance');
  });
});

describe('group coordinator: protocol selection', () => {
  it('picks the protocol with the most first-choice votes among those every member supports', async () => {
    const h = await new Harness().start();
    const both = [{ name: 'range', metadata: meta('r') }, { name: 'roundrobin', metadata: meta('rr') }];
    const reversed = [{ name: 'roundrobin', metadata: meta('rr') }, { name: 'range', metadata: meta('r') }];
    const joins = [h.join({ protocols: reversed }), h.join({ protocols: both }), h.join({ protocols: reversed })];
    h.scheduler.advance(DELAY_MS * 4);
    await settle();
    for (const j of joins) expect(value(j).protocolName).toBe('roundrobin');
    expect(value(joins[0]!).members.map((m) => m.metadata.toString())).toEqual(['rr', 'rr', 'rr']);
  });

  it('chooses only among protocols all members support', async () => {
    const h = await new Harness().start();
    const joins = [
      h.join({ protocols: [{ name: 'range', metadata: meta('r') }, { name: 'roundrobin', metadata: meta('rr') }] }),
      h.join({ protocols: [{ name: 'range', metadata: meta('r') }, { name: 'roundrobin', metadata: meta('rr') }] }),
      h.join({ protocols: [{ name: 'roundrobin', metadata: meta('rr') }, { name: 'sticky', metadata: meta('s') }] }),
    ];
    h.scheduler.advance(DELAY_MS * 4);
    await settle();
    for (const j of joins) expect(value(j).protocolName).toBe('roundrobin');
  });

  it('refuses a member with no protocol in common, or another protocol type (INCONSISTENT_GROUP_PROTOCOL)', async () => {
    const h = await new Harness().start();
    h.join({ protocols: [{ name: 'range', metadata: meta('r') }] });
    const sticky = h.join({ protocols: [{ name: 'sticky', metadata: meta('s') }] });
    const connect = h.join({ protocolType: 'connect' });
    const none = h.join({ groupId: 'other', protocols: [] });
    await settle();
    expect(value(sticky).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(value(connect).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(value(none).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(h.coordinator.group('other')).toBeUndefined();
  });

  it('checks the session timeout against group.min/max.session.timeout.ms', async () => {
    const h = await new Harness(undefined, { groupMinSessionTimeoutMs: 6000, groupMaxSessionTimeoutMs: 60_000 }).start();
    const low = h.join({ sessionTimeoutMs: 5999 });
    const high = h.join({ sessionTimeoutMs: 60_001 });
    const ok = h.join({ sessionTimeoutMs: 6000 });
    await settle();
    expect(value(low).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(value(high).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(ok.done).toBe(false);
  });

  it('refuses an empty group id and unknown member ids', async () => {
    const h = await new Harness().start();
    const empty = h.join({ groupId: '' });
    const unknown = h.join({ memberId: 'who-am-i' });
    await settle();
    expect(value(empty).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect(value(unknown).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('group coordinator: heartbeats, rebalances and timeouts', () => {
  it('answers heartbeats by state: Stable 0, PreparingRebalance 27, CompletingRebalance 0, wrong generation 22, unknown 25', async () => {
    const h = await new Harness().start();
    const a = await h.stableSingle({ clientId: 'a' });
    expect(h.heartbeat(a.memberId, a.generation)).toBe(0);
    expect(h.heartbeat(a.memberId, a.generation + 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(h.heartbeat('nobody', a.generation)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(h.heartbeat('nobody', 0, null, 'no-such-group')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const b = h.join({ clientId: 'b' });
    await settle();
    expect(h.state()).toBe('PreparingRebalance');
    expect(h.heartbeat(a.memberId, a.generation)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const ra = h.join({ memberId: a.memberId, clientId: 'a' });
    await settle();
    expect(h.state()).toBe('CompletingRebalance');
    expect(value(ra).generationId).toBe(2);
    expect(value(b).generationId).toBe(2);
    expect(h.heartbeat(a.memberId, 2)).toBe(0);
    expect(h.heartbeat(a.memberId, 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('answers UNKNOWN_MEMBER_ID on an Empty group', async () => {
    const h = await new Harness().start();
    const c = h.commit();
    await settle();
    expect(value(c)[0]!.errorCode).toBe(0);
    expect(h.state()).toBe('Empty');
    expect(h.heartbeat('x', -1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('completes a rebalance as soon as every known member rejoined', async () => {
    const h = await new Harness().start();
    const a = h.join({ clientId: 'a' });
    const b = h.join({ clientId: 'b' });
    h.scheduler.advance(DELAY_MS * 2);
    await settle();
    const [ra, rb] = [value(a), value(b)];
    h.sync(ra.memberId, 1, { [ra.memberId]: 'A', [rb.memberId]: 'B' });
    h.sync(rb.memberId, 1);
    await settle();
    const c = h.join({ clientId: 'c' });
    const a2 = h.join({ memberId: ra.memberId });
    await settle();
    expect(c.done || a2.done).toBe(false);
    const b2 = h.join({ memberId: rb.memberId });
    await settle();
    expect([value(a2).generationId, value(b2).generationId, value(c).generationId]).toEqual([2, 2, 2]);
    expect(value(a2).members).toHaveLength(3);
  });

  it('removes members that did not rejoin within the rebalance timeout', async () => {
    const h = await new Harness().start();
    const a = h.join({ clientId: 'a' });
    const b = h.join({ clientId: 'b', rebalanceTimeoutMs: 20_000 });
    h.scheduler.advance(DELAY_MS * 2);
    await settle();
    const [ra, rb] = [value(a), value(b)];
    h.sync(ra.memberId, 1, {});
    h.sync(rb.memberId, 1);
    await settle();
    // b rejoins (it saw the rebalance); a has gone quiet but its session is longer than the wait.
    const c = h.join({ clientId: 'c', sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 20_000 });
    h.coordinator.group('g')!.get(ra.memberId).sessionTimeoutMs = 600_000;
    h.heartbeat(ra.memberId, 1);
    const b2 = h.join({ memberId: rb.memberId });
    await settle();
    expect(b2.done).toBe(false);
    h.scheduler.advance(REBALANCE_MS - 1);
    await settle();
    expect(b2.done).toBe(false);
    h.scheduler.advance(1);
    await settle();
    expect(value(b2).generationId).toBe(2);
    expect(value(c).generationId).toBe(2);
    expect(h.coordinator.group('g')!.has(ra.memberId)).toBe(false);
    expect(h.heartbeat(ra.memberId, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('evicts a member whose session expires, then rebalances the others', async () => {
    const h = await new Harness().start();
    const a = h.join({ clientId: 'a' });
    const b = h.join({ clientId: 'b' });
    h.scheduler.advance(DELAY_MS * 2);
    await settle();
    const [ra, rb] = [value(a), value(b)];
    h.sync(ra.memberId, 1, {});
    h.sync(rb.memberId, 1);
    await settle();
    h.scheduler.advance(SESSION_MS / 2);
    expect(h.heartbeat(ra.memberId, 1)).toBe(0); // a heartbeats; b does not
    h.scheduler.advance(SESSION_MS / 2 - 1);
    expect(h.coordinator.group('g')!.has(rb.memberId)).toBe(true);
    h.scheduler.advance(1);
    expect(h.coordinator.group('g')!.has(rb.memberId)).toBe(false);
    expect(h.heartbeat(ra.memberId, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(h.heartbeat(rb.memberId, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const a2 = h.join({ memberId: ra.memberId });
    await settle();
    expect(value(a2)).toMatchObject({ errorCode: 0, generationId: 2, leader: ra.memberId });
    expect(value(a2).members).toHaveLength(1);
  });

  it('does not expire a member while it waits in a join', async () => {
    const h = await new Harness().start();
    const a = await h.stableSingle({ clientId: 'a', rebalanceTimeoutMs: 600_000 });
    const b = h.join({ clientId: 'b', rebalanceTimeoutMs: 600_000 });
    const a2 = h.join({ memberId: a.memberId, rebalanceTimeoutMs: 600_000 });
    await settle();
    expect(value(a2).generationId).toBe(2);
    expect(value(b).generationId).toBe(2);
    h.sync(a.memberId, 2, {});
    h.sync(value(b).memberId, 2);
    await settle();
    expect(h.state()).toBe('Stable');
    // a rejoins (a leader rejoin starts a rebalance), b never comes back: a waits past its own
    // session timeout and stays; b's session expiry ends the join phase.
    const a3 = h.join({ memberId: a.memberId, rebalanceTimeoutMs: 600_000 });
    h.scheduler.advance(SESSION_MS * 3);
    await settle();
    // b's session expired (it is not waiting in a join), which completed the rebalance for a.
    expect(value(a3)).toMatchObject({ errorCode: 0, generationId: 3 });
    expect(value(a3).members).toHaveLength(1);
  });

  it('removes members that never send SyncGroup within the rebalance timeout', async () => {
    const h = await new Harness().start();
    const a = h.join({ clientId: 'a' });
    const b = h.join({ clientId: 'b' });
    h.scheduler.advance(DELAY_MS * 2);
    await settle();
    const [ra, rb] = [value(a), value(b)];
    const sb = h.sync(rb.memberId, 1); // the leader a never syncs
    for (let t = 0; t < 6; t++) {
      h.scheduler.advance(REBALANCE_MS / 6);
      h.heartbeat(ra.memberId, 1);
    }
    await settle();
    expect(value(sb).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(h.coordinator.group('g')!.has(ra.memberId)).toBe(false);
    expect(h.state()).toBe('PreparingRebalance');
  });
});

describe('group coordinator: leaving', () => {
  it('rebalances when a member leaves, and empties the group (a new generation, stored) when the last one does', async () => {
    const storage = new MemoryGroupStorage();
    const h = await new Harness(storage).start();
    const a = h.join({ clientId: 'a' });
    const b = h.join({ clientId: 'b' });
    h.scheduler.advance(DELAY_MS * 2);
    await settle();
    const [ra, rb] = [value(a), value(b)];
    h.sync(ra.memberId, 1, {});
    h.sync(rb.memberId, 1);
    await settle();
    expect(h.coordinator.leaveGroup('g', [{ memberId: ra.memberId, groupInstanceId: null, reason: 'bye' }])).toEqual({
      errorCode: 0, members: [{ memberId: ra.memberId, groupInstanceId: null, errorCode: 0 }],
    });
    expect(h.state()).toBe('PreparingRebalance');
    const b2 = h.join({ memberId: rb.memberId });
    await settle();
    expect(value(b2)).toMatchObject({ generationId: 2, leader: rb.memberId });
    const left = h.coordinator.leaveGroup('g', [
      { memberId: rb.memberId, groupInstanceId: null, reason: null },
      { memberId: 'ghost', groupInstanceId: null, reason: null },
    ]);
    expect(left.members.map((m) => m.errorCode)).toEqual([0, ErrorCode.UNKNOWN_MEMBER_ID]);
    await settle();
    expect(h.state()).toBe('Empty');
    expect(h.coordinator.group('g')!.generationId).toBe(3);
    const stored = (storage.partitions.get(h.coordinator.partitionFor('g')) ?? []).filter((r) => decodeGroupRecordKey(r.key).type === 'group');
    const last = decodeGroupMetadataValue(stored.at(-1)!.value!);
    expect(last).toMatchObject({ protocolType: 'consumer', generation: 3, protocol: null, leader: null, members: [] });
  });

  it('answers a leaving member\'s held JoinGroup and completes the join for the rest', async () => {
    const h = await new Harness().start();
    const a = await h.stableSingle({ clientId: 'a' });
    const b = h.join({ clientId: 'b' });
    await settle();
    // a has not rejoined; b waits. a leaves: b's join completes with b alone.
    h.coordinator.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null, reason: null }]);
    await settle();
    expect(value(b)).toMatchObject({ errorCode: 0, generationId: 2 });
    expect(value(b).leader).toBe(value(b).memberId);
  });

  it('lets a pending member leave, and unknown groups answer UNKNOWN_MEMBER_ID per member', async () => {
    const h = await new Harness().start();
    const first = h.join({ requireKnownMemberId: true });
    await settle();
    const id = value(first).memberId;
    expect(h.coordinator.leaveGroup('g', [{ memberId: id, groupInstanceId: null, reason: null }]).members[0]!.errorCode).toBe(0);
    expect(h.coordinator.group('g')).toBeUndefined();
    expect(h.coordinator.leaveGroup('nope', [{ memberId: 'x', groupInstanceId: null, reason: null }])).toEqual({
      errorCode: 0, members: [{ memberId: 'x', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID }],
    });
  });
});

describe('group coordinator: static membership', () => {
  it('gives a restarted static member its previous assignment without a rebalance, and fences the old id', async () => {
    const storage = new MemoryGroupStorage();
    const h = await new Harness(storage).start();
    const a = h.join({ clientId: 'a', groupInstanceId: 'instance-a', requireKnownMemberId: true });
    const b = h.join({ clientId: 'b', groupInstanceId: 'instance-b', requireKnownMemberId: true });
    h.scheduler.advance(DELAY_MS * 2);
    await settle();
    const [ra, rb] = [value(a), value(b)];
    expect(ra.errorCode).toBe(0); // static members never get MEMBER_ID_REQUIRED
    expect(ra.memberId).toMatch(/^instance-a-/);
    h.sync(ra.memberId, 1, { [ra.memberId]: 'A', [rb.memberId]: 'B' }, { groupInstanceId: 'instance-a' });
    h.sync(rb.memberId, 1, {}, { groupInstanceId: 'instance-b' });
    await settle();
    expect(h.state()).toBe('Stable');
    // b restarts: it comes back with no member id but the same instance id.
    const b2 = h.join({ clientId: 'b', groupInstanceId: 'instance-b', requireKnownMemberId: true });
    await settle();
    const rb2 = value(b2);
    expect(rb2.errorCode).toBe(0);
    expect(rb2.memberId).not.toBe(rb.memberId);
    expect(rb2).toMatchObject({ generationId: 1, leader: ra.memberId, members: [] });
    expect(h.state()).toBe('Stable');
    const s = h.sync(rb2.memberId, 1, {}, { groupInstanceId: 'instance-b' });
    await settle();
    expect(value(s).assignment).toEqual(meta('B'));
    // The old incarnation is fenced; the leader keeps heartbeating normally.
    expect(h.heartbeat(rb.memberId, 1, 'instance-b')).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(h.heartbeat(rb.memberId, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(h.heartbeat(rb2.memberId, 1, 'instance-b')).toBe(0);
    expect(h.heartbeat(ra.memberId, 1, 'instance-a')).toBe(0);
    const c = h.commit({ generationId: 1, memberId: rb.memberId, groupInstanceId: 'instance-b' });
    await settle();
    expect(value(c)[0]!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    // The new member id was persisted with the unchanged assignment.
    const records = (storage.partitions.get(h.coordinator.partitionFor('g')) ?? []).filter((r) => decodeGroupRecordKey(r.key).type === 'group');
    const last = decodeGroupMetadataValue(records.at(-1)!.value!);
    expect(last.members.map((m) => [m.groupInstanceId, m.memberId, m.assignment.toString()])).toEqual([
      ['instance-a', ra.memberId, 'A'], ['instance-b', rb2.memberId, 'B'],
    ]);
  });

  it('answers a static member\'s old incarnation, still waiting in a join, with FENCED_INSTANCE_ID', async () => {
    const h = await new Harness().start();
    const a = await h.stableSingle({ groupInstanceId: 'i' });
    const b = h.join({ clientId: 'b' });
    const old = h.join({ memberId: a.memberId, groupInstanceId: 'i' });
    await settle();
    expect(value(old).generationId).toBe(2); // all joined
    const b2 = h.join({ memberId: value(b).memberId }); // b rejoins as leader? no: a is leader; b matches → current gen
    await settle();
    expect(value(b2).errorCode).toBe(0);
    const a2 = h.join({ memberId: a.memberId, groupInstanceId: 'i', protocols: [{ name: 'range', metadata: meta('changed') }] });
    await settle();
    expect(a2.done).toBe(false); // a rebalance started; a waits, b has not rejoined
    const fresh = h.join({ groupInstanceId: 'i' });
    await settle();
    expect(value(a2).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(fresh.done).toBe(false); // takes a's place in the running rebalance
    h.join({ memberId: value(b).memberId });
    await settle();
    expect(value(fresh)).toMatchObject({ errorCode: 0, generationId: 3 });
  });

  it('keeps a static member that did not rejoin in the next generation; its session timeout removes it', async () => {
    const h = await new Harness().start();
    const a = h.join({ clientId: 'a', groupInstanceId: 'ia' });
    const b = h.join({ clientId: 'b' });
    h.scheduler.advance(DELAY_MS * 2);
    await settle();
    const [ra, rb] = [value(a), value(b)];
    h.sync(ra.memberId, 1, {}, { groupInstanceId: 'ia' });
    h.sync(rb.memberId, 1);
    await settle();
    const c = h.join({ clientId: 'c' });
    const b2 = h.join({ memberId: rb.memberId });
    // The static leader does not rejoin but keeps heartbeating past the join deadline.
    for (let t = 0; t < 13; t++) {
      h.scheduler.advance(REBALANCE_MS / 12);
      h.heartbeat(ra.memberId, 1, 'ia');
    }
    await settle();
    const group = h.coordinator.group('g')!;
    expect(value(b2).generationId).toBe(2);
    expect(value(c).generationId).toBe(2);
    // It is kept in the new generation; leadership passed to a member that rejoined.
    expect(group.has(ra.memberId)).toBe(true);
    expect(value(b2).leader).toBe(rb.memberId);
    expect(value(b2).members.map((m) => m.memberId).sort()).toEqual([ra.memberId, rb.memberId, value(c).memberId].sort());
    // Without heartbeats its session ends, and with it its membership.
    h.scheduler.advance(SESSION_MS);
    expect(group.has(ra.memberId)).toBe(false);
  });

  it('lets an admin remove a static member by instance id (LeaveGroup v3+)', async () => {
    const h = await new Harness().start();
    await h.stableSingle({ groupInstanceId: 'i' });
    const left = h.coordinator.leaveGroup('g', [
      { memberId: '', groupInstanceId: 'i', reason: 'admin' },
      { memberId: '', groupInstanceId: 'unknown', reason: null },
    ]);
    expect(left.members.map((m) => m.errorCode)).toEqual([0, ErrorCode.UNKNOWN_MEMBER_ID]);
    await settle();
    expect(h.state()).toBe('Empty');
  });
});

describe('group coordinator: SyncGroup checks', () => {
  it('checks member, generation, state and the protocol type and name', async () => {
    const h = await new Harness().start();
    const j = h.join();
    h.scheduler.advance(DELAY_MS);
    await settle();
    const r = value(j);
    const wrongGen = h.sync(r.memberId, 2);
    const unknown = h.sync('ghost', 1);
    const wrongType = h.sync(r.memberId, 1, {}, { protocolType: 'connect', protocolName: 'range' });
    const wrongName = h.sync(r.memberId, 1, {}, { protocolType: 'consumer', protocolName: 'roundrobin' });
    const noGroup = h.sync('x', 1, {}, { groupId: 'nope' });
    await settle();
    expect(value(wrongGen).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(value(unknown).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(value(wrongType).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(value(wrongName).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(value(noGroup).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    h.join({ clientId: 'b' });
    await settle();
    const during = h.sync(r.memberId, 1);
    await settle();
    expect(value(during).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('sends followers REBALANCE_IN_PROGRESS when a rebalance starts while they wait for the assignment', async () => {
    const h = await new Harness().start();
    const a = h.join({ clientId: 'a' });
    const b = h.join({ clientId: 'b' });
    h.scheduler.advance(DELAY_MS * 2);
    await settle();
    const sb = h.sync(value(b).memberId, 1);
    h.join({ clientId: 'c' });
    await settle();
    expect(value(sb).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(value(a).errorCode).toBe(0);
  });

  it('propagates a failed assignment write as an error and rebalances', async () => {
    const storage = new MemoryGroupStorage();
    const h = await new Harness(storage).start();
    const a = h.join({ clientId: 'a' });
    h.scheduler.advance(DELAY_MS);
    await settle();
    storage.failWith = new GodelError('LOG_OFFLINE', 'disk gone');
    const s = h.sync(value(a).memberId, 1, {});
    await settle();
    expect(value(s).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.state()).toBe('PreparingRebalance');
  });
});

describe('group coordinator: offsets', () => {
  it('takes simple commits (generation -1) for unknown or Empty groups; fetch returns -1 where nothing is committed', async () => {
    const h = await new Harness().start();
    const c = h.commit({
      groupId: 'simple',
      offsets: [
        { topic: 't', partition: 0, offset: 5n, leaderEpoch: 2, metadata: 'm', commitTimestampMs: -1 },
        { topic: 'u', partition: 3, offset: 7n, leaderEpoch: -1, metadata: null, commitTimestampMs: -1 },
      ],
    });
    await settle();
    expect(value(c).map((r) => r.errorCode)).toEqual([0, 0]);
    expect(h.coordinator.fetchOffsets('simple', [{ name: 't', partitions: [0, 1] }])).toEqual({
      errorCode: 0,
      topics: [{ name: 't', partitions: [
        { partition: 0, offset: 5n, leaderEpoch: 2, metadata: 'm', errorCode: 0 },
        { partition: 1, offset: -1n, leaderEpoch: -1, metadata: '', errorCode: 0 },
      ] }],
    });
    expect(h.coordinator.fetchOffsets('simple', null).topics.map((t) => [t.name, t.partitions.map((p) => p.offset)])).toEqual([['t', [5n]], ['u', [7n]]]);
    expect(h.coordinator.fetchOffsets('unknown', null)).toEqual({ errorCode: 0, topics: [] });
    expect(h.coordinator.fetchOffsets('unknown', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset).toBe(-1n);
    // A generation for a group that does not exist is a stale member.
    const stale = h.commit({ groupId: 'nope', generationId: 3, memberId: 'm' });
    await settle();
    expect(value(stale)[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('checks member and generation for group commits; CompletingRebalance answers REBALANCE_IN_PROGRESS', async () => {
    const h = await new Harness().start();
    const a = h.join({ clientId: 'a' });
    h.scheduler.advance(DELAY_MS);
    await settle();
    const r = value(a);
    const completing = h.commit({ generationId: 1, memberId: r.memberId });
    await settle();
    expect(value(completing)[0]!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    h.sync(r.memberId, 1, {});
    await settle();
    const cases = [
      h.commit({ generationId: 1, memberId: r.memberId }),
      h.commit({ generationId: 2, memberId: r.memberId }),
      h.commit({ generationId: 1, memberId: 'ghost' }),
      h.commit({ generationId: -1, memberId: '' }),
    ];
    await settle();
    expect(cases.map((c) => value(c)[0]!.errorCode)).toEqual([0, ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID]);
    // Still accepted from the current generation while the group prepares a rebalance.
    h.join({ clientId: 'b' });
    await settle();
    expect(h.state()).toBe('PreparingRebalance');
    const preparing = h.commit({ generationId: 1, memberId: r.memberId, offsets: [{ topic: 't', partition: 0, offset: 11n, leaderEpoch: -1, metadata: null, commitTimestampMs: -1 }] });
    await settle();
    expect(value(preparing)[0]!.errorCode).toBe(0);
    expect(h.coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset).toBe(11n);
  });

  it('refuses metadata over offset.metadata.max.bytes for that partition only', async () => {
    const h = await new Harness(undefined, { offsetMetadataMaxBytes: 8 }).start();
    const c = h.commit({
      offsets: [
        { topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: '123456789', commitTimestampMs: -1 },
        { topic: 't', partition: 1, offset: 2n, leaderEpoch: -1, metadata: '12345678', commitTimestampMs: -1 },
      ],
    });
    await settle();
    expect(value(c).map((r) => r.errorCode)).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE, 0]);
  });

  it('acknowledges a commit only once its record is appended, one batch per commit', async () => {
    const storage = new MemoryGroupStorage();
    const h = await new Harness(storage).start();
    let open!: () => void;
    storage.gate = new Promise((resolve) => { open = resolve; });
    const before = storage.appends;
    const c = h.commit({
      offsets: [
        { topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null, commitTimestampMs: -1 },
        { topic: 't', partition: 1, offset: 2n, leaderEpoch: 4, metadata: 'x', commitTimestampMs: -1 },
      ],
    });
    await settle();
    expect(c.done).toBe(false);
    expect(storage.appends - before).toBe(1);
    expect(h.coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset).toBe(-1n);
    storage.gate = null;
    open();
    await settle();
    expect(value(c).map((r) => r.errorCode)).toEqual([0, 0]);
    const records = storage.partitions.get(h.coordinator.partitionFor('g'))!;
    expect(records.map((r) => decodeGroupRecordKey(r.key))).toEqual([
      { type: 'offset', version: 1, group: 'g', topic: 't', partition: 0 },
      { type: 'offset', version: 1, group: 'g', topic: 't', partition: 1 },
    ]);
    expect(decodeOffsetCommitValue(records[1]!.value!)).toEqual({ offset: 2n, leaderEpoch: 4, metadata: 'x', commitTimestampMs: h.clock.nowMs(), expireTimestampMs: -1 });
  });

  it('maps append failures to Kafka\'s commit errors and keeps the old offset', async () => {
    const storage = new MemoryGroupStorage();
    const h = await new Harness(storage).start();
    const ok = h.commit();
    await settle();
    expect(value(ok)[0]!.errorCode).toBe(0);
    storage.failWith = new GodelError('STORAGE_ERROR', 'io');
    const failed = h.commit({ offsets: [{ topic: 't', partition: 0, offset: 99n, leaderEpoch: -1, metadata: null, commitTimestampMs: -1 }] });
    storage.failWith = new GodelError('MESSAGE_TOO_LARGE', 'big');
    const large = h.commit();
    await settle();
    expect(value(failed)[0]!.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(value(large)[0]!.errorCode).toBe(ErrorCode.INVALID_COMMIT_OFFSET_SIZE);
    expect(h.coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset).toBe(10n);
  });

  it('expires the offsets of a group that stays empty after offsets.retention, then the group', async () => {
    const storage = new MemoryGroupStorage();
    const retention = 60 * 60_000;
    const h = await new Harness(storage, { offsetsRetentionMs: retention, offsetsRetentionCheckIntervalMs: 60_000 }).start();
    const a = await h.stableSingle({ sessionTimeoutMs: 1_800_000 });
    const c = h.commit({ generationId: a.generation, memberId: a.memberId });
    await settle();
    expect(value(c)[0]!.errorCode).toBe(0);
    // Offsets of a group in use never expire.
    for (let t = 0; t < 90; t++) {
      h.scheduler.advance(60_000);
      h.heartbeat(a.memberId, a.generation);
    }
    await settle();
    expect(h.coordinator.fetchOffsets('g', null).topics).toHaveLength(1);
    h.coordinator.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null, reason: null }]);
    await settle();
    expect(h.state()).toBe('Empty');
    h.scheduler.advance(retention - 120_000);
    await settle();
    expect(h.coordinator.fetchOffsets('g', null).topics).toHaveLength(1);
    h.scheduler.advance(120_000 + 60_000); // past the retention, and one check interval
    await settle();
    expect(h.coordinator.fetchOffsets('g', null).topics).toHaveLength(0);
    expect(h.coordinator.group('g')).toBeUndefined();
    const records = storage.partitions.get(h.coordinator.partitionFor('g'))!;
    const tombstones = records.filter((r) => r.value === null).map((r) => decodeGroupRecordKey(r.key).type);
    expect(tombstones).toEqual(['offset', 'group']);
  });

  it('expires simple commits by their commit time, and honours an explicit retention time', async () => {
    const h = await new Harness(undefined, { offsetsRetentionMs: 1_000_000, offsetsRetentionCheckIntervalMs: 10_000 }).start();
    h.commit({ groupId: 'short', retentionTimeMs: 50_000 });
    h.commit({ groupId: 'long' });
    await settle();
    h.scheduler.advance(60_000);
    await settle();
    expect(h.coordinator.group('short')).toBeUndefined();
    expect(h.coordinator.fetchOffsets('long', null).topics).toHaveLength(1);
    h.scheduler.advance(1_000_000);
    await settle();
    expect(h.coordinator.group('long')).toBeUndefined();
  });

  it('drops the offsets of a deleted topic', async () => {
    const h = await new Harness().start();
    h.commit({ offsets: [
      { topic: 'gone', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null, commitTimestampMs: -1 },
      { topic: 'kept', partition: 0, offset: 2n, leaderEpoch: -1, metadata: null, commitTimestampMs: -1 },
    ] });
    await settle();
    await h.coordinator.onTopicDeleted('gone');
    expect(h.coordinator.fetchOffsets('g', null).topics.map((t) => t.name)).toEqual(['kept']);
  });
});

describe('group coordinator: listing, describing, deleting', () => {
  it('lists groups with their states, filtered case-insensitively, and describes them', async () => {
    const h = await new Harness().start();
    const a = await h.stableSingle({ clientId: 'client-a' });
    h.commit({ groupId: 'simple' });
    await settle();
    const all = h.coordinator.listGroups([], []);
    expect(all.errorCode).toBe(0);
    expect(all.groups.sort((x, y) => x.groupId.localeCompare(y.groupId))).toEqual([
      { groupId: 'g', protocolType: 'consumer', state: 'Stable', groupType: 'classic' },
      { groupId: 'simple', protocolType: '', state: 'Empty', groupType: 'classic' },
    ]);
    expect(h.coordinator.listGroups(['stable'], []).groups.map((g) => g.groupId)).toEqual(['g']);
    expect(h.coordinator.listGroups([], ['consumer']).groups).toEqual([]);
    expect(h.coordinator.listGroups([], ['Classic']).groups).toHaveLength(2);
    expect(h.coordinator.describeGroup('g')).toEqual({
      errorCode: 0, groupId: 'g', state: 'Stable', protocolType: 'consumer', protocol: 'range',
      members: [{ memberId: a.memberId, groupInstanceId: null, clientId: 'client-a', clientHost: '/127.0.0.1', metadata: meta('m'), assignment: meta('a0') }],
    });
    expect(h.coordinator.describeGroup('missing')).toEqual({ errorCode: 0, groupId: 'missing', state: 'Dead', protocolType: '', protocol: '', members: [] });
    // Outside Stable, members are listed without metadata or assignment.
    h.join({ clientId: 'b' });
    await settle();
    const preparing = h.coordinator.describeGroup('g');
    expect(preparing).toMatchObject({ state: 'PreparingRebalance', protocol: '' });
    expect(preparing.members[0]!.assignment).toEqual(Buffer.alloc(0));
  });

  it('deletes only empty groups, with tombstones for their offsets and metadata', async () => {
    const storage = new MemoryGroupStorage();
    const h = await new Harness(storage).start();
    const a = await h.stableSingle();
    h.commit({ groupId: 'simple' });
    await settle();
    expect(await h.coordinator.deleteGroups(['g', 'simple', 'missing', 'simple'])).toEqual([
      { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'simple', errorCode: 0 },
      { groupId: 'missing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    expect(h.coordinator.group('simple')).toBeUndefined();
    h.coordinator.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null, reason: null }]);
    await settle();
    expect(await h.coordinator.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: 0 }]);
    const records = storage.partitions.get(h.coordinator.partitionFor('g'))!;
    const last = records.at(-1)!;
    expect(last.value).toBeNull();
    expect(decodeGroupRecordKey(last.key)).toEqual({ type: 'group', version: 2, group: 'g' });
    // A fresh coordinator over the same records knows neither group.
    const again = await new Harness(storage).start();
    expect(again.coordinator.listGroups([], []).groups).toEqual([]);
  });
});

describe('group coordinator: loading, ownership and shutdown', () => {
  it('restores offsets and a stable group from the records, members and all', async () => {
    const storage = new MemoryGroupStorage();
    const first = await new Harness(storage).start();
    const a = first.join({ clientId: 'a' });
    const b = first.join({ clientId: 'b', groupInstanceId: 'ib' });
    first.scheduler.advance(DELAY_MS * 2);
    await settle();
    const [ra, rb] = [value(a), value(b)];
    first.sync(ra.memberId, 1, { [ra.memberId]: 'A', [rb.memberId]: 'B' });
    first.sync(rb.memberId, 1, {}, { groupInstanceId: 'ib' });
    await settle();
    first.commit({ generationId: 1, memberId: ra.memberId, offsets: [{ topic: 't', partition: 2, offset: 33n, leaderEpoch: 1, metadata: 'md', commitTimestampMs: -1 }] });
    first.commit({ groupId: 'simple', offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null, commitTimestampMs: -1 }] });
    await settle();
    first.coordinator.shutdown();

    const second = await new Harness(storage).start();
    expect(second.state()).toBe('Stable');
    expect(second.state('simple')).toBe('Empty');
    expect(second.coordinator.fetchOffsets('g', null).topics).toEqual([
      { name: 't', partitions: [{ partition: 2, offset: 33n, leaderEpoch: 1, metadata: 'md', errorCode: 0 }] },
    ]);
    // The members carry on where they were: same ids, generation and assignments.
    expect(second.heartbeat(ra.memberId, 1)).toBe(0);
    expect(second.heartbeat(rb.memberId, 1, 'ib')).toBe(0);
    const s = second.sync(rb.memberId, 1, {}, { groupInstanceId: 'ib' });
    await settle();
    expect(value(s).assignment).toEqual(meta('B'));
    expect(second.coordinator.group('g')!.leaderId).toBe(ra.memberId);
    // Members that never come back expire as usual.
    second.scheduler.advance(SESSION_MS);
    await settle();
    expect(second.state()).toBe('Empty');
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS while its partition loads (heartbeats blindly 0, syncs 27)', async () => {
    const inner = new MemoryGroupStorage();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const storage: GroupStorage = {
      ensureTopic: (n) => inner.ensureTopic(n),
      append: (p, r) => inner.append(p, r),
      replay: async (p, visit) => {
        await gate;
        await inner.replay(p, visit);
      },
    };
    const h = new Harness(storage);
    await h.coordinator.start();
    const j = h.join();
    const c = h.commit();
    await settle();
    expect(value(j).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(value(c)[0]!.errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(h.coordinator.fetchOffsets('g', null).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(h.coordinator.describeGroup('g').errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(h.coordinator.listGroups([], []).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(h.heartbeat('m', 1)).toBe(0);
    const s = h.sync('m', 1);
    await settle();
    expect(value(s).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(h.coordinator.findCoordinator('g', 0)).toEqual({ errorCode: 0, node: { nodeId: 1, host: 'localhost', port: 9092 } });
    release();
    await h.coordinator.loaded();
    const ok = h.commit();
    await settle();
    expect(value(ok)[0]!.errorCode).toBe(0);
  });

  it('answers NOT_COORDINATOR for groups of a partition it resigned', async () => {
    const h = await new Harness().start();
    h.coordinator.onResignation(h.coordinator.partitionFor('g'));
    const j = h.join();
    await settle();
    expect(value(j).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    await h.coordinator.onElection(h.coordinator.partitionFor('g'));
    const again = h.join();
    await settle();
    expect(again.done).toBe(false);
  });

  it('answers held requests with NOT_COORDINATOR at shutdown and refuses new ones', async () => {
    const h = await new Harness().start();
    const j = h.join();
    await settle();
    h.coordinator.shutdown();
    await settle();
    expect(value(j).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.heartbeat('m', 1)).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(h.coordinator.findCoordinator('g', 0).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(h.scheduler.pending).toBe(0);
  });

  it('finds the coordinator of group keys only', async () => {
    const h = await new Harness().start();
    expect(h.coordinator.findCoordinator('any', 0).node).toEqual({ nodeId: 1, host: 'localhost', port: 9092 });
    expect(h.coordinator.findCoordinator('txn', 1)).toEqual({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, node: null });
    expect(h.coordinator.findCoordinator('x', 7)).toEqual({ errorCode: ErrorCode.INVALID_REQUEST, node: null });
  });
});
