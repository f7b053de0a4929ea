// LZ4 for record batches, in TypeScript: Kafka's lz4 codec is the LZ4 frame format (magic
// 0x184D2204, frame descriptor, blocks, end mark) with independent blocks of up to 64 KiB, as the
// Java client's KafkaLZ4BlockOutputStream writes. Decompression accepts any frame (block and content
// checksums are skipped: the batch's CRC32C already covers the bytes; the header checksum is not
// checked either, so frames from Kafka's pre-0.10 clients, which computed it wrongly, still read).
// Compression is a plain greedy LZ4 block compressor: correct and quick rather than maximal.

const MAGIC = 0x184d2204;
const BLOCK_MAX_BYTES = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];
/** The block size we write: 64 KiB (BD = 0x40), as Kafka's Java client. */
const WRITE_BLOCK_BYTES = 64 * 1024;
const MIN_MATCH = 4;
/** The last 5 bytes of a block are always literals, and no match starts in its last 12. */
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const HASH_BITS = 12;

function lz4Error(message: string): Error {
  return new Error(`lz4: ${message}`);
}

// ---- xxHash32 (only for the frame header checksum) ------------------------------------------------

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** xxHash32 of data[start, end) with seed 0. */
export function xxh32(data: Uint8Array, start = 0, end = data.length): number {
  let p = start;
  const len = end - start;
  let h: number;
  const u32 = (i: number): number => (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
  if (len >= 16) {
    let v1 = (P1 + P2) | 0;
    let v2 = P2;
    let v3 = 0;
    let v4 = -P1 | 0;
    const limit = end - 16;
    while (p <= limit) {
      v1 = Math.imul(rotl((v1 + Math.imul(u32(p), P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(u32(p + 4), P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(u32(p + 8), P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(u32(p + 12), P2)) | 0, 13), P1);
      p += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = P5;
  }
  h = (h + len) | 0;
  while (p + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(u32(p), P3)) | 0, 17), P4);
    p += 4;
  }
  while (p < end) {
    h = Math.imul(rotl((h + Math.imul(data[p]!, P5)) | 0, 11), P1);
    p++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

// ---- decompression --------------------------------------------------------------------------------

/**
 * Decompresses one LZ4 block src[start, end) into out at `at`; matches may reach back to
 * `windowStart` (the block itself, or earlier blocks of a linked frame). Returns the end written.
 */
function decompressBlock(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number, windowStart: number): number {
  let ip = start;
  let op = at;
  while (ip < end) {
    const token = src[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (ip >= end) throw lz4Error('a literal length runs past the block');
        b = src[ip++]!;
        literals += b;
      } while (b === 255);
    }
    if (ip + literals > end || op + literals > out.length) throw lz4Error('literals run past the block');
    out.set(src.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip >= end) break; // the last sequence has literals only
    if (ip + 2 > end) throw lz4Error('a match offset runs past the block');
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op - windowStart) throw lz4Error(`match offset ${offset} points before the data`);
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (ip >= end) throw lz4Error('a match length runs past the block');
        b = src[ip++]!;
        length += b;
      } while (b === 255);
    }
    length += MIN_MATCH;
    if (op + length > out.length) throw lz4Error('a match runs past the block size');
    let from = op - offset;
    if (offset >= length) {
      out.copyWithin(op, from, from + length);
      op += length;
    } else {
      for (let i = 0; i < length; i++) out[op++] = out[from++]!;
    }
  }
  return op;
}

/** Decompresses an LZ4 frame (several concatenated frames too), independent or linked blocks. */
export function lz4DecompressFrame(src: Buffer): Buffer {
  let out = Buffer.allocUnsafe(Math.max(1024, src.length * 4));
  let op = 0;
  const ensure = (n: number): void => {
    if (op + n <= out.length) return;
    const next = Buffer.allocUnsafe(Math.max(op + n, out.length * 2));
    out.copy(next, 0, 0, op);
    out = next;
  };
  let p = 0;
  while (p < src.length) {
    if (p + 7 > src.length || src.readUInt32LE(p) !== MAGIC) throw lz4Error('not an LZ4 frame (bad magic)');
    p += 4;
    const flg = src[p]!;
    const bd = src[p + 1]!;
    if (flg >>> 6 !== 1) throw lz4Error(`frame version ${flg >>> 6} is not supported`);
    const linked = (flg & 0x20) === 0;
    const frameStart = op;
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictId = (flg & 0x01) !== 0;
    const blockMax = BLOCK_MAX_BYTES[(bd >>> 4) & 7]!;
    if (blockMax === 0) throw lz4Error(`block size code ${(bd >>> 4) & 7} is not valid`);
    p += 2 + (contentSize ? 8 : 0) + (dictId ? 4 : 0) + 1; // descriptor, then the header checksum
    for (;;) {
      if (p + 4 > src.length) throw lz4Error('the frame ends without an end mark');
      const word = src.readUInt32LE(p);
      p += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (p + size > src.length) throw lz4Error('a block runs past the frame');
      if ((word & 0x80000000) !== 0) {
        if (size > blockMax) throw lz4Error('a stored block is larger than the block size');
        ensure(size);
        src.copy(out, op, p, p + size);
        op += size;
      } else {
        ensure(blockMax);
        // The output may not outgrow the block size (decompressBlock checks against out's length).
        op = decompressBlock(src, p, p + size, out.subarray(0, op + blockMax), op, linked ? frameStart : op);
      }
      p += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) p += 4;
  }
  return out.subarray(0, op);
}

