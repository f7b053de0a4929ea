// `godel consume TOPIC`: prints records, one per line, as values, key + value, or JSON with their
// metadata. Without --group it reads partitions directly (from the end, the beginning, an offset or
// a time); with --group it joins the consumer group like any other member ("create consumer"),
// starts from the group's committed offsets and commits what it printed when it stops.
//
// It follows the topic until Ctrl-C, or stops after --max-messages records, or when nothing came
// for --timeout. A group member stops cleanly: it commits what it printed, and nothing more, and
// leaves the group.
import type { Command } from 'commander';
import type { AssignedPartition, Consumer, EachBatchPayload, KafkaMessage, MessageHeaders, StartOffset } from '../client/index.js';
import { CliError, count, runAction, toJson, UsageError, writeOut } from './output.js';
import {
  atMostOne,
  clientFor,
  formatDuration,
  optionalInteger,
  parseDuration,
  parseOffset,
  parseTime,
  probeCluster,
  requireName,
  requirePartitions,
  requireTopic,
  withAdmin,
  withCommonOptions,
  type CommonOptions,
} from './options.js';

interface ConsumeOptions extends CommonOptions {
  fromBeginning?: boolean;
  offset?: string;
  fromTime?: string;
  partition?: string;
  group?: string;
  instanceId?: string;
  maxMessages?: string;
  format?: string;
  keySeparator: string;
  timeout?: string;
}

type Format = 'value' | 'kv' | 'json';
const FORMATS: readonly Format[] = ['value', 'kv', 'json'];

export function registerConsume(program: Command): void {
  withCommonOptions(program.command('consume')
    .description('print records of a topic, following it until Ctrl-C (or --max-messages, or --timeout)')
    .argument('<topic>', 'topic to read')
    .option('--from-beginning', 'start at the earliest record (with --group: where the group has no committed offset)')
    .option('--offset <offset>', 'start at this offset (in every partition read)')
    .option('--from-time <time>', 'start at the first record at or after this time (ISO date or epoch ms)')
    .option('-p, --partition <n>', 'read only this partition (not with --group)')
    .option('-g, --group <group>', 'join this consumer group: start from its committed offsets, commit what is printed')
    .option('--instance-id <id>', 'with --group: join as a static member with this group.instance.id')
    .option('-n, --max-messages <n>', 'stop after this many records')
    .option('--format <format>', 'value (default), kv (key, separator, value) or json (one object per line with metadata)')
    .option('--key-separator <sep>', 'what separates key and value with --format kv', '\t')
    .option('--timeout <duration>', 'stop when no record came for this long (e.g. 10s); with --max-messages, fewer records is an error'))
    .action(runAction(consume));
}

function headerText(value: Buffer | null | Array<Buffer | null>): string | null | Array<string | null> {
  if (Array.isArray(value)) return value.map((v) => (v === null ? null : v.toString('utf8')));
  return value === null ? null : value.toString('utf8');
}

function headersJson(headers: MessageHeaders): Record<string, string | null | Array<string | null>> {
  const out: Record<string, string | null | Array<string | null>> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = headerText(v);
  return out;
}

function formatter(format: Format, separator: string): (topic: string, partition: number, m: KafkaMessage) => string {
  const text = (b: Buffer | null): string => (b === null ? 'null' : b.toString('utf8'));
  switch (format) {
    case 'value':
      return (_t, _p, m) => text(m.value) + '\n';
    case 'kv':
      return (_t, _p, m) => text(m.key) + separator + text(m.value) + '\n';
    case 'json':
      return (topic, partition, m) => toJson({
        topic, partition, offset: m.offset, timestamp: m.timestamp,
        key: m.key === null ? null : m.key.toString('utf8'),
        value: m.value === null ? null : m.value.toString('utf8'),
        headers: headersJson(m.headers),
      }, 0) + '\n';
  }
}

type Start = { kind: 'latest' } | { kind: 'earliest' } | { kind: 'offset'; offset: bigint } | { kind: 'time'; time: number };

interface Plan {
  topic: string;
  group: string | undefined;
  instanceId: string | undefined;
  partition: number | undefined;
  start: Start;
  maxMessages: number | undefined;
  timeoutMs: number | undefined;
  format: Format;
}

