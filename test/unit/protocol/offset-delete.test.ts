// The hand-written OffsetDelete (47) codec: byte layout, round trips, and the same decoder fuzzing
// the generated codecs get (truncations and lying lengths end in PROTOCOL_ERROR, never a crash or
// an allocation the input cannot back).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGodelError } from '../../../ts/errors.js';
import { apiEntry, isHandWrittenApi } from '../../../ts/protocol/api-keys.js';
import { PROTOCOL_CODECS, protocolCodec } from '../../../ts/protocol/codecs.js';
import { apiCodec } from '../../../ts/protocol/generated/index.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../../ts/protocol/headers.js';
import {
  decodeOffsetDeleteRequest,
  decodeOffsetDeleteResponse,
  encodeOffsetDeleteRequest,
  encodeOffsetDeleteResponse,
  type OffsetDeleteRequest,
  type OffsetDeleteResponse,
} from '../../../ts/protocol/offset-delete.js';
import { Reader } from '../../../ts/protocol/reader.js';
import { Writer } from '../../../ts/protocol/writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const written = (f: (w: Writer) => void): Buffer => {
  const w = new Writer(16);
  f(w);
  return w.finish();
};

const name = fc.string({ maxLength: 12 });
const int32 = fc.integer({ min: -2147483648, max: 2147483647 });
const int16 = fc.integer({ min: -32768, max: 32767 });
const requestArb: fc.Arbitrary<OffsetDeleteRequest> = fc.record({
  groupId: name,
  topics: fc.array(fc.record({ name, partitions: fc.array(fc.record({ partitionIndex: int32 }), { maxLength: 4 }) }), { maxLength: 4 }),
});
const responseArb: fc.Arbitrary<OffsetDeleteResponse> = fc.record({
  errorCode: int16,
  throttleTimeMs: int32,
  topics: fc.array(fc.record({
    name,
    partitions: fc.array(fc.record({ partitionIndex: int32, errorCode: int16 }), { maxLength: 4 }),
  }), { maxLength: 4 }),
});

interface Case<T> {
  label: string;
  arb: fc.Arbitrary<T>;
  encode: (w: Writer, v: T, version: number) => void;
  decode: (r: Reader, version: number) => T;
}
const CASES = [
  { label: 'OffsetDeleteRequest v0', arb: requestArb, encode: encodeOffsetDeleteRequest, decode: decodeOffsetDeleteRequest },
  { label: 'OffsetDeleteResponse v0', arb: responseArb, encode: encodeOffsetDeleteResponse, decode: decodeOffsetDeleteResponse },
] as Case<unknown>[];

function decodeOrProtocolError(c: Case<unknown>, bytes: Buffer): unknown {
  try {
    return c.decode(new Reader(bytes), 0);
  } catch (err) {
    if (!isGodelError(err, 'PROTOCOL_ERROR')) throw new Error(`${c.label}: not a PROTOCOL_ERROR: ${String(err)}`, { cause: err });
    return undefined;
  }
}

function assertBounded(value: unknown, inputBytes: number): void {
  if (typeof value === 'string' || Array.isArray(value)) expect(value.length).toBeLessThanOrEqual(inputBytes);
  if (Array.isArray(value)) for (const e of value) assertBounded(e, inputBytes);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) assertBounded(v, inputBytes);
}

