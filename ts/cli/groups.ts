// `godel groups list|get|create|delete|remove-member`: consumer groups. `get` shows the state, the
// members with their assignments, and per partition the committed offset, the log end offset and
// the lag. `create` makes a new group by committing starting offsets for its topics (nobody has to
// join it). `remove-member` removes a member ("delete consumer") by member id or group instance id,
// as if it had left: the group rebalances without it.
import type { Command } from 'commander';
import { KafkaError, type Admin, type GroupDescription } from '../client/index.js';
import { commitTarget, committedTable, requireInactiveGroup, resetTarget, type CommittedRow, type TargetOptions } from './commit.js';
import { CliError, count, fields, printJson, runAction, table, UsageError, writeOut } from './output.js';
import { collect, requireName, requireTopic, withAdmin, withCommonOptions, type CommonOptions } from './options.js';

const GROUP_ID_NOT_FOUND = 69;
const NON_EMPTY_GROUP = 68;
const UNKNOWN_MEMBER_ID = 25;

interface CreateOptions extends CommonOptions, TargetOptions {
  topic: string[];
}

interface RemoveOptions extends CommonOptions {
  memberId?: string[];
  instanceId?: string[];
  all?: boolean;
}

export function registerGroups(program: Command): void {
  const groups = program.command('groups').description('list, describe, create and delete consumer groups, and remove members');

  withCommonOptions(groups.command('list').description('list consumer groups with their states'))
    .action(runAction(listGroups));

  withCommonOptions(groups.command('get')
    .description('describe a group: state, members and assignments, committed offsets and lag per partition')
    .argument('<group>', 'group id'))
    .action(runAction(getGroup));

  withCommonOptions(groups.command('create')
    .description('create a group by committing starting offsets for its topics')
    .argument('<group>', 'group id (it must not exist yet)')
    .requiredOption('-t, --topic <topic>', 'a topic the group starts on (repeatable)', collect)
    .option('--to-earliest', 'start at the earliest offsets')
    .option('--to-latest', 'start at the latest offsets: only new records (default)')
    .option('--to-time <time>', 'start at the first record at or after this time (ISO date or epoch ms)'))
    .action(runAction(createGroup));

  withCommonOptions(groups.command('delete')
    .description('delete groups and their committed offsets (they must have no members)')
    .argument('<groups...>', 'group ids'))
    .action(runAction(deleteGroups));

  withCommonOptions(groups.command('remove-member')
    .description('remove members from a group, as if they had left (the group rebalances without them)')
    .argument('<group>', 'group id')
    .option('--member-id <id>', 'a member by its member id (repeatable)', collect)
    .option('--instance-id <id>', 'a static member by its group.instance.id (repeatable)', collect)
    .option('--all', 'every member'))
    .action(runAction(removeMembers));
}

async function listGroups(options: CommonOptions): Promise<void> {
  await withAdmin(options, async (admin) => {
    const groups = await admin.listGroups();
    const rows = groups.map((g) => ({ group: g.groupId, state: g.state, protocolType: g.protocolType, type: g.type }));
    if (options.json === true) return printJson(rows);
    if (rows.length === 0) return writeOut('no groups\n');
    await writeOut(table(['group', 'state', 'protocol-type'], rows.map((r) => [r.group, r.state, r.protocolType || '-'])));
  });
}

async function describeGroup(admin: Admin, group: string): Promise<GroupDescription> {
  const [description] = await admin.describeGroups([group]);
  return description!;
}

/** Whether a group exists: a live state, or committed offsets (a Dead description means unknown). */
async function groupExists(admin: Admin, group: string): Promise<{ description: GroupDescription; exists: boolean }> {
  const description = await describeGroup(admin, group);
  if (description.state !== 'Dead' || description.members.length > 0) return { description, exists: true };
  const committed = await admin.fetchOffsets({ groupId: group });
  return { description, exists: committed.some((c) => c.offset >= 0n) };
}

