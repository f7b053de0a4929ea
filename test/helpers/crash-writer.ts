// The process the crash tests kill with SIGKILL. It opens a LogManager on a data directory and
// appends record batches forever, a few appends in flight at once, printing one line per
// acknowledged append to stdout ("ack <baseOffset> <firstId> <count>"). Record ids are sequential
// from --start-id and every record's key and value are a function of its id, so the parent can
// check each record it finds after the crash. The engine is chosen by GODEL_ENGINE, as in the
// broker. Run: node --import tsx test/helpers/crash-writer.ts --dir D [--durable] [--start-id N]
//
// stdout to a pipe is synchronous on Linux, so a line the parent reads is an acknowledgement the
// append really got before the kill.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chooseEngine } from '../../ts/engine/loader.js';
import { LogManager } from '../../ts/storage/log-manager.js';
import { buildRecordBatch } from '../../ts/storage/record-batch-builder.js';

export const CRASH_TOPIC = { topic: 'crash', partition: 0 };
export const CRASH_SEGMENT_BYTES = 64 * 1024;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const T0 = 1_700_000_000_000n;

/** Broker config of the crash tests: small segments, and durable mode (ack after fdatasync) on demand. */
export function crashBrokerConfig(durable: boolean): Record<string, string> {
  const config: Record<string, string> = { 'log.segment.bytes': String(CRASH_SEGMENT_BYTES), 'log.index.interval.bytes': '1024' };
  if (durable) config['log.flush.interval.messages'] = '1';
  return config;
}

function mix(id: number): number {
  let x = (id ^ 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export function crashKey(id: number): string {
  return `id-${id}`;
}

/** The id a key names, or null when it is not a crash-writer key. */
export function idOfKey(key: string | null): number | null {
  const match = key === null ? null : /^id-(\d+)$/.exec(key);
  return match ? Number(match[1]) : null;
}

/** The value of record `id`: its id, then 40 to 1239 characters that depend on the id. */
export function crashValue(id: number): string {
  const length = 40 + (mix(id) % 1200);
  const head = `payload ${id}:`;
  let body = '';
  for (let i = head.length; i < length; i++) body += ALPHABET[(mix(id + i) + i) % ALPHABET.length];
  return head + body;
}

export function crashTimestamp(id: number): bigint {
  return T0 + BigInt(id);
}

/** How many records the batch that starts at record `id` carries (1 to 3). */
export function recordsInBatch(id: number): number {
  return 1 + (mix(id * 7 + 1) % 3);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      durable: { type: 'boolean', default: false },
      'start-id': { type: 'string', default: '0' },
      inflight: { type: 'string', default: '8' },
      'max-ms': { type: 'string', default: '120000' },
    },
  });
  if (values.dir === undefined) throw new Error('--dir is required');
  const { engine } = chooseEngine();
  const manager = await LogManager.open({ dataDir: values.dir, engine, brokerConfig: crashBrokerConfig(values.durable) });
  const log = await manager.getOrCreateLog(CRASH_TOPIC);
  process.stdout.write(`ready ${engine.name} ${log.logEndOffset} ${manager.hadCleanShutdown}\n`);
  // A safety net: never outlive the test by long, whatever happens to the parent.
  setTimeout(() => {
    process.stderr.write('crash-writer: ran out of time without being killed\n');
    process.exit(3);
  }, Number(values['max-ms'])).unref();
  process.stdin.on('end', () => process.exit(4));
  process.stdin.resume();

  let nextId = Number(values['start-id']);
  const worker = async (): Promise<void> => {
    for (;;) {
      // Ids are taken and the append queued in the same turn, so offsets follow ids.
      const first = nextId;
      const count = recordsInBatch(first);
      nextId += count;
      const records = Array.from({ length: count }, (_, i) => ({
        key: Buffer.from(crashKey(first + i)),
        value: Buffer.from(crashValue(first + i)),
        timestamp: crashTimestamp(first + i),
      }));
      const info = await log.append(buildRecordBatch(engine, { records }));
      process.stdout.write(`ack ${info.baseOffset} ${first} ${count}\n`);
    }
  };
  await Promise.all(Array.from({ length: Number(values.inflight) }, () => worker()));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`crash-writer failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  });
}
