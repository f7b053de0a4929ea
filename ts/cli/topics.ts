// `godel topics create|get|list|delete|alter`: topics with their partitions, replication factor
// and config overrides; `get` adds each partition's log start and end offsets, the record count
// they give (end - start, an upper bound once compaction has removed records) and the partition's
// size on disk (DescribeLogDirs, the leader's copy; "-" from a broker that does not serve it).
import type { Command } from 'commander';
import { KafkaError, type Admin, type TopicDescription } from '../client/index.js';
import { CliError, count, fields, humanBytes, printJson, table, UsageError, writeOut } from './output.js';
import {
  collect,
  optionalInteger,
  parseKeyValues,
  requireName,
  requireTopic,
  withAdmin,
  withCommonOptions,
  type CommonOptions,
} from './options.js';
import { runAction } from './output.js';

const TOPIC_ALREADY_EXISTS_HINT = 'use --if-not-exists to accept an existing topic';
const UNSUPPORTED_VERSION = 35;

interface CreateOptions extends CommonOptions {
  partitions?: string;
  replicationFactor?: string;
  config?: string[];
  ifNotExists?: boolean;
}

interface ListOptions extends CommonOptions {
  internal?: boolean;
}

interface DeleteOptions extends CommonOptions {
  ifExists?: boolean;
}

interface AlterOptions extends CommonOptions {
  partitions?: string;
  config?: string[];
  deleteConfig?: string[];
}

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('create, describe, list, delete and alter topics');

  withCommonOptions(topics.command('create')
    .description('create a topic')
    .argument('<topic>', 'topic name')
    .option('-p, --partitions <n>', 'number of partitions (default: the broker\'s num.partitions)')
    .option('-r, --replication-factor <n>', 'replicas per partition (default: the broker\'s default.replication.factor)')
    .option('--config <key=value>', 'a topic config, e.g. retention.ms=86400000 (repeatable)', collect)
    .option('--if-not-exists', 'succeed when the topic exists already'))
    .action(runAction(createTopic));

  withCommonOptions(topics.command('list')
    .description('list topics with their partition counts')
    .option('--internal', 'include internal topics (__consumer_offsets)'))
    .action(runAction(listTopics));

  withCommonOptions(topics.command('get')
    .description('describe a topic: partitions, leaders, replicas, log start/end offsets, record counts and config overrides')
    .argument('<topic>', 'topic name'))
    .action(runAction(getTopic));

  withCommonOptions(topics.command('delete')
    .description('delete topics and all their records')
    .argument('<topics...>', 'topic names')
    .option('--if-exists', 'succeed when a topic does not exist'))
    .action(runAction(deleteTopics));

  withCommonOptions(topics.command('alter')
    .description('add partitions to a topic, or change its configs')
    .argument('<topic>', 'topic name')
    .option('-p, --partitions <n>', 'the new number of partitions (it can only grow)')
    .option('--config <key=value>', 'set a topic config (repeatable)', collect)
    .option('--delete-config <key>', 'remove a config override, back to the broker default (repeatable)', collect))
    .action(runAction(alterTopic));
}

function replicationFactor(t: TopicDescription): number {
  return t.partitions[0]?.replicas.length ?? 0;
}

async function createTopic(topic: string, options: CreateOptions): Promise<void> {
  requireName(topic, 'the topic name');
  const numPartitions = optionalInteger(options.partitions, '--partitions', { min: 1, max: 1_000_000 });
  const factor = optionalInteger(options.replicationFactor, '--replication-factor', { min: 1, max: 32_767 });
  const configs = parseKeyValues(options.config, '--config');
  await withAdmin(options, async (admin) => {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions, replicationFactor: factor, configEntries: configs.map(([name, value]) => ({ name, value })) }],
    });
    if (!created && options.ifNotExists !== true) throw new CliError(`topic "${topic}" already exists (${TOPIC_ALREADY_EXISTS_HINT})`);
    const description = await requireTopic(admin, topic);
    const result = {
      topic, created,
      partitions: description.partitions.length,
      replicationFactor: replicationFactor(description),
      configs: Object.fromEntries(configs),
    };
    if (options.json === true) return printJson(result);
    const what = `${count(result.partitions, 'partition')}, replication factor ${result.replicationFactor}`;
    await writeOut(created ? `created topic "${topic}" (${what})\n` : `topic "${topic}" exists already (${what})\n`);
  });
}

