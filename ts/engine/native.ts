// The native engine: loads the C++ addon (native/, built to build/Release/godel_native.node) and
// wraps it as a LogEngine. Every argument is checked here with ./validate.ts before it crosses into
// C++, which only asserts (and aborts on) what these checks guarantee, so a bad argument fails
// exactly as it does on the TypeScript engine. Loading never throws: a missing or stale addon is
// reported as `error`, and the loader falls back to the TypeScript engine.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogEngine, OpenSegmentOptions, SegmentFile } from './types.js';
import {
  checkBuffers,
  checkCrcInitial,
  checkOffsetIndexSearch,
  checkPosition,
  checkRange,
  checkReadTarget,
  checkTimeIndexSearch,
} from './validate.js';

/** Must equal kAddonAbiVersion in native/common.h; a build/ from another checkout is refused. */
const ADDON_ABI_VERSION = 1;

/**
 * Where the addon may be, relative to this file, in order. This file runs as ts/engine/native.ts
 * (vitest, tsx) and as dist/engine/native.js (after tsc); both are two levels below the repo root.
 */
const CANDIDATES = ['../../build/Release/godel_native.node', '../../build/Debug/godel_native.node'];

/** The segment file object the addon hands out (native/segment_file.cc). */
interface AddonSegmentFile {
  readonly path: string;
  readonly syncCount: number;
  writev(buffers: readonly Uint8Array[], position: number): Promise<number>;
  sync(): Promise<void>;
  read(target: Uint8Array, targetOffset: number, length: number, position: number): Promise<number>;
  truncate(size: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

/** The addon's exports (native/addon.cc). Arguments must already be valid: C++ aborts otherwise. */
interface Addon {
  readonly abiVersion: number;
  readonly crc32cImplementation: string;
  crc32c(data: Uint8Array, start: number, end: number, initial: number): number;
  searchOffsetIndex(index: Uint8Array, entries: number, targetRelativeOffset: number): number;
  searchTimeIndex(index: Uint8Array, entries: number, targetTimestamp: bigint): number;
  openSegmentFile(path: string, create: boolean): Promise<AddonSegmentFile>;
}

export interface NativeLoadResult {
  engine?: LogEngine;
  /** Why the addon is not available (every path tried, and what went wrong with each). */
  error?: string;
  /** Which CRC32C path the addon uses on this CPU ('sse4.2+pclmul', 'armv8-crc', 'slicing-by-8' …). */
  crc32cImplementation?: string;
}

let cached: NativeLoadResult | undefined;

/** The native engine, loaded once per process; never throws. GODEL_NATIVE_PATH overrides the search. */
export function loadNativeEngine(): NativeLoadResult {
  cached ??= load(process.env.GODEL_NATIVE_PATH);
  return cached;
}

function load(override: string | undefined): NativeLoadResult {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates =
    override !== undefined && override !== ''
      ? [path.resolve(override)]
      : CANDIDATES.map((relative) => path.resolve(here, relative));
  const failures: string[] = [];
  const requireAddon = createRequire(import.meta.url);
  for (const candidate of candidates) {
    let addon: unknown;
    try {
      addon = requireAddon(candidate);
    } catch (err) {
      failures.push(`${candidate}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      continue;
    }
    const problem = shapeProblem(addon);
    if (problem !== undefined) {
      failures.push(`${candidate}: ${problem}`);
      continue;
    }
    const checked = addon as Addon;
    return { engine: createNativeEngine(checked), crc32cImplementation: checked.crc32cImplementation };
  }
  const source = override !== undefined && override !== '' ? 'GODEL_NATIVE_PATH' : 'build/';
  return { error: `no usable native addon (from ${source}): ${failures.join('; ')}` };
}

/** Why `addon` is not the addon this file was written for, or undefined when it is. */
function shapeProblem(addon: unknown): string | undefined {
  if (typeof addon !== 'object' || addon === null) return 'not an addon module';
  const exports = addon as Record<string, unknown>;
  if (exports.abiVersion !== ADDON_ABI_VERSION) {
    return `addon ABI version ${String(exports.abiVersion)}, expected ${ADDON_ABI_VERSION} (rebuild with npm run build:native)`;
  }
  for (const fn of ['crc32c', 'searchOffsetIndex', 'searchTimeIndex', 'openSegmentFile']) {
    if (typeof exports[fn] !== 'function') return `missing export ${fn}`;
  }
  return undefined;
}

function checkOpenArgs(filePath: string, options: OpenSegmentOptions): void {
  if (typeof filePath !== 'string' || filePath === '') throw new TypeError('path must be a non-empty string');
  if (filePath.includes('\0')) throw new TypeError('path must not contain NUL bytes');
  if (typeof options !== 'object' || options === null || typeof options.create !== 'boolean') {
    throw new TypeError('options.create must be a boolean');
  }
}

function createNativeEngine(addon: Addon): LogEngine {
  return {
    name: 'native',
    crc32c(data: Uint8Array, start: number, end: number, initial: number): number {
      checkRange(data, start, end);
      checkCrcInitial(initial);
      return addon.crc32c(data, start, end, initial);
    },
    async openSegmentFile(filePath: string, options: OpenSegmentOptions): Promise<SegmentFile> {
      checkOpenArgs(filePath, options);
      return new NativeSegmentFile(await addon.openSegmentFile(filePath, options.create));
    },
    searchOffsetIndex(index: Uint8Array, entries: number, targetRelativeOffset: number): number {
      checkOffsetIndexSearch(index, entries, targetRelativeOffset);
      return addon.searchOffsetIndex(index, entries, targetRelativeOffset);
    },
    searchTimeIndex(index: Uint8Array, entries: number, targetTimestamp: bigint): number {
      checkTimeIndexSearch(index, entries, targetTimestamp);
      return addon.searchTimeIndex(index, entries, targetTimestamp);
    },
  };
}

/**
 * A SegmentFile over the addon's object. The methods are async so a bad argument rejects, as on
 * the TypeScript engine; the native call itself still happens synchronously, in call order, which
 * group commit relies on (a sync() called after a write completed never joins an earlier sync).
 */
class NativeSegmentFile implements SegmentFile {
  readonly path: string;
  readonly #file: AddonSegmentFile;

  constructor(file: AddonSegmentFile) {
    this.#file = file;
    this.path = file.path;
  }

  get syncCount(): number {
    return this.#file.syncCount;
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<number> {
    checkBuffers(buffers);
    checkPosition(position);
    let total = 0;
    for (const b of buffers) total += b.length;
    checkPosition(position + total, 'end of write');
    // The addon reads the array once, during this call, and holds each buffer until it is written.
    return this.#file.writev(buffers, position);
  }

  sync(): Promise<void> {
    return this.#file.sync();
  }

  async read(target: Uint8Array, targetOffset: number, length: number, position: number): Promise<number> {
    checkReadTarget(target, targetOffset, length);
    checkPosition(position);
    return this.#file.read(target, targetOffset, length, position);
  }

  async truncate(size: number): Promise<void> {
    checkPosition(size, 'size');
    return this.#file.truncate(size);
  }

  size(): Promise<number> {
    return this.#file.size();
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}
