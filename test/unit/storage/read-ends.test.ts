// Segments remember where recent reads ended (LogSegment read ends), so a consumer's next fetch
// starts there without an index lookup and a header read. What a consumer reading on is served
// must be exactly what a fresh read serves: with changing limits, several consumers on one
// partition, and after the log was truncated and rewritten, trimmed by retention or damaged on disk.
// Fresh reads come from the reopened log in reverse order, so that none of them starts where an
// earlier one ended.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../ts/clock.js';
import { LogManager } from '../../../ts/storage/log-manager.js';
import type { LogEngine, SegmentFile } from '../../../ts/engine/types.js';
import type { PartitionLog, ReadOptions } from '../../../ts/storage/partition-log.js';
import { testEngines } from '../../helpers/engines.js';
import { batchBaseOffsets, batchOf, decodeRecords, tempDir } from '../../helpers/storage.js';

const tp = { topic: 'catch-up', partition: 0 };

interface Step {
  offset: bigint;
  limit: number;
  /** The read's bytes (hex), or the error code it failed with. */
  result: string;
}

/** `inner`, counting the reads of .log files. */
function countingReads(inner: LogEngine): { engine: LogEngine; reads: () => number } {
  let reads = 0;
  const engine: LogEngine = {
    name: inner.name,
    crc32c: (data, start, end, initial) => inner.crc32c(data, start, end, initial),
    searchOffsetIndex: (index, entries, target) => inner.searchOffsetIndex(index, entries, target),
    searchTimeIndex: (index, entries, target) => inner.searchTimeIndex(index, entries, target),
    async openSegmentFile(file, options): Promise<SegmentFile> {
      const f = await inner.openSegmentFile(file, options);
      return {
        get path() { return f.path; },
        get syncCount() { return f.syncCount; },
        writev: (buffers, position) => f.writev(buffers, position),
        sync: () => f.sync(),
        read: (target, targetOffset, length, position) => {
          if (file.endsWith('.log')) reads++;
          return f.read(target, targetOffset, length, position);
        },
        truncate: (size) => f.truncate(size),
        size: () => f.size(),
        close: () => f.close(),
      };
    },
  };
  return { engine, reads: () => reads };
}

