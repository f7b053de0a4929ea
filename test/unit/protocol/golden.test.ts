// Hand-checked frames, built byte by byte from the protocol spec (Kafka's message JSON and
// docs/protocol.html) the way real clients send them. Each one is decoded (header, then body) and
// re-encoded to the same bytes.
//
// Notation: every frame starts with an int32 size (bytes after it). Request header v1 = int16
// api_key, int16 api_version, int32 correlation_id, int16-length client_id; v2 adds a tagged
// section (uvarint count, here 0). Non-flexible strings are int16 length + UTF-8; flexible
// (compact) strings are uvarint length+1 + UTF-8. Correlation ids are whatever the client picked.

import { describe, expect, it } from 'vitest';
import { decodeRequestHeader, encodeRequestFrame, encodeResponseFrame, decodeResponseFrame } from '../../../ts/protocol/headers.js';
import { API_CODECS } from '../../../ts/protocol/generated/index.js';
import { Reader } from '../../../ts/protocol/reader.js';
import { Writer } from '../../../ts/protocol/writer.js';

const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];
const int16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const int32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const frame = (...parts: number[][]): Buffer => {
  const body = parts.flat();
  return Buffer.from([...int32(body.length), ...body]);
};

/** Decodes a request frame: header, then the body with our codec; checks nothing is left over. */
function decodeRequestFrame(bytes: Buffer) {
  expect(bytes.readInt32BE(0)).toBe(bytes.length - 4);
  const r = new Reader(bytes, 4);
  const header = decodeRequestHeader(r);
  const bodyStart = r.offset;
  const body = API_CODECS[header.apiKey as keyof typeof API_CODECS].request.decode(r, header.apiVersion);
  expect(r.remaining).toBe(0);
  return { header: { ...header, apiKey: header.apiKey as keyof typeof API_CODECS }, body: body as unknown as Record<string, unknown>, bodyStart };
}

