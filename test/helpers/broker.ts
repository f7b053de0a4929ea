// Starts a REAL broker process for integration tests: `node --import tsx ts/cli/run.ts serve` from
// the source tree (no build step), on 127.0.0.1 port 0 with a temporary data directory. The port is
// learnt from the "broker started" log line. stop() sends SIGTERM, waits for a clean exit and
// removes the data directory (unless the caller owns it); restart() keeps the directory and starts
// a new process on it. A broker never outlives the test process: it is killed when this process
// exits, and it shuts itself down when its stdin pipe closes (this process died, however).
//
// Also: kafkaRequest(), one request over a raw connection with the project's own codecs, for APIs
// and versions no client library sends.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResponseFrame, encodeRequestFrame, type ApiKeyWithCodec } from '../../ts/protocol/headers.js';
import type { ProtocolMessages as ApiMessages } from '../../ts/protocol/codecs.js';
import { Writer } from '../../ts/protocol/writer.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(REPO_ROOT, 'ts', 'cli', 'run.ts');

/** Generous: tsx compiles the broker on start, and CI machines are loaded. */
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
const OUTPUT_LINES_KEPT = 2_000;

/**
 * Preloaded into the broker process: a clean shutdown (SIGTERM) when the parent's end of stdin
 * closes, i.e. when the test process is gone. The unref'd pipe never keeps the broker alive.
 */
