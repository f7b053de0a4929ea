// The cleaner's bounded key → offset map: MurmurHash3 x86_128 against the reference vectors, the
// latest offset per key, capacity from the memory given, and no false hits among many keys.
import { describe, expect, it } from 'vitest';
import { CleanerOffsetMap, murmur3x86x128, OFFSET_MAP_BYTES_PER_ENTRY } from '../../../ts/storage/cleaner-offset-map.js';

function hex(words: Int32Array): string {
  return [...words].map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('');
}

function key(text: string): Buffer {
  return Buffer.from(text);
}

describe('murmur3x86x128', () => {
  // The vectors of the reference implementation's test suite (smhasher's MurmurHash3_x86_128 as
  // printed by PeterScott/murmur3 test.c: the four 32-bit words in order, %08x each).
  it.each([
    [123, 'Hello, world!', '61c9129e5a1aacd7a41621629e37c886'],
    [321, 'Hello, world!', 'd5fbdcb3c26c4193045880c5a7170f0f'],
    [123, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxx', '5e40bab278825a164cf929d31fec6047'],
    [123, '', 'fedc524526f3e79926f3e79926f3e799'],
  ])('seed %i, %j', (seed, text, expected) => {
    const out = new Int32Array(4);
    const bytes = key(text);
    murmur3x86x128(bytes, 0, bytes.length, seed, out);
    expect(hex(out)).toBe(expected);
  });

  it('hashes a slice of a larger buffer like the same bytes alone', () => {
    const whole = key('__prefix__the key itself__suffix__');
    const alone = key('the key itself');
    const a = new Int32Array(4);
    const b = new Int32Array(4);
    murmur3x86x128(whole, 10, alone.length, 7, a);
    murmur3x86x128(alone, 0, alone.length, 7, b);
    expect(hex(a)).toBe(hex(b));
  });
});

describe('CleanerOffsetMap', () => {
  it('sizes itself from the memory it may use (a prime number of 24-byte slots)', () => {
    const map = new CleanerOffsetMap(24 * 1000);
    expect(map.slots).toBe(997);
    expect(map.maxSlots).toBe(997);
    expect(CleanerOffsetMap.slotsFor(1024)).toBe(41);
    expect(new CleanerOffsetMap(1024).maxSlots).toBe(41);
    expect(() => new CleanerOffsetMap(40)).toThrow(RangeError);
  });

  it('starts small and grows as keys arrive, old and new table together within its memory', () => {
    const memoryBytes = 24 * 100_000;
    const map = new CleanerOffsetMap(memoryBytes);
    expect(map.slots).toBe(4093);
    expect(map.maxSlots).toBeGreaterThan(60_000);
    const sizes = [map.slots];
    const count = Math.floor(map.maxSlots * 0.9);
    for (let i = 0; i < count; i++) {
      const k = key(`key-${i}`);
      map.put(k, 0, k.length, i);
      if (map.slots !== sizes.at(-1)) sizes.push(map.slots);
    }
    expect(sizes.length).toBeGreaterThan(3);
    expect(sizes.at(-1)).toBe(map.maxSlots);
    for (let i = 1; i < sizes.length; i++) {
      expect(sizes[i]!).toBeLessThanOrEqual(2 * sizes[i - 1]!);
      expect((sizes[i]! + sizes[i - 1]!) * OFFSET_MAP_BYTES_PER_ENTRY).toBeLessThanOrEqual(memoryBytes);
    }
    const wrong: number[] = [];
    for (let i = 0; i < count; i++) {
      const k = key(`key-${i}`);
      if (map.get(k, 0, k.length) !== i) wrong.push(i);
    }
    expect(wrong).toEqual([]);
    map.clear();
    expect(map.slots).toBe(4093);
    expect(map.size).toBe(0);
  });

  it('keeps the latest offset per key and the latest offset put', () => {
    const map = new CleanerOffsetMap(24 * 100);
    expect(map.latestOffset).toBe(-1);
    map.put(key('a'), 0, 1, 0);
    map.put(key('b'), 0, 1, 1);
    map.put(key('a'), 0, 1, 2);
    expect(map.get(key('a'), 0, 1)).toBe(2);
    expect(map.get(key('b'), 0, 1)).toBe(1);
    expect(map.get(key('c'), 0, 1)).toBe(-1);
    expect(map.size).toBe(2);
    expect(map.latestOffset).toBe(2);
    map.updateLatestOffset(10);
    expect(map.latestOffset).toBe(10);
  });

  it('tells apart the empty key and keys that share a prefix', () => {
    const map = new CleanerOffsetMap(24 * 100);
    const bytes = key('abcabc');
    map.put(bytes, 0, 0, 5);
    map.put(bytes, 0, 3, 6);
    map.put(bytes, 0, 6, 7);
    expect(map.get(bytes, 3, 0)).toBe(5);
    expect(map.get(bytes, 3, 3)).toBe(6);
    expect(map.get(bytes, 0, 6)).toBe(7);
    expect(map.size).toBe(3);
  });

  it('clear() empties it for the next pass', () => {
    const map = new CleanerOffsetMap(24 * 100);
    map.put(key('a'), 0, 1, 3);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.latestOffset).toBe(-1);
    expect(map.get(key('a'), 0, 1)).toBe(-1);
  });

  it('finds every one of many keys at 90% load, with no false hits', () => {
    const map = new CleanerOffsetMap(24 * 20_011);
    const count = Math.floor(map.maxSlots * 0.9);
    for (let i = 0; i < count; i++) {
      const k = key(`key-${i}`);
      map.put(k, 0, k.length, i * 2);
    }
    expect(map.size).toBe(count);
    const wrong: string[] = [];
    for (let i = 0; i < count + 5000; i++) {
      const k = key(`key-${i}`);
      const expected = i < count ? i * 2 : -1;
      if (map.get(k, 0, k.length) !== expected) wrong.push(`key-${i}`);
    }
    expect(wrong).toEqual([]);
    expect(map.slots).toBe(map.maxSlots);
    expect(map.utilization).toBeCloseTo(0.9, 2);
  });

  it('refuses a put that would fill its last free slot (the cleaner stops before)', () => {
    const map = new CleanerOffsetMap(24 * 5);
    expect(map.slots).toBe(5);
    for (let i = 0; i < 4; i++) map.put(key(`k${i}`), 0, 2, i);
    expect(() => map.put(key('k9'), 0, 2, 9)).toThrow(/full/);
    map.put(key('k1'), 0, 2, 11); // an existing key still updates
    expect(map.get(key('k1'), 0, 2)).toBe(11);
  });
});
