// Log compaction over both engines, through the LogManager as the broker uses it: what a consumer
// reads after cleaning (the latest value per key, offsets preserved, reads across the gaps), the
// rules that decide what is cleaned and when (dirty ratio, min/max compaction lag, the active
// segment, delete.retention.ms for tombstones, compact,delete retention), the rewritten batches
// themselves (base offset, last offset delta, counts, CRC32C, gzip, producer fields), multi-pass
// cleaning with a small offset map, and keyless records refused on compacted topics.
import fs from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../ts/clock.js';
import { GodelError } from '../../../ts/errors.js';
import { buildLogConfig } from '../../../ts/storage/log-config.js';
import { LogManager } from '../../../ts/storage/log-manager.js';
import type { PartitionLog } from '../../../ts/storage/partition-log.js';
import {
  attributesOf,
  baseOffsetOf,
  baseSequenceOf,
  baseTimestampOf,
  batchSize,
  CompressionCodec,
  compressionCodecOf,
  DELETE_HORIZON_FLAG_MASK,
  lastOffsetDeltaOf,
  producerEpochOf,
  producerIdOf,
  recordsCountOf,
  RECORDS_OFFSET,
} from '../../../ts/storage/record-batch.js';
import { buildRecordBatch, type RecordInput } from '../../../ts/storage/record-batch-builder.js';
import { testEngines } from '../../helpers/engines.js';
import { checkedBatches, readAll, type DecodedRecord } from '../../helpers/records.js';
import { decodeRecords, tempDir } from '../../helpers/storage.js';

const tp = { topic: 'table', partition: 0 };
const DAY_MS = 24 * 60 * 60 * 1000;

/** The last record per key, in offset order: what a consumer of a compacted topic ends up with. */
function latestByKey(records: readonly DecodedRecord[]): Map<string | null, string | null> {
  const latest = new Map<string | null, string | null>();
  for (const r of records) {
    latest.delete(r.key);
    latest.set(r.key, r.value);
  }
  return latest;
}

/** Every batch of the log (reading from the log start to its end), with its raw bytes. */
async function allBatches(log: PartitionLog): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 1 << 20);
    if (records.length === 0) throw new Error(`nothing read at ${offset}`);
    for (const span of checkedBatches(records)) {
      out.push(records.subarray(span.position, span.position + span.size));
      offset = span.lastOffset + 1n;
    }
  }
  return out;
}

/** Decodes a batch of any codec the tests use (none, gzip). */
function decodeAny(batch: Buffer): DecodedRecord[] {
  if (compressionCodecOf(batch, 0) === CompressionCodec.None) return decodeRecords(batch);
  const records = gunzipSync(batch.subarray(RECORDS_OFFSET));
  const plain = Buffer.concat([batch.subarray(0, RECORDS_OFFSET), records]);
  plain.writeInt16BE(attributesOf(batch, 0) & ~0x07, 21);
  plain.writeInt32BE(plain.length - 12, 8);
  return decodeRecords(plain);
}