describe('OffsetDelete byte layout (v0, not flexible)', () => {
  it('request: group_id STRING, [name STRING, [partition_index INT32]]', () => {
    const bytes = written((w) => encodeOffsetDeleteRequest(w, { groupId: 'g', topics: [{ name: 'ab', partitions: [{ partitionIndex: 0 }, { partitionIndex: 7 }] }] }, 0));
    expect(bytes).toEqual(hex('0001 67  00000001  0002 6162  00000002 00000000 00000007'));
    expect(decodeOffsetDeleteRequest(new Reader(bytes), 0)).toEqual({ groupId: 'g', topics: [{ name: 'ab', partitions: [{ partitionIndex: 0 }, { partitionIndex: 7 }] }] });
  });

  it('response: error_code INT16, throttle_time_ms INT32, [name STRING, [partition_index INT32, error_code INT16]]', () => {
    const value = { errorCode: 0, throttleTimeMs: 5, topics: [{ name: 't', partitions: [{ partitionIndex: 1, errorCode: 86 }] }] };
    const bytes = written((w) => encodeOffsetDeleteResponse(w, value, 0));
    expect(bytes).toEqual(hex('0000 00000005  00000001  0001 74  00000001 00000001 0056'));
    expect(decodeOffsetDeleteResponse(new Reader(bytes), 0)).toEqual(value);
    // A group-level error answer: no topics.
    expect(written((w) => encodeOffsetDeleteResponse(w, { errorCode: 69, throttleTimeMs: 0, topics: [] }, 0))).toEqual(hex('0045 00000000 00000000'));
  });

  it('only v0 exists: other versions throw a PROTOCOL_ERROR both ways', () => {
    for (const version of [-1, 1, 2]) {
      expect(() => written((w) => encodeOffsetDeleteRequest(w, { groupId: '', topics: [] }, version))).toThrowError(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
      expect(() => decodeOffsetDeleteResponse(new Reader(hex('0000 00000000 00000000')), version)).toThrowError(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
    }
  });

  it('a null group id, null arrays and negative lengths are PROTOCOL_ERRORs', () => {
    for (const body of ['ffff 00000000', '0001 67 ffffffff', '0001 67 00000001 0001 74 ffffffff', '0001 67 fffffffe']) {
      expect(() => decodeOffsetDeleteRequest(new Reader(hex(body)), 0), body).toThrowError(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
    }
  });
});

describe('OffsetDelete in the codec lookup', () => {
  it('is advertised 0-0, hand-written, found by protocolCodec but not among the generated codecs', () => {
    expect(apiEntry(47)).toMatchObject({ name: 'OffsetDelete', minVersion: 0, maxVersion: 0 });
    expect(isHandWrittenApi(47)).toBe(true);
    expect(apiCodec(47)).toBeUndefined();
    expect(protocolCodec(47)).toBe(PROTOCOL_CODECS[47]);
    expect(protocolCodec(47)).toMatchObject({ apiKey: 47, name: 'OffsetDelete', minVersion: 0, maxVersion: 0, request: { flexibleFrom: null }, response: { flexibleFrom: null } });
    expect(protocolCodec(8)).toBe(apiCodec(8));
    expect(protocolCodec(46)).toBeUndefined();
  });

  it('uses request header v1 and response header v0', () => {
    expect(requestHeaderVersion(47, 0)).toBe(1);
    expect(responseHeaderVersion(47, 0)).toBe(0);
  });
});

describe.each(CASES.map((c) => [c.label, c] as const))('%s', (_label, c) => {
  const encode = (v: unknown): Buffer => written((w) => c.encode(w, v, 0));
  const samples = fc.sample(c.arb, { numRuns: 4, seed: 42 }).map(encode);

  it('round trips: decode(encode(x)) equals x and re-encodes identically', () => {
    fc.assert(fc.property(c.arb, (value) => {
      const bytes = encode(value);
      const r = new Reader(bytes);
      const decoded = c.decode(r, 0);
      expect(r.remaining).toBe(0);
      expect(decoded).toEqual(value);
      expect(encode(decoded).equals(bytes)).toBe(true);
    }), { numRuns: 100 });
  });

  it('random bytes give a value or a PROTOCOL_ERROR', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (raw) => {
      const bytes = Buffer.from(raw);
      const value = decodeOrProtocolError(c, bytes);
      if (value !== undefined) assertBounded(value, bytes.length);
    }), { numRuns: 200 });
  });

  it('every truncation of a valid body is a PROTOCOL_ERROR', () => {
    for (const body of samples) {
      for (let cut = 0; cut < body.length; cut++) {
        expect(() => c.decode(new Reader(body.subarray(0, cut)), 0), `cut at ${cut} of ${body.length}`).toThrowError(
          expect.objectContaining({ name: 'GodelError', code: 'PROTOCOL_ERROR' }),
        );
      }
    }
  });

  it('lying lengths and counts at every position', () => {
    const lies = [hex('7fffffff'), hex('000f4241'), hex('fffffffe'), hex('7fff'), hex('ffffffff0f')];
    for (const body of samples) {
      for (let at = 0; at < body.length; at++) {
        for (const lie of lies) {
          const bytes = Buffer.from(body);
          lie.copy(bytes, at, 0, Math.min(lie.length, bytes.length - at));
          const value = decodeOrProtocolError(c, bytes);
          if (value !== undefined) assertBounded(value, bytes.length);
        }
      }
    }
  });
});
