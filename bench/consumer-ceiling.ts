// How fast can a consumer consume on this machine when the broker costs nothing? The issue's
// consume target (≥ 1.5x Apache Kafka) assumes the broker is what limits the consumer. This
// measures each consumer's ceiling: a proxy in front of Gödel records every Fetch response of one
// run and then answers the same fetches of later runs from memory (one write per response: no
// disk, index, CRC check or thread pool), while every other request goes on to Gödel. In the same
// run, Apache Kafka and Gödel are each consumed directly. Consumers: Kafka's ConsumerPerformance
// (the tool the target is measured with) by default, or any of the suite's three for the Kafka
// protocol (kafka-perf, kcat, godel-client) or a bare fetch loop that decodes nothing (fetch-loop),
// with the suite's settings. The proxy is a Node process
// writing each response with one writev: for kcat and Gödel's client it was no faster than Gödel
// itself (bench/RESULTS.md), so it bounds only what it beats.
//
//   npm run bench:consumer-ceiling -- [--records N] [--rounds R] [--record-bytes B] [--consumers kafka-perf,kcat,godel-client,fetch-loop]
//   npm run bench:consumer-ceiling -- --quick     # 2 M records, one round: a smoke run
//
// Needs what the suite needs (bash scripts/install-bench-deps.sh; Kafka's jars in the cache).
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeRequestHeader } from '../ts/protocol/headers.js';
import { Reader } from '../ts/protocol/reader.js';
import { exec, freePort } from './suite/exec.js';
import { godelClientGenerator } from './suite/generators/godel-client.js';
import { kafkaPerfGenerator } from './suite/generators/kafka-perf.js';
import { kcatGenerator } from './suite/generators/kcat.js';
import { godelNativeSystem } from './suite/systems/godel.js';
import { kafkaSystem } from './suite/systems/kafka.js';
import type { LoadGenerator, LoadResult, RunningSystem, SystemDefinition, SystemStartOptions, Workload } from './suite/types.js';

const FETCH_LATENCY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fetch-latency.ts');

/**
 * A bare fetch loop (bench/fetch-latency.ts in a process of its own): one Fetch after another
 * from offset 0 to the high watermark, no record decoded; the consumer that asks least of itself,
 * so the broker's answers weigh the most.
 */
const fetchLoopGenerator: LoadGenerator = {
  id: 'fetch-loop',
  supports: () => true,
  async run(system: RunningSystem, workload: Workload, topic: string): Promise<LoadResult> {
    const r = await exec(process.execPath, [
      '--import', 'tsx', FETCH_LATENCY, '--address', system.address, '--topic', topic, '--fetches', '100000000', '--think-ms', '0', '--json',
    ], { timeoutMs: 600_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) throw new Error(`fetch-latency failed (${r.code}): ${(r.stdout + r.stderr).slice(-1500)}`);
    const { records, seconds } = JSON.parse(line) as { records: number; seconds: number };
    if (records < workload.records) throw new Error(`fetch-latency read ${records} of ${workload.records} records`);
    return { records, bytes: records * workload.recordBytes, seconds, recordsPerSecond: records / seconds, mbPerSecond: (records * workload.recordBytes) / 1e6 / seconds };
  },
};

/** The suite's consumers (Kafka's perf tool, kcat, Gödel's client) and the bare fetch loop. */
const KNOWN_CONSUMERS: readonly LoadGenerator[] = [kafkaPerfGenerator, kcatGenerator, godelClientGenerator, fetchLoopGenerator];
const FETCH = 1;

function usage(message: string): never {
  console.error(`consumer-ceiling: ${message}\nusage: npm run bench:consumer-ceiling -- [--quick] [--records N] [--rounds R] [--record-bytes B] [--consumers id,...]`);
  process.exit(2);
}

/** Length-prefixed Kafka frames out of a byte stream. */
class FrameReader {
  private pending: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly onFrame: (frame: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes >= 4) {
      let head = this.pending[0]!;
      if (head.length < 4) head = this.join();
      const size = 4 + head.readInt32BE(0);
      if (this.bytes < size) return;
      if (head.length < size) head = this.join();
      const frame = head.subarray(0, size);
      if (head.length === size) this.pending.shift();
      else this.pending[0] = head.subarray(size);
      this.bytes -= size;
      this.onFrame(frame);
    }
  }

  private join(): Buffer {
    const all = Buffer.concat(this.pending, this.bytes);
    this.pending = [all];
    return all;
  }
}

