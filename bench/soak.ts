// Soak test for the target "broker RSS under full load at most 300 MB and flat over a 10-minute
// run". One broker (compiled as the benchmark suite runs it, bench/suite/systems/godel.ts, in a
// fresh temp data dir) under full load: one producer process (1,000 records per send(), 8 in
// flight) and one consumer-group process reading from the beginning (bench/soak-child.ts), on one
// topic with one partition. Every second the broker's VmRSS and CPU time are read from /proc; one
// line per minute, a summary and a verdict at the end. The verdict is printed, not the exit code:
// 0 when the run completed, 1 on an error (the broker or a load process died), 130 on Ctrl-C.
//
//   npm run bench:soak -- [--minutes 10] [--rate-mbps 0] [--engine native|ts] [--record-bytes 1024]
//                         [--retention-bytes 2147483648] [--out samples.json]
//
// --rate-mbps is MB/s (10^6 bytes) of record values, 0 = as fast as possible. The topic has
// retention.bytes = --retention-bytes and segment.bytes = 256 MiB, and the broker checks retention
// every 30 s instead of Kafka's 5 minutes: the disk stays bounded, and retention's deletions happen
// within the run, so their effect on memory is part of what is measured.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Godel } from '../ts/client/index.js';
import type { ChildArgs, Done, Progress } from './soak-child.js';
import { cpuSeconds, memoryStatus } from './suite/process-stats.js';
import { apiVersionsOk } from './suite/systems/kafka-protocol.js';
import { compileBroker, REPO_ROOT } from './suite/systems/godel.js';
import { ServerProcess } from './suite/systems/server-process.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'soak-child.ts');
const ADDON = path.join(REPO_ROOT, 'build', 'Release', 'godel_native.node');
const MIB = 1024 * 1024;
const SEGMENT_BYTES = 256 * MIB;
const RETENTION_CHECK_MS = 30_000;
const RSS_TARGET_MIB = 300;
/**
 * Flat: after the warm-up (read-buffer pool and tail cache filling, the JS heap growing to its
 * headroom, JIT), every minute's median RSS within FLAT_RATIO of the median of all later samples,
 * and their least-squares slope below FLAT_SLOPE — a leak shows as a trend, a cache as a step.
 */
const WARMUP_MINUTES = 3;
const FLAT_RATIO = 0.1;
const FLAT_SLOPE_MIB_PER_MIN = 1;
const START_DEADLINE_MS = 60_000;
const TOPIC_DEADLINE_MS = 30_000;
/** After the run: the producer's last sends are acked, and the consumer reads up to the end. */
const PRODUCER_STOP_DEADLINE_MS = 60_000;
const CATCH_UP_DEADLINE_MS = 60_000;
const CONSUMER_STOP_DEADLINE_MS = 30_000;

interface Options {
  minutes: number;
  rateMBps: number;
  engine: 'native' | 'ts';
  recordBytes: number;
  retentionBytes: number;
  out: string | undefined;
}

interface Sample {
  /** Seconds since the load processes were started. */
  t: number;
  rssMiB: number;
  /** The broker's user + system CPU seconds since it started. */
  cpuSeconds: number;
  /** Records acked to the producer / delivered to the consumer so far (their last progress line). */
  produced: number;
  consumed: number;
}

interface MinuteStats {
  minute: number;
  rssMinMiB: number;
  rssMaxMiB: number;
  rssLastMiB: number;
  rssMedianMiB: number;
  produced: number;
  consumed: number;
  cpuPercent: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      'rate-mbps': { type: 'string', default: '0' },
      engine: { type: 'string', default: 'native' },
      'record-bytes': { type: 'string', default: '1024' },
      'retention-bytes': { type: 'string', default: String(2 * 1024 * MIB) },
      out: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const int = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
    return n;
  };
  const rateMBps = Number(values['rate-mbps']);
  if (!Number.isFinite(rateMBps) || rateMBps < 0) throw new Error(`--rate-mbps must be a number ≥ 0, got ${JSON.stringify(values['rate-mbps'])}`);
  const engine = values.engine;
  if (engine !== 'native' && engine !== 'ts') throw new Error(`--engine must be native or ts, got ${JSON.stringify(engine)}`);
  return {
    minutes: int('minutes', values.minutes, 1),
    rateMBps,
    engine,
    recordBytes: int('record-bytes', values['record-bytes'], 1),
    retentionBytes: int('retention-bytes', values['retention-bytes'], 1),
    out: values.out,
  };
}

