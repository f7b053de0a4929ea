// The producer against a fake broker that models Kafka's idempotence checks (sequence numbers per
// producer, the last five batches remembered as duplicates, OUT_OF_ORDER_SEQUENCE_NUMBER for a gap)
// and injects failures: retriable errors, lost responses after an append, final errors. Checks what
// the log ends up with: every record once, in order, with the offsets send() reported.
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaError } from '../../../ts/client/errors.js';
import { Producer, type ProducerOptions } from '../../../ts/client/producer.js';
import type { ApiMessages } from '../../../ts/protocol/generated/index.js';
import { ZERO_UUID } from '../../../ts/protocol/reader.js';
import { baseSequenceOf, producerIdOf, recordsCountOf } from '../../../ts/storage/record-batch.js';
import { FakeBroker, type Received } from './fake-broker.js';

type ProduceRequest = ApiMessages[0]['request'];
type ProduceResponse = ApiMessages[0]['response'];

interface Appended {
  producerId: bigint;
  firstSeq: number;
  count: number;
  baseOffset: bigint;
  bytes: Buffer;
}

/** Kafka's log and producer-state checks for one partition, simplified. */
class ModelLog {
  readonly batches: Appended[] = [];
  next = 0n;

  append(batch: Buffer): { errorCode: number; baseOffset: bigint } {
    const producerId = producerIdOf(batch, 0);
    const firstSeq = baseSequenceOf(batch, 0);
    const count = recordsCountOf(batch, 0);
    if (producerId >= 0n) {
      const mine = this.batches.filter((b) => b.producerId === producerId);
      const dup = mine.slice(-5).find((b) => b.firstSeq === firstSeq && b.count === count);
      if (dup !== undefined) return { errorCode: 0, baseOffset: dup.baseOffset };
      const last = mine.at(-1);
      const expected = last === undefined ? 0 : last.firstSeq + last.count;
      if (firstSeq !== expected) return { errorCode: 45, baseOffset: -1n };
    }
    const baseOffset = this.next;
    this.batches.push({ producerId, firstSeq, count, baseOffset, bytes: Buffer.from(batch) });
    this.next += BigInt(count);
    return { errorCode: 0, baseOffset };
  }
}

interface Script {
  /** Error codes for the next produce attempts, in order (the batch is not appended). */
  failures: number[];
  /** Append, then cut the connection instead of answering, this many times. */
  loseResponses: number;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(options: ProducerOptions, partitions = 1): Promise<{ broker: FakeBroker; producer: Producer; logs: ModelLog[]; script: Script; attempts: Received[]; initIds: number }> {
  const broker = new FakeBroker();
  const port = await broker.listen();
  const logs = Array.from({ length: partitions }, () => new ModelLog());
  const script: Script = { failures: [], loseResponses: 0 };
  const attempts: Received[] = [];
  const state = { initIds: 0 };
  broker.answer = (req) => {
    if (req.apiKey === 3) {
      const body = req.body as ApiMessages[3]['request'];
      return {
        throttleTimeMs: 0, brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }], clusterId: 'fake', controllerId: 1,
        topics: (body.topics ?? []).map((t) => ({
          errorCode: 0, name: t.name, topicId: ZERO_UUID, isInternal: false, topicAuthorizedOperations: -2147483648,
          partitions: logs.map((_, p) => ({ errorCode: 0, partitionIndex: p, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] })),
        })),
        clusterAuthorizedOperations: -2147483648,
      } satisfies ApiMessages[3]['response'];
    }
    if (req.apiKey === 22) {
      state.initIds++;
      return { throttleTimeMs: 0, errorCode: 0, producerId: BigInt(100 * state.initIds), producerEpoch: 0 } satisfies ApiMessages[22]['response'];
    }
    if (req.apiKey === 0) {
      attempts.push(req);
      const body = req.body as ProduceRequest;
      let lose = false;
      const response: ProduceResponse = {
        throttleTimeMs: 0, nodeEndpoints: [],
        responses: body.topicData.map((t) => ({
          name: t.name,
          partitionResponses: t.partitionData.map((p) => {
            const failure = script.failures.shift();
            const result = failure !== undefined ? { errorCode: failure, baseOffset: -1n } : logs[p.index]!.append(p.records!);
            if (failure === undefined && script.loseResponses > 0) lose = true;
            return {
              index: p.index, errorCode: result.errorCode, baseOffset: result.baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n,
              recordErrors: [], errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 },
            };
          }),
        })),
      };
      if (lose) {
        script.loseResponses--;
        req.socket.destroy();
        return null;
      }
      return response;
    }
    return null;
  };
  const producer = new Producer({ brokers: [`127.0.0.1:${port}`], retry: { retries: 6, initialRetryTimeMs: 5, maxRetryTimeMs: 50 } }, options);
  cleanup.push(() => broker.close(), () => producer.disconnect());
  await producer.connect();
  return { broker, producer, logs, script, attempts, get initIds() { return state.initIds; } };
}

