import { describe, expect, it } from 'vitest';
import { heapGrowingPercent } from '../../ts/heap-growth.js';

const MB = 1024 * 1024;

describe('heapGrowingPercent', () => {
  it('leaves at least the headroom above a small live heap', () => {
    for (const live of [7 * MB, 9 * MB, 10 * MB, 20 * MB, 40 * MB, 63 * MB]) {
      const percent = heapGrowingPercent(live, 64 * MB);
      expect(percent % 50).toBe(0);
      expect(live * (percent / 100)).toBeGreaterThanOrEqual(64 * MB);
    }
    expect(heapGrowingPercent(9 * MB, 64 * MB)).toBe(750);
  });

  it("hands back to V8's own policy once the live heap is larger than the headroom", () => {
    expect(heapGrowingPercent(64 * MB, 64 * MB)).toBe(0);
    expect(heapGrowingPercent(500 * MB, 64 * MB)).toBe(0);
  });

  it('caps the factor for a nearly empty heap', () => {
    expect(heapGrowingPercent(0, 64 * MB)).toBe(1000);
    expect(heapGrowingPercent(1 * MB, 64 * MB)).toBe(1000);
  });
});
