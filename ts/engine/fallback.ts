// The pure-TypeScript storage engine: the twin of the native addon, used where the addon does not
// load and as the reference the parity tests hold the addon to. Disk work goes through node:fs
// callbacks, so it runs on libuv's thread pool and never blocks the event loop; errors are the
// Node fs errors themselves (code 'ENOSPC', 'EIO', 'ENOENT' …).
import fs from 'node:fs';
import os from 'node:os';
import { crc32cUnchecked } from './crc32c.js';
import type { LogEngine, OpenSegmentOptions, SegmentFile } from './types.js';
import { OFFSET_INDEX_ENTRY_BYTES, TIME_INDEX_ENTRY_BYTES } from './types.js';
import {
  checkBuffers,
  checkCrcInitial,
  checkOffsetIndexSearch,
  checkPosition,
  checkRange,
  checkReadTarget,
  checkTimeIndexSearch,
} from './validate.js';

const FILE_MODE = 0o644;
/** How many times a writev may write nothing before we give up (a regular file never should). */
const ZERO_WRITES_MAX = 8;
const U32_MAX = 0xffffffff;
const EBADF = os.constants.errno.EBADF;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

export function createTsEngine(): LogEngine {
  return {
    name: 'ts',
    crc32c(data: Uint8Array, start: number, end: number, initial: number): number {
      checkRange(data, start, end);
      checkCrcInitial(initial);
      return crc32cUnchecked(data, start, end, initial);
    },
    openSegmentFile(path: string, options: OpenSegmentOptions): Promise<SegmentFile> {
      return TsSegmentFile.open(path, options);
    },
    searchOffsetIndex(index: Uint8Array, entries: number, targetRelativeOffset: number): number {
      checkOffsetIndexSearch(index, entries, targetRelativeOffset);
      return searchOffsetIndex(index, entries, targetRelativeOffset);
    },
    searchTimeIndex(index: Uint8Array, entries: number, targetTimestamp: bigint): number {
      checkTimeIndexSearch(index, entries, targetTimestamp);
      return searchTimeIndex(index, entries, targetTimestamp);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Index search

function readU32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function readI32(b: Uint8Array, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}

/** Slot of the last entry whose relative offset is <= target, or -1. Equal keys give the last one. */
export function searchOffsetIndex(index: Uint8Array, entries: number, target: number): number {
  if (entries === 0 || target < 0) return -1;
  if (target >= U32_MAX) return entries - 1;
  // Invariant: every slot < lo has key <= target, every slot >= hi has key > target.
  let lo = 0;
  let hi = entries;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (readU32(index, mid * OFFSET_INDEX_ENTRY_BYTES) <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * Slot of the last entry whose timestamp is <= target, or -1. The i64 timestamps are compared as a
 * (signed high word, unsigned low word) pair, so the loop does no BigInt arithmetic.
 */
export function searchTimeIndex(index: Uint8Array, entries: number, target: bigint): number {
  if (entries === 0 || target < I64_MIN) return -1;
  if (target >= I64_MAX) return entries - 1;
  const targetHi = Number(BigInt.asIntN(32, target >> 32n));
  const targetLo = Number(BigInt.asUintN(32, target));
  let lo = 0;
  let hi = entries;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = mid * TIME_INDEX_ENTRY_BYTES;
    const keyHi = readI32(index, p);
    if (keyHi < targetHi || (keyHi === targetHi && readU32(index, p + 4) <= targetLo)) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

// ---------------------------------------------------------------------------------------------
// Segment files

function fsOpen(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, flags, FILE_MODE, (err, fd) => (err ? reject(err) : resolve(fd)));
  });
}

function fsWritev(fd: number, buffers: Uint8Array[], position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, buffers, position, (err, written) => (err ? reject(err) : resolve(written)));
  });
}

function fsFdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()));
  });
}

function fsRead(fd: number, target: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, target, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

function fsFtruncate(fd: number, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.ftruncate(fd, size, (err) => (err ? reject(err) : resolve()));
  });
}

function fsFstatSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.fstat(fd, (err, stats) => (err ? reject(err) : resolve(stats.size)));
  });
}

function fsClose(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.close(fd, (err) => (err ? reject(err) : resolve()));
  });
}

function ioError(message: string, path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`EIO: ${message}, writev '${path}'`);
  err.code = 'EIO';
  err.syscall = 'writev';
  err.path = path;
  return err;
}

/** The buffers left after the first `skip` bytes of `buffers` (views, no copies). */
function dropPrefix(buffers: Uint8Array[], skip: number): Uint8Array[] {
  let i = 0;
  while (i < buffers.length && skip >= buffers[i].length) {
    skip -= buffers[i].length;
    i++;
  }
  const rest = buffers.slice(i);
  if (rest.length > 0 && skip > 0) rest[0] = rest[0].subarray(skip);
  return rest;
}