function unknownGroup(group: string): CliError {
  return new CliError(`group "${group}" does not exist (see godel groups list)`);
}

interface OffsetRow {
  topic: string;
  partition: number;
  committed: bigint | null;
  logEndOffset: bigint | null;
  lag: bigint | null;
  memberId: string | null;
  clientId: string | null;
}

async function getGroup(group: string, options: CommonOptions): Promise<void> {
  requireName(group, 'the group id');
  await withAdmin(options, async (admin) => {
    const description = await describeGroup(admin, group);
    const committed = await admin.fetchOffsets({ groupId: group });
    if (description.state === 'Dead' && description.members.length === 0 && !committed.some((c) => c.offset >= 0n)) throw unknownGroup(group);

    const owner = new Map<string, { memberId: string; clientId: string }>();
    for (const m of description.members) for (const tp of m.assignment) owner.set(`${tp.topic}\u0000${tp.partition}`, { memberId: m.memberId, clientId: m.clientId });
    const committedBy = new Map(committed.filter((c) => c.offset >= 0n).map((c) => [`${c.topic}\u0000${c.partition}`, c.offset]));
    const topics = [...new Set([...committed.filter((c) => c.offset >= 0n).map((c) => c.topic), ...description.members.flatMap((m) => m.assignment.map((a) => a.topic))])].sort();
    const rows: OffsetRow[] = [];
    for (const topic of topics) {
      let ends: Array<{ partition: number; high: bigint }>;
      try {
        ends = await admin.fetchTopicOffsets(topic);
      } catch (err) {
        // A topic deleted since the group committed on it: its offsets are shown without an end.
        if (!(err instanceof KafkaError && err.code === 3)) throw err;
        ends = committed.filter((c) => c.topic === topic).map((c) => ({ partition: c.partition, high: -1n }));
      }
      for (const e of ends) {
        const key = `${topic}\u0000${e.partition}`;
        const c = committedBy.get(key) ?? null;
        const high = e.high >= 0n ? e.high : null;
        const o = owner.get(key);
        rows.push({
          topic, partition: e.partition, committed: c, logEndOffset: high,
          lag: c !== null && high !== null ? (high - c > 0n ? high - c : 0n) : null,
          memberId: o?.memberId ?? null, clientId: o?.clientId ?? null,
        });
      }
    }
    const totalLag = rows.reduce((sum, r) => sum + (r.lag ?? 0n), 0n);
    if (options.json === true) {
      return printJson({
        group, state: description.state, protocolType: description.protocolType, protocol: description.protocol,
        members: description.members.map((m) => ({
          memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost, assignment: m.assignment,
        })),
        offsets: rows, totalLag,
      });
    }
    let text = fields([
      ['group', group],
      ['state', description.state],
      ['protocol', description.protocolType === '' ? '-' : `${description.protocolType}${description.protocol === '' ? '' : ` (${description.protocol})`}`],
      ['members', description.members.length],
      ['total lag', totalLag],
    ]);
    if (description.members.length > 0) {
      text += '\n' + table(['member-id', 'instance-id', 'client-id', 'host', 'assignment'], description.members.map((m) => [
        m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
        m.assignment.length === 0 ? '-' : m.assignment.map((a) => `${a.topic}-${a.partition}`).join(','),
      ]));
    }
    if (rows.length > 0) {
      text += '\n' + table(['topic', 'partition', 'committed', 'log-end', 'lag', 'member-id'], rows.map((r) => [r.topic, r.partition, r.committed, r.logEndOffset, r.lag, r.memberId]));
    }
    await writeOut(text);
  });
}

