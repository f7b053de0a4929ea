// Shared by the interop tests: a real `godel serve` process on an ephemeral port with a temp data
// directory, running third-party client programs with deadlines, unique topic names, condition
// waits, and the record checks every test makes (count, order per partition, keys, values,
// headers).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, beforeEach, expect } from 'vitest';
import { startBroker as startBrokerProcess } from '../helpers/broker.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const INTEROP_DIR = path.join(REPO_ROOT, 'test/interop');
export const INSTALL_COMMAND = 'bash scripts/install-interop-deps.sh';

// ---------------------------------------------------------------------------------------------
// Tools

/** Fails (never skips) when a tool the suite needs is missing, naming the install command. */
export function missingTool(what: string, detail = ''): Error {
  return new Error(
    `${what} is not available${detail ? ` (${detail.trim().split('\n').slice(-3).join(' | ')})` : ''}: ` +
    `install the interop dependencies with \`${INSTALL_COMMAND}\` (CI runs it before \`npm run test:interop\`)`,
  );
}

/**
 * beforeAll(setup), except that a failure (a missing tool, a broker that does not start) fails
 * every test of the file with that error instead of leaving them skipped.
 */
export function setupOnce(setup: () => Promise<void>): void {
  let failure: unknown = null;
  beforeAll(async () => {
    try {
      await setup();
    } catch (err) {
      failure = err;
    }
  });
  beforeEach(() => {
    if (failure !== null) throw failure;
  });
}

/** Throws missingTool unless `cmd args` runs and exits 0. */
export function requireCommand(what: string, cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) throw missingTool(what, r.error ? r.error.message : `${r.stderr ?? ''}${r.stdout ?? ''}`);
}

/**
 * Debian's python3-kafka and python3-confluent-kafka are installed for /usr/bin/python3, which is
 * not necessarily the first python3 on PATH (pyenv, venvs). GODEL_INTEROP_PYTHON overrides.
 */
export function pythonCommand(): string {
  if (process.env.GODEL_INTEROP_PYTHON) return process.env.GODEL_INTEROP_PYTHON;
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const running = new Set<ChildProcess>();

/** Kills every process this module started that is still running (process groups). */
export function killAll(): void {
  for (const child of running) killGroup(child, 'SIGKILL');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
  }
}

/** Runs a program to completion (or until the deadline, then kills its process group). */
export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      running.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
    child.stdin!.on('error', () => { /* the program may exit without reading */ });
    child.stdin!.end(options.input ?? '');
  });
}

/** A program left running: its JSON lines as they come, stdin to talk to it, signals to end it. */
export interface LiveProcess {
  readonly name: string;
  /** Every JSON object line printed so far, in order. */
  readonly lines: Record<string, unknown>[];
  stdout(): string;
  stderr(): string;
  /** Writes one line to its stdin. */
  send(line: string): void;
  /** Closes its stdin. */
  end(): void;
  /** Signals its process group (SIGKILL: a crash, no chance to clean up). */
  kill(signal?: NodeJS.Signals): void;
  readonly exited: Promise<RunResult>;
  hasExited(): boolean;
  /** For assertion messages. */
  describe(): string;
}

/**
 * Starts a program and leaves it running (killed at the deadline, and by killAll()). Each JSON
 * line it prints is parsed as it arrives and handed to `onLine` too.
 */
export function startProcess(
  name: string, cmd: string, args: string[],
  options: RunOptions & { onLine?: (line: Record<string, unknown>) => void } = {},
): LiveProcess {
  const started = Date.now();
  const child = spawn(cmd, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  const lines: Record<string, unknown>[] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  let timedOut = false;
  let result: RunResult | null = null;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    partial += d;
    const complete = partial.split('\n');
    partial = complete.pop()!;
    for (const parsed of jsonLines(complete.join('\n'))) {
      lines.push(parsed);
      options.onLine?.(parsed);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdin!.on('error', () => { /* it may exit without reading */ });
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, options.timeoutMs ?? 300_000);
  const exited = new Promise<RunResult>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      running.delete(child);
      result = { code, signal, stdout, stderr, timedOut, ms: Date.now() - started };
      resolve(result);
    };
    child.on('error', (err) => {
      stderr += `\n${String(err)}`;
      done(null, null);
    });
    child.on('close', done);
  });
  return {
    name,
    lines,
    stdout: () => stdout,
    stderr: () => stderr,
    send: (line) => { if (result === null) child.stdin!.write(`${line}\n`); },
    end: () => { child.stdin!.end(); },
    kill: (signal = 'SIGKILL') => killGroup(child, signal),
    exited,
    hasExited: () => result !== null,
    describe: () => describeRun(name, result ?? { code: null, signal: null, stdout, stderr, timedOut, ms: Date.now() - started }),
  };
}

