// kill -9 in the middle of a segment swap. A compacted log is prepared in this process (cleaned
// once, then given more updates and tombstones), then a child process opens it and runs the
// cleaner with GODEL_TEST_CRASH_AT=<step>, which makes segment-swap.ts SIGKILL the child when the
// first swap reaches that step. The log is reopened here and must be whole: before the commit point
// exactly the old log; from it on, the first cleaned group swapped in and the rest untouched;
// either way every key's latest value present, nothing invented or resurrected, no duplicate or
// decreasing offset, no swap file left; and cleaning it again ends where a cleaning without a crash
// ends. The same data is cleaned without a crash, on a copy, as the reference.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../ts/clock.js';
import type { EngineName, LogEngine } from '../../ts/engine/types.js';
import { LogManager } from '../../ts/storage/log-manager.js';
import type { PartitionLog } from '../../ts/storage/partition-log.js';
import { buildRecordBatch } from '../../ts/storage/record-batch-builder.js';
import { SWAP_CRASH_POINTS, type SwapCrashPoint } from '../../ts/storage/segment-swap.js';
import { testEngines } from '../helpers/engines.js';
import { readAll, type DecodedRecord } from '../helpers/records.js';
import { tempDir } from '../helpers/storage.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tp = { topic: 'compacted', partition: 0 };
const TOPIC_CONFIG: Record<string, string> = {
  'cleanup.policy': 'compact',
  'segment.bytes': '1024',
  'index.interval.bytes': '128',
  'min.cleanable.dirty.ratio': '0.01',
  // Horizons set at the prepared clean (2023) are long past when the child cleans.
  'delete.retention.ms': '1000',
};
/** A loaded machine needs time to start a tsx child. */
const CHILD_DEADLINE_MS = 60_000;

/**
 * The child: opens the data directory and runs one cleaner pass; prints `ready` before and
 * `cleaned` after. Written to the temp directory at run time (it imports the sources by path).
 */
