// The broker reuses buffers on its hot paths: produce requests that span socket reads are gathered
// into pooled buffers (given back once their appends are written), and fetches read into pooled
// buffers (given back once the response is on the socket). A buffer reused too early would show
// as records with another request's bytes. Here large pipelined produce requests on several
// partitions run while a consumer follows the log, and every record must come back exactly once,
// in order, with its own value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Godel } from '../../ts/client/index.js';
import { type BrokerProcess, startBroker, waitFor } from '../helpers/broker.js';

const START_HOOK_MS = 120_000;
const PARTITIONS = 3;
const SENDS = 40;
const PER_SEND = 1500;
const VALUE_BYTES = 100;

let broker: BrokerProcess;
let godel: Godel;

beforeAll(async () => {
  broker = await startBroker({ set: { 'group.initial.rebalance.delay.ms': '0' } });
  godel = new Godel({ brokers: [broker.address], clientId: 'buffers-test' });
}, START_HOOK_MS);

afterAll(async () => {
  await broker?.stop();
}, START_HOOK_MS);

function value(partition: number, i: number): Buffer {
  const v = Buffer.alloc(VALUE_BYTES, `p${partition}-${i}|`);
  v.write(`p${partition}-${i}|`, 0);
  return v;
}

describe('pooled broker buffers', () => {
  it('returns every record of large pipelined produce requests exactly once, in order, while a consumer follows', async () => {
    const topic = `buffers-${Date.now() % 100_000}`;
    const admin = godel.admin();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
    await admin.disconnect();

    const got: string[][] = Array.from({ length: PARTITIONS }, () => []);
    const consumer = godel.consumer({ groupId: `g-${topic}`, autoCommit: false, maxBytesPerPartition: 256 * 1024, maxWaitMs: 100 });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: ({ partition, message }) => void got[partition]!.push(message.value!.toString('latin1')) });

    const producer = godel.producer({ acks: 1, lingerMs: 0, batchSize: PER_SEND * (VALUE_BYTES + 16) + 1024, maxInFlightRequests: 8 });
    await producer.connect();
    const sends: Promise<unknown>[] = [];
    for (let s = 0; s < SENDS; s++) {
      const partition = s % PARTITIONS;
      const first = Math.floor(s / PARTITIONS) * PER_SEND;
      const messages = Array.from({ length: PER_SEND }, (_, k) => ({ partition, value: value(partition, first + k) }));
      sends.push(producer.send({ topic, messages }));
      if (sends.length >= 8) await sends.shift();
    }
    await Promise.all(sends);
    await producer.disconnect();

    const total = SENDS * PER_SEND;
    await waitFor(() => got.reduce((n, p) => n + p.length, 0) >= total, 'every record consumed', 120_000);
    await consumer.disconnect();
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const records = got[partition]!;
      const expected = Math.ceil((SENDS - partition) / PARTITIONS) * PER_SEND;
      expect(records.length).toBe(expected);
      for (let i = 0; i < records.length; i++) {
        if (records[i] !== value(partition, i).toString('latin1')) {
          expect.fail(`partition ${partition} record ${i}: ${records[i]!.slice(0, 20)}…`);
        }
      }
    }
  }, 240_000);
});
