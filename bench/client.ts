// Client benchmark: Gödel's client against KafkaJS and @platformatic/kafka, against one local Gödel
// broker process, in the same run.
//
//   npm run bench:client                          # full run (a few minutes)
//   npm run bench:client -- --quick               # fewer records, one round
//   npm run bench:client -- --only godel          # clients whose name contains "godel"
//   npm run bench:client -- --records 2000000 --json bench/results/client.json
//
// Every trial runs in a fresh process (this file re-spawned with --child), so no client inherits
// another's JIT state or heap. Trials: one producer sending `records` records with a 100-byte value
// and no key to a fresh single-partition topic (acks=1, no compression, `batch` records per send()
// call, at most `inflight` calls outstanding; Gödel's batchSize is set to hold one call's records
// and lingerMs is 0, so every client sends the same batches); then one consumer reading those
// records back from the beginning through a consumer group, with an eachMessage-style handler that
// counts them and their value bytes (fetch limits equal for all: 1 MiB per partition, 50 MiB per
// request, max wait 500 ms).
// Produce time runs from the first send() (after connecting and a warm-up of `warmup` records) to
// the last acknowledgement; consume time from the first record delivered to the last (group join
// excluded). Rounds alternate the client order (ABBA) and the best round per client is kept; the
// ratio column compares with KafkaJS from the same run. The client's own CPU time (user + system,
// process.cpuUsage) over the same interval gives "records per client CPU second": what each client
// costs, which a loaded machine disturbs less than wall-clock throughput (the broker, on the same
// machine, is not counted).
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../test/helpers/broker.js';
import { Godel } from '../ts/client/index.js';

const CLIENTS = ['godel', 'kafkajs', 'platformatic'] as const;
type ClientName = (typeof CLIENTS)[number];

const VALUE_BYTES = 100;
const PARTITION_FETCH_BYTES = 1024 * 1024;
const FETCH_BYTES = 50 * 1024 * 1024;
const MAX_WAIT_MS = 500;

interface Settings {
  records: number;
  warmup: number;
  batch: number;
  inflight: number;
  rounds: number;
}

const FULL: Settings = { records: 2_000_000, warmup: 200_000, batch: 1000, inflight: 8, rounds: 2 };
const QUICK: Settings = { records: 300_000, warmup: 50_000, batch: 1000, inflight: 8, rounds: 1 };

interface Measurement {
  records: number;
  ms: number;
  perSecond: number;
  /** The client process's CPU time (user + system) over the same interval. */
  cpuMs: number;
  /** Records per second of client CPU: what the client costs, whatever the machine's load. */
  perCpuSecond: number;
}

interface Timed {
  ms: number;
  cpuMs: number;
}

/** Wall and CPU time of `fn`. */
async function timed(fn: () => Promise<void>): Promise<Timed> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Children: one trial each

function message(): Buffer {
  return Buffer.alloc(VALUE_BYTES, 'x');
}

/** Runs `sendOne` with up to `inflight` calls outstanding until `count` records are sent. */
async function pump(count: number, batch: number, inflight: number, sendOne: (n: number) => Promise<unknown>): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  let sent = 0;
  while (sent < count) {
    const n = Math.min(batch, count - sent);
    sent += n;
    const p: Promise<unknown> = sendOne(n).then(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= inflight) await Promise.race(pending);
  }
  await Promise.all(pending);
}

async function produceGodel(brokers: string[], topic: string, s: Settings): Promise<Timed> {
  const value = message();
  const full = Array.from({ length: s.batch }, () => ({ value }));
  const producer = new Godel({ brokers, clientId: 'bench' }).producer({
    acks: 1, lingerMs: 0, batchSize: s.batch * (VALUE_BYTES + 16) + 1024, maxInFlightRequests: s.inflight, allowAutoTopicCreation: false,
  });
  await producer.connect();
  const send = (n: number): Promise<unknown> => producer.send({ topic, messages: n === s.batch ? full : full.slice(0, n) });
  await pump(s.warmup, s.batch, s.inflight, send);
  const t = await timed(() => pump(s.records, s.batch, s.inflight, send));
  await producer.disconnect();
  return t;
}

