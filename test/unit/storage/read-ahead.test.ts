// Read-ahead for consumers catching up from disk (storage/read-ahead.ts): a fetch served from a
// range read ahead returns exactly what a fresh read would, also when the log was truncated and
// rewritten, trimmed by retention or damaged on disk between two fetches; and the ranges held are
// bounded, dropped when idle, and given back to the pool.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../ts/clock.js';
import { READ_AHEAD_BYTES_MAX, READ_AHEAD_IDLE_MS, READ_AHEAD_SLOTS_PER_PARTITION } from '../../../ts/limits.js';
import { LogManager } from '../../../ts/storage/log-manager.js';
import type { PartitionLog, ReadOptions } from '../../../ts/storage/partition-log.js';
import { ReadAhead, readAheadBytes, type ReadAheadRange } from '../../../ts/storage/read-ahead.js';
import { testEngines } from '../../helpers/engines.js';
import { batchBaseOffsets, batchOf, decodeRecords, tempDir } from '../../helpers/storage.js';

const tp = { topic: 'catch-up', partition: 0 };

function range(bytes: number, released: string[], name: string): ReadAheadRange {
  return { records: Buffer.alloc(bytes), release: () => released.push(name) };
}

describe('ReadAhead', () => {
  let clock: ManualClock;
  let ahead: ReadAhead;
  beforeEach(() => {
    clock = new ManualClock();
    ahead = new ReadAhead(() => clock.nowMs());
  });
  afterEach(() => ahead.clear());

  it('hands a range to the fetch at its offset, in its generation, with no larger limit', async () => {
    const released: string[] = [];
    ahead.start(100n, 4096, 1, async () => range(4000, released, 'a'));
    expect(ahead.take(101n, 4096, 1)).toBeNull();
    expect(ahead.take(100n, 4096, 2)).toBeNull();
    const got = await ahead.take(100n, 2048, 1);
    expect(got?.records.length).toBe(4000);
    expect(ahead.take(100n, 2048, 1)).toBeNull();
    ahead.start(200n, 4096, 1, async () => range(4000, released, 'b'));
    expect(ahead.take(200n, 8192, 1)).toBeNull();
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toEqual(['b']);
    expect(readAheadBytes()).toBe(0);
  });

  it('keeps the ranges it holds rather than evicting them, and gives back idle, cleared or late ones', async () => {
    const released: string[] = [];
    const reads: number[] = [];
    for (let i = 0; i < READ_AHEAD_SLOTS_PER_PARTITION + 1; i++) {
      ahead.start(BigInt(i), 1024, 0, async () => {
        reads.push(i);
        return range(1000, released, `r${i}`);
      });
    }
    expect(reads).toEqual(Array.from({ length: READ_AHEAD_SLOTS_PER_PARTITION }, (_, i) => i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toEqual([]);
    clock.advance(READ_AHEAD_IDLE_MS + 1);
    ahead.dropIdle();
    expect(released.sort()).toEqual(reads.map((i) => `r${i}`));
    let finish!: (r: ReadAheadRange) => void;
    ahead.start(50n, 1024, 0, () => new Promise((resolve) => (finish = resolve)));
    ahead.clear();
    expect(readAheadBytes()).toBe(0);
    finish(range(1000, released, 'late'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toContain('late');
  });

  it(`holds at most ${READ_AHEAD_BYTES_MAX} bytes in the process, and makes room by dropping idle ranges`, async () => {
    const others = Array.from({ length: READ_AHEAD_BYTES_MAX / (1 << 20) }, () => new ReadAhead(() => clock.nowMs()));
    const released: string[] = [];
    others.forEach((o, i) => o.start(0n, 1 << 20, 0, async () => range(1 << 20, released, `o${i}`)));
    expect(readAheadBytes()).toBe(READ_AHEAD_BYTES_MAX);
    ahead.start(0n, 1 << 20, 0, async () => range(1 << 20, released, 'mine'));
    expect(ahead.take(0n, 1 << 20, 0)).toBeNull();
    clock.advance(READ_AHEAD_IDLE_MS + 1);
    ahead.start(0n, 1 << 20, 0, async () => range(1 << 20, released, 'mine'));
    expect(ahead.take(0n, 1 << 20, 0)).not.toBeNull();
    await new Promise((resolve) => setImmediate(resolve));
    expect(released.filter((r) => r.startsWith('o'))).toHaveLength(others.length);
    for (const o of others) o.clear();
  });
});

describe.each(testEngines)('PartitionLog read-ahead: $name engine', ({ engine }) => {
  let dir: string;
  let manager: LogManager | undefined;
  let clock: ManualClock;
  /** Ten records per batch, so offsets are 10 apart at batch starts. */
  const batchBytes = batchOf(engine, 'xx0000', 10).length;
  /** A limit of three batches: each fetch is well filled, so the next range is read ahead. */
  const limit = batchBytes * 3;
  const catchUp: ReadOptions = { readAhead: true };

  beforeEach(async () => {
    dir = await tempDir(`readahead-${engine.name}`);
    clock = new ManualClock();
  });
  afterEach(async () => {
    await manager?.shutdown();
    manager = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function openLog(overrides: Record<string, string> = {}): Promise<PartitionLog> {
    manager = await LogManager.open({ dataDir: dir, engine, clock, brokerConfig: {} });
    return manager.getOrCreateLog(tp, overrides);
  }

  /** Batches of ten records, `batchBytes` each for a two-character tag. */
  async function fill(log: PartitionLog, batches: number, tag: string): Promise<void> {
    for (let i = 0; i < batches; i++) await log.append(batchOf(engine, `${tag}${String(i).padStart(4, '0')}`, 10));
  }

  /**
   * Reads like a consumer from `from` to the log end, the n-th read with `limits(n)` bytes; each
   * read's bytes, or the error code.
   */
  async function consume(log: PartitionLog, from: bigint, options: ReadOptions, limits = (_n: number): number => limit): Promise<string[]> {
    const out: string[] = [];
    let offset = from;
    for (let n = 0; offset < log.logEndOffset; n++) {
      try {
        const read = await log.read(offset, limits(n), options);
        out.push(read.records.toString('hex'));
        const values = decodeRecords(read.records);
        read.release?.();
        if (values.length === 0) break;
        offset = values.at(-1)!.offset + 1n;
      } catch (err) {
        out.push(`error ${(err as { code?: string }).code}`);
        break;
      }
    }
    return out;
  }

  it('serves a consumer reading from the start exactly what plain reads serve, across segments', async () => {
    const log = await openLog({ 'segment.bytes': String(batchBytes * 7) });
    await fill(log, 60, 'v-');
    const plain = await consume(log, 0n, {});
    const ahead = await consume(log, 0n, catchUp);
    expect(ahead).toEqual(plain);
    expect(plain.length).toBeGreaterThanOrEqual(20);
    const values = plain.flatMap((hex) => decodeRecords(Buffer.from(hex, 'hex')).map((r) => r.value));
    expect(new Set(values).size).toBe(600);
    expect(readAheadBytes()).toBe(0);
  });

  it('cuts a range to a smaller limit as a plain read would, and reads afresh for a larger one', async () => {
    const log = await openLog();
    await fill(log, 80, 'l-');
    // Limits in batches: the same, smaller, larger, below one batch (one batch regardless), odd sizes.
    const steps = [3, 3, 2, 3, 4.5, 1, 0.5, 3, 2.5, 3, 1.2];
    const limits = (n: number): number => Math.floor(batchBytes * steps[n % steps.length]!);
    const plain = await consume(log, 0n, {}, limits);
    expect(await consume(log, 0n, catchUp, limits)).toEqual(plain);
    expect(await consume(log, 0n, { ...catchUp, minOneBatch: false }, limits)).toEqual(await consume(log, 0n, { minOneBatch: false }, limits));
    expect(readAheadBytes()).toBe(0);
  });

  it('serves several consumers catching up on one partition at once, each exactly what plain reads serve', async () => {
    const log = await openLog();
    await fill(log, 90, 'm-');
    const expected = await consume(log, 0n, {});
    const consumers = [0n, 300n, 600n, 150n].map((offset) => ({ offset, reads: [] as string[] }));
    for (let active = consumers; active.length > 0; active = active.filter((c) => c.offset < log.logEndOffset)) {
      for (const c of active) {
        const read = await log.read(c.offset, limit, catchUp);
        c.reads.push(read.records.toString('hex'));
        c.offset = decodeRecords(read.records).at(-1)!.offset + 1n;
        read.release?.();
      }
    }
    const plainFrom = async (offset: bigint): Promise<string> => (await consume(log, offset, {})).join('');
    for (const [i, from] of [0n, 300n, 600n, 150n].entries()) expect(consumers[i]!.reads.join('')).toBe(await plainFrom(from));
    expect(consumers[0]!.reads.join('')).toBe(expected.join(''));
  });

  it('never serves a range read before a truncation: the rewritten records come back', async () => {
    const log = await openLog();
    for (let round = 0; round < 5; round++) {
      await fill(log, 12, `o${round}`);
      const start = log.logEndOffset - 120n;
      const first = await log.read(start, limit, catchUp);
      expect(batchBaseOffsets(first.records)).toEqual([start, start + 10n, start + 20n]);
      first.release?.();
      // Offsets start+30 onwards were read ahead; cut them (at a batch boundary after 25) and write
      // them again with other values in smaller batches.
      await log.truncateTo(start + 25n);
      expect(log.logEndOffset).toBe(start + 20n);
      for (let i = 0; i < 10; i++) await log.append(batchOf(engine, `new${round}-${i}`, 5));
      const read = await log.read(start + 30n, limit, catchUp);
      const records = decodeRecords(read.records);
      read.release?.();
      expect(records[0]!.offset).toBe(start + 30n);
      expect(records[0]!.value).toBe(`new${round}-2-0`);
      expect(records.every((r) => r.value!.startsWith(`new${round}-`))).toBe(true);
    }
  });

  it('answers OFFSET_OUT_OF_RANGE after retention deleted what was read ahead', async () => {
    const log = await openLog({ 'segment.bytes': String(batchBytes * 3), 'retention.bytes': String(batchBytes * 6) });
    await fill(log, 30, 'r-');
    const first = await log.read(0n, limit, catchUp);
    first.release?.();
    expect(await log.deleteOldSegments()).toBeGreaterThan(0);
    await expect(log.read(30n, limit, catchUp)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect(await consume(log, log.logStartOffset, catchUp)).toEqual(await consume(log, log.logStartOffset, {}));
  });

  it('reports a batch damaged on disk as a plain read does, never serving it', async () => {
    const log = await openLog();
    await fill(log, 20, 'c-');
    await log.flush();
    // Damage the fifth batch's last byte (its records, covered by the CRC).
    const file = path.join(dir, `${tp.topic}-${tp.partition}`, '00000000000000000000.log');
    const handle = await fs.open(file, 'r+');
    await handle.write(Buffer.from([0xff ^ (await fs.readFile(file))[batchBytes * 5 - 1]!]), 0, 1, batchBytes * 5 - 1);
    await handle.close();
    const plain = await consume(log, 0n, {});
    const ahead = await consume(log, 0n, catchUp);
    expect(ahead).toEqual(plain);
    expect(plain.at(-1)).toBe('error CORRUPT_MESSAGE');
  });
});