/** A load process (bench/soak-child.ts): its latest progress line, its final line, its exit. */
class LoadProcess {
  progress: Progress = { progress: 0, offset: '-1' };
  done: Done | undefined;
  private stderrTail = '';
  private readonly listeners = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(readonly role: 'producer' | 'consumer', args: ChildArgs) {
    // stdin is a pipe the child watches: if this process dies, the child sees it close and stops.
    this.child = spawn(process.execPath, ['--import', 'tsx', CHILD, role, JSON.stringify(args)], {
      cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.on('error', () => undefined);
    this.child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      resolve({ code, signal });
      this.notify();
    }));
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        try {
          const msg = JSON.parse(line) as Progress | Done;
          if ('done' in msg) this.done = msg;
          else this.progress = msg;
        } catch {
          // Only JSON is written to stdout; anything else is not ours to interpret.
        }
        this.notify();
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderrTail = (this.stderrTail + s).slice(-4000)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The failure, once the process has exited without a clean finish (exit 0 after its final line). */
  async failure(): Promise<Error> {
    const { code, signal } = await this.exited;
    if (code === 0 && this.done !== undefined) return new Promise<never>(() => undefined);
    return new Error(`the ${this.role} exited with ${code ?? signal}${this.done === undefined ? ' before its final line' : ''}:\n${this.stderrTail.trim()}`);
  }

