// Cross-checks against an independent implementation of the protocol: @platformatic/kafka (a
// devDependency, hand-written per api version). Our round trips prove the codecs self-consistent;
// these prove they agree with a real client on the wire:
// - responses: for every api and version that client implements within our ranges, random bodies
//   encoded by us must parse with its parseResponse to the same values (compared field by field
//   for the fields the version carries; its uuids are hex with dashes, ours base64url);
// - requests: bodies built by its createRequest must decode with ours to what it was given.

import * as pk from '@platformatic/kafka';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_TABLE } from '../../../ts/protocol/api-keys.js';
import { API_CODECS } from '../../../ts/protocol/generated/index.js';
import { MESSAGE_SCHEMAS, type FieldSchema, type MessageSchema } from '../../../ts/protocol/generated/schemas.js';
import { Reader } from '../../../ts/protocol/reader.js';
import { Writer } from '../../../ts/protocol/writer.js';

type Parse = (correlationId: number, apiKey: number, apiVersion: number, reader: unknown) => unknown;
type CreateRequest = (...args: never[]) => { buffer: Buffer };
const modules = pk as unknown as Record<string, { parseResponse?: Parse; createRequest?: CreateRequest } | undefined>;
const moduleOf = (api: string, version: number) => modules[`${api.charAt(0).toLowerCase()}${api.slice(1)}V${version}`];

const inRange = (r: readonly [number, number] | null, v: number): boolean => r !== null && v >= r[0] && v <= r[1];

// Values platformatic can parse: error codes 0 (it throws on others, though it keeps the body),
// arrays non-empty (so every nested field is exercised), records null (it decodes record batches).
function primitiveArb(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool': return fc.boolean();
    case 'int8': return fc.integer({ min: -128, max: 127 });
    case 'int16': return fc.integer({ min: -32768, max: 32767 });
    case 'int32': return fc.integer({ min: -2147483648, max: 2147483647 });
    case 'int64': return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'string': return fc.string({ unit: 'grapheme', maxLength: 8 });
    case 'bytes': return fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b));
    case 'uuid': return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'));
    default: throw new Error(`no arbitrary for ${type}`);
  }
}

function defaultOf(schema: MessageSchema, f: FieldSchema): unknown {
  if (f.type.startsWith('[]')) return f.default === null ? null : [];
  if (f.type === 'struct') return Object.fromEntries(schema.structs[f.struct!]!.map((g) => [g.name, defaultOf(schema, g)]));
  if (f.default === 'EMPTY_BYTES') return Buffer.alloc(0);
  return f.default;
}

function structArb(schema: MessageSchema, name: string, version: number): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of schema.structs[name]!) {
    let arb: fc.Arbitrary<unknown>;
    if (!inRange(f.versions, version)) arb = fc.constant(defaultOf(schema, f));
    else if (f.name === 'errorCode' || f.type === 'records') arb = fc.constant(f.type === 'records' ? null : 0);
    else if (f.type.startsWith('[]')) {
      const elem = f.type.slice(2);
      arb = fc.array(elem === 'struct' ? structArb(schema, f.struct!, version) : primitiveArb(elem), { minLength: 1, maxLength: 2 });
    } else if (f.type === 'struct') arb = structArb(schema, f.struct!, version);
    else arb = primitiveArb(f.type);
    fields[f.name] = arb;
  }
  return fc.record(fields, { noNullPrototype: true });
}

