// Retention by time and size (cleanup.policy=delete) with a controllable clock: the plan as a pure
// function, and whole segments deleted from a real log with the log start offset moving forward.
import fs from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../ts/clock.js';
import { LogManager } from '../../../ts/storage/log-manager.js';
import { planRetention, type SegmentSummary } from '../../../ts/storage/retention.js';
import { testEngines } from '../../helpers/engines.js';
import { batchOf, decodeRecords, tempDir } from '../../helpers/storage.js';

const seg = (base: number, size: number, ts: number): SegmentSummary => ({
  baseOffset: BigInt(base), nextOffset: BigInt(base + 10), sizeInBytes: size, maxTimestampMs: ts,
});

describe('planRetention', () => {
  const segments = [seg(0, 100, 1000), seg(10, 100, 2000), seg(20, 100, 3000), seg(30, 100, 4000)];
  const base = { retentionMs: Infinity, retentionBytes: Infinity, logStartOffset: 0n, nowMs: 10_000 };

  it('deletes nothing with infinite retention', () => {
    expect(planRetention(segments, base)).toEqual({ count: 0, reason: null });
  });

  it('deletes segments older than retention.ms, oldest first, never the active one', () => {
    expect(planRetention(segments, { ...base, retentionMs: 7500 })).toEqual({ count: 2, reason: 'retention.ms' });
    expect(planRetention(segments, { ...base, retentionMs: 1 })).toEqual({ count: 3, reason: 'retention.ms' });
  });

  it('stops at the first segment that is not expired (a prefix only)', () => {
    const mixed = [seg(0, 100, 9000), seg(10, 100, 1000), seg(20, 100, 1000)];
    expect(planRetention(mixed, { ...base, retentionMs: 5000 }).count).toBe(0);
  });

  it('keeps segments without timestamps', () => {
    expect(planRetention([seg(0, 100, -1), seg(10, 100, 1000)], { ...base, retentionMs: 1 }).count).toBe(0);
  });

  it('deletes oldest segments while the log stays at or above retention.bytes', () => {
    expect(planRetention(segments, { ...base, retentionBytes: 250 })).toEqual({ count: 1, reason: 'retention.bytes' });
    expect(planRetention(segments, { ...base, retentionBytes: 200 })).toEqual({ count: 2, reason: 'retention.bytes' });
    expect(planRetention(segments, { ...base, retentionBytes: 0 })).toEqual({ count: 3, reason: 'retention.bytes' });
  });

  it('deletes segments wholly below the log start offset', () => {
    expect(planRetention(segments, { ...base, logStartOffset: 25n })).toEqual({ count: 2, reason: 'log-start-offset' });
    expect(planRetention(segments, { ...base, logStartOffset: 19n }).count).toBe(1);
  });
});

describe.each(testEngines)('retention on a log: $name engine', ({ engine }) => {
  let dir: string;
  let manager: LogManager;
  let clock: ManualClock;

  beforeEach(async () => {
    dir = await tempDir(`retention-${engine.name}`);
    clock = new ManualClock(1_000_000_000);
    manager = await LogManager.open({ dataDir: dir, engine, clock });
  });
  afterEach(async () => {
    await manager.shutdown();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function fill(overrides: Record<string, string>, batches: number, stepMs: number) {
    const log = await manager.getOrCreateLog({ topic: 'events', partition: 0 }, { 'segment.bytes': '1000', 'file.delete.delay.ms': '0', ...overrides });
    for (let i = 0; i < batches; i++) {
      await log.append(batchOf(engine, `e${i}`, 2, { baseTimestamp: BigInt(clock.nowMs()) }));
      clock.advance(stepMs);
    }
    return log;
  }

  it('deletes whole segments past retention.ms and moves the log start offset', async () => {
    const log = await fill({ 'retention.ms': '60000' }, 40, 5_000);
    const segmentsBefore = log.segmentCount;
    expect(segmentsBefore).toBeGreaterThan(3);
    // Batches were written 5 s apart over 200 s; those older than 60 s sit in the first segments.
    const deleted = await manager.runRetention();
    expect(deleted).toBeGreaterThan(0);
    expect(log.segmentCount).toBe(segmentsBefore - deleted);
    // Deletion stops at the first segment that still holds a record younger than retention.ms.
    const oldest = decodeRecords((await log.read(log.logStartOffset, 100_000)).records);
    expect(oldest.some((r) => clock.nowMs() - Number(r.timestamp) <= 60_000)).toBe(true);
    expect(log.logStartOffset).toBeGreaterThan(0n);
    const first = decodeRecords((await log.read(log.logStartOffset, 100_000)).records)[0]!;
    expect(first.offset).toBe(log.logStartOffset);
    // Everything from the log start on is still there, and reads below it fail.
    await expect(log.read(0n, 1000)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    const files = await fs.readdir(log.dir);
    expect(files.filter((f) => f.endsWith('.log')).length).toBe(log.segmentCount);
    expect(files.some((f) => f.endsWith('.deleted'))).toBe(false);
    // Far in the future every segment but the active one is gone.
    clock.advance(10 * 60_000);
    await manager.runRetention();
    expect(log.segmentCount).toBe(1);
    expect(log.logStartOffset).toBe(log.activeSegment.baseOffset);
  });

  it('deletes old segments over retention.bytes, keeping the newest data', async () => {
    const log = await fill({ 'retention.bytes': '2500' }, 60, 1);
    expect(log.size()).toBeGreaterThan(2500);
    const deleted = await manager.runRetention();
    expect(deleted).toBeGreaterThan(0);
    expect(log.size()).toBeLessThanOrEqual(2500 + 1000);
    const tail = decodeRecords((await log.read(log.logEndOffset - 2n, 100_000)).records);
    expect(tail.map((r) => r.value)).toEqual(['e59-0', 'e59-1']);
  });

  it('applies no time or size retention under cleanup.policy=compact', async () => {
    const log = await fill({ 'retention.ms': '1000', 'retention.bytes': '100', 'cleanup.policy': 'compact' }, 30, 5_000);
    expect(await manager.runRetention()).toBe(0);
    expect(log.logStartOffset).toBe(0n);
  });

  it('DeleteRecords-style log start advances, then retention removes the segments below it', async () => {
    const log = await fill({}, 40, 1);
    const bases = log.segmentBaseOffsets();
    log.advanceLogStartOffset(bases[2]! + 1n);
    await expect(log.read(bases[2]!, 1000)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect(await manager.runRetention()).toBe(2);
    expect(log.segmentBaseOffsets()[0]).toBe(bases[2]);
    expect(log.logStartOffset).toBe(bases[2]! + 1n);
  });

  it('keeps the log start offset across a restart', async () => {
    const log = await fill({ 'retention.ms': '1000' }, 30, 5_000);
    await manager.runRetention();
    const start = log.logStartOffset;
    expect(start).toBeGreaterThan(0n);
    await manager.shutdown();
    manager = await LogManager.open({ dataDir: dir, engine, clock });
    expect(manager.getLog({ topic: 'events', partition: 0 })!.logStartOffset).toBe(start);
  });
});
