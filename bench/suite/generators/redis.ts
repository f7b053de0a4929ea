// Load generators for Redis Streams (systems/redis.ts). A topic is one stream key; partitions > 1
// and durable workloads are declined (one key only; Redis replies before its append-only file is
// fsynced, every second). acks '1' and 'all' are the same: every XADD is answered with its ID.
//   redis-benchmark — Redis's own benchmark client (C), produce only: `redis-benchmark -P 64 -c 8
//     XADD <key> * v <value>` with a value of exactly recordBytes characters (its -d sizes only
//     SET values, so the value is built here). It rounds the request count up to whole pipelines;
//     the records added are counted with XLEN.
//   redis-node — a Node client in this process, for what redis-benchmark cannot do: consume =
//     ioredis 5, XRANGE COUNT 10000 from just after the last ID read (one round trip per 10,000
//     entries, so the wire never idles long); produce = pipelined XADD written as RESP
//     (redis-adder.ts; ioredis itself managed a fifth of the rate), up to PRODUCE_WINDOW
//     unanswered; latency = redis-latency.ts (that XADD publisher, an ioredis XREAD BLOCK
//     subscriber, in two processes).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../exec.js';
import { redisConnect } from '../systems/redis.js';
import type { LoadGenerator, LoadResult, RunningSystem, SystemId, Workload } from '../types.js';
import { runLatency } from './peer-latency.js';
import { RedisStreamAdder } from './redis-adder.js';

const TOOL_TIMEOUT_MS = 15 * 60_000;
const BENCH_PIPELINE = 64;
const BENCH_CLIENTS = 8;
const PRODUCE_WINDOW = 4096;
const XRANGE_COUNT = 10_000;
const LATENCY_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'redis-latency.ts');

function supportsRedis(system: SystemId, workload: Workload): boolean {
  return system === 'redis' && !workload.durable && workload.partitions === 1;
}

function result(records: number, recordBytes: number, seconds: number): LoadResult {
  const bytes = records * recordBytes;
  return { records, bytes, seconds, recordsPerSecond: records / seconds, mbPerSecond: bytes / 1e6 / seconds };
}

async function streamLength(address: string, key: string): Promise<number> {
  const redis = redisConnect(address);
  try {
    await redis.connect();
    return await redis.xlen(key);
  } finally {
    redis.disconnect();
  }
}

/** The requests-per-second cell of `redis-benchmark --csv` ("test","rps",… then one row). */
export function parseBenchmarkCsv(stdout: string): number {
  const row = stdout.trim().split('\n').find((line) => line.startsWith('"XADD'));
  const cells = row ? row.split('","') : [];
  const rps = Number(cells[1]?.replaceAll('"', ''));
  if (!(rps > 0)) throw new Error(`redis-benchmark printed no XADD rate:\n${stdout.slice(-1500)}`);
  return rps;
}

export const redisBenchmarkGenerator: LoadGenerator = {
  id: 'redis-benchmark',
  supports: (system, workload) => supportsRedis(system, workload) && workload.kind === 'produce',
  async run(system: RunningSystem, workload: Workload, topic: string): Promise<LoadResult> {
    const [host, port] = system.address.split(':');
    const before = await streamLength(system.address, topic);
    const value = 'x'.repeat(workload.recordBytes);
    const args = ['-h', host!, '-p', port!, '-n', String(workload.records), '-P', String(BENCH_PIPELINE),
      '-c', String(BENCH_CLIENTS), '--csv', 'XADD', topic, '*', 'v', value];
    const r = await exec('redis-benchmark', args, { timeoutMs: TOOL_TIMEOUT_MS });
    if (r.code !== 0) throw new Error(`redis-benchmark failed (${r.code}): ${(r.stdout + r.stderr).slice(-1500)}`);
    const rps = parseBenchmarkCsv(r.stdout);
    const added = (await streamLength(system.address, topic)) - before;
    if (added < workload.records) throw new Error(`redis-benchmark added ${added} of ${workload.records} records`);
    return result(added, workload.recordBytes, added / rps);
  },
};

async function produce(address: string, key: string, workload: Workload): Promise<LoadResult> {
  const adder = new RedisStreamAdder(address, key, workload.recordBytes);
  try {
    await adder.connect();
    const payload = Buffer.alloc(workload.recordBytes, 0x78);
    const t0 = performance.now();
    for (let sent = 0; sent < workload.records && adder.failure === undefined; sent++) {
      if (adder.inFlight >= PRODUCE_WINDOW) await adder.waitBelow(PRODUCE_WINDOW / 2);
      adder.send(payload);
    }
    await adder.waitBelow(0);
    const seconds = (performance.now() - t0) / 1000;
    if (adder.failure !== undefined) throw adder.failure;
    return result(workload.records, workload.recordBytes, seconds);
  } finally {
    adder.close();
  }
}

type RangeReply = Array<[Buffer, Buffer[]]>;

async function consume(address: string, key: string, workload: Workload): Promise<LoadResult> {
  const redis = redisConnect(address);
  try {
    await redis.connect();
    const deadline = Date.now() + TOOL_TIMEOUT_MS;
    let start = '-';
    let received = 0;
    let bytes = 0;
    const t0 = performance.now();
    while (received < workload.records) {
      const count = Math.min(XRANGE_COUNT, workload.records - received);
      const entries = (await redis.xrangeBuffer(key, start, '+', 'COUNT', count)) as unknown as RangeReply;
      if (entries.length === 0) {
        if (Date.now() > deadline) throw new Error(`redis-node consume: ${received} of ${workload.records} records`);
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      for (const [, fields] of entries) bytes += fields[1]!.length;
      received += entries.length;
      start = `(${entries[entries.length - 1]![0].toString('latin1')}`;
    }
    const seconds = (performance.now() - t0) / 1000;
    if (bytes !== received * workload.recordBytes) throw new Error(`redis-node consume: ${bytes} value bytes in ${received} records`);
    return result(received, workload.recordBytes, seconds);
  } finally {
    redis.disconnect();
  }
}

export const redisNodeGenerator: LoadGenerator = {
  id: 'redis-node',
  supports: supportsRedis,
  async run(system: RunningSystem, workload: Workload, topic: string): Promise<LoadResult> {
    switch (workload.kind) {
      case 'produce':
        return produce(system.address, topic, workload);
      case 'consume':
        return consume(system.address, topic, workload);
      case 'latency':
        return runLatency(LATENCY_SCRIPT, system.address, topic, workload);
    }
  },
};

/** The name registry.ts first imported this generator by. */
export const ioredisGenerator = redisNodeGenerator;