async function createGroup(group: string, options: CreateOptions): Promise<void> {
  requireName(group, 'the group id');
  const topics = [...new Set(options.topic.map((t) => requireName(t, '--topic')))];
  const target = resetTarget(options) ?? 'latest';
  await withAdmin(options, async (admin) => {
    const descriptions = [];
    for (const topic of topics) descriptions.push(await requireTopic(admin, topic));
    const { exists } = await groupExists(admin, group);
    if (exists) throw new CliError(`group "${group}" already exists (move its offsets with godel commit)`);
    await requireInactiveGroup(admin, group);
    const rows: CommittedRow[] = [];
    for (const d of descriptions) rows.push(...await commitTarget(admin, group, d, target));
    if (options.json === true) return printJson({ group, offsets: rows.map(({ topic, partition, offset }) => ({ topic, partition, offset })) });
    await writeOut(`created group "${group}"\n` + committedTable(rows, false));
  });
}

async function deleteGroups(groups: string[], options: CommonOptions): Promise<void> {
  for (const g of groups) requireName(g, 'a group id');
  await withAdmin(options, async (admin) => {
    const deleted: string[] = [];
    for (const group of [...new Set(groups)]) {
      try {
        await admin.deleteGroups([group]);
      } catch (err) {
        if (err instanceof KafkaError && err.code === GROUP_ID_NOT_FOUND) throw unknownGroup(group);
        if (err instanceof KafkaError && err.code === NON_EMPTY_GROUP) {
          throw new CliError(`group "${group}" has active members: stop its consumers, or remove them with godel groups remove-member, then delete it`);
        }
        throw err;
      }
      deleted.push(group);
    }
    if (options.json === true) return printJson({ deleted });
    await writeOut(deleted.map((g) => `deleted group "${g}"\n`).join(''));
  });
}

async function removeMembers(group: string, options: RemoveOptions): Promise<void> {
  requireName(group, 'the group id');
  const byMemberId = (options.memberId ?? []).map((id) => requireName(id, '--member-id'));
  const byInstanceId = (options.instanceId ?? []).map((id) => requireName(id, '--instance-id'));
  if (options.all === true && (byMemberId.length > 0 || byInstanceId.length > 0)) throw new UsageError('--all cannot be used with --member-id or --instance-id');
  if (options.all !== true && byMemberId.length === 0 && byInstanceId.length === 0) {
    throw new UsageError('say which members: --member-id ID, --instance-id ID (both repeatable) or --all');
  }
  await withAdmin(options, async (admin) => {
    const description = await describeGroup(admin, group);
    if (description.state === 'Dead' && description.members.length === 0) throw unknownGroup(group);
    // Each named member must be in the group; a static member is removed by its instance id.
    const members: Array<{ memberId?: string; groupInstanceId?: string }> = [];
    if (options.all === true) {
      for (const m of description.members) members.push(m.groupInstanceId !== null ? { groupInstanceId: m.groupInstanceId } : { memberId: m.memberId });
    }
    for (const id of byMemberId) {
      const m = description.members.find((x) => x.memberId === id);
      if (m === undefined) throw new CliError(`group "${group}" has no member with id "${id}" (see godel groups get ${group})`);
      members.push(m.groupInstanceId !== null ? { memberId: m.memberId, groupInstanceId: m.groupInstanceId } : { memberId: m.memberId });
    }
    for (const id of byInstanceId) {
      if (!description.members.some((x) => x.groupInstanceId === id)) throw new CliError(`group "${group}" has no member with instance id "${id}" (see godel groups get ${group})`);
      members.push({ groupInstanceId: id });
    }
    if (members.length > 0) {
      try {
        await admin.removeMembers({ groupId: group, members });
      } catch (err) {
        if (err instanceof KafkaError && err.code === UNKNOWN_MEMBER_ID) throw new CliError(`a member of group "${group}" left before it could be removed (see godel groups get ${group})`, { cause: err });
        throw err;
      }
    }
    const removed = members.map((m) => m.groupInstanceId ?? m.memberId!);
    if (options.json === true) return printJson({ group, removed });
    await writeOut(removed.length === 0 ? `group "${group}" has no members\n` : `removed ${count(removed.length, 'member')} from group "${group}": ${removed.join(', ')}\n`);
  });
}
