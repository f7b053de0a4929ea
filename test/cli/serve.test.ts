// `godel serve` and `godel --version` as an operator runs them: the engine shown, config from a
// .properties file and --set, and one clear line (no stack trace) for every bad argument.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaRequest, REPO_ROOT, startBroker } from '../helpers/broker.js';

const CLI = path.join(REPO_ROOT, 'ts', 'cli', 'run.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function godel(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('godel --version', () => {
  it('shows the storage engine in use', async () => {
    const native = await godel(['--version']);
    expect(native.code).toBe(0);
    expect(native.stdout).toMatch(/^godel \d+\.\d+\.\d+ \(engine: native\)/);
    const ts = await godel(['--version'], { GODEL_ENGINE: 'ts' });
    expect(ts.stdout).toMatch(/engine: ts; GODEL_ENGINE=ts/);
  });
});

describe('godel serve: bad arguments', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-cli-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function refused(args: string[], message: RegExp, env: Record<string, string> = {}): Promise<void> {
    const run = await godel(['serve', '--data-dir', path.join(dir, 'data'), '--listen', '127.0.0.1:0', ...args], env);
    expect(run.code, run.stderr).not.toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }

  it.each([
    [['--set', 'num.partitions=zero'], /invalid value "zero" for num\.partitions/],
    [['--set', 'log.segment.bytes=1'], /log\.segment\.bytes/],
    [['--set', 'nonsense'], /--set expects key=value/],
    [['--listen', 'no-port-here'], /--listen: must be HOST:PORT|must be HOST:PORT/],
    [['--config', '/does/not/exist.properties'], /cannot read config file/],
    [['--set', 'advertised.listeners=SSL://localhost:9093'], /only PLAINTEXT listeners/],
  ])('%j is refused with one clear line', async (args, message) => {
    await refused(args, message);
  });

  it('refuses GODEL_ENGINE=native where the addon cannot load, never falling back silently', async () => {
    await refused([], /GODEL_ENGINE=native but the native addon cannot be loaded/, { GODEL_ENGINE: 'native', GODEL_NATIVE_PATH: '/nonexistent/godel_native.node' });
  });

  it('says which address is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const run = await godel(['serve', '--data-dir', path.join(dir, 'taken'), '--listen', `127.0.0.1:${port}`]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
    } finally {
      blocker.close();
    }
  });
});

describe('godel serve: configuration', () => {
  it('reads a .properties file, with --set taking precedence', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-props-'));
    const file = path.join(dir, 'server.properties');
    await fs.writeFile(file, '# a Kafka-style file\nnum.partitions=3\nauto.create.topics.enable = true\nlog.retention.hours=1\n');
    const broker = await startBroker({ args: ['--config', file], set: { 'num.partitions': '4' } });
    try {
      const metadata = await kafkaRequest(broker.address, 3, 4, {
        topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'from-props' }], allowAutoTopicCreation: true,
        includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
      });
      expect(metadata.topics[0]!.partitions.length).toBe(4);
      const files = await fs.readdir(broker.dataDir);
      expect(files).toEqual(expect.arrayContaining(['from-props-0', 'from-props-3']));
    } finally {
      await broker.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('shuts down cleanly on SIGTERM and keeps data across a restart', async () => {
    let broker = await startBroker();
    try {
      await kafkaRequest(broker.address, 3, 4, {
        topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'kept' }], allowAutoTopicCreation: true,
        includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
      });
      broker = await broker.restart();
      expect(broker.output.some((l) => l.includes('"cleanShutdown":true'))).toBe(true);
      const metadata = await kafkaRequest(broker.address, 3, 1, {
        topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
      });
      expect(metadata.topics.map((t) => t.name)).toContain('kept');
    } finally {
      const status = await broker.stop();
      expect(status.code).toBe(0);
    }
  });
});
