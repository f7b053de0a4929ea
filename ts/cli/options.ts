// Options shared by the client commands (topics, configs, produce, consume, commit, groups): the
// bootstrap servers, --json, --verbose and the connection deadline, plus the validation of numbers,
// durations, times and key=value pairs. Every check throws a UsageError with one line that names
// the option and the value it got; nothing here talks to a broker.
import type { Command } from 'commander';
import { Godel, KafkaError, type Admin, type TopicDescription } from '../client/index.js';
import { CliError, unknownTopic, UsageError } from './output.js';

export const DEFAULT_BOOTSTRAP = 'localhost:9092';
const DEFAULT_CONNECT_TIMEOUT = '5s';
const REQUEST_TIMED_OUT = 7;

/** What every client command accepts. */
export interface CommonOptions {
  bootstrap: string;
  json?: boolean;
  verbose?: boolean;
  connectTimeout: string;
}

/** Adds -b/--bootstrap, --connect-timeout, --json and --verbose to a command. */
export function withCommonOptions(command: Command, options: { json?: boolean } = {}): Command {
  command
    .option('-b, --bootstrap <host:port,...>', 'broker(s) to connect to (or set GODEL_BOOTSTRAP)', process.env.GODEL_BOOTSTRAP || DEFAULT_BOOTSTRAP)
    .option('--connect-timeout <duration>', 'give up when no broker answers within this long (e.g. 500ms, 5s)', DEFAULT_CONNECT_TIMEOUT);
  if (options.json !== false) command.option('--json', 'print JSON for scripts instead of tables');
  return command.option('--verbose', 'print stack traces with errors');
}

/** Repeatable options: `--config a=1 --config b=2` collects ['a=1', 'b=2']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The bootstrap list: comma-separated host:port pairs (a missing port means 9092). */
export function parseBootstrap(value: string): string[] {
  const brokers = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (brokers.length === 0) throw new UsageError(`--bootstrap expects host:port[,host:port…], got ${JSON.stringify(value)}`);
  for (const broker of brokers) {
    const at = broker.lastIndexOf(':');
    const host = at < 0 ? broker : broker.slice(0, at);
    const port = at < 0 ? '9092' : broker.slice(at + 1);
    if (host === '' || !/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      throw new UsageError(`--bootstrap expects host:port[,host:port…], got ${JSON.stringify(value)}`);
    }
  }
  return brokers;
}

/** The retry policy of the CLI's clients: short waits, so an unreachable broker is reported in seconds. */
const CLI_RETRY = { retries: 5, initialRetryTimeMs: 100, maxRetryTimeMs: 1_000 };

/** A client for the command's bootstrap servers (validated). */
export function clientFor(options: CommonOptions): Godel {
  const brokers = parseBootstrap(options.bootstrap);
  const connectTimeoutMs = connectTimeout(options);
  return new Godel({ brokers, clientId: 'godel-cli', connectionTimeoutMs: connectTimeoutMs, retry: CLI_RETRY });
}

export function connectTimeout(options: CommonOptions): number {
  const ms = parseDuration(options.connectTimeout, '--connect-timeout');
  if (ms <= 0) throw new UsageError(`--connect-timeout must be more than 0, got ${JSON.stringify(options.connectTimeout)}`);
  return ms;
}

/**
 * An integer option: digits only (a sign where min < 0), within [min, max]. `undefined` stays
 * undefined so optional options can be passed straight through.
 */
export function parseInteger(value: string, name: string, range: { min?: number; max?: number } = {}): number {
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const text = value.trim();
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    const bounds = max >= 2_147_483_647 ? `>= ${min}` : `between ${min} and ${max}`;
    throw new UsageError(`${name} must be an integer ${bounds}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function optionalInteger(value: string | undefined, name: string, range?: { min?: number; max?: number }): number | undefined {
  return value === undefined ? undefined : parseInteger(value, name, range);
}

/** An offset: a non-negative integer, kept as a bigint (offsets are int64). */
export function parseOffset(value: string, name: string): bigint {
  const text = value.trim();
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} must be an offset (an integer >= 0), got ${JSON.stringify(value)}`);
  const n = BigInt(text);
  if (n > 0x7fffffffffffffffn) throw new UsageError(`${name} is past the largest offset, got ${JSON.stringify(value)}`);
  return n;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: `250ms`, `5s`, `2m`, `1h`, `1d`, or a plain number of milliseconds. */
export function parseDuration(value: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (match === null) throw new UsageError(`${name} must be a duration such as 500ms, 5s, 2m or 1h, got ${JSON.stringify(value)}`);
  const ms = Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!);
  if (!Number.isSafeInteger(ms)) throw new UsageError(`${name} is too long, got ${JSON.stringify(value)}`);
  return ms;
}