const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent(
  "process.stdin.on('end',()=>process.kill(process.pid,'SIGTERM'));process.stdin.on('error',()=>{});process.stdin.resume();process.stdin.unref();",
)}`;

export interface StartBrokerOptions {
  /** Broker configs by Kafka name, passed as `--set key=value`. */
  set?: Record<string, string>;
  /** Extra environment (GODEL_ENGINE=ts …), on top of this process's. */
  env?: Record<string, string>;
  /** An existing data directory: kept at stop(). By default a fresh temporary one, removed at stop(). */
  dataDir?: string;
  /** 0 (default) for an ephemeral port. */
  port?: number;
  /** --log-level; at least info is needed to see "broker started" (default info). */
  logLevel?: 'trace' | 'debug' | 'info';
  /** Extra command-line arguments for `godel serve`. */
  args?: string[];
  startTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export class BrokerProcess {
  /** Every line the process wrote (stdout and stderr), the last OUTPUT_LINES_KEPT of them. */
  readonly output: string[] = [];
  host = '127.0.0.1';
  port = 0;
  private readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | null = null;
  private stopping: Promise<ExitStatus> | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly dataDir: string,
    /** Whether stop() removes the data directory. */
    private ownsDataDir: boolean,
    readonly options: StartBrokerOptions,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
  }

  /** `host:port`, as Kafka clients take it. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitStatus !== null;
  }

  /** The parsed JSON log lines (pino), skipping anything else. */
  logRecords(): Record<string, unknown>[] {
    const records: Record<string, unknown>[] = [];
    for (const line of this.output) {
      if (!line.startsWith('{')) continue;
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
    return records;
  }

  static async start(options: StartBrokerOptions = {}): Promise<BrokerProcess> {
    installExitHook();
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? await fs.mkdtemp(path.join(os.tmpdir(), 'godel-broker-'));
    const args = [
      '--import', 'tsx', '--import', EXIT_WITH_PARENT, CLI, 'serve',
      '--listen', `127.0.0.1:${options.port ?? 0}`,
      '--data-dir', dataDir,
      '--log-level', options.logLevel ?? 'info',
    ];
    for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set', `${key}=${value}`);
    args.push(...options.args ?? []);
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(child);
    const broker = new BrokerProcess(child, dataDir, ownsDataDir, options);
    try {
      await broker.waitForStart(options.startTimeoutMs ?? START_TIMEOUT_MS);
    } catch (err) {
      await broker.stop().catch(() => undefined);
      throw err;
    }
    return broker;
  }

  private waitForStart(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`broker did not start within ${timeoutMs} ms\n${this.tail()}`)), timeoutMs);
      const onLine = (line: string): void => {
        this.output.push(line);
        if (this.output.length > OUTPUT_LINES_KEPT) this.output.splice(0, this.output.length - OUTPUT_LINES_KEPT);
        if (settled || !line.startsWith('{')) return;
        let record: { msg?: unknown; listen?: unknown };
        try {
          record = JSON.parse(line) as typeof record;
        } catch {
          return;
        }
        if (record.msg === 'broker started' && typeof record.listen === 'string') {
          const at = record.listen.lastIndexOf(':');
          this.host = record.listen.slice(0, at);
          this.port = Number(record.listen.slice(at + 1));
          finish();
        }
      };
      for (const stream of [this.child.stdout!, this.child.stderr!]) {
        let pending = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          pending += chunk;
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            onLine(pending.slice(0, nl));
            pending = pending.slice(nl + 1);
          }
        });
      }
      void this.exited.then((status) => finish(new Error(`broker exited before it started (code ${status.code}, signal ${status.signal})\n${this.tail()}`)));
    });
  }

  /** The last lines of output, for error messages. */
  tail(lines = 40): string {
    return this.output.slice(-lines).join('\n');
  }

  /** SIGTERM (a clean shutdown), then SIGKILL if it does not exit in time; removes an owned data dir. */
  stop(): Promise<ExitStatus> {
    this.stopping ??= (async () => {
      const status = await this.terminate();
      if (this.ownsDataDir) await fs.rm(this.dataDir, { recursive: true, force: true });
      return status;
    })();
    return this.stopping;
  }

  private async terminate(): Promise<ExitStatus> {
    if (this.exitStatus !== null) return this.exitStatus;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS);
    });
    const status = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (status !== null) return status;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGKILL: no clean shutdown. Keeps the data directory (call stop() to remove it). */
  async kill(): Promise<ExitStatus> {
    if (this.exitStatus === null) this.child.kill('SIGKILL');
    return this.exited;
  }

  /**
   * Stops this process cleanly and starts a new one on the same data directory (with `changes`
   * to the options); the new process owns the directory from then on. The port changes unless
   * `changes.port` is given.
   */
  async restart(changes: Partial<StartBrokerOptions> = {}): Promise<BrokerProcess> {
    const owns = this.ownsDataDir;
    this.ownsDataDir = false;
    this.stopping ??= this.terminate();
    await this.stopping;
    const { dataDir: _ignored, ...rest } = this.options;
    let next: BrokerProcess;
    try {
      next = await BrokerProcess.start({ ...rest, ...changes, dataDir: this.dataDir });
    } catch (err) {
      if (owns) await fs.rm(this.dataDir, { recursive: true, force: true });
      throw err;
    }
    next.ownsDataDir = owns;
    return next;
  }
}

/** Starts a broker process; see StartBrokerOptions. */
export function startBroker(options: StartBrokerOptions = {}): Promise<BrokerProcess> {
  return BrokerProcess.start(options);
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : ` (last error: ${String(lastError)})`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

let correlationIds = 1;

/**
 * Sends one request on a fresh connection with the project's codecs and returns the decoded
 * response body. For APIs and versions no client library sends.
 */
export async function kafkaRequest<K extends ApiKeyWithCodec>(
  address: string,
  apiKey: K,
  apiVersion: number,
  body: ApiMessages[K]['request'],
  timeoutMs = 30_000,
): Promise<ApiMessages[K]['response']> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  const correlationId = correlationIds++;
  const frame = encodeRequestFrame(new Writer(), { apiKey, apiVersion, correlationId, clientId: 'godel-test' }, body);
  const socket = net.connect({ host, port });
  try {
    const response = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response to api ${apiKey} v${apiVersion} within ${timeoutMs} ms`)), timeoutMs);
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
          clearTimeout(timer);
          resolve(buffered.subarray(4, 4 + buffered.readInt32BE(0)));
        }
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        reject(new Error(`connection closed before a response to api ${apiKey} v${apiVersion}`));
      });
      socket.write(frame);
    });
    const { header, body: decoded } = decodeResponseFrame(response, apiKey, apiVersion);
    if (header.correlationId !== correlationId) throw new Error(`correlation id ${header.correlationId}, expected ${correlationId}`);
    return decoded;
  } finally {
    socket.destroy();
  }
}