async function listTopics(options: ListOptions): Promise<void> {
  await withAdmin(options, async (admin) => {
    const all = await admin.describeTopics();
    const shown = all.filter((t) => options.internal === true || !t.isInternal).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const rows = shown.map((t) => ({ topic: t.name, partitions: t.partitions.length, replicationFactor: replicationFactor(t), internal: t.isInternal }));
    if (options.json === true) return printJson(rows);
    if (rows.length === 0) return writeOut('no topics\n');
    await writeOut(table(['topic', 'partitions', 'replication', ...(options.internal === true ? ['internal'] : [])],
      rows.map((r) => [r.topic, r.partitions, r.replicationFactor, ...(options.internal === true ? [r.internal ? 'yes' : 'no'] : [])])));
  });
}

/** The topic's config overrides (values set on the topic itself). */
async function topicOverrides(admin: Admin, topic: string): Promise<Record<string, string | null>> {
  const [result] = await admin.describeConfigs({ resources: [{ type: 'topic', name: topic }] });
  const out: Record<string, string | null> = {};
  for (const c of result?.configs ?? []) if (c.source === 'DYNAMIC_TOPIC_CONFIG') out[c.name] = c.isSensitive ? null : c.value;
  return out;
}

async function getTopic(topic: string, options: CommonOptions): Promise<void> {
  requireName(topic, 'the topic name');
  await withAdmin(options, async (admin) => {
    const description = await requireTopic(admin, topic);
    const [offsets, configs, sizes] = await Promise.all([admin.fetchTopicOffsets(topic), topicOverrides(admin, topic), partitionSizes(admin, description)]);
    const byPartition = new Map(offsets.map((o) => [o.partition, o]));
    const partitions = description.partitions.map((p) => {
      const o = byPartition.get(p.partition);
      const start = o?.low ?? null;
      const end = o?.high ?? null;
      return {
        partition: p.partition, leader: p.leader, replicas: p.replicas, isr: p.isr,
        logStartOffset: start, logEndOffset: end,
        records: start !== null && end !== null ? end - start : null,
        sizeBytes: sizes?.get(p.partition) ?? null,
      };
    });
    const totalRecords = partitions.reduce((sum, p) => sum + (p.records ?? 0n), 0n);
    const totalBytes = sizes === null ? null : partitions.reduce((sum, p) => sum + (p.sizeBytes ?? 0n), 0n);
    if (options.json === true) {
      return printJson({
        topic: description.name, topicId: description.topicId, internal: description.isInternal,
        partitionCount: partitions.length, replicationFactor: replicationFactor(description),
        records: totalRecords, sizeBytes: totalBytes,
        configs, partitions,
      });
    }
    const configText = Object.keys(configs).length === 0 ? '(none: broker defaults)' : Object.entries(configs).map(([k, v]) => `${k}=${v ?? '(sensitive)'}`).join(', ');
    await writeOut(fields([
      ['topic', description.name],
      ['id', description.topicId],
      ['partitions', partitions.length],
      ['replication factor', replicationFactor(description)],
      ['records', `${totalRecords} (log end - log start offsets)`],
      ['size', totalBytes === null ? 'not available (the broker does not serve DescribeLogDirs)' : `${humanBytes(totalBytes)} (${totalBytes} bytes, leader replicas)`],
      ['config overrides', configText],
    ]) + '\n' + table(
      ['partition', 'leader', 'replicas', 'isr', 'log-start', 'log-end', 'records', 'size'],
      partitions.map((p) => [p.partition, p.leader, p.replicas.join(','), p.isr.join(','), p.logStartOffset, p.logEndOffset, p.records, p.sizeBytes === null ? null : humanBytes(p.sizeBytes)]),
    ));
  });
}

/**
 * Each partition's size in bytes on its leader (DescribeLogDirs to the leaders), or null when the
 * brokers do not serve DescribeLogDirs.
 */