async function produceKafkajs(brokers: string[], topic: string, s: Settings): Promise<Timed> {
  const { Kafka, logLevel } = await import('kafkajs');
  const value = message();
  const full = Array.from({ length: s.batch }, () => ({ value }));
  const producer = new Kafka({ brokers, clientId: 'bench', logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const send = (n: number): Promise<unknown> => producer.send({ topic, acks: 1, messages: n === s.batch ? full : full.slice(0, n) });
  await pump(s.warmup, s.batch, s.inflight, send);
  const t = await timed(() => pump(s.records, s.batch, s.inflight, send));
  await producer.disconnect();
  return t;
}

async function producePlatformatic(brokers: string[], topic: string, s: Settings): Promise<Timed> {
  const { Producer } = await import('@platformatic/kafka');
  const value = message();
  const full = Array.from({ length: s.batch }, () => ({ topic, value }));
  const producer = new Producer({ clientId: 'bench', bootstrapBrokers: brokers, acks: 1, autocreateTopics: false });
  const send = (n: number): Promise<unknown> => producer.send({ messages: n === s.batch ? full : full.slice(0, n) });
  await pump(s.warmup, s.batch, s.inflight, send);
  const t = await timed(() => pump(s.records, s.batch, s.inflight, send));
  await producer.close();
  return t;
}

/**
 * Resolves with the wall and CPU time from the first record delivered to the `total`-th. Every
 * handler reads the record's value (its length), so no client can skip making it.
 */
function counter(total: number): { onRecord: (value: Buffer | null | undefined) => void; done: Promise<Timed> } {
  let count = 0;
  let bytes = 0;
  let t0 = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  let resolve!: (t: Timed) => void;
  const done = new Promise<Timed>((r) => (resolve = r));
  return {
    onRecord: (value) => {
      bytes += value?.length ?? 0;
      if (count === 0) {
        t0 = performance.now();
        cpu0 = process.cpuUsage();
      }
      if (++count === total) {
        const cpu = process.cpuUsage(cpu0);
        if (bytes !== total * VALUE_BYTES) throw new Error(`read ${bytes} value bytes, expected ${total * VALUE_BYTES}`);
        resolve({ ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
      }
    },
    done,
  };
}

async function consumeGodel(brokers: string[], topic: string, total: number): Promise<Timed> {
  const consumer = new Godel({ brokers, clientId: 'bench' }).consumer({
    groupId: `bench-${topic}`, autoCommit: false, maxBytesPerPartition: PARTITION_FETCH_BYTES, maxBytes: FETCH_BYTES, maxWaitMs: MAX_WAIT_MS,
  });
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const c = counter(total);
  await consumer.run({ eachMessage: ({ message }) => c.onRecord(message.value) });
  const t = await c.done;
  await consumer.disconnect();
  return t;
}

async function consumeKafkajs(brokers: string[], topic: string, total: number): Promise<Timed> {
  const { Kafka, logLevel } = await import('kafkajs');
  const consumer = new Kafka({ brokers, clientId: 'bench', logLevel: logLevel.NOTHING }).consumer({
    groupId: `bench-${topic}`, maxBytesPerPartition: PARTITION_FETCH_BYTES, maxBytes: FETCH_BYTES, maxWaitTimeInMs: MAX_WAIT_MS,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const c = counter(total);
  await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => c.onRecord(message.value) });
  const t = await c.done;
  await consumer.disconnect();
  return t;
}

async function consumePlatformatic(brokers: string[], topic: string, total: number): Promise<Timed> {
  const { Consumer } = await import('@platformatic/kafka');
  const consumer = new Consumer({ clientId: 'bench', bootstrapBrokers: brokers, groupId: `bench-${topic}` });
  const stream = await consumer.consume({
    topics: [topic], mode: 'earliest', autocommit: false,
    maxBytesPerPartition: PARTITION_FETCH_BYTES, maxBytes: FETCH_BYTES, maxWaitTime: MAX_WAIT_MS,
  });
  const c = counter(total);
  stream.on('data', (message: { value: Buffer | null | undefined }) => c.onRecord(message.value));
  const t = await c.done;
  await stream.close();
  await consumer.close(true);
  return t;
}

async function runChild(kind: 'produce' | 'consume', client: ClientName, brokers: string[], topic: string, s: Settings): Promise<void> {
  let t: Timed;
  let records = s.records;
  if (kind === 'produce') {
    t = await (client === 'godel' ? produceGodel : client === 'kafkajs' ? produceKafkajs : producePlatformatic)(brokers, topic, s);
  } else {
    records = s.records + s.warmup;
    t = await (client === 'godel' ? consumeGodel : client === 'kafkajs' ? consumeKafkajs : consumePlatformatic)(brokers, topic, records);
  }
  const m: Measurement = { records, ms: t.ms, perSecond: records / (t.ms / 1000), cpuMs: t.cpuMs, perCpuSecond: records / (t.cpuMs / 1000) };
  process.stdout.write(`${JSON.stringify(m)}\n`);
  // Some clients keep timers alive after close.
  setTimeout(() => process.exit(0), 100).unref();
}

// ---------------------------------------------------------------------------------------------
// The parent

function spawnChild(args: string[]): Promise<Measurement> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, self, '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`trial ${args.join(' ')} exited with ${code ?? signal}`));
      else resolve(JSON.parse(last) as Measurement);
    });
  });
}

