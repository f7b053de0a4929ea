// Torn and damaged tails after an unclean shutdown. A log of a few batches is written and shut
// down, then the clean-shutdown marker and the checkpoints are removed, as if the process had died
// with the files open. The last segment is then damaged in every way a crash or a bad disk can
// leave it (cut at every byte inside the last batch, zeros or garbage after the end, a flipped
// bit in the last batch) and each copy is reopened: recovery must end the log at the last whole,
// valid batch, serve the earlier batches intact, and take the next append at that offset.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGodelError } from '../../ts/errors.js';
import {
  CLEAN_SHUTDOWN_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  logDirName,
  RECOVERY_POINT_CHECKPOINT_FILE,
  segmentFilePath,
  LOG_FILE_SUFFIX,
} from '../../ts/storage/log-file-utils.js';
import { LogManager } from '../../ts/storage/log-manager.js';
import { RECORDS_OFFSET } from '../../ts/storage/record-batch.js';
import { buildRecordBatch } from '../../ts/storage/record-batch-builder.js';
import { testEngines } from '../helpers/engines.js';
import { batchSpans, decodeChecked, readAll, type BatchSpan, type DecodedRecord } from '../helpers/records.js';
import { decodeRecords, tempDir } from '../helpers/storage.js';

const TP = { topic: 'torn', partition: 0 };
/** Small index interval, so the indexes have entries (pointing into the damaged tail, too). */
const BROKER_CONFIG = { 'log.index.interval.bytes': '100' };
const T0 = 1_700_000_000_000n;

/** A deterministic byte stream (xorshift32), so a failing case can be replayed. */
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

/**
 * Runs `check` over `items`, `limit` at a time: each case reopens a log in its own directory, and
 * their fsyncs overlap instead of queueing one behind the other.
 */
