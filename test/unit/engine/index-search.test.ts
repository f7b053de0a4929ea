// Offset and time index search, the same for both engines: the slot of the greatest entry whose key
// is <= the target (the last of equal keys), or -1, checked against a linear scan.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OFFSET_INDEX_ENTRY_BYTES, TIME_INDEX_ENTRY_BYTES } from '../../../ts/engine/types.js';
import { referenceEngine, testEngines } from '../../helpers/engines.js';

const U32_MAX = 0xffffffff;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** An offset index as Kafka writes it; `spare` empty slots follow, as in a preallocated file. */
function offsetIndex(relativeOffsets: number[], spare = 0): Buffer {
  const b = Buffer.alloc((relativeOffsets.length + spare) * OFFSET_INDEX_ENTRY_BYTES);
  relativeOffsets.forEach((off, i) => {
    b.writeUInt32BE(off, i * OFFSET_INDEX_ENTRY_BYTES);
    b.writeUInt32BE((i * 4096) >>> 0, i * OFFSET_INDEX_ENTRY_BYTES + 4);
  });
  return b;
}

function timeIndex(timestamps: bigint[], spare = 0): Buffer {
  const b = Buffer.alloc((timestamps.length + spare) * TIME_INDEX_ENTRY_BYTES);
  timestamps.forEach((ts, i) => {
    b.writeBigInt64BE(ts, i * TIME_INDEX_ENTRY_BYTES);
    b.writeUInt32BE(i, i * TIME_INDEX_ENTRY_BYTES + 8);
  });
  return b;
}

/** The answer by definition: the last slot whose key is <= target. */
function linearScan<T extends number | bigint>(keys: T[], target: T): number {
  let slot = -1;
  for (let i = 0; i < keys.length; i++) if (keys[i] <= target) slot = i;
  return slot;
}

