// SegmentFile behaviour, the same for both engines: vectored writes at positions, reads, truncate,
// size, close, open flags, Node fs errors, and group commit of fdatasync.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEngine, SegmentFile } from '../../../ts/engine/types.js';
import { referenceEngine, testEngines } from '../../helpers/engines.js';

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return out;
}

/** What a rejected promise rejected with, or a failure when it resolved. */
async function rejection(promise: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try {
    await promise;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

describe.each(testEngines)('SegmentFile: $name engine', ({ engine }) => {
  let dir: string;
  let counter = 0;
  const opened: SegmentFile[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), `godel-segment-${engine.name}-`));
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((f) => f.close()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  function freshPath(): string {
    return path.join(dir, `${String(counter++).padStart(20, '0')}.log`);
  }

  async function open(file = freshPath(), create = true): Promise<SegmentFile> {
    const f = await engine.openSegmentFile(file, { create });
    opened.push(f);
    return f;
  }

  it('writes many buffers back to back with one call and reads them back', async () => {
    const f = await open();
    expect(f.path.endsWith('.log')).toBe(true);
    const buffers = Array.from({ length: 300 }, (_, i) => pattern((i * 37) % 700, i));
    const total = buffers.reduce((n, b) => n + b.length, 0);
    expect(await f.writev(buffers, 0)).toBe(total);
    expect(await f.writev(buffers, total)).toBe(total);
    expect(await f.size()).toBe(2 * total);
    const expected = Buffer.concat([...buffers, ...buffers]);
    const back = Buffer.alloc(expected.length);
    expect(await f.read(back, 0, back.length, 0)).toBe(back.length);
    expect(back.equals(expected)).toBe(true);
    expect((await fs.readFile(f.path)).equals(expected)).toBe(true);
  });

  it('writes more buffers than one writev system call takes (IOV_MAX)', async () => {
    const f = await open();
    const buffers = Array.from({ length: 5000 }, (_, i) => pattern(1 + (i % 5), i));
    const total = buffers.reduce((n, b) => n + b.length, 0);
    expect(await f.writev(buffers, 10)).toBe(total);
    const back = Buffer.alloc(total);
    expect(await f.read(back, 0, total, 10)).toBe(total);
    expect(back.equals(Buffer.concat(buffers))).toBe(true);
  });

  it('accepts Uint8Array views, empty buffers and an empty batch', async () => {
    const f = await open();
    const backing = pattern(100, 1);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 10, 20);
    expect(await f.writev([], 0)).toBe(0);
    expect(await f.writev([new Uint8Array(0), view, Buffer.alloc(0)], 0)).toBe(20);
    expect(await f.size()).toBe(20);
    expect((await fs.readFile(f.path)).equals(backing.subarray(10, 30))).toBe(true);
  });

  it('overwrites in place without touching the rest of the file', async () => {
    const f = await open();
    await f.writev([Buffer.alloc(100, 1)], 0);
    await f.writev([Buffer.alloc(10, 2)], 45);
    const expected = Buffer.alloc(100, 1);
    expected.fill(2, 45, 55);
    expect((await fs.readFile(f.path)).equals(expected)).toBe(true);
  });

  it('writes at positions beyond the end of the file, leaving zeros between', async () => {
    const f = await open();
    await f.writev([Buffer.from('head')], 0);
    const far = 1 << 20;
    await f.writev([Buffer.from('tail'), Buffer.from('!')], far);
    expect(await f.size()).toBe(far + 5);
    const gap = Buffer.alloc(100, 0xaa);
    expect(await f.read(gap, 0, 100, 4096)).toBe(100);
    expect(gap.equals(Buffer.alloc(100, 0))).toBe(true);
    const tail = Buffer.alloc(5);
    expect(await f.read(tail, 0, 5, far)).toBe(5);
    expect(tail.toString()).toBe('tail!');
  });

  it('reads short at the end of the file and 0 past it', async () => {
    const f = await open();
    await f.writev([pattern(100, 3)], 0);
    const target = Buffer.alloc(300, 0xee);
    expect(await f.read(target, 0, 200, 50)).toBe(50);
    expect(target.subarray(0, 50).equals(pattern(100, 3).subarray(50))).toBe(true);
    expect(target[50]).toBe(0xee);
    expect(await f.read(target, 0, 10, 100)).toBe(0);
    expect(await f.read(target, 0, 10, 10_000_000)).toBe(0);
    expect(await f.read(target, 0, 0, 0)).toBe(0);
  });

  it('reads into the target at the given offset only', async () => {
    const f = await open();
    await f.writev([Buffer.from('abcdefghij')], 0);
    const target = Buffer.alloc(12, '.');
    expect(await f.read(target, 4, 5, 2)).toBe(5);
    expect(target.toString()).toBe('....cdefg...');
    const view = new Uint8Array(target.buffer, target.byteOffset + 1, 4);
    expect(await f.read(view, 1, 2, 0)).toBe(2);
    expect(target.toString()).toBe('..abcdefg...');
  });

  it('truncates down and extends with zeros, and size() follows', async () => {
    const f = await open();
    expect(await f.size()).toBe(0);
    await f.writev([pattern(1000, 4)], 0);
    await f.truncate(600);
    expect(await f.size()).toBe(600);
    expect((await fs.stat(f.path)).size).toBe(600);
    await f.truncate(800);
    const back = Buffer.alloc(800);
    expect(await f.read(back, 0, 800, 0)).toBe(800);
    expect(back.subarray(0, 600).equals(pattern(1000, 4).subarray(0, 600))).toBe(true);
    expect(back.subarray(600).equals(Buffer.alloc(200))).toBe(true);
    await f.truncate(0);
    expect(await f.size()).toBe(0);
  });

  it('opens an existing file with create: true without truncating it', async () => {
    const file = freshPath();
    await fs.writeFile(file, 'existing segment bytes');
    const f = await open(file, true);
    expect(await f.size()).toBe(22);
    const back = Buffer.alloc(22);
    await f.read(back, 0, 22, 0);
    expect(back.toString()).toBe('existing segment bytes');
    await f.writev([Buffer.from('E')], 0);
    expect(await fs.readFile(file, 'utf8')).toBe('Existing segment bytes');
  });

  it('opens an existing file with create: false for reading and writing', async () => {
    const file = freshPath();
    await fs.writeFile(file, 'abc');
    const f = await open(file, false);
    await f.writev([Buffer.from('d')], 3);
    expect(await fs.readFile(file, 'utf8')).toBe('abcd');
  });

  it('creates a missing file with create: true', async () => {
    const file = freshPath();
    const f = await open(file, true);
    expect(existsSync(file)).toBe(true);
    expect(await f.size()).toBe(0);
  });

  it('fails with ENOENT for a missing file and create: false, and creates nothing', async () => {
    const file = freshPath();
    const err = await rejection(engine.openSegmentFile(file, { create: false }));
    expect(err.code).toBe('ENOENT');
    expect(existsSync(file)).toBe(false);
  });

  it('fails with ENOENT when the directory is missing, even with create: true', async () => {
    const err = await rejection(engine.openSegmentFile(path.join(dir, 'no-such-dir', 'x.log'), { create: true }));
    expect(err.code).toBe('ENOENT');
  });

  it('fails with EISDIR when asked to open a directory', async () => {
    const err = await rejection(engine.openSegmentFile(dir, { create: false }));
    expect(err.code).toBe('EISDIR');
  });

  // /dev/full is Linux's always-full device; elsewhere the disk-full path is covered by the fault
  // tests' injected ENOSPC (test/faults).
  it.runIf(existsSync('/dev/full'))('reports a full disk as ENOSPC (/dev/full)', async () => {
    const f = await engine.openSegmentFile('/dev/full', { create: false });
    try {
      const err = await rejection(f.writev([Buffer.alloc(4096, 1)], 0));
      expect(err.code).toBe('ENOSPC');
      expect(err).toBeInstanceOf(Error);
    } finally {
      await f.close();
    }
  });

  it('waits for in-flight operations on close, then rejects every later call', async () => {
    const f = await engine.openSegmentFile(freshPath(), { create: true });
    const big = pattern(8 << 20, 5);
    const write = f.writev([big], 0);
    const sync = f.sync();
    const closed = f.close();
    expect(await write).toBe(big.length);
    await sync;
    await closed;
    expect((await fs.readFile(f.path)).equals(big)).toBe(true);
    const target = Buffer.alloc(4);
    const calls: [string, () => Promise<unknown>][] = [
      ['writev', () => f.writev([Buffer.from('x')], 0)],
      ['read', () => f.read(target, 0, 4, 0)],
      ['sync', () => f.sync()],
      ['truncate', () => f.truncate(0)],
      ['size', () => f.size()],
    ];
    for (const [what, call] of calls) {
      const err = await rejection(call());
      expect(err.code, what).toBe('EBADF');
      expect(err.message, what).toMatch(/closed/i);
      expect(err.message, what).toContain(f.path);
    }
    // Closing again is harmless, as for a FileHandle.
    await expect(f.close()).resolves.toBeUndefined();
  });

  it('lets several close() calls share one close', async () => {
    const f = await engine.openSegmentFile(freshPath(), { create: true });
    const write = f.writev([pattern(1 << 20, 8)], 0);
    await Promise.all([f.close(), f.close(), write]);
    expect((await rejection(f.size())).code).toBe('EBADF');
  });

  it('rejects calls made while close is waiting', async () => {
    const f = await engine.openSegmentFile(freshPath(), { create: true });
    const write = f.writev([pattern(1 << 20, 6)], 0);
    const closed = f.close();
    const err = await rejection(f.writev([Buffer.from('late')], 0));
    expect(err.code).toBe('EBADF');
    await write;
    await closed;
    expect((await fs.stat(f.path)).size).toBe(1 << 20);
  });

  it('rejects bad arguments without doing any work', async () => {
    const f = await open();
    await f.writev([Buffer.from('keep')], 0);
    const bad: [string, () => Promise<unknown>, typeof Error][] = [
      ['buffers not an array', () => f.writev(Buffer.from('x') as unknown as Uint8Array[], 0), TypeError],
      ['a string among the buffers', () => f.writev([Buffer.from('x'), 'y' as unknown as Uint8Array], 0), TypeError],
      ['a negative position', () => f.writev([Buffer.from('x')], -1), RangeError],
      ['a fractional position', () => f.writev([Buffer.from('x')], 1.5), RangeError],
      ['a NaN position', () => f.writev([Buffer.from('x')], Number.NaN), RangeError],
      ['a read past the target', () => f.read(Buffer.alloc(4), 2, 3, 0), RangeError],
      ['a negative read length', () => f.read(Buffer.alloc(4), 0, -1, 0), RangeError],
      ['a negative read position', () => f.read(Buffer.alloc(4), 0, 4, -5), RangeError],
      ['a read target that is not bytes', () => f.read([0, 0] as unknown as Uint8Array, 0, 1, 0), TypeError],
      ['a negative truncate size', () => f.truncate(-1), RangeError],
      ['a fractional truncate size', () => f.truncate(2.5), RangeError],
    ];
    for (const [what, call, type] of bad) {
      // Wrapped in an async function so a synchronous throw counts as a rejection too.
      await expect((async () => call())(), what).rejects.toThrow(type);
    }
    expect(await fs.readFile(f.path, 'utf8')).toBe('keep');
  });

  it('rejects bad open arguments', async () => {
    const bad: [string, () => Promise<unknown>][] = [
      ['an empty path', () => engine.openSegmentFile('', { create: true })],
      ['a NUL byte in the path', () => engine.openSegmentFile(path.join(dir, 'a\0b.log'), { create: true })],
      ['no options', () => engine.openSegmentFile(freshPath(), undefined as unknown as { create: boolean })],
      ['a non-boolean create', () => engine.openSegmentFile(freshPath(), { create: 1 as unknown as boolean })],
    ];
    for (const [what, call] of bad) {
      const err = await rejection((async () => call())());
      expect(err, what).toBeInstanceOf(TypeError);
    }
  });

  it('writes from many concurrent writev calls at disjoint positions', async () => {
    const f = await open();
    const chunk = 4096;
    const writers = 64;
    const writes = Array.from({ length: writers }, (_, i) => {
      const slot = (i * 37) % writers; // out of order, so later slots are often written first
      return f.writev([pattern(chunk / 2, slot), pattern(chunk / 2, slot + 1000)], slot * chunk);
    });
    expect(await Promise.all(writes)).toEqual(Array.from({ length: writers }, () => chunk));
    const back = await fs.readFile(f.path);
    expect(back.length).toBe(writers * chunk);
    for (let slot = 0; slot < writers; slot++) {
      const expected = Buffer.concat([pattern(chunk / 2, slot), pattern(chunk / 2, slot + 1000)]);
      expect(back.subarray(slot * chunk, (slot + 1) * chunk).equals(expected), `slot ${slot}`).toBe(true);
    }
  });

  describe('group commit', () => {
    it('starts with no syncs and counts a lone sync once', async () => {
      const f = await open();
      expect(f.syncCount).toBe(0);
      await f.writev([Buffer.from('x')], 0);
      await f.sync();
      expect(f.syncCount).toBe(1);
      await f.sync();
      expect(f.syncCount).toBe(2);
    });

    it('covers many simultaneous sync() calls with at most two fdatasyncs', async () => {
      const f = await open();
      await f.writev([pattern(1 << 16, 7)], 0);
      const calls = 200;
      const syncs = Array.from({ length: calls }, () => f.sync());
      await Promise.all(syncs);
      // The first call starts a sync; every other call arrives while it runs and shares the next.
      expect(f.syncCount).toBeGreaterThanOrEqual(1);
      expect(f.syncCount).toBeLessThanOrEqual(2);
    });

    it('gives each caller of a wave the same next sync, started after the running one', async () => {
      const f = await open();
      const order: string[] = [];
      const first = f.sync().then(() => order.push('first'));
      const wave = Array.from({ length: 20 }, (_, i) => f.sync().then(() => order.push(`wave ${i}`)));
      await Promise.all([first, ...wave]);
      expect(order[0]).toBe('first');
      expect(f.syncCount).toBe(2);
      await f.sync();
      expect(f.syncCount).toBe(3);
    });

    it('never lets a sync called after a write completed resolve with a sync that started before', async () => {
      const f = await open();
      for (let round = 0; round < 20; round++) {
        const before = f.syncCount;
        const running = f.sync();
        await f.writev([pattern(4096, round)], round * 4096);
        // This write completed before this sync() call, so the call must get an fdatasync of its
        // own or share a later one, never resolve with `running`, which started before the write.
        const covering = f.sync();
        await Promise.all([running, covering]);
        expect(f.syncCount, `round ${round}`).toBe(before + 2);
      }
    });

    it('keeps every appender durable under concurrent writev + sync', async () => {
      const f = await open();
      const appenders = 16;
      const perAppender = 10;
      const chunk = 1024;
      await Promise.all(
        Array.from({ length: appenders }, async (_, a) => {
          for (let i = 0; i < perAppender; i++) {
            const slot = i * appenders + a;
            await f.writev([pattern(chunk, slot)], slot * chunk);
            await f.sync();
          }
        }),
      );
      const calls = appenders * perAppender;
      expect(f.syncCount).toBeGreaterThan(0);
      expect(f.syncCount).toBeLessThan(calls);
      const back = await fs.readFile(f.path);
      for (let slot = 0; slot < calls; slot++) {
        expect(back.subarray(slot * chunk, (slot + 1) * chunk).equals(pattern(chunk, slot)), `slot ${slot}`).toBe(true);
      }
    });
  });
});

