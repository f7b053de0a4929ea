// One run of the godel-client load generator (see godel-client.ts); argv[2] is the JSON
// { address, topic, workload }; prints one JSON LoadResult line.
import { Godel } from '../../../ts/client/index.js';
import { keepHeapHeadroom } from '../../../ts/heap-growth.js';
import type { LoadResult, Workload } from '../types.js';

// The generator's own full GCs would be measured as the system's latency (see ts/heap-growth.ts).
keepHeapHeadroom();

const BATCH = 1000;
const IN_FLIGHT = 8;
const PARTITION_FETCH_BYTES = 1024 * 1024;
const FETCH_BYTES = 50 * 1024 * 1024;

interface Args {
  address: string;
  topic: string;
  workload: Workload;
}

function result(records: number, recordBytes: number, seconds: number): LoadResult {
  const bytes = records * recordBytes;
  return { records, bytes, seconds, recordsPerSecond: records / seconds, mbPerSecond: bytes / 1e6 / seconds };
}

async function produce({ address, topic, workload }: Args): Promise<LoadResult> {
  const value = Buffer.alloc(workload.recordBytes, 'x');
  const full = Array.from({ length: BATCH }, () => ({ value }));
  const producer = new Godel({ brokers: [address], clientId: 'godel-bench' }).producer({
    acks: workload.acks === 'all' ? -1 : 1, lingerMs: 0, batchSize: BATCH * (workload.recordBytes + 16) + 1024,
    maxInFlightRequests: IN_FLIGHT, allowAutoTopicCreation: false,
  });
  await producer.connect();
  const pending = new Set<Promise<unknown>>();
  let sent = 0;
  const t0 = performance.now();
  while (sent < workload.records) {
    const n = Math.min(BATCH, workload.records - sent);
    sent += n;
    const p: Promise<unknown> = producer.send({ topic, messages: n === BATCH ? full : full.slice(0, n) }).then(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= IN_FLIGHT) await Promise.race(pending);
  }
  await Promise.all(pending);
  const seconds = (performance.now() - t0) / 1000;
  await producer.disconnect();
  return result(workload.records, workload.recordBytes, seconds);
}

async function consume({ address, topic, workload }: Args): Promise<LoadResult> {
  const consumer = new Godel({ brokers: [address], clientId: 'godel-bench' }).consumer({
    groupId: `bench-${topic}`, autoCommit: false, maxBytesPerPartition: PARTITION_FETCH_BYTES, maxBytes: FETCH_BYTES, maxWaitMs: 500,
  });
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let count = 0;
  let bytes = 0;
  let t0 = 0;
  let resolve!: (seconds: number) => void;
  const done = new Promise<number>((r) => (resolve = r));
  await consumer.run({
    eachMessage: ({ message }) => {
      if (count === 0) t0 = performance.now();
      bytes += message.value?.length ?? 0;
      if (++count === workload.records) resolve((performance.now() - t0) / 1000);
    },
  });
  const seconds = await done;
  await consumer.disconnect();
  if (bytes !== workload.records * workload.recordBytes) throw new Error(`read ${bytes} value bytes, expected ${workload.records * workload.recordBytes}`);
  return result(workload.records, workload.recordBytes, seconds);
}

const args = JSON.parse(process.argv[2]!) as Args;
const run = args.workload.kind === 'produce' ? produce : consume;
run(args).then((r) => {
  process.stdout.write(`${JSON.stringify(r)}\n`);
  // Clients may keep timers alive after close.
  setTimeout(() => process.exit(0), 100).unref();
}, (err: unknown) => {
  console.error(err);
  process.exit(1);
});
