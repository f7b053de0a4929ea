// Partition assignors for the classic consumer group protocol, under the names every other client
// uses, so a Gödel consumer can share a group with Java, librdkafka, kafka-python or KafkaJS
// consumers configured with the same assignor:
// - "range" (Java's RangeAssignor): per topic, the subscribed members in order each get a
//   contiguous range; the first (partitions % members) get one extra.
// - "roundrobin" (RoundRobinAssignor): all partitions, topics in name order, dealt to the members
//   in order, skipping members not subscribed to the topic.
// - "cooperative-sticky" (CooperativeStickyAssignor's protocol): keeps each member's owned
//   partitions where it can, balances the rest, and never hands a partition to a new owner in the
//   same rebalance its old owner still holds it: such a partition is left out, the old owner
//   revokes it and rejoins, and the follow-up rebalance gives it to the new owner (KIP-429).
//   The balancing is ours, not a port of Java's algorithm: the assignment may differ from Java's,
//   but it is valid and balanced, which is what cooperative rebalancing needs from the leader.
//
// Members are ordered as Java's MemberInfo: by group instance id when both have one, static members
// first, then by member id.

import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import {
  decodeConsumerProtocolSubscriptionVersioned,
  encodeConsumerProtocolSubscriptionVersioned,
  type ConsumerProtocolSubscription,
} from '../protocol/generated/consumer-protocol-subscription.js';
import {
  decodeConsumerProtocolAssignmentVersioned,
  encodeConsumerProtocolAssignmentVersioned,
  type ConsumerProtocolAssignment,
} from '../protocol/generated/consumer-protocol-assignment.js';

/** The version of ConsumerProtocolSubscription/Assignment we write (3: owned partitions, generation, rack). */
export const CONSUMER_PROTOCOL_VERSION = 3;

export type RebalanceProtocol = 'eager' | 'cooperative';

export interface MemberSubscription {
  memberId: string;
  groupInstanceId: string | null;
  topics: string[];
  userData: Buffer | null;
  /** Partitions the member owns now, by topic (empty for eager members). */
  ownedPartitions: Map<string, number[]>;
  /** The generation of the owned partitions; -1 when unknown. */
  generationId: number;
  rackId: string | null;
}

/** topic -> partitions, per member id. */
export type GroupAssignment = Map<string, Map<string, number[]>>;

export interface AssignContext {
  /** Partition count per subscribed topic (topics that do not exist are absent). */
  partitionsPerTopic: Map<string, number>;
}

export interface Assignor {
  /** The protocol name sent in JoinGroup (must match the other clients' name for the same algorithm). */
  readonly name: string;
  /** The rebalance protocols it supports; cooperative needs the cooperative-aware leader logic. */
  readonly protocols: readonly RebalanceProtocol[];
  /** Extra bytes in the member's subscription (Java's cooperative-sticky puts the generation there). */
  userData?(generationId: number): Buffer | null;
  assign(members: readonly MemberSubscription[], context: AssignContext): GroupAssignment;
}

export function compareMembers(a: MemberSubscription, b: MemberSubscription): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return compareStrings(a.groupInstanceId, b.groupInstanceId);
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

