// Buffers for segment reads, reused. A fetch reads stored batches into a buffer that the response
// then references (no copy) until the socket has written it; the fetch handler gives the buffer
// back from the write's callback. Allocating a fresh buffer per read instead grows V8's external
// memory by the bytes read, which starts a full mark-compact GC every ~64 MB: a third of the
// broker's CPU while a consumer catches up. Sizes are powers of two, so a buffer fits many reads.
// A buffer never given back is simply garbage-collected: giving back is an optimisation, and
// only code that knows no view of the buffer outlives the call may do it.
import { READ_BUFFER_POOL_BYTES_MAX, READ_BUFFER_POOLED_MAX, READ_BUFFER_POOLED_MIN } from '../limits.js';

const idle = new Map<number, Buffer[]>();
/** Idle buffers, to refuse a second release of the same buffer. */
const idleSet = new WeakSet<Buffer>();
let idleBytes = 0;

function sizeClass(bytes: number): number {
  let size = READ_BUFFER_POOLED_MIN;
  while (size < bytes) size *= 2;
  return size;
}

/** A buffer of at least `bytes` bytes; its contents are arbitrary. */
export function acquireReadBuffer(bytes: number): Buffer {
  if (bytes > READ_BUFFER_POOLED_MAX) return Buffer.allocUnsafeSlow(bytes);
  if (bytes < READ_BUFFER_POOLED_MIN / 4) return Buffer.allocUnsafe(bytes);
  const size = sizeClass(bytes);
  const free = idle.get(size);
  const buf = free?.pop();
  if (buf !== undefined) {
    idleSet.delete(buf);
    idleBytes -= size;
    return buf;
  }
  return Buffer.allocUnsafeSlow(size);
}

/**
 * Gives back a buffer from acquireReadBuffer(): the caller guarantees nothing reads or writes it
 * any more (no view of it is kept, no socket write of it is pending). Other buffers are ignored.
 */
export function releaseReadBuffer(buf: Buffer): void {
  const size = buf.length;
  if (size < READ_BUFFER_POOLED_MIN || size > READ_BUFFER_POOLED_MAX || (size & (size - 1)) !== 0) return;
  if (buf.byteOffset !== 0 || buf.buffer.byteLength !== size || idleSet.has(buf)) return;
  if (idleBytes + size > READ_BUFFER_POOL_BYTES_MAX) return;
  let free = idle.get(size);
  if (free === undefined) idle.set(size, (free = []));
  free.push(buf);
  idleSet.add(buf);
  idleBytes += size;
}

/** Bytes of idle buffers held (for tests). */
export function readBufferPoolIdleBytes(): number {
  return idleBytes;
}
