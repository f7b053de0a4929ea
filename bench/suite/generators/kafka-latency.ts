// The Kafka-protocol side of a latency measurement, with Gödel's client (peer-latency.ts runs it
// twice, as for NATS and Redis, so Gödel and Kafka are measured with the same two processes):
//   kafka-latency.ts sub|pub <host:port> <topic> <recordBytes> <rateMBps> <durationSeconds>
// sub: a consumer without a group (no join to wait for) assigned every partition at its current
//      end, long-polling (minBytes 1, maxWaitMs 500), one clock reading per record;
// pub: a producer (acks=1, lingerMs 0): each 1 ms slice of the offered rate is one send() call,
//      so one produce request per millisecond, at most MAX_IN_FLIGHT records unacknowledged.
import { Godel } from '../../../ts/client/index.js';
import type { Producer } from '../../../ts/client/producer.js';
import { keepHeapHeadroom } from '../../../ts/heap-growth.js';
import { DRAIN_DEADLINE_MS, LatencyHistogram, emit, expectedTotal, pace, type Sender } from './peer-latency.js';

// The generator's own full GCs would be measured as the system's latency (see ts/heap-growth.ts).
keepHeapHeadroom();

const MAX_IN_FLIGHT = 100_000;
const MAX_WAIT_MS = 500;

async function subscribe(address: string, topic: string): Promise<void> {
  const client = new Godel({ brokers: [address], clientId: 'godel-bench-latency-sub' });
  const admin = client.admin();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const consumer = client.consumer({ minBytes: 1, maxWaitMs: MAX_WAIT_MS });
  const histogram = new LatencyHistogram();
  let expected = Infinity;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  await consumer.assign(ends.map(({ partition, high }) => ({ topic, partition, offset: high })));
  await consumer.run({
    eachMessage: ({ message }) => {
      histogram.record(message.value!, process.hrtime.bigint());
      if (histogram.received >= expected) finish();
    },
  });
  emit({ ready: true });
  void expectedTotal().then((n) => {
    expected = n;
    if (histogram.received >= expected) finish();
    setTimeout(finish, DRAIN_DEADLINE_MS).unref();
  });
  await done;
  emit({ result: { received: histogram.received, percentiles: histogram.percentiles() } });
  await consumer.disconnect();
}

/** pace() hands over one record at a time; the records of one slice go out as one send(). */
class ProducerSender implements Sender {
  private slice: Array<{ value: Buffer }> = [];
  private sent = 0;
  private acknowledged = 0;
  failure: Error | undefined;

  constructor(private readonly producer: Producer, private readonly topic: string) {}

  get inFlight(): number {
    return this.sent - this.acknowledged;
  }

  send(payload: Buffer): void {
    if (this.slice.length === 0) queueMicrotask(() => this.flush());
    this.slice.push({ value: payload });
    this.sent++;
  }

  private flush(): void {
    const messages = this.slice;
    this.slice = [];
    this.producer.send({ topic: this.topic, messages }).then(
      () => (this.acknowledged += messages.length),
      (err: unknown) => (this.failure ??= err instanceof Error ? err : new Error(String(err))),
    );
  }
}

async function publish(address: string, topic: string, recordBytes: number, rateMBps: number, durationSeconds: number): Promise<void> {
  const producer = new Godel({ brokers: [address], clientId: 'godel-bench-latency-pub' }).producer({
    acks: 1, lingerMs: 0, allowAutoTopicCreation: false,
  });
  await producer.connect();
  const result = await pace({ recordBytes, rateMBps, durationSeconds, maxInFlight: MAX_IN_FLIGHT, sender: new ProducerSender(producer, topic) });
  emit({ result });
  await producer.disconnect();
}

const [role, address, topic, recordBytes, rateMBps, durationSeconds] = process.argv.slice(2);
if (role === 'sub') await subscribe(address!, topic!);
else await publish(address!, topic!, Number(recordBytes), Number(rateMBps), Number(durationSeconds));
process.exit(0);
