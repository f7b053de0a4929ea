// `godel groups list|get|create|delete|remove-member` and `godel commit` against a real broker
// process: groups made by committing offsets, lag per partition, commits to an offset, earliest,
// latest and a time, and a live group (CLI consumers, one static) whose members are listed and
// removed while it refuses commits and deletion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Godel, type Admin } from '../../ts/client/index.js';
import { startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { Background, expectOneLineError, expectSuccess, godel, parseFields, parseTable, parseTables } from './godel.js';

/** Records of partition 0 have timestamps BASE, BASE + 1000, …; partition 1 gets 5 records too. */
const BASE = Date.parse('2024-05-01T12:00:00Z');

describe('godel groups and godel commit', { timeout: 180_000 }, () => {
  let broker: BrokerProcess;
  let b: string[];
  let admin: Admin;

  beforeAll(async () => {
    broker = await startBroker({ set: { 'group.initial.rebalance.delay.ms': '0' } });
    b = ['-b', broker.address];
    const client = new Godel({ brokers: [broker.address] });
    admin = client.admin();
    await admin.createTopics({ topics: [{ topic: 'gt', numPartitions: 2 }] });
    const producer = client.producer();
    try {
      await producer.send({ topic: 'gt', messages: [0, 1, 2, 3, 4].map((i) => ({ value: `p0-${i}`, partition: 0, timestamp: BASE + 1000 * i })) });
      await producer.send({ topic: 'gt', messages: [0, 1, 2, 3, 4].map((i) => ({ value: `p1-${i}`, partition: 1, timestamp: BASE + 1000 * i })) });
    } finally {
      await producer.disconnect();
    }
  }, 120_000);

  afterAll(async () => {
    await admin?.disconnect();
    await broker?.stop();
  });

  it('creates groups at the earliest, latest or a time, once', async () => {
    const [earliest, latest, timed] = await Promise.all([
      godel(['groups', 'create', 'fresh', '-t', 'gt', '--to-earliest', ...b]),
      godel(['groups', 'create', 'tail', '--topic', 'gt', '--json', ...b]),
      godel(['groups', 'create', 'timed', '-t', 'gt', '--to-time', new Date(BASE + 2500).toISOString(), '--json', ...b]),
    ]);
    expectSuccess(earliest);
    expect(earliest.stdout).toMatch(/^created group "fresh"\n/);
    expect(parseTable(earliest.stdout)).toEqual([
      { TOPIC: 'gt', PARTITION: '0', OFFSET: '0' },
      { TOPIC: 'gt', PARTITION: '1', OFFSET: '0' },
    ]);
    expectSuccess(latest);
    expect(JSON.parse(latest.stdout)).toEqual({ group: 'tail', offsets: [{ topic: 'gt', partition: 0, offset: 5 }, { topic: 'gt', partition: 1, offset: 5 }] });
    expectSuccess(timed);
    expect(JSON.parse(timed.stdout)).toEqual({ group: 'timed', offsets: [{ topic: 'gt', partition: 0, offset: 3 }, { topic: 'gt', partition: 1, offset: 3 }] });

    const [again, unknownTopic] = await Promise.all([
      godel(['groups', 'create', 'fresh', '-t', 'gt', ...b]),
      godel(['groups', 'create', 'other', '-t', 'nope', ...b]),
    ]);
    expectOneLineError(again, /group "fresh" already exists/);
    expectOneLineError(unknownTopic, /topic "nope" does not exist/);
  });

  it('lists groups and describes one: state, committed offsets, log end and lag per partition', async () => {
    const [list, get, getJson] = await Promise.all([
      godel(['groups', 'list', ...b]),
      godel(['groups', 'get', 'fresh', ...b]),
      godel(['groups', 'get', 'timed', '--json', ...b]),
    ]);
    expectSuccess(list);
    const rows = parseTable(list.stdout);
    expect(rows).toContainEqual(expect.objectContaining({ GROUP: 'fresh', STATE: 'Empty' }));
    expect(rows.map((r) => r.GROUP)).toEqual(expect.arrayContaining(['fresh', 'tail', 'timed']));

    expectSuccess(get);
    expect(parseFields(get.stdout)).toMatchObject({ group: 'fresh', state: 'Empty', members: '0', 'total lag': '10' });
    expect(parseTable(get.stdout)).toEqual([
      { TOPIC: 'gt', PARTITION: '0', COMMITTED: '0', 'LOG-END': '5', LAG: '5', 'MEMBER-ID': '-' },
      { TOPIC: 'gt', PARTITION: '1', COMMITTED: '0', 'LOG-END': '5', LAG: '5', 'MEMBER-ID': '-' },
    ]);
    expectSuccess(getJson);
    expect(JSON.parse(getJson.stdout)).toMatchObject({
      group: 'timed', state: 'Empty', members: [], totalLag: 4,
      offsets: [
        { topic: 'gt', partition: 0, committed: 3, logEndOffset: 5, lag: 2, memberId: null },
        { topic: 'gt', partition: 1, committed: 3, logEndOffset: 5, lag: 2, memberId: null },
      ],
    });
  });

  it('commits an offset, the earliest, the latest or a time', async () => {
    const runs = await Promise.all([
      godel(['commit', '--group', 'fresh', '--topic', 'gt', '--partition', '0', '--offset', '3', ...b]),
      godel(['commit', '-g', 'tail', '-t', 'gt', '--to-earliest', '--json', ...b]),
      godel(['commit', '-g', 'timed', '-t', 'gt', '-p', '1', '--to-time', String(BASE + 1000), '--json', ...b]),
      godel(['commit', '-g', 'newcomer', '-t', 'gt', '--to-latest', '--json', ...b]),
      godel(['commit', '-g', 'fresh', '-t', 'gt', ...b]),
      godel(['commit', '-g', 'fresh', '-t', 'gt', '--offset', '1', '--to-latest', ...b]),
      godel(['commit', '-g', 'fresh', '-t', 'gt', '-p', '0', '--offset', '99', ...b]),
    ]);
    const [offset, earliest, timed, latest] = runs;
    expectSuccess(offset!);
    expect(offset!.stdout).toMatch(/^committed offsets of group "fresh" on "gt"\n/);
    expect(parseTable(offset!.stdout)).toEqual([{ TOPIC: 'gt', PARTITION: '0', OFFSET: '3', PREVIOUS: '0' }]);
    expectSuccess(earliest!);
    expect(JSON.parse(earliest!.stdout)).toEqual({ group: 'tail', topic: 'gt', offsets: [{ partition: 0, offset: 0, previous: 5 }, { partition: 1, offset: 0, previous: 5 }] });
    expectSuccess(timed!);
    expect(JSON.parse(timed!.stdout)).toEqual({ group: 'timed', topic: 'gt', offsets: [{ partition: 1, offset: 1, previous: 3 }] });
    expectSuccess(latest!);
    expect(JSON.parse(latest!.stdout)).toEqual({ group: 'newcomer', topic: 'gt', offsets: [{ partition: 0, offset: 5, previous: null }, { partition: 1, offset: 5, previous: null }] });
    expectOneLineError(runs[4]!, /say where to commit: --offset OFFSET, --to-earliest, --to-latest or --to-time TIME/);
    expectOneLineError(runs[5]!, /--offset and --to-latest cannot be used together/);
    expectOneLineError(runs[6]!, /--offset 99 is outside partition 0 of "gt" \(offsets 0 to 5\)/);
    const committed = await admin.fetchOffsets({ groupId: 'fresh' });
    expect(committed.map((c) => c.offset)).toEqual([3n, 0n]);
  });

  it('shows a live group\'s members and assignments, refuses commits and deletion while they are active, and removes members', async () => {
    const staticMember = new Background(['consume', 'gt', '--group', 'live', '--instance-id', 'static-1', ...b]);
    const dynamicMember = new Background(['consume', 'gt', '--group', 'live', ...b]);
    try {
      const members = await waitFor(async () => {
        const [g] = await admin.describeGroups(['live']);
        return g!.state === 'Stable' && g!.members.length === 2 && g!.members.every((m) => m.assignment.length === 1) ? g!.members : undefined;
      }, 'two members in group live', 90_000, 200);
      const dynamicId = members.find((m) => m.groupInstanceId === null)!.memberId;

      const [get, commit, del] = await Promise.all([
        godel(['groups', 'get', 'live', ...b]),
        godel(['commit', '-g', 'live', '-t', 'gt', '--to-earliest', ...b]),
        godel(['groups', 'delete', 'live', ...b]),
      ]);
      expectSuccess(get);
      expect(parseFields(get.stdout)).toMatchObject({ group: 'live', state: 'Stable', members: '2', protocol: expect.stringMatching(/^consumer \(/) });
      const [memberTable, offsetTable] = parseTables(get.stdout);
      expect(memberTable).toHaveLength(2);
      expect(memberTable).toContainEqual(expect.objectContaining({ 'INSTANCE-ID': 'static-1', 'CLIENT-ID': 'godel-cli' }));
      expect(memberTable).toContainEqual(expect.objectContaining({ 'MEMBER-ID': dynamicId, 'INSTANCE-ID': '-' }));
      expect(memberTable!.map((m) => m.ASSIGNMENT).sort()).toEqual(['gt-0', 'gt-1']);
      expect(offsetTable!.map((r) => r['MEMBER-ID']).sort()).toEqual(members.map((m) => m.memberId).sort());
      expectOneLineError(commit, /group "live" has 2 active members \(Stable\): stop its consumers, or remove them with godel groups remove-member/);
      expectOneLineError(del, /group "live" has active members/);

      const [byInstance, byMember, unknown] = await Promise.all([
        godel(['groups', 'remove-member', 'live', '--instance-id', 'static-1', ...b]),
        godel(['groups', 'remove-member', 'live', '--member-id', dynamicId, '--json', ...b]),
        godel(['groups', 'remove-member', 'live', '--member-id', 'nobody', ...b]),
      ]);
      expectSuccess(byInstance);
      expect(byInstance.stdout).toBe('removed 1 member from group "live": static-1\n');
      expectSuccess(byMember);
      expect(JSON.parse(byMember.stdout)).toEqual({ group: 'live', removed: [dynamicId] });
      expectOneLineError(unknown, /group "live" has no member with id "nobody"/);
      // The broker removed both on the admin's behalf (the consumers then rejoin as new members).
      const removed = broker.logRecords().filter((r) => r.msg === 'member left the group' && r.group === 'live' && r.reason === 'removed by an admin');
      expect(removed.map((r) => r.member)).toEqual(expect.arrayContaining(members.map((m) => m.memberId)));

      for (const member of [staticMember, dynamicMember]) {
        const run = await member.interrupt();
        expect(run.code, run.stderr).toBe(0);
      }
    } finally {
      staticMember.kill();
      dynamicMember.kill();
    }
    await waitFor(async () => (await admin.describeGroups(['live']))[0]!.members.length === 0, 'the consumers to leave', 60_000, 200);
    const deleted = await godel(['groups', 'delete', 'live', 'fresh', ...b]);
    expectSuccess(deleted);
    expect(deleted.stdout).toBe('deleted group "live"\ndeleted group "fresh"\n');
    const [gone, deleteAgain] = await Promise.all([godel(['groups', 'get', 'live', ...b]), godel(['groups', 'delete', 'fresh', ...b])]);
    expectOneLineError(gone, /group "live" does not exist/);
    expectOneLineError(deleteAgain, /group "fresh" does not exist/);
  });
});