  /** Resolves once `condition` holds (checked on every line and at exit); false at the deadline. */
  until(condition: () => boolean, deadlineMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), deadlineMs);
      const check = (): void => {
        if (condition()) finish(true);
      };
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(ok);
      };
      this.listeners.add(check);
    });
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }

  /** SIGTERM, then SIGKILL if it has not exited within `deadlineMs`. */
  async terminate(deadlineMs = 10_000): Promise<void> {
    this.stop();
    const exited = await this.until(() => this.child.exitCode !== null || this.child.signalCode !== null, deadlineMs);
    if (!exited) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  killNow(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Least-squares slope of y over x; NaN with fewer than two distinct x. */
function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const mib = (n: number): string => n.toFixed(1);

function minuteStats(minute: number, samples: readonly Sample[], before: Sample): MinuteStats {
  const rss = samples.map((s) => s.rssMiB);
  const last = samples[samples.length - 1]!;
  return {
    minute,
    rssMinMiB: Math.min(...rss),
    rssMaxMiB: Math.max(...rss),
    rssLastMiB: last.rssMiB,
    rssMedianMiB: median(rss),
    produced: last.produced - before.produced,
    consumed: last.consumed - before.consumed,
    cpuPercent: ((last.cpuSeconds - before.cpuSeconds) / (last.t - before.t)) * 100,
  };
}

async function main(): Promise<number> {
  const opts = parseOptions();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'godel-soak-'));
  let broker: ServerProcess | undefined;
  const loads: LoadProcess[] = [];
  let interrupted = false;

  // Everything this run started goes away on every path out: normal end, error, Ctrl-C.
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => (cleaning ??= (async () => {
    await Promise.all(loads.map((l) => l.terminate()));
    await broker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  })());
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true;
    console.error(`\n${signal}: stopping the load, the broker, and removing ${dataDir}`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Last resort if this process exits some other way (ServerProcess does the same for the broker).
  process.once('exit', () => loads.forEach((l) => l.killNow()));

  try {
    const mainModule = await compileBroker((line) => console.log(line));
    const launcher = `import(${JSON.stringify(`file://${mainModule}`)}).then((m) => m.main(process.argv))`;
    broker = ServerProcess.spawn('godel', process.execPath, [
      '--input-type=module', '-e', launcher, 'godel', 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir,
      '--log-level', 'info', '--set', `log.retention.check.interval.ms=${RETENTION_CHECK_MS}`,
    ], { cwd: REPO_ROOT, env: { ...process.env, GODEL_ENGINE: opts.engine, GODEL_NATIVE_PATH: ADDON } });
    let address = '';
    let engineName = '?';
    broker.onLine((line) => {
      if (address !== '' || !line.includes('"broker started"')) return;
      try {
        const started = JSON.parse(line) as { listen?: unknown; engine?: unknown };
        if (typeof started.listen === 'string') address = started.listen;
        if (typeof started.engine === 'string') engineName = started.engine;
      } catch {
        // not a log line
      }
    });
    const server = broker;
    await server.waitReady(async () => address !== '' && apiVersionsOk(address), START_DEADLINE_MS, 'the broker');
    const brokerPid = server.pid;

    const topic = `soak-${Date.now()}`;
    const admin = new Godel({ brokers: [address], clientId: 'godel-soak-admin' }).admin();
    try {
      await admin.createTopics({
        topics: [{
          topic, numPartitions: 1, replicationFactor: 1,
          configEntries: { 'retention.bytes': String(opts.retentionBytes), 'segment.bytes': String(SEGMENT_BYTES) },
        }],
        timeoutMs: TOPIC_DEADLINE_MS,
      });
    } finally {
      await admin.disconnect();
    }

    const runMs = opts.minutes * 60_000;
    const t0 = Date.now();
    const childArgs: ChildArgs = { address, topic, recordBytes: opts.recordBytes, rateMBps: opts.rateMBps, untilMs: t0 + runMs };
    const producer = new LoadProcess('producer', childArgs);
    const consumer = new LoadProcess('consumer', childArgs);
    loads.push(producer, consumer);

    // Rejects as soon as the broker or a load process dies; every wait below races against it.
    const failed = Promise.race([
      server.exited.then(({ code, signal }) => new Error(`the broker exited with ${code ?? signal}:\n${server.tail()}`)),
      producer.failure(),
      consumer.failure(),
    ]).then((err) => Promise.reject(err));
    failed.catch(() => undefined);
    const orFail = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failed]);

    console.log(`soak: ${opts.minutes} min, engine ${engineName} (GODEL_ENGINE=${opts.engine}), ${opts.recordBytes} B records, `
      + `rate ${opts.rateMBps > 0 ? `${opts.rateMBps} MB/s` : 'as fast as possible'}, retention.bytes ${fmt(opts.retentionBytes)}, `
      + `broker pid ${brokerPid} at ${address}, data in ${dataDir}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    const sample = async (): Promise<Sample> => {
      const [mem, cpu] = await Promise.all([memoryStatus(brokerPid), cpuSeconds(brokerPid)]);
      return {
        t: (Date.now() - t0) / 1000, rssMiB: mem.rssBytes / MIB, cpuSeconds: cpu,
        produced: producer.progress.progress, consumed: consumer.progress.progress,
      };
    };
    const first = await sample();
    const samples: Sample[] = [];
    const minutes: MinuteStats[] = [];
    let minuteStart = first;
    const totalSeconds = opts.minutes * 60;
    for (let k = 1; k <= totalSeconds; k++) {
      // On a schedule from t0, so a slow sample does not shift the later ones.
      const wait = t0 + k * 1000 - Date.now();
      if (wait > 0) await orFail(new Promise((r) => setTimeout(r, wait)));
      samples.push(await sample());
      if (k % 60 === 0) {
        const m = minuteStats(k / 60, samples.slice(k - 60, k), minuteStart);
        minutes.push(m);
        minuteStart = samples[k - 1]!;
        console.log(`minute ${String(m.minute).padStart(2)}: RSS min ${mib(m.rssMinMiB)} / max ${mib(m.rssMaxMiB)} / last ${mib(m.rssLastMiB)} MiB; `
          + `produced ${fmt(m.produced)} (${fmt(m.produced / 60)}/s), consumed ${fmt(m.consumed)} (${fmt(m.consumed / 60)}/s); broker CPU ${m.cpuPercent.toFixed(0)}%`);
      }
    }
    const hwmMiB = (await memoryStatus(brokerPid)).hwmBytes / MIB;

    // The producer stops at its deadline by itself; its last sends are awaited before its final line.
    producer.stop();
    if (!await orFail(producer.until(() => producer.done !== undefined, PRODUCER_STOP_DEADLINE_MS))) {
      throw new Error(`the producer did not finish within ${PRODUCER_STOP_DEADLINE_MS} ms of the end`);
    }
    const produced = producer.done!;
    const endOffset = BigInt(produced.offset);
    const caughtUp = await orFail(consumer.until(() => BigInt(consumer.progress.offset) >= endOffset, CATCH_UP_DEADLINE_MS));
    consumer.stop();
    if (!await orFail(consumer.until(() => consumer.done !== undefined, CONSUMER_STOP_DEADLINE_MS))) {
      throw new Error(`the consumer did not finish within ${CONSUMER_STOP_DEADLINE_MS} ms of being stopped`);
    }
    const consumed = consumer.done!;
    await Promise.all([producer.exited, consumer.exited]);

    const sampledPeak = Math.max(...samples.map((s) => s.rssMiB));
    const peak = Math.max(sampledPeak, hwmMiB);
    const m1 = minutes[0]!.rssMedianMiB;
    const mLast = minutes[minutes.length - 1]!.rssMedianMiB;
    // By index, not by time: sample 60 is taken a few ms after t = 60 s and belongs to minute 1.
    const afterMinute1 = samples.slice(60).map((s) => [s.t / 60, s.rssMiB] as const);
    const rssSlope = slope(afterMinute1);
    const lag = endOffset - BigInt(consumed.offset);
    // One partition, no transactions: offsets are dense from 0, so the end offset is the number of
    // records written. A consumer that reached the end with fewer records read fell more than
    // retention.bytes behind, and retention deleted segments it had not read (it resumed at the
    // new log start).
    const unread = Number(endOffset) - consumed.records;
    // By index, as above: the samples of the minutes after the warm-up.
    const steady = samples.slice(WARMUP_MINUTES * 60);
    const steadyMedian = median(steady.map((s) => s.rssMiB));
    const steadySlope = slope(steady.map((s) => [s.t / 60, s.rssMiB] as const));
    const steadyMinutes = minutes.slice(WARMUP_MINUTES);
    const withinRatio = steadyMinutes.every((m) => Math.abs(m.rssMedianMiB - steadyMedian) <= FLAT_RATIO * steadyMedian);
    const flat = Number.isNaN(steadySlope) || steadyMinutes.length < 2
      ? `n/a (run at least ${WARMUP_MINUTES + 2} minutes: ${WARMUP_MINUTES} of warm-up, then the measure)`
      : withinRatio && steadySlope < FLAT_SLOPE_MIB_PER_MIN ? 'yes' : 'no';

    console.log('summary:');
    console.log(`  peak RSS ${mib(peak)} MiB (sampled every second: ${mib(sampledPeak)} MiB; VmHWM, start-up included: ${mib(hwmMiB)} MiB)`);
    console.log(`  median RSS minute 1 ${mib(m1)} MiB, minute ${minutes.length} ${mib(mLast)} MiB (${((mLast / m1 - 1) * 100).toFixed(1)}%)`);
    console.log(`  RSS slope after minute 1: ${Number.isNaN(rssSlope) ? 'n/a' : `${rssSlope.toFixed(2)} MiB/min`} (least squares over ${afterMinute1.length} samples)`);
    console.log(`  after the ${WARMUP_MINUTES}-minute warm-up: median ${mib(steadyMedian)} MiB, minute medians ${steadyMinutes.map((m) => mib(m.rssMedianMiB)).join(' / ')} MiB, `
      + `slope ${Number.isNaN(steadySlope) ? 'n/a' : `${steadySlope.toFixed(2)} MiB/min`}`);
    console.log(`  produced ${fmt(produced.records)} records (${fmt(produced.recordsPerSecond)}/s, ${(produced.recordsPerSecond * opts.recordBytes / 1e6).toFixed(1)} MB/s); `
      + `consumed ${fmt(consumed.records)} (${fmt(consumed.recordsPerSecond)}/s); `
      + `consumer ${caughtUp ? 'caught up with the end of the log' : `${fmt(Number(lag))} records behind after ${CATCH_UP_DEADLINE_MS / 1000} s`}`
      + `${caughtUp && unread > 0 ? ` (${fmt(unread)} records never read: deleted by retention while the consumer lagged)` : ''}`);
    console.log(`  broker CPU ${((samples[samples.length - 1]!.cpuSeconds - first.cpuSeconds) / (samples[samples.length - 1]!.t - first.t) * 100).toFixed(0)}% over the run (100% = one core)`);
    console.log(`verdict: RSS ≤ ${RSS_TARGET_MIB} MiB: ${peak <= RSS_TARGET_MIB ? 'yes' : 'no'}; flat after the warm-up (every minute's median within `
      + `${FLAT_RATIO * 100}% of the steady median, slope < ${FLAT_SLOPE_MIB_PER_MIN} MiB/min): ${flat}`);

    if (opts.out !== undefined) {
      const report = {
        options: opts, engine: engineName, brokerPid, startedAt: new Date(t0).toISOString(),
        summary: { peakRssMiB: peak, sampledPeakRssMiB: sampledPeak, hwmMiB, minute1MedianMiB: m1, lastMinuteMedianMiB: mLast, slopeMiBPerMin: rssSlope, steadyMedianMiB: steadyMedian, steadySlopeMiBPerMin: steadySlope, flat, produced, consumed, caughtUp, unread },
        minutes, samples,
      };
      fs.writeFileSync(opts.out, `${JSON.stringify(report, null, 1)}\n`);
      console.log(`samples written to ${opts.out}`);
    }
    await cleanup();
    return 0;
  } catch (err) {
    // After Ctrl-C the broker and load processes see the signal too; their exits are not the error.
    if (interrupted) return new Promise<never>(() => undefined);
    console.error(`soak failed: ${err instanceof Error ? err.message : String(err)}`);
    await cleanup();
    return 1;
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
