// The NATS JetStream side of a latency measurement (peer-latency.ts runs it twice):
//   nats-latency.ts sub|pub <host:port> <stream> <recordBytes> <rateMBps> <durationSeconds>
// sub: an ordered consumer starting after the stream's last sequence, a callback per message;
// pub: JetStream publishes at the offered rate (nats-publisher.ts), at most MAX_IN_FLIGHT unacknowledged.
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { natsConnect } from '../systems/nats.js';
import { JetStreamPublisher } from './nats-publisher.js';
import { keepHeapHeadroom } from '../../../ts/heap-growth.js';
import { DRAIN_DEADLINE_MS, LatencyHistogram, emit, expectedTotal, pace } from './peer-latency.js';

// The generator's own full GCs would be measured as the system's latency (see ts/heap-growth.ts).
keepHeapHeadroom();

const MAX_IN_FLIGHT = 5000;
const CONSUME_BATCH = 1000;

async function subscribe(address: string, stream: string): Promise<void> {
  const nc = await natsConnect(address);
  const js = jetstream(nc);
  const info = await (await jetstreamManager(nc)).streams.info(stream);
  const consumer = await js.consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: info.state.last_seq + 1,
  });
  const histogram = new LatencyHistogram();
  let expected = Infinity;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const messages = await consumer.consume({
    max_messages: CONSUME_BATCH,
    callback: (m) => {
      histogram.record(m.data, process.hrtime.bigint());
      if (histogram.received >= expected) finish();
    },
  });
  emit({ ready: true });
  expected = await expectedTotal();
  if (histogram.received >= expected) finish();
  const timer = setTimeout(finish, DRAIN_DEADLINE_MS);
  await finished;
  clearTimeout(timer);
  emit({ result: { received: histogram.received, percentiles: histogram.percentiles() } });
  await messages.close();
  await nc.close();
}

async function publish(address: string, stream: string, recordBytes: number, rateMBps: number, durationSeconds: number): Promise<void> {
  const nc = await natsConnect(address);
  const publisher = new JetStreamPublisher(nc, stream);
  const result = await pace({
    recordBytes, rateMBps, durationSeconds, maxInFlight: MAX_IN_FLIGHT,
    sender: { send: (payload) => publisher.publish(payload), get inFlight() { return publisher.inFlight; }, get failure() { return publisher.failure; } },
  });
  emit({ result });
  await nc.close();
}

const [role, address, stream, recordBytes, rateMBps, durationSeconds] = process.argv.slice(2);
if (role === 'sub') await subscribe(address!, stream!);
else await publish(address!, stream!, Number(recordBytes), Number(rateMBps), Number(durationSeconds));
process.exit(0);
