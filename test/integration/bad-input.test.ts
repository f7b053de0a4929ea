// Bad input on the wire against a real broker process: malformed frames, lying length fields,
// unknown APIs and versions, corrupt batches, oversized frames, idle and surplus connections.
// Each one gets a clean close (or a Kafka error) for that client only; the broker keeps serving.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTsEngine } from '../../ts/engine/fallback.js';
import { Godel } from '../../ts/client/index.js';
import { ErrorCode } from '../../ts/protocol/error-codes.js';
import { encodeRequestFrame } from '../../ts/protocol/headers.js';
import { decodeApiVersionsResponse } from '../../ts/protocol/generated/api-versions-response.js';
import { decodeMetadataResponse } from '../../ts/protocol/generated/metadata-response.js';
import { Reader } from '../../ts/protocol/reader.js';
import { Writer } from '../../ts/protocol/writer.js';
import { buildRecordBatch } from '../../ts/storage/record-batch-builder.js';
import { kafkaRequest, startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';

const engine = createTsEngine();

/** A raw connection that collects response frames and notices when the broker closes it. */
class RawClient {
  readonly frames: Buffer[] = [];
  closed = false;
  private buffered = Buffer.alloc(0);
  private readonly socket: net.Socket;

  constructor(broker: BrokerProcess) {
    this.socket = net.connect({ host: broker.host, port: broker.port });
    this.socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        this.frames.push(this.buffered.subarray(4, 4 + size));
        this.buffered = this.buffered.subarray(4 + size);
      }
    });
    this.socket.on('close', () => {
      this.closed = true;
    });
    this.socket.on('error', () => undefined);
  }

  connected(): Promise<void> {
    return new Promise((resolve) => (this.socket.readyState === 'open' ? resolve() : this.socket.once('connect', () => resolve())));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function header(apiKey: number, apiVersion: number, correlationId: number): Buffer {
  const b = Buffer.alloc(10 + 4);
  b.writeInt16BE(apiKey, 0);
  b.writeInt16BE(apiVersion, 2);
  b.writeInt32BE(correlationId, 4);
  b.writeInt16BE(4, 8);
  b.write('test', 10);
  return b;
}

const metadataV1 = (correlationId: number): Buffer =>
  encodeRequestFrame(new Writer(), { apiKey: 3, apiVersion: 1, correlationId, clientId: 'raw' },
    { topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });

describe('bad input on the wire', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBroker({
      set: { 'socket.request.max.bytes': String(1024 * 1024), 'connections.max.idle.ms': '2000', 'max.connections': '20' },
    });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  /** The broker still answers a fresh client. */
  async function stillServing(): Promise<void> {
    const response = await kafkaRequest(broker.address, 18, 3, { clientSoftwareName: 'check', clientSoftwareVersion: '1' });
    expect(response.errorCode).toBe(0);
    expect(broker.hasExited).toBe(false);
  }

  async function expectClosed(client: RawClient, logged: RegExp): Promise<void> {
    await waitFor(() => client.closed, 'the broker to close the connection');
    await waitFor(() => broker.output.some((line) => logged.test(line)), `a log line matching ${logged}`);
    await stillServing();
  }

  it('closes a connection that sends garbage, with one log line', async () => {
    const client = new RawClient(broker);
    await client.connected();
    client.write(frame(Buffer.from('this is not a kafka request at all')));
    await expectClosed(client, /malformed|unsupported api key/);
  });

  it('refuses a frame larger than socket.request.max.bytes before reading it', async () => {
    const client = new RawClient(broker);
    await client.connected();
    const size = Buffer.alloc(4);
    size.writeInt32BE(0x7ffffff0);
    client.write(size);
    await expectClosed(client, /exceeds socket\.request\.max\.bytes/);
  });

  it('refuses a negative frame size', async () => {
    const client = new RawClient(broker);
    await client.connected();
    client.write(Buffer.from([0xff, 0xff, 0xff, 0xf0]));
    await expectClosed(client, /impossible request size/);
  });

  it('closes on a body whose lengths lie (an array claiming a billion topics)', async () => {
    const client = new RawClient(broker);
    await client.connected();
    const body = Buffer.alloc(4);
    body.writeInt32BE(1_000_000_000);
    client.write(frame(Buffer.concat([header(3, 1, 7), body])));
    await expectClosed(client, /malformed Metadata v1 request/);
  });

  it('closes on a truncated body', async () => {
    const client = new RawClient(broker);
    await client.connected();
    const full = metadataV1(8);
    // Keep the header, cut the body short, and fix the size field to match.
    const cut = full.subarray(4, full.length - 2);
    client.write(frame(Buffer.concat([cut.subarray(0, 14), Buffer.from([0, 0, 0, 5])])));
    await expectClosed(client, /malformed Metadata/);
  });

  it('closes on an unknown api key and on an unsupported version', async () => {
    const unknown = new RawClient(broker);
    await unknown.connected();
    unknown.write(frame(header(9999, 0, 1)));
    await expectClosed(unknown, /unsupported api key 9999/);
    const oldFetch = new RawClient(broker);
    await oldFetch.connected();
    oldFetch.write(frame(header(1, 3, 1)));
    await expectClosed(oldFetch, /unsupported version 3 of Fetch/);
  });

  it('answers a too-new ApiVersions with UNSUPPORTED_VERSION and the full list (KIP-511)', async () => {
    const client = new RawClient(broker);
    await client.connected();
    client.write(frame(Buffer.concat([header(18, 99, 42), Buffer.from([0])])));
    await waitFor(() => client.frames.length > 0, 'the ApiVersions answer');
    const reader = new Reader(client.frames[0]!);
    expect(reader.int32()).toBe(42);
    const body = decodeApiVersionsResponse(reader, 0);
    expect(body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(body.apiKeys.find((k) => k.apiKey === 18)).toMatchObject({ minVersion: 0, maxVersion: 3 });
    expect(body.apiKeys.find((k) => k.apiKey === 1)).toMatchObject({ minVersion: 4 });
    client.destroy();
  });

  it('answers pipelined requests in order', async () => {
    const client = new RawClient(broker);
    await client.connected();
    const requests = Array.from({ length: 60 }, (_, i) => metadataV1(1000 + i));
    client.write(Buffer.concat(requests));
    await waitFor(() => client.frames.length === 60, 'sixty responses');
    const ids = client.frames.map((f) => f.readInt32BE(0));
    expect(ids).toEqual(Array.from({ length: 60 }, (_, i) => 1000 + i));
    const first = new Reader(client.frames[0]!, 4);
    expect(decodeMetadataResponse(first, 1).brokers[0]!.port).toBe(broker.port);
    client.destroy();
  });

  it('reads requests split anywhere: small ones past the read buffer, large ones across many reads, every byte kept', async () => {
    // The broker reads small requests into one shared buffer and the rest of a large one straight
    // into that request's own buffer (broker/direct-reads.ts). Uneven pieces put request and size
    // boundaries everywhere: inside the 4-byte size, right after it, mid-body, across requests.
    const topic = 'split-reads';
    await kafkaRequest(broker.address, 19, 4, {
      // An fsync per append makes the small records wait longer behind the large ones' writes.
      topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'flush.messages', value: '1' }] }],
      timeoutMs: 10_000, validateOnly: false,
    });
    const w = new Writer();
    // Each large record is followed at once by a small one, which may wait for the large one's
    // write while the broker reads on (test/unit/broker/connection-reads.test.ts holds requests
    // deterministically; this is the same through the real produce path and storage).
    const values = [200_000, 5, 70_000, 9, 300_000, 1, 66_000, 3].map((bytes, n) => {
      const v = Buffer.alloc(bytes);
      for (let i = 0; i < bytes; i++) v[i] = (i * 31 + n * 7) & 0xff;
      return v;
    });
    const frames: Buffer[] = [];
    let id = 0;
    values.forEach((value, n) => {
      frames.push(encodeRequestFrame(w, { apiKey: 0, apiVersion: 7, correlationId: ++id, clientId: 'raw' }, {
        transactionalId: null, acks: 1, timeoutMs: 10_000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: buildRecordBatch(engine, { records: [{ key: null, value }] }) }] }],
      }));
      // 1,500 small requests (~70 KB) after each pair: more than the shared read buffer.
      if (n % 2 === 1) for (let i = 0; i < 1500; i++) frames.push(metadataV1(++id));
    });
    const wire = Buffer.concat(frames);
    const client = new RawClient(broker);
    await client.connected();
    let seed = 12345;
    for (let at = 0; at < wire.length;) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const piece = [1, 3, 4, 5, 17, 4096, 65_536, 100_003][seed % 8]!;
      client.write(wire.subarray(at, Math.min(wire.length, at + piece)));
      at += piece;
      // Let the broker read some pieces on their own rather than all coalesced.
      if (seed % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => client.frames.length === id || client.closed, `${id} responses`, 60_000);
    expect(client.closed).toBe(false);
    expect(client.frames.map((f) => f.readInt32BE(0))).toEqual(Array.from({ length: id }, (_, i) => i + 1));
    client.destroy();
    const godel = new Godel({ brokers: [broker.address], clientId: 'split-reads' });
    const consumer = godel.consumer({ groupId: 'split-reads' });
    const got: Buffer[] = [];
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: ({ message }) => void got.push(Buffer.from(message.value!)) });
    try {
      await waitFor(() => got.length === values.length, 'every produced record back');
    } finally {
      await consumer.disconnect();
    }
    expect(got.map((v) => v.length)).toEqual(values.map((v) => v.length));
    got.forEach((v, i) => expect(v.equals(values[i]!), `record ${i} byte for byte`).toBe(true));
  });

  it('refuses a corrupt batch with CORRUPT_MESSAGE, writes nothing and keeps the connection', async () => {
    await kafkaRequest(broker.address, 19, 4, {
      topics: [{ name: 'bad-batches', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000, validateOnly: false,
    }).catch(() => undefined);
    await waitFor(async () => (await kafkaRequest(broker.address, 3, 1, {
      topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'bad-batches' }], allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    })).topics[0]!.errorCode === 0, 'the topic to exist');
    const good = buildRecordBatch(engine, { records: [{ key: Buffer.from('k'), value: Buffer.from('v') }] });
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 0xff;
    const produce = (records: Buffer) => kafkaRequest(broker.address, 0, 7, {
      transactionalId: null, acks: 1, timeoutMs: 10_000,
      topicData: [{ name: 'bad-batches', partitionData: [{ index: 0, records }] }],
    });
    const refused = await produce(bad);
    expect(refused.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    const lying = Buffer.from(good);
    lying.writeInt32BE(good.length * 10, 8);
    expect((await produce(lying)).responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.INVALID_RECORD);
    const accepted = await produce(Buffer.from(good));
    expect(accepted.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0n });
    const offsets = await kafkaRequest(broker.address, 2, 1, {
      replicaId: -1, isolationLevel: 0,
      topics: [{ name: 'bad-batches', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }],
    });
    expect(offsets.topics[0]!.partitions[0]!.offset).toBe(1n);
  });

  it('refuses the old message formats (magic 0/1) with UNSUPPORTED_FOR_MESSAGE_FORMAT', async () => {
    // A MessageSet v1 entry: offset, size, crc, magic 1, attributes, timestamp, null key, value.
    const value = Buffer.from('old');
    const message = Buffer.alloc(8 + 4 + 4 + 1 + 1 + 8 + 4 + 4 + value.length);
    message.writeInt32BE(message.length - 12, 8);
    message[16] = 1;
    message.writeInt32BE(-1, 26);
    message.writeInt32BE(value.length, 30);
    value.copy(message, 34);
    const response = await kafkaRequest(broker.address, 0, 2, {
      transactionalId: null, acks: 1, timeoutMs: 10_000,
      topicData: [{ name: 'bad-batches', partitionData: [{ index: 0, records: message }] }],
    });
    expect(response.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
    await stillServing();
  });

  it('refuses produce requests to the internal __consumer_offsets topic', async () => {
    const batch = buildRecordBatch(engine, { records: [{ key: Buffer.from('k'), value: Buffer.from('v') }] });
    const response = await kafkaRequest(broker.address, 0, 7, {
      transactionalId: null, acks: 1, timeoutMs: 10_000,
      topicData: [{ name: '__consumer_offsets', partitionData: [{ index: 0, records: batch }] }],
    });
    expect(response.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  it('closes idle connections after connections.max.idle.ms', async () => {
    const client = new RawClient(broker);
    await client.connected();
    await waitFor(() => client.closed, 'the idle connection to be closed', 30_000);
    await stillServing();
  });

  it('a long-polling fetch holds only its own connection', async () => {
    await kafkaRequest(broker.address, 3, 4, {
      topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'long-poll' }], allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    });
    const started = Date.now();
    const held = kafkaRequest(broker.address, 1, 4, {
      clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 1500, minBytes: 1,
      maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'long-poll', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA' }] }],
      forgottenTopicsData: [], rackId: '',
    });
    // Meanwhile another connection is served at once.
    await stillServing();
    const answered = await held;
    expect(answered.responses[0]!.partitions[0]!.errorCode).toBe(0);
    expect(answered.responses[0]!.partitions[0]!.records!.length).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });
});

describe('connection limits', () => {
  it('refuses connections past max.connections and keeps serving the others', async () => {
    const broker = await startBroker({ set: { 'max.connections': '3' } });
    try {
      const clients = Array.from({ length: 3 }, () => new RawClient(broker));
      await Promise.all(clients.map((c) => c.connected()));
      const extra = new RawClient(broker);
      await waitFor(() => extra.closed, 'the connection past the limit to be dropped');
      await waitFor(() => broker.output.some((l) => l.includes('max.connections reached')), 'the refusal to be logged');
      clients[0]!.write(metadataV1(5));
      await waitFor(() => clients[0]!.frames.length === 1, 'an answer on an accepted connection');
      for (const c of clients) c.destroy();
    } finally {
      await broker.stop();
    }
  });
});
