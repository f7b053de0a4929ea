// Kafka's snappy codec on top of the `snappy` package (an optional dependency: napi-rs bindings
// whose prebuilt binaries come from npm as per-platform packages, nothing is built or downloaded
// at install). Loaded on first use, so a client that never meets snappy never loads it.
//
// Framing, as Kafka's clients: the Java producer writes snappy-java's "xerial" stream (a 16-byte
// header: 0x82 "SNAPPY" 0x00, version 1, compatible version 1; then blocks of int32 compressed
// length + raw snappy data, 32 KiB of input per block); librdkafka writes raw snappy. We write
// the xerial stream, which every Kafka client reads, and read both.
import { GodelError } from '../errors.js';

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
/** snappy-java's default block size (the Java producer's). */
const XERIAL_BLOCK_BYTES = 32 * 1024;

interface SnappyModule {
  compressSync(input: Buffer): Buffer;
  uncompressSync(input: Buffer, options: { asBuffer: true }): Buffer | string;
}

let loaded: Promise<SnappyModule> | null = null;

function snappyModule(): Promise<SnappyModule> {
  loaded ??= import('snappy').then(
    (m) => ((m as { default?: SnappyModule }).default ?? m) as SnappyModule,
    (err: unknown) => {
      loaded = null;
      throw new GodelError('CONFIG_INVALID', `snappy needs the optional package "snappy" (npm install snappy): ${(err as Error).message}`);
    },
  );
  return loaded;
}

function isXerial(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_BYTES && data.compare(XERIAL_MAGIC, 0, XERIAL_MAGIC.length, 0, XERIAL_MAGIC.length) === 0;
}

/** The xerial stream of `data`: the header, then one length-prefixed raw snappy block per 32 KiB. */
export async function snappyCompress(data: Buffer): Promise<Buffer> {
  const snappy = await snappyModule();
  const parts: Buffer[] = [];
  const header = Buffer.allocUnsafe(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  parts.push(header);
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_BYTES) {
    const block = snappy.compressSync(data.subarray(at, Math.min(data.length, at + XERIAL_BLOCK_BYTES)));
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(block.length, 0);
    parts.push(size, block);
  }
  return Buffer.concat(parts);
}

/** Reads a xerial stream or raw snappy data. A malformed input throws. */
export async function snappyDecompress(data: Buffer): Promise<Buffer> {
  const snappy = await snappyModule();
  if (!isXerial(data)) return snappy.uncompressSync(data, { asBuffer: true }) as Buffer;
  const parts: Buffer[] = [];
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (data.length - pos < 4) throw new Error(`snappy (xerial): ${data.length - pos} bytes where a block length belongs`);
    const size = data.readInt32BE(pos);
    pos += 4;
    if (size < 0 || size > data.length - pos) throw new Error(`snappy (xerial): a block of ${size} bytes, ${data.length - pos} remain`);
    parts.push(snappy.uncompressSync(data.subarray(pos, pos + size), { asBuffer: true }) as Buffer);
    pos += size;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
