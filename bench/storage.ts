// Storage micro-benchmarks: the native engine against the pure-TypeScript one, side by side.
//
//   npm run bench:storage                 # full run (about two and a half minutes)
//   npm run bench:storage -- --quick      # smaller budgets, for a smoke test
//   npm run bench:storage -- --only crc   # trials whose group or label contains "crc"
//   npm run bench:storage -- --json bench/results/storage.json
//
// Every trial is declared as data in TRIALS and runs in a fresh process (this file re-spawned with
// --child), so neither engine inherits the other's JIT state or heap. Each trial runs twice per
// engine (once with --quick) in ABBA order (native, ts, then ts, native) and the best of each
// engine's rounds is kept, so a slow moment of the machine or the disk does not land on one engine
// only. Before each disk trial the parent runs `sync`, so no trial pays for the previous trial's
// dirty pages, and the no-sync append trials first write and delete a scratch file, so they do
// not measure the VM's first touch of guest memory. Without the addon only ts is measured. The
// ratio column compares numbers from the same run, which is what these noisy machines allow.
// Durable trials (fdatasync) measure the disk and the VM under it more than the engine: expect
// them to move between runs by more than the difference between the engines.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTsEngine } from '../ts/engine/fallback.js';
import { loadNativeEngine } from '../ts/engine/native.js';
import type { EngineName, LogEngine } from '../ts/engine/types.js';

const KiB = 1024;
const MiB = 1024 * KiB;

type AppendMode = 'no sync' | 'sync each' | 'group commit';

type TrialSpec =
  | { kind: 'crc'; bytes: number }
  | { kind: 'append'; batchBytes: number; mode: AppendMode; appenders: number }
  | { kind: 'lookup'; index: 'offset' | 'time'; indexBytes: number }
  | { kind: 'read'; readBytes: number; fileBytes: number };

interface Trial {
  group: string;
  label: string;
  /** What the number means; 'ns' trials are better when lower. */
  unit: 'GB/s' | 'MB/s' | 'ns';
  spec: TrialSpec;
}

const APPEND_BATCHES = [1 * KiB, 16 * KiB, 64 * KiB, 1 * MiB];
const GROUP_COMMIT_APPENDERS = 8;

const TRIALS: Trial[] = [
  ...[1 * KiB, 64 * KiB, 1 * MiB].map((bytes): Trial => ({
    group: 'crc32c', label: `${sizeName(bytes)} buffer`, unit: 'GB/s', spec: { kind: 'crc', bytes },
  })),
  ...(['no sync', 'sync each', 'group commit'] as const).flatMap((mode) =>
    APPEND_BATCHES.map((batchBytes): Trial => ({
      group: mode === 'group commit' ? `append, durable, ${GROUP_COMMIT_APPENDERS} appenders + group commit` : `append, ${mode}`,
      label: `${sizeName(batchBytes)} batches`,
      unit: 'MB/s',
      spec: { kind: 'append', batchBytes, mode, appenders: mode === 'group commit' ? GROUP_COMMIT_APPENDERS : 1 },
    })),
  ),
  { group: 'index lookup', label: 'offset index, 10 MiB', unit: 'ns', spec: { kind: 'lookup', index: 'offset', indexBytes: 10 * MiB } },
  { group: 'index lookup', label: 'time index, 10 MiB', unit: 'ns', spec: { kind: 'lookup', index: 'time', indexBytes: 10 * MiB } },
  { group: 'read', label: '1 MiB reads, 256 MiB file (page cache warm)', unit: 'MB/s', spec: { kind: 'read', readBytes: 1 * MiB, fileBytes: 256 * MiB } },
];

/** Rounds per engine, per-trial measuring time, and caps so a fast disk does not fill /tmp. */
interface Budget {
  rounds: number;
  measureMs: number;
  warmupMs: number;
  appendBytesMax: number;
  readFileBytesMax: number;
}

const FULL: Budget = { rounds: 2, measureMs: 1000, warmupMs: 250, appendBytesMax: 512 * MiB, readFileBytesMax: 256 * MiB };
const QUICK: Budget = { rounds: 1, measureMs: 300, warmupMs: 60, appendBytesMax: 128 * MiB, readFileBytesMax: 64 * MiB };