/** A Fetch request's body (after the request header): the same fetch in every run has the same key. */
function fetchKey(frame: Buffer): string {
  const r = new Reader(frame, 4);
  const { apiVersion } = decodeRequestHeader(r);
  return `${apiVersion}:${frame.subarray(r.offset).toString('base64')}`;
}

interface Slot {
  correlationId: Buffer;
  /** The fetch to remember the answer of (record mode), or null. */
  key: string | null;
  /** Response after its correlation id, once known. */
  body: Buffer | null;
}

/** Forwards everything to the broker; in replay mode answers known fetches itself. */
class FetchReplayProxy {
  mode: 'record' | 'replay' = 'record';
  hits = 0;
  misses = 0;
  private readonly cache = new Map<string, Buffer>();
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly upstreamPort: number) {
    this.server = net.createServer((client) => this.connection(client));
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private connection(client: net.Socket): void {
    const upstream = net.connect({ host: '127.0.0.1', port: this.upstreamPort });
    this.sockets.add(client).add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // Responses go back in request order, whether they come from the broker or from memory.
    const slots: Slot[] = [];
    const flush = (): void => {
      while (slots.length > 0 && slots[0]!.body !== null) {
        const slot = slots.shift()!;
        const header = Buffer.allocUnsafe(8);
        header.writeInt32BE(4 + slot.body!.length, 0);
        slot.correlationId.copy(header, 4);
        client.cork();
        client.write(header);
        client.write(slot.body!);
        client.uncork();
      }
    };
    const fromClient = new FrameReader((frame) => {
      const correlationId = Buffer.from(frame.subarray(8, 12));
      const key = frame.readInt16BE(4) === FETCH ? fetchKey(frame) : null;
      const known = key === null || this.mode !== 'replay' ? undefined : this.cache.get(key);
      if (known !== undefined) {
        this.hits++;
        slots.push({ correlationId, key: null, body: known });
        flush();
        return;
      }
      if (key !== null && this.mode === 'replay') this.misses++;
      slots.push({ correlationId, key: this.mode === 'record' ? key : null, body: null });
      upstream.write(Buffer.from(frame));
    });
    const fromUpstream = new FrameReader((frame) => {
      const slot = slots.find((s) => s.body === null);
      if (slot === undefined) return;
      slot.body = Buffer.from(frame.subarray(8));
      if (slot.key !== null) this.cache.set(slot.key, slot.body);
      flush();
    });
    client.on('data', (chunk: Buffer) => fromClient.push(chunk));
    upstream.on('data', (chunk: Buffer) => fromUpstream.push(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let records = 10_000_000;
  let rounds = 3;
  let recordBytes = 100;
  let consumers: LoadGenerator[] = [kafkaPerfGenerator];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') {
      records = 2_000_000;
      rounds = 1;
      continue;
    }
    if (argv[i] === '--consumers') {
      const ids = (argv[++i] ?? '').split(',').filter(Boolean);
      consumers = ids.map((id) => KNOWN_CONSUMERS.find((g) => g.id === id) ?? usage(`unknown consumer ${id} (known: ${KNOWN_CONSUMERS.map((g) => g.id).join(', ')})`));
      if (consumers.length === 0) usage('--consumers needs at least one consumer');
      continue;
    }
    const value = Number(argv[i + 1]);
    if (!Number.isInteger(value) || value < 1) usage(`${argv[i]} needs a positive integer`);
    if (argv[i] === '--records') records = value;
    else if (argv[i] === '--rounds') rounds = value;
    else if (argv[i] === '--record-bytes') recordBytes = value;
    else usage(`unknown argument ${argv[i]}`);
    i++;
  }
  const cacheDir = process.env.GODEL_BENCH_CACHE ?? path.join(os.homedir(), '.cache', 'godel-bench');
  const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-ceiling-'));
  const fill: Workload = { name: 'fill', kind: 'produce', recordBytes, partitions: 1, acks: '1', durable: false, records };
  const consume: Workload = { name: 'consume', kind: 'consume', recordBytes, partitions: 1, acks: '1', durable: false, records };
  /** Where each consumer's rates go, by target. */
  const rates = new Map<string, number[]>();
  const targets = ['Apache Kafka', 'Gödel', 'fetches answered from memory'] as const;

  async function withSystem(def: SystemDefinition, dataDir: string, settings: string[], body: (s: RunningSystem, opts: SystemStartOptions) => Promise<void>): Promise<void> {
    const opts: SystemStartOptions = { dataDir, durable: false, cacheDir, log, settings };
    await fs.mkdir(dataDir, { recursive: true });
    const system = await def.start(opts);
    try {
      await body(system, opts);
    } finally {
      await system.stop();
    }
  }

  /** `rounds` runs of every consumer against `system`, interleaved (ABC, CBA, ...). */
  async function measure(target: (typeof targets)[number], system: RunningSystem, opts: SystemStartOptions, after?: () => void): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? consumers : [...consumers].reverse();
      for (const generator of order) {
        const r = await generator.run(system, consume, 'data', opts);
        const key = `${generator.id}|${target}`;
        rates.set(key, [...(rates.get(key) ?? []), r.recordsPerSecond]);
        log(`${target}, ${generator.id}: ${(r.recordsPerSecond / 1e6).toFixed(2)} M records/s`);
        after?.();
      }
    }
  }

  try {
    await withSystem(kafkaSystem, path.join(parent, 'kafka'), [], async (kafka, opts) => {
      await kafka.createTopic('data', 1);
      await kafkaPerfGenerator.run(kafka, fill, 'data', opts);
      await measure('Apache Kafka', kafka, opts);
    });
    const godelDir = path.join(parent, 'godel');
    await withSystem(godelNativeSystem, godelDir, [], async (godel, opts) => {
      await godel.createTopic('data', 1);
      await kafkaPerfGenerator.run(godel, fill, 'data', opts);
      await measure('Gödel', godel, opts);
    });
    // The same log again, with clients told to connect to the proxy.
    const proxyPort = await freePort();
    await withSystem(godelNativeSystem, godelDir, [`advertised.listeners=PLAINTEXT://127.0.0.1:${proxyPort}`], async (godel, opts) => {
      const proxy = new FetchReplayProxy(Number(godel.address.split(':')[1]));
      await proxy.listen(proxyPort);
      const viaProxy: RunningSystem = { ...godel, address: `127.0.0.1:${proxyPort}` };
      try {
        for (const generator of consumers) {
          const r = await generator.run(viaProxy, consume, 'data', opts);
          log(`recording through the proxy, ${generator.id}: ${(r.recordsPerSecond / 1e6).toFixed(2)} M records/s`);
        }
        proxy.mode = 'replay';
        let { hits, misses } = proxy;
        await measure('fetches answered from memory', viaProxy, opts, () => {
          log(`  fetches answered from memory ${proxy.hits - hits}, passed on to the broker ${proxy.misses - misses}`);
          ({ hits, misses } = proxy);
        });
      } finally {
        await proxy.close();
      }
    });
  } finally {
    await fs.rm(parent, { recursive: true, force: true });
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const M = (v: number): string => `${(v / 1e6).toFixed(2)} M`;
  console.log(`\n${records.toLocaleString('en-US')} records of ${recordBytes} B, one partition; records/s, median (min–max) of ${rounds}; ratio over Kafka with the same consumer\n`);
  console.log(`| consumer | ${targets.join(' | ')} |`);
  console.log(`| --- | ${targets.map(() => '---:').join(' | ')} |`);
  for (const generator of consumers) {
    const kafka = median(rates.get(`${generator.id}|Apache Kafka`) ?? [NaN]);
    const cells = targets.map((t) => {
      const values = rates.get(`${generator.id}|${t}`) ?? [NaN];
      const m = median(values);
      const spread = `${M(Math.min(...values))}–${M(Math.max(...values))}`;
      return `${M(m)} (${spread})${t === 'Apache Kafka' ? '' : `, ${(m / kafka).toFixed(2)}x`}`;
    });
    console.log(`| ${generator.id} | ${cells.join(' | ')} |`);
  }
}

await main();
