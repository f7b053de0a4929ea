// Every generated codec, every version we advertise, both directions:
// - round trips with fast-check: values are built from generated/schemas.ts for the exact version
//   (fields the version lacks hold their defaults, which is what decoding yields), and
//   decode(encode(x)) must equal x, consume every byte and re-encode to the same bytes;
// - decoder fuzzing: random bytes, every truncation of valid bodies, and lying length fields must
//   give a GodelError('PROTOCOL_ERROR') or a value, never another exception, and a value never
//   holds an array, string or bytes longer than the input.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGodelError } from '../../../ts/errors.js';
import { GENERATED_API_TABLE } from '../../../ts/protocol/api-keys.js';
import {
  API_CODECS,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolAssignmentVersioned,
  decodeConsumerProtocolSubscription,
  decodeConsumerProtocolSubscriptionVersioned,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  encodeConsumerProtocolSubscriptionVersioned,
  type MessageCodec,
} from '../../../ts/protocol/generated/index.js';
import { MESSAGE_SCHEMAS, type FieldSchema, type MessageSchema } from '../../../ts/protocol/generated/schemas.js';
import { Reader } from '../../../ts/protocol/reader.js';
import { Writer } from '../../../ts/protocol/writer.js';

// ---- arbitraries from the schema ---------------------------------------------------------------

const inRange = (r: readonly [number, number] | null, v: number): boolean => r !== null && v >= r[0] && v <= r[1];

function defaultOf(schema: MessageSchema, f: FieldSchema): unknown {
  if (f.type.startsWith('[]')) return f.default === null ? null : [];
  if (f.type === 'struct') return defaultStruct(schema, f.struct!);
  if ((f.type === 'bytes' || f.type === 'records') && f.default === 'EMPTY_BYTES') return Buffer.alloc(0);
  return f.default;
}

function defaultStruct(schema: MessageSchema, name: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.structs[name]!) out[f.name] = defaultOf(schema, f);
  return out;
}

function primitiveArb(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool': return fc.boolean();
    case 'int8': return fc.integer({ min: -128, max: 127 });
    case 'int16': return fc.integer({ min: -32768, max: 32767 });
    case 'uint16': return fc.integer({ min: 0, max: 65535 });
    case 'int32': return fc.integer({ min: -2147483648, max: 2147483647 });
    case 'uint32': return fc.integer({ min: 0, max: 4294967295 });
    case 'int64': return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float64': return fc.double();
    case 'string': return fc.string({ unit: 'binary', maxLength: 12 });
    case 'bytes': case 'records': return fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
    case 'uuid': return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'));
    default: throw new Error(`no arbitrary for ${type}`);
  }
}

function structArb(schema: MessageSchema, name: string, version: number, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of schema.structs[name]!) {
    fields[f.name] = inRange(f.versions, version) ? fieldArb(schema, f, version, depth) : fc.constant(defaultOf(schema, f));
  }
  return fc.record(fields, { noNullPrototype: true });
}

function fieldArb(schema: MessageSchema, f: FieldSchema, version: number, depth: number): fc.Arbitrary<unknown> {
  const nullable = inRange(f.nullable, version);
  let arb: fc.Arbitrary<unknown>;
  if (f.type.startsWith('[]')) {
    const elem = f.type.slice(2);
    const elemArb = elem === 'struct' ? structArb(schema, f.struct!, version, depth + 1) : primitiveArb(elem);
    arb = fc.array(elemArb, { maxLength: depth >= 2 ? 2 : 3 });
  } else if (f.type === 'struct') {
    arb = structArb(schema, f.struct!, version, depth + 1);
  } else {
    arb = primitiveArb(f.type);
  }
  return nullable ? fc.option(arb, { nil: null, freq: 4 }) : arb;
}

function messageArb(schema: MessageSchema, version: number): fc.Arbitrary<Record<string, unknown>> {
  return structArb(schema, schema.root, version, 0);
}

// ---- helpers -----------------------------------------------------------------------------------

interface Case {
  label: string;
  schema: MessageSchema;
  codec: MessageCodec<unknown>;
  version: number;
}

const CASES: Case[] = [];
for (const api of GENERATED_API_TABLE) {
  const codecs = API_CODECS[api.apiKey];
  for (let v = api.minVersion; v <= api.maxVersion; v++) {
    for (const dir of ['request', 'response'] as const) {
      const schema = MESSAGE_SCHEMAS[`${api.name}${dir === 'request' ? 'Request' : 'Response'}`]!;
      CASES.push({ label: `${schema.name} v${v}`, schema, codec: codecs[dir] as MessageCodec<unknown>, version: v });
    }
  }
}
const dataCodec = <T>(encode: (w: Writer, v: T, version: number) => void, decode: (r: Reader, version: number) => T): MessageCodec<unknown> =>
  ({ flexibleFrom: null, encode: encode as MessageCodec<unknown>['encode'], decode });
