// Log cleaner throughput: one compacted partition of 1,000,000 records over 10,000 keys (100
// updates per key, ~130 MB), cleaned in one pass, native engine against the TypeScript one.
//
//   npm run bench:compaction                  # 1M records, two rounds per engine (a few minutes)
//   npm run bench:compaction -- --quick       # 200k records, one round per engine
//   npm run bench:compaction -- --json bench/results/compaction.json
//
// Each trial runs in a fresh process (this file re-spawned with --child), in ABBA order (native,
// ts, then ts, native); the better round of each engine is kept. The child writes the log
// (uncompressed batches of 100 records, the size a producer sends), rolls it so that every record
// is cleanable, and then times LogManager.runCleanerOnce(): building the key → offset map over the
// whole log, and rewriting it. MB/s is log bytes read by the rewrite per second of the whole pass
// (Kafka's "MB of log processed"); the map phase is shown on its own. Before each trial the parent
// runs `sync`, so no trial pays for another's dirty pages. The child then checks what a consumer
// would read: exactly one record per key, with the last value written.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTsEngine } from '../ts/engine/fallback.js';
import { loadNativeEngine } from '../ts/engine/native.js';
import type { EngineName, LogEngine } from '../ts/engine/types.js';
import { buildLogConfig } from '../ts/storage/log-config.js';
import { LogManager } from '../ts/storage/log-manager.js';
import { baseOffsetOf, batchSize, lastOffsetOf } from '../ts/storage/record-batch.js';
import { buildRecordBatch } from '../ts/storage/record-batch-builder.js';
import { forEachRecord, newRecordView } from '../ts/storage/records.js';

const MiB = 1024 * 1024;
const KEYS = 10_000;
const RECORDS_PER_BATCH = 100;
const VALUE_BYTES = 100;

interface Budget {
  records: number;
  rounds: number;
}

const FULL: Budget = { records: 1_000_000, rounds: 2 };
const QUICK: Budget = { records: 200_000, rounds: 1 };

const TOPIC_CONFIG: Record<string, string> = {
  'cleanup.policy': 'compact',
  'segment.bytes': String(64 * MiB),
  'file.delete.delay.ms': '0',
};

interface Measurement {
  engine: EngineName;
  records: number;
  logBytes: number;
  cleanedBytes: number;
  recordsKept: number;
  totalMs: number;
  mapMs: number;
  mapBytes: number;
}

// ---------------------------------------------------------------------------------------------
// The trial (in the child)

function engineByName(name: EngineName): LogEngine {
  if (name === 'ts') return createTsEngine();
  const native = loadNativeEngine();
  if (!native.engine) throw new Error(`the native engine cannot be loaded: ${native.error}`);
  return native.engine;
}

/** Record i: key `key-${i % KEYS}` (keys take turns), a value naming the record. */
function batchAt(engine: LogEngine, first: number): Buffer {
  const records = [];
  for (let i = first; i < first + RECORDS_PER_BATCH; i++) {
    const value = `value of record ${i} `.padEnd(VALUE_BYTES, '.');
    records.push({ key: Buffer.from(`key-${i % KEYS}`), value: Buffer.from(value) });
  }
  return buildRecordBatch(engine, { records, baseTimestamp: BigInt(Date.now()) });
}