/** One script of segment file operations; every engine must give the same results and bytes. */
async function runScript(engine: LogEngine, file: string): Promise<unknown[]> {
  const results: unknown[] = [];
  const note = async (what: string, op: () => Promise<unknown>): Promise<void> => {
    try {
      results.push([what, await op()]);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      results.push([what, 'rejected', e.constructor.name, e.code ?? null, e.message.replace(file, '<file>')]);
    }
  };
  await note('open missing', () => engine.openSegmentFile(file, { create: false }).then(() => 'opened'));
  const f = await engine.openSegmentFile(file, { create: true });
  await note('writev', () => f.writev([pattern(1000, 1), pattern(3, 2), new Uint8Array(0), pattern(5000, 3)], 7));
  await note('writev far', () => f.writev([pattern(10, 4)], 100_000));
  await note('size', () => f.size());
  await note('truncate', () => f.truncate(50_000));
  await note('read', async () => {
    const t = Buffer.alloc(70_000, 0xcc);
    const n = await f.read(t, 3, 69_990, 0);
    return [n, t.toString('base64')];
  });
  await note('read past end', () => f.read(Buffer.alloc(10), 0, 10, 60_000));
  await note('sync', () => f.sync().then(() => f.syncCount));
  await note('bad position', () => f.writev([pattern(1, 1)], -3));
  await note('bad read', () => f.read(Buffer.alloc(1), 0, 2, 0));
  await note('close', () => f.close());
  await note('size after close', () => f.size());
  await note('close again', () => f.close());
  results.push(['bytes', (await fs.readFile(file)).toString('base64')]);
  return results;
}

describe('SegmentFile parity across engines', () => {
  it('gives the same results, errors and bytes for the same script on every engine', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-segment-parity-'));
    try {
      const expected = await runScript(referenceEngine, path.join(dir, 'reference.log'));
      for (const { name, engine } of testEngines) {
        expect(await runScript(engine, path.join(dir, `${name}.log`)), name).toEqual(expected);
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('reads through each engine what the other wrote', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-segment-cross-'));
    try {
      for (const writer of testEngines) {
        for (const reader of testEngines) {
          const file = path.join(dir, `${writer.name}-${reader.name}.log`);
          const w = await writer.engine.openSegmentFile(file, { create: true });
          await w.writev([pattern(12_345, 9), pattern(777, 10)], 0);
          await w.sync();
          await w.close();
          const r = await reader.engine.openSegmentFile(file, { create: true });
          const back = Buffer.alloc(13_122);
          expect(await r.read(back, 0, back.length, 0)).toBe(back.length);
          await r.close();
          expect(back.equals(Buffer.concat([pattern(12_345, 9), pattern(777, 10)])), `${writer.name} -> ${reader.name}`).toBe(true);
        }
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