describe.each(testEngines)('log cleaner: $name engine', ({ engine }) => {
  let dir: string;
  let manager: LogManager | undefined;
  let clock: ManualClock;

  beforeEach(async () => {
    dir = await tempDir(`cleaner-${engine.name}`);
    clock = new ManualClock();
  });
  afterEach(async () => {
    await manager?.shutdown();
    manager = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Small segments so that a few dozen records make several; the cleaner runs only when asked. */
  const COMPACT = { 'cleanup.policy': 'compact', 'segment.bytes': '1024', 'file.delete.delay.ms': '0', 'min.cleanable.dirty.ratio': '0.01' };

  async function openLog(overrides: Record<string, string> = {}, broker: Record<string, string> = {}): Promise<PartitionLog> {
    manager = await LogManager.open({ dataDir: dir, engine, clock, brokerConfig: broker });
    return manager.getOrCreateLog(tp, { ...COMPACT, ...overrides });
  }

  async function reopen(overrides: Record<string, string> = {}): Promise<PartitionLog> {
    await manager!.shutdown();
    manager = await LogManager.open({ dataDir: dir, engine, clock, topicConfig: () => ({ ...COMPACT, ...overrides }) });
    return manager.getLog(tp)!;
  }

  function put(log: PartitionLog, key: string, value: string | null, extra: Partial<Parameters<typeof buildRecordBatch>[1]> = {}) {
    return log.append(buildRecordBatch(engine, {
      records: [{ key: Buffer.from(key), value: value === null ? null : Buffer.from(value) }],
      baseTimestamp: BigInt(clock.nowMs()),
      ...extra,
    }));
  }

  /** `rounds` updates of keys k0..k{keys-1}, values `${tag}${round}`, one record per batch. */
  async function updates(log: PartitionLog, keys: number, rounds: number, tag = 'v'): Promise<Map<string, string>> {
    const expected = new Map<string, string>();
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < keys; k++) {
        await put(log, `k${k}`, `${tag}${round}`);
        expected.set(`k${k}`, `${tag}${round}`);
      }
    }
    return expected;
  }

  /** Appends filler records (keys f*) until the active segment rolls, so everything before is cleanable. */
  async function roll(log: PartitionLog, tag = 'fill'): Promise<void> {
    const segments = log.segmentCount;
    for (let i = 0; log.segmentCount === segments; i++) await put(log, `f-${tag}-${i}`, 'x');
  }

  it('keeps exactly the latest value of every key, at its original offset', async () => {
    const log = await openLog();
    const expected = await updates(log, 10, 20);
    await roll(log);
    const before = await readAll(log);
    const activeBase = log.activeSegment.baseOffset;
    const [stats] = await manager!.runCleanerOnce();
    expect(stats).toBeDefined();
    expect(stats!.endOffset).toBe(activeBase);
    expect(stats!.recordsRead - stats!.recordsWritten).toBeGreaterThan(150);
    expect(stats!.bytesWritten).toBeLessThan(stats!.bytesRead / 4);
    const after = await readAll(log);
    // Every record left is one that was there, at the same offset; offsets only grow.
    const original = new Map(before.map((r) => [r.offset, r]));
    for (const r of after) expect(original.get(r.offset)).toEqual(r);
    for (let i = 1; i < after.length; i++) expect(after[i]!.offset).toBeGreaterThan(after[i - 1]!.offset);
    // One record per key below the active segment, and the latest one.
    const cleaned = after.filter((r) => r.offset < activeBase);
    expect(cleaned.length).toBe(new Set(cleaned.map((r) => r.key)).size);
    expect(latestByKey(after)).toEqual(latestByKey(before));
    for (const [key, value] of expected) expect(latestByKey(after).get(key)).toBe(value);
    expect(log.logEndOffset).toBe(before.at(-1)!.offset + 1n);
  });

  it('never touches the active segment', async () => {
    const log = await openLog({ 'segment.bytes': '100000' });
    await updates(log, 5, 10);
    expect(log.segmentCount).toBe(1);
    expect(await manager!.runCleanerOnce()).toEqual([]);
    expect((await readAll(log)).length).toBe(50);
    // Once it rolls, the segment is cleaned and the new active one keeps every record.
    log.updateConfig(buildLogConfig({ ...COMPACT, 'segment.bytes': '1024' }));
    await roll(log);
    await updates(log, 5, 2, 'w');
    const activeBase = log.activeSegment.baseOffset;
    const activeBefore = (await readAll(log)).filter((r) => r.offset >= activeBase);
    expect(await manager!.runCleanerOnce()).toHaveLength(1);
    expect((await readAll(log)).filter((r) => r.offset >= activeBase)).toEqual(activeBefore);
  });

  it('keeps offsets readable across the gaps: a fetch at a removed offset gets the next batch', async () => {
    const log = await openLog();
    await updates(log, 4, 15);
    await roll(log);
    const latest = latestByKey(await readAll(log));
    await manager!.runCleanerOnce();
    const kept = await readAll(log);
    // Cleaning left segments whose only batch is emptied (the last batch of each cleaned group is
    // kept): a fetch at any offset still returns the next record kept, in the same response, as
    // some clients (KafkaJS) never move past a response without one.
    expect((await allBatches(log)).map((b) => recordsCountOf(b, 0))).toContain(0);
    for (let offset = 0n; offset < log.logEndOffset; offset++) {
      const { records } = await log.read(offset, 1 << 20);
      const spans = checkedBatches(records);
      expect(spans[0]!.lastOffset, `the first batch of a read at ${offset} holds it`).toBeGreaterThanOrEqual(offset);
      const first = decodeRecords(records).find((r) => r.offset >= offset);
      expect(first, `the first record at or after ${offset}`).toEqual(kept.find((r) => r.offset >= offset));
    }
    expect(latestByKey(kept)).toEqual(latest);
  });

  it('rewrites batches as Kafka does: base offset kept, last offset delta kept, counts and CRC32C right', async () => {
    const log = await openLog({ 'segment.bytes': '4096' });
    // Batches of 5 records with keys a..e; later batches overwrite some keys.
    const batch = (round: number, keys: string[]): Buffer => buildRecordBatch(engine, {
      records: keys.map((k) => ({ key: Buffer.from(k), value: Buffer.from(`${k}${round}`) })),
      baseTimestamp: BigInt(clock.nowMs()),
    });
    await log.append(batch(0, ['a', 'b', 'c', 'd', 'e'])); // 0-4
    await log.append(batch(1, ['a', 'c'])); // 5-6
    await log.append(batch(2, ['x', 'e'])); // 7-8
    await roll(log);
    await manager!.runCleanerOnce();
    const batches = await allBatches(log);
    const first = batches.find((b) => baseOffsetOf(b, 0) === 0n)!;
    expect(first).toBeDefined();
    expect(lastOffsetDeltaOf(first, 0)).toBe(4);
    expect(recordsCountOf(first, 0)).toBe(2);
    expect(decodeRecords(first).map((r) => [r.offset, r.key, r.value])).toEqual([[1n, 'b', 'b0'], [3n, 'd', 'd0']]);
    const second = batches.find((b) => baseOffsetOf(b, 0) === 5n)!;
    expect(recordsCountOf(second, 0)).toBe(2); // kept whole: both are the latest
    const third = batches.find((b) => baseOffsetOf(b, 0) === 7n)!;
    expect(lastOffsetDeltaOf(third, 0)).toBe(1);
    expect(decodeRecords(third).map((r) => r.key)).toEqual(['x', 'e']);
    // checkedBatches (in allBatches) verified every batch's length, magic and CRC32C.
    for (const b of batches) expect(batchSize(b, 0)).toBe(b.length);
  });

  it('cleans gzip batches and writes them back gzip-compressed', async () => {
    const log = await openLog({ 'segment.bytes': '4096' });
    const gz = (round: number): Buffer => buildRecordBatch(engine, {
      records: ['a', 'b', 'c', `only${round}`].map((k) => ({ key: Buffer.from(k), value: Buffer.from(`${k}-${round}-${'z'.repeat(40)}`) })),
      baseTimestamp: BigInt(clock.nowMs()),
      compression: CompressionCodec.Gzip,
    });
    for (let round = 0; round < 6; round++) await log.append(gz(round));
    await roll(log);
    const before = (await allBatches(log)).flatMap(decodeAny);
    await manager!.runCleanerOnce();
    const batches = await allBatches(log);
    const gzipped = batches.filter((b) => baseOffsetOf(b, 0) < 24n);
    expect(gzipped.length).toBeGreaterThan(0);
    for (const b of gzipped) if (recordsCountOf(b, 0) > 0) expect(compressionCodecOf(b, 0)).toBe(CompressionCodec.Gzip);
    const after = batches.flatMap(decodeAny);
    expect(latestByKey(after)).toEqual(latestByKey(before));
    // a, b and c survive only from the last round; every `only<n>` key once.
    const cleaned = after.filter((r) => r.offset < 24n);
    expect(cleaned.filter((r) => ['a', 'b', 'c'].includes(r.key!)).map((r) => r.value!.split('-')[1])).toEqual(['5', '5', '5']);
    expect(cleaned.filter((r) => r.key!.startsWith('only'))).toHaveLength(6);
    const first = batches.find((b) => baseOffsetOf(b, 0) === 0n)!;
    expect(lastOffsetDeltaOf(first, 0)).toBe(3);
    expect(recordsCountOf(first, 0)).toBe(1);
  });

  it('keeps tombstones for delete.retention.ms after the cleaning that first kept them, then removes them', async () => {
    const log = await openLog({ 'delete.retention.ms': '60000' });
    await updates(log, 6, 5);
    await put(log, 'k2', null);
    await put(log, 'k4', null);
    await roll(log, 'a');
    const cleanedAt = clock.nowMs();
    await manager!.runCleanerOnce();
    let records = await readAll(log);
    expect(latestByKey(records).get('k2')).toBeNull();
    expect(records.filter((r) => r.key === 'k2')).toHaveLength(1);
    // The batch that kept the tombstone carries the delete horizon (Kafka 3.x, KIP-534).
    const tombstoneBatch = (await allBatches(log)).find((b) => decodeRecords(b).some((r) => r.key === 'k2'))!;
    expect(attributesOf(tombstoneBatch, 0) & DELETE_HORIZON_FLAG_MASK).not.toBe(0);
    expect(baseTimestampOf(tombstoneBatch, 0)).toBe(BigInt(cleanedAt + 60_000));
    // The record's own timestamp did not change.
    expect(decodeRecords(tombstoneBatch).find((r) => r.key === 'k2')!.timestamp).toBe(BigInt(cleanedAt));

    clock.advance(59_000);
    await updates(log, 2, 1, 'w');
    await roll(log, 'b');
    expect(await manager!.runCleanerOnce()).toHaveLength(1);
    records = await readAll(log);
    expect(records.filter((r) => r.key === 'k2').map((r) => r.value)).toEqual([null]);
    expect(records.filter((r) => r.key === 'k4').map((r) => r.value)).toEqual([null]);

    clock.advance(1_001);
    await updates(log, 2, 1, 'x');
    await roll(log, 'c');
    expect(await manager!.runCleanerOnce()).toHaveLength(1);
    records = await readAll(log);
    expect(records.filter((r) => r.key === 'k2' || r.key === 'k4')).toEqual([]);
    expect(latestByKey(records).get('k3')).toBe('v4');
    expect(latestByKey(records).get('k0')).toBe('x0');
  });

  it('a tombstone still in the dirty range is kept, and the value before it is gone', async () => {
    const log = await openLog({ 'delete.retention.ms': String(DAY_MS) });
    await put(log, 'gone', 'value');
    await updates(log, 3, 3);
    await put(log, 'gone', null);
    await roll(log);
    await manager!.runCleanerOnce();
    expect((await readAll(log)).filter((r) => r.key === 'gone').map((r) => r.value)).toEqual([null]);
  });

  it('honours min.compaction.lag.ms: segments with younger records wait', async () => {
    const log = await openLog({ 'min.compaction.lag.ms': '60000' });
    await updates(log, 4, 10);
    await roll(log, 'old');
    const oldEnd = log.activeSegment.baseOffset;
    expect(await manager!.runCleanerOnce()).toEqual([]);
    clock.advance(61_000);
    await updates(log, 4, 10, 'w');
    await roll(log, 'young');
    // Only the segments older than the lag are cleaned: the young ones keep every update.
    const [stats] = await manager!.runCleanerOnce();
    expect(stats!.endOffset).toBe(oldEnd);
    const records = await readAll(log);
    const young = records.filter((r) => r.offset >= oldEnd && r.key?.startsWith('k'));
    expect(young).toHaveLength(40);
    expect(records.filter((r) => r.offset < oldEnd && r.key?.startsWith('k')).length).toBe(4);
    clock.advance(61_000);
    await roll(log, 'later');
    const [next] = await manager!.runCleanerOnce();
    expect(next!.firstDirtyOffset).toBe(oldEnd);
    expect((await readAll(log)).filter((r) => r.key?.startsWith('k'))).toHaveLength(4);
  });

  it('honours min.cleanable.dirty.ratio, and max.compaction.lag.ms forces a cleaning below it', async () => {
    const log = await openLog({ 'min.cleanable.dirty.ratio': '0.9', 'max.compaction.lag.ms': '3600000', 'segment.bytes': '2048' });
    // Many distinct keys: the clean part stays large after the first cleaning.
    for (let i = 0; i < 120; i++) await put(log, `key-${i}`, `v${i}`);
    await roll(log);
    expect(await manager!.runCleanerOnce()).toHaveLength(1); // a log never cleaned is all dirty
    // A little dirt: well below the 0.9 ratio.
    await updates(log, 3, 2);
    await roll(log, 'b');
    expect(await manager!.runCleanerOnce()).toEqual([]);
    clock.advance(3_600_001);
    const [forced] = await manager!.runCleanerOnce();
    expect(forced).toBeDefined();
    expect((await readAll(log)).filter((r) => r.key === 'k1')).toHaveLength(1);
  });

  it('a compacted log also rolls its active segment after max.compaction.lag.ms', async () => {
    const log = await openLog({ 'segment.bytes': '100000', 'max.compaction.lag.ms': '60000' });
    await updates(log, 2, 3);
    expect(log.segmentCount).toBe(1);
    clock.advance(60_001);
    await put(log, 'k0', 'late');
    expect(log.segmentCount).toBe(2);
    expect(await manager!.runCleanerOnce()).toHaveLength(1);
    expect((await readAll(log)).map((r) => [r.key, r.value])).toEqual([['k0', 'v2'], ['k1', 'v2'], ['k0', 'late']]);
  });

  it('compact,delete: retention still deletes old segments, and cleaning goes on from the new log start', async () => {
    const log = await openLog({ 'cleanup.policy': 'compact,delete', 'retention.ms': '60000' });
    await updates(log, 5, 6);
    await roll(log, 'a');
    await manager!.runCleanerOnce();
    clock.advance(120_000);
    await updates(log, 5, 6, 'w');
    await roll(log, 'b');
    const deleted = await manager!.runRetention();
    expect(deleted).toBeGreaterThan(0);
    expect(log.logStartOffset).toBeGreaterThan(0n);
    // Everything written before the clock moved is gone, by retention.
    const records = await readAll(log);
    expect(records.every((r) => r.value !== null && !r.value.startsWith('v'))).toBe(true);
    const [stats] = await manager!.runCleanerOnce();
    expect(stats!.firstDirtyOffset).toBe(log.logStartOffset);
    const after = await readAll(log);
    expect(after.filter((r) => r.key?.startsWith('k')).map((r) => r.value)).toEqual(['w5', 'w5', 'w5', 'w5', 'w5']);
  });

  it('compact,delete: retention running during a cleaning does not stop the log from being cleaned', async () => {
    const log = await openLog({ 'cleanup.policy': 'compact,delete', 'retention.ms': '60000', 'segment.bytes': '4096' });
    await updates(log, 20, 20);
    await roll(log, 'a');
    clock.advance(120_000);
    await updates(log, 20, 2, 'w');
    await roll(log, 'b');
    // Retention deletes (with no delay) segments the cleaner may be reading or about to swap.
    const [, deleted] = await Promise.all([manager!.runCleanerOnce(), manager!.runRetention()]);
    expect(deleted).toBeGreaterThan(0);
    await updates(log, 20, 1, 'x');
    await roll(log, 'c');
    expect(await manager!.runCleanerOnce()).toHaveLength(1);
    const latest = latestByKey(await readAll(log));
    for (let k = 0; k < 20; k++) expect(latest.get(`k${k}`)).toBe('x0');
    expect((await readAll(log)).filter((r) => r.key === 'k7')).toHaveLength(1);
  });

  it('a plain delete topic is never compacted', async () => {
    const log = await openLog({ 'cleanup.policy': 'delete' });
    await updates(log, 3, 10);
    await roll(log);
    expect(await manager!.runCleanerOnce()).toEqual([]);
    expect((await readAll(log)).filter((r) => r.key?.startsWith('k'))).toHaveLength(30);
  });

  it('cleans in several passes when the offset map holds fewer keys than the log has', async () => {
    // 1024 bytes: 41 slots, at most 36 keys per pass.
    const log = await openLog({ 'segment.bytes': '2048' }, { 'log.cleaner.dedupe.buffer.size': '1024' });
    const expected = await updates(log, 100, 3);
    await roll(log);
    const activeBase = log.activeSegment.baseOffset;
    const passes: bigint[] = [];
    for (let i = 0; i < 40; i++) {
      const done = await manager!.runCleanerOnce();
      if (done.length === 0) break;
      passes.push(done[0]!.endOffset);
    }
    expect(passes.length).toBeGreaterThan(3);
    expect(passes.at(-1)).toBe(activeBase);
    for (let i = 1; i < passes.length; i++) expect(passes[i]!).toBeGreaterThan(passes[i - 1]!);
    const records = await readAll(log);
    const cleaned = records.filter((r) => r.offset < activeBase && r.key?.startsWith('k'));
    expect(cleaned).toHaveLength(100);
    expect(new Map(cleaned.map((r) => [r.key, r.value]))).toEqual(expected);
  });

  it('merges small cleaned segments into fewer, up to segment.bytes', async () => {
    const log = await openLog();
    await updates(log, 3, 40);
    await roll(log);
    await manager!.runCleanerOnce();
    const segmentsAfterFirst = log.segmentCount;
    await updates(log, 3, 1, 'w');
    await roll(log, 'b');
    await manager!.runCleanerOnce();
    expect(log.segmentCount).toBeLessThan(segmentsAfterFirst);
    expect(latestByKey(await readAll(log)).get('k2')).toBe('w0');
  });

  it('keeps the last batch of an idempotent producer, empty, with its producer fields', async () => {
    const log = await openLog();
    const producerId = 42n;
    for (let seq = 0; seq < 6; seq++) {
      await put(log, 'p', `p${seq}`, { producerId, producerEpoch: 3, baseSequence: seq });
    }
    await put(log, 'p', 'plain'); // supersedes the producer's last record
    await roll(log);
    await manager!.runCleanerOnce();
    const batches = await allBatches(log);
    const last = batches.find((b) => baseOffsetOf(b, 0) === 5n)!;
    expect(last).toBeDefined();
    expect(recordsCountOf(last, 0)).toBe(0);
    expect(producerIdOf(last, 0)).toBe(producerId);
    expect(producerEpochOf(last, 0)).toBe(3);
    expect(baseSequenceOf(last, 0)).toBe(5);
    // The producer's earlier, emptied batches are gone.
    expect(batches.filter((b) => producerIdOf(b, 0) === producerId)).toHaveLength(1);
    // And its next batch is still accepted in sequence.
    const next = await put(log, 'p', 'p6', { producerId, producerEpoch: 3, baseSequence: 6 });
    expect(next.baseOffset).toBe(log.logEndOffset - 1n);
  });

  it('refuses records without a key on a compacted topic (uncompressed and gzip), as Kafka does', async () => {
    const log = await openLog();
    const keyless = (compression: CompressionCodec, records: RecordInput[]): Promise<unknown> =>
      log.append(buildRecordBatch(engine, { records, compression }));
    for (const compression of [CompressionCodec.None, CompressionCodec.Gzip]) {
      const err = await keyless(compression, [{ key: Buffer.from('a'), value: Buffer.from('1') }, { value: Buffer.from('2') }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GodelError);
      expect((err as GodelError).code).toBe('INVALID_RECORD');
      expect((err as GodelError).message).toMatch(/without key/);
    }
    expect(log.logEndOffset).toBe(0n);
    // An empty key is a key.
    await keyless(CompressionCodec.None, [{ key: Buffer.alloc(0), value: Buffer.from('1') }]);
    // A topic switched to delete at runtime takes them again.
    log.updateConfig(buildLogConfig({ ...COMPACT, 'cleanup.policy': 'delete' }));
    await keyless(CompressionCodec.Gzip, [{ value: Buffer.from('3') }]);
    expect(log.logEndOffset).toBe(2n);
  });

  it('drops keyless records written before the topic became compacted', async () => {
    const log = await openLog({ 'cleanup.policy': 'delete' });
    await log.append(buildRecordBatch(engine, { records: [{ value: Buffer.from('no key') }], baseTimestamp: BigInt(clock.nowMs()) }));
    await updates(log, 2, 3);
    log.updateConfig(buildLogConfig(COMPACT));
    await roll(log);
    const [stats] = await manager!.runCleanerOnce();
    expect(stats!.invalidRecords).toBe(1);
    expect((await readAll(log)).filter((r) => r.key === null)).toEqual([]);
  });

  it('survives a restart: the cleaned log and the cleaner checkpoint are on disk', async () => {
    let log = await openLog();
    await updates(log, 5, 8);
    await roll(log);
    await manager!.runCleanerOnce();
    const records = await readAll(log);
    const checkpoint = manager!.cleanerCheckpoint(tp);
    expect(checkpoint).toBe(log.activeSegment.baseOffset);
    const text = await fs.readFile(path.join(dir, 'cleaner-offset-checkpoint'), 'utf8');
    expect(text).toBe(`0\n1\ntable 0 ${checkpoint}\n`);
    log = await reopen();
    expect(await readAll(log)).toEqual(records);
    expect(manager!.cleanerCheckpoint(tp)).toBe(checkpoint);
    expect(await manager!.runCleanerOnce()).toEqual([]);
    expect((await fs.readdir(log.dir)).filter((f) => /\.(cleaned|swap|deleted)$/.test(f))).toEqual([]);
  });

  it('keeps serving appends and reads while it cleans', async () => {
    const log = await openLog({ 'segment.bytes': '4096' });
    await updates(log, 20, 30);
    await roll(log);
    const cleaning = manager!.runCleanerOnce();
    const appended: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) appended.push(put(log, `during-${i}`, `d${i}`));
    const reads = Array.from({ length: 10 }, (_, i) => log.read(BigInt(i * 20), 4096));
    await Promise.all([cleaning, ...appended, ...reads]);
    const records = await readAll(log);
    for (let i = 0; i < 50; i++) expect(latestByKey(records).get(`during-${i}`)).toBe(`d${i}`);
    expect(latestByKey(records).get('k19')).toBe('v29');
  });

  it('deleting a log while it is being cleaned aborts the cleaning', async () => {
    const log = await openLog({ 'segment.bytes': '4096' });
    await updates(log, 20, 30);
    await roll(log);
    const cleaning = manager!.runCleanerOnce();
    await manager!.deleteLog(tp);
    await cleaning;
    expect(manager!.getLog(tp)).toBeUndefined();
    expect(manager!.cleanerCheckpoint(tp)).toBeUndefined();
  });
});
