// A classic group's state (Kafka's GroupMetadata): the state machine, its members, the selected
// protocol, the generation and leader, static members, members pending their first join, and the
// group's committed offsets. Pure bookkeeping: the coordinator drives the transitions and timers.
//
//   Empty ──join──▶ PreparingRebalance ──all joined / rebalance timeout──▶ CompletingRebalance
//     ▲                 ▲     │ (no members left)                               │ leader's SyncGroup
//     └─────────────────┼─────┘                                                 ▼  stored
//                       └──── join, leave, session expiry, metadata change ── Stable
//   Any state ──▶ Dead (group deleted, expired or unloaded).
import { randomUUID } from 'node:crypto';
import { MemberMetadata, type JoinGroupResult, type JoinGroupResultMember, type MemberSummary, type SyncGroupResult } from './member-metadata.js';
import type { TimerHandle } from './scheduler.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

const VALID_PREVIOUS_STATES: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  /** -1: expires by the broker's offsets.retention.minutes. */
  expireTimestampMs: number;
}

export interface GroupSummary {
  state: GroupState;
  protocolType: string;
  protocol: string;
  members: MemberSummary[];
}

export class GroupMetadata {
  state: GroupState;
  /** When the group last changed state; null for groups loaded from records that lack it. */
  currentStateTimestampMs: number | null;
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  leaderId: string | null = null;
  /** Members by id, in the order they joined (the first becomes leader when the leader leaves). */
  readonly members = new Map<string, MemberMetadata>();
  /** group.instance.id → the member id it currently maps to. */
  readonly staticMembers = new Map<string, string>();
  /** Members given an id by MEMBER_ID_REQUIRED that have not joined with it yet, with their expiry. */
  readonly pendingMembers = new Map<string, TimerHandle>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  numMembersAwaitingJoin = 0;
  /** A member joined during the initial rebalance delay, so the delay may be extended. */
  newMemberAdded = false;
  /** The rebalance (join) deadline, or the initial delay, while PreparingRebalance. */
  joinTimer: TimerHandle | null = null;
  /** Whether the join phase is in the initial delay (completes only by its timer). */
  inInitialDelay = false;
  /** The deadline for every member's SyncGroup after a join completes. */
  syncTimer: TimerHandle | null = null;
  /** Committed offsets: topic → partition → offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  /** Commits appended but not acknowledged yet, per "topic\0partition" (they block expiry). */
  readonly pendingOffsetCommits = new Map<string, number>();

  constructor(readonly groupId: string, initialState: GroupState, nowMs: number) {
    this.state = initialState;
    this.currentStateTimestampMs = nowMs;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): MemberMetadata {
    const member = this.members.get(memberId);
    if (member === undefined) throw new Error(`group ${this.groupId} has no member ${memberId}`);
    return member;
  }

