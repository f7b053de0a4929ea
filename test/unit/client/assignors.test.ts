// Assignors: range and roundrobin give the Java client's assignments (cases from Kafka's
// RangeAssignorTest and RoundRobinAssignorTest); cooperative-sticky is sticky, balanced once it
// converges, and never gives a partition to a new owner while the old one still holds it. The
// ConsumerProtocol bytes read and write what KafkaJS reads and writes.
import fc from 'fast-check';
import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  cooperativeStickyAssignor,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  rangeAssignor,
  rebalanceProtocolOf,
  roundRobinAssignor,
  type GroupAssignment,
  type MemberSubscription,
} from '../../../ts/client/assignors.js';

function member(memberId: string, topics: string[], owned: Record<string, number[]> = {}, generationId = -1, groupInstanceId: string | null = null): MemberSubscription {
  return { memberId, groupInstanceId, topics, userData: null, ownedPartitions: new Map(Object.entries(owned)), generationId, rackId: null };
}

/** memberId -> ["topic-p", …] sorted, for readable expectations. */
function flat(assignment: GroupAssignment): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [memberId, byTopic] of assignment) {
    out[memberId] = [...byTopic].flatMap(([t, ps]) => ps.map((p) => `${t}-${p}`)).sort();
  }
  return out;
}

const parts = (entries: Array<[string, number]>): Map<string, number> => new Map(entries);

describe('range', () => {
  it('gives each member a contiguous range per topic, the first ones one extra (Java: two consumers, two topics, six partitions)', () => {
    const a = rangeAssignor.assign([member('consumer1', ['t1', 't2']), member('consumer2', ['t1', 't2'])], { partitionsPerTopic: parts([['t1', 3], ['t2', 3]]) });
    expect(flat(a)).toEqual({ consumer1: ['t1-0', 't1-1', 't2-0', 't2-1'], consumer2: ['t1-2', 't2-2'] });
  });

  it('only deals a topic among its subscribers (Java: multiple consumers, mixed topics)', () => {
    const a = rangeAssignor.assign([member('consumer1', ['topic1']), member('consumer2', ['topic1', 'topic2']), member('consumer3', ['topic1'])], {
      partitionsPerTopic: parts([['topic1', 3], ['topic2', 2]]),
    });
    expect(flat(a)).toEqual({ consumer1: ['topic1-0'], consumer2: ['topic1-1', 'topic2-0', 'topic2-1'], consumer3: ['topic1-2'] });
  });

  it('orders members by member id, static members by instance id first, and skips unknown topics', () => {
    const a = rangeAssignor.assign([member('b', ['t']), member('a', ['t']), member('z', ['t'], {}, -1, 'instance-0'), member('c', ['missing'])], { partitionsPerTopic: parts([['t', 5]]) });
    expect(flat(a)).toEqual({ z: ['t-0', 't-1'], a: ['t-2', 't-3'], b: ['t-4'], c: [] });
  });
});

describe('roundrobin', () => {
  it('deals every partition in topic order (Java: two consumers, two topics, six partitions)', () => {
    const a = roundRobinAssignor.assign([member('consumer1', ['topic1', 'topic2']), member('consumer2', ['topic1', 'topic2'])], { partitionsPerTopic: parts([['topic1', 3], ['topic2', 3]]) });
    expect(flat(a)).toEqual({ consumer1: ['topic1-0', 'topic1-2', 'topic2-1'], consumer2: ['topic1-1', 'topic2-0', 'topic2-2'] });
  });

  it('skips members not subscribed to a topic (Java: multiple consumers, mixed topics)', () => {
    const a = roundRobinAssignor.assign([member('consumer1', ['topic1']), member('consumer2', ['topic1', 'topic2']), member('consumer3', ['topic1'])], {
      partitionsPerTopic: parts([['topic1', 3], ['topic2', 2]]),
    });
    expect(flat(a)).toEqual({ consumer1: ['topic1-0'], consumer2: ['topic1-1', 'topic2-0', 'topic2-1'], consumer3: ['topic1-2'] });
  });
});

