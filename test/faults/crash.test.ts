// kill -9 in the middle of an append loop. A child process (test/helpers/crash-writer.ts) appends
// batches with recognisable records and prints every acknowledgement; the test kills it with
// SIGKILL after a random number of acks, reopens the data directory in this process and checks
// what a crash must never break: in durable mode (flush.messages=1) every acknowledged record is
// there with its payload; offsets run from 0 with no gap or duplicate; the log end is at or past
// the last ack; appends go on at the log end. Then a second kill/restart cycle on the same log.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineName, LogEngine } from '../../ts/engine/types.js';
import { LogManager } from '../../ts/storage/log-manager.js';
import type { PartitionLog } from '../../ts/storage/partition-log.js';
import { buildRecordBatch } from '../../ts/storage/record-batch-builder.js';
import {
  CRASH_SEGMENT_BYTES,
  CRASH_TOPIC,
  crashBrokerConfig,
  crashKey,
  crashTimestamp,
  crashValue,
  idOfKey,
} from '../helpers/crash-writer.js';
import { testEngines } from '../helpers/engines.js';
import { decodeChecked, readAll, type DecodedRecord } from '../helpers/records.js';
import { tempDir } from '../helpers/storage.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WRITER = path.join(root, 'test', 'helpers', 'crash-writer.ts');
/** How long a child may take to start and to reach its acks on a slow, loaded machine. */
const CHILD_DEADLINE_MS = 40_000;

interface Ack {
  baseOffset: bigint;
  firstId: number;
  count: number;
}

/** A running crash-writer and what it printed. */
class Writer {
  readonly acks: Ack[] = [];
  readyLine: string | null = null;
  /** Lines that were neither `ready` nor `ack` (the test fails on any). */
  readonly unexpected: string[] = [];
  stderr = '';
  private readonly child: ChildProcessWithoutNullStreams;
  /** Settles when the child exited and its output was read to the end. */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exited = false;
  private wake: () => void = () => undefined;

