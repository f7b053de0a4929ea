// End-to-end latency at a fixed offered load for the peers (NATS JetStream, Redis Streams), shared
// by generators/nats.ts and generators/redis.ts. Two child processes per measurement, so the
// publisher's pacing and the subscriber's reading do not share one event loop:
//   - the subscriber (started first) attaches after the stream's current end, prints {"ready":true},
//     records now − stamp for every record into a log-linear histogram, and exits once it has seen
//     the count the parent writes to its stdin (the publisher's total) or after a drain deadline;
//   - the publisher sends records of recordBytes whose first 8 bytes are process.hrtime.bigint() at
//     send, in 1 ms slices at the offered rate, with at most a bounded number unacknowledged; when
//     the system cannot keep up it falls behind (achieved rate < offered, reported) rather than
//     queueing without limit in the client.
// The first WARMUP_SECONDS of stamps (from the first record the subscriber sees) are received but
// not measured — connection set-up, JIT warm-up —, and the publisher sends that much longer.
// hrtime is CLOCK_MONOTONIC, one clock for every process on the machine.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LatencyPercentiles, LoadResult, Workload } from '../types.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const STAMP_BYTES = 8;
/** The stamp: hrtime nanoseconds in the machine's byte order, copied in and out through these. */
const stampScratch = new BigUint64Array(1);
const stampScratchBytes = new Uint8Array(stampScratch.buffer);
/** Records stamped in the first seconds of a run are counted but not measured. */
export const WARMUP_SECONDS = 2;
const WARMUP_NS = BigInt(WARMUP_SECONDS * 1e9);
/** After the publisher is done, how long the subscriber may take to see the rest. */
export const DRAIN_DEADLINE_MS = 60_000;
const CHILD_DEADLINE_SLACK_MS = 120_000;

// ---- histogram ---------------------------------------------------------------------------------

/**
 * Values below 64 µs have a bucket each; above, each power of two [2^k, 2^(k+1)) is split into 32
 * equal buckets (relative error under 1/32). Values are clamped at 2^31 µs (35 minutes).
 */
const LINEAR_BUCKETS = 64;
const HALF = LINEAR_BUCKETS / 2;
const MAX_SHIFT = 31 - 5;
const MAX_MICROS = 0x7fffffff;

/** A log-linear histogram of microsecond values: fixed memory, one array increment per record. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(LINEAR_BUCKETS + MAX_SHIFT * HALF);
  count = 0;
  /** Every stamped record seen, the warm-up's included. */
  received = 0;
  private measureFromNs = -1n;

  /** One stamped record read at nowNs: measured unless it was sent in the warm-up. */
  record(payload: Uint8Array, nowNs: bigint): void {
    for (let i = 0; i < STAMP_BYTES; i++) stampScratchBytes[i] = payload[i]!;
    const stamp = stampScratch[0]!;
    if (this.received++ === 0) this.measureFromNs = stamp + WARMUP_NS;
    if (stamp >= this.measureFromNs) this.recordMicros(Number(nowNs - stamp) / 1000);
  }

  recordMicros(value: number): void {
    const v = Math.min(MAX_MICROS, Math.max(0, Math.floor(value)));
    let index = v;
    if (v >= LINEAR_BUCKETS) {
      // v >> shift lands in [32, 64): the bucket within its power of two.
      const shift = 31 - Math.clz32(v) - 5;
      index = LINEAR_BUCKETS + (shift - 1) * HALF + ((v >>> shift) - HALF);
    }
    this.counts[index]! += 1;
    this.count += 1;
  }

  /** The upper edge of the bucket holding the q-quantile, in microseconds. */
  quantileMicros(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return bucketUpperMicros(i);
    }
    return MAX_MICROS;
  }

  percentiles(): LatencyPercentiles {
    return {
      p50Ms: this.quantileMicros(0.5) / 1000,
      p99Ms: this.quantileMicros(0.99) / 1000,
      p999Ms: this.quantileMicros(0.999) / 1000,
    };
  }
}

function bucketUpperMicros(index: number): number {
  if (index < LINEAR_BUCKETS) return index;
  const shift = Math.floor((index - LINEAR_BUCKETS) / HALF) + 1;
  const sub = (index - LINEAR_BUCKETS) % HALF + HALF;
  return (sub + 1) * 2 ** shift - 1;
}

// ---- the publisher's pacing ----------------------------------------------------------------------

/** A peer client's way to send: fire and count acknowledgements, no promise per record. */
export interface Sender {
  send(payload: Buffer): void;
  readonly inFlight: number;
  readonly failure: Error | undefined;
  /** true when send() copies the payload at once, so one buffer can serve every record. */
  readonly copiesPayload?: boolean;
}

export interface PaceOptions {
  recordBytes: number;
  rateMBps: number;
  durationSeconds: number;
  /** At most this many sends unacknowledged. */
  maxInFlight: number;
  sender: Sender;
}