describe('cooperative-sticky', () => {
  const assign = (members: MemberSubscription[], partitionsPerTopic: Map<string, number>): Record<string, string[]> =>
    flat(cooperativeStickyAssignor.assign(members, { partitionsPerTopic }));

  it('spreads a fresh group evenly', () => {
    const a = assign([member('a', ['t']), member('b', ['t']), member('c', ['t'])], parts([['t', 6]]));
    expect(Object.values(a).map((l) => l.length)).toEqual([2, 2, 2]);
    expect(new Set(Object.values(a).flat()).size).toBe(6);
  });

  it('keeps what members own when one leaves, handing out only the orphans', () => {
    const a = assign([member('a', ['t'], { t: [0, 1] }, 3), member('b', ['t'], { t: [2, 3] }, 3)], parts([['t', 6]]));
    expect(a.a).toEqual(expect.arrayContaining(['t-0', 't-1']));
    expect(a.b).toEqual(expect.arrayContaining(['t-2', 't-3']));
    expect([a.a!.length, a.b!.length]).toEqual([3, 3]);
  });

  it('moves partitions to a new member in two rounds: revoked first, assigned after (KIP-429)', () => {
    const round1 = assign([member('a', ['t'], { t: [0, 1, 2] }, 5), member('b', ['t'], { t: [3, 4, 5] }, 5), member('c', ['t'])], parts([['t', 6]]));
    expect(round1.c).toEqual([]);
    expect(round1.a!.length).toBe(2);
    expect(round1.b!.length).toBe(2);
    expect(round1.a!.every((p) => ['t-0', 't-1', 't-2'].includes(p))).toBe(true);
    const owned = (l: string[]): Record<string, number[]> => ({ t: l.map((p) => Number(p.split('-')[1])) });
    const round2 = assign([member('a', ['t'], owned(round1.a!), 6), member('b', ['t'], owned(round1.b!), 6), member('c', ['t'], {}, 6)], parts([['t', 6]]));
    expect(round2.a).toEqual(round1.a);
    expect(round2.b).toEqual(round1.b);
    expect(round2.c!.length).toBe(2);
  });

  it('drops a claim made by two members of the same generation and trusts the newer generation', () => {
    const a = assign([member('a', ['t'], { t: [0] }, 4), member('b', ['t'], { t: [0] }, 4)], parts([['t', 2]]));
    expect(Object.values(a).flat().sort()).toEqual(['t-1']); // t-0 moves next round (its claim is disputed)
    const b = assign([member('a', ['t'], { t: [0, 1] }, 3), member('b', ['t'], { t: [0] }, 4)], parts([['t', 2]]));
    expect(b.b).toEqual(['t-0']);
  });

  it('stays valid, sticky and eventually balanced over random rebalances (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 24 }), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }),
      (topicCount, partitionCount, memberCounts) => {
        const topics = Array.from({ length: topicCount }, (_, i) => `topic${i}`);
        const ppt = new Map(topics.map((t, i) => [t, partitionCount + i]));
        const total = [...ppt.values()].reduce((a, b) => a + b, 0);
        let owned = new Map<string, Record<string, number[]>>();
        let generation = 0;
        for (const count of memberCounts) {
          const ids = Array.from({ length: count }, (_, i) => `m${i}`);
          // Run rebalances until nothing moves, as the members would.
          for (let round = 0; round < 4; round++) {
            generation++;
            const members = ids.map((id) => member(id, topics, owned.get(id) ?? {}, generation - 1));
            const result = cooperativeStickyAssignor.assign(members, { partitionsPerTopic: ppt });
            const holder = new Map<string, string>();
            for (const [id, byTopic] of result) {
              for (const [t, ps] of byTopic) {
                for (const p of ps) {
                  const k = `${t}-${p}`;
                  expect(holder.has(k)).toBe(false); // at most one owner
                  holder.set(k, id);
                  for (const [other, o] of owned) if (other !== id && ids.includes(other)) expect(o[t] ?? []).not.toContain(p); // never taken from a live owner
                }
              }
            }
            owned = new Map([...result].map(([id, byTopic]) => [id, Object.fromEntries(byTopic)]));
          }
          const loads = ids.map((id) => Object.values(owned.get(id) ?? {}).flat().length);
          expect(loads.reduce((a, b) => a + b, 0)).toBe(total);
          expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
        }
      },
    ), { numRuns: 60 });
  });

  it('is cooperative, while a list with an eager-only assignor is eager (as the Java client decides)', () => {
    expect(rebalanceProtocolOf([cooperativeStickyAssignor])).toBe('cooperative');
    expect(rebalanceProtocolOf([rangeAssignor, cooperativeStickyAssignor])).toBe('eager');
  });
});

describe('ConsumerProtocol bytes', () => {
  it('round-trips subscriptions with owned partitions, generation and rack', () => {
    const bytes = encodeSubscription({ topics: ['a', 'b'], userData: Buffer.from([0, 0, 0, 7]), ownedPartitions: [{ topic: 'a', partitions: [0, 2] }], generationId: 7, rackId: 'r1' });
    const s = decodeSubscription('m', 'i', bytes);
    expect(s).toMatchObject({ memberId: 'm', groupInstanceId: 'i', topics: ['a', 'b'], generationId: 7, rackId: 'r1' });
    expect([...s.ownedPartitions]).toEqual([['a', [0, 2]]]);
  });

  it('reads KafkaJS\'s v0 subscription, and KafkaJS reads our subscription and assignment', () => {
    const theirs = AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['x', 'y'], userData: Buffer.from([0, 0, 0, 3]) });
    const s = decodeSubscription('m', null, theirs);
    expect(s.topics).toEqual(['x', 'y']);
    expect(s.generationId).toBe(3); // cooperative-sticky's generation in user data
    const ours = encodeSubscription({ topics: ['x'], userData: null, ownedPartitions: [], generationId: -1, rackId: null });
    expect(AssignerProtocol.MemberMetadata.decode(ours)).toMatchObject({ topics: ['x'] });
    const assignment = encodeAssignment(new Map([['x', [0, 3]], ['y', [1]]]));
    expect(AssignerProtocol.MemberAssignment.decode(assignment)).toMatchObject({ assignment: { x: [0, 3], y: [1] } });
    const kafkajsAssignment = AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: { x: [1, 2] }, userData: Buffer.alloc(0) });
    expect([...decodeAssignment(kafkajsAssignment)]).toEqual([['x', [1, 2]]]);
    expect(decodeAssignment(Buffer.alloc(0)).size).toBe(0);
  });
});
