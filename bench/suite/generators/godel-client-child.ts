// One run of the godel-client load generator (see godel-client.ts); argv[2] is the JSON
// { address, topic, workload }; prints one JSON LoadResult line.
import { Godel } from '../../../ts/client/index.js';
import type { LoadResult, Workload } from '../types.js';

const BATCH = 1000;
const IN_FLIGHT = 8;
const PARTITION_FETCH_BYTES = 1024 * 1024;
const FETCH_BYTES = 50 * 1024 * 1024;
/** Latency runs: records received in the first seconds after the consumer's first are not counted. */
const LATENCY_WARMUP_S = 2;
const LATENCY_DRAIN_MS = 10_000;

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

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function latency({ address, topic, workload }: Args): Promise<LoadResult> {
  const rateMBps = workload.rateMBps ?? 10;
  const duration = workload.durationSeconds ?? 10;
  const perSecond = (rateMBps * 1e6) / workload.recordBytes;
  // Room for every record of the measured window, with slack: no allocation per record received.
  const samples = new Float64Array(Math.ceil(perSecond * (duration + LATENCY_WARMUP_S + 5)));
  let measured = 0;
  let received = 0;
  let measureFromNs = -1n;
  let measureToNs = -1n;
  const client = new Godel({ brokers: [address], clientId: 'godel-bench-latency' });
  const consumer = client.consumer({ groupId: `latency-${topic}`, autoCommit: false, maxWaitMs: 500, minBytes: 1 });
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: ({ message }) => {
      const now = process.hrtime.bigint();
      const stamp = message.value!.readBigInt64BE(0);
      if (received++ === 0) measureFromNs = now + BigInt(LATENCY_WARMUP_S * 1e9);
      if (measureFromNs > 0n && stamp >= measureFromNs && (measureToNs < 0n || stamp < measureToNs) && measured < samples.length) {
        samples[measured++] = Number(now - stamp) / 1e6;
      }
    },
  });
  const producer = client.producer({ acks: workload.acks === 'all' ? -1 : 1, lingerMs: 0, allowAutoTopicCreation: false });
  await producer.connect();
  // Paced sends: every millisecond, the records due by now at the offered rate, each stamped.
  const t0 = performance.now();
  let sent = 0;
  let sentInWindow = 0;
  let failed: unknown;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = process.hrtime.bigint();
      if (measureToNs < 0n && measureFromNs > 0n && now >= measureFromNs) measureToNs = measureFromNs + BigInt(duration * 1e9);
      if (measureToNs > 0n && now >= measureToNs) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor(((performance.now() - t0) / 1000) * perSecond) - sent;
      if (due <= 0) return;
      const messages = new Array<{ value: Buffer }>(due);
      for (let i = 0; i < due; i++) {
        const value = Buffer.allocUnsafe(workload.recordBytes).fill(0x78, 8);
        value.writeBigInt64BE(process.hrtime.bigint(), 0);
        messages[i] = { value };
      }
      sent += due;
      if (measureFromNs > 0n && now >= measureFromNs) sentInWindow += due;
      producer.send({ topic, messages }).catch((err: unknown) => (failed ??= err));
    }, 1);
  });
  // Wait for the window's records (or give up after a while: what is missing is reported).
  const drainEnd = performance.now() + LATENCY_DRAIN_MS;
  while (measured < sentInWindow && performance.now() < drainEnd && failed === undefined) await new Promise((r) => setTimeout(r, 20));
  await producer.disconnect();
  await consumer.disconnect();
  if (failed !== undefined) throw failed instanceof Error ? failed : new Error(String(failed));
  const sorted = samples.subarray(0, measured).sort();
  const r = result(measured, workload.recordBytes, duration);
  r.latency = { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), p999Ms: percentile(sorted, 99.9) };
  if (measured < sentInWindow * 0.99) throw new Error(`latency: only ${measured} of ${sentInWindow} records of the window arrived`);
  return r;
}

const args = JSON.parse(process.argv[2]!) as Args;
const run = args.workload.kind === 'produce' ? produce : args.workload.kind === 'consume' ? consume : latency;
run(args).then((r) => {
  process.stdout.write(`${JSON.stringify(r)}\n`);
  // Clients may keep timers alive after close.
  setTimeout(() => process.exit(0), 100).unref();
}, (err: unknown) => {
  console.error(err);
  process.exit(1);
});
