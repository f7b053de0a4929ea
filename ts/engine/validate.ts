// Argument checks made in TypeScript before a call crosses into an engine, so the C++ side only
// ever sees well-formed arguments (it still asserts them). Both engines call these, so a bad
// argument fails the same way whichever engine is loaded.
import { OFFSET_INDEX_ENTRY_BYTES, TIME_INDEX_ENTRY_BYTES } from './types.js';

const MAX_SAFE_POSITION = Number.MAX_SAFE_INTEGER;

export function checkRange(data: Uint8Array, start: number, end: number): void {
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Buffer or Uint8Array');
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > data.length) {
    throw new RangeError(`range [${start}, ${end}) is not within a buffer of ${data.length} bytes`);
  }
}

export function checkCrcInitial(initial: number): void {
  if (!Number.isInteger(initial) || initial < 0 || initial > 0xffffffff) {
    throw new RangeError(`initial CRC must be an unsigned 32-bit integer, got ${initial}`);
  }
}

export function checkPosition(position: number, what = 'position'): void {
  if (!Number.isInteger(position) || position < 0 || position > MAX_SAFE_POSITION) {
    throw new RangeError(`${what} must be a non-negative integer, got ${position}`);
  }
}

export function checkBuffers(buffers: readonly Uint8Array[]): void {
  if (!Array.isArray(buffers)) throw new TypeError('buffers must be an array');
  for (const b of buffers) {
    if (!(b instanceof Uint8Array)) throw new TypeError('every buffer must be a Buffer or Uint8Array');
  }
}

export function checkReadTarget(target: Uint8Array, targetOffset: number, length: number): void {
  if (!(target instanceof Uint8Array)) throw new TypeError('target must be a Buffer or Uint8Array');
  if (!Number.isInteger(targetOffset) || !Number.isInteger(length) || targetOffset < 0 || length < 0 ||
    targetOffset + length > target.length) {
    throw new RangeError(`read of ${length} bytes at ${targetOffset} does not fit a target of ${target.length} bytes`);
  }
}

function checkIndex(index: Uint8Array, entries: number, entryBytes: number): void {
  if (!(index instanceof Uint8Array)) throw new TypeError('index must be a Buffer or Uint8Array');
  if (!Number.isInteger(entries) || entries < 0 || entries * entryBytes > index.length) {
    throw new RangeError(`${entries} entries of ${entryBytes} bytes do not fit an index of ${index.length} bytes`);
  }
}

export function checkOffsetIndexSearch(index: Uint8Array, entries: number, target: number): void {
  checkIndex(index, entries, OFFSET_INDEX_ENTRY_BYTES);
  if (!Number.isInteger(target)) throw new RangeError(`target relative offset must be an integer, got ${target}`);
}

export function checkTimeIndexSearch(index: Uint8Array, entries: number, target: bigint): void {
  checkIndex(index, entries, TIME_INDEX_ENTRY_BYTES);
  if (typeof target !== 'bigint') throw new TypeError('target timestamp must be a bigint');
}