/** Every record value in the log, in offset order. */
async function values(log: ModelLog): Promise<string[]> {
  const { decodeRecordBatches } = await import('../../../ts/client/batch-decoder.js');
  const out: string[] = [];
  for (const b of log.batches) {
    const batch = Buffer.from(b.bytes);
    batch.writeBigInt64BE(b.baseOffset, 0);
    for (const m of (await decodeRecordBatches(batch, { fromOffset: 0n })).messages) out.push(m.value!.toString());
  }
  return out;
}

describe('Producer retries', () => {
  it('retries a retriable error with the very same bytes and reports the offset', async () => {
    const { producer, logs, script, attempts } = await setup({ acks: 1 });
    script.failures.push(6); // NOT_LEADER_OR_FOLLOWER
    const [meta] = await producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] });
    expect(meta).toMatchObject({ topic: 't', partition: 0, baseOffset: 0n });
    expect(attempts).toHaveLength(2);
    const bytes = attempts.map((a) => (a.body as ProduceRequest).topicData[0]!.partitionData[0]!.records!);
    expect(bytes[1]).toEqual(bytes[0]);
    expect(await values(logs[0]!)).toEqual(['a', 'b']);
  });

  it('idempotent: a failed batch with four more in flight ends with every record once, in order', async () => {
    const { producer, logs, script, attempts } = await setup({ idempotent: true, maxInFlightRequests: 5, lingerMs: 0 });
    await producer.send({ topic: 't', messages: [{ value: 'first' }] }); // metadata known: every send below appends at once
    attempts.length = 0;
    script.failures.push(6); // the next batch fails; the model then answers OUT_OF_ORDER to the ones behind it
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      sends.push(producer.send({ topic: 't', messages: [{ value: `${i}` }] }));
      await new Promise((resolve) => setImmediate(resolve)); // a batch per send
    }
    const results = (await Promise.all(sends)) as Array<Array<{ baseOffset: bigint }>>;
    expect(logs[0]!.batches).toHaveLength(21);
    const outOfOrder = attempts.length - 20 - 1;
    expect(outOfOrder).toBeGreaterThan(0); // batches behind the failed one came back out of order and were retried
    expect(await values(logs[0]!)).toEqual(['first', ...Array.from({ length: 20 }, (_, i) => `${i}`)]);
    expect(results.map((r) => r[0]!.baseOffset)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
    expect(logs[0]!.batches.map((b) => b.firstSeq)).toEqual(Array.from({ length: 21 }, (_, i) => i));
  });

  it('idempotent: responses lost after the append are retried as duplicates, not written twice', async () => {
    const { producer, logs, script } = await setup({ idempotent: true, maxInFlightRequests: 5 });
    script.loseResponses = 2;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => producer.send({ topic: 't', messages: [{ value: `${i}` }, { value: `${i}b` }] })));
    expect(await values(logs[0]!)).toEqual(Array.from({ length: 10 }, (_, i) => [`${i}`, `${i}b`]).flat());
    expect(results.map((r) => r[0]!.baseOffset)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(2 * i)));
  });

  it('(control) without idempotence a lost response duplicates the batch', async () => {
    const { producer, logs, script } = await setup({ acks: 1 });
    script.loseResponses = 1;
    await producer.send({ topic: 't', messages: [{ value: 'once' }] });
    expect(await values(logs[0]!)).toEqual(['once', 'once']);
  });

  it('fails a batch with a final error as a KafkaError naming the partition, and carries on with a new producer id', async () => {
    const setupResult = await setup({ idempotent: true }, 2);
    const { producer, logs, script } = setupResult;
    script.failures.push(10); // MESSAGE_TOO_LARGE
    const err = await producer.send({ topic: 't', messages: [{ value: 'big', partition: 1 }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect(err).toMatchObject({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false, topic: 't', partition: 1 });
    await producer.send({ topic: 't', messages: [{ value: 'after', partition: 1 }] });
    expect(setupResult.initIds).toBe(2);
    expect(logs[1]!.batches.map((b) => [b.producerId, b.firstSeq])).toEqual([[200n, 0]]);
  });

  it('gives up after its retries with the last retriable error', async () => {
    const { producer, script, attempts } = await setup({ acks: 1 });
    script.failures.push(...Array.from({ length: 20 }, () => 7)); // REQUEST_TIMED_OUT every time
    await expect(producer.send({ topic: 't', messages: [{ value: 'x' }] })).rejects.toMatchObject({ type: 'REQUEST_TIMED_OUT', topic: 't', partition: 0 });
    expect(attempts).toHaveLength(7); // 1 + 6 retries
  });
});
