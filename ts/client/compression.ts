// Compression codecs for record batches: gzip (node:zlib, on libuv's thread pool so the event loop
// keeps going), lz4 (./lz4.ts, the LZ4 frame format Kafka uses, in TypeScript), and snappy and zstd,
// which Node 20's standard library lacks, through optional dependencies loaded on first use
// (./snappy.ts: the `snappy` package's prebuilt binaries from npm; ./zstd.ts: zstd in WebAssembly).
// Without those packages (npm install --omit=optional) snappy and zstd fail with an error that
// names the package. registerCompressionCodec() replaces any implementation. Kafka's framing rules
// apply: snappy is Kafka's (xerial) framing or raw snappy, zstd is a zstd frame.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { GodelError } from '../errors.js';
import { CompressionCodec } from '../storage/record-batch.js';
import { lz4CompressFrame, lz4DecompressFrame } from './lz4.js';
import { snappyCompress, snappyDecompress } from './snappy.js';
import { zstdCompress, zstdDecompress } from './zstd.js';

export { CompressionCodec };

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface CompressionImplementation {
  compress(data: Buffer): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

const codecs = new Map<CompressionCodec, CompressionImplementation>([
  [CompressionCodec.Gzip, {
    compress: (data) => gzip(data),
    decompress: (data) => gunzip(data),
  }],
  [CompressionCodec.Lz4, {
    compress: async (data) => lz4CompressFrame(data),
    decompress: async (data) => lz4DecompressFrame(data),
  }],
  [CompressionCodec.Snappy, { compress: snappyCompress, decompress: snappyDecompress }],
  [CompressionCodec.Zstd, { compress: zstdCompress, decompress: zstdDecompress }],
]);

const NAMES: Record<CompressionName, CompressionCodec> = {
  none: CompressionCodec.None,
  gzip: CompressionCodec.Gzip,
  snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4,
  zstd: CompressionCodec.Zstd,
};

/** Kafka's codec number for a name or number; throws GodelError('CONFIG_INVALID') for anything else. */
export function compressionCodec(value: CompressionName | CompressionCodec | undefined): CompressionCodec {
  if (value === undefined) return CompressionCodec.None;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 4) return value;
  } else if (Object.hasOwn(NAMES, value)) {
    return NAMES[value];
  }
  throw new GodelError('CONFIG_INVALID', `unknown compression ${JSON.stringify(value)}: use none, gzip, snappy, lz4 or zstd`);
}

export function compressionName(codec: CompressionCodec): CompressionName {
  return (Object.keys(NAMES) as CompressionName[]).find((n) => NAMES[n] === codec) ?? 'none';
}

/** Installs (or replaces) the implementation of snappy, lz4 or zstd (gzip too, if you insist). */
export function registerCompressionCodec(codec: CompressionName | CompressionCodec, implementation: CompressionImplementation): void {
  const c = compressionCodec(codec);
  if (c === CompressionCodec.None) throw new GodelError('CONFIG_INVALID', 'codec "none" takes no implementation');
  codecs.set(c, implementation);
}

/** The implementation of a codec; throws GodelError('CONFIG_INVALID') when none is registered. */
export function compressionImplementation(codec: CompressionCodec): CompressionImplementation {
  const impl = codecs.get(codec);
  if (impl === undefined) {
    throw new GodelError('CONFIG_INVALID', `no ${compressionName(codec)} implementation is registered (see registerCompressionCodec)`);
  }
  return impl;
}

export function hasCompressionCodec(codec: CompressionCodec): boolean {
  return codec === CompressionCodec.None || codecs.has(codec);
}
