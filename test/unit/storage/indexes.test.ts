// OffsetIndex and TimeIndex: append order, lookups, truncation, and loading files from disk with
// Kafka's sanity checks (a bad file is refused, so the caller rebuilds it).
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OffsetIndex } from '../../../ts/storage/offset-index.js';
import { TimeIndex } from '../../../ts/storage/time-index.js';
import { testEngines } from '../../helpers/engines.js';
import { tempDir } from '../../helpers/storage.js';

describe.each(testEngines)('indexes: $name engine', ({ engine }) => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir(`index-${engine.name}`);
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const open = (name: string) => engine.openSegmentFile(path.join(dir, name), { create: true });

  it('offset index: greatest entry at or below the target, segment start below the first', async () => {
    const index = new OffsetIndex(engine, await open('a.index'), 1000n, 1024);
    index.append(1010n, 4100);
    index.append(1020n, 8300);
    index.append(1035n, 12500);
    expect(index.lookup(1005n)).toEqual({ offset: 1000n, position: 0 });
    expect(index.lookup(1010n)).toEqual({ offset: 1010n, position: 4100 });
    expect(index.lookup(1034n)).toEqual({ offset: 1020n, position: 8300 });
    expect(index.lookup(1_000_000n)).toEqual({ offset: 1035n, position: 12500 });
    expect(index.lookup(0n)).toEqual({ offset: 1000n, position: 0 });
    expect(() => index.append(1030n, 20000)).toThrow(/does not follow/);
    expect(() => index.append(1040n, 12000)).toThrow(/does not follow/);
    index.truncateTo(1020n);
    expect(index.entries).toBe(1);
    await index.close();
  });

  it('offset index: written in Kafka layout and loaded back', async () => {
    const index = new OffsetIndex(engine, await open('b.index'), 50n, 1024);
    for (let i = 1; i <= 100; i++) index.append(50n + BigInt(i * 3), i * 5000);
    await index.close();
    const raw = await fs.readFile(path.join(dir, 'b.index'));
    expect(raw.length).toBe(800);
    expect(raw.readUInt32BE(0)).toBe(3);
    expect(raw.readUInt32BE(4)).toBe(5000);
    const loaded = await OffsetIndex.load(engine, await open('b.index'), 50n, 1024, 600_000);
    expect(loaded).not.toBeNull();
    expect(loaded!.entries).toBe(100);
    expect(loaded!.lookup(50n + 151n)).toEqual({ offset: 50n + 150n, position: 250_000 });
    await loaded!.file.close();
  });

  it('offset index: refuses files that fail the sanity check', async () => {
    const write = async (name: string, buf: Buffer) => fs.writeFile(path.join(dir, name), buf);
    const entries = (pairs: number[][]) => Buffer.concat(pairs.map(([o, p]) => {
      const b = Buffer.alloc(8);
      b.writeUInt32BE(o!, 0);
      b.writeUInt32BE(p!, 4);
      return b;
    }));
    await write('odd.index', Buffer.alloc(13, 1));
    await write('back.index', entries([[5, 100], [3, 200]]));
    await write('past.index', entries([[5, 100], [9, 99_999]]));
    await write('zeros.index', Buffer.concat([entries([[5, 100], [9, 300]]), Buffer.alloc(64)]));
    for (const name of ['odd.index', 'back.index', 'past.index']) {
      const file = await open(name);
      expect(await OffsetIndex.load(engine, file, 0n, 1024, 1000), name).toBeNull();
      await file.close();
    }
    // Trailing zero entries are preallocated space, not entries.
    const file = await open('zeros.index');
    const loaded = await OffsetIndex.load(engine, file, 0n, 1024, 1000);
    expect(loaded!.entries).toBe(2);
    await loaded!.close();
    expect((await fs.stat(path.join(dir, 'zeros.index'))).size).toBe(16);
  });

  it('time index: only growing timestamps are kept; lookups by time', async () => {
    const index = new TimeIndex(engine, await open('c.timeindex'), 0n, 1200);
    index.maybeAppend(100n, 5n);
    index.maybeAppend(90n, 8n); // not larger: ignored
    index.maybeAppend(200n, 10n);
    index.maybeAppend(300n, 20n);
    expect(index.entries).toBe(3);
    expect(index.lookup(50n)).toBeNull();
    expect(index.lookup(100n)).toEqual({ timestamp: 100n, offset: 5n });
    expect(index.lookup(250n)).toEqual({ timestamp: 200n, offset: 10n });
    expect(index.lookup(1n << 62n)).toEqual({ timestamp: 300n, offset: 20n });
    await index.close();
    const loaded = await TimeIndex.load(engine, await open('c.timeindex'), 0n, 1200);
    expect(loaded!.lastEntry()).toEqual({ timestamp: 300n, offset: 20n });
    await loaded!.file.close();
    await fs.writeFile(path.join(dir, 'bad.timeindex'), Buffer.alloc(25));
    const bad = await open('bad.timeindex');
    expect(await TimeIndex.load(engine, bad, 0n, 1200)).toBeNull();
    await bad.close();
  });

  it('a full index says so (the segment rolls)', async () => {
    const index = new OffsetIndex(engine, await open('d.index'), 0n, 24);
    index.append(1n, 10);
    index.append(2n, 20);
    index.append(3n, 30);
    expect(index.isFull()).toBe(true);
    expect(() => index.append(4n, 40)).toThrow(/full/);
    await index.close();
  });
});
