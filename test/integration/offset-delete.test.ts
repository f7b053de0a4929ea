// OffsetDelete (47) against a real broker process: offsets committed for an empty group are
// deleted (OffsetFetch shows -1), stay deleted across a restart (the tombstones are in
// __consumer_offsets), and a topic an active consumer group subscribes to is refused with
// GROUP_SUBSCRIBED_TO_TOPIC. The codec is hand-written, so the request goes through a small
// local sender over PROTOCOL_CODECS (test/helpers' kafkaRequest knows the generated codecs only).
import net from 'node:net';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_CODECS } from '../../ts/protocol/codecs.js';
import { ErrorCode } from '../../ts/protocol/error-codes.js';
import { decodeResponseHeader, encodeRequestHeader } from '../../ts/protocol/headers.js';
import type { OffsetDeleteRequest, OffsetDeleteResponse } from '../../ts/protocol/offset-delete.js';
import { Reader } from '../../ts/protocol/reader.js';
import { Writer } from '../../ts/protocol/writer.js';
import { kafkaRequest, startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';

async function offsetDelete(address: string, body: OffsetDeleteRequest): Promise<OffsetDeleteResponse> {
  const w = new Writer();
  const sizeAt = w.reserveInt32();
  encodeRequestHeader(w, { apiKey: 47, apiVersion: 0, correlationId: 4747, clientId: 'godel-test' });
  PROTOCOL_CODECS[47].request.encode(w, body, 0);
  w.int32At(sizeAt, w.length - 4);
  const frame = w.finish();
  const at = address.lastIndexOf(':');
  const socket = net.connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
  try {
    const response = await new Promise<Buffer>((resolve, reject) => {
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) resolve(buffered.subarray(4, 4 + buffered.readInt32BE(0)));
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error('connection closed before the OffsetDelete response')));
      socket.write(frame);
    });
    const r = new Reader(response);
    expect(decodeResponseHeader(r, 0).correlationId).toBe(4747);
    const decoded = PROTOCOL_CODECS[47].response.decode(r, 0);
    expect(r.remaining).toBe(0);
    return decoded;
  } finally {
    socket.destroy();
  }
}

describe('OffsetDelete against a broker', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer | undefined;

  const connect = async (): Promise<void> => {
    kafka = new Kafka({ clientId: 'offset-delete-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
  };
  const fetched = async (groupId: string, topic: string): Promise<Record<number, string>> => {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries(t!.partitions.map((p) => [p.partition, p.offset]));
  };

  beforeAll(async () => {
    broker = await startBroker({ set: { 'group.initial.rebalance.delay.ms': '0', 'group.min.session.timeout.ms': '1000' } });
    await connect();
    await admin.createTopics({ topics: [{ topic: 'od-a', numPartitions: 2 }, { topic: 'od-b', numPartitions: 1 }] });
  });

  afterAll(async () => {
    await consumer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await broker?.stop();
  });

  it('advertises OffsetDelete 0-0 in ApiVersions', async () => {
    const api = (await kafkaRequest(broker.address, 18, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' })).apiKeys.find((k) => k.apiKey === 47);
    expect(api).toMatchObject({ apiKey: 47, minVersion: 0, maxVersion: 0 });
  });

  it('deletes an empty group\'s committed offsets; OffsetFetch shows -1, also after a restart', async () => {
    await admin.setOffsets({ groupId: 'od-empty', topic: 'od-a', partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '6' }] });
    await admin.setOffsets({ groupId: 'od-empty', topic: 'od-b', partitions: [{ partition: 0, offset: '7' }] });
    expect(await fetched('od-empty', 'od-a')).toEqual({ 0: '5', 1: '6' });

    const response = await offsetDelete(broker.address, {
      groupId: 'od-empty',
      topics: [{ name: 'od-a', partitions: [{ partitionIndex: 0 }, { partitionIndex: 9 }] }, { name: 'od-missing', partitions: [{ partitionIndex: 0 }] }],
    });
    expect(response).toEqual({
      errorCode: 0, throttleTimeMs: 0,
      topics: [
        { name: 'od-a', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 9, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
        { name: 'od-missing', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
      ],
    });
    expect(await fetched('od-empty', 'od-a')).toEqual({ 0: '-1', 1: '6' });

    await admin.disconnect();
    broker = await broker.restart();
    await connect();
    expect(await fetched('od-empty', 'od-a')).toEqual({ 0: '-1', 1: '6' });
    expect(await fetched('od-empty', 'od-b')).toEqual({ 0: '7' });

    expect((await offsetDelete(broker.address, { groupId: 'od-unknown', topics: [{ name: 'od-a', partitions: [{ partitionIndex: 0 }] }] })))
      .toEqual({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, throttleTimeMs: 0, topics: [] });
  });

  it('refuses a topic an active consumer group subscribes to (GROUP_SUBSCRIBED_TO_TOPIC) and deletes the others', async () => {
    await admin.setOffsets({ groupId: 'od-active', topic: 'od-a', partitions: [{ partition: 0, offset: '1' }, { partition: 1, offset: '1' }] });
    await admin.setOffsets({ groupId: 'od-active', topic: 'od-b', partitions: [{ partition: 0, offset: '2' }] });
    consumer = kafka.consumer({ groupId: 'od-active', sessionTimeout: 6000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['od-a'] });
    await consumer.run({ eachMessage: async () => undefined });
    await waitFor(async () => (await admin.describeGroups(['od-active'])).groups[0]!.state === 'Stable', 'od-active Stable');

    const response = await offsetDelete(broker.address, {
      groupId: 'od-active',
      topics: [{ name: 'od-a', partitions: [{ partitionIndex: 0 }] }, { name: 'od-b', partitions: [{ partitionIndex: 0 }] }],
    });
    expect(response).toEqual({
      errorCode: 0, throttleTimeMs: 0,
      topics: [
        { name: 'od-a', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }] },
        { name: 'od-b', partitions: [{ partitionIndex: 0, errorCode: 0 }] },
      ],
    });
    expect(await fetched('od-active', 'od-b')).toEqual({ 0: '-1' });
  });
});
