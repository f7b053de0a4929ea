// The client connection against a scripted fake broker (a plain TCP server speaking the project's
// codecs): version negotiation, pipelining in order, the in-flight limit, frames cut anywhere,
// request timeouts, reconnection with backoff, and the errors each failure becomes.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../../ts/client/connection.js';
import { KafkaError } from '../../../ts/client/errors.js';
import { GodelError } from '../../../ts/errors.js';
import type { ApiMessages } from '../../../ts/protocol/generated/index.js';
import { waitFor } from '../../helpers/broker.js';
import { FakeBroker } from './fake-broker.js';

function metadataResponse(tag: string): ApiMessages[3]['response'] {
  return { throttleTimeMs: 0, brokers: [{ nodeId: 1, host: tag, port: 1, rack: null }], clusterId: tag, controllerId: 1, topics: [], clusterAuthorizedOperations: -2147483648 };
}

const metadataRequest = (): ApiMessages[3]['request'] => ({ topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(options: Partial<ConstructorParameters<typeof Connection>[0]> = {}): Promise<{ broker: FakeBroker; connection: Connection }> {
  const broker = new FakeBroker();
  const port = await broker.listen();
  const connection = new Connection({ host: '127.0.0.1', port, clientId: 'unit', ...options });
  cleanup.push(() => broker.close(), () => connection.close());
  return { broker, connection };
}

describe('Connection', () => {
  it('negotiates each api at the highest version both sides speak', async () => {
    const { broker, connection } = await setup();
    broker.apiVersions = broker.apiVersions.map((v) => (v.apiKey === 3 ? { ...v, minVersion: 1, maxVersion: 5 } : v)).filter((v) => v.apiKey !== 60);
    broker.answer = (req) => metadataResponse(`v${req.apiVersion}`);
    const r = await connection.request(3, metadataRequest);
    expect(broker.received[0]!.apiVersion).toBe(5);
    expect(r.clusterId).toBe('v5');
    expect(connection.versionFor(1)).toBe(12); // Fetch: the client stops at 12 (no topic ids)
    expect(connection.supports(60)).toBe(false);
    expect(() => connection.versionFor(60)).toThrow(KafkaError);
    await expect(connection.request(60, () => ({ includeClusterAuthorizedOperations: false, endpointType: 1 }))).rejects.toMatchObject({ type: 'UNSUPPORTED_VERSION' });
  });

  it('pipelines requests and matches the in-order responses to them', async () => {
    const { broker, connection } = await setup({ maxInFlightRequests: 1000 });
    broker.answer = (req) => metadataResponse(String((req.body as ApiMessages[3]['request']).topics![0]!.name));
    const requests = Array.from({ length: 200 }, (_, i) => connection.request(3, () => ({ ...metadataRequest(), topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: `t${i}` }] })));
    const answers = await Promise.all(requests);
    expect(answers.map((a) => a.clusterId)).toEqual(Array.from({ length: 200 }, (_, i) => `t${i}`));
    const ids = broker.received.map((r) => r.correlationId);
    expect(new Set(ids).size).toBe(200);
    expect(broker.connections).toBe(1);
  });

  it('keeps at most maxInFlightRequests unanswered; the rest wait their turn in order', async () => {
    const { broker, connection } = await setup({ maxInFlightRequests: 3 });
    const release: (() => void)[] = [];
    broker.answer = (req) => new Promise((resolve) => {
      release.push(() => resolve(metadataResponse(`r${req.correlationId}`)));
    });
    const all = Promise.all(Array.from({ length: 10 }, () => connection.request(3, metadataRequest)));
    await waitFor(() => broker.received.length === 3, '3 requests at the broker');
    expect(connection.inFlightCount).toBe(3);
    expect(connection.waitingCount).toBe(7);
    for (let answered = 0; answered < 10; answered++) {
      await waitFor(() => release.length > answered, `request ${answered + 1}`);
      // Never more than 3 at the broker unanswered.
      expect(broker.received.length - answered).toBeLessThanOrEqual(3);
      release[answered]!();
    }
    const answers = await all;
    expect(answers.map((a) => a.clusterId)).toEqual(broker.received.map((r) => `r${r.correlationId}`));
  });

  it('reads frames cut at every byte and several frames in one write', async () => {
    const { broker, connection } = await setup();
    broker.answer = (req) => metadataResponse(`answer-${req.correlationId}`);
    broker.chunking = (frame) => [...frame].map((b) => Buffer.from([b]));
    const one = await connection.request(3, metadataRequest);
    expect(one.clusterId).toMatch(/^answer-/);
    // Now batch: hold answers and write them all at once.
    const pending: Buffer[] = [];
    broker.chunking = (frame) => {
      pending.push(frame);
      if (pending.length < 5) return [];
      const all = Buffer.concat(pending.splice(0));
      return [all.subarray(0, 7), all.subarray(7)];
    };
    const five = await Promise.all(Array.from({ length: 5 }, () => connection.request(3, metadataRequest)));
    expect(new Set(five.map((f) => f.clusterId)).size).toBe(5);
  });

  it('keeps every response it handed out intact while later ones arrive, whatever the read boundaries', async () => {
    // Small responses are read into one buffer shared by all connections and copied out; the rest
    // of a large one is read straight into its own buffer. A caller keeps views into its response
    // (a fetch's records): later reads must never overwrite them.
    const { broker, connection } = await setup({ maxInFlightRequests: 1000 });
    const sizes = [3, 300_000, 1, 90, 65_536, 12, 200_003, 40, 70_000, 5, 150_000, ...Array.from({ length: 200 }, (_, i) => 10 + (i % 60))];
    const payload = (n: number): Buffer => {
      const b = Buffer.alloc(sizes[n]!);
      for (let i = 0; i < b.length; i++) b[i] = (i * 131 + n * 17 + (i >> 8)) & 0xff;
      return b;
    };
    broker.answer = (req) => {
      if (req.apiKey === 3) return metadataResponse('first');
      const n = (req.body as ApiMessages[1]['request']).topics[0]!.partitions[0]!.partition;
      return {
        throttleTimeMs: 0, errorCode: 0, sessionId: 0, nodeEndpoints: [],
        responses: [{ topic: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{
          partitionIndex: n, errorCode: 0, highWatermark: 0n, lastStableOffset: 0n, logStartOffset: 0n,
          divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 },
          snapshotId: { endOffset: -1n, epoch: -1 }, abortedTransactions: null, preferredReadReplica: -1, records: payload(n),
        }] }],
      };
    };
    await connection.request(3, metadataRequest); // the handshake, answered as usual
    // Every answer held back, then all written at once in uneven pieces.
    const pending: Buffer[] = [];
    let seed = 11;
    broker.chunking = (frame) => {
      pending.push(frame);
      if (pending.length < sizes.length) return [];
      const all = Buffer.concat(pending.splice(0));
      const pieces: Buffer[] = [];
      for (let at = 0; at < all.length;) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const piece = [1, 2, 3, 4, 5, 9, 700, 4096, 65_535, 65_536, 100_000][seed % 11]!;
        pieces.push(all.subarray(at, at + piece));
        at += piece;
      }
      return pieces;
    };
    const fetch = (n: number): ApiMessages[1]['request'] => ({
      clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20,
      isolationLevel: 0, sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
      topics: [{ topic: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{
        partition: n, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
      }] }],
    });
    const answers = await Promise.all(sizes.map((_, n) => connection.request(1, () => fetch(n))));
    answers.forEach((a, n) => {
      const records = a.responses[0]!.partitions[0]!.records!;
      expect(records.length, `response ${n}`).toBe(sizes[n]);
      expect(records.equals(payload(n)), `response ${n} (${sizes[n]} bytes) as handed out`).toBe(true);
    });
  });

  it('times a request out with REQUEST_TIMED_OUT, closes the connection, and reconnects for the next', async () => {
    const { broker, connection } = await setup({ requestTimeoutMs: 300, reconnectBackoffMs: 10 });
    broker.answer = () => null; // never answers
    const started = Date.now();
    const err = await connection.request(3, metadataRequest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect(err).toMatchObject({ type: 'REQUEST_TIMED_OUT', retriable: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    broker.answer = () => metadataResponse('after');
    expect((await connection.request(3, metadataRequest)).clusterId).toBe('after');
    expect(broker.connections).toBe(2);
  });

  it('fails requests in flight with a retriable NETWORK_EXCEPTION when the socket dies, then reconnects', async () => {
    const { broker, connection } = await setup({ reconnectBackoffMs: 10 });
    broker.answer = (req) => {
      req.socket.destroy();
      return null;
    };
    const err = await connection.request(3, metadataRequest).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'NETWORK_EXCEPTION', code: 13, retriable: true });
    broker.answer = () => metadataResponse('again');
    expect((await connection.request(3, metadataRequest)).clusterId).toBe('again');
    expect(broker.connections).toBe(2);
  });

  it('fails to connect to a closed port with NETWORK_EXCEPTION and backs off before trying again', async () => {
    const probe = net.createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as net.AddressInfo).port)));
    await new Promise((resolve) => probe.close(resolve));
    const connection = new Connection({ host: '127.0.0.1', port, reconnectBackoffMs: 200, reconnectBackoffMaxMs: 1000 });
    cleanup.push(() => connection.close());
    const first = await connection.connect().catch((e: unknown) => e);
    expect(first).toMatchObject({ type: 'NETWORK_EXCEPTION', retriable: true });
    expect((first as Error).message).toContain(`127.0.0.1:${port}`);
    const started = Date.now();
    await connection.connect().catch(() => undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150); // 200 ms ± 20% jitter
  });

  it('rejects everything with CLOSED after close()', async () => {
    const { broker, connection } = await setup();
    broker.answer = () => null;
    const pending = connection.request(3, metadataRequest).catch((e: unknown) => e);
    await waitFor(() => broker.received.length === 1, 'the request at the broker');
    await connection.close();
    await connection.close(); // twice is fine
    expect(await pending).toBeInstanceOf(GodelError);
    await expect(connection.request(3, metadataRequest)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('resolves a no-response request (acks=0 produce) once written', async () => {
    const { broker, connection } = await setup();
    const body = await connection.request(0, () => ({ transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [] }), { noResponse: true });
    expect(body).toBeUndefined();
    await waitFor(() => broker.received.length === 1, 'the produce request');
    expect(connection.inFlightCount).toBe(0);
  });
});
