// Child processes for the suite: run-to-completion with captured output and a deadline, and free
// ports on 127.0.0.1 for servers that cannot take port 0 (Kafka's listeners).
import { spawn, type SpawnOptions } from 'node:child_process';
import net from 'node:net';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions extends Pick<SpawnOptions, 'cwd' | 'env'> {
  timeoutMs: number;
  /** Written to stdin, which is then closed (otherwise stdin is ignored). */
  input?: string | Buffer;
  /** A file descriptor or stream for stdin instead of `input`. */
  stdinFile?: number;
}

/** Runs a command to completion; rejects on a spawn error or the deadline, never on an exit code. */
export function exec(command: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const stdin = opts.stdinFile ?? (opts.input !== undefined ? 'pipe' : 'ignore');
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: [stdin, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (stderr.length > 1_000_000) stderr = stderr.slice(-100_000);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.slice(0, 6).join(' ')} … did not finish within ${opts.timeoutMs} ms\n${stderr.slice(-2000)}`));
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Whether `command` can be found on PATH (or is an existing path). */
export async function hasCommand(command: string): Promise<boolean> {
  try {
    const r = await exec('sh', ['-c', `command -v ${command}`], { timeoutMs: 10_000 });
    return r.code === 0;
  } catch {
    return false;
  }
}

/** A port on 127.0.0.1 that was free a moment ago (bound to 0 and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `probe` succeeds, retrying every `intervalMs` until `deadlineMs` has passed. */
export async function waitFor(probe: () => Promise<boolean>, deadlineMs: number, what: string, intervalMs = 50): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`${what} not ready within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
