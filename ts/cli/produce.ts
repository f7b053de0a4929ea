// `godel produce TOPIC`: one record per line of stdin or --file, with an optional key (the line
// split at --key-separator), headers, an explicit partition, acks and compression. When it is done
// it prints, per partition, how many records went there and their first and last offsets. Reading
// a file on a terminal draws a progress bar with the rate on stderr.
//
// The topic must exist: a typo does not create a topic. Ctrl-C stops reading; what was read is
// still sent and reported.
import fs from 'node:fs';
import readline from 'node:readline';
import type { Command } from 'commander';
import type { Acks, ProducerMessage, RecordResult } from '../client/index.js';
import { compressionCodec, hasCompressionCodec, type CompressionName } from '../client/compression.js';
import { CliError, count, printJson, runAction, table, UsageError, writeOut } from './output.js';
import { clientFor, collect, optionalInteger, parseKeyValue, probeCluster, requireName, requirePartitions, requireTopic, withAdmin, withCommonOptions, type CommonOptions } from './options.js';

interface ProduceOptions extends CommonOptions {
  file?: string;
  keySeparator?: string;
  header?: string[];
  partition?: string;
  acks: string;
  compression: string;
  progress: boolean;
}

const COMPRESSIONS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/**
 * Records sent and not yet acknowledged before reading pauses. Each record has its own promise (so
 * the summary can say where every record went); more of them in flight only costs garbage
 * collection (1M lines of a file: ~200k records/s with 2,000, half that with 10,000).
 */
const MAX_IN_FLIGHT = 2_000;

export function registerProduce(program: Command): void {
  withCommonOptions(program.command('produce')
    .description('send lines of stdin (or a file) as records, one record per line')
    .argument('<topic>', 'topic to write to (it must exist)')
    .option('-f, --file <path>', 'read the records from a file instead of stdin')
    .option('-k, --key-separator <sep>', 'split each line at the first <sep> into key and value')
    .option('-H, --header <key=value>', 'a header on every record (repeatable)', collect)
    .option('-p, --partition <n>', 'write every record to this partition (default: by key, or spread)')
    .option('--acks <acks>', 'acknowledgements to wait for: 0, 1 or all', 'all')
    .option('--compression <codec>', `batch compression: ${COMPRESSIONS.join(', ')}`, 'none')
    .option('--no-progress', 'no progress bar (it is only drawn for --file on a terminal)'))
    .action(runAction(produce));
}

function parseAcks(value: string): Acks {
  switch (value.trim().toLowerCase()) {
    case '0': return 0;
    case '1': return 1;
    case '-1':
    case 'all': return 'all';
    default: throw new UsageError(`--acks must be 0, 1 or all, got ${JSON.stringify(value)}`);
  }
}

function parseCompression(value: string): CompressionName {
  const name = value.trim().toLowerCase() as CompressionName;
  if (!COMPRESSIONS.includes(name)) throw new UsageError(`--compression must be one of ${COMPRESSIONS.join(', ')}, got ${JSON.stringify(value)}`);
  if (!hasCompressionCodec(compressionCodec(name))) {
    const available = COMPRESSIONS.filter((c) => hasCompressionCodec(compressionCodec(c)));
    throw new UsageError(`--compression ${name} is not available in this build (no ${name} codec is installed): use ${available.join(' or ')}`);
  }
  return name;
}

interface PartitionStats {
  partition: number;
  records: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

/** A one-line progress bar on stderr: share of the file read, records sent, records/s. */
class ProgressBar {
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();
  private lastWidth = 0;

