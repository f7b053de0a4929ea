// Redis Streams as a peer system: Debian's redis-server on 127.0.0.1 and a free port, data under
// the data directory, the append-only file with appendfsync everysec (Redis's durable-enough
// default; no fsync before each reply) and no RDB snapshots during the run (--save '').
// Ready at the first PING answered. A "topic" is one stream key, created empty.
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, hasCommand } from '../exec.js';
import type { RunningSystem, SystemDefinition, SystemStartOptions } from '../types.js';
import { ServerProcess } from './server-process.js';

const SERVER = 'redis-server';
const START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 60_000;

let version: string | undefined;

/** "7.0.15", from `redis-server --version` (once). */
export function redisServerVersion(): string {
  if (version === undefined) {
    const r = spawnSync(SERVER, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    version = /v=(\S+)/.exec(r.stdout ?? '')?.[1] ?? 'unknown version';
  }
  return version;
}

/** "127.0.0.1:6379" → an ioredis connection that fails fast instead of retrying forever. */
export function redisConnect(address: string): Redis {
  const [host, port] = address.split(':');
  return new Redis({
    host,
    port: Number(port),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
}

async function pingAnswers(address: string): Promise<boolean> {
  const redis = redisConnect(address);
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } finally {
    redis.disconnect();
  }
}

async function createStream(address: string, key: string, partitions: number, log: (line: string) => void): Promise<void> {
  if (partitions !== 1) log(`redis: ${key} asks for ${partitions} partitions; Redis gets one stream key`);
  const redis = redisConnect(address);
  try {
    await redis.connect();
    // An empty stream: one entry added and trimmed away (no consumer group left behind).
    await redis.multi().del(key).xadd(key, '*', 'v', '').xtrim(key, 'MAXLEN', 0).exec();
  } finally {
    redis.disconnect();
  }
}

async function deleteStream(address: string, key: string): Promise<void> {
  const redis = redisConnect(address);
  try {
    await redis.connect();
    await redis.del(key);
  } finally {
    redis.disconnect();
  }
}

export const redisSystem: SystemDefinition = {
  id: 'redis',
  get label(): string {
    return `Redis ${redisServerVersion()} Streams (AOF everysec)`;
  },
  async unavailable(): Promise<string | null> {
    if (!(await hasCommand(SERVER))) return `${SERVER} not found (apt-get install redis-server, or scripts/install-bench-deps.sh)`;
    return null;
  },
  async start(opts: SystemStartOptions): Promise<RunningSystem> {
    if (opts.durable) opts.log('redis: no fsync before each reply in this setup (appendfsync everysec)');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const t0 = performance.now();
    const server = ServerProcess.spawn('redis', SERVER, [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', opts.dataDir,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
      // Not a daemon, no protected mode, logs to stdout (kept by ServerProcess).
      '--daemonize', 'no', '--protected-mode', 'no', '--logfile', '',
    ]);
    await server.waitReady(() => pingAnswers(address), START_DEADLINE_MS, `redis-server on ${address}`, 10, STOP_DEADLINE_MS);
    const startupMs = performance.now() - t0;
    opts.log(`redis: redis-server ${redisServerVersion()} ready on ${address} in ${startupMs.toFixed(0)} ms`);
    return {
      id: 'redis',
      address,
      pid: server.pid,
      startupMs,
      createTopic: (name, partitions) => createStream(address, name, partitions, opts.log),
      deleteTopic: (name) => deleteStream(address, name),
      stop: () => server.stop(STOP_DEADLINE_MS),
    };
  },
};
