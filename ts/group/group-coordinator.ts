// The classic group coordinator (Kafka's GroupCoordinator): JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, offset commits and fetches, listing, describing and deleting groups, with the group
// state machine of group-metadata.ts and Kafka's rules, error for error, because real clients
// depend on them (../shared/kafka-protocol/CLIENTS.md, section d).
//
// Each group belongs to one partition of __consumer_offsets (Java's String.hashCode, as Kafka);
// the leader of that partition coordinates it. The coordinator serves the groups of the partitions
// it has loaded, answers COORDINATOR_LOAD_IN_PROGRESS for those still replaying and NOT_COORDINATOR
// for the others. Group metadata is written when a generation's assignment is stored (the leader's
// SyncGroup), when a group empties, and when a static member is replaced; offsets on every commit.
// A commit is answered once its append is acknowledged by the log.
//
// Everything runs on the event loop: each request's checks and state changes happen in one
// synchronous step; only appends wait, and their continuations re-check the group's state and
// generation before acting, as Kafka's callbacks do under the group lock.
import type { Logger } from '../log.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { decodeConsumerProtocolSubscriptionVersioned } from '../protocol/generated/consumer-protocol-subscription.js';
import { Reader } from '../protocol/reader.js';
import { GroupMetadata, GROUP_STATES, type CommittedOffset, type GroupState, type GroupSummary } from './group-metadata.js';
import {
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from './group-records.js';
import { GroupRecordReplay } from './coordinator-loader.js';
import { groupPartition } from './java-hash.js';
import {
  EMPTY_BUFFER,
  joinError,
  MemberMetadata,
  syncError,
  type JoinGroupResult,
  type Protocol,
  type SyncGroupResult,
} from './member-metadata.js';
import { offsetCommitErrorCode, storeGroupErrorCode, type GroupRecord, type GroupStorage } from './offset-store.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

/** How long a member that joined but never completed a join may wait on it (Kafka's constant). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;
/** FindCoordinator key types. */
export const COORDINATOR_KEY_GROUP = 0;
export const COORDINATOR_KEY_TRANSACTION = 1;
/** The group type every classic group has (ListGroups v5). */
export const CLASSIC_GROUP_TYPE = 'classic';

export interface GroupCoordinatorConfig {
  offsetsTopicNumPartitions: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupInitialRebalanceDelayMs: number;
  offsetMetadataMaxBytes: number;
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
}

/** Kafka's defaults. */
export const DEFAULT_GROUP_COORDINATOR_CONFIG: GroupCoordinatorConfig = {
  offsetsTopicNumPartitions: 50,
  groupMinSessionTimeoutMs: 6_000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3_000,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 10_080 * 60_000,
  offsetsRetentionCheckIntervalMs: 600_000,
};

export interface CoordinatorNode {
  nodeId: number;
  host: string;
  port: number;
}

export interface GroupCoordinatorDeps {
  storage: GroupStorage;
  scheduler: Scheduler;
  logger: Logger;
  /** The live broker leading a partition of __consumer_offsets, or null when none does. */
  partitionLeader(partition: number): CoordinatorNode | null;
}

export interface JoinGroupParams {
  groupId: string;
  /** '' for a member joining for the first time. */
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  /** JoinGroup v4+ without a group instance id: a new member first gets MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a rejoining static leader may be told to skip the assignment. */
  supportSkippingAssignment: boolean;
  reason: string | null;
}

export interface SyncGroupParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** null when the version does not carry it. */
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface HeartbeatParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeavingMember {
  memberId: string;
  groupInstanceId: string | null;
  reason: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
  /** -1: now (only OffsetCommit v1 carries one). */
  commitTimestampMs: number;
}

export interface OffsetCommitParams {
  groupId: string;
  /** -1 for a commit from outside group management. */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** -1: the broker's offsets.retention.minutes (only v2-4 carry one). */
  retentionTimeMs: number;
  offsets: OffsetCommitEntry[];
}

export interface OffsetCommitEntryResult {
  topic: string;
  partition: number;
  errorCode: number;
}

export interface FetchedOffset {
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchResult {
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  state: GroupState;
  groupType: string;
}

export interface DescribedGroup extends Omit<GroupSummary, 'state'> {
  errorCode: number;
  groupId: string;
  /** '' when the group could not be described (an error). */
  state: GroupState | '';
}

type PartitionState = 'loading' | 'loaded';
type Api = 'join' | 'sync' | 'heartbeat' | 'leave' | 'commit' | 'fetch' | 'describe' | 'delete';

const NO_OFFSET = -1n;

export class GroupCoordinator {
  private readonly groups = new Map<string, GroupMetadata>();
  private readonly partitionStates = new Map<number, PartitionState>();
  private numPartitions: number;
  private active = false;
  private expiryTimer: TimerHandle | null = null;
  private loads: Promise<void> = Promise.resolve();
  private readonly storage: GroupStorage;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;

  constructor(readonly config: GroupCoordinatorConfig, private readonly deps: GroupCoordinatorDeps) {
    this.storage = deps.storage;
    this.scheduler = deps.scheduler;
    this.logger = deps.logger;
    this.numPartitions = config.offsetsTopicNumPartitions;
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /**
   * Creates __consumer_offsets if needed and starts loading every partition (this node leads them
   * all while it is alone). Returns once loading has begun; `loaded()` settles when it is done.
   */
  async start(): Promise<void> {
    this.numPartitions = await this.storage.ensureTopic(this.config.offsetsTopicNumPartitions);
    this.active = true;
    const partitions = Array.from({ length: this.numPartitions }, (_, p) => p);
    for (const p of partitions) this.partitionStates.set(p, 'loading');
    this.loads = (async () => {
      for (const p of partitions) {
        if (!this.active) return;
        await this.loadPartition(p);
      }
    })();
    this.scheduleExpiry();
  }

  /** Settles when every partition that was loading at the time of the call has loaded. */
  loaded(): Promise<void> {
    return this.loads;
  }

  /** Begins serving the groups of a partition (this node became its leader). */
  onElection(partition: number): Promise<void> {
    if (this.partitionStates.has(partition)) return Promise.resolve();
    this.partitionStates.set(partition, 'loading');
    const load = this.loadPartition(partition);
    this.loads = Promise.all([this.loads, load]).then(() => undefined);
    return load;
  }

  /** Stops serving a partition's groups (another node leads it now). */
  onResignation(partition: number): void {
    this.partitionStates.delete(partition);
    for (const group of [...this.groups.values()]) {
      if (this.partitionFor(group.groupId) === partition) this.unloadGroup(group);
    }
  }

  /** Answers every waiting request with NOT_COORDINATOR and stops all timers. */
  shutdown(): void {
    this.active = false;
    this.expiryTimer?.cancel();
    this.expiryTimer = null;
    for (const group of [...this.groups.values()]) this.unloadGroup(group);
    this.partitionStates.clear();
  }

  private async loadPartition(partition: number): Promise<void> {
    if (this.partitionStates.get(partition) !== 'loading') return;
    const replay = new GroupRecordReplay();
    const started = this.scheduler.nowMs();
    let failure: unknown = null;
    try {
      await this.storage.replay(partition, (key, value) => replay.apply(key, value));
    } catch (err) {
      failure = err;
    }
    // Unloaded (or shut down) meanwhile: nothing to serve.
    if (this.partitionStates.get(partition) !== 'loading') return;
    // Like Kafka, a partition that failed to load is served with what was read, loudly.
    if (failure !== null) this.logger.error({ partition, err: String(failure) }, 'loading __consumer_offsets failed; serving what was read');
    if (replay.corrupt > 0) this.logger.warn({ partition, corrupt: replay.corrupt }, 'skipped undecodable __consumer_offsets records');
    let groups = 0;
    for (const group of replay.build(this.scheduler.nowMs())) {
      if (this.groups.has(group.groupId)) continue;
      this.groups.set(group.groupId, group);
      for (const member of group.members.values()) this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
      groups++;
    }
    this.partitionStates.set(partition, 'loaded');
    if (replay.records > 0) {
      this.logger.info({ partition, records: replay.records, groups, ms: this.scheduler.nowMs() - started }, 'loaded __consumer_offsets partition');
    }
  }

  private unloadGroup(group: GroupMetadata): void {
    const previous = group.state;
    if (!group.is('Dead')) group.transitionTo('Dead', this.scheduler.nowMs());
    this.cancelGroupTimers(group);
    if (previous !== 'Dead') {
      for (const member of group.members.values()) {
        group.maybeInvokeJoinCallback(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
        group.maybeInvokeSyncCallback(member, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  private cancelGroupTimers(group: GroupMetadata): void {
    group.joinTimer?.cancel();
    group.joinTimer = null;
    group.syncTimer?.cancel();
    group.syncTimer = null;
    for (const member of group.members.values()) {
      member.heartbeatTimer?.cancel();
      member.heartbeatTimer = null;
    }
    for (const memberId of [...group.pendingMembers.keys()]) group.removePendingMember(memberId);
  }

  // ---- lookups ---------------------------------------------------------------------------------

  /** The __consumer_offsets partition of a group. */
  partitionFor(groupId: string): number {
    return groupPartition(groupId, this.numPartitions);
  }

  /** FindCoordinator: the leader of the group's partition. */
  findCoordinator(key: string, keyType: number): { errorCode: number; node: CoordinatorNode | null } {
    if (keyType === COORDINATOR_KEY_TRANSACTION) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, node: null };
    if (keyType !== COORDINATOR_KEY_GROUP) return { errorCode: ErrorCode.INVALID_REQUEST, node: null };
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, node: null };
    const node = this.deps.partitionLeader(this.partitionFor(key));
    return node === null ? { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, node: null } : { errorCode: 0, node };
  }

  /** A group as the coordinator holds it (tests, tools). */
  group(groupId: string): GroupMetadata | undefined {
    return this.groups.get(groupId);
  }

  /** Whether any partition is still loading. */
  isLoading(): boolean {
    for (const state of this.partitionStates.values()) if (state === 'loading') return true;
    return false;
  }

  private validateGroupStatus(groupId: string, api: Api): number {
    const emptyAllowed = api === 'commit' || api === 'fetch' || api === 'describe' || api === 'delete';
    if (!emptyAllowed && groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const state = this.partitionStates.get(this.partitionFor(groupId));
    if (state === 'loading') return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (state === undefined) return ErrorCode.NOT_COORDINATOR;
    return 0;
  }

  /** Kafka's validateCurrentMember: a static member's instance id must map to this member id. */
  private validateCurrentMember(group: GroupMetadata, memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const current = group.currentStaticMemberId(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      return 0;
    }
    return group.has(memberId) ? 0 : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** A group created by a request that then failed, holding nothing: forget it. */
  private maybeDropUnusedGroup(group: GroupMetadata): void {
    if (group.is('Empty') && group.size === 0 && group.pendingMembers.size === 0 && !group.hasOffsets()
      && group.generationId === 0 && this.groups.get(group.groupId) === group) {
      group.transitionTo('Dead', this.scheduler.nowMs());
      this.groups.delete(group.groupId);
    }
  }

  // ---- JoinGroup -------------------------------------------------------------------------------

  joinGroup(params: JoinGroupParams): Promise<JoinGroupResult> {
    return new Promise((resolve) => {
      const error = this.validateGroupStatus(params.groupId, 'join');
      if (error !== 0) {
        resolve(joinError(params.memberId, error));
        return;
      }
      if (params.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || params.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) {
        resolve(joinError(params.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
        return;
      }
      const isUnknownMember = params.memberId === '';
      let group = this.groups.get(params.groupId);
      if (group === undefined) {
        if (!isUnknownMember) {
          resolve(joinError(params.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
          return;
        }
        group = new GroupMetadata(params.groupId, 'Empty', this.scheduler.nowMs());
        this.groups.set(params.groupId, group);
      }
      if (isUnknownMember) this.doNewMemberJoin(group, params, resolve);
      else this.doCurrentMemberJoin(group, params, resolve);
      if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
      this.maybeDropUnusedGroup(group);
    });
  }

  private doNewMemberJoin(group: GroupMetadata, params: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    if (group.is('Dead')) {
      resolve(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
      return;
    }
    if (!group.supportsProtocols(params.protocolType, params.protocols.map((p) => p.name))) {
      resolve(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      return;
    }
    const newMemberId = GroupMetadata.generateMemberId(params.clientId, params.groupInstanceId);
    if (params.groupInstanceId !== null) {
      const oldMemberId = group.currentStaticMemberId(params.groupInstanceId);
      if (oldMemberId !== undefined) this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, params, resolve);
      else this.addMemberAndRebalance(group, newMemberId, params, resolve);
    } else if (params.requireKnownMemberId) {
      // The member gets its id first and must come back with it; it counts as pending until then.
      const expiry = this.scheduler.schedule(params.sessionTimeoutMs, () => this.onPendingMemberExpired(group, newMemberId));
      group.addPendingMember(newMemberId, expiry);
      resolve(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    } else {
      this.addMemberAndRebalance(group, newMemberId, params, resolve);
    }
  }

  private doCurrentMemberJoin(group: GroupMetadata, params: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    const memberId = params.memberId;
    if (group.is('Dead')) {
      resolve(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      return;
    }
    if (!group.supportsProtocols(params.protocolType, params.protocols.map((p) => p.name))) {
      resolve(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      return;
    }
    if (group.isPendingMember(memberId)) {
      if (params.groupInstanceId !== null) {
        // A static member never gets a pending id; a request like this is not ours.
        resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
      }
      this.addMemberAndRebalance(group, memberId, params, resolve);
      return;
    }
    const memberError = this.validateCurrentMember(group, memberId, params.groupInstanceId);
    if (memberError !== 0) {
      resolve(joinError(memberId, memberError));
      return;
    }
    const member = group.get(memberId);
    const current = (): JoinGroupResult => ({
      errorCode: 0, memberId, generationId: group.generationId, protocolType: group.protocolType, protocolName: group.protocolName,
      leader: group.leaderId ?? '', skipAssignment: false,
      members: group.isLeader(memberId) ? group.currentMemberMetadata() : [],
    });
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMemberAndRebalance(group, member, params, resolve, `member ${memberId} joining during PreparingRebalance`);
        return;
      case 'CompletingRebalance':
        // Same metadata: it probably lost the join response; give it the current generation again.
        if (member.matches(params.protocols)) {
          this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
          resolve(current());
        } else {
          this.updateMemberAndRebalance(group, member, params, resolve, `member ${memberId} changed its metadata`);
        }
        return;
      case 'Stable':
        // The leader rejoining asks for a new assignment (e.g. topic metadata changed); so does
        // any member whose metadata changed. A follower with the same metadata just gets the
        // current generation and goes on to SyncGroup.
        if (group.isLeader(memberId)) {
          this.updateMemberAndRebalance(group, member, params, resolve, `leader ${memberId} rejoining`);
        } else if (!member.matches(params.protocols)) {
          this.updateMemberAndRebalance(group, member, params, resolve, `member ${memberId} changed its metadata`);
        } else {
          this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
          resolve(current());
        }
        return;
      case 'Empty':
      case 'Dead':
        resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
    }
  }

  private addMemberAndRebalance(group: GroupMetadata, memberId: string, params: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    const member = new MemberMetadata({
      memberId, groupInstanceId: params.groupInstanceId, clientId: params.clientId, clientHost: params.clientHost,
      rebalanceTimeoutMs: params.rebalanceTimeoutMs, sessionTimeoutMs: params.sessionTimeoutMs,
      protocolType: params.protocolType, protocols: params.protocols,
    });
    member.isNew = true;
    // A member arriving during the initial delay of a new group may extend the delay.
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, resolve);
    // A new member cannot heartbeat before its first join completes; it gets the (long) new
    // member timeout instead of its session timeout, so a vanished joiner does not stay forever.
    this.scheduleHeartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalance(group, `adding member ${memberId}${params.groupInstanceId === null ? '' : ` (instance ${params.groupInstanceId})`}`);
  }

  private updateMemberAndRebalance(group: GroupMetadata, member: MemberMetadata, params: JoinGroupParams,
    resolve: (r: JoinGroupResult) => void, reason: string): void {
    // A second JoinGroup from the same member while one waits (a retry over another connection):
    // the older request gets an answer too, so nothing is left hanging.
    group.maybeInvokeJoinCallback(member, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    group.updateMember(member, params.protocols, params.rebalanceTimeoutMs, params.sessionTimeoutMs, resolve);
    this.maybePrepareRebalance(group, reason);
  }

  /** A known static member came back with an empty member id: it takes its old place under a new id. */
  private updateStaticMemberAndRebalance(group: GroupMetadata, oldMemberId: string, newMemberId: string,
    params: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    const instanceId = params.groupInstanceId!;
    const currentLeader = group.leaderId ?? '';
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId, ErrorCode.FENCED_INSTANCE_ID);
    this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
    const old = { protocols: member.supportedProtocols, rebalanceTimeoutMs: member.rebalanceTimeoutMs, sessionTimeoutMs: member.sessionTimeoutMs };
    group.updateMember(member, params.protocols, params.rebalanceTimeoutMs, params.sessionTimeoutMs, resolve);
    switch (group.state) {
      case 'Stable': {
        // Unless the protocol of the next generation would change, no rebalance: persist the new
        // member id and hand back the current generation, so the member's SyncGroup returns its
        // previous assignment.
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalance(group, `static member ${instanceId} rejoined with a protocol change`);
          return;
        }
        const generation = group.generationId;
        const assignment = new Map([...group.members.values()].map((m) => [m.memberId, m.assignment]));
        void this.storeGroup(group, assignment).then((errorCode) => {
          if (member.awaitingJoin !== resolve) return; // a rebalance answered it meanwhile
          if (errorCode !== 0) {
            this.logger.warn({ group: group.groupId, instance: instanceId, error: errorCode }, 'could not persist a static member\'s new member id; reverting');
            group.updateMember(member, old.protocols, old.rebalanceTimeoutMs, old.sessionTimeoutMs, null);
            if (group.has(newMemberId)) {
              const reverted = group.replaceStaticMember(instanceId, newMemberId, oldMemberId, ErrorCode.FENCED_INSTANCE_ID);
              this.scheduleHeartbeat(group, reverted, reverted.sessionTimeoutMs);
            }
            resolve({ ...joinError('', errorCode), generationId: generation, protocolType: group.protocolType, protocolName: group.protocolName, leader: currentLeader });
            return;
          }
          const isLeader = group.isLeader(newMemberId);
          if (params.supportSkippingAssignment) {
            // v9+: the static leader learns it leads, but skips the assignment (the group is stable).
            group.maybeInvokeJoinCallback(member, {
              errorCode: 0, memberId: newMemberId, generationId: group.generationId, protocolType: group.protocolType,
              protocolName: group.protocolName, leader: group.leaderId ?? '', skipAssignment: isLeader,
              members: isLeader ? group.currentMemberMetadata() : [],
            });
          } else {
            // Older versions: report the old leader id, so a rejoining leader does not assign.
            group.maybeInvokeJoinCallback(member, {
              errorCode: 0, memberId: newMemberId, generationId: group.generationId, protocolType: group.protocolType,
              protocolName: group.protocolName, leader: currentLeader, skipAssignment: false, members: [],
            });
          }
        });
        return;
      }
      case 'CompletingRebalance':
        // The leader may have been given the old member id: rebalance so assignments line up.
        this.prepareRebalance(group, `static member ${instanceId} rejoined during CompletingRebalance`);
        return;
      case 'PreparingRebalance':
        return; // answered when the join completes
      case 'Empty':
      case 'Dead':
        group.maybeInvokeJoinCallback(member, joinError(newMemberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
    }
  }

  private maybePrepareRebalance(group: GroupMetadata, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: GroupMetadata, reason: string): void {
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    group.joinTimer?.cancel();
    const wasEmpty = group.is('Empty');
    group.transitionTo('PreparingRebalance', this.scheduler.nowMs());
    this.logger.info({ group: group.groupId, generation: group.generationId, members: group.size, reason }, 'preparing to rebalance group');
    if (wasEmpty) {
      const delay = this.config.groupInitialRebalanceDelayMs;
      group.inInitialDelay = true;
      this.scheduleInitialDelayedJoin(group, delay, Math.max(group.rebalanceTimeoutMs() - delay, 0));
    } else {
      group.inInitialDelay = false;
      group.joinTimer = this.scheduler.schedule(group.rebalanceTimeoutMs(), () => this.onJoinDeadline(group));
      this.tryCompleteJoin(group);
    }
  }

  /** group.initial.rebalance.delay.ms: a new group waits for more members, longer while they keep coming. */
  private scheduleInitialDelayedJoin(group: GroupMetadata, delayMs: number, remainingMs: number): void {
    group.joinTimer = this.scheduler.schedule(delayMs, () => {
      group.joinTimer = null;
      if (!group.is('PreparingRebalance')) return;
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false;
        const delay = Math.min(this.config.groupInitialRebalanceDelayMs, remainingMs);
        this.scheduleInitialDelayedJoin(group, delay, Math.max(remainingMs - delayMs, 0));
        return;
      }
      this.completeJoin(group);
    });
  }

  private onJoinDeadline(group: GroupMetadata): void {
    group.joinTimer = null;
    if (group.is('PreparingRebalance')) this.completeJoin(group);
  }

  private tryCompleteJoin(group: GroupMetadata): void {
    if (group.is('PreparingRebalance') && !group.inInitialDelay && group.hasAllMembersJoined()) this.completeJoin(group);
  }

  /** The join phase ends: members that did not rejoin go, the next generation starts. */
  private completeJoin(group: GroupMetadata): void {
    group.joinTimer?.cancel();
    group.joinTimer = null;
    group.inInitialDelay = false;
    for (const member of group.notYetRejoinedMembers()) {
      // Static members stay until their session times out: they may come back with their id.
      if (!member.isStatic) {
        group.maybeInvokeSyncCallback(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        group.remove(member.memberId);
      }
    }
    if (group.is('Dead')) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined: wait another round for them.
      this.logger.warn({ group: group.groupId }, 'no member rejoined; waiting another rebalance timeout');
      group.joinTimer = this.scheduler.schedule(group.rebalanceTimeoutMs(), () => this.onJoinDeadline(group));
      return;
    }
    const now = this.scheduler.nowMs();
    group.initNextGeneration(now);
    if (group.is('Empty')) {
      this.logger.info({ group: group.groupId, generation: group.generationId }, 'group is now empty');
      void this.storeGroup(group, new Map()).then((errorCode) => {
        if (errorCode !== 0) this.logger.warn({ group: group.groupId, error: errorCode }, 'could not write the empty group\'s metadata');
      });
      return;
    }
    this.logger.info({ group: group.groupId, generation: group.generationId, protocol: group.protocolName, members: group.size, leader: group.leaderId },
      'group completed its join phase');
    for (const member of group.members.values()) {
      group.maybeInvokeJoinCallback(member, {
        errorCode: 0, memberId: member.memberId, generationId: group.generationId, protocolType: group.protocolType,
        protocolName: group.protocolName, leader: group.leaderId ?? '', skipAssignment: false,
        members: group.isLeader(member.memberId) ? group.currentMemberMetadata() : [],
      });
      this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  private onPendingMemberExpired(group: GroupMetadata, memberId: string): void {
    if (group.is('Dead') || !group.isPendingMember(memberId)) return;
    group.removePendingMember(memberId);
    this.logger.info({ group: group.groupId, member: memberId }, 'pending member did not rejoin in its session timeout; removed');
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
    this.maybeDropUnusedGroup(group);
  }

  // ---- sessions --------------------------------------------------------------------------------

  /** (Re)arms a member's session deadline. */
  private scheduleHeartbeat(group: GroupMetadata, member: MemberMetadata, timeoutMs: number): void {
    member.heartbeatTimer?.cancel();
    member.heartbeatTimer = this.scheduler.schedule(timeoutMs, () => this.onHeartbeatExpired(group, member));
  }

  private onHeartbeatExpired(group: GroupMetadata, member: MemberMetadata): void {
    member.heartbeatTimer = null;
    if (group.is('Dead') || group.members.get(member.memberId) !== member) return;
    // A member parked in a join or a sync is alive by definition; its deadline is re-armed when
    // that request is answered.
    if (member.excusedFromHeartbeat) return;
    this.logger.info({ group: group.groupId, member: member.memberId, sessionTimeoutMs: member.sessionTimeoutMs }, 'member session expired; removing it');
    this.removeMemberAndUpdateGroup(group, member, `member ${member.memberId} session expired`);
  }

  private removeMemberAndUpdateGroup(group: GroupMetadata, member: MemberMetadata, reason: string): void {
    // A request it still waits on is answered: it is no longer a member.
    group.maybeInvokeJoinCallback(member, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    group.maybeInvokeSyncCallback(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(member.memberId);
    switch (group.state) {
      case 'Dead':
      case 'Empty':
        return;
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group, reason);
        return;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        return;
    }
  }

  // ---- SyncGroup -------------------------------------------------------------------------------

  syncGroup(params: SyncGroupParams): Promise<SyncGroupResult> {
    return new Promise((resolve) => {
      const status = this.validateGroupStatus(params.groupId, 'sync');
      if (status !== 0) {
        // While loading the group's rebalance state is gone: REBALANCE_IN_PROGRESS sends the member
        // back to JoinGroup without a coordinator lookup (older clients do not know error 14 here).
        resolve(syncError(status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ? ErrorCode.REBALANCE_IN_PROGRESS : status));
        return;
      }
      const group = this.groups.get(params.groupId);
      if (group === undefined) {
        resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
        return;
      }
      const error = this.validateSyncGroup(group, params);
      if (error !== 0) {
        resolve(syncError(error));
        return;
      }
      const member = group.get(params.memberId);
      switch (group.state) {
        case 'Empty':
          resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
          return;
        case 'PreparingRebalance':
          resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
          return;
        case 'CompletingRebalance': {
          group.maybeInvokeSyncCallback(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
          member.awaitingSync = resolve;
          this.removePendingSyncMember(group, member.memberId);
          if (group.isLeader(member.memberId)) this.onLeaderAssignment(group, params.assignments);
          return;
        }
        case 'Stable':
          this.removePendingSyncMember(group, member.memberId);
          this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
          resolve({ errorCode: 0, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
          return;
        case 'Dead':
          resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
          return;
      }
    });
  }

  private validateSyncGroup(group: GroupMetadata, params: SyncGroupParams): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const memberError = this.validateCurrentMember(group, params.memberId, params.groupInstanceId);
    if (memberError !== 0) return memberError;
    if (params.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (params.protocolType !== null && params.protocolType !== group.protocolType) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    if (params.protocolName !== null && params.protocolName !== group.protocolName) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    return 0;
  }

  /** The leader's assignment: stored first, then every member gets its own part. */
  private onLeaderAssignment(group: GroupMetadata, assignments: { memberId: string; assignment: Buffer }[]): void {
    const assignment = new Map<string, Buffer>();
    for (const a of assignments) if (group.has(a.memberId)) assignment.set(a.memberId, Buffer.from(a.assignment));
    const missing = [...group.members.keys()].filter((id) => !assignment.has(id));
    for (const id of missing) assignment.set(id, EMPTY_BUFFER);
    if (missing.length > 0) this.logger.warn({ group: group.groupId, generation: group.generationId, missing }, 'leader sent no assignment for some members; they get an empty one');
    const generation = group.generationId;
    void this.storeGroup(group, assignment).then((errorCode) => {
      // Another member may have joined meanwhile: act only on the same generation, still completing.
      if (!group.is('CompletingRebalance') || group.generationId !== generation) return;
      if (errorCode !== 0) {
        this.resetAndPropagateAssignmentError(group, errorCode);
        this.maybePrepareRebalance(group, `storing the assignment failed (error ${errorCode})`);
        return;
      }
      for (const member of group.members.values()) member.assignment = assignment.get(member.memberId) ?? EMPTY_BUFFER;
      this.propagateAssignment(group, 0);
      group.transitionTo('Stable', this.scheduler.nowMs());
      this.logger.info({ group: group.groupId, generation, members: group.size }, 'group is stable');
    });
  }

  private resetAndPropagateAssignmentError(group: GroupMetadata, errorCode: number): void {
    for (const member of group.members.values()) member.assignment = EMPTY_BUFFER;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: GroupMetadata, errorCode: number): void {
    for (const member of group.members.values()) {
      const answered = group.maybeInvokeSyncCallback(member, errorCode === 0
        ? { errorCode: 0, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment }
        : syncError(errorCode));
      // The session restarts once the member has its answer (it was excused while it waited).
      if (answered) this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
  }

  private schedulePendingSync(group: GroupMetadata): void {
    group.syncTimer?.cancel();
    const generation = group.generationId;
    group.syncTimer = this.scheduler.schedule(group.rebalanceTimeoutMs(), () => this.onPendingSyncExpired(group, generation));
  }

  private removePendingSyncMember(group: GroupMetadata, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) {
      group.syncTimer?.cancel();
      group.syncTimer = null;
    }
  }

  private removeSyncExpiration(group: GroupMetadata): void {
    group.pendingSyncMembers.clear();
    group.syncTimer?.cancel();
    group.syncTimer = null;
  }

  /** Members that never sent SyncGroup within the rebalance timeout are removed; the group rebalances. */
  private onPendingSyncExpired(group: GroupMetadata, generation: number): void {
    group.syncTimer = null;
    if (generation !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.pendingSyncMembers.size === 0) return;
    const missing = [...group.pendingSyncMembers];
    this.logger.info({ group: group.groupId, generation, members: missing }, 'members did not send SyncGroup within the rebalance timeout; removing them');
    for (const memberId of missing) {
      const member = group.members.get(memberId);
      if (member !== undefined) group.maybeInvokeJoinCallback(member, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
      group.remove(memberId);
    }
    this.prepareRebalance(group, 'pending SyncGroup expired');
  }

  // ---- Heartbeat -------------------------------------------------------------------------------

  heartbeat(params: HeartbeatParams): number {
    const status = this.validateGroupStatus(params.groupId, 'heartbeat');
    // While loading, answer blindly: the group state is not known yet (as Kafka does).
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return 0;
    if (status !== 0) return status;
    const group = this.groups.get(params.groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const memberError = this.validateCurrentMember(group, params.memberId, params.groupInstanceId);
    if (memberError !== 0) return memberError;
    if (params.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.get(params.memberId);
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'CompletingRebalance':
      case 'Stable':
        this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return 0;
      case 'PreparingRebalance':
        this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'Dead':
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  // ---- LeaveGroup ------------------------------------------------------------------------------

  leaveGroup(groupId: string, leaving: LeavingMember[]): LeaveGroupResult {
    const status = this.validateGroupStatus(groupId, 'leave');
    if (status !== 0) return { errorCode: status, members: [] };
    const group = this.groups.get(groupId);
    const answer = (m: LeavingMember, errorCode: number): LeaveGroupResult['members'][number] => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
    if (group === undefined) return { errorCode: 0, members: leaving.map((m) => answer(m, ErrorCode.UNKNOWN_MEMBER_ID)) };
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((m) => {
      if (m.memberId === '') {
        // Removal by group instance id (an admin, or a static member shutting down).
        const current = m.groupInstanceId === null ? undefined : group.currentStaticMemberId(m.groupInstanceId);
        if (current === undefined) return answer(m, ErrorCode.UNKNOWN_MEMBER_ID);
        this.removeLeavingMember(group, current, m.reason);
        return answer(m, 0);
      }
      if (group.isPendingMember(m.memberId)) {
        group.removePendingMember(m.memberId);
        if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
        return answer(m, 0);
      }
      const error = this.validateCurrentMember(group, m.memberId, m.groupInstanceId);
      if (error !== 0) return answer(m, error);
      this.removeLeavingMember(group, m.memberId, m.reason);
      return answer(m, 0);
    });
    this.maybeDropUnusedGroup(group);
    return { errorCode: 0, members };
  }

  private removeLeavingMember(group: GroupMetadata, memberId: string, reason: string | null): void {
    const member = group.get(memberId);
    this.logger.info({ group: group.groupId, member: memberId, reason: reason ?? 'not provided' }, 'member left the group');
    this.removeMemberAndUpdateGroup(group, member, `member ${memberId} left${reason === null ? '' : `: ${reason}`}`);
  }

  // ---- offsets ---------------------------------------------------------------------------------

  /** OffsetCommit for partitions that exist; each answered once its record is in the log. */
  async commitOffsets(params: OffsetCommitParams): Promise<OffsetCommitEntryResult[]> {
    const all = (errorCode: number): OffsetCommitEntryResult[] => params.offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode }));
    const status = this.validateGroupStatus(params.groupId, 'commit');
    if (status !== 0) return all(status);
    let group = this.groups.get(params.groupId);
    if (group === undefined) {
      // Not managed by the coordinator: a simple consumer's commit creates an Empty group.
      if (params.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = new GroupMetadata(params.groupId, 'Empty', this.scheduler.nowMs());
      this.groups.set(params.groupId, group);
    }
    const error = this.validateOffsetCommit(group, params);
    if (error !== 0) {
      this.maybeDropUnusedGroup(group);
      return all(error);
    }
    switch (group.state) {
      case 'CompletingRebalance':
        // Its generation is right but the assignment is not out yet: let it rejoin cleanly.
        return all(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
      case 'PreparingRebalance': {
        // During PreparingRebalance commits of the current generation still count: members
        // learn of the rebalance from heartbeats and commit before they rejoin.
        const member = group.get(params.memberId);
        this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return this.storeOffsets(group, params);
      }
      case 'Empty':
        return this.storeOffsets(group, params);
      case 'Dead':
        return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  private validateOffsetCommit(group: GroupMetadata, params: OffsetCommitParams): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Generation -1: an admin client or a consumer outside group management, fine while Empty.
    if (params.generationId < 0 && group.is('Empty')) return 0;
    if (params.generationId >= 0 || params.memberId !== '' || params.groupInstanceId !== null) {
      const memberError = this.validateCurrentMember(group, params.memberId, params.groupInstanceId);
      if (memberError !== 0) return memberError;
      return params.generationId !== group.generationId ? ErrorCode.ILLEGAL_GENERATION : 0;
    }
    // A group with members takes commits from its members only.
    return group.is('Empty') ? 0 : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  private async storeOffsets(group: GroupMetadata, params: OffsetCommitParams): Promise<OffsetCommitEntryResult[]> {
    const now = this.scheduler.nowMs();
    const results: OffsetCommitEntryResult[] = [];
    const accepted: { topic: string; partition: number; value: CommittedOffset; slot: number }[] = [];
    const records: GroupRecord[] = [];
    for (const o of params.offsets) {
      const metadata = o.metadata ?? '';
      const slot = results.length;
      if (metadata.length > this.config.offsetMetadataMaxBytes) {
        results.push({ topic: o.topic, partition: o.partition, errorCode: ErrorCode.OFFSET_METADATA_TOO_LARGE });
        continue;
      }
      results.push({ topic: o.topic, partition: o.partition, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
      const value: CommittedOffset = {
        offset: o.offset, leaderEpoch: o.leaderEpoch, metadata,
        commitTimestampMs: o.commitTimestampMs === -1 ? now : o.commitTimestampMs,
        expireTimestampMs: params.retentionTimeMs === -1 ? -1 : now + params.retentionTimeMs,
      };
      accepted.push({ topic: o.topic, partition: o.partition, value, slot });
      records.push({
        key: encodeOffsetCommitKey(group.groupId, o.topic, o.partition),
        value: encodeOffsetCommitValue({
          offset: value.offset, leaderEpoch: value.leaderEpoch, metadata: value.metadata,
          commitTimestampMs: value.commitTimestampMs, expireTimestampMs: value.expireTimestampMs,
        }),
      });
    }
    if (records.length === 0) return results;
    for (const a of accepted) group.addPendingCommit(a.topic, a.partition);
    let errorCode = 0;
    try {
      await this.storage.append(this.partitionFor(group.groupId), records);
    } catch (err) {
      errorCode = offsetCommitErrorCode(err);
      this.logger.warn({ group: group.groupId, error: errorCode, err: String(err) }, 'offset commit append failed');
    }
    for (const a of accepted) {
      group.removePendingCommit(a.topic, a.partition);
      if (errorCode === 0 && !group.is('Dead')) group.setOffset(a.topic, a.partition, a.value);
      results[a.slot]!.errorCode = errorCode;
    }
    if (errorCode !== 0) this.maybeDropUnusedGroup(group);
    return results;
  }

  /** OffsetFetch: -1 where nothing is committed; null topics: every committed offset. */
  fetchOffsets(groupId: string, topics: { name: string; partitions: number[] }[] | null): OffsetFetchResult {
    const status = this.validateGroupStatus(groupId, 'fetch');
    if (status !== 0) return { errorCode: status, topics: [] };
    const group = this.groups.get(groupId);
    const usable = group !== undefined && !group.is('Dead') ? group : undefined;
    const fetched = (partition: number, value: CommittedOffset | undefined): FetchedOffset => (value === undefined
      ? { partition, offset: NO_OFFSET, leaderEpoch: -1, metadata: '', errorCode: 0 }
      : { partition, offset: value.offset, leaderEpoch: value.leaderEpoch, metadata: value.metadata, errorCode: 0 });
    if (topics === null) {
      if (usable === undefined) return { errorCode: 0, topics: [] };
      return {
        errorCode: 0,
        topics: [...usable.offsets].map(([name, byPartition]) => ({
          name, partitions: [...byPartition].sort((a, b) => a[0] - b[0]).map(([p, v]) => fetched(p, v)),
        })),
      };
    }
    return {
      errorCode: 0,
      topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => fetched(p, usable?.offset(t.name, p))) })),
    };
  }

  // ---- ListGroups, DescribeGroups, DeleteGroups ------------------------------------------------

  listGroups(statesFilter: string[], typesFilter: string[]): { errorCode: number; groups: ListedGroup[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((t) => t.toLowerCase()));
    const groups: ListedGroup[] = [];
    if (types.size === 0 || types.has(CLASSIC_GROUP_TYPE)) {
      for (const g of this.groups.values()) {
        if (g.is('Dead') || (states.size > 0 && !states.has(g.state.toLowerCase()))) continue;
        groups.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state, groupType: CLASSIC_GROUP_TYPE });
      }
    }
    return { errorCode: this.isLoading() ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : 0, groups };
  }

  describeGroup(groupId: string): DescribedGroup {
    const status = this.validateGroupStatus(groupId, 'describe');
    if (status !== 0) return { errorCode: status, groupId, state: '', protocolType: '', protocol: '', members: [] };
    const group = this.groups.get(groupId);
    if (group === undefined) return { errorCode: 0, groupId, state: 'Dead', protocolType: '', protocol: '', members: [] };
    return { errorCode: 0, groupId, ...group.summary() };
  }

  /** Deletes Empty groups with their offsets (tombstones in the log); others get NON_EMPTY_GROUP. */
  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
    const results = new Map<string, number>();
    const eligible: GroupMetadata[] = [];
    for (const groupId of groupIds) {
      if (results.has(groupId)) continue;
      const status = this.validateGroupStatus(groupId, 'delete');
      if (status !== 0) {
        results.set(groupId, status);
        continue;
      }
      const group = this.groups.get(groupId);
      if (group === undefined || group.is('Dead')) {
        results.set(groupId, ErrorCode.GROUP_ID_NOT_FOUND);
      } else if (group.is('Empty')) {
        group.transitionTo('Dead', this.scheduler.nowMs());
        eligible.push(group);
        results.set(groupId, 0);
      } else {
        results.set(groupId, ErrorCode.NON_EMPTY_GROUP);
      }
    }
    await Promise.all(eligible.map((g) => this.removeGroupOffsets(g, g.allOffsets().map((o) => ({ topic: o.topic, partition: o.partition })))));
    return groupIds.filter((id, i) => groupIds.indexOf(id) === i).map((groupId) => ({ groupId, errorCode: results.get(groupId)! }));
  }

  /**
   * Removes offsets from a group, with their tombstones; a group left Empty without offsets is
   * dead and goes too (with a tombstone for its metadata if it ever had a generation).
   */
  private async removeGroupOffsets(group: GroupMetadata, offsets: { topic: string; partition: number }[]): Promise<number> {
    const records = this.removeOffsetsInMemory(group, offsets);
    if (records.length > 0) {
      try {
        await this.storage.append(this.partitionFor(group.groupId), records);
      } catch (err) {
        // The next start would bring these back; the next expiry pass or deletion removes them again.
        this.logger.warn({ group: group.groupId, err: String(err) }, 'could not write tombstones for a removed group or its offsets');
      }
    }
    return records.length;
  }

  /** removeGroupOffsets' state change: returns the tombstones to write. */
  private removeOffsetsInMemory(group: GroupMetadata, offsets: { topic: string; partition: number }[]): GroupRecord[] {
    const records: GroupRecord[] = [];
    for (const { topic, partition } of offsets) {
      if (group.removeOffset(topic, partition)) records.push({ key: encodeOffsetCommitKey(group.groupId, topic, partition), value: null });
    }
    if (group.is('Empty') && !group.hasOffsets()) group.transitionTo('Dead', this.scheduler.nowMs());
    if (group.is('Dead') && this.groups.get(group.groupId) === group) {
      this.cancelGroupTimers(group);
      this.groups.delete(group.groupId);
      if (group.generationId > 0) records.push({ key: encodeGroupMetadataKey(group.groupId), value: null });
    }
    return records;
  }

  // ---- OffsetDelete ----------------------------------------------------------------------------

  /**
   * OffsetDelete (KIP-496, Kafka's handleDeleteOffsets): removes the committed offsets of the given
   * partitions (of existing topics: the request layer answers the others). An unknown group gets
   * GROUP_ID_NOT_FOUND; a group with members of another protocol type NON_EMPTY_GROUP. An Empty
   * group (a simple committer's included) loses every offset asked for; a consumer group with members
   * keeps those of topics its members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC). Answered once the
   * tombstones are in the log; a group left Empty without offsets is removed, as DeleteGroups does.
   */
  async deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<OffsetDeleteResult> {
    const status = this.validateGroupStatus(groupId, 'delete');
    if (status !== 0) return { errorCode: status, partitions: [] };
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let subscribed: ((topic: string) => boolean) | null = null;
    if (!group.is('Empty')) {
      if (group.protocolType !== CONSUMER_PROTOCOL_TYPE) return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
      const topics = subscribedTopics(group);
      subscribed = topics === null ? () => true : (topic) => topics.has(topic);
    }
    const results: OffsetDeleteEntryResult[] = [];
    const eligible: { topic: string; partition: number }[] = [];
    for (const { topic, partition } of partitions) {
      if (subscribed !== null && subscribed(topic)) {
        results.push({ topic, partition, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC });
      } else {
        results.push({ topic, partition, errorCode: 0 });
        eligible.push({ topic, partition });
      }
    }
    const records = this.removeOffsetsInMemory(group, eligible);
    if (records.length > 0) {
      try {
        await this.storage.append(this.partitionFor(groupId), records);
      } catch (err) {
        const errorCode = offsetCommitErrorCode(err);
        this.logger.warn({ group: groupId, error: errorCode, err: String(err) }, 'offset delete append failed');
        for (const r of results) if (r.errorCode === 0) r.errorCode = errorCode;
      }
    }
    return { errorCode: 0, partitions: results };
  }

  /** Expires offsets past offsets.retention.minutes; drops groups left empty without offsets. */
  async expireOffsets(): Promise<number> {
    if (!this.active) return 0;
    const now = this.scheduler.nowMs();
    let removed = 0;
    const work: Promise<number>[] = [];
    for (const group of [...this.groups.values()]) {
      if (this.partitionStates.get(this.partitionFor(group.groupId)) !== 'loaded') continue;
      const expired = group.expiredOffsets(now, this.config.offsetsRetentionMs);
      if (expired.length === 0 && !(group.is('Empty') && !group.hasOffsets())) continue;
      removed += expired.length;
      work.push(this.removeGroupOffsets(group, expired));
    }
    await Promise.all(work);
    if (removed > 0) this.logger.info({ offsets: removed }, 'expired committed offsets');
    return removed;
  }

  /** Offsets of a deleted topic go from every group (as Kafka's handleDeletedPartitions). */
  async onTopicDeleted(topic: string): Promise<void> {
    const work: Promise<number>[] = [];
    for (const group of [...this.groups.values()]) {
      const byPartition = group.offsets.get(topic);
      if (byPartition === undefined) continue;
      work.push(this.removeGroupOffsets(group, [...byPartition.keys()].map((partition) => ({ topic, partition }))));
    }
    await Promise.all(work);
  }

  private scheduleExpiry(): void {
    this.expiryTimer = this.scheduler.schedule(this.config.offsetsRetentionCheckIntervalMs, () => {
      if (!this.active) return;
      this.scheduleExpiry();
      // Runs may overlap harmlessly: each removes what it expires from memory before it writes.
      this.expireOffsets().catch((err: unknown) => this.logger.error({ err: String(err) }, 'offset expiry failed'));
    });
  }

  // ---- storage ---------------------------------------------------------------------------------

  /** Writes the group's metadata record; resolves to 0 or the error code the request should get. */
  private async storeGroup(group: GroupMetadata, assignment: Map<string, Buffer>): Promise<number> {
    const protocol = group.protocolName;
    const value = encodeGroupMetadataValue({
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol,
      leader: group.leaderId,
      currentStateTimestampMs: group.currentStateTimestampMs ?? -1,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs, sessionTimeoutMs: m.sessionTimeoutMs,
        subscription: protocol === null ? EMPTY_BUFFER : m.metadata(protocol),
        assignment: assignment.get(m.memberId) ?? EMPTY_BUFFER,
      })),
    });
    try {
      await this.storage.append(this.partitionFor(group.groupId), [{ key: encodeGroupMetadataKey(group.groupId), value }]);
      return 0;
    } catch (err) {
      const code = storeGroupErrorCode(err);
      this.logger.warn({ group: group.groupId, error: code, err: String(err) }, 'writing group metadata failed');
      return code;
    }
  }
}

export interface OffsetDeleteEntryResult {
  topic: string;
  partition: number;
  errorCode: number;
}

export interface OffsetDeleteResult {
  /** Non-zero: the whole request failed (no per-partition results). */
  errorCode: number;
  partitions: OffsetDeleteEntryResult[];
}

/** The protocol type of Kafka consumers (and of the groups whose subscriptions we can read). */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/**
 * The topics a consumer group's members subscribe to, from their metadata for the selected
 * protocol (Kafka's computeSubscribedTopics); null when unknown (no protocol selected yet, or a
 * subscription that does not parse), which counts as subscribed to everything.
 */
function subscribedTopics(group: GroupMetadata): Set<string> | null {
  if (group.members.size === 0) return new Set();
  const protocol = group.protocolName;
  if (protocol === null) return null;
  const topics = new Set<string>();
  try {
    for (const m of group.members.values()) {
      for (const t of decodeConsumerProtocolSubscriptionVersioned(new Reader(m.metadata(protocol))).value.topics) topics.add(t);
    }
  } catch {
    return null;
  }
  return topics;
}

/** Kafka's state names, for ListGroups filters. */
export function isGroupState(name: string): boolean {
  return GROUP_STATES.some((s) => s.toLowerCase() === name.toLowerCase());
}
