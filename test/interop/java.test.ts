// The Java client (org.apache.kafka:kafka-clients, a 3.9.x and a 4.x release) against a real
// Gödel broker: the producer with its default settings (idempotent, acks=all), a consumer with
// assign(), a consumer group, and the AdminClient. java/ is a small Maven project built once per
// client version (offline when ~/.m2 has everything, as scripts/install-interop-deps.sh leaves it).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  brokerProblems, describeRun, expectIdempotentBatches, expectStoredCodec, expectSameRecords, GROUP_APIS, INTEROP_DIR, jsonLines, killAll, missingTool,
  requireCommand, run, setupOnce, startBroker, uniqueName, withApiHint,
  type GotRecord, type InteropBroker, type RunResult, type SentRecord,
} from './helpers.js';

/** Keep in step with KAFKA_CLIENTS_VERSIONS in scripts/install-interop-deps.sh. */
const VERSIONS = (process.env.GODEL_INTEROP_KAFKA_VERSIONS ?? '3.9.2,4.4.0').split(',').map((v) => v.trim());
const PROJECT = path.join(INTEROP_DIR, 'java');
const PARTITIONS = 3;
const RUN_TIMEOUT_MS = 180_000;

let broker: InteropBroker;

async function build(version: string): Promise<void> {
  const args = ['-q', '-B', '-f', path.join(PROJECT, 'pom.xml'), `-Dkafka.version=${version}`, 'package'];
  const offline = await run('mvn', ['-o', ...args], { timeoutMs: 600_000 });
  if (offline.code === 0) return;
  // Not everything is in ~/.m2 yet: resolve from Maven Central.
  const online = await run('mvn', args, { timeoutMs: 900_000 });
  if (online.code !== 0) {
    throw new Error(`building test/interop/java with kafka-clients ${version} failed (run \`bash scripts/install-interop-deps.sh\` to pre-fetch):\n` +
      `${describeRun('mvn -o package', offline)}\n${describeRun('mvn package', online)}`);
  }
}

setupOnce(async () => {
  requireCommand('Java (java -version)', 'java', ['-version']);
  requireCommand('Maven (mvn -v)', 'mvn', ['-v']);
  for (const v of VERSIONS) {
    try {
      await build(v);
    } catch (err) {
      throw missingTool(`the Java interop driver for kafka-clients ${v}`, (err as Error).message);
    }
    if (!fs.existsSync(path.join(PROJECT, `target/kafka-${v}/lib/kafka-clients-${v}.jar`))) {
      throw missingTool(`kafka-clients-${v}.jar in test/interop/java/target`);
    }
  }
  broker = await startBroker({ set: { 'num.partitions': String(PARTITIONS) } });
});

afterAll(async () => {
  killAll();
  await broker?.stop();
});

interface Line {
  type: string;
  [k: string]: unknown;
}

interface JavaRun {
  r: RunResult;
  lines: Line[];
  why: string;
}

async function java(version: string, args: string[]): Promise<JavaRun> {
  const target = path.join(PROJECT, `target/kafka-${version}`);
  const cp = `${path.join(target, 'classes')}${path.delimiter}${path.join(target, 'lib', '*')}`;
  const r = await run('java', ['-cp', cp, 'godel.interop.Main', args[0]!, '--bootstrap', broker.bootstrap, ...args.slice(1)],
    { timeoutMs: RUN_TIMEOUT_MS });
  const lines = jsonLines<Line>(r.stdout);
  const why = `${describeRun(`java (kafka-clients ${version}) ${args.join(' ')}`, r)}\n  broker warnings:\n${brokerProblems(broker)}`;
  const v = lines.find((l) => l.type === 'version');
  expect(v?.kafkaClients, `the driver runs kafka-clients ${version}\n${why}`).toBe(version);
  return { r, lines, why };
}

function sentRecords(run: JavaRun, count: number): SentRecord[] {
  expect(run.lines.filter((l) => l.type === 'error'), `produce errors\n${run.why}`).toEqual([]);
  const sent = run.lines.filter((l) => l.type === 'sent');
  expect(sent.length, `acknowledged sends\n${run.why}`).toBe(count);
  expect(run.r.code, run.why).toBe(0);
  return sent.map((l) => {
    const i = l.i as number;
    return { key: `k-${i}`, value: `v-${i}`, headers: [['i', String(i)], ['src', 'java']], partition: l.partition as number, offset: l.offset as number };
  });
}