interface Measurement {
  value: number;
  /** Extra facts worth a column: fdatasyncs per append, bytes moved. */
  note?: string;
}

function sizeName(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`;
}

function nowNs(): bigint {
  return process.hrtime.bigint();
}

function elapsedMs(startNs: bigint): number {
  return Number(nowNs() - startNs) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Trials (run in the child)

function benchCrc(engine: LogEngine, bytes: number, budget: Budget): Measurement {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 2654435761) >>> 24;
  // Check the clock about once a millisecond at 1 GB/s, not on every call.
  const callsPerCheck = Math.max(1, Math.floor((1 * MiB) / bytes));
  let sink = 0;
  const run = (ms: number): { bytes: number; ns: number } => {
    const start = nowNs();
    let calls = 0;
    while (elapsedMs(start) < ms) {
      for (let i = 0; i < callsPerCheck; i++) sink ^= engine.crc32c(data, 0, bytes, sink & 1);
      calls += callsPerCheck;
    }
    return { bytes: calls * bytes, ns: Number(nowNs() - start) };
  };
  run(budget.warmupMs);
  const r = run(budget.measureMs);
  if (sink === 0.5) console.error('unreachable'); // keeps `sink` observable
  return { value: r.bytes / r.ns };
}

async function withTempFile<T>(work: (file: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-bench-'));
  try {
    return await work(path.join(dir, '00000000000000000000.log'));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** A batch as the log writes one: a small header buffer, then the records. */
function batchBuffers(batchBytes: number): Uint8Array[] {
  const header = Buffer.alloc(61, 0x11);
  const body = Buffer.alloc(batchBytes - header.length, 0x5a);
  return [header, body];
}

/**
 * Writes `bytes` to a scratch file and deletes it, so that the measured appends land on memory the
 * kernel has handed out before. On a VM the first touch of guest memory costs more than the write
 * itself, and would otherwise decide which engine "wins" the fast (no sync) trials.
 */
async function pretouchPageCache(engine: LogEngine, file: string, bytes: number): Promise<void> {
  const f = await engine.openSegmentFile(file, { create: true });
  try {
    const chunk = Buffer.alloc(MiB, 0x33);
    for (let p = 0; p < bytes; p += chunk.length) await f.writev([chunk], p);
  } finally {
    await f.close();
    await fs.rm(file, { force: true });
  }
}

async function benchAppend(engine: LogEngine, spec: Extract<TrialSpec, { kind: 'append' }>, budget: Budget): Promise<Measurement> {
  return withTempFile(async (file) => {
    const warmupBytesMax = budget.appendBytesMax / 4;
    if (spec.mode === 'no sync') await pretouchPageCache(engine, `${file}.scratch`, warmupBytesMax + budget.appendBytesMax);
    const f = await engine.openSegmentFile(file, { create: true });
    try {
      const buffers = batchBuffers(spec.batchBytes);
      let next = 0;
      let appends = 0;
      const appender = async (deadlineMs: number, start: bigint, bytesMax: number): Promise<void> => {
        while (elapsedMs(start) < deadlineMs && next + spec.batchBytes <= bytesMax) {
          const position = next; // reserve before awaiting, as the log does
          next += spec.batchBytes;
          await f.writev(buffers, position);
          if (spec.mode !== 'no sync') await f.sync();
          appends++;
        }
      };
      const run = async (ms: number, bytesMax: number): Promise<{ bytes: number; ns: number; appends: number; syncs: number }> => {
        const [from, appendsBefore, syncsBefore] = [next, appends, f.syncCount];
        const start = nowNs();
        await Promise.all(Array.from({ length: spec.appenders }, () => appender(ms, start, bytesMax)));
        return { bytes: next - from, ns: Number(nowNs() - start), appends: appends - appendsBefore, syncs: f.syncCount - syncsBefore };
      };
      await run(budget.warmupMs, warmupBytesMax);
      const r = await run(budget.measureMs, next + budget.appendBytesMax);
      const note = spec.mode === 'no sync' ? `${r.appends} appends` : `${r.appends} appends, ${(r.appends / Math.max(1, r.syncs)).toFixed(1)} per fdatasync`;
      return { value: (r.bytes / r.ns) * 1e3, note };
    } finally {
      await f.close();
    }
  });
}

/** Random lookups over a full index of strictly increasing keys; ns per lookup. */
function benchLookup(engine: LogEngine, spec: Extract<TrialSpec, { kind: 'lookup' }>, budget: Budget): Measurement {
  const entryBytes = spec.index === 'offset' ? 8 : 12;
  const entries = Math.floor(spec.indexBytes / entryBytes);
  const index = Buffer.alloc(entries * entryBytes);
  const baseTs = 1_700_000_000_000n;
  for (let i = 0; i < entries; i++) {
    if (spec.index === 'offset') {
      index.writeUInt32BE(i * 3, i * 8);
      index.writeUInt32BE(i * 1024, i * 8 + 4);
    } else {
      index.writeBigInt64BE(baseTs + BigInt(i * 5), i * 12);
      index.writeUInt32BE(i * 3, i * 12 + 8);
    }
  }
  const TARGETS = 1 << 16;
  let seed = 0x9e3779b9;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const offsetTargets = new Float64Array(TARGETS);
  const timeTargets: bigint[] = new Array(TARGETS);
  for (let i = 0; i < TARGETS; i++) {
    const k = Math.floor(random() * entries * 5);
    offsetTargets[i] = Math.floor(k * 0.6);
    timeTargets[i] = baseTs + BigInt(k);
  }
  let sink = 0;
  const run = (ms: number): number => {
    const start = nowNs();
    let lookups = 0;
    while (elapsedMs(start) < ms) {
      if (spec.index === 'offset') for (let i = 0; i < TARGETS; i++) sink += engine.searchOffsetIndex(index, entries, offsetTargets[i]);
      else for (let i = 0; i < TARGETS; i++) sink += engine.searchTimeIndex(index, entries, timeTargets[i]);
      lookups += TARGETS;
    }
    return Number(nowNs() - start) / lookups;
  };
  run(budget.warmupMs);
  const ns = run(budget.measureMs);
  if (sink === 0.5) console.error('unreachable');
  return { value: ns, note: `${entries} entries` };
}

async function benchRead(engine: LogEngine, spec: Extract<TrialSpec, { kind: 'read' }>, budget: Budget): Promise<Measurement> {
  const fileBytes = Math.min(spec.fileBytes, budget.readFileBytesMax);
  return withTempFile(async (file) => {
    const f = await engine.openSegmentFile(file, { create: true });
    try {
      const chunk = Buffer.alloc(spec.readBytes, 0x42);
      for (let p = 0; p < fileBytes; p += chunk.length) await f.writev([chunk], p);
      const target = Buffer.alloc(spec.readBytes);
      const pass = async (): Promise<number> => {
        let total = 0;
        for (let p = 0; p < fileBytes; ) {
          const n = await f.read(target, 0, target.length, p);
          if (n === 0) throw new Error(`read returned 0 at ${p} of ${fileBytes}`);
          p += n;
          total += n;
        }
        return total;
      };
      await pass();
      const start = nowNs();
      let bytes = 0;
      while (elapsedMs(start) < budget.measureMs) bytes += await pass();
      return { value: (bytes / Number(nowNs() - start)) * 1e3, note: `${sizeName(fileBytes)} file` };
    } finally {
      await f.close();
    }
  });
}

function engineByName(name: EngineName): LogEngine {
  if (name === 'ts') return createTsEngine();
  const native = loadNativeEngine();
  if (!native.engine) throw new Error(`native engine unavailable: ${native.error}`);
  return native.engine;
}

async function runChild(trialIndex: number, engineName: EngineName, quick: boolean): Promise<void> {
  const trial = TRIALS[trialIndex];
  const engine = engineByName(engineName);
  const budget = quick ? QUICK : FULL;
  const { spec } = trial;
  let m: Measurement;
  if (spec.kind === 'crc') m = benchCrc(engine, spec.bytes, budget);
  else if (spec.kind === 'append') m = await benchAppend(engine, spec, budget);
  else if (spec.kind === 'lookup') m = benchLookup(engine, spec, budget);
  else m = await benchRead(engine, spec, budget);
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

// ---------------------------------------------------------------------------------------------
// The parent: spawn every trial, print the table

function spawnTrial(trialIndex: number, engine: EngineName, quick: boolean): Promise<Measurement> {
  const self = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, self, '--child', String(trialIndex), engine, ...(quick ? ['--quick'] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`trial ${TRIALS[trialIndex].group} / ${TRIALS[trialIndex].label} on ${engine} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Measurement);
    });
  });
}