function plan(topic: string, options: ConsumeOptions): Plan {
  requireName(topic, 'the topic name');
  atMostOne(options, { fromBeginning: '--from-beginning', offset: '--offset', fromTime: '--from-time' });
  const group = options.group === undefined ? undefined : requireName(options.group, '--group');
  const partition = optionalInteger(options.partition, '--partition', { max: 2_147_483_647 });
  const instanceId = options.instanceId === undefined ? undefined : requireName(options.instanceId, '--instance-id');
  if (instanceId !== undefined && group === undefined) throw new UsageError('--instance-id needs --group');
  let start: Start = { kind: 'latest' };
  if (options.fromBeginning === true) start = { kind: 'earliest' };
  if (options.offset !== undefined) start = { kind: 'offset', offset: parseOffset(options.offset, '--offset') };
  if (options.fromTime !== undefined) start = { kind: 'time', time: parseTime(options.fromTime, '--from-time') };
  if (group !== undefined) {
    if (partition !== undefined) throw new UsageError('--partition cannot be used with --group: the group assigns the partitions');
    if (start.kind === 'offset' || start.kind === 'time') {
      throw new UsageError(`${start.kind === 'offset' ? '--offset' : '--from-time'} cannot be used with --group: the group starts from its committed offsets (move them with godel commit)`);
    }
  }
  const maxMessages = optionalInteger(options.maxMessages, '--max-messages', { min: 1 });
  const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, '--timeout');
  if (timeoutMs !== undefined && timeoutMs <= 0) throw new UsageError(`--timeout must be more than 0, got ${JSON.stringify(options.timeout)}`);
  let format: Format = 'value';
  if (options.format !== undefined) {
    const f = options.format.trim().toLowerCase() as Format;
    if (!FORMATS.includes(f)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(options.format)}`);
    format = f;
  }
  if (options.json === true) {
    if (options.format !== undefined && format !== 'json') throw new UsageError(`--json and --format ${format} cannot be used together`);
    format = 'json';
  }
  return { topic, group, instanceId, partition, start, maxMessages, timeoutMs, format };
}

type Outcome = { kind: 'done' } | { kind: 'interrupted' } | { kind: 'idle' } | { kind: 'failed'; error: unknown };

async function consume(topic: string, options: ConsumeOptions): Promise<void> {
  const p = plan(topic, options);
  // Check the topic, the partition and the offset before joining anything.
  const partitions = await withAdmin(options, async (admin) => {
    const description = await requireTopic(admin, topic);
    if (p.partition !== undefined) requirePartitions(description, [p.partition]);
    const chosen = p.partition !== undefined ? [p.partition] : description.partitions.map((d) => d.partition);
    if (p.start.kind === 'offset') {
      const offsets = await admin.fetchTopicOffsets(topic);
      for (const o of offsets) {
        if (!chosen.includes(o.partition)) continue;
        if (p.start.offset < o.low || p.start.offset > o.high) {
          throw new CliError(`--offset ${p.start.offset} is outside partition ${o.partition} of "${topic}" (offsets ${o.low} to ${o.high})`);
        }
      }
    }
    return chosen;
  });
  await probeCluster(options);

  const client = clientFor(options);
  const consumer: Consumer = p.group === undefined
    ? client.consumer({ autoCommit: false })
    : client.consumer({ groupId: p.group, groupInstanceId: p.instanceId, autoOffsetReset: p.start.kind === 'earliest' ? 'earliest' : 'latest' });
  const format = formatter(p.format, options.keySeparator);
  let printed = 0;
  let finish!: (outcome: Outcome) => void;
  const finished = new Promise<Outcome>((resolve) => (finish = resolve));
  let over = false;
  const end = (outcome: Outcome): void => {
    if (over) return;
    over = true;
    finish(outcome);
  };

  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    if (p.timeoutMs === undefined) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => end({ kind: 'idle' }), p.timeoutMs);
  };
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    end({ kind: 'interrupted' });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  consumer.on('crash', (err: unknown) => end({ kind: 'failed', error: err }));

  try {
    await consumer.connect();
    if (p.group !== undefined) {
      await consumer.subscribe({ topics: [topic], fromBeginning: p.start.kind === 'earliest' });
    } else {
      const offset: StartOffset = p.start.kind === 'earliest' ? 'earliest' : p.start.kind === 'offset' ? p.start.offset : p.start.kind === 'time' ? { timestamp: p.start.time } : 'latest';
      await consumer.assign(partitions.map((partition): AssignedPartition => ({ topic, partition, offset })));
    }
    armIdle();
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isStale }: EachBatchPayload) => {
        let out = '';
        for (const m of batch.messages) {
          if (over || isStale()) break;
          out += format(batch.topic, batch.partition, m);
          resolveOffset(m.offset);
          printed++;
          if (p.maxMessages !== undefined && printed >= p.maxMessages) end({ kind: 'done' });
        }
        if (out !== '') {
          armIdle();
          await writeOut(out);
        }
      },
    });
    const outcome = await finished;
    if (outcome.kind === 'failed') throw outcome.error;
    if (outcome.kind === 'idle' && p.maxMessages !== undefined) {
      throw new CliError(`timed out: no record for ${formatDuration(p.timeoutMs!)} after ${count(printed, 'record')} of the ${p.maxMessages} asked for`);
    }
  } finally {
    clearTimeout(idleTimer);
    end({ kind: 'done' });
    // A group member commits what was printed (and nothing past it), then leaves the group.
    await consumer.disconnect().catch((err: unknown) => process.stderr.write(`godel: closing the consumer: ${String(err)}\n`));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (process.stderr.isTTY === true) process.stderr.write(`${count(printed, 'record')} consumed\n`);
  }
}