function records(run: JavaRun): GotRecord[] {
  return run.lines.filter((l) => l.type === 'record') as unknown as GotRecord[];
}

function okStep<T = unknown>(run: JavaRun, name: string): T {
  const s = run.lines.find((l) => l.type === 'step' && l.step === name);
  expect(s, `step ${name}\n${run.why}`).toBeDefined();
  expect(s!.ok, `${name}: ${JSON.stringify(s!.error)}\n${run.why}`).toBe(true);
  return s!.result as T;
}

describe.each(VERSIONS)('kafka-clients %s', (version) => {
  test('producer with default settings (idempotent, acks=all): every record once, in order; assign() reads them back',
    () => withApiHint(broker, [22], async () => {
      const topic = uniqueName(`java-${version}-produce`);
      const count = 90;
      const prod = await java(version, ['produce', '--topic', topic, '--count', String(count), '--partitions', String(PARTITIONS)]);
      const sent = sentRecords(prod, count);
      expect(sent.map((s) => [s.partition, s.offset]), `partition/offset per record\n${prod.why}`).toEqual(
        sent.map((_, i) => [i % PARTITIONS, Math.floor(i / PARTITIONS)]));
      // Idempotent by default: the stored batches carry its producer id and gap-free sequences.
      expectIdempotentBatches(await expectStoredCodec(broker, topic, 'none', count), `kafka-clients ${version} default producer`);

      const cons = await java(version, ['consume-assign', '--topic', topic, '--partitions', String(PARTITIONS), '--expect', String(count)]);
      expectSameRecords(records(cons), sent, { contiguousFrom: 0, what: `kafka-clients ${version} default producer` });
      const marks = cons.lines.filter((l) => l.type === 'offsets').map((l) => [l.partition, l.beginning, l.end]);
      expect(marks, cons.why).toEqual([[0, 0, 30], [1, 0, 30], [2, 0, 30]]);
      const positions = cons.lines.filter((l) => l.type === 'position').map((l) => [l.partition, l.offset]);
      expect(positions, cons.why).toEqual([[0, 30], [1, 30], [2, 30]]);
      for (const r of records(cons)) expect(r.timestamp, cons.why).toBeGreaterThan(1_600_000_000_000);
    }));

  test.each(['gzip', 'zstd'])('default producer with compression.type=%s: records come back once, in order', (codec) =>
    withApiHint(broker, [22], async () => {
      const topic = uniqueName(`java-${version}-${codec}`);
      const count = 60;
      const prod = await java(version, ['produce', '--topic', topic, '--count', String(count), '--partitions', String(PARTITIONS), '--compression', codec]);
      const sent = sentRecords(prod, count);
      expectIdempotentBatches(await expectStoredCodec(broker, topic, codec, count), `kafka-clients ${version} ${codec}`);
      const cons = await java(version, ['consume-assign', '--topic', topic, '--partitions', String(PARTITIONS), '--expect', String(count)]);
      expectSameRecords(records(cons), sent, { contiguousFrom: 0, what: `kafka-clients ${version} ${codec}` });
    }));

  test('consumer assign() + seek into the middle of a batch', async () => {
    const topic = uniqueName(`java-${version}-seek`);
    const prod = await java(version, ['produce', '--topic', topic, '--count', '40', '--partitions', '2']);
    const sent = sentRecords(prod, 40);
    const expected = sent.filter((s) => s.partition === 0 || s.offset! >= 11);
    const cons = await java(version, ['consume-assign', '--topic', topic, '--partitions', '2', '--expect', String(expected.length), '--seek', '1:11']);
    expectSameRecords(records(cons), expected, { what: `kafka-clients ${version} seek 1:11` });
  });

  test('consumer group: subscribe, commit, committed offsets, resume', () => withApiHint(broker, GROUP_APIS, async () => {
    const topic = uniqueName(`java-${version}-group`);
    const group = uniqueName(`java-${version}-g`);
    const prod = await java(version, ['produce', '--topic', topic, '--count', '30', '--partitions', String(PARTITIONS)]);
    const sent = sentRecords(prod, 30);
    const first = await java(version, ['consume-group', '--topic', topic, '--group', group, '--expect', '30']);
    expect(first.lines.filter((l) => l.type === 'error'), first.why).toEqual([]);
    expectSameRecords(records(first), sent, { contiguousFrom: 0, what: `kafka-clients ${version} group, first run` });
    const assignment = first.lines.find((l) => l.type === 'assignment')?.partitions as number[] | undefined;
    expect([...(assignment ?? [])].sort(), first.why).toEqual([0, 1, 2]);
    const committed = first.lines.filter((l) => l.type === 'committed').map((l) => [l.partition, l.offset])
      .sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(committed, first.why).toEqual([[0, 10], [1, 10], [2, 10]]);

    // Records 30..38 of a second producer run: key/value numbering restarts, so check by offset.
    const prod2 = await java(version, ['produce', '--topic', topic, '--count', '9', '--partitions', String(PARTITIONS)]);
    const sent2 = sentRecords(prod2, 9);
    const second = await java(version, ['consume-group', '--topic', topic, '--group', group, '--expect', '9']);
    expect(second.lines.filter((l) => l.type === 'error'), second.why).toEqual([]);
    expectSameRecords(records(second), sent2, { what: `kafka-clients ${version} group, second run (from the committed offsets)` });
    for (const r of records(second)) expect(r.offset, second.why).toBeGreaterThanOrEqual(10);
  }));

  test('AdminClient: createTopics (and again), listTopics, describeTopics, describeConfigs, describeCluster, describeLogDirs, deleteTopics', async () => {
    const topic = uniqueName(`java-${version}-admin`);
    const a = await java(version, ['admin', '--topic', topic]);
    okStep(a, 'createTopics');
    const again = a.lines.find((l) => l.step === 'createTopics-again');
    expect(again?.ok, a.why).toBe(false);
    expect((again?.error as { class: string } | undefined)?.class, a.why).toBe('org.apache.kafka.common.errors.TopicExistsException');
    expect(okStep<string[]>(a, 'listTopics'), a.why).toContain(topic);
    const d = okStep<{ name: string; internal: boolean; topicId: string | null; partitions: unknown[] }>(a, 'describeTopics');
    expect(d.name, a.why).toBe(topic);
    expect(d.internal, a.why).toBe(false);
    expect(d.topicId, `a real topic id\n${a.why}`).not.toBe('AAAAAAAAAAAAAAAAAAAAAA');
    expect(d.partitions, a.why).toEqual([0, 1, 2].map((p) => ({ partition: p, leader: 1, replicas: 1, isr: 1 })));
    const configs = okStep<Record<string, { value: string | null; source: string }>>(a, 'describeConfigs');
    expect(configs['retention.ms'], a.why).toEqual({ value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG', readOnly: false });
    expect(configs['cleanup.policy']?.value, a.why).toBe('delete');
    expect(configs['max.message.bytes']?.value, `a default topic config is described too\n${a.why}`).toMatch(/^\d+$/);
    const cluster = okStep<{ clusterId: string | null; nodes: unknown[]; controller: number | null }>(a, 'describeCluster');
    expect(cluster.nodes, a.why).toEqual([{ id: 1, host: broker.host, port: broker.port }]);
    expect(cluster.clusterId, a.why).toBeTruthy();
    // DescribeLogDirs v4 (both client versions' highest that we speak): one dir, the new topic's
    // three empty partitions, the volume's bytes.
    const dirs = okStep<Array<{ broker: number; path: string; error: string | null; totalBytes: number | null; usableBytes: number | null; replicas: unknown[] }>>(a, 'describeLogDirs');
    expect(dirs, a.why).toHaveLength(1);
    expect(dirs[0], a.why).toMatchObject({ broker: 1, error: null, replicas: [0, 1, 2].map((p) => ({ partition: p, size: 0, offsetLag: 0, isFuture: false })) });
    expect(path.isAbsolute(dirs[0]!.path), a.why).toBe(true);
    expect(dirs[0]!.totalBytes, a.why).toBeGreaterThan(0);
    expect(dirs[0]!.usableBytes, a.why).toBeGreaterThan(0);
    okStep(a, 'deleteTopics');
    expect(okStep<string[]>(a, 'listTopics-after-delete'), a.why).not.toContain(topic);
    const gone = a.lines.find((l) => l.step === 'describeTopics-after-delete');
    expect(gone?.ok, a.why).toBe(false);
    expect((gone?.error as { class: string } | undefined)?.class, a.why).toBe('org.apache.kafka.common.errors.UnknownTopicOrPartitionException');
  });
});
