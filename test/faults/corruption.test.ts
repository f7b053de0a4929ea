// Damage to the older, closed segments of a log, and to its checkpoint files. A log of five
// segments is written and shut down cleanly once per engine; each test damages a copy of it and
// reopens that: a flipped bit below the recovery point must cost only the damaged batch (which
// is never served), missing or corrupt indexes are rebuilt as they were, a truncated segment
// costs only its torn tail, and a malformed checkpoint only makes the recovery longer.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../ts/clock.js';
import {
  CLEAN_SHUTDOWN_FILE,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  logDirName,
  RECOVERY_POINT_CHECKPOINT_FILE,
  segmentFilePath,
  TIME_INDEX_FILE_SUFFIX,
} from '../../ts/storage/log-file-utils.js';
import { LogManager } from '../../ts/storage/log-manager.js';
import type { PartitionLog } from '../../ts/storage/partition-log.js';
import { buildRecordBatch } from '../../ts/storage/record-batch-builder.js';
import { testEngines } from '../helpers/engines.js';
import { decodeChecked, readAll, readErrorCode, segmentFileBatches, type DecodedRecord } from '../helpers/records.js';
import { tempDir } from '../helpers/storage.js';

const TP = { topic: 'damaged', partition: 0 };
const SEGMENT_BYTES = 8192;
const BROKER_CONFIG = { 'log.segment.bytes': String(SEGMENT_BYTES), 'log.index.interval.bytes': '512' };
const SEGMENTS = 5;
const RECORDS_PER_BATCH = 3;
const RECORDS_PER_BATCH_N = BigInt(RECORDS_PER_BATCH);
const T0 = 1_700_000_000_000n;

/** Same-size records, so every batch has the same size and the segment boundaries are known. */
function recordsOf(batch: number, baseTimestamp: bigint): { key: Buffer; value: Buffer; timestamp: bigint }[] {
  return Array.from({ length: RECORDS_PER_BATCH }, (_, j) => {
    const id = String(batch * RECORDS_PER_BATCH + j).padStart(6, '0');
    return { key: Buffer.from(`key-${id}`), value: Buffer.from(`value-${id}-`.padEnd(150, 'x')), timestamp: baseTimestamp + BigInt(j) };
  });
}

/** A deterministic byte stream (xorshift32). */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The earliest record whose timestamp is >= `ts`, by offset (what ListOffsets by time answers). */
function expectedForTimestamp(records: readonly DecodedRecord[], ts: bigint): { offset: bigint; timestamp: bigint } | null {
  const found = records.find((r) => r.timestamp >= ts);
  return found === undefined ? null : { offset: found.offset, timestamp: found.timestamp };
}

