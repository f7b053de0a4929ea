// The newest record batches of a partition, in memory, so that a fetch at the log tail — a
// consumer keeping up, woken by the append it waits for — is answered without a disk read: no
// thread-pool round trip between an append and the fetch response that carries it.
//
// Batches are copied, once written to the segment, into chunks of TAIL_CACHE_CHUNK_BYTES from the
// read-buffer pool; a read returns a view of one chunk (whole batches, from the batch holding the
// fetch offset), so a consumer further behind than the cache reads from disk as before. A chunk
// is counted while a response still references it and goes back to the pool only when evicted and
// no longer referenced. The cache only fills while somebody reads the tail (a read within
// TAIL_CACHE_IDLE_MS) and holds at most TAIL_CACHE_PARTITION_BYTES per partition and
// TAIL_CACHE_BYTES_MAX for the whole process.
import { TAIL_CACHE_BYTES_MAX, TAIL_CACHE_CHUNK_BYTES, TAIL_CACHE_IDLE_MS, TAIL_CACHE_PARTITION_BYTES } from '../limits.js';
import { acquireReadBuffer, releaseReadBuffer } from './read-buffer-pool.js';
import { baseOffsetOf, batchSize, lastOffsetOf } from './record-batch.js';

interface Chunk {
  buf: Buffer;
  used: number;
  /** Base offset of the first batch, and one past the last offset of the last. */
  firstOffset: bigint;
  nextOffset: bigint;
  /** Responses still holding a view of buf. */
  refs: number;
  evicted: boolean;
}

export interface TailRead {
  records: Buffer;
  release: () => void;
}

/** Chunk bytes held by every cache in the process. */
let processBytes = 0;

export function tailCacheBytes(): number {
  return processBytes;
}

export class TailCache {
  private readonly chunks: Chunk[] = [];
  private lastReadMs = -Infinity;

  constructor(private readonly nowMs: () => number) {}

  /**
   * Batches just written to the log, back to back in `buffers`, the first starting at
   * `firstOffset` and the last ending before `nextOffset`. Must follow the previous append.
   */
  append(buffers: readonly Buffer[], bytes: number, firstOffset: bigint, nextOffset: bigint): void {
    if (this.nowMs() - this.lastReadMs > TAIL_CACHE_IDLE_MS || bytes > TAIL_CACHE_CHUNK_BYTES) {
      // Nobody reads the tail, or a batch larger than a chunk: what follows is read from disk.
      this.clear();
      return;
    }
    let chunk: Chunk | undefined = this.chunks[this.chunks.length - 1];
    if (chunk !== undefined && chunk.nextOffset !== firstOffset) {
      this.clear();
      chunk = undefined;
    }
    if (chunk === undefined || chunk.used + bytes > chunk.buf.length) {
      while (this.chunks.length > 0 && (this.chunks.length + 1) * TAIL_CACHE_CHUNK_BYTES > TAIL_CACHE_PARTITION_BYTES) this.evictOldest();
      if (processBytes + TAIL_CACHE_CHUNK_BYTES > TAIL_CACHE_BYTES_MAX) {
        this.clear();
        return;
      }
      chunk = { buf: acquireReadBuffer(TAIL_CACHE_CHUNK_BYTES), used: 0, firstOffset, nextOffset: firstOffset, refs: 0, evicted: false };
      processBytes += chunk.buf.length;
      this.chunks.push(chunk);
    }
    for (const b of buffers) {
      b.copy(chunk.buf, chunk.used);
      chunk.used += b.length;
    }
    chunk.nextOffset = nextOffset;
  }

  /**
   * Whole batches from the one holding `fetchOffset`, within one chunk: at most `limit` bytes
   * (but one batch when `minOneBatch`), none whose base offset is at or past `maxOffset`. Null when
   * the cache does not hold `fetchOffset` or has no batch to give within those bounds (the caller
   * reads from disk, which answers the same).
   */
  read(fetchOffset: bigint, limit: number, maxOffset: bigint, minOneBatch: boolean): TailRead | null {
    let chunk: Chunk | undefined;
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const c = this.chunks[i]!;
      if (fetchOffset >= c.firstOffset && fetchOffset < c.nextOffset) {
        chunk = c;
        break;
      }
    }
    if (chunk === undefined) return null;
    this.noteTailReader();
    const buf = chunk.buf;
    let start = 0;
    while (start < chunk.used && lastOffsetOf(buf, start) < fetchOffset) start += batchSize(buf, start);
    let end = start;
    while (end < chunk.used && baseOffsetOf(buf, end) < maxOffset) {
      const size = batchSize(buf, end);
      if (end + size - start > limit && !(minOneBatch && end === start)) break;
      end += size;
    }
    if (end === start) return null;
    chunk.refs++;
    let released = false;
    const held = chunk;
    return {
      records: buf.subarray(start, end),
      release: () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.evicted && held.refs === 0) releaseReadBuffer(held.buf);
      },
    };
  }

  /** A fetch read the tail (or waits at the log end): keep filling the cache. */
  noteTailReader(): void {
    this.lastReadMs = this.nowMs();
  }

  /** Drops every chunk (on roll, truncation, close, or when the cache stops filling). */
  clear(): void {
    while (this.chunks.length > 0) this.evictOldest();
  }

  private evictOldest(): void {
    const chunk = this.chunks.shift()!;
    chunk.evicted = true;
    processBytes -= chunk.buf.length;
    if (chunk.refs === 0) releaseReadBuffer(chunk.buf);
  }
}