async function eachConcurrently<T>(items: readonly T[], limit: number, check: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await check(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const CONCURRENCY = 8;

describe.each(testEngines)('torn tails after an unclean shutdown: $name engine', ({ name, engine }) => {
  let base: string;
  let pristineDir: string;
  let pristine: Buffer;
  let spans: BatchSpan[];
  let logFileName: string;
  let cases = 0;

  beforeAll(async () => {
    base = await tempDir(`torn-${name}`);
    pristineDir = path.join(base, 'pristine');
    const manager = await LogManager.open({ dataDir: pristineDir, engine, brokerConfig: BROKER_CONFIG });
    const log = await manager.getOrCreateLog(TP);
    const value = (tag: string, length: number): Buffer => Buffer.from(tag.padEnd(length, '.'));
    const batches = [
      [{ key: Buffer.from('a0'), value: value('first-0', 120) }, { key: Buffer.from('a1'), value: value('first-1', 90) }, { key: null, value: value('first-2', 60) }],
      [{ key: Buffer.from('b0'), value: value('second-0', 400) }],
      [{ key: Buffer.from('c0'), value: value('third-0', 30) }, { key: Buffer.from('c1'), value: null }],
      // The last batch, the one every case damages: two records, one with headers.
      [
        { key: Buffer.from('d0'), value: value('last-0', 20), headers: [{ key: 'h', value: Buffer.from('v') }] },
        { key: Buffer.from('d1'), value: value('last-1', 24) },
      ],
    ];
    let ts = T0;
    for (const records of batches) {
      await log.append(buildRecordBatch(engine, { records: records.map((r) => ({ ...r, timestamp: ts++ })) }));
    }
    await manager.shutdown();
    // Unclean: no marker, no checkpoints, so the next start recovers the whole log.
    for (const file of [CLEAN_SHUTDOWN_FILE, RECOVERY_POINT_CHECKPOINT_FILE, LOG_START_OFFSET_CHECKPOINT_FILE]) {
      await fs.rm(path.join(pristineDir, file), { force: true });
    }
    logFileName = path.relative(pristineDir, segmentFilePath(path.join(pristineDir, logDirName(TP)), 0n, LOG_FILE_SUFFIX));
    pristine = await fs.readFile(path.join(pristineDir, logFileName));
    spans = batchSpans(pristine);
    expect(spans.map((s) => s.baseOffset)).toEqual([0n, 3n, 4n, 6n]);
    expect(spans[3]!.position + spans[3]!.size).toBe(pristine.length);
  });

  afterAll(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  /** The records of the first `batches` batches, as written. */
  function recordsOf(batches: number): DecodedRecord[] {
    const end = batches === 0 ? 0 : spans[batches - 1]!.position + spans[batches - 1]!.size;
    return decodeRecords(pristine.subarray(0, end));
  }

  /**
   * Copies the pristine data directory with `logBytes` as the segment file, reopens it, and checks
   * that the log holds exactly the first `keptBatches` batches; then that an append continues at
   * the log end. `what` names the case in failure messages.
   */
  async function recoverAndCheck(what: string, logBytes: Buffer, keptBatches: number): Promise<void> {
    const dir = path.join(base, `case-${cases++}`);
    await fs.cp(pristineDir, dir, { recursive: true });
    const logFile = path.join(dir, logFileName);
    await fs.writeFile(logFile, logBytes);
    const manager = await LogManager.open({ dataDir: dir, engine, brokerConfig: BROKER_CONFIG });
    try {
      expect(manager.hadCleanShutdown, what).toBe(false);
      const log = manager.getLog(TP)!;
      const keptBytes = keptBatches === 0 ? 0 : spans[keptBatches - 1]!.position + spans[keptBatches - 1]!.size;
      const end = keptBatches === 0 ? 0n : spans[keptBatches - 1]!.lastOffset + 1n;
      expect(log.logEndOffset, what).toBe(end);
      expect(log.segmentCount, what).toBe(1);
      // The damaged bytes are gone from the file, not only hidden.
      expect((await fs.stat(logFile)).size, what).toBe(keptBytes);
      expect(await readAll(log, 0n), what).toEqual(recordsOf(keptBatches));
      expect((await log.read(end, 1024 * 1024)).records.length, what).toBe(0);
      const next = buildRecordBatch(engine, { records: [{ key: Buffer.from('next'), value: Buffer.from(what), timestamp: T0 + 100n }] });
      const info = await log.append(next);
      expect(info.baseOffset, what).toBe(end);
      expect(decodeChecked((await log.read(end, 1024 * 1024)).records), what).toEqual([
        { offset: end, timestamp: T0 + 100n, key: 'next', value: what },
      ]);
    } finally {
      await manager.shutdown();
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  it('the untouched copy recovers whole (the harness itself)', async () => {
    await recoverAndCheck('untouched', pristine, 4);
  });

  it('a cut at every byte inside the last batch ends the log at the batch before it', async () => {
    const last = spans[3]!;
    const cuts = Array.from({ length: last.size }, (_, i) => last.position + i);
    await eachConcurrently(cuts, CONCURRENCY, (cut) =>
      recoverAndCheck(`cut at ${cut} (last batch ${last.position}..${last.position + last.size})`, pristine.subarray(0, cut), 3));
  });

  it('a cut inside an earlier batch drops it and everything after it', async () => {
    const second = spans[1]!;
    for (const cut of [second.position + 1, second.position + 11, second.position + 12, second.position + 61, second.position + second.size - 1]) {
      await recoverAndCheck(`cut at ${cut} inside the second batch`, pristine.subarray(0, cut), 1);
    }
  });

  it('a zero-filled tail (4 KiB of zeros, as after a crash on a preallocating file system) is cut', async () => {
    await recoverAndCheck('4 KiB of zeros', Buffer.concat([pristine, Buffer.alloc(4096)]), 4);
    await recoverAndCheck('12 zero bytes', Buffer.concat([pristine, Buffer.alloc(12)]), 4);
    await recoverAndCheck('a zero-filled last batch', Buffer.concat([pristine.subarray(0, spans[3]!.position), Buffer.alloc(spans[3]!.size)]), 3);
  });

  it('a garbage tail (random bytes) is cut', async () => {
    for (const [seed, length] of [[1, 4096], [2, 7], [3, 61], [4, 100_000]] as const) {
      await recoverAndCheck(`${length} random bytes (seed ${seed})`, Buffer.concat([pristine, pseudoRandomBytes(length, seed)]), 4);
    }
    // Garbage shaped like a batch header (a plausible length) but with no valid CRC.
    const fake = pseudoRandomBytes(200, 5);
    fake.writeBigInt64BE(7n, 0);
    fake.writeInt32BE(200 - 12, 8);
    fake[16] = 2;
    await recoverAndCheck('a fake batch header', Buffer.concat([pristine, fake]), 4);
  });

  it('a flipped bit in any field the CRC or the structure covers in the last batch cuts that batch', async () => {
    const last = spans[3]!;
    // Bytes 0..7 (base offset) and 12..15 (leader epoch) are outside the CRC by design (the broker
    // stamps them); everything else is the length, the magic byte, the CRC or what it covers.
    // Every byte of the header, and every third byte of the records (CRC32C catches any single
    // flipped bit, so more of them would only test the polynomial).
    const positions = Array.from({ length: last.size - 8 }, (_, i) => 8 + i)
      .filter((at) => (at < 12 || at >= 16) && (at < RECORDS_OFFSET || at % 3 === 0 || at === last.size - 1));
    await eachConcurrently(positions, CONCURRENCY, (at) => {
      const bytes = Buffer.from(pristine);
      bytes[last.position + at]! ^= 1 << (at % 8);
      return recoverAndCheck(`bit ${at % 8} of byte ${at} of the last batch flipped`, bytes, 3);
    });
  });

  it('reads never serve the cut batch, and a read past the new end is out of range', async () => {
    const dir = path.join(base, `case-${cases++}`);
    await fs.cp(pristineDir, dir, { recursive: true });
    await fs.writeFile(path.join(dir, logFileName), pristine.subarray(0, pristine.length - 1));
    const manager = await LogManager.open({ dataDir: dir, engine, brokerConfig: BROKER_CONFIG });
    try {
      const log = manager.getLog(TP)!;
      expect(log.logEndOffset).toBe(6n);
      const all = decodeChecked((await log.read(0n, 1024 * 1024)).records);
      expect(all.map((r) => r.offset)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
      const err = await log.read(7n, 1024).then(() => null, (e: unknown) => e);
      expect(isGodelError(err, 'OFFSET_OUT_OF_RANGE')).toBe(true);
      const report = manager.loadReports.get(logDirName(TP))!;
      expect(report.truncatedBytes).toBe(spans[3]!.size - 1);
    } finally {
      await manager.shutdown();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