describe.each(testEngines)('PartitionLog read ends: $name engine', ({ engine: realEngine }) => {
  let engine: LogEngine = realEngine;
  let reads: () => number;
  let dir: string;
  let manager: LogManager | undefined;
  let clock: ManualClock;
  /** Ten records per batch, `batchBytes` each for a two-character tag. */
  const batchBytes = batchOf(realEngine, 'xx0000', 10).length;
  /** Three batches per read. */
  const limit = batchBytes * 3;
  let overrides: Record<string, string> = {};

  beforeEach(async () => {
    dir = await tempDir(`readends-${realEngine.name}`);
    clock = new ManualClock();
    overrides = {};
    ({ engine, reads } = countingReads(realEngine));
  });
  afterEach(async () => {
    await manager?.shutdown();
    manager = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function openLog(config: Record<string, string> = {}): Promise<PartitionLog> {
    overrides = config;
    manager = await LogManager.open({ dataDir: dir, engine, clock, brokerConfig: {} });
    return manager.getOrCreateLog(tp, overrides);
  }

  async function reopen(): Promise<PartitionLog> {
    await manager!.shutdown();
    manager = await LogManager.open({ dataDir: dir, engine, clock, topicConfig: () => overrides });
    return manager.getLog(tp)!;
  }

  async function fill(log: PartitionLog, batches: number, tag: string): Promise<void> {
    for (let i = 0; i < batches; i++) await log.append(batchOf(engine, `${tag}${String(i).padStart(4, '0')}`, 10));
  }

  async function readStep(log: PartitionLog, offset: bigint, bytes: number, options: ReadOptions): Promise<{ step: Step; next: bigint | null }> {
    try {
      const read = await log.read(offset, bytes, options);
      const records = decodeRecords(read.records);
      const step = { offset, limit: bytes, result: read.records.toString('hex') };
      read.release?.();
      return { step, next: records.length === 0 ? null : records.at(-1)!.offset + 1n };
    } catch (err) {
      return { step: { offset, limit: bytes, result: `error ${(err as { code?: string }).code}` }, next: null };
    }
  }

  /** Reads like a consumer from `from` to the log end, the n-th read with `limits(n)` bytes. */
  async function consume(log: PartitionLog, from: bigint, options: ReadOptions = {}, limits = (_n: number): number => limit): Promise<Step[]> {
    const steps: Step[] = [];
    for (let offset: bigint | null = from, n = 0; offset !== null && offset < log.logEndOffset; n++) {
      const { step, next } = await readStep(log, offset, limits(n), options);
      steps.push(step);
      offset = next;
    }
    return steps;
  }

  /** The same reads on the reopened log, last first. */
  async function freshly(steps: Step[], options: ReadOptions = {}): Promise<string[]> {
    const log = await reopen();
    const results: string[] = [];
    for (const s of [...steps].reverse()) results.unshift((await readStep(log, s.offset, s.limit, options)).step.result);
    return results;
  }

  it('serves a consumer reading on exactly what fresh reads serve, across segments', async () => {
    const log = await openLog({ 'segment.bytes': String(batchBytes * 7) });
    await fill(log, 60, 'v-');
    const steps = await consume(log, 0n);
    expect(steps.length).toBeGreaterThanOrEqual(20);
    const values = steps.flatMap((s) => decodeRecords(Buffer.from(s.result, 'hex')).map((r) => r.value));
    expect(new Set(values).size).toBe(600);
    expect(steps.map((s) => s.result)).toEqual(await freshly(steps));
  });

  it('costs a consumer reading on one file read per fetch: no index lookup and header read first', async () => {
    // An index entry for every batch: without the read ends, most fetches would first read the
    // header of the batch the index names, to step over it.
    const log = await openLog({ 'index.interval.bytes': String(batchBytes) });
    await fill(log, 60, 'i-');
    const before = reads();
    const steps = await consume(log, 0n);
    expect(steps.length).toBe(20);
    expect(reads() - before).toBe(steps.length);
    expect(steps.map((s) => s.result)).toEqual(await freshly(steps));
  });

  it('with a different limit on every read, and with or without the first batch regardless', async () => {
    const log = await openLog();
    await fill(log, 80, 'l-');
    // Limits in batches: the same, smaller, larger, below one batch, odd sizes.
    const sizes = [3, 3, 2, 3, 4.5, 1, 0.5, 3, 2.5, 3, 1.2];
    const limits = (n: number): number => Math.floor(batchBytes * sizes[n % sizes.length]!);
    const steps = await consume(log, 0n, {}, limits);
    expect(steps.map((s) => s.result)).toEqual(await freshly(steps));
    const strict = await consume(await reopen(), 0n, { minOneBatch: false }, limits);
    expect(strict.map((s) => s.result)).toEqual(await freshly(strict, { minOneBatch: false }));
  });

  it('serves several consumers reading one partition at once, each what fresh reads serve', async () => {
    const log = await openLog();
    await fill(log, 90, 'm-');
    const consumers = [0n, 300n, 600n, 150n, 0n].map((offset) => ({ offset: offset as bigint | null, steps: [] as Step[] }));
    for (let active = consumers; active.length > 0; active = active.filter((c) => c.offset !== null && c.offset < log.logEndOffset)) {
      for (const c of active) {
        const { step, next } = await readStep(log, c.offset!, limit, {});
        c.steps.push(step);
        c.offset = next;
      }
    }
    const all = consumers.flatMap((c) => c.steps);
    expect(all.map((s) => s.result)).toEqual(await freshly(all));
  });

  it('after a truncation and a rewrite, a consumer reading on gets the new records', async () => {
    const log = await openLog();
    for (let round = 0; round < 5; round++) {
      await fill(log, 12, `o${round}`);
      const start = log.logEndOffset - 120n;
      const first = await log.read(start, limit);
      expect(batchBaseOffsets(first.records)).toEqual([start, start + 10n, start + 20n]);
      first.release?.();
      // The read ended before start+30. Cut the log at a batch boundary before that (the batch
      // holding start+25 goes) and write the offsets again in smaller batches.
      await log.truncateTo(start + 25n);
      expect(log.logEndOffset).toBe(start + 20n);
      for (let i = 0; i < 10; i++) await log.append(batchOf(engine, `new${round}-${i}`, 5));
      const read = await log.read(start + 30n, limit);
      const records = decodeRecords(read.records);
      read.release?.();
      expect(records[0]!.offset).toBe(start + 30n);
      expect(records[0]!.value).toBe(`new${round}-2-0`);
      expect(records.every((r) => r.value!.startsWith(`new${round}-`))).toBe(true);
    }
  });

  it('answers OFFSET_OUT_OF_RANGE where retention deleted the records, and reads on from the log start', async () => {
    const log = await openLog({ 'segment.bytes': String(batchBytes * 3), 'retention.bytes': String(batchBytes * 6) });
    await fill(log, 30, 'r-');
    const first = await log.read(0n, limit);
    first.release?.();
    expect(await log.deleteOldSegments()).toBeGreaterThan(0);
    await expect(log.read(30n, limit)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    const steps = await consume(log, log.logStartOffset);
    expect(steps.map((s) => s.result)).toEqual(await freshly(steps));
  });

  it('reports a batch damaged on disk to a consumer reading on as to a fresh read', async () => {
    const log = await openLog();
    await fill(log, 20, 'c-');
    await log.flush();
    // Damage the fifth batch's last byte (its records, covered by the CRC).
    const file = path.join(dir, `${tp.topic}-${tp.partition}`, '00000000000000000000.log');
    const at = batchBytes * 5 - 1;
    const handle = await fs.open(file, 'r+');
    await handle.write(Buffer.from([0xff ^ (await fs.readFile(file))[at]!]), 0, 1, at);
    await handle.close();
    const steps = await consume(log, 0n);
    expect(steps.at(-1)!.result).toBe('error CORRUPT_MESSAGE');
    expect(steps.map((s) => s.result)).toEqual(await freshly(steps));
  });
});