function childSource(): string {
  const url = (file: string): string => JSON.stringify(pathToFileURL(path.join(root, file)).href);
  return `
import { chooseEngine } from ${url('ts/engine/loader.ts')};
import { LogManager } from ${url('ts/storage/log-manager.ts')};
const [dir, topicConfig] = process.argv.slice(2);
const { engine } = chooseEngine();
const manager = await LogManager.open({ dataDir: dir, engine, topicConfig: () => JSON.parse(topicConfig) });
process.stdout.write('ready\\n');
const stats = await manager.runCleanerOnce();
process.stdout.write('cleaned ' + stats.length + '\\n');
await manager.shutdown();
`;
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runChild(script: string, engine: EngineName, dir: string, crashAt: SwapCrashPoint | null): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, GODEL_ENGINE: engine };
    delete env.GODEL_TEST_CRASH_AT;
    if (crashAt !== null) env.GODEL_TEST_CRASH_AT = crashAt;
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, JSON.stringify(TOPIC_CONFIG)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the cleaning child did not finish within ${CHILD_DEADLINE_MS} ms:\n${stdout}\n${stderr}`));
    }, CHILD_DEADLINE_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last value per key, with a tombstone and no record at all both meaning "deleted". */
function liveValues(records: readonly DecodedRecord[]): Map<string | null, string> {
  const latest = new Map<string | null, string | null>();
  for (const r of records) latest.set(r.key, r.value);
  const live = new Map<string | null, string>();
  for (const [key, value] of latest) if (value !== null) live.set(key, value);
  return live;
}

function put(engine: LogEngine, log: PartitionLog, clock: ManualClock, key: string, value: string | null): Promise<unknown> {
  return log.append(buildRecordBatch(engine, {
    records: [{ key: Buffer.from(key), value: value === null ? null : Buffer.from(value) }],
    baseTimestamp: BigInt(clock.nowMs()),
  }));
}

/**
 * The prepared log: 60 keys written five times and ten of them deleted, cleaned (so the old part
 * is small cleaned segments that the next cleaning merges, several per group); then more updates
 * of k10..k29 and tombstones of k30..k34, not cleaned yet.
 */
async function prepare(engine: LogEngine, dir: string): Promise<void> {
  const clock = new ManualClock();
  const manager = await LogManager.open({ dataDir: dir, engine, clock });
  try {
    const log = await manager.getOrCreateLog(tp, TOPIC_CONFIG);
    for (let round = 0; round < 5; round++) for (let k = 0; k < 60; k++) await put(engine, log, clock, `k${k}`, `a${round}-${k}`);
    for (let k = 0; k < 10; k++) await put(engine, log, clock, `k${k}`, null);
    for (let i = 0; i < 20; i++) await put(engine, log, clock, `roll-a-${i}`, 'x');
    expect(await manager.runCleanerOnce()).toHaveLength(1);
    clock.advance(10_000);
    for (let round = 0; round < 3; round++) for (let k = 10; k < 30; k++) await put(engine, log, clock, `k${k}`, `b${round}-${k}`);
    for (let k = 30; k < 35; k++) await put(engine, log, clock, `k${k}`, null);
    for (let i = 0; i < 20; i++) await put(engine, log, clock, `roll-b-${i}`, 'x');
  } finally {
    await manager.shutdown();
  }
}

interface Snapshot {
  records: DecodedRecord[];
  bases: bigint[];
}

async function snapshot(engine: LogEngine, dir: string, clean: boolean): Promise<Snapshot> {
  const manager = await LogManager.open({ dataDir: dir, engine, topicConfig: () => TOPIC_CONFIG });
  try {
    const log = manager.getLog(tp)!;
    if (clean) {
      // One pass cleans everything up to the active segment: nothing is left due after it.
      expect(await manager.runCleanerOnce()).toHaveLength(1);
      expect(await manager.runCleanerOnce()).toEqual([]);
    }
    return { records: await readAll(log), bases: log.segmentBaseOffsets() };
  } finally {
    await manager.shutdown();
  }
}

function key(r: DecodedRecord): string {
  return `${r.offset}|${r.key}|${r.value}|${r.timestamp}`;
}

describe.each(testEngines)('kill -9 during a segment swap: $name engine', ({ name, engine }) => {
  let work: string;
  let template: string;
  let script: string;
  /** The prepared log, and the same log after a cleaning without a crash. */
  let before: Snapshot;
  let reference: Snapshot;

  beforeAll(async () => {
    work = await tempDir(`compaction-crash-${name}`);
    template = path.join(work, 'template');
    await prepare(engine, template);
    before = await snapshot(engine, await copy(template, 'before'), false);
    reference = await snapshot(engine, await copy(template, 'reference'), true);
    script = path.join(work, 'clean-child.mts');
    await fs.writeFile(script, childSource());
    // The prepared log is worth testing: the cleaning removes records, and its first group merges
    // several segments (so a crash can fall between the renames of one group's old segments).
    expect(reference.records.length).toBeLessThan(before.records.length);
    expect(reference.bases[1]!).toBeGreaterThanOrEqual(before.bases[2]!);
  }, 120_000);
  afterAll(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  async function copy(from: string, to: string): Promise<string> {
    const dest = path.join(work, to);
    await fs.rm(dest, { recursive: true, force: true });
    await fs.cp(from, dest, { recursive: true });
    return dest;
  }

  it('a child that is not killed cleans like the reference', async () => {
    const dir = await copy(template, 'no-crash');
    const result = await runChild(script, name, dir, null);
    expect(result.stderr).toBe('');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('ready\ncleaned 1\n');
    const after = await snapshot(engine, dir, false);
    expect(after.records.map(key)).toEqual(reference.records.map(key));
    expect(after.bases).toEqual(reference.bases);
  }, 120_000);

  it.each(SWAP_CRASH_POINTS.map((step) => [step]))('killed at %s: the old segments or the new ones, never a mix or a loss', async (step) => {
    const dir = await copy(template, `crash-${step}`);
    const result = await runChild(script, name, dir, step);
    expect(result.signal, `the child should die by SIGKILL at ${step}; stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe('SIGKILL');
    expect(result.stdout).toBe('ready\n');

    const manager = await LogManager.open({ dataDir: dir, engine, topicConfig: () => TOPIC_CONFIG });
    let recovered: DecodedRecord[];
    try {
      expect(manager.hadCleanShutdown).toBe(false);
      const log = manager.getLog(tp)!;
      const files = await fs.readdir(log.dir);
      expect(files.filter((f) => /\.(cleaned|swap|deleted)$/.test(f))).toEqual([]);
      recovered = await readAll(log);
      const bases = log.segmentBaseOffsets();

      // Offsets only grow; every record was in the log before (nothing invented or resurrected);
      // every record a complete cleaning keeps is there (nothing lost); every key's latest value.
      for (let i = 1; i < recovered.length; i++) expect(recovered[i]!.offset).toBeGreaterThan(recovered[i - 1]!.offset);
      const old = new Set(before.records.map(key));
      expect(recovered.filter((r) => !old.has(key(r)))).toEqual([]);
      const now = new Set(recovered.map(key));
      expect(reference.records.filter((r) => !now.has(key(r)))).toEqual([]);
      expect(liveValues(recovered)).toEqual(liveValues(before.records));

      const committed = SWAP_CRASH_POINTS.indexOf(step) >= SWAP_CRASH_POINTS.indexOf('after-swap-rename');
      if (!committed) {
        // Rolled back: exactly the old log.
        expect(recovered.map(key)).toEqual(before.records.map(key));
        expect(bases).toEqual(before.bases);
      } else {
        // Committed: the first group is the cleaned one, everything after it as it was.
        const groupEnd = reference.bases[1]!;
        expect(bases[1]).toBe(groupEnd);
        expect(recovered.filter((r) => r.offset < groupEnd).map(key)).toEqual(reference.records.filter((r) => r.offset < groupEnd).map(key));
        expect(recovered.filter((r) => r.offset >= groupEnd).map(key)).toEqual(before.records.filter((r) => r.offset >= groupEnd).map(key));
        expect(bases.filter((b) => b >= groupEnd)).toEqual(before.bases.filter((b) => b >= groupEnd));
      }
    } finally {
      await manager.shutdown();
    }
    // Cleaning the recovered log ends where a cleaning without a crash ends.
    const cleaned = await snapshot(engine, dir, true);
    expect(cleaned.records.map(key)).toEqual(reference.records.map(key));
  }, 120_000);
});
