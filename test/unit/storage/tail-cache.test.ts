// The tail cache: fetches at the log end are answered from memory with exactly the bytes the log
// holds, the cache fills only while somebody reads the tail, it forgets what roll and truncation
// change, and a chunk goes back to the pool only when no response references it any more.
import fs from 'node:fs/promises';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../ts/clock.js';
import { TAIL_CACHE_CHUNK_BYTES, TAIL_CACHE_IDLE_MS } from '../../../ts/limits.js';
import { LogManager } from '../../../ts/storage/log-manager.js';
import type { PartitionLog } from '../../../ts/storage/partition-log.js';
import { readBufferPoolIdleBytes } from '../../../ts/storage/read-buffer-pool.js';
import { baseOffsetOf, batchSize } from '../../../ts/storage/record-batch.js';
import { buildRecordBatch } from '../../../ts/storage/record-batch-builder.js';
import { TailCache, tailCacheBytes } from '../../../ts/storage/tail-cache.js';
import { testEngines } from '../../helpers/engines.js';
import { batchBaseOffsets, batchOf, decodeRecords, tempDir } from '../../helpers/storage.js';

const tp = { topic: 'tail', partition: 0 };

describe.each(testEngines)('tail cache in PartitionLog: $name engine', ({ engine }) => {
  let dir: string;
  let manager: LogManager | undefined;
  let clock: ManualClock;

  beforeEach(async () => {
    dir = await tempDir(`tail-${engine.name}`);
    clock = new ManualClock();
  });
  afterEach(async () => {
    await manager?.shutdown();
    manager = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function openLog(overrides: Record<string, string> = {}): Promise<PartitionLog> {
    manager = await LogManager.open({ dataDir: dir, engine, clock });
    return manager.getOrCreateLog(tp, overrides);
  }

  /** The log's batches as stored on disk, by base offset (read with the cache out of the way). */
  async function diskBatches(log: PartitionLog): Promise<Map<bigint, Buffer>> {
    const out = new Map<bigint, Buffer>();
    for (const base of log.segmentBaseOffsets()) {
      const file = await fs.readFile(`${log.dir}/${base.toString().padStart(20, '0')}.log`);
      for (let pos = 0; pos < file.length; pos += batchSize(file, pos)) out.set(baseOffsetOf(file, pos), file.subarray(pos, pos + batchSize(file, pos)));
    }
    return out;
  }

  it('answers a fetch at the tail from memory, with the bytes the segment holds', async () => {
    const log = await openLog();
    const before = tailCacheBytes();
    expect((await log.read(0n, 1 << 20)).records.length).toBe(0); // a consumer waiting at the end
    await log.append(batchOf(engine, 'a', 3)); // 0-2
    await log.append(batchOf(engine, 'b', 2)); // 3-4
    expect(tailCacheBytes()).toBeGreaterThan(before);
    const read = await log.read(3n, 1 << 20);
    expect(batchBaseOffsets(read.records)).toEqual([3n]);
    expect(decodeRecords(read.records).map((r) => r.value)).toEqual(['b-0', 'b-1']);
    expect(read.records.equals((await diskBatches(log)).get(3n)!)).toBe(true);
    read.release?.();
  });

  it('does not fill while nobody reads the tail', async () => {
    const log = await openLog();
    const before = tailCacheBytes();
    await log.append(batchOf(engine, 'a', 3));
    expect(tailCacheBytes()).toBe(before);
    await log.read(3n, 1 << 20);
    await log.append(batchOf(engine, 'b', 3));
    expect(tailCacheBytes()).toBeGreaterThan(before);
    clock.advance(TAIL_CACHE_IDLE_MS + 1);
    await log.append(batchOf(engine, 'c', 3));
    expect(tailCacheBytes()).toBe(before);
  });

  it('forgets truncated batches: a fetch after truncation sees the new ones', async () => {
    const log = await openLog();
    await log.read(0n, 1 << 20);
    for (let i = 0; i < 6; i++) await log.append(batchOf(engine, `old${i}`)); // 0-5
    await log.truncateTo(3n);
    await log.read(3n, 1 << 20);
    for (let i = 3; i < 6; i++) await log.append(batchOf(engine, `new${i}`));
    const read = await log.read(4n, 1 << 20);
    expect(decodeRecords(read.records).map((r) => r.value)).toEqual(['new4-0', 'new5-0']);
    read.release?.();
  });

  it('serves only the active segment: after a roll the older batches come from disk', async () => {
    const log = await openLog({ 'segment.bytes': '1024' });
    await log.read(0n, 1 << 20);
    for (let i = 0; i < 40; i++) await log.append(batchOf(engine, `r${i}`));
    expect(log.segmentCount).toBeGreaterThan(2);
    const disk = await diskBatches(log);
    for (let offset = 0n; offset < 40n; offset++) {
      const read = await log.read(offset, 1 << 20);
      expect(read.records.subarray(0, disk.get(offset)!.length).equals(disk.get(offset)!)).toBe(true);
      read.release?.();
    }
  });

  it('returns whole batches identical to the log for any appends and fetch offsets', async () => {
    // Now and then a batch larger than a chunk (not cached: the cache starts again after it).
    const bytes = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 20_000 }) }, { weight: 1, arbitrary: fc.constant(TAIL_CACHE_CHUNK_BYTES) });
    const batch = fc.record({ count: fc.integer({ min: 1, max: 20 }), bytes });
    const step = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), batches: fc.array(batch, { minLength: 1, maxLength: 3 }) }),
      // Mostly near the tail, where the cache answers; sometimes anywhere.
      fc.record({ kind: fc.constant('read' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), nearTail: fc.boolean(), maxBytes: fc.integer({ min: 1, max: 1 << 20 }) }),
    );
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
      await manager?.shutdown();
      await fs.rm(dir, { recursive: true, force: true });
      const log = await openLog({ 'segment.bytes': String(1 << 20) });
      await log.read(0n, 1); // a tail reader from the start
      const appended: Buffer[] = [];
      for (const s of steps) {
        if (s.kind === 'append') {
          // One append of several batches back to back (as a produce request may carry).
          const parts = s.batches.map((b, i) => buildRecordBatch(engine, { records: Array.from({ length: b.count }, (_, k) => ({ value: Buffer.alloc(Math.ceil(b.bytes / b.count), (i + k) & 0xff) })) }));
          const records = Buffer.concat(parts);
          await log.append(records);
          for (let pos = 0; pos < records.length; pos += batchSize(records, pos)) appended.push(records.subarray(pos, pos + batchSize(records, pos)));
          continue;
        }
        const end = log.logEndOffset;
        if (end === 0n) continue;
        const span = s.nearTail ? Math.min(Number(end), 40) : Number(end);
        const offset = end - 1n - BigInt(Math.min(span - 1, Math.floor(s.at * span)));
        const read = await log.read(offset, s.maxBytes);
        // Whole batches, from the one holding the offset, each as it was appended (and stored).
        let k = appended.findIndex((b) => baseOffsetOf(b, 0) + BigInt(b.readInt32BE(23)) >= offset);
        let pos = 0;
        expect(read.records.length).toBeGreaterThan(0);
        while (pos < read.records.length) {
          const expected = appended[k++]!;
          expect(read.records.subarray(pos, pos + expected.length).equals(expected)).toBe(true);
          pos += expected.length;
        }
        read.release?.();
      }
      const disk = await diskBatches(log);
      for (const b of appended) expect(disk.get(baseOffsetOf(b, 0))!.equals(b)).toBe(true);
    }), { numRuns: 25 });
  });
});