/** A one-line summary of a run for assertion messages. */
export function describeRun(what: string, r: RunResult): string {
  const tail = (s: string, n: number): string => s.trim().split('\n').slice(-n).join('\n    ');
  return `${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}${r.timedOut ? ' TIMED OUT' : ''} after ${r.ms} ms\n` +
    `  stderr:\n    ${tail(r.stderr, 40)}\n  stdout:\n    ${tail(r.stdout, 20)}`;
}

/** Every stdout line that parses as a JSON object (clients may print other lines too). */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      out.push(JSON.parse(t) as T);
    } catch {
      // not JSON after all
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The broker

export interface InteropBroker {
  host: string;
  port: number;
  /** host:port, for bootstrap.servers / -b. */
  bootstrap: string;
  dataDir: string;
  /** Everything the broker printed so far (JSON log lines). */
  logs(): string;
  /** SIGTERM, wait for a clean exit (SIGKILL after a deadline), remove the data directory. */
  stop(): Promise<void>;
}

export interface BrokerOptions {
  /** Broker configs by Kafka name, passed as --set key=value. */
  set?: Record<string, string>;
  /** Extra `godel serve` arguments (e.g. --advertise host:port). */
  args?: string[];
  startTimeoutMs?: number;
}

/**
 * A real `godel serve` process (test/helpers/broker.ts: from the source tree, 127.0.0.1 port 0,
 * a temporary data directory removed at stop()).
 */
export async function startBroker(options: BrokerOptions = {}): Promise<InteropBroker> {
  const b = await startBrokerProcess({
    set: options.set ?? {},
    args: options.args ?? [],
    startTimeoutMs: options.startTimeoutMs ?? 120_000,
  });
  return {
    host: b.host,
    port: b.port,
    bootstrap: b.address,
    dataDir: b.dataDir,
    logs: () => b.output.join('\n') + (b.hasExited ? '\n[the broker process has EXITED]' : ''),
    stop: async () => {
      await b.stop();
    },
  };
}

/**
 * For assertion messages: broker log lines at warn level or above (pino: 40+) and anything that is
 * not a log line; the whole tail if the process has exited.
 */
export function brokerProblems(broker: InteropBroker): string {
  const logs = broker.logs();
  if (logs.includes('[the broker process has EXITED]')) {
    return `the broker process has exited; its last output:\n${logs.split('\n').slice(-60).join('\n')}`;
  }
  return logs.split('\n')
    .filter((line) => {
      if (!line.startsWith('{')) return line.trim() !== '';
      try {
        return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 40;
      } catch {
        return true;
      }
    })
    .slice(-20)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Topics, waiting

/** A topic name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 60_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits until the wall clock is strictly past `ms` (for timestamp boundaries). */
export async function waitUntilClockPasses(ms: number): Promise<void> {
  await waitFor(`the clock to pass ${ms}`, () => Date.now() > ms, { timeoutMs: 10_000, intervalMs: 5 });
}

// ---------------------------------------------------------------------------------------------
// Records

export type Headers = [string, string | null][];

export interface SentRecord {
  key: string | null;
  value: string;
  headers: Headers;
  /** When the producer chose or reported it. */
  partition?: number;
  /** When the producer reported it. */
  offset?: number;
}

export interface GotRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Headers;
  timestamp?: number;
}

export interface CheckOptions {
  /** Offsets in each partition start here and have no gaps (a fresh topic, read from the start). */
  contiguousFrom?: number;
  /** Records are expected only from these partitions (all when omitted). */
  what?: string;
}

/**
 * What a consumer got must be exactly what was sent: the same count, nothing duplicated, each
 * record's key, value and headers, in the order sent within each partition, at strictly increasing
 * (and, for a fresh topic, contiguous) offsets, and at the partition and offset the producer
 * reported when it reported them.
 */
export function expectSameRecords(got: GotRecord[], sent: SentRecord[], options: CheckOptions = {}): void {
  const what = options.what ?? 'records';
  const byValue = new Map<string, number>();
  sent.forEach((r, i) => {
    expect(byValue.has(r.value), `test bug: duplicate sent value ${r.value}`).toBe(false);
    byValue.set(r.value, i);
  });
  const seen = new Set<string>();
  const dups = got.filter((r) => {
    const k = String(r.value);
    if (seen.has(k)) return true;
    seen.add(k);
    return false;
  });
  expect(dups.map((r) => `${r.value}@${r.partition}/${r.offset}`), `${what}: duplicates`).toEqual([]);
  const unknown = got.filter((r) => r.value === null || !byValue.has(r.value));
  expect(unknown.map((r) => `${r.value}@${r.partition}/${r.offset}`), `${what}: records nobody sent`).toEqual([]);
  const missing = sent.filter((r) => !seen.has(r.value)).map((r) => r.value);
  expect(missing, `${what}: ${missing.length} of ${sent.length} sent records never came back`).toEqual([]);
  expect(got.length, `${what}: count`).toBe(sent.length);

  const partitions = new Map<number, GotRecord[]>();
  for (const r of got) {
    if (!partitions.has(r.partition)) partitions.set(r.partition, []);
    partitions.get(r.partition)!.push(r);
  }
  for (const [p, records] of partitions) {
    const offsets = records.map((r) => r.offset);
    const sentOrder = records.map((r) => byValue.get(r.value!)!);
    expect(sentOrder, `${what}: partition ${p} must be in the order sent`).toEqual([...sentOrder].sort((a, b) => a - b));
    expect(offsets, `${what}: partition ${p} offsets must increase`).toEqual([...offsets].sort((a, b) => a - b));
    if (options.contiguousFrom !== undefined) {
      expect(offsets, `${what}: partition ${p} offsets must be contiguous`).toEqual(
        offsets.map((_, i) => options.contiguousFrom! + i));
    }
  }
  for (const r of got) {
    const s = sent[byValue.get(r.value!)!]!;
    expect({ key: r.key, value: r.value, headers: r.headers }, `${what}: record ${r.partition}/${r.offset}`)
      .toEqual({ key: s.key, value: s.value, headers: s.headers });
    if (s.partition !== undefined) expect(r.partition, `${what}: partition of ${s.value}`).toBe(s.partition);
    if (s.offset !== undefined) expect(r.offset, `${what}: offset of ${s.value} (as the producer reported)`).toBe(s.offset);
  }
}

/**
 * Records with the same key must land in the same partition (the client's partitioner hashes
 * keys). Null and empty keys are spread at random by librdkafka, so they are left out.
 */
export function expectKeysStickToPartitions(got: GotRecord[]): void {
  const where = new Map<string, number>();
  for (const r of got) {
    if (r.key === null || r.key === '') continue;
    const p = where.get(r.key);
    if (p !== undefined) expect(r.partition, `key ${r.key} seen in partitions ${p} and ${r.partition}`).toBe(p);
    where.set(r.key, r.partition);
  }
}

// ---------------------------------------------------------------------------------------------
// What the broker advertises (for failure messages that say which API is missing)

const API_NAMES: Record<number, string> = {
  0: 'Produce', 1: 'Fetch', 2: 'ListOffsets', 3: 'Metadata', 8: 'OffsetCommit', 9: 'OffsetFetch',
  10: 'FindCoordinator', 11: 'JoinGroup', 12: 'Heartbeat', 13: 'LeaveGroup', 14: 'SyncGroup',
  15: 'DescribeGroups', 16: 'ListGroups', 18: 'ApiVersions', 19: 'CreateTopics', 20: 'DeleteTopics',
  22: 'InitProducerId', 32: 'DescribeConfigs', 33: 'AlterConfigs', 60: 'DescribeCluster',
  75: 'DescribeTopicPartitions',
};

/** ApiVersions v0 over a raw socket: api key -> [min, max], as the broker advertises them. */
export async function advertisedApis(broker: InteropBroker): Promise<Map<number, [number, number]>> {
  const net = await import('node:net');
  const req = Buffer.alloc(4 + 2 + 2 + 4 + 2);
  req.writeInt32BE(req.length - 4, 0);
  req.writeInt16BE(18, 4); // ApiVersions
  req.writeInt16BE(0, 6); // v0
  req.writeInt32BE(1, 8); // correlation id
  req.writeInt16BE(-1, 12); // null client id
  const body = await new Promise<Buffer>((resolve, reject) => {
    const sock = net.connect(broker.port, broker.host);
    let buf = Buffer.alloc(0);
    sock.setTimeout(10_000, () => { sock.destroy(); reject(new Error('ApiVersions timed out')); });
    sock.on('error', reject);
    sock.on('connect', () => sock.write(req));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        sock.destroy();
        resolve(buf.subarray(8, 4 + buf.readInt32BE(0)));
      }
    });
  });
  const out = new Map<number, [number, number]>();
  const n = body.readInt32BE(2);
  for (let i = 0; i < n; i++) {
    const at = 6 + i * 6;
    out.set(body.readInt16BE(at), [body.readInt16BE(at + 2), body.readInt16BE(at + 4)]);
  }
  return out;
}