describe.each(testEngines)('offset index search: $name engine', ({ engine }) => {
  const search = (keys: number[], target: number, spare = 0) =>
    engine.searchOffsetIndex(offsetIndex(keys, spare), keys.length, target);

  it('finds nothing in an empty index', () => {
    expect(engine.searchOffsetIndex(new Uint8Array(0), 0, 0)).toBe(-1);
    expect(engine.searchOffsetIndex(new Uint8Array(0), 0, 100)).toBe(-1);
    // Entries the caller has not counted are not looked at, whatever they hold.
    expect(engine.searchOffsetIndex(offsetIndex([1, 2, 3]), 0, 5)).toBe(-1);
  });

  it('searches a single entry', () => {
    expect(search([10], 9)).toBe(-1);
    expect(search([10], 10)).toBe(0);
    expect(search([10], 11)).toBe(0);
    expect(search([0], 0)).toBe(0);
  });

  it('finds exact hits, targets between entries, before the first and after the last', () => {
    const keys = [3, 8, 20, 21, 100, 4000];
    keys.forEach((k, i) => expect(search(keys, k), `hit ${k}`).toBe(i));
    expect(search(keys, 0)).toBe(-1);
    expect(search(keys, 2)).toBe(-1);
    expect(search(keys, 9)).toBe(1);
    expect(search(keys, 19)).toBe(1);
    expect(search(keys, 99)).toBe(3);
    expect(search(keys, 3999)).toBe(4);
    expect(search(keys, 4001)).toBe(5);
    expect(search(keys, U32_MAX)).toBe(5);
  });

  it('returns the last of equal keys', () => {
    expect(search([5, 5, 5, 5], 5)).toBe(3);
    expect(search([1, 5, 5, 5, 9], 5)).toBe(3);
    expect(search([1, 5, 5, 5, 9], 6)).toBe(3);
    expect(search([1, 5, 5, 5, 9], 4)).toBe(0);
    expect(search([0, 0, 0], 0)).toBe(2);
  });

  it('handles keys at the ends of the u32 range (unsigned, not signed)', () => {
    const keys = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, U32_MAX];
    keys.forEach((k, i) => expect(search(keys, k), `hit ${k}`).toBe(i));
    expect(search(keys, 0x80000001)).toBe(3);
  });

  it('returns -1 for a negative target and the last entry for a target above u32', () => {
    const keys = [0, 7, 9];
    expect(search(keys, -1)).toBe(-1);
    expect(search(keys, Number.MIN_SAFE_INTEGER)).toBe(-1);
    expect(search(keys, U32_MAX + 1)).toBe(2);
    expect(search(keys, Number.MAX_SAFE_INTEGER)).toBe(2);
    expect(search([U32_MAX], U32_MAX + 1)).toBe(0);
    expect(engine.searchOffsetIndex(new Uint8Array(0), 0, U32_MAX + 1)).toBe(-1);
  });

  it('ignores the preallocated tail beyond the counted entries', () => {
    expect(search([5, 6, 7], 100, 50)).toBe(2);
    expect(search([5, 6, 7], 6, 50)).toBe(1);
  });

  it('reads an index that is a view at an odd byteOffset', () => {
    const keys = [2, 4, 6, 8, 10];
    const inner = offsetIndex(keys);
    const backing = Buffer.alloc(inner.length + 3, 0xff);
    inner.copy(backing, 3);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 3, inner.length);
    for (let t = 0; t <= 11; t++) expect(engine.searchOffsetIndex(view, keys.length, t), `target ${t}`).toBe(linearScan(keys, t));
  });

  it('agrees with a linear scan and with the ts engine on random sorted indexes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 300 }),
        fc.array(fc.integer({ min: -5, max: 2100 }), { minLength: 1, maxLength: 30 }),
        (raw, targets) => {
          const keys = [...raw].sort((a, b) => a - b);
          const index = offsetIndex(keys, 2);
          for (const t of targets) {
            const got = engine.searchOffsetIndex(index, keys.length, t);
            expect(got).toBe(linearScan(keys, t));
            expect(got).toBe(referenceEngine.searchOffsetIndex(index, keys.length, t));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('agrees with a linear scan over a large index with full-range keys', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => Math.floor((i * U32_MAX) / 20_000)).map((k, i) => (i % 7 === 0 ? k : k + 1));
    keys.sort((a, b) => a - b);
    const index = offsetIndex(keys);
    for (let i = 0; i < 2000; i++) {
      const t = Math.floor(((i * 2654435761) % 4294967296) + (i % 3) - 1);
      expect(engine.searchOffsetIndex(index, keys.length, t)).toBe(linearScan(keys, t));
    }
  });

  it('rejects bad arguments exactly as the ts engine does', () => {
    const index = offsetIndex([1, 2, 3]);
    const bad: [string, unknown[], typeof Error][] = [
      ['a non-byte index', [[1, 2, 3], 0, 1], TypeError],
      ['more entries than fit', [index, 4, 1], RangeError],
      ['negative entries', [index, -1, 1], RangeError],
      ['fractional entries', [index, 1.5, 1], RangeError],
      ['a fractional target', [index, 3, 1.5], RangeError],
      ['a NaN target', [index, 3, Number.NaN], RangeError],
      ['a bigint target', [index, 3, 1n], RangeError],
      ['an index whose length is not a whole number of entries', [index.subarray(0, 20), 3, 1], RangeError],
    ];
    const call = engine.searchOffsetIndex as (...a: unknown[]) => number;
    const reference = referenceEngine.searchOffsetIndex as (...a: unknown[]) => number;
    for (const [what, args, type] of bad) {
      expect(() => call(...args), what).toThrow(type);
      expect(messageOf(() => call(...args)), what).toBe(messageOf(() => reference(...args)));
    }
  });
});

