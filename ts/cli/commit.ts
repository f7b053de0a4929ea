// `godel commit`: sets a consumer group's committed offsets for a topic: one partition to an exact
// offset, or every partition (or the one named) to the earliest offset, the latest, or the first
// record at or after a time. The group must have no active members (their own commits would undo
// this one); the offsets given must lie within the partition's log.
import type { Command } from 'commander';
import type { Admin, ResetTarget, TopicDescription } from '../client/index.js';
import { CliError, printJson, runAction, table, UsageError, writeOut } from './output.js';
import {
  atMostOne,
  optionalInteger,
  parseOffset,
  parseTime,
  requireName,
  requirePartitions,
  requireTopic,
  withAdmin,
  withCommonOptions,
  type CommonOptions,
} from './options.js';

/** Where offsets go: --to-earliest, --to-latest, --to-time (and --offset for `godel commit`). */
export interface TargetOptions {
  toEarliest?: boolean;
  toLatest?: boolean;
  toTime?: string;
}

interface CommitOptions extends CommonOptions, TargetOptions {
  group: string;
  topic: string;
  partition?: string;
  offset?: string;
}

export function registerCommit(program: Command): void {
  withCommonOptions(program.command('commit')
    .description('set a consumer group\'s committed offsets for a topic (the group must have no active members)')
    .requiredOption('-g, --group <group>', 'consumer group')
    .requiredOption('-t, --topic <topic>', 'topic')
    .option('-p, --partition <n>', 'only this partition (default: every partition)')
    .option('--offset <offset>', 'commit this offset')
    .option('--to-earliest', 'commit the earliest offset (the log start)')
    .option('--to-latest', 'commit the latest offset (the log end: nothing left to read)')
    .option('--to-time <time>', 'commit the offset of the first record at or after this time (ISO date or epoch ms)'))
    .action(runAction(commit));
}

/** The --to-* target, or undefined when none was given. */
export function resetTarget(options: TargetOptions): ResetTarget | undefined {
  atMostOne(options, { toEarliest: '--to-earliest', toLatest: '--to-latest', toTime: '--to-time' });
  if (options.toEarliest === true) return 'earliest';
  if (options.toLatest === true) return 'latest';
  if (options.toTime !== undefined) return { timestamp: parseTime(options.toTime, '--to-time') };
  return undefined;
}

/** Committed offsets can only be set while no member is active: theirs would overwrite them. */
export async function requireInactiveGroup(admin: Admin, group: string): Promise<void> {
  const [description] = await admin.describeGroups([group]);
  const members = description?.members.length ?? 0;
  if (members > 0) {
    throw new CliError(`group "${group}" has ${members === 1 ? '1 active member' : `${members} active members`} (${description!.state}): stop its consumers, or remove them with godel groups remove-member, then commit`);
  }
}

export interface CommittedRow {
  topic: string;
  partition: number;
  offset: bigint;
  previous: bigint | null;
}

/** Commits `target` for the partitions of `description` (all, or the ones listed); returns what was committed. */
export async function commitTarget(admin: Admin, group: string, description: TopicDescription, target: ResetTarget | { offset: bigint }, partitions?: number[]): Promise<CommittedRow[]> {
  const topic = description.name;
  const chosen = partitions ?? description.partitions.map((p) => p.partition);
  const previous = new Map((await admin.fetchOffsets({ groupId: group, topics: [topic] })).map((o) => [o.partition, o.offset]));
  let offsets: Array<{ partition: number; offset: bigint }>;
  if (typeof target === 'object' && 'offset' in target) {
    const ends = await admin.fetchTopicOffsets(topic);
    for (const e of ends) {
      if (!chosen.includes(e.partition)) continue;
      if (target.offset < e.low || target.offset > e.high) {
        throw new CliError(`--offset ${target.offset} is outside partition ${e.partition} of "${topic}" (offsets ${e.low} to ${e.high})`);
      }
    }
    offsets = chosen.map((partition) => ({ partition, offset: target.offset }));
    await admin.setOffsets({ groupId: group, offsets: offsets.map((o) => ({ topic, ...o })) });
  } else {
    offsets = await admin.resetOffsets({ groupId: group, topic, to: target, partitions: chosen });
  }
  return offsets
    .map((o) => ({ topic, partition: o.partition, offset: o.offset, previous: (previous.get(o.partition) ?? -1n) >= 0n ? previous.get(o.partition)! : null }))
    .sort((a, b) => a.partition - b.partition);
}

export function committedTable(rows: readonly CommittedRow[], withPrevious = true): string {
  return withPrevious
    ? table(['topic', 'partition', 'offset', 'previous'], rows.map((r) => [r.topic, r.partition, r.offset, r.previous]))
    : table(['topic', 'partition', 'offset'], rows.map((r) => [r.topic, r.partition, r.offset]));
}

async function commit(options: CommitOptions): Promise<void> {
  const group = requireName(options.group, '--group');
  const topic = requireName(options.topic, '--topic');
  const partition = optionalInteger(options.partition, '--partition', { max: 2_147_483_647 });
  if (options.offset !== undefined && (options.toEarliest === true || options.toLatest === true || options.toTime !== undefined)) {
    const other = options.toEarliest === true ? '--to-earliest' : options.toLatest === true ? '--to-latest' : '--to-time';
    throw new UsageError(`--offset and ${other} cannot be used together`);
  }
  const target = options.offset !== undefined ? { offset: parseOffset(options.offset, '--offset') } : resetTarget(options);
  if (target === undefined) throw new UsageError('say where to commit: --offset OFFSET, --to-earliest, --to-latest or --to-time TIME');
  await withAdmin(options, async (admin) => {
    const description = await requireTopic(admin, topic);
    if (partition !== undefined) requirePartitions(description, [partition]);
    await requireInactiveGroup(admin, group);
    const rows = await commitTarget(admin, group, description, target, partition === undefined ? undefined : [partition]);
    if (options.json === true) return printJson({ group, topic, offsets: rows.map(({ partition: p, offset, previous }) => ({ partition: p, offset, previous })) });
    await writeOut(`committed offsets of group "${group}" on "${topic}"\n` + committedTable(rows));
  });
}
