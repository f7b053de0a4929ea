// Kafka's zstd codec (a zstd frame per batch, level 3 as Kafka's default) on top of
// `@bokuweb/zstd-wasm` (an optional dependency: zstd compiled to WebAssembly and shipped inside the
// npm package, so nothing is built or downloaded at install). Loaded and instantiated on first use.
//
// The package's one-shot decompress needs an upper bound of the output when the frame does not
// carry its content size, which is the case for the Java client's and the zstd tool's streamed
// frames: we start from a generous guess and double it until the frame fits, up to
// DECOMPRESSED_BATCH_BYTES_MAX (limits.ts).
import { GodelError } from '../errors.js';
import { DECOMPRESSED_BATCH_BYTES_MAX as ZSTD_DECOMPRESSED_BYTES_MAX } from '../limits.js';

/** Kafka's default compression.zstd.level. */
const ZSTD_LEVEL = 3;
/** The first output bound tried for a frame without a content size: a multiple of its input. */
const FIRST_GUESS_RATIO = 8;
const FIRST_GUESS_BYTES_MIN = 1024 * 1024;

interface ZstdModule {
  init(): Promise<void>;
  compress(data: Uint8Array, level?: number): Uint8Array;
  decompress(data: Uint8Array, options?: { defaultHeapSize: number }): Uint8Array;
}

let loaded: Promise<ZstdModule> | null = null;

function zstdModule(): Promise<ZstdModule> {
  loaded ??= import('@bokuweb/zstd-wasm').then(
    async (m) => {
      const zstd = ((m as { default?: ZstdModule }).default ?? m) as ZstdModule;
      await zstd.init();
      return zstd;
    },
    (err: unknown) => {
      loaded = null;
      throw new GodelError('CONFIG_INVALID', `zstd needs the optional package "@bokuweb/zstd-wasm" (npm install @bokuweb/zstd-wasm): ${(err as Error).message}`);
    },
  );
  return loaded;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export async function zstdCompress(data: Buffer): Promise<Buffer> {
  const zstd = await zstdModule();
  return asBuffer(zstd.compress(data, ZSTD_LEVEL));
}

/** Decompresses a zstd frame, with or without its content size in the header. A malformed frame throws. */
export async function zstdDecompress(data: Buffer): Promise<Buffer> {
  const zstd = await zstdModule();
  let bound = Math.max(FIRST_GUESS_BYTES_MIN, data.length * FIRST_GUESS_RATIO);
  for (;;) {
    try {
      return asBuffer(zstd.decompress(data, { defaultHeapSize: bound }));
    } catch (err) {
      // The package reports every failure alike; a bound too small is the one worth retrying.
      if (bound >= ZSTD_DECOMPRESSED_BYTES_MAX) throw new Error(`zstd: cannot decompress ${data.length} bytes within ${ZSTD_DECOMPRESSED_BYTES_MAX} bytes: ${(err as Error).message}`, { cause: err });
      bound = Math.min(ZSTD_DECOMPRESSED_BYTES_MAX, bound * 2);
    }
  }
}