interface SyncWaiters {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function syncWaiters(): SyncWaiters {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class TsSegmentFile implements SegmentFile {
  readonly path: string;
  #fd: number;
  /** Set by the first close(); from then on every other call rejects with EBADF. */
  #closePromise: Promise<void> | undefined;
  #closed = false;
  /** Operations started and not yet settled (a queued sync counts from when it is promised). */
  #inFlight = 0;
  #idle: (() => void) | undefined;
  /** The fdatasync now running, if any. */
  #syncRunning: Promise<void> | undefined;
  /** The callers waiting for the sync that will start when the running one ends. */
  #syncNext: SyncWaiters | undefined;
  #syncCount = 0;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  static async open(path: string, options: OpenSegmentOptions): Promise<TsSegmentFile> {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
    if (path.includes('\0')) throw new TypeError('path must not contain NUL bytes');
    if (typeof options !== 'object' || options === null || typeof options.create !== 'boolean') {
      throw new TypeError('options.create must be a boolean');
    }
    // O_CREAT without O_TRUNC: opening an existing segment with create=true keeps its bytes.
    const flags = fs.constants.O_RDWR | (options.create ? fs.constants.O_CREAT : 0);
    return new TsSegmentFile(path, await fsOpen(path, flags));
  }

  get syncCount(): number {
    return this.#syncCount;
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<number> {
    checkBuffers(buffers);
    checkPosition(position);
    let total = 0;
    for (const b of buffers) total += b.length;
    checkPosition(position + total, 'end of write');
    return this.#track('write', async () => {
      let rest = buffers.filter((b) => b.length > 0);
      let written = 0;
      let zeroWrites = 0;
      while (written < total) {
        const n = await fsWritev(this.#fd, rest, position + written);
        if (n === 0 && ++zeroWrites > ZERO_WRITES_MAX) throw ioError('writev keeps writing 0 bytes', this.path);
        written += n;
        if (written < total) rest = dropPrefix(rest, n);
      }
      return written;
    });
  }

  sync(): Promise<void> {
    if (this.#closePromise) return Promise.reject(this.#closedError('fdatasync'));
    if (this.#syncRunning === undefined) return this.#track('fdatasync', () => this.#startSync());
    if (this.#syncNext === undefined) {
      const next = syncWaiters();
      this.#syncNext = next;
      // Counted as in flight from now, so close() waits for the sync it was promised.
      void this.#track('fdatasync', () => next.promise).catch(() => undefined);
    }
    return this.#syncNext.promise;
  }

  /** Runs one fdatasync; when it ends, starts the one the callers queued meanwhile, if any. */
  #startSync(): Promise<void> {
    const running = fsFdatasync(this.#fd)
      .then(() => {
        this.#syncCount++; // only the fdatasyncs that succeeded, as the native engine counts
      })
      .finally(() => {
        this.#syncRunning = undefined;
        const next = this.#syncNext;
        if (next === undefined) return;
        this.#syncNext = undefined;
        this.#startSync().then(next.resolve, next.reject);
      });
    this.#syncRunning = running;
    return running;
  }

  async read(target: Uint8Array, targetOffset: number, length: number, position: number): Promise<number> {
    checkReadTarget(target, targetOffset, length);
    checkPosition(position);
    return this.#track('read', () => (length === 0 ? Promise.resolve(0) : fsRead(this.#fd, target, targetOffset, length, position)));
  }

  async truncate(size: number): Promise<void> {
    checkPosition(size, 'size');
    return this.#track('ftruncate', () => fsFtruncate(this.#fd, size));
  }

  async size(): Promise<number> {
    return this.#track('fstat', () => fsFstatSize(this.#fd));
  }

  /** Closing again is harmless, as for a FileHandle: it joins the close under way, or resolves. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closePromise ??= this.#drain()
      .then(() => fsClose(this.#fd))
      .finally(() => {
        this.#closed = true;
      });
    return this.#closePromise;
  }

  async #drain(): Promise<void> {
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
  }

  /** Runs `op` unless the file is closed or closing, counting it as in flight until it settles. */
  #track<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.#closePromise) return Promise.reject(this.#closedError(what));
    this.#inFlight++;
    let result: Promise<T>;
    try {
      result = op();
    } catch (err) {
      result = Promise.reject(err);
    }
    return result.finally(() => {
      if (--this.#inFlight === 0 && this.#idle) {
        const idle = this.#idle;
        this.#idle = undefined;
        idle();
      }
    });
  }

  /** Shaped like the fs error a closed descriptor would give, and worded as the native engine does. */
  #closedError(syscall: string): Error {
    const err: NodeJS.ErrnoException = new Error(`EBADF: segment file is closed, ${syscall} '${this.path}'`);
    err.errno = -EBADF;
    err.code = 'EBADF';
    err.syscall = syscall;
    err.path = this.path;
    return err;
  }
}
