// The producer's cold-metadata slow path against a fake broker that, like Kafka creating a topic
// on first use, answers LEADER_NOT_AVAILABLE a few times before the topic has leaders: concurrent
// send() calls share one wait (one retry chain of Metadata requests), instead of each retrying on
// its own backoff and multiplying the requests.
import { afterEach, describe, expect, it } from 'vitest';
import { Producer } from '../../../ts/client/producer.js';
import type { ProtocolMessages as ApiMessages } from '../../../ts/protocol/codecs.js';
import { ZERO_UUID } from '../../../ts/protocol/reader.js';
import { FakeBroker } from './fake-broker.js';

const LEADER_NOT_AVAILABLE = 5;
const SENDS = 200;
/** How long after the first Metadata request for it the topic has a leader. */
const CREATION_MS = 250;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

describe('Producer: sends to a topic without metadata', () => {
  it(`${SENDS} concurrent sends while the topic is being created share one retry chain`, async () => {
    const broker = new FakeBroker();
    const port = await broker.listen();
    let firstAskedAt = -1;
    let produced = 0;
    broker.answer = (req) => {
      if (req.apiKey === 3) {
        const body = req.body as ApiMessages[3]['request'];
        const topics = body.topics ?? [];
        if (topics.length > 0 && firstAskedAt < 0) firstAskedAt = Date.now();
        const ready = topics.length === 0 || Date.now() - firstAskedAt >= CREATION_MS;
        return {
          throttleTimeMs: 0, brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }], clusterId: 'fake', controllerId: 1,
          topics: topics.map((t) => ({
            errorCode: ready ? 0 : LEADER_NOT_AVAILABLE, name: t.name, topicId: ZERO_UUID, isInternal: false, topicAuthorizedOperations: -2147483648,
            partitions: ready ? [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }] : [],
          })),
          clusterAuthorizedOperations: -2147483648,
        } satisfies ApiMessages[3]['response'];
      }
      if (req.apiKey === 0) {
        const body = req.body as ApiMessages[0]['request'];
        return {
          throttleTimeMs: 0, nodeEndpoints: [],
          responses: body.topicData.map((t) => ({
            name: t.name,
            partitionResponses: t.partitionData.map((p) => {
              const baseOffset = BigInt(produced);
              produced += p.records!.readInt32BE(57); // the batch's record count
              return { index: p.index, errorCode: 0, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 } };
            }),
          })),
        } satisfies ApiMessages[0]['response'];
      }
      return null;
    };
    const producer = new Producer({ brokers: [`127.0.0.1:${port}`], retry: { retries: 8, initialRetryTimeMs: 20, maxRetryTimeMs: 100 } }, { acks: 1 });
    cleanup.push(() => broker.close(), () => producer.disconnect());

    const results = await Promise.all(Array.from({ length: SENDS }, (_, i) => producer.send({ topic: 'new-topic', messages: [{ value: `v${i}` }] })));
    expect(results.map((r) => r[0]!.partition)).toEqual(Array.from({ length: SENDS }, () => 0));
    expect(produced).toBe(SENDS);
    const forTopic = broker.received.filter((r) => r.apiKey === 3 && ((r.body as ApiMessages[3]['request']).topics ?? []).length > 0);
    // One retry chain: the first request and retries after ~20, 40, 80, 100 ms (20% jitter) until
    // the topic is ready, whatever the number of sends (each send retrying on its own made ~60).
    expect(forTopic.length).toBeGreaterThanOrEqual(3);
    expect(forTopic.length).toBeLessThanOrEqual(8);
  });
});
