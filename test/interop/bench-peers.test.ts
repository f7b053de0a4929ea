// The bench suite's peers (bench/suite/systems/nats.ts, redis.ts and their generators) against
// real nats-server and redis-server processes started through their SystemDefinitions, as
// `npm run bench` does: a small produce, the same records consumed back, and a 2-second
// fixed-rate latency run. The Node client paths are used (nats.js, redis-node, plus
// redis-benchmark, which is packaged with Redis); `nats bench` needs a Go build of natscli and is
// exercised by the suite itself, not here, so CI stays offline-safe.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { natsJsGenerator } from '../../bench/suite/generators/nats.js';
import { redisBenchmarkGenerator, redisNodeGenerator } from '../../bench/suite/generators/redis.js';
import { natsSystem } from '../../bench/suite/systems/nats.js';
import { redisSystem } from '../../bench/suite/systems/redis.js';
import type { LoadGenerator, LoadResult, RunningSystem, SystemDefinition, SystemStartOptions, Workload } from '../../bench/suite/types.js';
import { missingTool, setupOnce } from './helpers.js';

const RECORDS = 20_000;
const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

function workload(kind: Workload['kind'], recordBytes: number): Workload {
  return {
    name: `${kind}-${recordBytes}B`, kind, recordBytes, partitions: 1, acks: '1', durable: false, records: RECORDS,
    rateMBps: kind === 'latency' ? 1 : undefined, durationSeconds: kind === 'latency' ? 2 : undefined,
  };
}

function expectThroughput(result: LoadResult, records: number, recordBytes: number): void {
  expect(result.records).toBe(records);
  expect(result.bytes).toBe(records * recordBytes);
  expect(result.seconds).toBeGreaterThan(0);
  expect(result.recordsPerSecond).toBeGreaterThan(0);
  expect(result.mbPerSecond).toBeGreaterThan(0);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Peer {
  system: SystemDefinition;
  /** Generators for produce (all of them run), then the one that reads back and measures latency. */
  producers: LoadGenerator[];
  reader: LoadGenerator;
}

const PEERS: Peer[] = [
  { system: natsSystem, producers: [natsJsGenerator], reader: natsJsGenerator },
  { system: redisSystem, producers: [redisBenchmarkGenerator, redisNodeGenerator], reader: redisNodeGenerator },
];

describe.each(PEERS)('$system.id', ({ system, producers, reader }) => {
  let running: RunningSystem | undefined;
  let opts: SystemStartOptions;

  setupOnce(async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `godel-bench-${system.id}-`));
    const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), `godel-bench-cache-`));
    dirs.push(dataDir, cacheDir);
    opts = { dataDir, cacheDir, durable: false, log: () => undefined };
    const reason = await system.unavailable(opts);
    if (reason !== null) throw missingTool(system.label, reason);
    running = await system.start(opts);
  });

  afterAll(async () => {
    await running?.stop();
  });

  test('starts on 127.0.0.1 with its start-up time', () => {
    expect(running!.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(running!.startupMs).toBeGreaterThan(0);
    expect(pidAlive(running!.pid)).toBe(true);
  });

  test('declines what it cannot do: several partitions, fsync before ack, other systems', () => {
    for (const generator of [...producers, reader]) {
      expect(generator.supports(system.id, { ...workload('produce', 100), partitions: 4 })).toBe(false);
      expect(generator.supports(system.id, { ...workload('produce', 100), durable: true })).toBe(false);
      expect(generator.supports('kafka', workload('produce', 100))).toBe(false);
    }
  });

  test.each([100, 1024])('%d-byte records: produced, every one consumed back, latency percentiles in order', async (recordBytes) => {
    // A '.' as in the suite's names ("…-nats.js-0"): NATS stream names may not hold one.
    const topic = `peers-${recordBytes}-nats.js-0`;
    await running!.createTopic(topic, 1);
    let produced = 0;
    for (const generator of producers) {
      const result = await generator.run(running!, workload('produce', recordBytes), topic, opts);
      // redis-benchmark rounds its requests up to whole pipelines; the result says what it added.
      expect(result.records, generator.id).toBeGreaterThanOrEqual(RECORDS);
      expectThroughput(result, result.records, recordBytes);
      produced += result.records;
    }
    const consumed = await reader.run(running!, { ...workload('consume', recordBytes), records: produced }, topic, opts);
    expectThroughput(consumed, produced, recordBytes);

    const latency = await reader.run(running!, workload('latency', recordBytes), topic, opts);
    // 1 MB/s for 2 s: every record the publisher sent was seen by the subscriber.
    expect(latency.records).toBeGreaterThan(0);
    expect(latency.recordsPerSecond).toBeGreaterThan(0);
    const { p50Ms, p99Ms, p999Ms } = latency.latency!;
    expect(p50Ms).toBeGreaterThanOrEqual(0);
    expect(p50Ms).toBeLessThanOrEqual(p99Ms);
    expect(p99Ms).toBeLessThanOrEqual(p999Ms);
    expect(p999Ms).toBeLessThan(60_000);
  });

  test('stops: the server process exits', async () => {
    const pid = running!.pid;
    await running!.stop();
    running = undefined;
    expect(pidAlive(pid)).toBe(false);
  });
});
