// The client's snappy and zstd codecs (optional packages, loaded on first use): round trips, the
// framings other Kafka clients write (snappy-java's xerial stream and librdkafka's raw snappy; zstd
// frames with and without their content size, checked against the zstd tool), and bad input.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compressionImplementation, CompressionCodec } from '../../../ts/client/compression.js';
import { snappyCompress, snappyDecompress } from '../../../ts/client/snappy.js';
import { zstdCompress, zstdDecompress } from '../../../ts/client/zstd.js';

/** Text-like bytes that compress, but not to nothing. */
function sample(bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let x = 12345;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = 97 + ((x >>> 16) % 8);
  }
  return out;
}

function hasTool(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('snappy', () => {
  it('round-trips through the codec table, empty and multi-block inputs included', async () => {
    const codec = compressionImplementation(CompressionCodec.Snappy);
    for (const size of [0, 1, 1000, 32 * 1024, 100_000]) {
      const data = sample(size);
      const packed = await codec.compress(data);
      expect(await codec.decompress(packed), `${size} bytes`).toEqual(data);
    }
  });

  it('writes the xerial stream the Java client writes: header, then 32 KiB blocks', async () => {
    const packed = await snappyCompress(sample(70_000));
    expect(packed.subarray(0, 16)).toEqual(Buffer.from('82534e41505059000000000100000001', 'hex'));
    let pos = 16;
    let blocks = 0;
    while (pos < packed.length) {
      pos += 4 + packed.readInt32BE(pos);
      blocks++;
    }
    expect(pos).toBe(packed.length);
    expect(blocks).toBe(3);
  });

  it('reads raw snappy (librdkafka) as well', async () => {
    const data = sample(50_000);
    const xerial = await snappyCompress(data);
    // A one-block stream's block is raw snappy of the whole input.
    const one = await snappyCompress(data.subarray(0, 20_000));
    expect(await snappyDecompress(one.subarray(20))).toEqual(data.subarray(0, 20_000));
    expect(await snappyDecompress(xerial)).toEqual(data);
  });

  it('refuses a stream whose block length runs past the end', async () => {
    const packed = await snappyCompress(sample(1000));
    packed.writeInt32BE(packed.length, 16);
    await expect(snappyDecompress(packed)).rejects.toThrow(/block of/);
  });
});

describe('zstd', () => {
  it('round-trips through the codec table', async () => {
    const codec = compressionImplementation(CompressionCodec.Zstd);
    for (const size of [0, 1, 1000, 300_000]) {
      const data = sample(size);
      const packed = await codec.compress(data);
      expect(packed.readUInt32LE(0)).toBe(0xfd2fb528); // a zstd frame
      expect(await codec.decompress(packed), `${size} bytes`).toEqual(data);
    }
  });

  it('reads a streamed frame without a content size bigger than its first guess (the zstd tool from a pipe), and the tool reads ours', async () => {
    expect(hasTool('zstd'), 'the zstd tool (Debian package zstd)').toBe(true);
    const data = Buffer.concat([sample(200_000), Buffer.alloc(3 * 1024 * 1024, 'z')]);
    const streamed = execFileSync('zstd', ['-c', '-q'], { input: data, maxBuffer: 64 * 1024 * 1024 });
    expect(streamed[4]! & 0xc0, 'no content size in the frame header').toBe(0);
    // Buffer#equals: toEqual walks megabytes byte by byte.
    expect((await zstdDecompress(streamed)).equals(data)).toBe(true);
    const ours = await zstdCompress(data);
    expect(execFileSync('zstd', ['-d', '-c', '-q'], { input: ours, maxBuffer: 64 * 1024 * 1024 }).equals(data)).toBe(true);
  });

  it('refuses garbage', async () => {
    await expect(zstdDecompress(Buffer.from('not a zstd frame at all'))).rejects.toThrow(/zstd/);
  });
});