describe('TailCache chunks', () => {
  it('go back to the pool only once evicted and no longer referenced', () => {
    const cache = new TailCache(() => 0);
    cache.noteTailReader();
    const batch = buildRecordBatch(testEngines[0]!.engine, { records: [{ value: Buffer.alloc(100_000, 7) }] });
    let offset = 0n;
    const add = (): void => {
      const copy = Buffer.from(batch);
      copy.writeBigInt64BE(offset, 0);
      cache.append([copy], copy.length, offset, offset + 1n);
      offset += 1n;
    };
    add();
    const held = cache.read(0n, 1 << 20, 1n << 62n, true)!;
    const view = Buffer.from(held.records);
    const idle = readBufferPoolIdleBytes();
    cache.clear();
    expect(readBufferPoolIdleBytes()).toBe(idle); // still referenced: not given back
    for (let i = 0; i < 8; i++) add(); // would reuse a given-back chunk
    expect(held.records.equals(view)).toBe(true);
    // The pool is the process's: other tests may have left buffers in it, which add() takes.
    const beforeRelease = readBufferPoolIdleBytes();
    held.release();
    held.release(); // twice is harmless
    expect(readBufferPoolIdleBytes()).toBe(beforeRelease + TAIL_CACHE_CHUNK_BYTES);
    cache.clear();
  });
});
