// Java's AdminClient.deleteConsumerGroupOffsets (OffsetDelete, api key 47) against Gödel, with
// kafka-clients 3.9.2 and 4.4.0 (both define OffsetDelete v0 only): offsets of an empty group are
// deleted (OffsetFetch shows -1), an unknown group fails with GroupIdNotFoundException, and a topic
// an active consumer group subscribes to with GroupSubscribedToTopicException.
import path from 'node:path';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { afterAll, describe, expect, test } from 'vitest';
import {
  brokerProblems, describeRun, INTEROP_DIR, jsonLines, killAll, missingTool, requireCommand, run, setupOnce, startBroker, uniqueName, waitFor,
  type InteropBroker,
} from './helpers.js';

const VERSIONS = (process.env.GODEL_INTEROP_KAFKA_VERSIONS ?? '3.9.2,4.4.0').split(',').map((v) => v.trim());
const PROJECT = path.join(INTEROP_DIR, 'java');

let broker: InteropBroker;
let kafka: Kafka;
let admin: Admin;
const consumers: Consumer[] = [];

setupOnce(async () => {
  requireCommand('Java (java -version)', 'java', ['-version']);
  requireCommand('Maven (mvn -v)', 'mvn', ['-v']);
  for (const v of VERSIONS) {
    const args = ['-q', '-B', '-f', path.join(PROJECT, 'pom.xml'), `-Dkafka.version=${v}`, 'package'];
    const offline = await run('mvn', ['-o', ...args], { timeoutMs: 600_000 });
    if (offline.code !== 0) {
      const online = await run('mvn', args, { timeoutMs: 900_000 });
      if (online.code !== 0) throw missingTool(`the Java interop driver for kafka-clients ${v}`, describeRun('mvn package', online));
    }
  }
  broker = await startBroker();
  kafka = new Kafka({ clientId: 'interop-offset-delete', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  killAll();
  for (const c of consumers) await c.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await broker?.stop();
});

interface Line {
  type: string;
  [k: string]: unknown;
}

async function offsetDelete(version: string, group: string, topic: string, partitions: number[]): Promise<{ all: string; outcomes: Record<number, string>; why: string }> {
  const target = path.join(PROJECT, `target/kafka-${version}`);
  const cp = `${path.join(target, 'classes')}${path.delimiter}${path.join(target, 'lib', '*')}`;
  const r = await run('java', ['-cp', cp, 'godel.interop.Main', 'offset-delete', '--bootstrap', broker.bootstrap,
    '--group', group, '--topic', topic, '--partitions', partitions.join(',')], { timeoutMs: 180_000 });
  const why = `${describeRun(`java (kafka-clients ${version}) offset-delete ${group}`, r)}\n  broker warnings:\n${brokerProblems(broker)}`;
  const lines = jsonLines<Line>(r.stdout);
  expect(lines.find((l) => l.type === 'version')?.kafkaClients, why).toBe(version);
  expect(r.code, why).toBe(0);
  const outcomes: Record<number, string> = {};
  for (const l of lines) if (l.type === 'partition') outcomes[l.partition as number] = l.outcome as string;
  return { all: lines.find((l) => l.type === 'offset-delete')?.all as string, outcomes, why };
}

async function committed(groupId: string, topic: string): Promise<Record<number, string>> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return Object.fromEntries(t!.partitions.map((p) => [p.partition, p.offset]));
}

describe.each(VERSIONS)('Java AdminClient deleteConsumerGroupOffsets (kafka-clients %s)', (version) => {
  test('deletes an empty group\'s offsets; an unknown group is GroupIdNotFoundException', async () => {
    const topic = uniqueName(`od-java-${version}`);
    const group = uniqueName(`od-java-empty-${version}`);
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '4' }] });
    const res = await offsetDelete(version, group, topic, [0]);
    expect(res.all, res.why).toBe('ok');
    expect(res.outcomes, res.why).toEqual({ 0: 'ok' });
    expect(await committed(group, topic)).toEqual({ 0: '-1', 1: '4' });

    const unknown = await offsetDelete(version, uniqueName('od-java-unknown'), topic, [0]);
    expect(unknown.all, unknown.why).toBe('GroupIdNotFoundException');
  });

  test('a topic the active group subscribes to is GroupSubscribedToTopicException', async () => {
    const topic = uniqueName(`od-java-sub-${version}`);
    const group = uniqueName(`od-java-active-${version}`);
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '0' }] });
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 500 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async () => undefined });
    await waitFor(`${group} Stable`, async () => (await admin.describeGroups([group])).groups[0]!.state === 'Stable');
    const res = await offsetDelete(version, group, topic, [0]);
    expect(res.outcomes, res.why).toEqual({ 0: 'GroupSubscribedToTopicException' });
    expect(res.all, res.why).toBe('GroupSubscribedToTopicException');
    await consumer.disconnect();
  });
});