  get size(): number {
    return this.members.size;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.state);
  }

  transitionTo(state: GroupState, nowMs: number): void {
    if (!VALID_PREVIOUS_STATES[state].includes(this.state)) {
      throw new Error(`group ${this.groupId} cannot go from ${this.state} to ${state}`);
    }
    this.state = state;
    this.currentStateTimestampMs = nowMs;
  }

  /** Kafka's member id form: `<client.id or group.instance.id>-<uuid>`. */
  static generateMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`;
  }

  add(member: MemberMetadata, callback: ((result: JoinGroupResult) => void) | null): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) throw new Error(`static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    member.awaitingJoin = callback;
    if (callback !== null) this.numMembersAwaitingJoin++;
    this.removePendingMember(member.memberId);
  }

  remove(memberId: string): MemberMetadata | undefined {
    const member = this.members.get(memberId);
    if (member !== undefined) {
      this.members.delete(memberId);
      if (member.isAwaitingJoin) this.numMembersAwaitingJoin--;
      if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
        this.staticMembers.delete(member.groupInstanceId);
      }
      member.heartbeatTimer?.cancel();
      member.heartbeatTimer = null;
    }
    if (this.isLeader(memberId)) this.leaderId = this.members.keys().next().value ?? null;
    this.removePendingMember(memberId);
    this.pendingSyncMembers.delete(memberId);
    return member;
  }

  /** If the leader did not rejoin, hands leadership to a member that did; false if none did. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader !== undefined && leader.isAwaitingJoin) return true;
    for (const [id, m] of this.members) {
      if (m.isAwaitingJoin) {
        this.leaderId = id;
        return true;
      }
    }
    return false;
  }

  /** A static member rejoined with a new member id: the same member under the new id. */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string, fencedCode: number): MemberMetadata {
    const member = this.members.get(oldMemberId);
    if (member === undefined) throw new Error(`cannot replace unknown member ${oldMemberId}`);
    // Whoever still waits under the old id is a zombie of the same instance: fence it now.
    this.maybeInvokeJoinCallback(member, { errorCode: fencedCode, memberId: oldMemberId, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, members: [] });
    this.maybeInvokeSyncCallback(member, { errorCode: fencedCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    // Rebuild the map so the member keeps its place in the join order.
    const entries = [...this.members.entries()].map(([id, m]) => (id === oldMemberId ? [newMemberId, m] as const : [id, m] as const));
    this.members.clear();
    for (const [id, m] of entries) this.members.set(id, m);
    member.memberId = newMemberId;
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  addPendingMember(memberId: string, expiry: TimerHandle): void {
    if (this.has(memberId)) throw new Error(`pending member ${memberId} is already a member of ${this.groupId}`);
    this.pendingMembers.set(memberId, expiry);
  }

  removePendingMember(memberId: string): boolean {
    const timer = this.pendingMembers.get(memberId);
    if (timer === undefined) return false;
    timer.cancel();
    this.pendingMembers.delete(memberId);
    return true;
  }

  currentStaticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  notYetRejoinedMembers(): MemberMetadata[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingMembers.size === 0;
  }

  /** The longest rebalance timeout of the members: how long a rebalance waits for rejoins. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    const members = [...this.members.values()];
    const out = new Set<string>();
    if (members.length === 0) return out;
    for (const p of members[0]!.supportedProtocols) {
      if (members.every((m) => m.supports(p.name))) out.add(p.name);
    }
    return out;
  }

  /** Whether a member with this protocol type and these protocols may join. */
  supportsProtocols(memberProtocolType: string, memberProtocols: readonly string[]): boolean {
    if (this.is('Empty')) return memberProtocolType !== '' && memberProtocols.length > 0;
    if (this.protocolType !== memberProtocolType) return false;
    const members = [...this.members.values()];
    return memberProtocols.some((p) => members.every((m) => m.supports(p)));
  }

  /**
   * Each member votes for its most preferred protocol among those all support; the most votes
   * wins. Ties go to the protocol that comes first in the leader's (else the first member's) list,
   * so the choice is deterministic.
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = this.candidateProtocols();
    if (candidates.size === 0) throw new Error(`group ${this.groupId} has no protocol every member supports`);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    const reference = (this.leaderId !== null ? this.members.get(this.leaderId) : undefined) ?? this.members.values().next().value!;
    let best: string | null = null;
    let bestVotes = -1;
    for (const p of reference.supportedProtocols) {
      const n = votes.get(p.name) ?? 0;
      if (candidates.has(p.name) && n > bestVotes) {
        best = p.name;
        bestVotes = n;
      }
    }
    return best!;
  }

  updateMember(member: MemberMetadata, protocols: MemberMetadata['supportedProtocols'], rebalanceTimeoutMs: number, sessionTimeoutMs: number,
    callback: ((result: JoinGroupResult) => void) | null): void {
    member.supportedProtocols = protocols;
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (callback !== null && !member.isAwaitingJoin) this.numMembersAwaitingJoin++;
    else if (callback === null && member.isAwaitingJoin) this.numMembersAwaitingJoin--;
    member.awaitingJoin = callback;
  }

  maybeInvokeJoinCallback(member: MemberMetadata, result: JoinGroupResult): boolean {
    const callback = member.awaitingJoin;
    if (callback === null) return false;
    member.awaitingJoin = null;
    this.numMembersAwaitingJoin--;
    callback(result);
    return true;
  }

  maybeInvokeSyncCallback(member: MemberMetadata, result: SyncGroupResult): boolean {
    const callback = member.awaitingSync;
    if (callback === null) return false;
    member.awaitingSync = null;
    callback(result);
    return true;
  }

  /** After a join phase: the next generation, with a protocol, or Empty when nobody is left. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo('CompletingRebalance', nowMs);
    } else {
      this.protocolName = null;
      this.transitionTo('Empty', nowMs);
    }
    this.pendingSyncMembers.clear();
  }

  /** Every member's metadata for the selected protocol (the leader's JoinGroup response). */
  currentMemberMetadata(): JoinGroupResultMember[] {
    if (this.protocolName === null) throw new Error(`group ${this.groupId} has no protocol selected`);
    const protocol = this.protocolName;
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(protocol) }));
  }

  summary(): GroupSummary {
    if (this.is('Stable')) {
      const protocol = this.protocolName!;
      return { state: this.state, protocolType: this.protocolType ?? '', protocol, members: [...this.members.values()].map((m) => m.summary(protocol)) };
    }
    return { state: this.state, protocolType: this.protocolType ?? '', protocol: '', members: [...this.members.values()].map((m) => m.summary(null)) };
  }

  // ---- offsets -----------------------------------------------------------------------------------

  offset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  setOffset(topic: string, partition: number, value: CommittedOffset): void {
    let byPartition = this.offsets.get(topic);
    if (byPartition === undefined) {
      byPartition = new Map();
      this.offsets.set(topic, byPartition);
    }
    byPartition.set(partition, value);
  }

  removeOffset(topic: string, partition: number): boolean {
    const byPartition = this.offsets.get(topic);
    if (byPartition === undefined || !byPartition.delete(partition)) return false;
    if (byPartition.size === 0) this.offsets.delete(topic);
    return true;
  }

  numOffsets(): number {
    let n = 0;
    for (const byPartition of this.offsets.values()) n += byPartition.size;
    return n;
  }

  hasOffsets(): boolean {
    return this.offsets.size > 0 || this.pendingOffsetCommits.size > 0;
  }

  allOffsets(): { topic: string; partition: number; value: CommittedOffset }[] {
    const out: { topic: string; partition: number; value: CommittedOffset }[] = [];
    for (const [topic, byPartition] of this.offsets) {
      for (const [partition, value] of byPartition) out.push({ topic, partition, value });
    }
    return out;
  }

  addPendingCommit(topic: string, partition: number): void {
    const key = `${topic}\u0000${partition}`;
    this.pendingOffsetCommits.set(key, (this.pendingOffsetCommits.get(key) ?? 0) + 1);
  }

  removePendingCommit(topic: string, partition: number): void {
    const key = `${topic}\u0000${partition}`;
    const n = (this.pendingOffsetCommits.get(key) ?? 1) - 1;
    if (n <= 0) this.pendingOffsetCommits.delete(key);
    else this.pendingOffsetCommits.set(key, n);
  }

  hasPendingCommit(topic: string, partition: number): boolean {
    return this.pendingOffsetCommits.has(`${topic}\u0000${partition}`);
  }

  /**
   * Offsets to expire now (Kafka's removeExpiredOffsets for a group that is not in use): an offset
   * with an explicit expiry goes at that time; otherwise, in an Empty group with a protocol type,
   * retention counts from when the group became Empty; in a group with no protocol type (simple
   * commits only), from the commit. Groups with members keep their offsets (Kafka also expires a
   * stable consumer group's offsets of topics it no longer subscribes to; we do not).
   */
  expiredOffsets(nowMs: number, retentionMs: number): { topic: string; partition: number }[] {
    const out: { topic: string; partition: number }[] = [];
    if (!this.is('Empty')) return out;
    for (const { topic, partition, value } of this.allOffsets()) {
      if (this.hasPendingCommit(topic, partition)) continue;
      let expired: boolean;
      if (value.expireTimestampMs !== -1) {
        expired = nowMs >= value.expireTimestampMs;
      } else {
        const base = this.protocolType !== null ? (this.currentStateTimestampMs ?? value.commitTimestampMs) : value.commitTimestampMs;
        expired = nowMs - base >= retentionMs;
      }
      if (expired) out.push({ topic, partition });
    }
    return out;
  }
}
