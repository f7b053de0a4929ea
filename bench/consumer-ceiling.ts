// How fast can Kafka's ConsumerPerformance consume on this machine when the broker costs nothing?
// The issue's consume target (≥ 1.5x Apache Kafka with Kafka's perf tool) assumes the broker is what
// limits the tool. This measures the tool's ceiling: a proxy in front of Gödel records every Fetch
// response of one ConsumerPerformance run, then answers the same fetches of later runs from memory
// (one write per response: no disk, no index, no CRC check, no thread pool), while every other
// request goes on to Gödel. In the same run: Apache Kafka and Gödel, each consumed directly.
//
//   node --import tsx bench/consumer-ceiling.ts [--records N] [--rounds R] [--record-bytes B]
//
// Needs what the suite needs (bash scripts/install-bench-deps.sh; Kafka's jars in the cache).
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { exec, freePort } from './suite/exec.js';
import { consumerPerformanceArgs, kafkaPerfGenerator, parseConsumerPerformance } from './suite/generators/kafka-perf.js';
import { kafkaDist } from './suite/kafka-dist.js';
import { godelNativeSystem } from './suite/systems/godel.js';
import { kafkaSystem } from './suite/systems/kafka.js';
import type { RunningSystem, SystemDefinition, SystemStartOptions, Workload } from './suite/types.js';

const FETCH = 1;
/** Fetch requests use flexible headers (with tagged fields) from version 12. */
const FETCH_FLEXIBLE_FROM = 12;

function usage(message: string): never {
  console.error(`consumer-ceiling: ${message}\nusage: node --import tsx bench/consumer-ceiling.ts [--records N] [--rounds R] [--record-bytes B]`);
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

function readUnsignedVarint(buf: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[at++]!;
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [value, at];
    shift += 7;
  }
}

/** A Fetch request's body (after the request header): the same fetch in every run has the same key. */
function fetchKey(frame: Buffer): string {
  const version = frame.readInt16BE(6);
  const clientIdLength = frame.readInt16BE(12);
  let at = 14 + Math.max(clientIdLength, 0);
  if (version >= FETCH_FLEXIBLE_FROM) {
    let tags: number;
    [tags, at] = readUnsignedVarint(frame, at);
    for (let i = 0; i < tags; i++) {
      let size: number;
      [, at] = readUnsignedVarint(frame, at);
      [size, at] = readUnsignedVarint(frame, at);
      at += size;
    }
  }
  return `${version}:${frame.subarray(at).toString('base64')}`;
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

interface Run {
  records: number;
  seconds: number;
  consumerCpuSeconds: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let records = 10_000_000;
  let rounds = 3;
  let recordBytes = 100;
  for (let i = 0; i < argv.length; i++) {
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
  const dist = await kafkaDist(cacheDir, log);
  const java = ['-Xmx512M', '-cp', dist.classpath, ...dist.jvmOptions];
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-ceiling-'));
  const fill: Workload = { name: 'fill', kind: 'produce', recordBytes, partitions: 1, acks: '1', durable: false, records };
  let groups = 0;

  /** One ConsumerPerformance run from the beginning of `topic`, with the tool's CPU seconds. */
  async function consume(address: string): Promise<Run> {
    const r = await exec('/usr/bin/time', ['-f', 'cpu %U %S', 'java', ...java, ...consumerPerformanceArgs(address, 'data', records, `ceiling-${++groups}`)], { timeoutMs: 600_000 });
    const { records: read, fetchMs } = parseConsumerPerformance(r);
    if (read < records) throw new Error(`ConsumerPerformance read ${read} of ${records} records`);
    const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
    return { records: read, seconds: fetchMs / 1000, consumerCpuSeconds: cpu === null ? NaN : Number(cpu[1]) + Number(cpu[2]) };
  }

  async function withSystem<T>(def: SystemDefinition, dataDir: string, settings: string[], body: (s: RunningSystem, opts: SystemStartOptions) => Promise<T>): Promise<T> {
    const opts: SystemStartOptions = { dataDir, durable: false, cacheDir, log, settings };
    await fs.mkdir(dataDir, { recursive: true });
    const system = await def.start(opts);
    try {
      return await body(system, opts);
    } finally {
      await system.stop();
    }
  }

  const results: Record<string, Run[]> = { kafka: [], godel: [], ceiling: [] };
  const show = (label: string, run: Run): void =>
    log(`${label}: ${(run.records / run.seconds / 1e6).toFixed(2)} M records/s (${run.seconds.toFixed(2)} s), tool CPU ${run.consumerCpuSeconds.toFixed(1)} s`);
  try {
    await withSystem(kafkaSystem, path.join(parent, 'kafka'), [], async (kafka, opts) => {
      await kafka.createTopic('data', 1);
      await kafkaPerfGenerator.run(kafka, fill, 'data', opts);
      for (let i = 0; i < rounds; i++) show('kafka', (results.kafka![i] = await consume(kafka.address)));
    });
    const godelDir = path.join(parent, 'godel');
    await withSystem(godelNativeSystem, godelDir, [], async (godel, opts) => {
      await godel.createTopic('data', 1);
      await kafkaPerfGenerator.run(godel, fill, 'data', opts);
      for (let i = 0; i < rounds; i++) show('godel', (results.godel![i] = await consume(godel.address)));
    });
    // The same log again, with clients told to connect to the proxy.
    const proxyPort = await freePort();
    await withSystem(godelNativeSystem, godelDir, [`advertised.listeners=PLAINTEXT://127.0.0.1:${proxyPort}`], async (godel) => {
      const proxy = new FetchReplayProxy(Number(godel.address.split(':')[1]));
      await proxy.listen(proxyPort);
      try {
        show('through the proxy, recording', await consume(`127.0.0.1:${proxyPort}`));
        proxy.mode = 'replay';
        for (let i = 0; i < rounds; i++) {
          const hits = proxy.hits;
          const misses = proxy.misses;
          show('fetches answered from memory', (results.ceiling![i] = await consume(`127.0.0.1:${proxyPort}`)));
          log(`  fetches answered from memory ${proxy.hits - hits}, passed to the broker ${proxy.misses - misses}`);
        }
      } finally {
        await proxy.close();
      }
    });
  } finally {
    await fs.rm(parent, { recursive: true, force: true });
  }
  const median = (runs: Run[]): number => {
    const rates = runs.map((r) => r.records / r.seconds).sort((a, b) => a - b);
    return rates[Math.floor(rates.length / 2)]!;
  };
  const kafka = median(results.kafka!);
  console.log(`\n| consumed by ConsumerPerformance, ${records.toLocaleString('en-US')} records of ${recordBytes} B | median records/s | runs | vs Kafka |`);
  console.log('| --- | ---: | --- | ---: |');
  for (const [label, key] of [['Apache Kafka', 'kafka'], ['Gödel', 'godel'], ['fetches answered from memory (ceiling)', 'ceiling']] as const) {
    const runs = results[key]!;
    const m = median(runs);
    console.log(`| ${label} | ${Math.round(m).toLocaleString('en-US')} | ${runs.map((r) => `${(r.records / r.seconds / 1e6).toFixed(2)} M`).join(', ')} | ${(m / kafka).toFixed(2)}x |`);
  }
}

await main();
