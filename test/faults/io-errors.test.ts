// I/O errors under a partition log, injected by test/helpers/faulty-engine.ts around each real
// engine: a full disk during an append (with a short write before the error), a failed fdatasync
// in durable mode, and a failure creating the next segment. What must hold: a refused append
// leaves no trace (not now, not after a restart); a failed fdatasync takes the log offline and no
// append is acknowledged after it; a failed roll costs that append only.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGodelError, type GodelErrorCode } from '../../ts/errors.js';
import type { LogEngine } from '../../ts/engine/types.js';
import {
  CLEAN_SHUTDOWN_FILE,
  logDirName,
  LOG_FILE_SUFFIX,
  RECOVERY_POINT_CHECKPOINT_FILE,
  segmentFilePath,
} from '../../ts/storage/log-file-utils.js';
import { LogManager } from '../../ts/storage/log-manager.js';
import type { AppendInfo, PartitionLog } from '../../ts/storage/partition-log.js';
import { buildRecordBatch } from '../../ts/storage/record-batch-builder.js';
import { testEngines } from '../helpers/engines.js';
import { FaultyEngine } from '../helpers/faulty-engine.js';
import { readAll } from '../helpers/records.js';
import { tempDir } from '../helpers/storage.js';

const TP = { topic: 'faulty', partition: 0 };
const DURABLE = { 'flush.messages': '1' };

/** A batch of `count` records whose values are `${tag}-${i}`, each `bytes` long. */
function batch(engine: LogEngine, tag: string, count = 1, bytes = 0): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`${tag}-${i}`.padEnd(bytes, '.')) }));
  return buildRecordBatch(engine, { records });
}

/** The values a log holds, in offset order, with the padding removed. */
async function valuesOf(log: PartitionLog): Promise<string[]> {
  const records = await readAll(log, log.logStartOffset);
  records.forEach((r, i) => expect(r.offset).toBe(log.logStartOffset + BigInt(i)));
  return records.map((r) => (r.value ?? '').replace(/\.+$/, ''));
}

