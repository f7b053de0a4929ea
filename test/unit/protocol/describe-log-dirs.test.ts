// The hand-written DescribeLogDirs (35) codec: byte layouts, round trips at every version we speak,
// the header versions (flexible from v2), and truncated bodies ending in PROTOCOL_ERROR.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGodelError } from '../../../ts/errors.js';
import { apiEntry, isHandWrittenApi } from '../../../ts/protocol/api-keys.js';
import { protocolCodec } from '../../../ts/protocol/codecs.js';
import {
  decodeDescribeLogDirsRequest,
  decodeDescribeLogDirsResponse,
  encodeDescribeLogDirsRequest,
  encodeDescribeLogDirsResponse,
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
} from '../../../ts/protocol/describe-log-dirs.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../../ts/protocol/headers.js';
import { Reader } from '../../../ts/protocol/reader.js';
import { Writer } from '../../../ts/protocol/writer.js';

const VERSIONS = [0, 1, 2, 3, 4];
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const written = (f: (w: Writer) => void): Buffer => {
  const w = new Writer(16);
  f(w);
  return w.finish();
};

const name = fc.string({ maxLength: 12 });
const int32 = fc.integer({ min: -2147483648, max: 2147483647 });
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const requestArb: fc.Arbitrary<DescribeLogDirsRequest> = fc.record({
  topics: fc.option(fc.array(fc.record({ topic: name, partitions: fc.array(int32, { maxLength: 4 }) }), { maxLength: 4 })),
});
const responseArb = (version: number): fc.Arbitrary<DescribeLogDirsResponse> => fc.record({
  throttleTimeMs: int32,
  errorCode: version >= 3 ? fc.integer({ min: -32768, max: 32767 }) : fc.constant(0),
  results: fc.array(fc.record({
    errorCode: fc.integer({ min: -32768, max: 32767 }),
    logDir: name,
    topics: fc.array(fc.record({
      name,
      partitions: fc.array(fc.record({ partitionIndex: int32, partitionSize: int64, offsetLag: int64, isFutureKey: fc.boolean() }), { maxLength: 3 }),
    }), { maxLength: 3 }),
    totalBytes: version >= 4 ? int64 : fc.constant(-1n),
    usableBytes: version >= 4 ? int64 : fc.constant(-1n),
  }), { maxLength: 3 }),
});

describe('DescribeLogDirs codec (hand-written)', () => {
  it('is in the api table as a hand-written api, 0-4, flexible from v2', () => {
    expect(apiEntry(35)).toMatchObject({ name: 'DescribeLogDirs', minVersion: 0, maxVersion: 4 });
    expect(isHandWrittenApi(35)).toBe(true);
    expect(protocolCodec(35)).toBeDefined();
    expect(VERSIONS.map((v) => requestHeaderVersion(35, v))).toEqual([1, 1, 2, 2, 2]);
    expect(VERSIONS.map((v) => responseHeaderVersion(35, v))).toEqual([0, 0, 1, 1, 1]);
  });

  it('writes Kafka\'s layouts: a null topic list, classic and compact', () => {
    expect(written((w) => encodeDescribeLogDirsRequest(w, { topics: null }, 1))).toEqual(hex('ffffffff'));
    expect(written((w) => encodeDescribeLogDirsRequest(w, { topics: null }, 2))).toEqual(hex('00 00'));
    expect(written((w) => encodeDescribeLogDirsRequest(w, { topics: [{ topic: 'a', partitions: [3] }] }, 4)))
      .toEqual(hex('02 02 61 02 00000003 00 00'));
    const response: DescribeLogDirsResponse = {
      throttleTimeMs: 0, errorCode: 0,
      results: [{ errorCode: 0, logDir: '/d', totalBytes: 10n, usableBytes: 5n, topics: [{ name: 'a', partitions: [{ partitionIndex: 1, partitionSize: 7n, offsetLag: 0n, isFutureKey: false }] }] }],
    };
    expect(written((w) => encodeDescribeLogDirsResponse(w, response, 4))).toEqual(hex(
      '00000000 0000 02' + // throttle, error code, 1 result
      '0000 03 2f64 02' + // result: error, "/d", 1 topic
      '02 61 02 00000001 0000000000000007 0000000000000000 00 00 00' + // topic "a", partition 1 size 7, tags
      '000000000000000a 0000000000000005 00 00', // total, usable, tags
    ));
    expect(written((w) => encodeDescribeLogDirsResponse(w, response, 1))).toEqual(hex(
      '00000000 00000001 0000 0002 2f64 00000001 0001 61 00000001 00000001 0000000000000007 0000000000000000 00',
    ));
  });

  for (const version of VERSIONS) {
    it(`round-trips requests and responses at v${version}; a truncated body is a PROTOCOL_ERROR`, () => {
      fc.assert(fc.property(requestArb, (v) => {
        const bytes = written((w) => encodeDescribeLogDirsRequest(w, v, version));
        expect(decodeDescribeLogDirsRequest(new Reader(bytes), version)).toEqual(v);
      }), { numRuns: 100 });
      fc.assert(fc.property(responseArb(version), (v) => {
        const bytes = written((w) => encodeDescribeLogDirsResponse(w, v, version));
        expect(decodeDescribeLogDirsResponse(new Reader(bytes), version)).toEqual(v);
        for (let cut = 0; cut < bytes.length; cut += Math.max(1, bytes.length >> 3)) {
          try {
            decodeDescribeLogDirsResponse(new Reader(bytes.subarray(0, cut)), version);
            throw new Error(`a ${cut}-byte prefix of ${bytes.length} decoded`);
          } catch (err) {
            expect(isGodelError(err, 'PROTOCOL_ERROR'), String(err)).toBe(true);
          }
        }
      }), { numRuns: 100 });
    });
  }

  it('refuses versions outside 0-4', () => {
    expect(() => encodeDescribeLogDirsRequest(new Writer(), { topics: null }, 5)).toThrow();
    expect(() => decodeDescribeLogDirsResponse(new Reader(Buffer.alloc(8)), 5)).toThrow();
  });
});