function rate(m: Measurement | undefined): string {
  return m === undefined ? 'n/a' : `${Math.round(m.perSecond).toLocaleString('en-US')} records/s`;
}

function cpuRate(m: Measurement | undefined): string {
  return m === undefined ? 'n/a' : `${Math.round(m.perCpuSecond).toLocaleString('en-US')}`;
}

function ratio(m: Measurement | undefined, base: Measurement | undefined): string {
  return m === undefined || base === undefined ? 'n/a' : `${(m.perSecond / base.perSecond).toFixed(2)}x`;
}

function settingsArgs(s: Settings): string[] {
  return [String(s.records), String(s.warmup), String(s.batch), String(s.inflight)];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const childAt = argv.indexOf('--child');
  if (childAt >= 0) {
    const [kind, client, brokers, topic, records, warmup, batch, inflight] = argv.slice(childAt + 1);
    await runChild(kind as 'produce' | 'consume', client as ClientName, brokers!.split(','), topic!, {
      records: Number(records), warmup: Number(warmup), batch: Number(batch), inflight: Number(inflight), rounds: 1,
    });
    return;
  }
  const quick = argv.includes('--quick');
  const settings: Settings = { ...(quick ? QUICK : FULL) };
  const number = (flag: string): number | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? Number(argv[at + 1]) : undefined;
  };
  settings.records = number('--records') ?? settings.records;
  settings.batch = number('--batch') ?? settings.batch;
  settings.rounds = number('--rounds') ?? settings.rounds;
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1]!.toLowerCase() : undefined;
  const jsonAt = argv.indexOf('--json');
  const jsonPath = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
  const clients = CLIENTS.filter((c) => only === undefined || c.includes(only));

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`godel client benchmark${quick ? ' (--quick)' : ''}: node ${process.version}, ${os.cpus().length} x ${cpu}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`${settings.records} records of ${VALUE_BYTES} bytes (+${settings.warmup} warm-up), ${settings.batch} per send(), ${settings.inflight} in flight, acks=1, no compression`);
  const broker = await startBroker({ set: { 'group.initial.rebalance.delay.ms': '0' } });
  const started = performance.now();
  const best: Record<string, { produce?: Measurement; consume?: Measurement }> = {};
  const samples: Array<{ client: ClientName; round: number; produce: Measurement; consume: Measurement }> = [];
  try {
    const admin = new Godel({ brokers: [broker.address] }).admin();
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? clients : [...clients].reverse();
      for (const client of order) {
        const topic = `bench-${client}-${round}`;
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
        const args = [client, broker.address, topic, ...settingsArgs(settings)];
        const produce = await spawnChild(['produce', ...args]);
        console.log(`  round ${round + 1} ${client} produce: ${rate(produce)} (${cpuRate(produce)} per client CPU second)`);
        const consume = await spawnChild(['consume', ...args]);
        console.log(`  round ${round + 1} ${client} consume: ${rate(consume)} (${cpuRate(consume)} per client CPU second), load ${os.loadavg()[0]!.toFixed(1)}`);
        samples.push({ client, round, produce, consume });
        const b = (best[client] ??= {});
        if (b.produce === undefined || produce.perSecond > b.produce.perSecond) b.produce = produce;
        if (b.consume === undefined || consume.perSecond > b.consume.perSecond) b.consume = consume;
        await admin.deleteTopics({ topics: [topic] });
      }
    }
    await admin.disconnect();
  } finally {
    await broker.stop();
  }
  const base = best.kafkajs;
  const cpuBest = (c: ClientName, kind: 'produce' | 'consume'): Measurement | undefined =>
    samples.filter((x) => x.client === c).map((x) => x[kind]).sort((a, b) => b.perCpuSecond - a.perCpuSecond)[0];
  const lines = [
    '| client | produce | vs KafkaJS | produce per client CPU s | consume | vs KafkaJS | consume per client CPU s |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...clients.map((c) => `| ${c} | ${rate(best[c]?.produce)} | ${ratio(best[c]?.produce, base?.produce)} | ${cpuRate(cpuBest(c, 'produce'))} `
      + `| ${rate(best[c]?.consume)} | ${ratio(best[c]?.consume, base?.consume)} | ${cpuRate(cpuBest(c, 'consume'))} |`),
  ];
  console.log(`\n${lines.join('\n')}\n`);
  console.log(`(${settings.rounds} round(s), best shown, each trial in a fresh process, in ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  if (jsonPath !== undefined) {
    await fs.mkdir(path.dirname(jsonPath), { recursive: true });
    await fs.writeFile(jsonPath, JSON.stringify({ node: process.version, cpu, settings, samples }, null, 2));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
