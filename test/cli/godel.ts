// Running the real `godel` CLI from source for the CLI tests (`node --import tsx ts/cli/run.ts …`):
// run it to the end with optional stdin, or start it in the background (consume in follow mode) and
// wait for its output. Also a parser for the CLI's tables and the check that an error is one line.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from '../helpers/broker.js';

const CLI = path.join(REPO_ROOT, 'ts', 'cli', 'run.ts');
/** A CLI run that takes longer than this is killed (it would otherwise hang the suite). */
const RUN_TIMEOUT_MS = 60_000;

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  /** Written to stdin, which is then closed (stdin is closed at once without it). */
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function start(args: readonly string[], options: RunOptions): ChildProcess {
  const { GODEL_BOOTSTRAP: _ignored, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: REPO_ROOT,
    // No terminal: what a script sees. -b is always given explicitly.
    env: { ...env, NO_COLOR: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stdin!.on('error', () => undefined);
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  return child;
}

/** Runs `godel ARGS…` to the end. */
export function godel(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = start(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A CLI process left running (consume in follow mode): its output so far, waits, and its end. */
export class Background {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Run>;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();

  constructor(args: readonly string[], options: RunOptions = {}) {
    const started = Date.now();
    this.child = start(args, options);
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      for (const l of this.listeners) l();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      for (const l of this.listeners) l();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        for (const l of this.listeners) l();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, ms: Date.now() - started });
      });
    });
  }

  /** Waits until stdout satisfies `check` (fails after `timeoutMs`, or when the process exits first). */
  waitForOutput(check: (stdout: string) => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}; stdout: ${this.stdout} stderr: ${this.stderr}`)), timeoutMs);
      const test = (): void => {
        if (check(this.stdout)) done();
        else if (this.child.exitCode !== null || this.child.signalCode !== null) done(new Error(`the CLI exited before ${what}; stdout: ${this.stdout} stderr: ${this.stderr}`));
      };
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.listeners.delete(test);
        if (err) reject(err);
        else resolve();
      };
      this.listeners.add(test);
      test();
    });
  }

  /** Ctrl-C, then waits for the end (SIGKILL if it does not come within `timeoutMs`). */
  async interrupt(timeoutMs = 30_000): Promise<Run> {
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** The rows of a table the CLI printed (columns split at two or more spaces), keyed by header. */
export function parseTable(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const headerAt = lines.findIndex((l) => /^[A-Z][A-Z-]*(\s{2,}[A-Z][A-Z-]*)+$/.test(l));
  if (headerAt < 0) throw new Error(`no table in:\n${text}`);
  const headers = lines[headerAt]!.split(/\s{2,}/);
  const rows: Array<Record<string, string>> = [];
  for (const line of lines.slice(headerAt + 1)) {
    if (/^[A-Z][A-Z-]*(\s{2,}[A-Z][A-Z-]*)+$/.test(line)) break;
    const cells = line.split(/\s{2,}/);
    rows.push(Object.fromEntries(headers.map((h, i) => [h, cells[i] ?? ''])));
  }
  return rows;
}

/** Every table in the output, in order. */
export function parseTables(text: string): Array<Array<Record<string, string>>> {
  const blocks = text.split(/\n\s*\n/);
  return blocks.filter((b) => /^[A-Z][A-Z-]*(\s{2,}[A-Z][A-Z-]*)+$/m.test(b)).map((b) => parseTable(b));
}

/** The run succeeded (exit code 0); the failure message shows what it printed. */
export function expectSuccess(run: Run): void {
  expect(run.code, `exit ${run.code} (${run.signal}); stdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(0);
}

/** The run failed with one line on stderr matching `message`, no stack trace and nothing on stdout. */
export function expectOneLineError(run: Run, message: RegExp): void {
  expect(run.code, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).not.toBe(0);
  expect(run.code).not.toBeNull();
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^godel: /);
  expect(lines[0]).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stdout).toBe('');
}

/** `key: value` lines printed above a table. */
export function parseFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z][a-z ]*):\s+(.*)$/.exec(line);
    if (m !== null) out[m[1]!] = m[2]!;
  }
  return out;
}
