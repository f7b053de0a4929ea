// Load generators for NATS JetStream (systems/nats.ts). A topic is one stream with one subject of
// the same name; partitions > 1 and durable workloads are declined (one stream only; JetStream
// acknowledges before its file storage syncs, every sync_interval, 2 min by default). acks '1' and
// 'all' are the same on one server: every publish waits for its JetStream ack (PubAck).
//   nats-bench — NATS's own benchmark client, `nats bench` of natscli (Go, nats.go), built on first
//     use (nats-cli.ts): produce = `nats bench js pub` (async publishes, acks awaited in batches),
//     consume = `nats bench js ordered` (an ordered pull consumer). Rates from its summary line.
//   nats.js — the official Node client (@nats-io/transport-node, @nats-io/jetstream) in this
//     process: produce = JetStream publishes with PubAcks counted on one inbox (nats-publisher.ts),
//     up to PRODUCE_WINDOW unacknowledged; consume = an ordered consumer with a callback;
//     latency = nats-latency.ts (publisher and subscriber processes).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { exec } from '../exec.js';
import { natsConnect, natsStreamName } from '../systems/nats.js';
import type { LoadGenerator, LoadResult, RunningSystem, SystemId, SystemStartOptions, Workload } from '../types.js';
import { canBuildNatsCli, natsCli, parseBenchRate } from './nats-cli.js';
import { JetStreamPublisher } from './nats-publisher.js';
import { runLatency } from './peer-latency.js';

const TOOL_TIMEOUT_MS = 15 * 60_000;
/** Publishes between waits for their acks in `nats bench js pub` (its default is 500). */
const BENCH_PUB_BATCH = 1000;
/** Messages the ordered consumer may buffer in the client (nats bench's default is 500). */
const BENCH_SUB_BATCH = 1000;
/** The Node client's unacknowledged publishes at most. */
const PRODUCE_WINDOW = 2000;
/** Messages per pull of the Node client's ordered consumer. */
const CONSUME_BATCH = 5000;
const LATENCY_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'nats-latency.ts');

function supportsNats(system: SystemId, workload: Workload): boolean {
  return system === 'nats' && !workload.durable && workload.partitions === 1;
}

function result(records: number, recordBytes: number, seconds: number): LoadResult {
  const bytes = records * recordBytes;
  return { records, bytes, seconds, recordsPerSecond: records / seconds, mbPerSecond: bytes / 1e6 / seconds };
}

export const natsBenchGenerator: LoadGenerator = {
  id: 'nats-bench',
  // Without Go, natscli cannot be built: the runner then fills streams with nats.js instead.
  supports: (system, workload) => supportsNats(system, workload) && workload.kind !== 'latency' && canBuildNatsCli(),
  async run(system: RunningSystem, workload: Workload, topic: string, opts: SystemStartOptions): Promise<LoadResult> {
    const nats = await natsCli(opts.cacheDir, opts.log);
    const stream = natsStreamName(topic);
    const common = ['-s', `nats://${system.address}`, '--timeout', '30s'];
    const args = workload.kind === 'produce'
      ? [...common, 'bench', 'js', 'pub', stream, '--stream', stream, '--size', String(workload.recordBytes),
        '--msgs', String(workload.records), '--batch', String(BENCH_PUB_BATCH), '--clients', '1', '--no-progress']
      : [...common, 'bench', 'js', 'ordered', '--stream', stream, '--msgs', String(workload.records),
        '--batch', String(BENCH_SUB_BATCH), '--no-progress'];
    const r = await exec(nats, args, { timeoutMs: TOOL_TIMEOUT_MS });
    const output = r.stdout + r.stderr;
    if (r.code !== 0) throw new Error(`nats ${args.slice(3, 6).join(' ')} failed (${r.code}): ${output.slice(-1500)}`);
    const rate = parseBenchRate(output, workload.kind === 'produce' ? 'Pub' : 'Sub');
    return result(workload.records, workload.recordBytes, workload.records / rate);
  },
};

async function produce(address: string, stream: string, workload: Workload): Promise<LoadResult> {
  const nc = await natsConnect(address);
  try {
    const publisher = new JetStreamPublisher(nc, stream);
    // One payload for every record: the content does not matter, only its size.
    const payload = Buffer.alloc(workload.recordBytes, 0x78);
    const t0 = performance.now();
    for (let sent = 0; sent < workload.records && publisher.failure === undefined; sent++) {
      if (publisher.inFlight >= PRODUCE_WINDOW) await publisher.waitBelow(PRODUCE_WINDOW / 2);
      publisher.publish(payload);
    }
    await publisher.waitBelow(0);
    const seconds = (performance.now() - t0) / 1000;
    if (publisher.failure !== undefined) throw publisher.failure;
    return result(workload.records, workload.recordBytes, seconds);
  } finally {
    await nc.close();
  }
}

async function consume(address: string, stream: string, workload: Workload): Promise<LoadResult> {
  const nc = await natsConnect(address);
  try {
    const js = jetstream(nc);
    const t0 = performance.now();
    const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    let received = 0;
    let bytes = 0;
    let done: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    const all = new Promise<void>((resolve, reject) => {
      done = resolve;
      timer = setTimeout(() => reject(new Error(`nats.js consume: ${received} of ${workload.records} records within ${TOOL_TIMEOUT_MS} ms`)), TOOL_TIMEOUT_MS);
    });
    const messages = await consumer.consume({
      max_messages: CONSUME_BATCH,
      callback: (m) => {
        received++;
        bytes += m.data.length;
        if (received === workload.records) done();
      },
    });
    await all.finally(() => clearTimeout(timer));
    const seconds = (performance.now() - t0) / 1000;
    await messages.close();
    if (bytes !== received * workload.recordBytes) throw new Error(`nats.js consume: ${bytes} value bytes in ${received} records`);
    return result(received, workload.recordBytes, seconds);
  } finally {
    await nc.close();
  }
}

export const natsJsGenerator: LoadGenerator = {
  id: 'nats.js',
  supports: supportsNats,
  async run(system: RunningSystem, workload: Workload, topic: string): Promise<LoadResult> {
    const stream = natsStreamName(topic);
    switch (workload.kind) {
      case 'produce':
        return produce(system.address, stream, workload);
      case 'consume':
        return consume(system.address, stream, workload);
      case 'latency':
        return runLatency(LATENCY_SCRIPT, system.address, stream, workload);
    }
  },
};