describe('golden request frames', () => {
  it('ApiVersions v0 as kafka-python 2.0.2 sends it (its first request, client_id "kafka-python-2.0.2")', () => {
    const bytes = frame(
      int16(18), int16(0), int32(1), // ApiVersions, v0, correlation id 1 → header v1 (never flexible)
      int16(18), ascii('kafka-python-2.0.2'), // client_id
      // v0 body: no fields
    );
    expect(bytes.toString('hex')).toBe('0000001c001200000000000100126b61666b612d707974686f6e2d322e302e32');
    const { header, body } = decodeRequestFrame(bytes);
    expect(header).toEqual({ apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'kafka-python-2.0.2', headerVersion: 1 });
    expect(body).toEqual({ clientSoftwareName: '', clientSoftwareVersion: '' });
    expect(encodeRequestFrame(new Writer(), { apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'kafka-python-2.0.2' }, body as never)).toEqual(bytes);
  });

  it('ApiVersions v3 as librdkafka 2.0.2 sends it (client.id "rdkafka", KIP-511 software name and version)', () => {
    const bytes = frame(
      int16(18), int16(3), int32(1), // ApiVersions v3 is flexible → request header v2
      int16(7), ascii('rdkafka'), // client_id stays an int16-length string even in header v2
      [0], // header tagged section: no fields
      [11], ascii('librdkafka'), // client_software_name: compact string, uvarint 10+1
      [6], ascii('2.0.2'), // client_software_version: uvarint 5+1
      [0], // body tagged section
    );
    expect(bytes.length).toBe(4 + 36);
    const { header, body, bodyStart } = decodeRequestFrame(bytes);
    expect(header).toEqual({ apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'rdkafka', headerVersion: 2 });
    expect(bodyStart).toBe(4 + 2 + 2 + 4 + 2 + 7 + 1);
    expect(body).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
    expect(encodeRequestFrame(new Writer(), { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'rdkafka' }, body as never)).toEqual(bytes);
  });

  it('Metadata v1 for one topic, as kafka-python sends it', () => {
    const bytes = frame(
      int16(3), int16(1), int32(2), int16(18), ascii('kafka-python-2.0.2'), // header v1
      int32(1), int16(8), ascii('my-topic'), // topics: int32 count, then each name (v1 has no topic id)
    );
    expect(bytes.readInt32BE(0)).toBe(42);
    const { header, body } = decodeRequestFrame(bytes);
    expect(header.headerVersion).toBe(1);
    // Fields v1 lacks decode as their defaults: auto-creation true, no topic id.
    expect(body).toEqual({
      topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'my-topic' }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(encodeRequestFrame(new Writer(), header, body as never)).toEqual(bytes);

    // A null topics array (int32 -1) asks for every topic from v1 on.
    const all = frame(int16(3), int16(1), int32(3), int16(18), ascii('kafka-python-2.0.2'), int32(-1));
    expect(decodeRequestFrame(all).body.topics).toBeNull();
  });

  it('Produce v7: request header v1 (Produce is flexible only from v9), then the body', () => {
    const batch = [0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]; // records are opaque bytes to the codec
    const bytes = frame(
      int16(0), int16(7), int32(5), int16(7), ascii('rdkafka'), // no tagged section in header v1
      int16(-1), // transactional_id: null
      int16(-1), // acks: all
      int32(30000), // timeout_ms
      int32(1), int16(6), ascii('events'), // one topic
      int32(1), int32(0), int32(batch.length), batch, // one partition, index 0, records as int32-length bytes
    );
    const { header, body, bodyStart } = decodeRequestFrame(bytes);
    expect(header).toEqual({ apiKey: 0, apiVersion: 7, correlationId: 5, clientId: 'rdkafka', headerVersion: 1 });
    expect(bodyStart).toBe(4 + 2 + 2 + 4 + 2 + 7);
    expect(body).toEqual({
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 'events', partitionData: [{ index: 0, records: Buffer.from(batch) }] }],
    });
    // The records field is a view into the frame, not a copy.
    const records = (body.topicData as { partitionData: { records: Buffer }[] }[])[0]!.partitionData[0]!.records;
    expect(records.buffer).toBe(bytes.buffer);
    expect(encodeRequestFrame(new Writer(), header, body as never)).toEqual(bytes);

    // The same request at v9 uses header v2: one more byte, the empty tagged section.
    const v9 = encodeRequestFrame(new Writer(), { ...header, apiVersion: 9 }, body as never);
    const headerV1 = Buffer.from(bytes.subarray(4, bodyStart));
    headerV1.writeInt16BE(9, 2); // api_version
    expect(v9.subarray(4, bodyStart)).toEqual(headerV1);
    expect(v9[bodyStart]).toBe(0);
  });
});

describe('golden response frames', () => {
  it('an ApiVersions v3 response uses response header v0 although its body is flexible', () => {
    const body = { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }], throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [], zkMigrationReady: false };
    const bytes = encodeResponseFrame(new Writer(), 18, 3, 7, body);
    expect([...bytes]).toEqual([
      ...int32(19),
      ...int32(7), // correlation id, and no header tagged section (header v0)
      ...int16(0), // error_code
      2, ...int16(18), ...int16(0), ...int16(3), 0, // api_keys: compact array of 1, each entry with its tagged section
      ...int32(0), // throttle_time_ms
      0, // body tagged section (the default-valued tagged fields are not written)
    ]);
    expect(decodeResponseFrame(bytes.subarray(4), 18, 3)).toEqual({ header: { correlationId: 7 }, body });
  });

  it('a flexible Metadata v9 response uses response header v1; v8 uses v0', () => {
    const body = { throttleTimeMs: 0, brokers: [], clusterId: null, controllerId: -1, topics: [], clusterAuthorizedOperations: -2147483648 };
    const v9 = encodeResponseFrame(new Writer(), 3, 9, 1, body);
    expect([...v9.subarray(4, 9)]).toEqual([...int32(1), 0]);
    const v8 = encodeResponseFrame(new Writer(), 3, 8, 1, body);
    expect(v8.readInt32BE(4)).toBe(1);
    expect(v8.readInt32BE(8)).toBe(0); // throttle_time_ms follows the correlation id directly
    expect(decodeResponseFrame(v9.subarray(4), 3, 9).body).toEqual(body);
  });
});