async function partitionSizes(admin: Admin, description: TopicDescription): Promise<Map<number, bigint> | null> {
  const leaders = [...new Set(description.partitions.map((p) => p.leader).filter((id) => id >= 0))];
  if (leaders.length === 0) return new Map();
  let dirs;
  try {
    dirs = await admin.describeLogDirs({ topics: [description.name], brokers: leaders });
  } catch (err) {
    if (err instanceof KafkaError && err.code === UNSUPPORTED_VERSION) return null;
    throw err;
  }
  const leaderOf = new Map(description.partitions.map((p) => [p.partition, p.leader]));
  const sizes = new Map<number, bigint>();
  for (const dir of dirs) {
    for (const p of dir.partitions) {
      if (p.topic === description.name && leaderOf.get(p.partition) === dir.broker && !p.isFuture) {
        sizes.set(p.partition, (sizes.get(p.partition) ?? 0n) + p.size);
      }
    }
  }
  return sizes;
}

async function deleteTopics(topics: string[], options: DeleteOptions): Promise<void> {
  for (const t of topics) requireName(t, 'a topic name');
  await withAdmin(options, async (admin) => {
    const existing = new Set(await admin.listTopics({ includeInternal: true }));
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0 && options.ifExists !== true) {
      throw new CliError(`${missing.length === 1 ? `topic "${missing[0]}" does not exist` : `topics ${missing.map((t) => `"${t}"`).join(', ')} do not exist`} (use --if-exists to ignore missing topics)`);
    }
    const present = [...new Set(topics.filter((t) => existing.has(t)))];
    if (present.length > 0) await admin.deleteTopics({ topics: present });
    if (options.json === true) return printJson({ deleted: present, missing });
    await writeOut(present.map((t) => `deleted topic "${t}"\n`).join('') + missing.map((t) => `topic "${t}" did not exist\n`).join(''));
  });
}

async function alterTopic(topic: string, options: AlterOptions): Promise<void> {
  requireName(topic, 'the topic name');
  const partitions = optionalInteger(options.partitions, '--partitions', { min: 1, max: 1_000_000 });
  const set = parseKeyValues(options.config, '--config');
  const removed = [...new Set(options.deleteConfig ?? [])];
  for (const key of removed) {
    if (key.trim() === '' || key.includes('=')) throw new UsageError(`--delete-config expects a config name, got ${JSON.stringify(key)}`);
    if (set.some(([k]) => k === key)) throw new UsageError(`--config and --delete-config both name ${key}`);
  }
  if (partitions === undefined && set.length === 0 && removed.length === 0) {
    throw new UsageError('nothing to change: give --partitions, --config or --delete-config');
  }
  await withAdmin(options, async (admin) => {
    const description = await requireTopic(admin, topic);
    const before = description.partitions.length;
    if (partitions !== undefined && partitions < before) {
      throw new CliError(`topic "${topic}" has ${count(before, 'partition')}: the count can only grow (asked for ${partitions})`);
    }
    if (set.length > 0 || removed.length > 0) {
      await admin.alterConfigs({
        resources: [{
          type: 'topic', name: topic,
          configs: [...set.map(([name, value]) => ({ name, value, op: 'set' as const })), ...removed.map((name) => ({ name, op: 'delete' as const }))],
        }],
      });
    }
    if (partitions !== undefined && partitions > before) await admin.createPartitions({ topicPartitions: [{ topic, count: partitions }] });
    const result = { topic, partitions: { before, after: partitions ?? before }, configsSet: Object.fromEntries(set), configsDeleted: removed };
    if (options.json === true) return printJson(result);
    const lines: string[] = [];
    if (partitions !== undefined) lines.push(partitions === before ? `topic "${topic}" has ${count(before, 'partition')} already` : `topic "${topic}": partitions ${before} -> ${partitions}`);
    for (const [k, v] of set) lines.push(`topic "${topic}": ${k}=${v}`);
    for (const k of removed) lines.push(`topic "${topic}": ${k} back to the broker default`);
    await writeOut(lines.join('\n') + '\n');
  });
}