/** Flushes every dirty page on the machine (coreutils `sync`), so a disk trial starts clean. */
function flushDirtyPages(): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('sync', [], { stdio: 'ignore' });
    child.on('error', () => resolve()); // no `sync` binary: measure anyway
    child.on('close', () => resolve());
  });
}

/** Better of two measurements: higher throughput, or lower time per operation. */
function better(unit: Trial['unit'], a: Measurement | undefined, b: Measurement): Measurement {
  if (a === undefined) return b;
  return (unit === 'ns' ? b.value < a.value : b.value > a.value) ? b : a;
}

function format(value: number | undefined, unit: Trial['unit']): string {
  if (value === undefined) return 'n/a';
  if (unit === 'GB/s') return `${value.toFixed(2)} GB/s`;
  if (unit === 'ns') return `${value.toFixed(0)} ns`;
  return `${value.toFixed(0)} MB/s`;
}

interface Row {
  trial: Trial;
  native?: Measurement;
  ts?: Measurement;
  /** Every round's measurement, in the order they ran. */
  samples: { engine: EngineName; value: number }[];
}

function ratio(row: Row): string {
  if (!row.native || !row.ts) return 'n/a';
  const r = row.trial.unit === 'ns' ? row.ts.value / row.native.value : row.native.value / row.ts.value;
  return `${r.toFixed(2)}x`;
}