  constructor(engine: EngineName, dir: string, options: { durable: boolean; startId: number }) {
    const args = ['--import', 'tsx', WRITER, '--dir', dir, '--start-id', String(options.startId)];
    if (options.durable) args.push('--durable');
    this.child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, GODEL_ENGINE: engine }, stdio: 'pipe' });
    const lines = createInterface({ input: this.child.stdout });
    lines.on('line', (line) => this.onLine(line));
    const outputEnded = new Promise<void>((resolve) => lines.on('close', resolve));
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    this.done = Promise.all([exit, outputEnded]).then(([result]) => result).finally(() => {
      this.exited = true;
      this.wake();
    });
    this.done.catch(() => undefined); // awaited by kill(); a spawn error also ends untilAcks()
  }

  private onLine(line: string): void {
    const parts = line.split(' ');
    if (parts[0] === 'ready') this.readyLine = line;
    else if (parts[0] === 'ack' && parts.length === 4) {
      this.acks.push({ baseOffset: BigInt(parts[1]!), firstId: Number(parts[2]), count: Number(parts[3]) });
    } else this.unexpected.push(line);
    this.wake();
  }

  /** Resolves once `count` acks arrived; fails if the child exits first or the deadline passes. */
  async untilAcks(count: number): Promise<void> {
    const deadline = Date.now() + CHILD_DEADLINE_MS;
    while (this.acks.length < count) {
      if (this.unexpected.length > 0) throw new Error(`unexpected output from crash-writer: ${this.unexpected.join('\n')}`);
      if (this.exited) throw new Error(`crash-writer exited after ${this.acks.length} acks:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`crash-writer gave ${this.acks.length} of ${count} acks in ${CHILD_DEADLINE_MS} ms:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** SIGKILL, then every line it printed before dying. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    const { signal } = await this.done;
    expect(signal, `crash-writer should die by SIGKILL; stderr:\n${this.stderr}`).toBe('SIGKILL');
    expect(this.unexpected).toEqual([]);
  }
}

/** Somewhere between `min` and `min + spread` acks: the kill lands at a different point each run. */
function randomAckCount(min: number, spread: number): number {
  return min + Math.floor(Math.random() * spread);
}

/** A crash-writer record: id from the key; value and timestamp must be the ones of that id. */
function recordId(record: DecodedRecord): number {
  const id = idOfKey(record.key);
  if (id === null) throw new Error(`record at offset ${record.offset} has a foreign key ${record.key}`);
  if (record.value !== crashValue(id)) throw new Error(`record at offset ${record.offset} (id ${id}) has a wrong value`);
  if (record.timestamp !== crashTimestamp(id)) throw new Error(`record at offset ${record.offset} (id ${id}) has timestamp ${record.timestamp}`);
  return id;
}

/**
 * Checks the recovered log against the acks: offsets 0..end-1 each exactly once, every record a
 * well-formed crash-writer record with ids growing along the offsets, and every acked record in
 * place. Returns the ids in offset order.
 */
function checkLog(records: DecodedRecord[], logEnd: bigint, acks: readonly Ack[]): number[] {
  expect(BigInt(records.length), 'one record per offset up to the log end').toBe(logEnd);
  const ids: number[] = [];
  records.forEach((record, i) => {
    if (record.offset !== BigInt(i)) throw new Error(`offset ${record.offset} found at position ${i}: a gap or a duplicate`);
    const id = recordId(record);
    if (ids.length > 0 && id <= ids[ids.length - 1]!) throw new Error(`id ${id} at offset ${i} does not follow id ${ids[ids.length - 1]}`);
    ids.push(id);
  });
  let ackedEnd = 0n;
  for (const ack of acks) {
    for (let j = 0; j < ack.count; j++) {
      const offset = ack.baseOffset + BigInt(j);
      if (offset >= logEnd) throw new Error(`acknowledged offset ${offset} (id ${ack.firstId + j}) is past the log end ${logEnd}`);
      if (ids[Number(offset)] !== ack.firstId + j) {
        throw new Error(`acknowledged offset ${offset} should hold id ${ack.firstId + j}, holds ${ids[Number(offset)]}`);
      }
    }
    const end = ack.baseOffset + BigInt(ack.count);
    if (end > ackedEnd) ackedEnd = end;
  }
  expect(logEnd >= ackedEnd, `log end ${logEnd} must be at or past the last ack ${ackedEnd}`).toBe(true);
  return ids;
}

/** Appends one record with id `id` after recovery: it must land at the log end and read back. */
async function appendAfterRecovery(engine: LogEngine, log: PartitionLog, id: number): Promise<Ack> {
  const end = log.logEndOffset;
  const info = await log.append(buildRecordBatch(engine, {
    records: [{ key: Buffer.from(crashKey(id)), value: Buffer.from(crashValue(id)), timestamp: crashTimestamp(id) }],
  }));
  expect(info.baseOffset).toBe(end);
  expect(log.logEndOffset).toBe(end + 1n);
  const back = decodeChecked((await log.read(end, 1024 * 1024)).records);
  expect(back.map((r) => [r.offset, idOfKey(r.key)])).toEqual([[end, id]]);
  return { baseOffset: end, firstId: id, count: 1 };
}

async function reopen(engine: LogEngine, dir: string, durable: boolean): Promise<{ manager: LogManager; log: PartitionLog }> {
  const manager = await LogManager.open({ dataDir: dir, engine, brokerConfig: crashBrokerConfig(durable) });
  expect(manager.hadCleanShutdown).toBe(false);
  const log = manager.getLog(CRASH_TOPIC);
  if (log === undefined) throw new Error('the crashed log is missing after reopening');
  return { manager, log };
}

describe.each(testEngines)('kill -9 during appends: $name engine', ({ name, engine }) => {
  let dir: string;
  const managers: LogManager[] = [];

  beforeEach(async () => {
    dir = await tempDir(`crash-${name}`);
  });
  afterEach(async () => {
    await Promise.allSettled(managers.splice(0).map((m) => m.shutdown()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('durable mode keeps every acknowledged record through two kill/restart cycles', async () => {
    const acks: Ack[] = [];

    // Cycle 1: a fresh log.
    const first = new Writer(name, dir, { durable: true, startId: 0 });
    await first.untilAcks(randomAckCount(250, 250));
    await first.kill();
    expect(first.readyLine).toBe(`ready ${name} 0 false`);
    acks.push(...first.acks);
    let { manager, log } = await reopen(engine, dir, true);
    managers.push(manager);
    const records1 = await readAll(log, 0n);
    const ids1 = checkLog(records1, log.logEndOffset, acks);
    // Several segments rolled (64 KiB each), so the crash may have hit any of them.
    expect(log.segmentCount).toBeGreaterThanOrEqual(2);
    expect(log.size()).toBeGreaterThan(CRASH_SEGMENT_BYTES);
    acks.push(await appendAfterRecovery(engine, log, ids1[ids1.length - 1]! + 1));
    const kept = log.logEndOffset;
    await manager.shutdown();
    managers.pop();

    // Cycle 2: the writer resumes on the recovered log (after the clean shutdown above).
    const second = new Writer(name, dir, { durable: true, startId: ids1[ids1.length - 1]! + 2 });
    await second.untilAcks(randomAckCount(250, 250));
    await second.kill();
    expect(second.readyLine).toBe(`ready ${name} ${kept} true`);
    for (const ack of second.acks) expect(ack.baseOffset >= kept).toBe(true);
    acks.push(...second.acks);
    ({ manager, log } = await reopen(engine, dir, true));
    managers.push(manager);
    const records2 = await readAll(log, 0n);
    const ids2 = checkLog(records2, log.logEndOffset, acks);
    // What the first recovery found (and the clean shutdown then flushed) is still there as it was.
    expect(ids2.slice(0, Number(kept))).toEqual([...ids1, ids1[ids1.length - 1]! + 1]);
    await appendAfterRecovery(engine, log, ids2[ids2.length - 1]! + 1);
  });

  it('without durable mode, recovery leaves a contiguous prefix of what was written', async () => {
    const writer = new Writer(name, dir, { durable: false, startId: 0 });
    await writer.untilAcks(randomAckCount(300, 700));
    await writer.kill();
    const { manager, log } = await reopen(engine, dir, false);
    managers.push(manager);
    const records = await readAll(log, 0n);
    // No durability promise here: only that what is there is whole, correct and in order, and
    // starts with the first record written (ids run 0, 1, 2 … with the offsets).
    const ids = checkLog(records, log.logEndOffset, []);
    ids.forEach((id, i) => {
      if (id !== i) throw new Error(`offset ${i} holds id ${id}: the recovered log is not a prefix of what was written`);
    });
    expect(records.length).toBeGreaterThan(0);
    await appendAfterRecovery(engine, log, ids.length);
  });
});