// ---- compression ----------------------------------------------------------------------------------

function writeLength(out: Uint8Array, op: number, n: number): number {
  while (n >= 255) {
    out[op++] = 255;
    n -= 255;
  }
  out[op++] = n;
  return op;
}

/** Compresses src[start, end) as one LZ4 block into out at `at`; returns the end, or -1 if it would not fit. */
function compressBlock(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number, table: Int32Array): number {
  table.fill(-1);
  let anchor = start;
  let ip = start;
  let op = at;
  const matchLimit = end - LAST_LITERALS;
  const mfLimit = end - MF_LIMIT;
  const read32 = (i: number): number => src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
  const hash = (v: number): number => Math.imul(v, 2654435761) >>> (32 - HASH_BITS);
  while (ip < mfLimit) {
    const v = read32(ip);
    const h = hash(v);
    const ref = table[h]!;
    table[h] = ip;
    if (ref < 0 || ip - ref > 0xffff || read32(ref) !== v) {
      ip++;
      continue;
    }
    // Extend the match forward.
    let length = MIN_MATCH;
    while (ip + length < matchLimit && src[ref + length] === src[ip + length]) length++;
    const literals = ip - anchor;
    if (op + 1 + Math.ceil((literals + 1) / 255) + literals + 2 + Math.ceil((length + 1) / 255) > out.length) return -1;
    const tokenAt = op++;
    const lit = literals >= 15 ? 15 : literals;
    const ml = length - MIN_MATCH >= 15 ? 15 : length - MIN_MATCH;
    out[tokenAt] = (lit << 4) | ml;
    if (literals >= 15) op = writeLength(out, op, literals - 15);
    out.set(src.subarray(anchor, ip), op);
    op += literals;
    const offset = ip - ref;
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
    if (length - MIN_MATCH >= 15) op = writeLength(out, op, length - MIN_MATCH - 15);
    ip += length;
    anchor = ip;
  }
  const literals = end - anchor;
  if (op + 1 + Math.ceil((literals + 1) / 255) + literals > out.length) return -1;
  out[op++] = (literals >= 15 ? 15 : literals) << 4;
  if (literals >= 15) op = writeLength(out, op, literals - 15);
  out.set(src.subarray(anchor, end), op);
  return op + literals;
}

/** FLG: version 1, independent blocks, no checksums, no content size. BD: 64 KiB blocks. */
const FLG = 0x60;
const BD = 0x40;
const HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, FLG, BD, (xxh32(Uint8Array.of(FLG, BD)) >>> 8) & 0xff]);

/** Compresses into one LZ4 frame of independent 64 KiB blocks (what Kafka's Java client writes). */
export function lz4CompressFrame(src: Buffer): Buffer {
  const blocks = Math.ceil(src.length / WRITE_BLOCK_BYTES);
  const out = Buffer.allocUnsafe(HEADER.length + blocks * (4 + WRITE_BLOCK_BYTES) + 4);
  HEADER.copy(out, 0);
  let op = HEADER.length;
  const table = new Int32Array(1 << HASH_BITS);
  for (let start = 0; start < src.length; start += WRITE_BLOCK_BYTES) {
    const end = Math.min(src.length, start + WRITE_BLOCK_BYTES);
    // A compressed block must be smaller than the input; otherwise store the bytes as they are.
    const limit = out.subarray(0, op + 4 + (end - start) - 1);
    const n = end - start >= MF_LIMIT + 1 ? compressBlock(src, start, end, limit, op + 4, table) : -1;
    if (n < 0) {
      out.writeUInt32LE(((end - start) | 0x80000000) >>> 0, op);
      src.copy(out, op + 4, start, end);
      op += 4 + end - start;
    } else {
      out.writeUInt32LE(n - op - 4, op);
      op = n;
    }
  }
  out.writeUInt32LE(0, op);
  return out.subarray(0, op + 4);
}
