// How long a broker takes to answer a catching-up consumer's fetches: one connection fetches a
// partition from offset 0 in 1 MiB fetches, one at a time, and after each answer "processes" it
// for --think-ms without using the CPU (a timer), as a consumer working on its records on another
// core would; the next fetch starts where the answer ended. Prints the fetch latency (request
// written to response decoded) at p50/p90/p99 and the mean, per address. With several addresses
// the passes alternate between them (A B B A ...), so each broker sees the same machine. A pass
// ends after --fetches fetches or at the high watermark. --json prints one pass's result as the
// suite's generators do (records/s over the whole pass), for bench/consumer-ceiling.ts.
//
//   node --import tsx bench/fetch-latency.ts --address 127.0.0.1:19101,127.0.0.1:19102 \
//     --topic data [--fetches 300] [--think-ms 2] [--passes 4] [--json]
//
// bench/ab-consume.sh runs it against two broker builds (CONSUMER=fetch-latency).
import { parseArgs } from 'node:util';
import { Connection } from '../ts/client/connection.js';
import { ZERO_UUID } from '../ts/protocol/reader.js';
import { batchSize, lastOffsetOf, RECORD_BATCH_OVERHEAD } from '../ts/storage/record-batch.js';

const FETCH_BYTES = 1024 * 1024;

function usage(message: string): never {
  console.error(`fetch-latency: ${message}\nusage: node --import tsx bench/fetch-latency.ts --address host:port[,host:port] --topic T [--fetches N] [--think-ms MS] [--passes N] [--json]`);
  process.exit(2);
}

function options(argv: string[]): { addresses: string[]; topic: string; fetches: number; thinkMs: number; passes: number; json: boolean } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        address: { type: 'string' }, topic: { type: 'string' }, fetches: { type: 'string', default: '300' },
        'think-ms': { type: 'string', default: '2' }, passes: { type: 'string', default: '4' }, json: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  const number = (name: string): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < 0) usage(`--${name} needs a number ≥ 0`);
    return n;
  };
  const addresses = String(values.address ?? '').split(',').filter(Boolean);
  const topic = String(values.topic ?? '');
  if (addresses.length === 0 || topic === '') usage('--address and --topic are required');
  return {
    addresses, topic, fetches: Math.max(1, Math.floor(number('fetches'))), thinkMs: number('think-ms'),
    passes: Math.max(1, Math.floor(number('passes'))), json: values.json === true,
  };
}

/** The offset after the last whole batch in `records` (null when it holds none). */
function nextOffset(records: Buffer): bigint | null {
  let next: bigint | null = null;
  for (let pos = 0; pos + RECORD_BATCH_OVERHEAD <= records.length && pos + batchSize(records, pos) <= records.length; pos += batchSize(records, pos)) {
    next = lastOffsetOf(records, pos) + 1n;
  }
  return next;
}

interface Pass {
  /** Latency of each fetch, ms. */
  latencies: number[];
  /** Records fetched (offsets passed) and the pass's wall time. */
  records: number;
  seconds: number;
}

/** One pass: up to `fetches` fetches from offset 0, stopping at the high watermark. */
async function pass(address: string, topic: string, fetches: number, thinkMs: number): Promise<Pass> {
  const at = address.lastIndexOf(':');
  const connection = new Connection({ host: address.slice(0, at), port: Number(address.slice(at + 1)), clientId: 'fetch-latency' });
  const latencies: number[] = [];
  let offset = 0n;
  let started = 0;
  try {
    await connection.connect();
    started = performance.now();
    for (let i = 0; i < fetches; i++) {
      const t0 = performance.now();
      const body = await connection.request(1, () => ({
        clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n },
        maxWaitMs: 500, minBytes: 1, maxBytes: FETCH_BYTES, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic, topicId: ZERO_UUID, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: FETCH_BYTES, replicaDirectoryId: ZERO_UUID }] }],
        forgottenTopicsData: [], rackId: '',
      }));
      latencies.push(performance.now() - t0);
      const data = body.responses[0]?.partitions[0];
      if (data === undefined || data.errorCode !== 0) throw new Error(`fetch at ${offset} from ${address} failed: error ${data?.errorCode}`);
      const next = data.records === null ? null : nextOffset(data.records);
      if (next === null) break;
      offset = next;
      if (offset >= data.highWatermark) break;
      if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, thinkMs));
    }
  } finally {
    await connection.close();
  }
  return { latencies, records: Number(offset), seconds: (performance.now() - started) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const { addresses, topic, fetches, thinkMs, passes, json } = options(process.argv.slice(2));
  if (json) {
    const p = await pass(addresses[0]!, topic, fetches, thinkMs);
    console.log(JSON.stringify({ records: p.records, seconds: p.seconds, recordsPerSecond: p.records / p.seconds }));
    return;
  }
  const all = new Map<string, number[]>(addresses.map((a) => [a, []]));
  for (let p = 0; p < passes; p++) {
    const order = p % 2 === 0 ? addresses : [...addresses].reverse();
    for (const address of order) {
      const { latencies } = await pass(address, topic, fetches, thinkMs);
      // The first fetches of a pass warm the connection and the broker's code: not counted.
      all.get(address)!.push(...latencies.slice(10));
    }
  }
  console.log(`| address | fetches | p50 ms | p90 ms | p99 ms | mean ms |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [address, latencies] of all) {
    const sorted = [...latencies].sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    console.log(`| ${address} | ${sorted.length} | ${percentile(sorted, 50).toFixed(2)} | ${percentile(sorted, 90).toFixed(2)} | ${percentile(sorted, 99).toFixed(2)} | ${mean.toFixed(2)} |`);
  }
}

await main();
