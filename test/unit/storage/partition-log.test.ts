// PartitionLog through its public API, over both engines: offsets, reads as a consumer sees them,
// rolls, lookup by time, truncation, durable mode and runtime config changes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../ts/clock.js';
import { GodelError } from '../../../ts/errors.js';
import { LogManager } from '../../../ts/storage/log-manager.js';
import type { PartitionLog } from '../../../ts/storage/partition-log.js';
import { buildRecordBatch } from '../../../ts/storage/record-batch-builder.js';
import { testEngines } from '../../helpers/engines.js';
import { batchBaseOffsets, batchOf, decodeRecords, tempDir } from '../../helpers/storage.js';

const tp = { topic: 'orders', partition: 0 };

describe.each(testEngines)('PartitionLog: $name engine', ({ engine }) => {
  let dir: string;
  let manager: LogManager | undefined;
  let clock: ManualClock;

  beforeEach(async () => {
    dir = await tempDir(`plog-${engine.name}`);
    clock = new ManualClock();
  });
  afterEach(async () => {
    await manager?.shutdown();
    manager = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function openLog(overrides: Record<string, string> = {}, broker: Record<string, string> = {}): Promise<PartitionLog> {
    manager = await LogManager.open({ dataDir: dir, engine, clock, brokerConfig: broker });
    return manager.getOrCreateLog(tp, overrides);
  }

  async function reopen(overrides: Record<string, string> = {}): Promise<PartitionLog> {
    await manager!.shutdown();
    manager = await LogManager.open({ dataDir: dir, engine, clock, topicConfig: () => overrides });
    return manager.getLog(tp)!;
  }

  it('assigns contiguous offsets in append order, across concurrent appends', async () => {
    const log = await openLog();
    const infos = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(batchOf(engine, `b${i}`, 1 + (i % 3)))));
    let expected = 0n;
    infos.forEach((info, i) => {
      expect(info.baseOffset).toBe(expected);
      expect(info.lastOffset).toBe(expected + BigInt(i % 3));
      expected = info.lastOffset + 1n;
    });
    expect(log.logEndOffset).toBe(expected);
    const all = decodeRecords((await log.read(0n, 1 << 20)).records);
    expect(all.map((r) => r.offset)).toEqual(Array.from({ length: Number(expected) }, (_, i) => BigInt(i)));
    expect(all[0]!.value).toBe('b0-0');
    expect(all.at(-1)!.value).toBe(`b49-${49 % 3}`);
  });

  it('reads whole batches starting with the one that contains the fetch offset', async () => {
    const log = await openLog();
    await log.append(batchOf(engine, 'x', 5)); // 0-4
    await log.append(batchOf(engine, 'y', 5)); // 5-9
    const read = await log.read(7n, 1 << 20);
    expect(batchBaseOffsets(read.records)).toEqual([5n]);
    expect(decodeRecords(read.records).map((r) => r.value)).toEqual(['y-0', 'y-1', 'y-2', 'y-3', 'y-4']);
    expect(read.logEndOffset).toBe(10n);
  });

  it('honours maxBytes but always returns at least one batch', async () => {
    const log = await openLog();
    const big = buildRecordBatch(engine, { records: [{ value: Buffer.alloc(10_000, 1) }] });
    await log.append(big);
    for (let i = 0; i < 10; i++) await log.append(batchOf(engine, `s${i}`));
    const one = await log.read(0n, 10);
    expect(batchBaseOffsets(one.records)).toEqual([0n]);
    expect(one.records.length).toBe(big.length);
    const small = batchOf(engine, 's0').length;
    const some = await log.read(1n, small * 3 + 5);
    expect(batchBaseOffsets(some.records)).toEqual([1n, 2n, 3n]);
  });

  it('returns nothing at the log end and OFFSET_OUT_OF_RANGE outside the log', async () => {
    const log = await openLog();
    await log.append(batchOf(engine, 'a', 3));
    expect((await log.read(3n, 1000)).records.length).toBe(0);
    await expect(log.read(4n, 1000)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await expect(log.read(-1n, 1000)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
  });

  it('refuses a bad batch without writing anything, and keeps serving', async () => {
    const log = await openLog();
    await log.append(batchOf(engine, 'ok'));
    const bad = batchOf(engine, 'bad');
    bad[bad.length - 1]! ^= 1;
    const good = batchOf(engine, 'good');
    // One bad batch among several refuses the whole append.
    await expect(log.append(Buffer.concat([good, bad]))).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    const tooBig = buildRecordBatch(engine, { records: [{ value: Buffer.alloc(3000) }] });
    manager!.getLog(tp)!.updateConfig(manager!.configFor({ 'max.message.bytes': '2000' }));
    await expect(log.append(tooBig)).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect(log.logEndOffset).toBe(1n);
    const info = await log.append(batchOf(engine, 'after'));
    expect(info.baseOffset).toBe(1n);
    expect(decodeRecords((await log.read(0n, 1 << 20)).records).map((r) => r.value)).toEqual(['ok-0', 'after-0']);
  });

  it('rolls segments by segment.bytes and reads across them', async () => {
    const log = await openLog({ 'segment.bytes': '2000' });
    for (let i = 0; i < 60; i++) await log.append(batchOf(engine, `r${i}`, 2));
    expect(log.segmentCount).toBeGreaterThanOrEqual(3);
    const bases = log.segmentBaseOffsets();
    const files = await fs.readdir(log.dir);
    for (const base of bases) {
      const name = base.toString().padStart(20, '0');
      expect(files).toContain(`${name}.log`);
      expect(files).toContain(`${name}.index`);
      expect(files).toContain(`${name}.timeindex`);
    }
    // Every segment is at most segment.bytes.
    for (const base of bases) {
      const stat = await fs.stat(path.join(log.dir, `${base.toString().padStart(20, '0')}.log`));
      expect(stat.size).toBeLessThanOrEqual(2000);
    }
    let offset = 0n;
    const values: string[] = [];
    while (offset < log.logEndOffset) {
      const records = decodeRecords((await log.read(offset, 700)).records);
      values.push(...records.map((r) => r.value!));
      offset = records.at(-1)!.offset + 1n;
    }
    expect(values.length).toBe(120);
    expect(values[119]).toBe('r59-1');
  });

  it('rolls by segment.ms using the clock', async () => {
    const log = await openLog({ 'segment.ms': '60000' });
    await log.append(batchOf(engine, 'a', 1, { baseTimestamp: BigInt(clock.nowMs()) }));
    clock.advance(30_000);
    await log.append(batchOf(engine, 'b', 1, { baseTimestamp: BigInt(clock.nowMs()) }));
    expect(log.segmentCount).toBe(1);
    clock.advance(31_000);
    await log.append(batchOf(engine, 'c', 1, { baseTimestamp: BigInt(clock.nowMs()) }));
    expect(log.segmentBaseOffsets()).toEqual([0n, 2n]);
  });

  it('uses sparse indexes: lookups land on the right batch with many entries', async () => {
    const log = await openLog({ 'index.interval.bytes': '200' });
    for (let i = 0; i < 300; i++) await log.append(batchOf(engine, `i${i}`, 3));
    const segment = log.activeSegment;
    expect(segment.offsetIndex.entries).toBeGreaterThan(50);
    for (const target of [0n, 1n, 299n, 300n, 450n, 897n, 899n]) {
      const read = await log.read(target, 1);
      const first = decodeRecords(read.records);
      expect(first[0]!.offset <= target && target <= first.at(-1)!.offset, `offset ${target}`).toBe(true);
    }
  });

  it('finds offsets by timestamp, and the max timestamp', async () => {
    const log = await openLog({ 'index.interval.bytes': '100', 'segment.bytes': '3000' });
    const t0 = 1_000_000n;
    for (let i = 0; i < 40; i++) {
      await log.append(buildRecordBatch(engine, {
        baseTimestamp: t0 + BigInt(i * 100),
        records: [{ value: Buffer.from(`a${i}`), timestamp: t0 + BigInt(i * 100) }, { value: Buffer.from(`b${i}`), timestamp: t0 + BigInt(i * 100 + 50) }],
      }));
    }
    expect(log.segmentCount).toBeGreaterThan(1);
    expect(await log.offsetForTimestamp(0n)).toEqual({ offset: 0n, timestamp: t0 });
    expect(await log.offsetForTimestamp(t0 + 1000n)).toEqual({ offset: 20n, timestamp: t0 + 1000n });
    // Inside a batch: the second record of batch 10.
    expect(await log.offsetForTimestamp(t0 + 1020n)).toEqual({ offset: 21n, timestamp: t0 + 1050n });
    expect(await log.offsetForTimestamp(t0 + 100_000n)).toBeNull();
    expect(log.maxTimestampOffset()).toEqual({ offset: 79n, timestamp: t0 + 3950n });
  });

  it('LogAppendTime stamps the broker time', async () => {
    const log = await openLog({ 'message.timestamp.type': 'LogAppendTime' });
    const info = await log.append(batchOf(engine, 'x', 2, { baseTimestamp: 5n }));
    expect(info.logAppendTimeMs).toBe(clock.nowMs());
    const read = await log.read(0n, 1000);
    expect(read.records.readBigInt64BE(35)).toBe(BigInt(clock.nowMs()));
    expect(await log.offsetForTimestamp(BigInt(clock.nowMs()))).toEqual({ offset: 0n, timestamp: BigInt(clock.nowMs()) });
  });

  it('truncates to an offset, across segments, and appends from there', async () => {
    const log = await openLog({ 'segment.bytes': '1500' });
    for (let i = 0; i < 40; i++) await log.append(batchOf(engine, `t${i}`, 2));
    const segmentsBefore = log.segmentCount;
    await log.truncateTo(30n);
    expect(log.logEndOffset).toBe(30n);
    expect(log.segmentCount).toBeLessThan(segmentsBefore);
    const info = await log.append(batchOf(engine, 'new'));
    expect(info.baseOffset).toBe(30n);
    const values = decodeRecords((await log.read(28n, 1 << 20)).records).map((r) => `${r.offset}:${r.value}`);
    expect(values).toEqual(['28:t14-0', '29:t14-1', '30:new-0']);
    const reopened = await reopen({ 'segment.bytes': '1500' });
    expect(reopened.logEndOffset).toBe(31n);
  });

  it('durable mode acknowledges after fdatasync and groups concurrent appends into few syncs', async () => {
    const log = await openLog({ 'flush.messages': '1' });
    const before = log.activeSegment.log.syncCount;
    const infos = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(batchOf(engine, `d${i}`))));
    expect(infos.at(-1)!.lastOffset).toBe(199n);
    const syncs = log.activeSegment.log.syncCount - before;
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThan(200);
    expect(log.recoveryPoint).toBe(200n);
  });

  it('without durable mode, appends do not sync; flush() does and moves the recovery point', async () => {
    const log = await openLog();
    const before = log.activeSegment.log.syncCount;
    for (let i = 0; i < 20; i++) await log.append(batchOf(engine, `n${i}`));
    expect(log.activeSegment.log.syncCount).toBe(before);
    expect(log.recoveryPoint).toBe(0n);
    await log.flush();
    expect(log.activeSegment.log.syncCount).toBeGreaterThan(before);
    expect(log.recoveryPoint).toBe(20n);
  });

  it('flush.ms makes a flush due on the clock', async () => {
    const log = await openLog({ 'flush.ms': '1000' });
    await log.append(batchOf(engine, 'f'));
    expect(log.flushDue()).toBe(false);
    clock.advance(1000);
    expect(log.flushDue()).toBe(true);
    await manager!.flushDueLogs();
    expect(log.recoveryPoint).toBe(1n);
    expect(log.flushDue()).toBe(false);
  });

  it('keeps everything across a clean restart, and appends continue', async () => {
    let log = await openLog({ 'segment.bytes': '1000' });
    for (let i = 0; i < 30; i++) await log.append(batchOf(engine, `c${i}`, 2));
    log = await reopen({ 'segment.bytes': '1000' });
    expect(manager!.hadCleanShutdown).toBe(true);
    expect(log.logEndOffset).toBe(60n);
    expect((await log.append(batchOf(engine, 'more'))).baseOffset).toBe(60n);
    const values = decodeRecords((await log.read(58n, 1 << 20)).records).map((r) => r.value);
    expect(values).toEqual(['c29-0', 'c29-1', 'more-0']);
  });

  it('refuses appends after close with CLOSED', async () => {
    const log = await openLog();
    await manager!.shutdown();
    manager = undefined;
    await expect(log.append(batchOf(engine, 'late'))).rejects.toBeInstanceOf(GodelError);
    await expect(log.append(batchOf(engine, 'late'))).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
