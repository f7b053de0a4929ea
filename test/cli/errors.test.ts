// Errors every client command shares: a broker that is not there (a closed port: refused at once;
// a port that accepts but never answers: --connect-timeout), bad common options, commander's own
// errors, and --verbose (the stack, then the same one line). No broker process is needed.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, godel } from './godel.js';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('godel client commands: errors', { timeout: 180_000 }, () => {
  let closed: string;
  let silent: net.Server;
  let silentAddress: string;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    closed = `127.0.0.1:${await closedPort()}`;
    // Accepts connections and never answers: a hung broker.
    silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    silentAddress = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('reports an unreachable broker (a closed port) in one line, quickly, from every command', async () => {
    const b = ['-b', closed];
    const runs = await Promise.all([
      godel(['topics', 'list', ...b]),
      godel(['produce', 't', ...b], { input: 'x\n' }),
      godel(['consume', 't', '--from-beginning', ...b]),
      godel(['groups', 'list', ...b]),
    ]);
    for (const run of runs) {
      expectOneLineError(run, new RegExp(`^godel: cannot reach the broker at ${closed.replace(/\./g, '\\.')} \\(connection refused\\): is it running\\? \\(set the address with -b HOST:PORT\\)$`));
      // Startup under tsx is most of it; the probe gives up after two quick retries.
      expect(run.ms).toBeLessThan(30_000);
    }
  });

  it('gives up on a broker that accepts connections but never answers after --connect-timeout', async () => {
    const run = await godel(['groups', 'list', '-b', silentAddress, '--connect-timeout', '1500ms']);
    expectOneLineError(run, new RegExp(`cannot reach the broker at ${silentAddress.replace(/\./g, '\\.')}: no answer within 1500ms`));
    expect(run.ms).toBeLessThan(30_000);
  });

  it('shows the stack only with --verbose, and still ends with the one line', async () => {
    const run = await godel(['topics', 'get', 'x', '-b', closed, '--verbose']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\n\s+at /);
    expect(run.stderr).toMatch(/caused by: Error: connect ECONNREFUSED/);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^godel: cannot reach the broker at .* \(connection refused\)/);
  });

  it('refuses bad common options in one line before connecting', async () => {
    const runs = await Promise.all([
      godel(['topics', 'list', '-b', 'localhost:port']),
      godel(['groups', 'list', '-b', closed, '--connect-timeout', 'soon']),
      godel(['consume', 't', '-b', closed, '--max-messages', '0']),
    ]);
    expectOneLineError(runs[0]!, /--bootstrap expects host:port\[,host:port…\], got "localhost:port"/);
    expectOneLineError(runs[1]!, /--connect-timeout must be a duration such as 500ms, 5s, 2m or 1h, got "soon"/);
    expectOneLineError(runs[2]!, /--max-messages must be an integer >= 1, got "0"/);
  });

  it('reports commander\'s own errors (unknown options and commands, missing arguments) without a stack', async () => {
    const runs = await Promise.all([
      godel(['topics', 'list', '--colour']),
      godel(['commit', '-t', 'gt', '--to-latest']),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout).toBe('');
    }
    expect(runs[0]!.stderr).toMatch(/^error: unknown option '--colour'/);
    expect(runs[1]!.stderr).toMatch(/^error: required option '-g, --group <group>' not specified/);
  });

  it('has --help for every command group and subcommand, with -b (default localhost:9092) and --json', async () => {
    const [top, topics, create, consume] = await Promise.all([
      godel(['--help']), godel(['topics', '--help']), godel(['topics', 'create', '--help']), godel(['consume', '--help']),
    ]);
    for (const run of [top, topics, create, consume]) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: godel/);
    }
    for (const command of ['serve', 'topics', 'configs', 'produce', 'consume', 'commit', 'groups']) expect(top.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    for (const sub of ['create', 'list', 'get', 'delete', 'alter']) expect(topics.stdout).toMatch(new RegExp(`^\\s+${sub} `, 'm'));
    for (const option of ['-b, --bootstrap', '--json', '--partitions', '--replication-factor', '--config', '--verbose', '--connect-timeout']) expect(create.stdout).toContain(option);
    expect(create.stdout).toContain('localhost:9092');
    for (const option of ['--from-beginning', '--offset', '--from-time', '--partition', '--group', '--max-messages', '--format', '--timeout']) expect(consume.stdout).toContain(option);
  });
});