function values(tag: string, count = 1): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}-${i}`);
}

/** The GodelError code a promise rejects with; fails the test if it resolves or throws something else. */
async function rejectionCode(promise: Promise<unknown>): Promise<GodelErrorCode> {
  const outcome = await promise.then((value) => ({ value }), (err: unknown) => ({ err }));
  if ('value' in outcome) throw new Error(`expected a rejection, got ${String(outcome.value)}`);
  if (!isGodelError(outcome.err)) throw outcome.err;
  return outcome.err.code;
}

/** Yields to the event loop until `condition` holds; fails after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

describe.each(testEngines)('I/O errors under a partition log: $name engine', ({ name, engine }) => {
  let dir: string;
  let faulty: FaultyEngine;
  let managers: LogManager[];

  beforeEach(async () => {
    dir = await tempDir(`io-errors-${name}`);
    faulty = new FaultyEngine(engine);
    managers = [];
  });
  afterEach(async () => {
    faulty.heal();
    await Promise.allSettled(managers.map((m) => m.shutdown()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function open(overrides: Record<string, string>, logEngine: LogEngine = faulty): Promise<{ manager: LogManager; log: PartitionLog }> {
    const manager = await LogManager.open({ dataDir: dir, engine: logEngine, topicConfig: () => overrides });
    managers.push(manager);
    return { manager, log: await manager.getOrCreateLog(TP, overrides) };
  }

  /** Shuts down, forgets the clean shutdown and the recovery point, and reopens with the real engine. */
  async function restartWithFullRecovery(manager: LogManager, overrides: Record<string, string>): Promise<{ manager: LogManager; log: PartitionLog }> {
    await manager.shutdown();
    managers = managers.filter((m) => m !== manager);
    faulty.heal();
    await fs.rm(path.join(dir, CLEAN_SHUTDOWN_FILE), { force: true });
    await fs.rm(path.join(dir, RECOVERY_POINT_CHECKPOINT_FILE), { force: true });
    const reopened = await open(overrides, engine);
    expect(reopened.manager.hadCleanShutdown).toBe(false);
    return reopened;
  }

  describe.each([
    { mode: 'by default', overrides: {} },
    { mode: 'in durable mode', overrides: DURABLE },
  ])('a full disk during an append $mode', ({ overrides }) => {
    it('refuses the append with STORAGE_ERROR, leaves nothing of it, and appends go on at the same offset', async () => {
      let { manager, log } = await open(overrides);
      await log.append(batch(engine, 'a', 2));
      await log.append(batch(engine, 'b', 1));
      await log.append(batch(engine, 'c', 3));
      const file = log.activeSegment.logPath;
      const sizeBefore = (await fs.stat(file)).size;

      // A short write of half the bytes, then ENOSPC.
      const fault = faulty.inject({ op: 'writev', match: LOG_FILE_SUFFIX, times: 1, partialBytes: (total) => Math.floor(total / 2) });
      const failed = log.append(batch(engine, 'failed', 4));
      const err = await failed.then(() => null, (e: unknown) => e);
      expect(isGodelError(err, 'STORAGE_ERROR'), String(err)).toBe(true);
      expect(String(err)).toContain('ENOSPC');
      expect(fault.fired).toBe(1);
      expect(log.isOffline).toBe(false);
      expect(log.logEndOffset).toBe(6n);
      expect((await log.read(6n, 1 << 20)).records.length).toBe(0);
      expect((await fs.stat(file)).size).toBe(sizeBefore); // the partial bytes were cut at once
      expect(await valuesOf(log)).toEqual([...values('a', 2), ...values('b'), ...values('c', 3)]);

      // Several appends written with one writev fail together (a short write into the second).
      faulty.inject({ op: 'writev', match: LOG_FILE_SUFFIX, times: 1, partialBytes: (total) => total - 7 });
      const together = [log.append(batch(engine, 'x', 2)), log.append(batch(engine, 'y', 2)), log.append(batch(engine, 'z', 1))];
      for (const code of await Promise.all(together.map(rejectionCode))) expect(code).toBe('STORAGE_ERROR');
      expect(log.logEndOffset).toBe(6n);
      expect((await fs.stat(file)).size).toBe(sizeBefore);

      // The fault is spent: the next append takes the offset the failed ones had.
      const info = await log.append(batch(engine, 'd', 2));
      expect(info.baseOffset).toBe(6n);
      expect(info.lastOffset).toBe(7n);
      const expected = [...values('a', 2), ...values('b'), ...values('c', 3), ...values('d', 2)];
      expect(await valuesOf(log)).toEqual(expected);

      // After a restart that recovers every byte on disk, the failed appends are still absent.
      ({ manager, log } = await restartWithFullRecovery(manager, overrides));
      expect(manager.loadReports.get(logDirName(TP))!.truncatedBytes).toBe(0);
      expect(await valuesOf(log)).toEqual(expected);
      expect((await log.append(batch(engine, 'e'))).baseOffset).toBe(8n);
    });
  });

  it('a failed write whose partial bytes cannot be cut takes the log offline; a restart recovers', async () => {
    let { manager, log } = await open({});
    await log.append(batch(engine, 'a', 2));
    faulty.inject({ op: 'writev', match: LOG_FILE_SUFFIX, times: 1, partialBytes: 30 });
    faulty.inject({ op: 'truncate', match: LOG_FILE_SUFFIX, times: 1 });
    expect(await rejectionCode(log.append(batch(engine, 'failed', 3)))).toBe('STORAGE_ERROR');
    expect(log.isOffline).toBe(true);
    expect(await rejectionCode(log.append(batch(engine, 'later')))).toBe('LOG_OFFLINE');
    expect(await rejectionCode(log.read(0n, 1 << 20))).toBe('LOG_OFFLINE');
    ({ manager, log } = await restartWithFullRecovery(manager, {}));
    expect(manager.loadReports.get(logDirName(TP))!.truncatedBytes).toBe(30);
    expect(await valuesOf(log)).toEqual(values('a', 2));
    expect((await log.append(batch(engine, 'b'))).baseOffset).toBe(2n);
  });

  describe('a failed fdatasync in durable mode', () => {
    it('refuses the append, takes the log offline, and acknowledges nothing after it, even when a later fdatasync succeeds', async () => {
      let { manager, log } = await open(DURABLE);
      const acked: AppendInfo[] = [await log.append(batch(engine, 'a', 2)), await log.append(batch(engine, 'b'))];
      const file = log.activeSegment.logPath;
      const gate = faulty.gate('sync', file);
      // C is written and waits for its fdatasync; D is written after it and waits for the next.
      const c = log.append(batch(engine, 'c', 2));
      await gate.untilArrived(1);
      const d = log.append(batch(engine, 'd'));
      await gate.untilArrived(2);
      // C's fdatasync fails; D's, the retry in effect, succeeds. Linux may have dropped C's dirty
      // pages on the failure, so D's success proves nothing about C: D must not be acknowledged.
      gate.release({ fail: 'EIO' });
      gate.release('pass');
      const cErr = await c.then(() => null, (e: unknown) => e);
      expect(isGodelError(cErr, 'STORAGE_ERROR'), String(cErr)).toBe(true);
      expect(String(cErr)).toContain('EIO');
      expect(['STORAGE_ERROR', 'LOG_OFFLINE']).toContain(await rejectionCode(d));
      expect(log.isOffline).toBe(true);
      expect(await rejectionCode(log.append(batch(engine, 'e')))).toBe('LOG_OFFLINE');
      expect(await rejectionCode(log.read(0n, 1 << 20))).toBe('LOG_OFFLINE');
      expect(await rejectionCode(log.flush())).toBe('LOG_OFFLINE');

      // An offline log is never marked clean; the restart recovers a valid log holding every ack.
      await manager.shutdown();
      managers = managers.filter((m) => m !== manager);
      expect(await exists(path.join(dir, CLEAN_SHUTDOWN_FILE))).toBe(false);
      faulty.heal();
      ({ manager, log } = await open(DURABLE, engine));
      expect(manager.hadCleanShutdown).toBe(false);
      const found = await valuesOf(log);
      expect(found.slice(0, 3)).toEqual([...values('a', 2), ...values('b')]);
      expect(acked.map((i) => i.lastOffset)).toEqual([1n, 2n]);
      // The unacknowledged appends may or may not have reached the disk; if they did, whole and in order.
      expect([[], values('c', 2), [...values('c', 2), ...values('d')]]).toContainEqual(found.slice(3));
      const info = await log.append(batch(engine, 'f'));
      expect(info.baseOffset).toBe(BigInt(found.length));
    });

    it('does not acknowledge an append in a new segment before the appends in the old one are durable', async () => {
      const overrides = { ...DURABLE, 'segment.bytes': '1000' };
      const { log } = await open(overrides);
      await log.append(batch(engine, 'a', 1, 400));
      const oldFile = log.activeSegment.logPath;
      const gate = faulty.gate('sync', oldFile);
      // B fits the old segment; its fdatasync is held.
      const b = log.append(batch(engine, 'b', 1, 400));
      await gate.untilArrived(1);
      // C rolls a new segment (the old one's flush is held too) and its own fdatasync succeeds.
      const c = log.append(batch(engine, 'c', 1, 400));
      const newFile = segmentFilePath(log.dir, 2n, LOG_FILE_SUFFIX);
      await faulty.untilCompleted('sync', newFile, 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(log.segmentCount).toBe(2);
      // B's fdatasync fails: B is lost on a power cut, and recovery would cut the log there,
      // taking C with it. So C must not have been, and must not be, acknowledged.
      gate.release({ fail: 'EIO' });
      await gate.untilArrived(2);
      gate.release({ fail: 'EIO' });
      expect(await rejectionCode(b)).toBe('STORAGE_ERROR');
      expect(['STORAGE_ERROR', 'LOG_OFFLINE']).toContain(await rejectionCode(c));
      expect(log.isOffline).toBe(true);
    });

    it('goes offline at once when a newer segment fails its fdatasync while an older one is still syncing', async () => {
      const overrides = { ...DURABLE, 'segment.bytes': '1000' };
      let { manager, log } = await open(overrides);
      await log.append(batch(engine, 'a', 1, 400));
      const gate = faulty.gate('sync', log.activeSegment.logPath);
      const b = log.append(batch(engine, 'b', 1, 400));
      await gate.untilArrived(1);
      faulty.inject({ op: 'sync', match: segmentFilePath(log.dir, 2n, LOG_FILE_SUFFIX), times: 1 });
      const c = log.append(batch(engine, 'c', 1, 400));
      // Offline as soon as C's fdatasync fails, while B's is still held; C's refusal itself comes
      // after B's outcome (acknowledgements and refusals go out in offset order).
      await until(() => log.isOffline, 'the log goes offline');
      expect(await rejectionCode(log.append(batch(engine, 'd')))).toBe('LOG_OFFLINE');
      gate.open();
      const cErr = await c.then(() => null, (e: unknown) => e);
      expect(isGodelError(cErr, 'STORAGE_ERROR'), String(cErr)).toBe(true);
      const bOutcome = await b.then(() => 'acked', (e: unknown) => (isGodelError(e) ? e.code : e));
      expect(['acked', 'LOG_OFFLINE']).toContain(bOutcome);
      ({ manager, log } = await restartWithFullRecovery(manager, overrides));
      const found = await valuesOf(log);
      expect(found.slice(0, bOutcome === 'acked' ? 2 : 1)).toEqual([...values('a'), ...(bOutcome === 'acked' ? values('b') : [])]);
    });

    it('acknowledges appends in order across a roll when every fdatasync succeeds', async () => {
      const overrides = { ...DURABLE, 'segment.bytes': '1000' };
      const { manager, log } = await open(overrides);
      const appends = Array.from({ length: 12 }, (_, i) => log.append(batch(engine, `r${i}`, 1, 400)));
      const order: number[] = [];
      appends.forEach((p, i) => void p.then(() => order.push(i)));
      const infos = await Promise.all(appends);
      expect(infos.map((i) => i.baseOffset)).toEqual(Array.from({ length: 12 }, (_, i) => BigInt(i)));
      expect(order).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(log.segmentCount).toBe(6);
      await restartWithFullRecovery(manager, overrides);
    });
  });

  describe.each([
    { file: 'the .log', suffix: '.log' },
    { file: 'the .index', suffix: '.index' },
    { file: 'the .timeindex', suffix: '.timeindex' },
  ])('a failure creating $file of the next segment', ({ suffix }) => {
    it('refuses the append that needed the roll; the others go on', async () => {
      const overrides = { 'segment.bytes': '1000' };
      let { manager, log } = await open(overrides);
      await log.append(batch(engine, 'a', 1, 400));
      await log.append(batch(engine, 'b', 1, 400));
      const first = log.activeSegment.logPath.replace(LOG_FILE_SUFFIX, '');
      const fault = faulty.inject({ op: 'open', match: (p) => p.endsWith(suffix) && !p.startsWith(first), times: 1, code: 'EMFILE' });
      const [c, d, e] = [log.append(batch(engine, 'c', 1, 400)), log.append(batch(engine, 'd', 1, 400)), log.append(batch(engine, 'e', 1, 400))];
      expect(await rejectionCode(c)).toBe('STORAGE_ERROR');
      expect((await d).baseOffset).toBe(2n);
      expect((await e).baseOffset).toBe(3n);
      expect(fault.fired).toBe(1);
      expect(log.isOffline).toBe(false);
      expect(log.segmentBaseOffsets()).toEqual([0n, 2n]);
      const expected = [...values('a'), ...values('b'), ...values('d'), ...values('e')];
      expect(await valuesOf(log)).toEqual(expected);
      ({ manager, log } = await restartWithFullRecovery(manager, overrides));
      expect(await valuesOf(log)).toEqual(expected);
    });

    it('leaves nothing behind that a later restart would trip over', async () => {
      const overrides = { 'segment.bytes': '1000' };
      let { manager, log } = await open(overrides);
      await log.append(batch(engine, 'a', 1, 300));
      await log.append(batch(engine, 'b', 1, 300));
      const first = log.activeSegment.logPath.replace(LOG_FILE_SUFFIX, '');
      faulty.inject({ op: 'open', match: (p) => p.endsWith(suffix) && !p.startsWith(first), times: 1, code: 'ENOSPC' });
      // C needs a new segment, whose creation fails; D is small enough for the old one.
      expect(await rejectionCode(log.append(batch(engine, 'c', 1, 400)))).toBe('STORAGE_ERROR');
      expect((await log.append(batch(engine, 'd', 1, 50))).baseOffset).toBe(2n);
      // E rolls at offset 3, past where the failed roll would have started a segment (2).
      expect((await log.append(batch(engine, 'e', 1, 400))).baseOffset).toBe(3n);
      expect((await log.append(batch(engine, 'f', 1, 400))).baseOffset).toBe(4n);
      expect(log.segmentBaseOffsets()).toEqual([0n, 3n]);
      const expected = [...values('a'), ...values('b'), ...values('d'), ...values('e'), ...values('f')];
      expect(await valuesOf(log)).toEqual(expected);
      await manager.shutdown();
      managers = managers.filter((m) => m !== manager);
      ({ manager, log } = await open(overrides, engine));
      expect(manager.hadCleanShutdown).toBe(true);
      expect(log.segmentBaseOffsets()).toEqual([0n, 3n]);
      expect(await valuesOf(log)).toEqual(expected);
      ({ manager, log } = await restartWithFullRecovery(manager, overrides));
      expect(await valuesOf(log)).toEqual(expected);
    });
  });
});