describe.each(testEngines)('time index search: $name engine', ({ engine }) => {
  const search = (keys: bigint[], target: bigint, spare = 0) =>
    engine.searchTimeIndex(timeIndex(keys, spare), keys.length, target);

  it('finds nothing in an empty index', () => {
    expect(engine.searchTimeIndex(new Uint8Array(0), 0, 0n)).toBe(-1);
    expect(engine.searchTimeIndex(timeIndex([1n]), 0, 5n)).toBe(-1);
  });

  it('searches a single entry', () => {
    expect(search([1_700_000_000_000n], 1_699_999_999_999n)).toBe(-1);
    expect(search([1_700_000_000_000n], 1_700_000_000_000n)).toBe(0);
    expect(search([1_700_000_000_000n], 1_800_000_000_000n)).toBe(0);
  });

  it('finds exact hits, targets between entries, before the first and after the last', () => {
    const keys = [1000n, 2000n, 2001n, 5000n, 1n << 40n, (1n << 40n) + 1n];
    keys.forEach((k, i) => expect(search(keys, k), `hit ${k}`).toBe(i));
    expect(search(keys, 999n)).toBe(-1);
    expect(search(keys, 1999n)).toBe(0);
    expect(search(keys, 4999n)).toBe(2);
    expect(search(keys, (1n << 40n) - 1n)).toBe(3);
    expect(search(keys, 1n << 50n)).toBe(5);
  });

  it('returns the last of equal timestamps', () => {
    expect(search([7n, 7n, 7n], 7n)).toBe(2);
    expect(search([1n, 7n, 7n, 7n, 9n], 8n)).toBe(3);
    expect(search([1n, 7n, 7n, 7n, 9n], 6n)).toBe(0);
  });

  it('orders negative timestamps and the ends of the i64 range as signed', () => {
    const keys = [I64_MIN, -(1n << 32n) - 1n, -(1n << 32n), -1n, 0n, 1n, 0xffffffffn, 1n << 32n, I64_MAX];
    keys.forEach((k, i) => expect(search(keys, k), `hit ${k}`).toBe(i));
    expect(search(keys, -2n)).toBe(2);
    expect(search(keys, 0x100000001n)).toBe(7);
    expect(search(keys.slice(1), I64_MIN)).toBe(-1);
  });

  it('returns -1 below the i64 range and the last entry above it', () => {
    const keys = [-5n, 0n, 5n];
    expect(search(keys, I64_MIN - 1n)).toBe(-1);
    expect(search(keys, -(1n << 100n))).toBe(-1);
    expect(search(keys, I64_MAX + 1n)).toBe(2);
    expect(search(keys, 1n << 100n)).toBe(2);
    expect(search([I64_MIN], I64_MIN - 1n)).toBe(-1);
    expect(search([I64_MAX], I64_MAX + 1n)).toBe(0);
  });

  it('ignores the preallocated tail beyond the counted entries', () => {
    expect(search([-3n, 4n], 100n, 10)).toBe(1);
    expect(search([-3n, 4n], -1n, 10)).toBe(0);
  });

  it('reads an index that is a view at an odd byteOffset', () => {
    const keys = [-10n, 0n, 10n, 20n];
    const inner = timeIndex(keys);
    const backing = Buffer.alloc(inner.length + 5, 0xff);
    inner.copy(backing, 5);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 5, inner.length);
    for (let t = -11n; t <= 21n; t++) expect(engine.searchTimeIndex(view, keys.length, t), `target ${t}`).toBe(linearScan(keys, t));
  });

  it('agrees with a linear scan and with the ts engine on random sorted indexes', () => {
    const timestamp = fc.oneof(fc.bigInt({ min: I64_MIN, max: I64_MAX }), fc.bigInt({ min: -3000n, max: 3000n }));
    fc.assert(
      fc.property(
        fc.array(timestamp, { maxLength: 200 }),
        fc.array(fc.oneof(timestamp, fc.bigInt({ min: -(1n << 70n), max: 1n << 70n })), { minLength: 1, maxLength: 30 }),
        (raw, targets) => {
          const keys = [...raw].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          const index = timeIndex(keys, 1);
          for (const t of [...targets, ...keys, ...keys.map((k) => k - 1n), ...keys.map((k) => k + 1n)]) {
            const got = engine.searchTimeIndex(index, keys.length, t);
            expect(got).toBe(linearScan(keys, t));
            expect(got).toBe(referenceEngine.searchTimeIndex(index, keys.length, t));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects bad arguments exactly as the ts engine does', () => {
    const index = timeIndex([1n, 2n]);
    const bad: [string, unknown[], typeof Error][] = [
      ['a non-byte index', ['abc', 0, 1n], TypeError],
      ['more entries than fit', [index, 3, 1n], RangeError],
      ['negative entries', [index, -1, 1n], RangeError],
      ['a number target', [index, 2, 1], TypeError],
      ['a string target', [index, 2, '1'], TypeError],
    ];
    const call = engine.searchTimeIndex as (...a: unknown[]) => number;
    const reference = referenceEngine.searchTimeIndex as (...a: unknown[]) => number;
    for (const [what, args, type] of bad) {
      expect(() => call(...args), what).toThrow(type);
      expect(messageOf(() => call(...args)), what).toBe(messageOf(() => reference(...args)));
    }
  });
});

function messageOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}