for (const [name, codec] of [
  ['ConsumerProtocolSubscription', dataCodec(encodeConsumerProtocolSubscription, decodeConsumerProtocolSubscription)],
  ['ConsumerProtocolAssignment', dataCodec(encodeConsumerProtocolAssignment, decodeConsumerProtocolAssignment)],
] as const) {
  const schema = MESSAGE_SCHEMAS[name]!;
  for (let v = schema.minVersion; v <= schema.maxVersion; v++) CASES.push({ label: `${name} v${v}`, schema, codec, version: v });
}

function encode(c: Case, value: unknown): Buffer {
  const w = new Writer(64);
  c.codec.encode(w, value, c.version);
  return w.finish();
}

/** Decodes, requiring success or a PROTOCOL_ERROR; returns the value or undefined. */
function decodeOrProtocolError(c: Case, bytes: Buffer): unknown {
  try {
    return c.codec.decode(new Reader(bytes), c.version);
  } catch (err) {
    if (!isGodelError(err, 'PROTOCOL_ERROR')) throw new Error(`${c.label}: not a PROTOCOL_ERROR: ${String(err)}`, { cause: err });
    return undefined;
  }
}

/**
 * No array, string or bytes in a decoded value may be longer than the input that held it (a uuid
 * is a 22-character string, possibly the zero-uuid default, whatever the input's size).
 */