  constructor(
    private readonly totalBytes: number,
    private readonly bytesRead: () => number,
    private readonly records: () => number,
  ) {
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  private draw(): void {
    const fraction = this.totalBytes === 0 ? 1 : Math.min(1, this.bytesRead() / this.totalBytes);
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const barWidth = 30;
    const filled = Math.round(fraction * barWidth);
    const rate = Math.round(this.records() / seconds);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${this.records().toLocaleString('en-US')} records  ${rate.toLocaleString('en-US')} records/s`;
    process.stderr.write(`\r${line}${' '.repeat(Math.max(0, this.lastWidth - line.length))}`);
    this.lastWidth = line.length;
  }

  stop(): void {
    clearInterval(this.timer);
    this.draw();
    process.stderr.write('\n');
  }
}

async function produce(topic: string, options: ProduceOptions): Promise<void> {
  requireName(topic, 'the topic name');
  const partition = optionalInteger(options.partition, '--partition', { max: 2_147_483_647 });
  const acks = parseAcks(options.acks);
  const compression = parseCompression(options.compression);
  const headers = (options.header ?? []).map((h) => {
    const [key, value] = parseKeyValue(h, '--header');
    return { key, value };
  });
  const separator = options.keySeparator;
  if (separator === '') throw new UsageError('--key-separator must not be empty');
  let fileSize = 0;
  if (options.file !== undefined) {
    try {
      const stat = await fs.promises.stat(options.file);
      if (!stat.isFile()) throw new CliError(`--file ${options.file} is not a file`);
      fileSize = stat.size;
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`cannot read ${options.file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }

  await withAdmin(options, async (admin) => {
    const description = await requireTopic(admin, topic);
    if (partition !== undefined) requirePartitions(description, [partition]);
  });
  await probeCluster(options);
  const producer = clientFor(options).producer({ acks, compression, allowAutoTopicCreation: false });
  const stats = new Map<number, PartitionStats>();
  let sent = 0;
  let acknowledged = 0;
  let failure: unknown = null;
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const settled = (): void => {
    inFlight--;
    if (wake !== null && (inFlight < MAX_IN_FLIGHT / 2 || failure !== null)) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const record = (r: RecordResult): void => {
    acknowledged++;
    let s = stats.get(r.partition);
    if (s === undefined) stats.set(r.partition, (s = { partition: r.partition, records: 0, firstOffset: r.offset, lastOffset: r.offset }));
    s.records++;
    if (r.offset < s.firstOffset) s.firstOffset = r.offset;
    if (r.offset > s.lastOffset) s.lastOffset = r.offset;
  };

  try {
    await producer.connect();
    // The topic must exist before the first line is read: an unknown topic is one error up front,
    // not one per line.
    await producer.cluster.ensureTopics([topic]);
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    throw err;
  }
  // Created once the producer is connected: readline emits lines as soon as it exists, and the
  // loop below must be iterating by then (lines emitted before are lost).
  const input = options.file !== undefined ? fs.createReadStream(options.file) : process.stdin;
  const lines = readline.createInterface({ input, crlfDelay: Infinity, terminal: false });
  const showProgress = options.file !== undefined && options.progress && options.json !== true && process.stderr.isTTY === true && process.stdout.isTTY === true;
  const bar = showProgress ? new ProgressBar(fileSize, () => (input as fs.ReadStream).bytesRead, () => acknowledged) : null;
  if (options.file === undefined && process.stdin.isTTY === true) process.stderr.write('type one record per line; Ctrl-D to finish\n');
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    lines.close();
  };
  process.on('SIGINT', onSigint);
  try {
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber++;
      if (failure !== null || interrupted) break;
      let message: ProducerMessage;
      if (separator !== undefined) {
        const at = line.indexOf(separator);
        if (at < 0) throw new CliError(`line ${lineNumber} has no key separator ${JSON.stringify(separator)} (${count(sent, 'record')} sent before it)`);
        message = { key: line.slice(0, at), value: line.slice(at + separator.length) };
      } else {
        message = { value: line };
      }
      if (headers.length > 0) message.headers = headers;
      if (partition !== undefined) message.partition = partition;
      sent++;
      inFlight++;
      producer.sendOne(topic, message).then(record, (err: unknown) => {
        failure ??= err;
      }).finally(settled);
      if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
    }
    await producer.flush().catch((err: unknown) => {
      failure ??= err;
    });
    while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  } finally {
    process.off('SIGINT', onSigint);
    bar?.stop();
    lines.close();
    await producer.disconnect().catch(() => undefined);
  }
  if (failure !== null) {
    if (acknowledged > 0) process.stderr.write(`godel: ${count(acknowledged, 'record')} of ${sent} were written before the failure\n`);
    throw failure;
  }

  const partitions = [...stats.values()].sort((a, b) => a.partition - b.partition);
  if (options.json === true) return printJson({ topic, records: acknowledged, partitions });
  const offsets = acks !== 0;
  await writeOut(`produced ${count(acknowledged, 'record')} to "${topic}"${interrupted ? ' (interrupted)' : ''}\n` + (partitions.length === 0 ? '' : table(
    offsets ? ['partition', 'records', 'first-offset', 'last-offset'] : ['partition', 'records'],
    partitions.map((p) => (offsets ? [p.partition, p.records, p.firstOffset, p.lastOffset] : [p.partition, p.records])),
  )));
}
