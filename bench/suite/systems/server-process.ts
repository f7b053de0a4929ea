// A server process the suite started: output kept (the last lines, for error messages), exit
// awaited, stop() = SIGTERM then SIGKILL after a deadline. Servers never outlive the suite: every
// one still running is killed when the suite's process exits.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { waitFor } from '../exec.js';

const OUTPUT_LINES_KEPT = 200;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

export class ServerProcess {
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;
  private readonly lineListeners: Array<(line: string) => void> = [];

  private constructor(readonly child: ChildProcess, readonly name: string) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.done = true;
        resolve({ code, signal });
      });
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          this.output.push(line);
          if (this.output.length > OUTPUT_LINES_KEPT) this.output.shift();
          for (const listener of this.lineListeners) listener(line);
        }
      });
    }
  }

  static spawn(name: string, command: string, args: readonly string[], opts: Pick<SpawnOptions, 'cwd' | 'env'> = {}): ServerProcess {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const child of running) child.kill('SIGKILL');
      });
    }
    const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.on('error', () => undefined);
    return new ServerProcess(child, name);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.done;
  }

  /** Calls `listener` for every later line of output. */
  onLine(listener: (line: string) => void): void {
    this.lineListeners.push(listener);
  }

  tail(lines = 30): string {
    return this.output.slice(-lines).join('\n');
  }

  /**
   * Waits until `probe` answers true. Fails at once, with the server's last output, if the process
   * exits first; a server that does not come up is stopped before the error is thrown.
   */
  async waitReady(probe: () => Promise<boolean>, deadlineMs: number, what: string, intervalMs = 50, stopDeadlineMs?: number): Promise<void> {
    try {
      await waitFor(async () => this.done || probe(), deadlineMs, what, intervalMs);
      if (this.done) throw new Error(`${what} exited while starting:\n${this.tail()}`);
    } catch (err) {
      await this.stop(stopDeadlineMs);
      throw err;
    }
  }

  async stop(deadlineMs = 30_000): Promise<void> {
    if (this.done) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), deadlineMs)));
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
