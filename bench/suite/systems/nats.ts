// NATS JetStream as a peer system: Debian's nats-server, JetStream on with file storage under the
// data directory, 127.0.0.1 on a free port, no monitoring port (no -m). Ready at the first
// successful JetStream request (account info) through the official client.
// A "topic" is one stream holding one subject of the same name (natsStreamName), file storage, no
// limits, one replica. JetStream has no fsync-before-ack: file storage syncs every sync_interval (2 minutes by
// default), so the generators decline durable workloads.
import { spawnSync } from 'node:child_process';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { freePort, hasCommand } from '../exec.js';
import type { RunningSystem, SystemDefinition, SystemStartOptions } from '../types.js';
import { ServerProcess } from './server-process.js';

const SERVER = 'nats-server';
const START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 60_000;

let version: string | undefined;

/** "v2.9.10", from `nats-server --version` (once). */
export function natsServerVersion(): string {
  if (version === undefined) {
    const r = spawnSync(SERVER, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    version = /v\d+\.\d+\.\d+\S*/.exec(r.stdout ?? '')?.[0] ?? 'unknown version';
  }
  return version;
}

/**
 * The stream (and its one subject) for a topic: stream names may not hold '.', '*', '>', path
 * separators or spaces, and the suite's topic names can ("…-nats.js-0").
 */
export function natsStreamName(topic: string): string {
  return topic.replace(/[.*>/\\\s]/g, '_');
}

/** Connects the official client to a server the suite started (no reconnects: it is local). */
export function natsConnect(address: string): Promise<NatsConnection> {
  return connect({ servers: address, reconnect: false, timeout: 5_000, noEcho: true });
}

async function jetStreamAnswers(address: string): Promise<boolean> {
  const nc = await natsConnect(address);
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
    return true;
  } finally {
    await nc.close();
  }
}

async function createStream(address: string, topic: string, partitions: number, log: (line: string) => void): Promise<void> {
  const name = natsStreamName(topic);
  if (partitions !== 1) log(`nats: ${topic} asks for ${partitions} partitions; JetStream gets one stream with one subject`);
  const nc = await natsConnect(address);
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name,
      subjects: [name],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_msgs: -1,
      max_bytes: -1,
      num_replicas: 1,
    });
  } finally {
    await nc.close();
  }
}

async function deleteStream(address: string, topic: string): Promise<void> {
  const nc = await natsConnect(address);
  try {
    await (await jetstreamManager(nc)).streams.delete(natsStreamName(topic));
  } finally {
    await nc.close();
  }
}

export const natsSystem: SystemDefinition = {
  id: 'nats',
  get label(): string {
    return `NATS JetStream ${natsServerVersion()} (file storage)`;
  },
  async unavailable(): Promise<string | null> {
    if (!(await hasCommand(SERVER))) return `${SERVER} not found (apt-get install nats-server, or scripts/install-bench-deps.sh)`;
    return null;
  },
  async start(opts: SystemStartOptions): Promise<RunningSystem> {
    if (opts.durable) opts.log('nats: no fsync before ack in JetStream; file storage syncs every sync_interval (default 2 min)');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const t0 = performance.now();
    const server = ServerProcess.spawn('nats', SERVER, ['-js', '-sd', opts.dataDir, '-a', '127.0.0.1', '-p', String(port)]);
    await server.waitReady(() => jetStreamAnswers(address), START_DEADLINE_MS, `nats-server on ${address}`, 10, STOP_DEADLINE_MS);
    const startupMs = performance.now() - t0;
    opts.log(`nats: nats-server ${natsServerVersion()} ready on ${address} in ${startupMs.toFixed(0)} ms`);
    return {
      id: 'nats',
      address,
      pid: server.pid,
      startupMs,
      createTopic: (name, partitions) => createStream(address, name, partitions, opts.log),
      deleteTopic: (name) => deleteStream(address, name),
      stop: () => server.stop(STOP_DEADLINE_MS),
    };
  },
};
