import { describe, expect, it } from 'vitest';
import { READ_BUFFER_POOL_BYTES_MAX, READ_BUFFER_POOLED_MAX, READ_BUFFER_POOLED_MIN } from '../../../ts/limits.js';
import { acquireReadBuffer, readBufferPoolIdleBytes, releaseReadBuffer } from '../../../ts/storage/read-buffer-pool.js';

describe('read buffer pool', () => {
  it('hands a given-back buffer to the next read of its size class', () => {
    const a = acquireReadBuffer(100_000);
    expect(a.length).toBeGreaterThanOrEqual(100_000);
    releaseReadBuffer(a);
    const b = acquireReadBuffer(70_000);
    expect(b).toBe(a);
    releaseReadBuffer(b);
  });

  it('never hands out one buffer twice, even when it is given back twice', () => {
    const a = acquireReadBuffer(READ_BUFFER_POOLED_MIN);
    releaseReadBuffer(a);
    releaseReadBuffer(a);
    const b = acquireReadBuffer(READ_BUFFER_POOLED_MIN);
    const c = acquireReadBuffer(READ_BUFFER_POOLED_MIN);
    expect(b).not.toBe(c);
    releaseReadBuffer(b);
    releaseReadBuffer(c);
  });

  it('ignores buffers it did not hand out and reads larger than it pools', () => {
    const before = readBufferPoolIdleBytes();
    releaseReadBuffer(Buffer.alloc(READ_BUFFER_POOLED_MIN).subarray(1));
    releaseReadBuffer(Buffer.alloc(1000));
    const big = acquireReadBuffer(READ_BUFFER_POOLED_MAX + 1);
    expect(big.length).toBe(READ_BUFFER_POOLED_MAX + 1);
    releaseReadBuffer(big);
    expect(readBufferPoolIdleBytes()).toBe(before);
  });

  it('keeps at most READ_BUFFER_POOL_BYTES_MAX idle', () => {
    const held = Array.from({ length: READ_BUFFER_POOL_BYTES_MAX / READ_BUFFER_POOLED_MAX + 2 }, () => acquireReadBuffer(READ_BUFFER_POOLED_MAX));
    for (const buf of held) releaseReadBuffer(buf);
    expect(readBufferPoolIdleBytes()).toBeLessThanOrEqual(READ_BUFFER_POOL_BYTES_MAX);
  });
});