async function runChild(engineName: EngineName, records: number): Promise<void> {
  const engine = engineByName(engineName);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `godel-bench-compaction-${engineName}-`));
  try {
    const manager = await LogManager.open({ dataDir: dir, engine });
    try {
      const tp = { topic: 'bench', partition: 0 };
      const log = await manager.getOrCreateLog(tp, TOPIC_CONFIG);
      const inFlight: Promise<unknown>[] = [];
      for (let first = 0; first < records; first += RECORDS_PER_BATCH) {
        inFlight.push(log.append(batchAt(engine, first)));
        if (inFlight.length >= 64) await Promise.all(inFlight.splice(0));
      }
      await Promise.all(inFlight);
      // Roll: the cleaner never touches the active segment, so one more batch goes into a new one.
      log.updateConfig(buildLogConfig({ ...TOPIC_CONFIG, 'segment.bytes': '14' }));
      await log.append(buildRecordBatch(engine, { records: [{ key: Buffer.from('roll'), value: Buffer.from('x') }] }));
      log.updateConfig(buildLogConfig(TOPIC_CONFIG));
      await log.flush();
      const logBytes = log.size();
      process.stdout.write('ready\n');
      await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
      process.stdin.pause();

      const started = process.hrtime.bigint();
      const stats = await manager.runCleanerOnce();
      const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (stats.length !== 1) throw new Error(`expected one cleaning, got ${stats.length}`);
      const s = stats[0]!;

      const kept = await latestPerKey(log, records);
      const measurement: Measurement = {
        engine: engineName, records, logBytes, cleanedBytes: s.bytesRead, recordsKept: kept,
        totalMs, mapMs: s.mapDoneMs - s.startMs, mapBytes: s.mapBytesRead,
      };
      process.stdout.write(`${JSON.stringify(measurement)}\n`);
    } finally {
      await manager.shutdown();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Reads the cleaned log back: one record per key, each the last one written. Returns the count. */
async function latestPerKey(log: Awaited<ReturnType<LogManager['getOrCreateLog']>>, records: number): Promise<number> {
  const seen = new Map<string, string>();
  const view = newRecordView();
  let offset = 0n;
  while (offset < log.logEndOffset) {
    const { records: buf } = await log.read(offset, 4 * MiB);
    if (buf.length === 0) throw new Error(`empty read at ${offset}`);
    for (let pos = 0; pos < buf.length; pos += batchSize(buf, pos)) {
      const base = baseOffsetOf(buf, pos);
      forEachRecord(buf, pos, batchSize(buf, pos), view, (r) => {
        if (base + BigInt(r.offsetDelta) < offset) return true;
        const key = buf.toString('utf8', r.keyStart, r.keyStart + r.keyLength);
        if (seen.has(key)) throw new Error(`key ${key} appears twice after cleaning`);
        seen.set(key, buf.toString('utf8', r.valueStart, r.valueStart + r.valueLength));
        return true;
      });
      offset = lastOffsetOf(buf, pos) + 1n;
    }
  }
  for (let k = 0; k < KEYS; k++) {
    const last = records - KEYS + k;
    if (!seen.get(`key-${k}`)?.startsWith(`value of record ${last} `)) throw new Error(`key-${k} does not hold record ${last}`);
  }
  return [...seen.keys()].filter((k) => k.startsWith('key-')).length;
}

// ---------------------------------------------------------------------------------------------
// The parent

function flushDirtyPages(): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('sync', [], { stdio: 'ignore' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

/** Spawns one trial; the child writes its log, the parent syncs, then lets it clean. */
function spawnTrial(engine: EngineName, records: number): Promise<Measurement> {
  const self = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, self, '--child', engine, String(records)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (out === 'ready\n') void flushDirtyPages().then(() => child.stdin.end('go\n'));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) reject(new Error(`trial ${engine} failed (exit ${code}): ${out}`));
      else resolve(JSON.parse(line) as Measurement);
    });
  });
}

function mbPerSecond(bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const childAt = argv.indexOf('--child');
  if (childAt >= 0) {
    await runChild(argv[childAt + 1] as EngineName, Number(argv[childAt + 2]));
    return;
  }
  const budget = argv.includes('--quick') ? QUICK : FULL;
  const jsonAt = argv.indexOf('--json');
  const jsonPath = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
  const engines: EngineName[] = loadNativeEngine().engine ? ['native', 'ts'] : ['ts'];
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.log(`godel compaction benchmark: ${budget.records} records over ${KEYS} keys, node ${process.version}, ${os.cpus().length} x ${cpu}, tmpdir ${os.tmpdir()}`);
  const best = new Map<EngineName, Measurement>();
  for (let round = 0; round < budget.rounds; round++) {
    const order = round % 2 === 0 ? engines : [...engines].reverse();
    for (const engine of order) {
      const m = await spawnTrial(engine, budget.records);
      console.log(`  round ${round + 1} ${engine}: ${mbPerSecond(m.cleanedBytes, m.totalMs).toFixed(1)} MB/s (${m.totalMs.toFixed(0)} ms)`);
      const previous = best.get(engine);
      if (previous === undefined || m.totalMs < previous.totalMs) best.set(engine, m);
    }
  }
  const rows = engines.map((engine) => {
    const m = best.get(engine)!;
    return {
      engine,
      log: `${(m.logBytes / MiB).toFixed(1)} MiB`,
      cleaning: `${mbPerSecond(m.cleanedBytes, m.totalMs).toFixed(1)} MB/s`,
      records: `${(m.records / (m.totalMs / 1000) / 1e6).toFixed(2)} M records/s`,
      map: `${mbPerSecond(m.mapBytes, m.mapMs).toFixed(1)} MB/s`,
      time: `${(m.totalMs / 1000).toFixed(2)} s`,
      kept: String(m.recordsKept),
    };
  });
  const header = ['engine', 'log size', 'cleaning (whole pass)', 'records', 'offset map phase', 'time', 'records kept'];
  console.log();
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const r of rows) console.log(`| ${[r.engine, r.log, r.cleaning, r.records, r.map, r.time, r.kept].join(' | ')} |`);
  if (best.has('native') && best.has('ts')) {
    console.log(`\nnative over ts: ${(best.get('ts')!.totalMs / best.get('native')!.totalMs).toFixed(2)}x`);
  }
  if (jsonPath !== undefined) {
    await fs.mkdir(path.dirname(jsonPath), { recursive: true });
    await fs.writeFile(jsonPath, `${JSON.stringify([...best.values()], null, 2)}\n`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
