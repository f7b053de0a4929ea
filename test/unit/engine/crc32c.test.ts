// One set of CRC32C vectors over every implementation: each engine's crc32c and the exported
// pure-TypeScript function, then native and TypeScript compared byte for byte on random input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c as standaloneCrc32c } from '../../../ts/engine/crc32c.js';
import { referenceEngine, testEngines } from '../../helpers/engines.js';

type Crc = (data: Uint8Array, start: number, end: number, initial: number) => number;

const implementations: { name: string; crc: Crc }[] = [
  ...testEngines.map(({ name, engine }) => ({ name: `${name} engine`, crc: engine.crc32c.bind(engine) })),
  { name: 'exported ts crc32c', crc: (d, s, e, i) => standaloneCrc32c(d, s, e, i) },
];

/** Bit at a time, straight from the definition: slow, but shares no table with the code under test. */
function bitwiseCrc32c(data: Uint8Array, initial = 0): number {
  let crc = ~initial;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

function randomBytes(length: number, seed: number): Buffer {
  // xorshift32, so a failure reproduces from the printed length and seed.
  const out = Buffer.allocUnsafe(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const VECTORS: { what: string; data: Uint8Array; crc: number }[] = [
  { what: 'empty', data: new Uint8Array(0), crc: 0 },
  { what: '"123456789"', data: Buffer.from('123456789', 'ascii'), crc: 0xe3069283 },
  { what: '32 zero bytes', data: Buffer.alloc(32, 0), crc: 0x8a9136aa },
  { what: '32 0xff bytes', data: Buffer.alloc(32, 0xff), crc: 0x62a8ab43 },
  { what: 'bytes 0..31', data: Uint8Array.from({ length: 32 }, (_, i) => i), crc: 0x46dd794e },
  { what: 'bytes 31..0', data: Uint8Array.from({ length: 32 }, (_, i) => 31 - i), crc: 0x113fdb5c },
  { what: '"a"', data: Buffer.from('a'), crc: 0xc1d04330 },
];

describe.each(implementations)('CRC32C: $name', ({ crc }) => {
  it.each(VECTORS)('matches the known vector for $what', ({ data, crc: expected }) => {
    expect(crc(data, 0, data.length, 0)).toBe(expected);
  });

  it('returns an unsigned 32-bit integer', () => {
    for (let n = 0; n < 64; n++) {
      const value = crc(randomBytes(n, n + 1), 0, n, 0);
      expect(Number.isInteger(value) && value >= 0 && value <= 0xffffffff).toBe(true);
    }
  });

  it('chains: crc(b, crc(a)) equals crc(a ++ b) at every split point', () => {
    const data = randomBytes(300, 7);
    const whole = crc(data, 0, data.length, 0);
    for (let split = 0; split <= data.length; split++) {
      expect(crc(data, split, data.length, crc(data, 0, split, 0))).toBe(whole);
    }
  });

  it('chains over many small pieces of uneven sizes', () => {
    const data = randomBytes(70_000, 11);
    let running = 0;
    let at = 0;
    for (let step = 1; at < data.length; step = (step * 7 + 3) % 97 + 1) {
      const end = Math.min(data.length, at + step);
      running = crc(data, at, end, running);
      at = end;
    }
    expect(running).toBe(bitwiseCrc32c(data));
  });

  it('honours sub-ranges and views into a larger buffer', () => {
    const backing = randomBytes(5000, 3);
    for (const [start, end] of [[0, 0], [1, 2], [3, 19], [5, 4096], [17, 4999], [4999, 5000], [2500, 2500]]) {
      const expected = bitwiseCrc32c(backing.subarray(start, end));
      expect(crc(backing, start, end, 0)).toBe(expected);
      // A view whose byteOffset is not 0 (and not aligned) must be read from its own start.
      const view = new Uint8Array(backing.buffer, backing.byteOffset + start, end - start);
      expect(crc(view, 0, view.length, 0)).toBe(expected);
    }
  });

  it('continues from a given initial value', () => {
    const data = Buffer.from('123456789');
    for (const initial of [0, 1, 0x7fffffff, 0x80000000, 0xe3069283, 0xffffffff]) {
      expect(crc(data, 0, data.length, initial)).toBe(bitwiseCrc32c(data, initial));
    }
  });

  it('leaves the data untouched', () => {
    const data = randomBytes(1000, 5);
    const copy = Buffer.from(data);
    crc(data, 0, data.length, 0);
    expect(data.equals(copy)).toBe(true);
  });
});

describe.each(testEngines)('CRC32C parity: $name engine vs the bit-wise definition and ts', ({ engine }) => {
  it('agrees on random buffers of every length from 0 to 4100', () => {
    const data = randomBytes(4100, 99);
    for (let length = 0; length <= 4100; length++) {
      // Start at varying offsets so every alignment of every length is covered somewhere.
      const start = length % 13;
      const end = Math.min(data.length, start + length);
      const got = engine.crc32c(data, start, end, 0);
      expect(got, `length ${end - start} at ${start}`).toBe(referenceEngine.crc32c(data, start, end, 0));
    }
    expect(engine.crc32c(data, 0, 4100, 0)).toBe(bitwiseCrc32c(data));
  });

  it('agrees on buffers of a few MiB', () => {
    for (const [length, seed] of [[1 << 20, 1], [3 * (1 << 20) + 5, 2], [5 * (1 << 20) - 1, 3]]) {
      const data = randomBytes(length, seed);
      const got = engine.crc32c(data, 0, length, 0);
      expect(got).toBe(referenceEngine.crc32c(data, 0, length, 0));
      expect(got).toBe(bitwiseCrc32c(data));
      expect(engine.crc32c(data, 1, length - 1, 0x12345678)).toBe(referenceEngine.crc32c(data, 1, length - 1, 0x12345678));
    }
  });

  it('agrees on arbitrary data, ranges and initial values (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffffffff }),
        (data, a, b, initial) => {
          const start = data.length === 0 ? 0 : a % (data.length + 1);
          const end = start + (b % (data.length - start + 1));
          expect(engine.crc32c(data, start, end, initial)).toBe(bitwiseCrc32c(data.subarray(start, end), initial));
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** The error a call throws, as [constructor name, message], or undefined when it does not throw. */
function thrown(call: () => unknown): [string, string] | undefined {
  try {
    call();
  } catch (err) {
    return [(err as Error).constructor.name, (err as Error).message];
  }
  return undefined;
}

const BAD_CALLS: { what: string; args: [unknown, unknown, unknown, unknown]; error: typeof Error }[] = [
  { what: 'a string instead of bytes', args: ['123456789', 0, 9, 0], error: TypeError },
  { what: 'a plain array', args: [[1, 2, 3], 0, 3, 0], error: TypeError },
  { what: 'null data', args: [null, 0, 0, 0], error: TypeError },
  { what: 'a DataView', args: [new DataView(new ArrayBuffer(4)), 0, 4, 0], error: TypeError },
  { what: 'a negative start', args: [Buffer.alloc(4), -1, 4, 0], error: RangeError },
  { what: 'end past the buffer', args: [Buffer.alloc(4), 0, 5, 0], error: RangeError },
  { what: 'start after end', args: [Buffer.alloc(4), 3, 2, 0], error: RangeError },
  { what: 'a fractional start', args: [Buffer.alloc(4), 0.5, 2, 0], error: RangeError },
  { what: 'a NaN end', args: [Buffer.alloc(4), 0, Number.NaN, 0], error: RangeError },
  { what: 'a string end', args: [Buffer.alloc(4), 0, '4', 0], error: RangeError },
  { what: 'a negative initial', args: [Buffer.alloc(4), 0, 4, -1], error: RangeError },
  { what: 'an initial above 32 bits', args: [Buffer.alloc(4), 0, 4, 0x100000000], error: RangeError },
  { what: 'a fractional initial', args: [Buffer.alloc(4), 0, 4, 1.5], error: RangeError },
  { what: 'a bigint initial', args: [Buffer.alloc(4), 0, 4, 1n], error: RangeError },
];

describe.each(testEngines)('CRC32C bad arguments: $name engine', ({ engine }) => {
  it.each(BAD_CALLS)('rejects $what exactly as the ts engine does', ({ args, error }) => {
    const call = engine.crc32c as (...a: unknown[]) => number;
    const reference = referenceEngine.crc32c as (...a: unknown[]) => number;
    expect(() => call(...args)).toThrow(error);
    expect(thrown(() => call(...args))).toEqual(thrown(() => reference(...args)));
  });
});