/** Java's String.compareTo (UTF-16 code units), which JavaScript's < also uses. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function emptyAssignment(members: readonly MemberSubscription[]): GroupAssignment {
  const out: GroupAssignment = new Map();
  for (const m of members) out.set(m.memberId, new Map());
  return out;
}

function add(assignment: GroupAssignment, memberId: string, topic: string, partition: number): void {
  const byTopic = assignment.get(memberId)!;
  let list = byTopic.get(topic);
  if (list === undefined) byTopic.set(topic, (list = []));
  list.push(partition);
}

export const rangeAssignor: Assignor = {
  name: 'range',
  protocols: ['eager'],
  assign(members, { partitionsPerTopic }) {
    const assignment = emptyAssignment(members);
    const sorted = [...members].sort(compareMembers);
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort(compareStrings);
    for (const topic of topics) {
      const count = partitionsPerTopic.get(topic);
      if (count === undefined) continue;
      const consumers = sorted.filter((m) => m.topics.includes(topic));
      if (consumers.length === 0) continue;
      const per = Math.floor(count / consumers.length);
      const extra = count % consumers.length;
      consumers.forEach((m, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i + 1 > extra ? 0 : 1);
        for (let p = start; p < start + length; p++) add(assignment, m.memberId, topic, p);
      });
    }
    return assignment;
  },
};

export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  protocols: ['eager'],
  assign(members, { partitionsPerTopic }) {
    const assignment = emptyAssignment(members);
    const sorted = [...members].sort(compareMembers);
    if (sorted.length === 0) return assignment;
    const topics = [...new Set(members.flatMap((m) => m.topics))].filter((t) => partitionsPerTopic.has(t)).sort(compareStrings);
    let next = 0;
    for (const topic of topics) {
      const count = partitionsPerTopic.get(topic)!;
      for (let p = 0; p < count; p++) {
        // The topic has at least one subscriber, so this ends.
        while (!sorted[next % sorted.length]!.topics.includes(topic)) next++;
        add(assignment, sorted[next % sorted.length]!.memberId, topic, p);
        next++;
      }
    }
    return assignment;
  },
};

/** Sticky balancing: keep valid owned partitions, deal the rest to the least loaded, even out. */
function stickyAssign(members: readonly MemberSubscription[], partitionsPerTopic: Map<string, number>): {
  assignment: GroupAssignment;
  previousOwner: Map<string, string>;
  /** Partitions two members claim in the same generation: both may still hold them. */
  disputed: Set<string>;
} {
  const sorted = [...members].sort(compareMembers);
  const subscribed = new Map(sorted.map((m) => [m.memberId, new Set(m.topics.filter((t) => partitionsPerTopic.has(t)))]));
  const key = (topic: string, p: number): string => `${topic}\u0000${p}`;
  // Ownership claims: the highest generation wins; a tie between two members leaves it unowned.
  const claims = new Map<string, { memberId: string; generation: number; conflict: boolean }>();
  for (const m of sorted) {
    for (const [topic, partitions] of m.ownedPartitions) {
      const count = partitionsPerTopic.get(topic);
      if (count === undefined) continue;
      for (const p of partitions) {
        if (p < 0 || p >= count) continue;
        const k = key(topic, p);
        const c = claims.get(k);
        if (c === undefined || m.generationId > c.generation) claims.set(k, { memberId: m.memberId, generation: m.generationId, conflict: false });
        else if (m.generationId === c.generation) c.conflict = true;
      }
    }
  }
  const owned = new Map<string, { topic: string; partition: number }[]>(sorted.map((m) => [m.memberId, []]));
  const previousOwner = new Map<string, string>();
  const disputed = new Set<string>();
  const unassigned: { topic: string; partition: number }[] = [];
  const topics = [...partitionsPerTopic.keys()].filter((t) => sorted.some((m) => subscribed.get(m.memberId)!.has(t))).sort(compareStrings);
  for (const topic of topics) {
    for (let p = 0; p < partitionsPerTopic.get(topic)!; p++) {
      const c = claims.get(key(topic, p));
      if (c !== undefined && c.conflict) disputed.add(key(topic, p));
      if (c !== undefined && !c.conflict) {
        previousOwner.set(key(topic, p), c.memberId);
        if (subscribed.get(c.memberId)?.has(topic)) {
          owned.get(c.memberId)!.push({ topic, partition: p });
          continue;
        }
      }
      unassigned.push({ topic, partition: p });
    }
  }
  // Quota for members with identical subscriptions: nobody keeps more than ceil(total / members)
  // when that leaves others below floor; the general balancing loop below evens out the rest.
  const load = (id: string): number => owned.get(id)!.length;
  const leastLoaded = (topic: string): string | undefined => {
    let best: string | undefined;
    for (const m of sorted) {
      if (!subscribed.get(m.memberId)!.has(topic)) continue;
      if (best === undefined || load(m.memberId) < load(best)) best = m.memberId;
    }
    return best;
  };
  for (const tp of unassigned) {
    const to = leastLoaded(tp.topic);
    if (to !== undefined) owned.get(to)!.push(tp);
  }
  // Even out: move a partition from the most to the least loaded member that can take it, while
  // that narrows the gap. Bounded: each move lowers the sum of squared loads.
  for (let moves = 0; moves < 100_000; moves++) {
    let moved = false;
    const byLoad = [...sorted].sort((a, b) => load(b.memberId) - load(a.memberId) || compareMembers(a, b));
    outer: for (const from of byLoad) {
      for (let i = byLoad.length - 1; i >= 0; i--) {
        const to = byLoad[i]!;
        if (load(from.memberId) - load(to.memberId) <= 1) break;
        const list = owned.get(from.memberId)!;
        for (let j = list.length - 1; j >= 0; j--) {
          if (subscribed.get(to.memberId)!.has(list[j]!.topic)) {
            owned.get(to.memberId)!.push(list.splice(j, 1)[0]!);
            moved = true;
            break outer;
          }
        }
      }
    }
    if (!moved) break;
  }
  const assignment = emptyAssignment(members);
  for (const [memberId, list] of owned) {
    list.sort((a, b) => compareStrings(a.topic, b.topic) || a.partition - b.partition);
    for (const tp of list) add(assignment, memberId, tp.topic, tp.partition);
  }
  return { assignment, previousOwner, disputed };
}

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  protocols: ['cooperative', 'eager'],
  userData(generationId) {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(generationId, 0);
    return b;
  },
  assign(members, { partitionsPerTopic }) {
    const { assignment, previousOwner, disputed } = stickyAssign(members, partitionsPerTopic);
    // KIP-429: a partition changing owner is left out this round; its owner revokes it first. A
    // disputed one is left out too: every claimant revokes it, and the next round places it.
    const memberIds = new Set(members.map((m) => m.memberId));
    for (const [memberId, byTopic] of assignment) {
      for (const [topic, partitions] of byTopic) {
        const kept = partitions.filter((p) => {
          const k = `${topic}\u0000${p}`;
          if (disputed.has(k)) return false;
          const prev = previousOwner.get(k);
          return prev === undefined || prev === memberId || !memberIds.has(prev);
        });
        if (kept.length === 0) byTopic.delete(topic);
        else byTopic.set(topic, kept);
      }
    }
    return assignment;
  },
};

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky';

