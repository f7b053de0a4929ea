// What the client commands print: aligned tables for people, JSON for scripts, and errors as one
// line on stderr (`godel: …`, the stack only with --verbose) with exit code 1. Commands run through
// runAction(), which does the error handling, so a command body just throws.
//
// Tables are plain aligned columns (as kubectl and Kafka's tools print them): no library needed.
import type { Command } from 'commander';
import { GodelError } from '../errors.js';
import { KafkaError } from '../client/index.js';

/** A bad argument: the message says which option and what it got. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the user can act on, already worded for them. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

export type Cell = string | number | bigint | boolean | null | undefined;

function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return '-';
  return String(cell);
}

/** Characters as a terminal counts them (close enough: code points). */
function width(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * Columns separated by two spaces, headers in capitals, numeric columns right-aligned. Cells are
 * kept on one line (newlines and tabs become spaces).
 */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const text = rows.map((row) => headers.map((_, i) => cellText(row[i]).replace(/[\r\n\t]/g, ' ')));
  const numeric = headers.map((_, i) => text.length > 0 && text.every((row) => /^-?\d+(\.\d+)?$|^-$/.test(row[i]!)) && rows.some((row) => typeof row[i] === 'number' || typeof row[i] === 'bigint'));
  const widths = headers.map((h, i) => Math.max(width(h), ...text.map((row) => width(row[i]!))));
  const line = (cells: readonly string[]): string => cells
    .map((c, i) => {
      const pad = ' '.repeat(widths[i]! - width(c));
      return numeric[i] ? pad + c : i === cells.length - 1 ? c : c + pad;
    })
    .join('  ')
    .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...text.map(line)].join('\n') + '\n';
}

/** `key: value` lines with the keys aligned. */
export function fields(entries: ReadonlyArray<readonly [string, Cell]>): string {
  const w = Math.max(...entries.map(([k]) => width(k)));
  return entries.map(([k, v]) => `${k}:${' '.repeat(w - width(k) + 1)}${cellText(v)}`).join('\n') + '\n';
}

/** JSON with bigints as numbers (as strings past 2^53, where a number would lose digits). */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    return v;
  }, indent);
}

/** Writes to stdout, waiting when the pipe is full. */
export function writeOut(text: string): Promise<void> | void {
  if (process.stdout.write(text)) return;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

export function printJson(value: unknown): Promise<void> | void {
  return writeOut(toJson(value) + '\n');
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Bytes for people: `512 B`, `1.5 KiB`, `23.4 MiB` (binary units, one decimal from KiB on). */
export function humanBytes(n: number | bigint): string {
  let value = Number(n);
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** Plural: `3 records`, `1 record`. */
export function count(n: number | bigint, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 || n === 1n ? noun : plural}`;
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
};

/** The errno code (ECONNREFUSED …) somewhere in an error's cause chain. */
function errnoOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E') && code !== 'ERR_UNHANDLED_ERROR') return code;
  }
  return undefined;
}

const NETWORK_EXCEPTION = 13;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/** One line for an error, worded for the user. */
export function describeError(err: unknown, bootstrap?: string): string {
  if (err instanceof UsageError || err instanceof CliError) return err.message;
  if (err instanceof KafkaError) {
    if (err.code === NETWORK_EXCEPTION) {
      const errno = errnoOf(err);
      const why = errno === undefined ? err.message.replace(/^NETWORK_EXCEPTION: /, '') : ERRNO_TEXT[errno] ?? errno;
      return `cannot reach the broker${bootstrap === undefined ? '' : ` at ${bootstrap}`} (${why}): is it running? (set the address with -b HOST:PORT)`;
    }
    if (err.code === UNKNOWN_TOPIC_OR_PARTITION && err.topic !== undefined) {
      return err.partition === undefined ? unknownTopic(err.topic) : `partition ${err.partition} of topic "${err.topic}" does not exist`;
    }
    return err.message;
  }
  if (err instanceof GodelError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function unknownTopic(topic: string): string {
  return `topic "${topic}" does not exist (see godel topics list)`;
}

function stackOf(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 10; e = e instanceof Error ? e.cause : undefined, depth++) {
    parts.push(depth === 0 ? '' : 'caused by: ', e instanceof Error ? e.stack ?? e.message : String(e), '\n');
  }
  return parts.join('');
}

export function reportError(err: unknown, options: { verbose?: boolean; bootstrap?: string }): void {
  const line = describeError(err, options.bootstrap).replace(/\s*\n\s*/g, ' ');
  if (options.verbose === true) process.stderr.write(stackOf(err));
  process.stderr.write(`godel: ${line}\n`);
  process.exitCode = 1;
}

let stdoutGuarded = false;

/** A reader that went away (`godel consume … | head`) ends the command quietly. */
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

/**
 * Wraps a command's action: errors become one line on stderr and exit code 1. Once the action is
 * over, the process exits on its own; a timer that is still pending in a closed client (a retry's
 * backoff) may hold it for at most a second.
 */
// Commander passes the arguments, then the options, then the command.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function runAction<A extends any[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A): Promise<void> => {
    guardStdout();
    const command = args[args.length - 1] as Command;
    const options = command.opts<{ verbose?: boolean; bootstrap?: string }>();
    try {
      await fn(...args);
    } catch (err) {
      reportError(err, options);
    } finally {
      setTimeout(() => process.exit(), 1_000).unref();
    }
  };
}
