// One load process of the soak test (bench/soak.ts): `producer` or `consumer`, argv[3] the JSON
// ChildArgs. Written like the suite's godel-client-child.ts (1,000 records per send(), 8 sends in
// flight; a consumer group from the beginning). Stdout carries JSON lines only: a progress line
// {"progress": records so far, "offset": …} every second, and one final {"done": true, …} line. Stops cleanly
// on SIGTERM, at the producer's deadline, or when stdin closes (the parent went away, so a killed
// soak run leaves no load process behind).
import { Godel } from '../ts/client/index.js';
import { keepHeapHeadroom } from '../ts/heap-growth.js';

// As in the suite's generators: the load process's own full GCs should not throttle the load.
keepHeapHeadroom();

const BATCH = 1000;
const IN_FLIGHT = 8;
const PROGRESS_INTERVAL_MS = 1000;
const PARTITION_FETCH_BYTES = 1024 * 1024;
const FETCH_BYTES = 50 * 1024 * 1024;

export interface ChildArgs {
  address: string;
  topic: string;
  recordBytes: number;
  /** Producer: MB/s (10^6 bytes of record values per second); 0 = as fast as possible. */
  rateMBps: number;
  /** Producer: stop sending at this Date.now() (the soak's end). */
  untilMs: number;
}

export interface Progress {
  progress: number;
  /** Producer: the end offset acked so far; consumer: the offset after the last record delivered. */
  offset: string;
}

export interface Done {
  done: true;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  /** As Progress.offset, at the end. */
  offset: string;
}

let stopRequested = false;
let resolveStopped!: () => void;
const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
function requestStop(): void {
  stopRequested = true;
  resolveStopped();
}
process.once('SIGTERM', requestStop);
process.stdin.on('end', requestStop).on('error', requestStop).resume();

function emit(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Reports `now()` every second until the returned function is called. */
function reportProgress(now: () => Progress): () => void {
  const timer = setInterval(() => emit(now()), PROGRESS_INTERVAL_MS);
  return () => clearInterval(timer);
}

async function produce(args: ChildArgs): Promise<Done> {
  const value = Buffer.alloc(args.recordBytes, 'x');
  const messages = Array.from({ length: BATCH }, () => ({ value }));
  // acks=1 as the suite's produce workloads (on one broker the same as acks=all); batchSize holds
  // one send()'s records, so each send() is one batch.
  const producer = new Godel({ brokers: [args.address], clientId: 'godel-soak' }).producer({
    acks: 1, lingerMs: 0, batchSize: BATCH * (args.recordBytes + 16) + 1024,
    maxInFlightRequests: IN_FLIGHT, allowAutoTopicCreation: false,
  });
  await producer.connect();
  const pending = new Set<Promise<void>>();
  let acked = 0;
  let endOffset = -1n;
  let failure: unknown;
  const stopProgress = reportProgress(() => ({ progress: acked, offset: String(endOffset) }));
  const bytesPerMs = (args.rateMBps * 1e6) / 1000;
  const t0 = performance.now();
  let sentBytes = 0;
  while (!stopRequested && failure === undefined && Date.now() < args.untilMs) {
    if (bytesPerMs > 0) {
      // Paced: wait for this send's slot on the rate's schedule (or the stop, whichever is first).
      const wait = t0 + sentBytes / bytesPerMs - performance.now();
      if (wait > 0) await Promise.race([stopped, new Promise((r) => setTimeout(r, Math.min(wait, args.untilMs - Date.now())))]);
      if (stopRequested || Date.now() >= args.untilMs) break;
    }
    sentBytes += BATCH * args.recordBytes;
    const p: Promise<void> = producer.send({ topic: args.topic, messages }).then((meta) => {
      acked += BATCH;
      const end = meta[0]!.baseOffset + BigInt(BATCH);
      if (end > endOffset) endOffset = end;
    }, (err: unknown) => {
      failure ??= err;
    }).finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= IN_FLIGHT) await Promise.race(pending);
  }
  await Promise.all(pending);
  const seconds = (performance.now() - t0) / 1000;
  stopProgress();
  await producer.disconnect();
  if (failure !== undefined) throw failure;
  return { done: true, records: acked, seconds, recordsPerSecond: acked / seconds, offset: String(endOffset) };
}

async function consume(args: ChildArgs): Promise<Done> {
  const consumer = new Godel({ brokers: [args.address], clientId: 'godel-soak' }).consumer({
    groupId: `soak-${args.topic}`, autoCommit: false, maxBytesPerPartition: PARTITION_FETCH_BYTES, maxBytes: FETCH_BYTES, maxWaitMs: 500,
  });
  await consumer.subscribe({ topics: [args.topic], fromBeginning: true });
  let count = 0;
  let nextOffset = -1n;
  const stopProgress = reportProgress(() => ({ progress: count, offset: String(nextOffset) }));
  const t0 = performance.now();
  // eachBatch: counting needs no per-message call, so the consumer keeps up with less CPU.
  await consumer.run({
    eachBatch: ({ batch }) => {
      count += batch.messages.length;
      const next = batch.lastOffset() + 1n;
      if (next > nextOffset) nextOffset = next;
    },
  });
  await stopped;
  const seconds = (performance.now() - t0) / 1000;
  stopProgress();
  await consumer.disconnect();
  return { done: true, records: count, seconds, recordsPerSecond: count / seconds, offset: String(nextOffset) };
}

const role = process.argv[2];
const args = JSON.parse(process.argv[3] ?? '{}') as ChildArgs;
const run = role === 'producer' ? produce : role === 'consumer' ? consume : undefined;
if (run === undefined) {
  console.error(`usage: soak-child.ts producer|consumer '<json args>' (got ${String(role)})`);
  process.exit(2);
}
run(args).then((done) => {
  emit(done);
  // Clients may keep timers alive after disconnect.
  setTimeout(() => process.exit(0), 100).unref();
}, (err: unknown) => {
  console.error(err);
  process.exit(1);
});
