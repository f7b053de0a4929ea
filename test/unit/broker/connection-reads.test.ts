// How a connection reads requests: with direct reads (broker/direct-reads.ts) small requests land
// in one buffer shared by every connection and large ones are read straight into their own
// buffer; without them, through Node's 'data' events. Either way a handler may keep views of its
// request (a produce's records) until it answers, so no later read may overwrite them. Here every
// handler answers only after the client's last request arrived, reporting a digest of the records
// it kept: any view into a reused buffer would have been overwritten by then.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiRegistry } from '../../../ts/broker/api-registry.js';
import { Connection } from '../../../ts/broker/connection.js';
import { silentLogger } from '../../../ts/log.js';
import { encodeRequestFrame } from '../../../ts/protocol/headers.js';
import { decodeProduceResponse } from '../../../ts/protocol/generated/produce-response.js';
import { Reader } from '../../../ts/protocol/reader.js';
import { Writer } from '../../../ts/protocol/writer.js';

const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Held {
  records: Buffer;
  answer: () => void;
}

/** A server whose produce handler holds every request until `expected` have arrived. */
async function startServer(expected: number, directReads: boolean): Promise<{ port: number; close: () => Promise<void>; connections: Connection[] }> {
  const held: Held[] = [];
  const registry = new ApiRegistry();
  registry.register({
    apiKey: 0, minVersion: 3, maxVersion: 9,
    handle: (request) => new Promise((resolve) => {
      const partition = request.topicData[0]!.partitionData[0]!;
      held.push({
        records: partition.records!,
        answer: () => resolve({
          responses: [{ name: request.topicData[0]!.name, partitionResponses: [{
            index: partition.index, errorCode: 0, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n,
            recordErrors: [], errorMessage: digest(partition.records!), currentLeader: { leaderId: -1, leaderEpoch: -1 },
          }] }],
          throttleTimeMs: 0, nodeEndpoints: [],
        }),
      });
      if (held.length === expected) for (const h of held) h.answer();
    }),
  });
  const connections: Connection[] = [];
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    connections.push(new Connection(socket, {
      id: connections.length + 1, registry, logger: silentLogger, maxFrameBytes: 4 * 1024 * 1024,
      maxInFlight: 10_000, idleTimeoutMs: 60_000, onClose: () => undefined, directReads,
    }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () => {
      for (const c of connections) c.close('test over', 'debug');
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Records of `bytes` bytes with contents unique to `n` (the handler never parses them). */
function records(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 131 + n * 17 + (i >> 8)) & 0xff;
  return b;
}

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe.each([true, false])('connection reads (direct reads: %s)', (directReads) => {
  it('keeps every request intact until it is answered, whatever the read boundaries', async () => {
    // Small requests between large ones, more bytes in all than the shared read buffer many times.
    const sizes = [7, 300_000, 1, 90, 65_536, 12, 3, 200_003, 40, 1000, 70_000, 5, 2, 1, 150_000, 64];
    const all = [...sizes, ...sizes.map((s) => s + 1), ...Array.from({ length: 300 }, (_, i) => 20 + (i % 50))];
    const server = await startServer(all.length, directReads);
    stop = server.close;
    const w = new Writer();
    const sent = all.map((bytes, n) => records(n, bytes));
    const wire = Buffer.concat(sent.map((r, n) => encodeRequestFrame(w, { apiKey: 0, apiVersion: 9, correlationId: n, clientId: 't' }, {
      transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: n, records: r }] }],
    })));
    const client = net.connect(server.port, '127.0.0.1');
    client.setNoDelay(true);
    let received = Buffer.alloc(0);
    const frames: Buffer[] = [];
    client.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        frames.push(received.subarray(4, 4 + received.readInt32BE(0)));
        received = received.subarray(4 + received.readInt32BE(0));
      }
    });
    await new Promise((resolve) => client.once('connect', resolve));
    // Uneven pieces put boundaries inside sizes, right after them, mid-body and across requests.
    let seed = 7;
    for (let at = 0; at < wire.length;) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const piece = [1, 2, 3, 4, 5, 9, 700, 4096, 65_535, 65_536, 100_000][seed % 11]!;
      client.write(wire.subarray(at, at + piece));
      at += piece;
      if (seed % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const deadline = Date.now() + 60_000;
    while (frames.length < all.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    client.destroy();
    expect(frames.length).toBe(all.length);
    frames.forEach((frame, n) => {
      const r = new Reader(frame);
      expect(r.int32(), 'responses in request order').toBe(n);
      r.skipTaggedFields();
      const body = decodeProduceResponse(r, 9);
      const partition = body.responses[0]!.partitionResponses[0]!;
      expect(partition.index).toBe(n);
      expect(partition.errorMessage, `request ${n} (${all[n]} bytes of records) as the handler kept it`).toBe(digest(sent[n]!));
    });
  });
});