function assertBounded(value: unknown, inputBytes: number, path = '$'): void {
  const bound = (length: number, max: number): void => {
    if (length > max) throw new Error(`${path}: length ${length} from a ${inputBytes}-byte input`);
  };
  if (Buffer.isBuffer(value)) {
    bound(value.length, inputBytes);
  } else if (typeof value === 'string') {
    bound(value.length, Math.max(inputBytes, 22));
  } else if (Array.isArray(value)) {
    bound(value.length, inputBytes);
    value.forEach((e, i) => assertBounded(e, inputBytes, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertBounded(v, inputBytes, `${path}.${k}`);
  }
}

// A few valid bodies per case, shared by the fuzzers (fixed seed: reproducible).
const samples = new Map<Case, Buffer[]>();
function samplesOf(c: Case): Buffer[] {
  let s = samples.get(c);
  if (s === undefined) {
    s = fc.sample(messageArb(c.schema, c.version), { numRuns: 3, seed: 42 }).map((v) => encode(c, v));
    samples.set(c, s);
  }
  return s;
}

// ---- tests -------------------------------------------------------------------------------------

describe('round trips: decode(encode(x)) equals x for the fields of that version', () => {
  it.each(CASES.map((c) => [c.label, c] as const))('%s', (_label, c) => {
    fc.assert(
      fc.property(messageArb(c.schema, c.version), (value) => {
        const bytes = encode(c, value);
        const r = new Reader(bytes);
        const decoded = c.codec.decode(r, c.version);
        expect(r.remaining).toBe(0);
        expect(decoded).toEqual(value);
        expect(encode(c, decoded).equals(bytes)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});

describe('decoder fuzzing', () => {
  it.each(CASES.map((c) => [c.label, c] as const))('%s: random bytes give a value or a PROTOCOL_ERROR', (_label, c) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (raw) => {
        const bytes = Buffer.from(raw);
        const value = decodeOrProtocolError(c, bytes);
        if (value !== undefined) assertBounded(value, bytes.length);
      }),
      { numRuns: 60 },
    );
  });

  it.each(CASES.map((c) => [c.label, c] as const))('%s: every truncation of a valid body is a PROTOCOL_ERROR', (_label, c) => {
    for (const body of samplesOf(c)) {
      for (let cut = 0; cut < body.length; cut++) {
        const prefix = body.subarray(0, cut);
        expect(() => c.codec.decode(new Reader(prefix), c.version), `cut at ${cut} of ${body.length}`).toThrowError(
          expect.objectContaining({ name: 'GodelError', code: 'PROTOCOL_ERROR' }),
        );
      }
    }
  });

  it.each(CASES.map((c) => [c.label, c] as const))('%s: lying lengths and counts at every position', (_label, c) => {
    // Huge int32 / int16 lengths, a -2 length, and maximal unsigned varints, written over each offset.
    const lies: Buffer[] = [
      Buffer.from([0x7f, 0xff, 0xff, 0xff]),
      Buffer.from([0x00, 0x0f, 0x42, 0x41]), // 1_000_001: just above PROTOCOL_ARRAY_LENGTH_MAX
      Buffer.from([0xff, 0xff, 0xff, 0xfe]),
      Buffer.from([0x7f, 0xff]),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.from([0xc1, 0x84, 0x3d]), // uvarint 1_000_001
    ];
    for (const body of samplesOf(c)) {
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

describe('hand-made lies', () => {
  const metadataResponse = API_CODECS[3].response;

  it('rejects an array count above the bytes remaining before allocating', () => {
    // Metadata v1 response: throttle time is v3+, so the body starts with the brokers array.
    const bytes = Buffer.from([0, 0, 0x03, 0xe8, 0, 0, 0, 0]);
    expect(() => metadataResponse.decode(new Reader(bytes), 1)).toThrowError(/array length 1000 needs at least 1000 bytes, 4 remain/);
  });

  it('rejects an array count above PROTOCOL_ARRAY_LENGTH_MAX even with the bytes present', () => {
    const bytes = Buffer.alloc(8);
    bytes.writeInt32BE(1_000_001, 0);
    expect(() => metadataResponse.decode(new Reader(bytes), 1)).toThrowError(/above 1000000/);
  });

  it('rejects a string length above the bytes remaining', () => {
    // ApiVersions v3 request: compact string client software name claiming 100 bytes, 2 present.
    const bytes = Buffer.from([101, 0x61, 0x62]);
    expect(() => API_CODECS[18].request.decode(new Reader(bytes), 3)).toThrowError(/PROTOCOL|needed 100 bytes/);
  });

  it('rejects null in a non-nullable field', () => {
    // SaslHandshake v0 request: mechanism is a non-nullable string.
    expect(() => API_CODECS[17].request.decode(new Reader(Buffer.from([0xff, 0xff])), 0)).toThrowError(/null in a non-nullable string/);
  });

  it('rejects a tagged field whose content overruns its declared size', () => {
    // ApiVersions v3 response: error 0, no api keys, throttle 0, one tagged field: tag 1
    // (FinalizedFeaturesEpoch, an int64) declared as 4 bytes.
    const bytes = Buffer.from([0, 0, 1, 0, 0, 0, 0, 1, 1, 4, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(() => API_CODECS[18].response.decode(new Reader(bytes), 3)).toThrowError(/PROTOCOL|size/);
  });

  it('skips unknown tagged fields', () => {
    // Heartbeat v4 response: throttle 0, error 0, tagged: tag 9 with 3 bytes.
    const bytes = Buffer.from([0, 0, 0, 0, 0, 0, 1, 9, 3, 0xaa, 0xbb, 0xcc]);
    expect(API_CODECS[12].response.decode(new Reader(bytes), 4)).toEqual({ throttleTimeMs: 0, errorCode: 0 });
  });

  it('a version outside the generated range is a PROTOCOL_ERROR', () => {
    expect(() => API_CODECS[1].request.decode(new Reader(Buffer.alloc(64)), 3)).toThrowError(/outside the supported 4-17/);
    expect(() => API_CODECS[0].request.encode(new Writer(), {} as never, 12)).toThrowError(/outside the supported 0-11/);
  });
});

describe('encoding refuses what a version cannot carry', () => {
  it('throws on null where the version forbids it', () => {
    // Metadata: topics is nullable from v1 only.
    const body = { topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };
    expect(() => API_CODECS[3].request.encode(new Writer(), body, 0)).toThrowError(/MetadataRequest.Topics is null/);
    const w = new Writer();
    API_CODECS[3].request.encode(w, body, 1);
    expect(w.finish()).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  });

  it('throws on a non-default, non-ignorable field the version lacks', () => {
    // CreateTopics validateOnly is v1+ and not ignorable: dropping it would create the topics.
    const body = { topics: [], timeoutMs: 1000, validateOnly: true };
    expect(() => API_CODECS[19].request.encode(new Writer(), body, 0)).toThrowError(/validateOnly has a non-default value/);
    expect(() => API_CODECS[19].request.encode(new Writer(), { ...body, validateOnly: false }, 0)).not.toThrow();
  });
});

describe('consumer protocol', () => {
  it('round-trips a subscription with its version prefix', () => {
    const value = { topics: ['a', 'b'], userData: null, ownedPartitions: [{ topic: 'a', partitions: [0, 2] }], generationId: 7, rackId: 'r1' };
    const w = new Writer();
    encodeConsumerProtocolSubscriptionVersioned(w, value, 3);
    const bytes = w.finish();
    expect(bytes.readInt16BE(0)).toBe(3);
    expect(decodeConsumerProtocolSubscriptionVersioned(new Reader(bytes))).toEqual({ version: 3, value });
  });

  it('reads a newer subscription version as our newest, ignoring appended fields', () => {
    const w = new Writer();
    w.int16(9);
    encodeConsumerProtocolSubscription(w, { topics: ['t'], userData: Buffer.from('u'), ownedPartitions: [], generationId: -1, rackId: null }, 3);
    w.int32(12345); // a field from the future
    const { version, value } = decodeConsumerProtocolSubscriptionVersioned(new Reader(w.finish()));
    expect(version).toBe(9);
    expect(value.topics).toEqual(['t']);
  });

  it('decodes a v0 assignment with null user data', () => {
    // int16 version 0, [topic "t" -> partitions [0, 1]], user data: int32 -1 (null)
    const bytes = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
    expect(decodeConsumerProtocolAssignmentVersioned(new Reader(bytes))).toEqual({
      version: 0,
      value: { assignedPartitions: [{ topic: 't', partitions: [0, 1] }], userData: null },
    });
  });
});