export const BUILT_IN_ASSIGNORS: Record<AssignorName, Assignor> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};

/** The rebalance protocol a member with these assignors follows: cooperative only if all support it (as Java). */
export function rebalanceProtocolOf(assignors: readonly Assignor[]): RebalanceProtocol {
  return assignors.every((a) => a.protocols.includes('cooperative')) ? 'cooperative' : 'eager';
}

// ---- ConsumerProtocol bytes --------------------------------------------------------------------

export function encodeSubscription(subscription: ConsumerProtocolSubscription, version = CONSUMER_PROTOCOL_VERSION): Buffer {
  const w = new Writer(256);
  encodeConsumerProtocolSubscriptionVersioned(w, subscription, version);
  return w.finish();
}

export function decodeSubscription(memberId: string, groupInstanceId: string | null, metadata: Buffer): MemberSubscription {
  const { value } = decodeConsumerProtocolSubscriptionVersioned(new Reader(metadata));
  const ownedPartitions = new Map<string, number[]>();
  for (const tp of value.ownedPartitions) ownedPartitions.set(tp.topic, [...(ownedPartitions.get(tp.topic) ?? []), ...tp.partitions]);
  let generationId = value.generationId;
  // Older cooperative-sticky members carry the generation in their user data (Java does both).
  if (generationId < 0 && value.userData !== null && value.userData.length === 4) generationId = value.userData.readInt32BE(0);
  return { memberId, groupInstanceId, topics: value.topics, userData: value.userData, ownedPartitions, generationId, rackId: value.rackId };
}

export function encodeAssignment(byTopic: Map<string, number[]>, userData: Buffer | null = null, version = CONSUMER_PROTOCOL_VERSION): Buffer {
  const w = new Writer(256);
  const value: ConsumerProtocolAssignment = {
    assignedPartitions: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    userData,
  };
  encodeConsumerProtocolAssignmentVersioned(w, value, version);
  return w.finish();
}

export function decodeAssignment(bytes: Buffer): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (bytes.length === 0) return out;
  const { value } = decodeConsumerProtocolAssignmentVersioned(new Reader(bytes));
  for (const tp of value.assignedPartitions) out.set(tp.topic, [...(out.get(tp.topic) ?? []), ...tp.partitions]);
  return out;
}
