// LZ4 frames: xxHash32 vectors, round trips over random and repetitive data, and both directions
// with the reference `lz4` command-line tool (independent and linked blocks, block checksums) when
// it is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressionImplementation } from '../../../ts/client/compression.js';
import { lz4CompressFrame, lz4DecompressFrame, xxh32 } from '../../../ts/client/lz4.js';
import { CompressionCodec } from '../../../ts/storage/record-batch.js';

const hasCli = spawnSync('lz4', ['--version']).status === 0;

const samples: Buffer[] = [
  Buffer.alloc(0),
  Buffer.from('hello'),
  Buffer.from('abcabcabcabcabcabcabcabcabcabcabcabc'),
  crypto.randomBytes(100_000),
  Buffer.alloc(300_000, 'x'),
  Buffer.concat(Array.from({ length: 5000 }, (_, i) => Buffer.from(`record ${i % 37} value value value ${i}\n`))),
];

describe('lz4', () => {
  it('computes xxHash32 as the reference does', () => {
    expect(xxh32(Buffer.from(''))).toBe(0x02cc5d05);
    expect(xxh32(Buffer.from('a'))).toBe(0x550d7456);
    expect(xxh32(Buffer.from('abc'))).toBe(0x32d153ff);
    expect(xxh32(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });

  it('round-trips random and repetitive data (property), and compresses repetition', () => {
    fc.assert(fc.property(fc.oneof(
      fc.uint8Array({ maxLength: 200_000 }),
      fc.array(fc.constantFrom('ab', 'record ', 'x', '\n', '0123456789'), { maxLength: 20_000 }).map((a) => new TextEncoder().encode(a.join(''))),
    ), (bytes) => {
      const input = Buffer.from(bytes);
      expect(lz4DecompressFrame(lz4CompressFrame(input)).equals(input)).toBe(true);
    }), { numRuns: 60 });
    for (const s of samples) expect(lz4DecompressFrame(lz4CompressFrame(s)).equals(s)).toBe(true);
    expect(lz4CompressFrame(samples[4]!).length).toBeLessThan(2000);
  });

  it('reads concatenated frames and refuses garbage', () => {
    const two = Buffer.concat([lz4CompressFrame(Buffer.from('one ')), lz4CompressFrame(Buffer.from('two'))]);
    expect(lz4DecompressFrame(two).toString()).toBe('one two');
    expect(() => lz4DecompressFrame(Buffer.from('not lz4 at all'))).toThrow(/magic/);
    const cut = lz4CompressFrame(samples[5]!);
    expect(() => lz4DecompressFrame(cut.subarray(0, cut.length - 10))).toThrow(/lz4/);
  });

  it('is the built-in lz4 codec', async () => {
    const codec = compressionImplementation(CompressionCodec.Lz4);
    expect((await codec.decompress(await codec.compress(samples[5]!))).equals(samples[5]!)).toBe(true);
  });

  // Needs the lz4 command-line tool (Debian package lz4), which a machine may lack; the kcat interop
  // suite checks the same frames against librdkafka in both directions either way.
  it.skipIf(!hasCli)('writes frames the lz4 tool reads, and reads the tool\'s frames (independent, linked, with block checksums)', () => {
    for (const input of samples) {
      expect(execFileSync('lz4', ['-d', '-c'], { input: lz4CompressFrame(input) }).equals(input)).toBe(true);
      for (const flags of [['-B4', '-BI'], ['-B4', '-BD'], ['-B5', '-BX'], ['-B7', '--no-frame-crc']]) {
        const theirs = execFileSync('lz4', ['-c', '-q', ...flags], { input });
        expect(lz4DecompressFrame(theirs).equals(input)).toBe(true);
      }
    }
  });
});