export interface PaceResult {
  sent: number;
  seconds: number;
}

/** Sends at the offered rate for the duration, in 1 ms slices; each payload stamped at send. */
export async function pace(opts: PaceOptions): Promise<PaceResult> {
  const { sender } = opts;
  const recordsPerSecond = (opts.rateMBps * 1e6) / opts.recordBytes;
  const total = Math.floor(recordsPerSecond * opts.durationSeconds);
  const t0 = process.hrtime.bigint();
  let sent = 0;
  const shared = sender.copiesPayload === true ? Buffer.alloc(opts.recordBytes, 0x78) : undefined;
  while (sent < total && sender.failure === undefined) {
    const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
    if (elapsedS >= opts.durationSeconds) break;
    const due = Math.min(total, Math.floor(elapsedS * recordsPerSecond));
    while (sent < due && sender.inFlight < opts.maxInFlight) {
      // A fresh buffer each unless the sender copies: clients may keep the payload until written.
      const payload = shared ?? Buffer.alloc(opts.recordBytes, 0x78);
      stampScratch[0] = process.hrtime.bigint();
      payload.set(stampScratchBytes, 0);
      sent++;
      sender.send(payload);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // The rate achieved is over the sending window; waiting for the last acks is not sending.
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const deadline = Date.now() + DRAIN_DEADLINE_MS;
  while (sender.inFlight > 0 && sender.failure === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  if (sender.failure !== undefined) throw sender.failure;
  if (sender.inFlight > 0) throw new Error(`${sender.inFlight} sends unacknowledged ${DRAIN_DEADLINE_MS} ms after the last`);
  return { sent, seconds };
}

// ---- the child processes' protocol ---------------------------------------------------------------

/** A child prints JSON lines: {"ready":true} (subscriber), then one {"result":…}. */
export interface SubscriberResult {
  received: number;
  percentiles: LatencyPercentiles;
}

/** In the subscriber: the expected total, once the parent writes it to stdin. */
export function expectedTotal(): Promise<number> {
  return new Promise((resolve) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(Number(text.slice(0, nl)));
    });
  });
}

export function emit(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

interface Child {
  ready: Promise<void>;
  result: Promise<unknown>;
  tell(line: string): void;
  kill(): void;
}

function startChild(script: string, args: readonly string[], deadlineMs: number): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let partial = '';
  let onReady: () => void = () => undefined;
  let onResult: (value: unknown) => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<unknown>((resolve, reject) => {
    onResult = resolve;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(script)} ${args[0]} did not finish within ${deadlineMs} ms\n${stderr.slice(-1500)}`));
    }, deadlineMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(script)} ${args[0]} exited (${code}) without a result\n${stderr.slice(-1500)}`));
    });
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-20_000)));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      const message = JSON.parse(line) as { ready?: boolean; result?: unknown };
      if (message.ready) onReady();
      if (message.result !== undefined) onResult(message.result);
    }
  });
  return {
    ready: Promise.race([ready, result.then(() => undefined)]),
    result,
    tell: (line) => child.stdin.write(`${line}\n`),
    kill: () => child.kill('SIGKILL'),
  };
}

/**
 * Runs one latency measurement: `script` is the peer's child program, called as
 * `<script> sub|pub <address> <stream> <recordBytes> <rateMBps> <durationSeconds>`.
 */
export async function runLatency(script: string, address: string, stream: string, workload: Workload): Promise<LoadResult> {
  const rateMBps = workload.rateMBps ?? 10;
  const durationSeconds = workload.durationSeconds ?? 10;
  const args = [address, stream, String(workload.recordBytes), String(rateMBps), String(durationSeconds + WARMUP_SECONDS)];
  const deadlineMs = (durationSeconds + WARMUP_SECONDS) * 1000 + DRAIN_DEADLINE_MS + CHILD_DEADLINE_SLACK_MS;
  const sub = startChild(script, ['sub', ...args], deadlineMs);
  try {
    await sub.ready;
    const pub = startChild(script, ['pub', ...args], deadlineMs);
    let published: PaceResult;
    try {
      published = (await pub.result) as PaceResult;
    } finally {
      pub.kill();
    }
    sub.tell(String(published.sent));
    const seen = (await sub.result) as SubscriberResult;
    if (seen.received < published.sent) {
      throw new Error(`latency: the subscriber saw ${seen.received} of ${published.sent} records`);
    }
    const bytes = published.sent * workload.recordBytes;
    return {
      records: published.sent,
      bytes,
      seconds: published.seconds,
      recordsPerSecond: published.sent / published.seconds,
      mbPerSecond: bytes / 1e6 / published.seconds,
      latency: seen.percentiles,
    };
  } finally {
    sub.kill();
  }
}