/** A point in time: an ISO 8601 date (2024-05-01, 2024-05-01T12:00:00Z) or milliseconds since the epoch. */
export function parseTime(value: string, name: string): number {
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const ms = Number(text);
    if (Number.isSafeInteger(ms)) return ms;
  } else if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new UsageError(`${name} must be an ISO date (2024-05-01T12:00:00Z) or epoch milliseconds, got ${JSON.stringify(value)}`);
}

/** `key=value` (the value may be empty and may hold '='); the key must not be empty. */
export function parseKeyValue(value: string, name: string): [string, string] {
  const at = value.indexOf('=');
  if (at <= 0) throw new UsageError(`${name} expects KEY=VALUE, got ${JSON.stringify(value)}`);
  return [value.slice(0, at), value.slice(at + 1)];
}

/** Every `key=value` of a repeatable option, in order (a key given twice keeps the last value). */
export function parseKeyValues(values: readonly string[] | undefined, name: string): Array<[string, string]> {
  const byKey = new Map<string, string>();
  for (const v of values ?? []) {
    const [key, value] = parseKeyValue(v, name);
    byKey.set(key, value);
  }
  return [...byKey];
}

/** Fails when more than one of the options given (present and not false) was used. */
export function atMostOne(options: object, names: Record<string, string>): void {
  const values = options as Record<string, unknown>;
  const used = Object.keys(names).filter((k) => values[k] !== undefined && values[k] !== false);
  if (used.length > 1) throw new UsageError(`${used.map((k) => names[k]).join(' and ')} cannot be used together`);
}

/** A non-empty name (topic, group …). */
export function requireName(value: string | undefined, what: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${what} must not be empty`);
  return value;
}

/** The first contact: few retries, so a broker that is down is reported in well under a second. */
const PROBE_RETRY = { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 200 };

/**
 * Makes sure some broker answers before a command's own client connects: a short probe (one
 * metadata request) raced against --connect-timeout, so an unreachable broker is one line within
 * that time, whatever the command's client would still retry. The probe's connection is closed.
 */
export async function probeCluster(options: CommonOptions): Promise<void> {
  const ms = connectTimeout(options);
  const probe = clientFor(options).admin({ retry: PROBE_RETRY });
  const connect = probe.connect();
  connect.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const noAnswer = (cause?: unknown): CliError => new CliError(
    `cannot reach the broker at ${options.bootstrap}: no answer within ${formatDuration(ms)} (is it running? set the address with -b HOST:PORT)`,
    { cause },
  );
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(noAnswer()), ms);
  });
  try {
    await Promise.race([connect, timeout]);
  } catch (err) {
    // The handshake timed out (the client's connection timeout is the same --connect-timeout).
    if (err instanceof KafkaError && err.code === REQUEST_TIMED_OUT) throw noAnswer(err);
    throw err;
  } finally {
    clearTimeout(timer);
    await probe.disconnect().catch(() => undefined);
  }
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** Runs `fn` with a connected admin client, disconnected afterwards whatever happens. */
export async function withAdmin<T>(options: CommonOptions, fn: (admin: Admin) => Promise<T>): Promise<T> {
  await probeCluster(options);
  const admin = clientFor(options).admin();
  try {
    await admin.connect();
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The description of a topic that must exist (one metadata request, no retries on "unknown"). */
export async function requireTopic(admin: Admin, topic: string): Promise<TopicDescription> {
  try {
    const [description] = await admin.describeTopics([topic]);
    return description!;
  } catch (err) {
    if (err instanceof KafkaError && err.code === 3) throw new CliError(unknownTopic(topic), { cause: err });
    throw err;
  }
}

/** Fails unless every partition listed exists in the topic. */
export function requirePartitions(description: TopicDescription, partitions: readonly number[]): void {
  const count = description.partitions.length;
  for (const p of partitions) {
    if (p >= count) throw new CliError(`partition ${p} of topic "${description.name}" does not exist (it has ${count === 1 ? '1 partition: 0' : `${count} partitions: 0-${count - 1}`})`);
  }
}