const hexUuid = (u: string): string => {
  const h = Buffer.from(u, 'base64url').toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** Compares the fields `version` carries; returns the number of leaf values compared. */
function compare(schema: MessageSchema, struct: string, version: number, ours: Record<string, unknown>, theirs: Record<string, unknown>, path: string): number {
  let leaves = 0;
  for (const f of schema.structs[struct]!) {
    if (!inRange(f.versions, version) || f.type === 'records') continue;
    const p = `${path}.${f.name}`;
    const a = ours[f.name];
    const b = theirs[f.name];
    if (b === undefined) continue; // a field that client does not model
    const leaf = (x: unknown, y: unknown, at: string): void => {
      leaves++;
      const want = f.type.endsWith('uuid') && typeof x === 'string' ? hexUuid(x) : x;
      expect(y, at).toEqual(want);
    };
    if (f.type.startsWith('[]')) {
      expect(Array.isArray(b), p).toBe(true);
      const as = a as unknown[];
      const bs = b as unknown[];
      expect(bs.length, p).toBe(as.length);
      as.forEach((x, i) => {
        if (f.type === '[]struct') leaves += compare(schema, f.struct!, version, x as Record<string, unknown>, bs[i] as Record<string, unknown>, `${p}[${i}]`);
        else leaf(x, bs[i], `${p}[${i}]`);
      });
    } else if (f.type === 'struct') {
      leaves += compare(schema, f.struct!, version, a as Record<string, unknown>, b as Record<string, unknown>, p);
    } else {
      leaf(a, b, p);
    }
  }
  return leaves;
}

const RESPONSE_CASES = API_TABLE.flatMap((api) => {
  const out: [string, string, number, number, Parse][] = [];
  for (let v = api.minVersion; v <= api.maxVersion; v++) {
    const parse = moduleOf(api.name, v)?.parseResponse;
    if (parse !== undefined) out.push([`${api.name}Response v${v}`, api.name, api.apiKey, v, parse]);
  }
  return out;
});

describe('responses we encode parse identically in @platformatic/kafka', () => {
  it('covers most of our api versions', () => {
    const total = API_TABLE.reduce((n, a) => n + a.maxVersion - a.minVersion + 1, 0);
    expect(RESPONSE_CASES.length).toBeGreaterThan(total * 0.9);
  });

  it.each(RESPONSE_CASES)('%s', (_label, name, apiKey, version, parse) => {
    const schema = MESSAGE_SCHEMAS[`${name}Response`]!;
    const codec = API_CODECS[apiKey as keyof typeof API_CODECS].response;
    let leaves = 0;
    for (const value of fc.sample(structArb(schema, schema.root, version), { numRuns: 8, seed: 7 })) {
      const w = new Writer();
      codec.encode(w, value as never, version);
      let parsed: unknown;
      try {
        parsed = parse(1, apiKey, version, pk.Reader.from(w.finish()));
      } catch (err) {
        // It throws on non-zero error codes in nested places it models differently, keeping the body.
        parsed = (err as { response?: unknown }).response;
        if (parsed === undefined) throw err;
      }
      leaves += compare(schema, schema.root, version, value, parsed as Record<string, unknown>, '$');
    }
    // It rewrites FindCoordinator v0 into its v4 shape, so no field of ours lines up there.
    if (!(name === 'FindCoordinator' && version === 0)) expect(leaves).toBeGreaterThan(0);
  });
});

describe('requests built by @platformatic/kafka decode with our codecs', () => {
  const decode = <K extends keyof typeof API_CODECS>(apiKey: K, version: number, w: { buffer: Buffer }) => {
    const r = new Reader(w.buffer);
    const value = API_CODECS[apiKey].request.decode(r, version);
    expect(r.remaining).toBe(0);
    return value;
  };
  const uuidHex = '0123456789abcdef0123456789abcdef';
  const uuidDashed = `${uuidHex.slice(0, 8)}-${uuidHex.slice(8, 12)}-${uuidHex.slice(12, 16)}-${uuidHex.slice(16, 20)}-${uuidHex.slice(20)}`;
  const uuidOurs = Buffer.from(uuidHex, 'hex').toString('base64url');

  it('ApiVersions v3', () => {
    const body = decode(18, 3, pk.apiVersionsV3.createRequest('platformatic-kafka', '2.12.1'));
    expect(body).toEqual({ clientSoftwareName: 'platformatic-kafka', clientSoftwareVersion: '2.12.1' });
  });

  it('Metadata v12 and v4', () => {
    expect(decode(3, 12, pk.metadataV12.createRequest(['a', 'b'], true, false))).toEqual({
      topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'a' }, { topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'b' }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(decode(3, 12, pk.metadataV12.createRequest(null)).topics).toBeNull();
    expect(decode(3, 4, pk.metadataV4.createRequest(['t'], false)).topics).toEqual([{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 't' }]);
  });

  it('Fetch v17 (topic ids, tagged replica directory id) and v12', () => {
    const partition = { partition: 3, currentLeaderEpoch: 5, fetchOffset: 42n, lastFetchedEpoch: 4, partitionMaxBytes: 1 << 20 };
    const v17 = decode(1, 17, pk.fetchV17.createRequest(500, 1, 50 << 20, 0, 0, -1,
      [{ topicId: uuidDashed, partitions: [{ ...partition, replicaDirectoryId: uuidDashed }] }], [], 'rack-a'));
    expect(v17).toMatchObject({ maxWaitMs: 500, minBytes: 1, maxBytes: 50 << 20, sessionEpoch: -1, rackId: 'rack-a' });
    expect(v17.topics).toEqual([{ topic: '', topicId: uuidOurs, partitions: [{ ...partition, logStartOffset: -1n, replicaDirectoryId: uuidOurs }] }]);
    const v12 = decode(1, 12, pk.fetchV12.createRequest(100, 1, 1024, 1, 0, -1,
      [{ topicId: 'orders', partitions: [partition] }], [], '')); // below v13 it sends the name in topicId
    expect(v12.isolationLevel).toBe(1);
    expect(v12.topics[0]?.topic).toBe('orders');
    expect(v12.topics[0]?.partitions[0]).toMatchObject(partition);
  });

  it('JoinGroup v9, SyncGroup v5, Heartbeat v4', () => {
    const join = decode(11, 9, pk.joinGroupV9.createRequest('g', 30000, 60000, '', null, 'consumer', [{ name: 'roundrobin', metadata: Buffer.from([1, 2]) }], 'why'));
    expect(join).toEqual({
      groupId: 'g', sessionTimeoutMs: 30000, rebalanceTimeoutMs: 60000, memberId: '', groupInstanceId: null,
      protocolType: 'consumer', protocols: [{ name: 'roundrobin', metadata: Buffer.from([1, 2]) }], reason: 'why',
    });
    const sync = decode(14, 5, pk.syncGroupV5.createRequest('g', 3, 'm-1', null, 'consumer', 'roundrobin', [{ memberId: 'm-1', assignment: Buffer.from([9]) }]));
    expect(sync).toEqual({
      groupId: 'g', generationId: 3, memberId: 'm-1', groupInstanceId: null, protocolType: 'consumer', protocolName: 'roundrobin',
      assignments: [{ memberId: 'm-1', assignment: Buffer.from([9]) }],
    });
    expect(decode(12, 4, pk.heartbeatV4.createRequest('g', 3, 'm-1'))).toEqual({ groupId: 'g', generationId: 3, memberId: 'm-1', groupInstanceId: null });
  });

  it('OffsetCommit v9 and OffsetFetch v9', () => {
    const commit = decode(8, 9, pk.offsetCommitV9.createRequest('g', 3, 'm-1', null,
      [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: -1, committedMetadata: 'md' }] }]));
    expect(commit).toMatchObject({ groupId: 'g', generationIdOrMemberEpoch: 3, memberId: 'm-1', groupInstanceId: null });
    expect(commit.topics).toEqual([{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: 'md' }] }]);
    const fetch = decode(9, 9, pk.offsetFetchV9.createRequest([{ groupId: 'g', memberId: 'm-1', memberEpoch: 2, topics: [{ name: 't', partitionIndexes: [0, 1] }] }], true));
    expect(fetch.requireStable).toBe(true);
    expect(fetch.groups).toEqual([{ groupId: 'g', memberId: 'm-1', memberEpoch: 2, topics: [{ name: 't', partitionIndexes: [0, 1] }] }]);
  });

  it('FindCoordinator v4, ListOffsets v7, InitProducerId v5, CreateTopics v7', () => {
    expect(decode(10, 4, pk.findCoordinatorV4.createRequest(0, ['g1', 'g2']))).toEqual({ key: '', keyType: 0, coordinatorKeys: ['g1', 'g2'] });
    const list = decode(2, 7, pk.listOffsetsV7.createRequest(-1, 1, [{ name: 't', partitions: [{ partitionIndex: 2, currentLeaderEpoch: -1, timestamp: -3n }] }]));
    expect(list).toEqual({ replicaId: -1, isolationLevel: 1, topics: [{ name: 't', partitions: [{ partitionIndex: 2, currentLeaderEpoch: -1, timestamp: -3n, maxNumOffsets: 1 }] }] });
    expect(decode(22, 5, pk.initProducerIdV5.createRequest(null, 60000))).toEqual({ transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
    const create = decode(19, 7, pk.createTopicsV7.createRequest(
      [{ name: 't', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] }], 5000, false));
    expect(create).toEqual({
      topics: [{ name: 't', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
  });

  it('Produce v3, v7, v9 and v11 carry one magic-2 record batch per partition', () => {
    for (const [version, mod] of [[3, pk.produceV3], [7, pk.produceV7], [9, pk.produceV9], [11, pk.produceV11]] as const) {
      const body = decode(0, version, mod.createRequest(-1, 30000, [{ topic: 'events', partition: 1, key: Buffer.from('k'), value: Buffer.from('v') }]));
      expect(body).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 30000 });
      expect(body.topicData).toHaveLength(1);
      expect(body.topicData[0]!.name).toBe('events');
      const partition = body.topicData[0]!.partitionData[0]!;
      expect(partition.index).toBe(1);
      const records = partition.records!;
      expect(records.readInt8(16)).toBe(2); // magic
      expect(records.readInt32BE(8)).toBe(records.length - 12); // batchLength covers the rest
    }
  });
});
