// Apache Kafka as a system under test: one node in KRaft combined mode (broker and controller in
// one JVM), default settings apart from what a single node needs (replication factors 1) and, in
// durable mode, log.flush.interval.messages=1 (an fsync before every acknowledgement). Heap as in
// Kafka's own start scripts: -Xmx1G -Xms1G. Listeners on free 127.0.0.1 ports; data under dataDir.
// Ready when the PLAINTEXT listener answers ApiVersions.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../exec.js';
import { freePort } from '../exec.js';
import { KAFKA_VERSION, kafkaDist, kafkaToolsMissing } from '../kafka-dist.js';
import type { RunningSystem, SystemDefinition, SystemStartOptions } from '../types.js';
import { apiVersionsOk, createKafkaTopic, deleteKafkaTopic } from './kafka-protocol.js';
import { ServerProcess } from './server-process.js';

const START_DEADLINE_MS = 120_000;
const HEAP = ['-Xmx1G', '-Xms1G'];

export const kafkaSystem: SystemDefinition = {
  id: 'kafka',
  label: `Apache Kafka ${KAFKA_VERSION} (KRaft)`,
  async unavailable(opts: SystemStartOptions): Promise<string | null> {
    const missing = await kafkaToolsMissing();
    if (missing !== null) return missing;
    try {
      await kafkaDist(opts.cacheDir, opts.log);
      return null;
    } catch (err) {
      return `Kafka jars unavailable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    }
  },
  async start(opts: SystemStartOptions): Promise<RunningSystem> {
    const dist = await kafkaDist(opts.cacheDir, opts.log);
    const port = await freePort();
    const controllerPort = await freePort();
    const logDir = path.join(opts.dataDir, 'kraft-combined-logs');
    const props = [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${logDir}`,
      'offsets.topic.replication.factor=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      ...(opts.durable ? ['log.flush.interval.messages=1'] : []),
    ];
    const config = path.join(opts.dataDir, 'server.properties');
    await fs.writeFile(config, `${props.join('\n')}\n`);
    const java = ['-cp', dist.classpath, ...dist.jvmOptions];
    const format = await exec('java', [...java, 'kafka.tools.StorageTool', 'format', '-t', crypto.randomUUID().replace(/-/g, '').slice(0, 22), '-c', config], { timeoutMs: 120_000 });
    if (format.code !== 0) throw new Error(`kafka-storage format failed: ${format.stdout}${format.stderr}`);
    const t0 = performance.now();
    const server = ServerProcess.spawn('kafka', 'java', [...HEAP, '-XX:+UseG1GC', '-Djava.awt.headless=true', ...java, 'kafka.Kafka', config]);
    const address = `127.0.0.1:${port}`;
    await server.waitReady(() => apiVersionsOk(address), START_DEADLINE_MS, 'Kafka');
    const startupMs = performance.now() - t0;
    return {
      id: 'kafka', address, pid: server.pid, startupMs,
      createTopic: (name, partitions) => createKafkaTopic(address, name, partitions),
      deleteTopic: (name) => deleteKafkaTopic(address, name),
      stop: () => server.stop(),
    };
  },
};