function table(rows: Row[]): string {
  const header = ['group', 'trial', 'native', 'ts', 'native speedup', 'notes (native | ts)'];
  const body = rows.map((row) => [
    row.trial.group,
    row.trial.label,
    format(row.native?.value, row.trial.unit),
    format(row.ts?.value, row.trial.unit),
    ratio(row),
    [row.native?.note, row.ts?.note].filter((n) => n !== undefined).join(' | '),
  ]);
  const lines = [header, header.map(() => '---'), ...body];
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const childAt = argv.indexOf('--child');
  if (childAt >= 0) {
    await runChild(Number(argv[childAt + 1]), argv[childAt + 2] as EngineName, quick);
    return;
  }
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1].toLowerCase() : undefined;
  const jsonAt = argv.indexOf('--json');
  const jsonPath = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;

  const native = loadNativeEngine();
  const engines: EngineName[] = native.engine ? ['native', 'ts'] : ['ts'];
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`godel storage benchmark${quick ? ' (--quick)' : ''}: node ${process.version}, ${os.cpus().length} x ${cpu}, tmpdir ${os.tmpdir()}`);
  if (!native.engine) console.log(`native engine unavailable (${native.error}); measuring ts only`);

  const started = nowNs();
  const budget = quick ? QUICK : FULL;
  const rows: Row[] = [];
  for (const [i, trial] of TRIALS.entries()) {
    if (only && !`${trial.group} ${trial.label}`.toLowerCase().includes(only)) continue;
    const row: Row = { trial, samples: [] };
    for (let round = 0; round < budget.rounds; round++) {
      const order = round % 2 === 0 ? engines : [...engines].reverse();
      for (const engine of order) {
        if (trial.spec.kind === 'append' || trial.spec.kind === 'read') await flushDirtyPages();
        const m = await spawnTrial(i, engine, quick);
        row.samples.push({ engine, value: m.value });
        row[engine] = better(trial.unit, row[engine], m);
        console.log(`  ${trial.group} / ${trial.label} / ${engine}: ${format(m.value, trial.unit)}${m.note ? ` (${m.note})` : ''}`);
      }
    }
    rows.push(row);
  }
  console.log(`\n${table(rows)}\n`);
  console.log(
    `(${rows.length} trials x ${engines.length} engines x ${budget.rounds} round(s), best round shown, each in a fresh process, ` +
      `in ${(elapsedMs(started) / 1000).toFixed(0)} s)`,
  );
  if (jsonPath) {
    await fs.mkdir(path.dirname(jsonPath), { recursive: true });
    await fs.writeFile(jsonPath, JSON.stringify({ node: process.version, cpu, quick, rows }, null, 2));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
