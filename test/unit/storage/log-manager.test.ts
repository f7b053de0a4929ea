// LogManager: Kafka's data-directory layout, checkpoints, the directory lock, log deletion and
// config errors before anything is touched.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../../ts/storage/log-manager.js';
import { testEngines } from '../../helpers/engines.js';
import { batchOf, decodeRecords, tempDir } from '../../helpers/storage.js';

describe.each(testEngines)('LogManager: $name engine', ({ engine }) => {
  let dir: string;
  let manager: LogManager | undefined;

  beforeEach(async () => {
    dir = await tempDir(`manager-${engine.name}`);
  });
  afterEach(async () => {
    await manager?.shutdown();
    manager = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("lays out Kafka's directories and checkpoint files", async () => {
    manager = await LogManager.open({ dataDir: dir, engine });
    const a = await manager.getOrCreateLog({ topic: 'my-topic.v2', partition: 3 });
    const b = await manager.getOrCreateLog({ topic: 'other', partition: 0 });
    await a.append(batchOf(engine, 'a', 4));
    await b.append(batchOf(engine, 'b', 2));
    await manager.shutdown();
    manager = undefined;
    const entries = (await fs.readdir(dir)).sort();
    expect(entries).toEqual(['.kafka_cleanshutdown', 'log-start-offset-checkpoint', 'my-topic.v2-3', 'other-0', 'recovery-point-offset-checkpoint']);
    expect(await fs.readdir(path.join(dir, 'my-topic.v2-3'))).toEqual(
      expect.arrayContaining(['00000000000000000000.log', '00000000000000000000.index', '00000000000000000000.timeindex']),
    );
    const checkpoint = (await fs.readFile(path.join(dir, 'recovery-point-offset-checkpoint'), 'utf8')).split('\n');
    expect(checkpoint.slice(0, 2)).toEqual(['0', '2']);
    expect(checkpoint).toContain('my-topic.v2 3 4');
    expect(checkpoint).toContain('other 0 2');
  });

  it('reopens logs whose topic names contain dashes', async () => {
    manager = await LogManager.open({ dataDir: dir, engine });
    await (await manager.getOrCreateLog({ topic: 'a-b-c', partition: 12 })).append(batchOf(engine, 'x'));
    await manager.shutdown();
    manager = await LogManager.open({ dataDir: dir, engine });
    const log = manager.getLog({ topic: 'a-b-c', partition: 12 });
    expect(log?.logEndOffset).toBe(1n);
  });

  it('refuses a data directory another live process holds', async () => {
    await fs.writeFile(path.join(dir, '.lock'), `${process.ppid}\n`);
    await expect(LogManager.open({ dataDir: dir, engine })).rejects.toThrow(/in use by process/);
    // A stale lock from a dead process is taken over.
    await fs.writeFile(path.join(dir, '.lock'), '999999999\n');
    manager = await LogManager.open({ dataDir: dir, engine });
  });

  it('deletes a log: gone at once, files removed', async () => {
    manager = await LogManager.open({ dataDir: dir, engine });
    const log = await manager.getOrCreateLog({ topic: 'doomed', partition: 0 });
    await log.append(batchOf(engine, 'd'));
    await manager.deleteLog({ topic: 'doomed', partition: 0 });
    expect(manager.getLog({ topic: 'doomed', partition: 0 })).toBeUndefined();
    expect((await fs.readdir(dir)).filter((n) => n.startsWith('doomed'))).toEqual([]);
    await expect(log.append(batchOf(engine, 'late'))).rejects.toMatchObject({ code: 'CLOSED' });
    const again = await manager.getOrCreateLog({ topic: 'doomed', partition: 0 });
    expect(again.logEndOffset).toBe(0n);
  });

  it('finishes a topic deletion a crash interrupted', async () => {
    await fs.mkdir(path.join(dir, 'gone-0.1234-delete'));
    await fs.writeFile(path.join(dir, 'gone-0.1234-delete', '00000000000000000000.log'), 'x');
    manager = await LogManager.open({ dataDir: dir, engine });
    expect(await fs.readdir(dir)).not.toContain('gone-0.1234-delete');
    expect(manager.allLogs()).toEqual([]);
  });

  it('refuses bad broker log settings before touching the directory', async () => {
    const fresh = path.join(dir, 'fresh');
    await expect(LogManager.open({ dataDir: fresh, engine, brokerConfig: { 'log.segment.bytes': 'lots' } })).rejects.toThrow(/log\.segment\.bytes/);
    await expect(fs.access(fresh)).rejects.toThrow();
    await expect(LogManager.open({ dataDir: fresh, engine, brokerConfig: { 'log.retention.check.interval.ms': '0' } })).rejects.toThrow(/retention\.check/);
  });

  it('a full offset index rolls the segment', async () => {
    manager = await LogManager.open({ dataDir: dir, engine });
    const log = await manager.getOrCreateLog({ topic: 'tiny', partition: 0 }, { 'segment.index.bytes': '16', 'index.interval.bytes': '1' });
    for (let i = 0; i < 12; i++) await log.append(batchOf(engine, `t${i}`));
    expect(log.segmentCount).toBeGreaterThan(2);
    const values = decodeRecords((await log.read(0n, 1 << 20)).records).map((r) => r.value);
    expect(values[0]).toBe('t0-0');
  });
});