/** "the broker does not advertise FindCoordinator(10), JoinGroup(11)", or '' when it does. */
export async function missingApis(broker: InteropBroker, keys: number[]): Promise<string> {
  try {
    const apis = await advertisedApis(broker);
    const missing = keys.filter((k) => !apis.has(k)).map((k) => `${API_NAMES[k] ?? 'api'}(${k})`);
    return missing.length ? `the broker does not advertise ${missing.join(', ')} in ApiVersions` : '';
  } catch (err) {
    return `(ApiVersions failed: ${String(err)})`;
  }
}

export const GROUP_APIS = [10, 11, 12, 13, 14, 8, 9];

/** Runs `body`; if it fails, adds which of `keys` the broker does not advertise to the error. */
export async function withApiHint<T>(broker: InteropBroker, keys: number[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const hint = await missingApis(broker, keys);
    if (hint && err instanceof Error) err.message = `${hint}\n${err.message}`;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// What the broker stored: RecordBatch v2 headers read straight from the segment files, which are
// in Kafka's layout (<dataDir>/<topic>-<partition>/<20-digit base offset>.log). Proves that a
// codec was really used and kept as sent, and that an idempotent producer really stamped producer
// ids and sequences.

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

export interface StoredBatch {
  partition: number;
  baseOffset: number;
  records: number;
  codec: (typeof CODECS)[number] | `unknown(${number})`;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

export async function storedBatches(broker: InteropBroker, topic: string): Promise<StoredBatch[]> {
  const fsp = await import('node:fs/promises');
  const out: StoredBatch[] = [];
  const dirs = (await fsp.readdir(broker.dataDir)).filter((d) => d.startsWith(`${topic}-`) && /^\d+$/.test(d.slice(topic.length + 1)));
  for (const dir of dirs) {
    const partition = Number(dir.slice(topic.length + 1));
    const logs = (await fsp.readdir(path.join(broker.dataDir, dir))).filter((f) => /^\d{20}\.log$/.test(f)).sort();
    for (const log of logs) {
      const buf = await fsp.readFile(path.join(broker.dataDir, dir, log));
      for (let at = 0; at + 61 <= buf.length;) {
        const length = buf.readInt32BE(at + 8);
        if (length <= 0 || at + 12 + length > buf.length) break;
        const codec = buf.readInt16BE(at + 21) & 0x7;
        out.push({
          partition,
          baseOffset: Number(buf.readBigInt64BE(at)),
          records: buf.readInt32BE(at + 57),
          codec: CODECS[codec] ?? `unknown(${codec})`,
          producerId: buf.readBigInt64BE(at + 43),
          producerEpoch: buf.readInt16BE(at + 51),
          baseSequence: buf.readInt32BE(at + 53),
        });
        at += 12 + length;
      }
    }
  }
  return out.sort((a, b) => a.partition - b.partition || a.baseOffset - b.baseOffset);
}

/**
 * Every stored batch of `topic` uses `codec`, and together they hold `records` records.
 * `orUncompressed`: librdkafka sends a batch uncompressed when compressing would not make it
 * smaller (a batch of one short record), so some batches may be 'none' — but not all.
 */
export async function expectStoredCodec(
  broker: InteropBroker, topic: string, codec: string, records: number, { orUncompressed = false } = {},
): Promise<StoredBatch[]> {
  const batches = await storedBatches(broker, topic);
  const summary = batches.map((b) => `${b.partition}/${b.baseOffset}+${b.records}:${b.codec}`).join(' ');
  expect(batches.reduce((n, b) => n + b.records, 0), `records stored in ${topic}: ${summary}`).toBe(records);
  const codecs = new Set(batches.map((b) => b.codec));
  if (orUncompressed) codecs.delete('none');
  expect([...codecs], `codec of the batches stored in ${topic}: ${summary}`).toEqual(codec === 'none' && orUncompressed ? [] : [codec]);
  return batches;
}

/**
 * The batches came from an idempotent producer: one producer id (≥ 0) and epoch, and in each
 * partition sequences starting at 0 with no gap or repeat.
 */
export function expectIdempotentBatches(batches: StoredBatch[], what: string): void {
  expect(batches.length, `${what}: stored batches`).toBeGreaterThan(0);
  const ids = [...new Set(batches.map((b) => `${b.producerId}/${b.producerEpoch}`))];
  expect(ids.length, `${what}: one producer id/epoch, got ${ids.join(', ')}`).toBe(1);
  expect(batches[0]!.producerId >= 0n, `${what}: producer id ${batches[0]!.producerId} (an idempotent producer has one)`).toBe(true);
  const next = new Map<number, number>();
  for (const b of batches) {
    const expected = next.get(b.partition) ?? 0;
    expect(b.baseSequence, `${what}: base sequence of the batch at ${b.partition}/${b.baseOffset}`).toBe(expected);
    next.set(b.partition, expected + b.records);
  }
}
