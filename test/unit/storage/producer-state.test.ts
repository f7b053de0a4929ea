// Idempotent producers on a partition log: retries are acknowledged with the original offsets and
// written once, gaps and old epochs are refused, and the state survives restarts.
import fs from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../../ts/storage/log-manager.js';
import type { PartitionLog } from '../../../ts/storage/partition-log.js';
import { testEngines } from '../../helpers/engines.js';
import { batchOf, decodeRecords, tempDir } from '../../helpers/storage.js';

const tp = { topic: 'idem', partition: 0 };

describe.each(testEngines)('idempotent producers: $name engine', ({ engine }) => {
  let dir: string;
  let manager: LogManager | undefined;

  beforeEach(async () => {
    dir = await tempDir(`idem-${engine.name}`);
  });
  afterEach(async () => {
    await manager?.shutdown();
    manager = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function open(): Promise<PartitionLog> {
    manager = await LogManager.open({ dataDir: dir, engine });
    return manager.getOrCreateLog(tp);
  }

  const batch = (tag: string, seq: number, count = 2, epoch = 0, producerId = 42n) =>
    batchOf(engine, tag, count, { producerId, producerEpoch: epoch, baseSequence: seq });

  it('acknowledges a retried batch with its original offsets and writes it once', async () => {
    const log = await open();
    const first = await log.append(batch('a', 0));
    await log.append(batch('b', 2));
    const retry = await log.append(batch('a', 0));
    expect(retry.baseOffset).toBe(first.baseOffset);
    expect(retry.lastOffset).toBe(first.lastOffset);
    expect(log.logEndOffset).toBe(4n);
    const values = decodeRecords((await log.read(0n, 1 << 20)).records).map((r) => r.value);
    expect(values).toEqual(['a-0', 'a-1', 'b-0', 'b-1']);
  });

  it('answers a retry of a batch still being written once that write lands', async () => {
    const log = await open();
    const [one, two] = await Promise.all([log.append(batch('x', 0)), log.append(batch('x', 0))]);
    expect(two.baseOffset).toBe(one.baseOffset);
    expect(log.logEndOffset).toBe(2n);
  });

  it('refuses a sequence gap and an older epoch, accepts a new epoch from 0', async () => {
    const log = await open();
    await log.append(batch('a', 0));
    await expect(log.append(batch('gap', 5))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    await log.append(batch('b', 0, 2, 1));
    await expect(log.append(batch('old', 2, 2, 0))).rejects.toMatchObject({ code: 'INVALID_PRODUCER_EPOCH' });
    await expect(log.append(batch('bad', 3, 2, 2))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(log.logEndOffset).toBe(4n);
  });

  it('keeps producers apart and remembers only the last five batches', async () => {
    const log = await open();
    for (let i = 0; i < 7; i++) await log.append(batch(`p${i}`, i * 2, 2, 0, 1n));
    await log.append(batch('q', 0, 1, 0, 2n));
    // The last five batches of producer 1 are recognised; older ones are out of order.
    expect((await log.append(batch('p6', 12, 2, 0, 1n))).baseOffset).toBe(12n);
    expect((await log.append(batch('p2', 4, 2, 0, 1n))).baseOffset).toBe(4n);
    await expect(log.append(batch('p0', 0, 2, 0, 1n))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(log.logEndOffset).toBe(15n);
  });

  it('recognises retries after a clean restart (snapshot) and after a crash (replay)', async () => {
    let log = await open();
    await log.append(batch('a', 0));
    await log.append(batch('b', 2));
    await manager!.shutdown();
    manager = await LogManager.open({ dataDir: dir, engine });
    log = manager.getLog(tp)!;
    expect((await log.append(batch('b', 2))).baseOffset).toBe(2n);
    await expect(log.append(batch('gap', 9))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    await log.append(batch('c', 4));
    // A crash: no clean shutdown, no new snapshot. The state is rebuilt from the batches.
    await log.flush();
    const files = await fs.readdir(log.dir);
    for (const f of files.filter((n) => n.endsWith('.snapshot'))) await fs.rm(`${log.dir}/${f}`);
    await manager!.shutdown();
    await fs.rm(`${dir}/.kafka_cleanshutdown`);
    for (const f of (await fs.readdir(log.dir)).filter((n) => n.endsWith('.snapshot'))) await fs.rm(`${log.dir}/${f}`);
    manager = await LogManager.open({ dataDir: dir, engine });
    log = manager.getLog(tp)!;
    expect((await log.append(batch('c', 4))).baseOffset).toBe(4n);
    expect(log.logEndOffset).toBe(6n);
  });
});