describe.each(testEngines)('damaged closed segments and checkpoints: $name engine', ({ name, engine }) => {
  let base: string;
  let pristineDir: string;
  let expected: DecodedRecord[];
  let batchesPerSegment: number;
  let segmentBases: bigint[];
  let logEnd: bigint;
  let peakTimestamp: bigint;
  let cases = 0;

  beforeAll(async () => {
    base = await tempDir(`corruption-${name}`);
    pristineDir = path.join(base, 'pristine');
    const manager = await LogManager.open({ dataDir: pristineDir, engine, clock: new ManualClock(), brokerConfig: BROKER_CONFIG });
    const log = await manager.getOrCreateLog(TP);
    const batchBytes = buildRecordBatch(engine, { records: recordsOf(0, T0) }).length;
    batchesPerSegment = Math.floor(SEGMENT_BYTES / batchBytes);
    // Timestamps grow with the offsets, except the first batch of segment 1: it carries the largest
    // timestamp of its segment (still below segment 2's), as a producer's clock may. Only a time
    // index rebuilt from the whole segment knows the segment's largest timestamp is there.
    peakTimestamp = T0 + BigInt(2 * batchesPerSegment) * 1000n - 500n;
    for (let b = 0; b < SEGMENTS * batchesPerSegment - 3; b++) {
      const ts = b === batchesPerSegment ? peakTimestamp : T0 + BigInt(b) * 1000n;
      await log.append(buildRecordBatch(engine, { records: recordsOf(b, ts) }));
    }
    segmentBases = log.segmentBaseOffsets();
    expect(segmentBases).toEqual(Array.from({ length: SEGMENTS }, (_, s) => BigInt(s * batchesPerSegment * RECORDS_PER_BATCH)));
    expected = await readAll(log, 0n);
    logEnd = log.logEndOffset;
    await manager.shutdown();
  });

  afterAll(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  /** A fresh copy of the cleanly shut down data directory. */
  async function copy(): Promise<string> {
    const dir = path.join(base, `case-${cases++}`);
    await fs.cp(pristineDir, dir, { recursive: true });
    return dir;
  }

  function segmentFile(dir: string, segment: number, suffix: string): string {
    return segmentFilePath(path.join(dir, logDirName(TP)), segmentBases[segment]!, suffix);
  }

  async function withLog(dir: string, check: (log: PartitionLog, manager: LogManager) => Promise<void>): Promise<void> {
    const manager = await LogManager.open({ dataDir: dir, engine, clock: new ManualClock(), brokerConfig: BROKER_CONFIG });
    try {
      await check(manager.getLog(TP)!, manager);
    } finally {
      await manager.shutdown();
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  function between(from: bigint, to: bigint): DecodedRecord[] {
    return expected.filter((r) => r.offset >= from && r.offset < to);
  }

  /** An append after the damage lands at `end`, and reads back. */
  async function appendsContinueAt(log: PartitionLog, end: bigint): Promise<void> {
    expect(log.logEndOffset).toBe(end);
    const info = await log.append(buildRecordBatch(engine, { records: [{ key: Buffer.from('after'), value: Buffer.from('damage'), timestamp: T0 + 10_000_000n }] }));
    expect(info.baseOffset).toBe(end);
    expect(decodeChecked((await log.read(end, 4096)).records)).toEqual([{ offset: end, timestamp: T0 + 10_000_000n, key: 'after', value: 'damage' }]);
  }

  /** Flips one bit in the payload of batch `batch` of segment `segment`; returns that batch's offsets. */
  async function flipBitIn(dir: string, segment: number, batch: number): Promise<{ first: bigint; last: bigint }> {
    const file = segmentFile(dir, segment, LOG_FILE_SUFFIX);
    const { bytes, spans } = await segmentFileBatches(file);
    const span = spans[batch]!;
    bytes[span.position + span.size - 20]! ^= 0x10; // inside the last record's value
    await fs.writeFile(file, bytes);
    return { first: span.baseOffset, last: span.lastOffset };
  }

  describe.each([
    { mode: 'after a clean shutdown', removeMarker: false },
    { mode: 'after a crash, below the checkpointed recovery point', removeMarker: true },
  ])('a flipped bit in a closed segment $mode', ({ removeMarker }) => {
    it('costs only the damaged batch: it fails with CORRUPT_MESSAGE, everything around it reads', async () => {
      const dir = await copy();
      if (removeMarker) await fs.rm(path.join(dir, CLEAN_SHUTDOWN_FILE));
      const bad = await flipBitIn(dir, 1, 5);
      const sizeBefore = (await fs.stat(segmentFile(dir, 1, LOG_FILE_SUFFIX))).size;
      await withLog(dir, async (log, manager) => {
        expect(manager.hadCleanShutdown).toBe(!removeMarker);
        expect(log.segmentBaseOffsets()).toEqual(segmentBases);
        expect(log.logEndOffset).toBe(logEnd);
        expect((await fs.stat(segmentFile(dir, 1, LOG_FILE_SUFFIX))).size).toBe(sizeBefore);
        // Every offset of the damaged batch fails, whatever the read size; its bytes never leave.
        for (let offset = bad.first; offset <= bad.last; offset++) {
          expect(await readErrorCode(log, offset)).toBe('CORRUPT_MESSAGE');
          expect(await readErrorCode(log, offset, 1)).toBe('CORRUPT_MESSAGE');
        }
        // A read that starts before it stops just before it.
        expect(decodeChecked((await log.read(segmentBases[1]!, 1024 * 1024)).records)).toEqual(between(segmentBases[1]!, bad.first));
        expect(decodeChecked((await log.read(bad.first - 1n, 1024 * 1024)).records)).toEqual(between(bad.first - RECORDS_PER_BATCH_N, bad.first));
        // After it, the rest of the segment and every later segment read as written.
        expect(decodeChecked((await log.read(bad.last + 1n, 1024 * 1024)).records)).toEqual(between(bad.last + 1n, segmentBases[2]!));
        expect(await readAll(log, segmentBases[2]!)).toEqual(between(segmentBases[2]!, logEnd));
        // A consumer reading from the start gets everything before the damaged batch, then the error.
        await expect(readAll(log, 0n, 1024 * 1024)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
        expect(decodeChecked((await log.read(0n, 1024 * 1024)).records)).toEqual(between(0n, segmentBases[1]!));
        await appendsContinueAt(log, logEnd);
      });
    });
  });

  it('a flipped bit above the recovery point: recovery cuts the log at the damaged batch and drops later segments', async () => {
    const dir = await copy();
    for (const file of [CLEAN_SHUTDOWN_FILE, RECOVERY_POINT_CHECKPOINT_FILE]) await fs.rm(path.join(dir, file));
    const bad = await flipBitIn(dir, 1, 5);
    await withLog(dir, async (log, manager) => {
      expect(manager.hadCleanShutdown).toBe(false);
      expect(log.segmentBaseOffsets()).toEqual(segmentBases.slice(0, 2));
      expect(await readAll(log, 0n)).toEqual(between(0n, bad.first));
      await appendsContinueAt(log, bad.first);
    });
    for (let s = 2; s < SEGMENTS; s++) await expect(fs.access(segmentFile(dir, s, LOG_FILE_SUFFIX))).rejects.toThrow();
  });

  /** Every offset of segment 1 finds its batch, and lookups by time answer as the records say. */
  async function checkLookups(log: PartitionLog): Promise<void> {
    for (let offset = segmentBases[1]!; offset < segmentBases[2]!; offset++) {
      const got = decodeChecked((await log.read(offset, 1)).records);
      expect(got[0]!.offset <= offset && got[got.length - 1]!.offset >= offset, `read of ${offset}`).toBe(true);
      expect(got).toEqual(between(got[0]!.offset, got[0]!.offset + RECORDS_PER_BATCH_N));
    }
    const targets = [T0 - 1n, T0, T0 + 1n, peakTimestamp, peakTimestamp + 1n, peakTimestamp + 3n, expected[expected.length - 1]!.timestamp + 1n];
    for (let b = 0; b < SEGMENTS * batchesPerSegment; b += 7) targets.push(T0 + BigInt(b) * 1000n + 1n, T0 + BigInt(b) * 1000n + 5n);
    for (const ts of targets) {
      expect(await log.offsetForTimestamp(ts), `offsetForTimestamp(${ts})`).toEqual(expectedForTimestamp(expected, ts));
    }
    expect(log.maxTimestampOffset()).toEqual({ offset: logEnd - 1n, timestamp: expected[expected.length - 1]!.timestamp });
  }

  describe.each([
    { index: 'offset index', suffix: INDEX_FILE_SUFFIX },
    { index: 'time index', suffix: TIME_INDEX_FILE_SUFFIX },
  ])('a closed segment whose $index', ({ suffix }) => {
    it('was deleted gets it rebuilt on reopen, byte for byte, and lookups work', async () => {
      const dir = await copy();
      const file = segmentFile(dir, 1, suffix);
      const original = await fs.readFile(file);
      expect(original.length).toBeGreaterThan(0);
      await fs.rm(file);
      await withLog(dir, async (log, manager) => {
        expect(manager.loadReports.get(logDirName(TP))!.rebuiltIndexes).toBeGreaterThanOrEqual(1);
        expect(await fs.readFile(file)).toEqual(original);
        expect(log.segmentBaseOffsets()).toEqual(segmentBases);
        await checkLookups(log);
        await appendsContinueAt(log, logEnd);
      });
    });

    it('holds garbage gets it rebuilt on reopen, byte for byte, and lookups work', async () => {
      // Segment 2: its time index has several entries (segment 1's has one, its first batch).
      const original = await fs.readFile(segmentFile(pristineDir, 2, suffix));
      expect(original.length).toBeGreaterThan(suffix === TIME_INDEX_FILE_SUFFIX ? 12 : 8);
      // Entries in reverse order (never increasing) fail the sanity check whatever the bytes are.
      const entryBytes = suffix === TIME_INDEX_FILE_SUFFIX ? 12 : 8;
      const reversed = Buffer.concat(
        Array.from({ length: original.length / entryBytes }, (_, i) => original.subarray(original.length - (i + 1) * entryBytes, original.length - i * entryBytes)),
      );
      for (const garbage of [reversed, pseudoRandomBytes(original.length + 3, 11)]) {
        const each = await copy();
        await fs.writeFile(segmentFile(each, 2, suffix), garbage);
        await withLog(each, async (log, manager) => {
          expect(manager.loadReports.get(logDirName(TP))!.rebuiltIndexes).toBeGreaterThanOrEqual(1);
          expect(await fs.readFile(segmentFile(each, 2, suffix))).toEqual(original);
          expect(await readAll(log, 0n)).toEqual(expected);
          await checkLookups(log);
        });
      }
    });
  });

  it('random bytes in an offset index are refused and the index rebuilt', async () => {
    for (const seed of [1, 2, 3]) {
      const dir = await copy();
      const file = segmentFile(dir, 1, INDEX_FILE_SUFFIX);
      const original = await fs.readFile(file);
      await fs.writeFile(file, pseudoRandomBytes(original.length, seed));
      await withLog(dir, async (log) => {
        expect(await fs.readFile(file)).toEqual(original);
        await checkLookups(log);
      });
    }
  });

  it('a middle segment cut inside a batch after a clean shutdown loses only its torn tail', async () => {
    const dir = await copy();
    const file = segmentFile(dir, 2, LOG_FILE_SUFFIX);
    const { bytes, spans } = await segmentFileBatches(file);
    const torn = spans[4]!;
    await fs.writeFile(file, bytes.subarray(0, torn.position + Math.floor(torn.size / 2)));
    await withLog(dir, async (log, manager) => {
      expect(manager.loadReports.get(logDirName(TP))!.truncatedBytes).toBe(Math.floor(torn.size / 2));
      expect((await fs.stat(file)).size).toBe(torn.position);
      // Later segments stay: the log keeps its end, with a gap where the torn tail was.
      expect(log.segmentBaseOffsets()).toEqual(segmentBases);
      const survivors = expected.filter((r) => r.offset < torn.baseOffset || r.offset >= segmentBases[3]!);
      expect(await readAll(log, 0n)).toEqual(survivors);
      // A read inside the gap is served from the next batch there is, as after compaction.
      expect(decodeChecked((await log.read(torn.baseOffset, 1)).records)[0]!.offset).toBe(segmentBases[3]!);
      await appendsContinueAt(log, logEnd);
    });
  });

  it('a middle segment cut inside a batch before a full recovery ends the log there', async () => {
    const dir = await copy();
    for (const file of [CLEAN_SHUTDOWN_FILE, RECOVERY_POINT_CHECKPOINT_FILE]) await fs.rm(path.join(dir, file));
    const file = segmentFile(dir, 2, LOG_FILE_SUFFIX);
    const { bytes, spans } = await segmentFileBatches(file);
    const torn = spans[4]!;
    await fs.writeFile(file, bytes.subarray(0, torn.position + 30));
    await withLog(dir, async (log) => {
      expect(log.segmentBaseOffsets()).toEqual(segmentBases.slice(0, 3));
      expect(await readAll(log, 0n)).toEqual(between(0n, torn.baseOffset));
      await appendsContinueAt(log, torn.baseOffset);
    });
  });

  describe.each([
    { what: 'text that is no checkpoint', text: 'not a checkpoint\n' },
    { what: 'an unknown version', text: `7\n1\ndamaged 0 ${3}\n` },
    { what: 'a count that does not match', text: '0\n3\ndamaged 0 12\n' },
    { what: 'a bad entry line', text: '0\n1\ndamaged zero 12\n' },
    { what: 'zero bytes', text: '\0\0\0\0\0\0\0\0' },
  ])('a recovery-point checkpoint holding $what', ({ text }) => {
    it('is ignored: the whole log is recovered and nothing is lost', async () => {
      const dir = await copy();
      await fs.rm(path.join(dir, CLEAN_SHUTDOWN_FILE));
      await fs.writeFile(path.join(dir, RECOVERY_POINT_CHECKPOINT_FILE), text);
      // A torn tail shows the recovery really ran.
      await fs.appendFile(segmentFile(dir, SEGMENTS - 1, LOG_FILE_SUFFIX), Buffer.from([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 1]));
      await withLog(dir, async (log, manager) => {
        const report = manager.loadReports.get(logDirName(TP))!;
        expect(report.recoveredSegments).toBe(SEGMENTS);
        expect(report.truncatedBytes).toBe(11);
        expect(log.segmentBaseOffsets()).toEqual(segmentBases);
        expect(await readAll(log, 0n)).toEqual(expected);
        await appendsContinueAt(log, logEnd);
      });
    });
  });

  it('a malformed log-start-offset checkpoint is ignored: the log starts at 0 as before', async () => {
    const dir = await copy();
    await fs.writeFile(path.join(dir, LOG_START_OFFSET_CHECKPOINT_FILE), '0\n1\ndamaged 0 nonsense\n');
    await withLog(dir, async (log) => {
      expect(log.logStartOffset).toBe(0n);
      expect(await readAll(log, 0n)).toEqual(expected);
    });
  });
});
