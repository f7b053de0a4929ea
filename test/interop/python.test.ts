// kafka-python 2.0 and confluent-kafka 1.7 (librdkafka 2.0), the Debian packages, against a real
// Gödel broker: producers (acks, compression, delivery reports, idempotence), consumers with
// assign()+seek and with a group, and the admin clients. The scripts in python/ print JSON lines;
// every check is on the records that come back.
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  brokerProblems, describeRun, expectIdempotentBatches, expectStoredCodec, expectSameRecords, GROUP_APIS, INTEROP_DIR, jsonLines, killAll, pythonCommand,
  requireCommand, run, setupOnce, startBroker, uniqueName, withApiHint,
  type GotRecord, type InteropBroker, type RunResult, type SentRecord,
} from './helpers.js';

const PARTITIONS = 3;
const RUN_TIMEOUT_MS = 150_000;
const KAFKA_PYTHON = path.join(INTEROP_DIR, 'python/kafka_python_client.py');
const CONFLUENT = path.join(INTEROP_DIR, 'python/confluent_client.py');

let broker: InteropBroker;
const python = pythonCommand();

setupOnce(async () => {
  requireCommand(`kafka-python for ${python} (Debian package python3-kafka)`, python, ['-c', 'import kafka']);
  requireCommand(`confluent-kafka for ${python} (Debian package python3-confluent-kafka)`, python, ['-c', 'import confluent_kafka']);
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

interface PyRun {
  r: RunResult;
  lines: Line[];
  /** For assertion messages: how the script ran, and what the broker warned about. */
  why: string;
}

async function py(script: string, args: string[]): Promise<PyRun> {
  const r = await run(python, [script, broker.bootstrap, ...args], { timeoutMs: RUN_TIMEOUT_MS });
  const lines = jsonLines<Line>(r.stdout);
  const why = `${describeRun(`${path.basename(script)} ${args.join(' ')}`, r)}\n  broker warnings:\n${brokerProblems(broker)}`;
  const fatal = lines.find((l) => l.type === 'fatal');
  if (fatal) throw new Error(`${JSON.stringify(fatal.error)}\n${String(fatal.trace)}\n${why}`);
  return { r, lines, why };
}

/** What `produce` sent, with the partition and offset each delivery report gave. */
function sentRecords(run: PyRun, tag: string, src: string, count: number): SentRecord[] {
  const errors = run.lines.filter((l) => l.type === 'error');
  expect(errors, `produce errors\n${run.why}`).toEqual([]);
  const sent = run.lines.filter((l) => l.type === 'sent');
  expect(sent.length, `delivery reports\n${run.why}`).toBe(count);
  expect(run.r.code, run.why).toBe(0);
  return sent.map((l) => {
    const i = l.i as number;
    return {
      key: `k-${i}`, value: `${tag}-${i}`, headers: [['i', String(i)], ['src', src]],
      partition: l.partition as number, offset: l.offset as number,
    };
  });
}

function records(run: PyRun): GotRecord[] {
  return run.lines.filter((l) => l.type === 'record') as unknown as GotRecord[];
}

/** Delivery reports of a fresh topic: record i in partition i % P, at offset floor(i / P). */
function expectFreshOffsets(sent: SentRecord[], partitions: number, why: string): void {
  expect(sent.map((s) => [s.partition, s.offset]), `partition/offset per record\n${why}`).toEqual(
    sent.map((_, i) => [i % partitions, Math.floor(i / partitions)]));
}

function step(run: PyRun, name: string): Line {
  const s = run.lines.find((l) => l.type === 'step' && l.step === name);
  expect(s, `step ${name}\n${run.why}`).toBeDefined();
  return s!;
}

function okStep<T = unknown>(run: PyRun, name: string): T {
  const s = step(run, name);
  expect(s.ok, `${name}: ${JSON.stringify(s.error)}\n${String(s.trace ?? '')}\n${run.why}`).toBe(true);
  return s.result as T;
}

// ---------------------------------------------------------------------------------------------

describe('kafka-python', () => {
  test.each([
    { acks: '1', compression: null },
    { acks: 'all', compression: 'gzip' },
  ])('producer acks=$acks compression=$compression, then assign() + seek_to_beginning', async ({ acks, compression }) => {
    const topic = uniqueName(`kp-acks${acks}`);
    const count = 45;
    const args = ['produce', topic, String(count), '--partitions', String(PARTITIONS), '--acks', acks, '--tag', 'kp'];
    if (compression) args.push('--compression', compression);
    const prod = await py(KAFKA_PYTHON, args);
    const sent = sentRecords(prod, 'kp', 'kafka-python', count);
    expectFreshOffsets(sent, PARTITIONS, prod.why);
    await expectStoredCodec(broker, topic, compression ?? 'none', count);

    const cons = await py(KAFKA_PYTHON, ['consume-assign', topic, '--partitions', String(PARTITIONS), '--expect', String(count)]);
    expectSameRecords(records(cons), sent, { contiguousFrom: 0, what: `kafka-python acks=${acks}` });
    const ends = cons.lines.filter((l) => l.type === 'offsets').map((l) => [l.partition, l.beginning, l.end]);
    expect(ends, cons.why).toEqual([[0, 0, 15], [1, 0, 15], [2, 0, 15]]);
  });

  test('consumer assign() + seek to an offset in the middle of a batch', async () => {
    const topic = uniqueName('kp-seek');
    const count = 40;
    const prod = await py(KAFKA_PYTHON, ['produce', topic, String(count), '--partitions', '2', '--acks', 'all', '--tag', 'seek']);
    const sent = sentRecords(prod, 'seek', 'kafka-python', count);
    // Partition 1 holds records 1, 3, 5 … at offsets 0..19; start it at offset 7.
    const expected = sent.filter((s) => s.partition === 0 || s.offset! >= 7);
    const cons = await py(KAFKA_PYTHON, ['consume-assign', topic, '--partitions', '2', '--expect', String(expected.length), '--seek', '1:7']);
    expectSameRecords(records(cons), expected, { what: 'kafka-python seek 1:7' });
    const positions = cons.lines.filter((l) => l.type === 'position').map((l) => [l.partition, l.offset]);
    expect(positions, cons.why).toEqual([[0, 20], [1, 20]]);
  });

  test('consumer group: subscribe, commit, committed offsets, resume', () => withApiHint(broker, GROUP_APIS, async () => {
    const topic = uniqueName('kp-group');
    const group = uniqueName('kp-g');
    const prod = await py(KAFKA_PYTHON, ['produce', topic, '30', '--partitions', String(PARTITIONS), '--acks', 'all', '--tag', 'g1']);
    const sent = sentRecords(prod, 'g1', 'kafka-python', 30);
    const first = await py(KAFKA_PYTHON, ['consume-group', topic, group, '--expect', '30']);
    expectSameRecords(records(first), sent, { contiguousFrom: 0, what: 'kafka-python group, first run' });
    const assignment = first.lines.find((l) => l.type === 'assignment');
    expect(assignment?.partitions, first.why).toEqual([0, 1, 2]);
    const committed = first.lines.filter((l) => l.type === 'committed').map((l) => [l.partition, l.offset]);
    expect(committed, first.why).toEqual([[0, 10], [1, 10], [2, 10]]);

    const prod2 = await py(KAFKA_PYTHON, ['produce', topic, '9', '--partitions', String(PARTITIONS), '--acks', 'all', '--tag', 'g2']);
    const sent2 = sentRecords(prod2, 'g2', 'kafka-python', 9);
    const second = await py(KAFKA_PYTHON, ['consume-group', topic, group, '--expect', '9']);
    expectSameRecords(records(second), sent2, { what: 'kafka-python group, second run (from the committed offsets)' });
  }));

  test('admin client: create (and again), list, describe topics, describe configs, delete', async () => {
    const topic = uniqueName('kp-admin');
    const a = await py(KAFKA_PYTHON, ['admin', topic]);
    okStep(a, 'create_topics');
    const again = step(a, 'create_topics_again');
    expect(again.ok, a.why).toBe(false);
    expect((again.error as { class: string }).class, a.why).toBe('TopicAlreadyExistsError');
    expect(okStep<string[]>(a, 'list_topics'), a.why).toContain(topic);
    expect(okStep(a, 'describe_topics'), a.why).toEqual([{
      topic, error_code: 0, is_internal: false,
      partitions: [0, 1, 2].map((p) => ({ partition: p, leader: 1, replicas: [1], isr: [1], error_code: 0 })),
    }]);
    const configs = okStep<{ error_code: number; resource: string; configs: Record<string, string | null> }>(a, 'describe_configs');
    expect(configs.error_code, a.why).toBe(0);
    expect(configs.resource, a.why).toBe(topic);
    expect(configs.configs['retention.ms'], a.why).toBe('3600000');
    expect(configs.configs['cleanup.policy'], a.why).toBe('delete');
    const cluster = okStep<{ brokers: unknown[] }>(a, 'describe_cluster');
    expect(JSON.stringify(cluster.brokers), a.why).toContain(String(broker.port));
    okStep(a, 'delete_topics');
    expect(okStep<string[]>(a, 'list_topics_after_delete'), a.why).not.toContain(topic);
  });
});

// ---------------------------------------------------------------------------------------------

describe('confluent-kafka', () => {
  test.each([
    { acks: 'all', compression: 'none', idempotent: false },
    { acks: '1', compression: 'snappy', idempotent: false },
    { acks: 'all', compression: 'zstd', idempotent: false },
    { acks: 'all', compression: 'lz4', idempotent: true },
  ])('producer acks=$acks $compression idempotent=$idempotent: delivery callbacks report the offsets, assign() reads them back',
    async ({ acks, compression, idempotent }) => {
      const run = async (): Promise<void> => {
        const topic = uniqueName(`ck-${compression}`);
        const count = 60;
        const args = ['produce', topic, String(count), '--partitions', String(PARTITIONS), '--acks', acks,
          '--compression', compression, '--tag', 'ck'];
        if (idempotent) args.push('--idempotent');
        const prod = await py(CONFLUENT, args);
        const sent = sentRecords(prod, 'ck', 'confluent-kafka', count);
        expectFreshOffsets(sent, PARTITIONS, prod.why);
        // librdkafka sends a batch uncompressed when compressing would not shrink it (a batch
        // that left with one record), as the kcat tests allow too.
        const batches = await expectStoredCodec(broker, topic, compression, count, { orUncompressed: compression !== 'none' });
        if (idempotent) expectIdempotentBatches(batches, `confluent-kafka idempotent ${compression}`);
        const cons = await py(CONFLUENT, ['consume-assign', topic, '--partitions', String(PARTITIONS), '--expect', String(count)]);
        expectSameRecords(records(cons), sent, { contiguousFrom: 0, what: `confluent-kafka ${compression}` });
        const marks = cons.lines.filter((l) => l.type === 'offsets').map((l) => [l.partition, l.beginning, l.end]);
        expect(marks, cons.why).toEqual([[0, 0, 20], [1, 0, 20], [2, 0, 20]]);
      };
      // The idempotent producer needs InitProducerId (22).
      await (idempotent ? withApiHint(broker, [22], run) : run());
    });

  test('consumer assign() at an offset', async () => {
    const topic = uniqueName('ck-seek');
    const prod = await py(CONFLUENT, ['produce', topic, '30', '--partitions', '1', '--tag', 'off']);
    const sent = sentRecords(prod, 'off', 'confluent-kafka', 30);
    const cons = await py(CONFLUENT, ['consume-assign', topic, '--partitions', '1', '--expect', '17', '--seek', '0:13']);
    expectSameRecords(records(cons), sent.slice(13), { contiguousFrom: 13, what: 'confluent-kafka from offset 13' });
  });

  test('consumer group: subscribe, commit, committed offsets, resume', () => withApiHint(broker, GROUP_APIS, async () => {
    const topic = uniqueName('ck-group');
    const group = uniqueName('ck-g');
    const prod = await py(CONFLUENT, ['produce', topic, '30', '--partitions', String(PARTITIONS), '--tag', 'g1']);
    const sent = sentRecords(prod, 'g1', 'confluent-kafka', 30);
    const first = await py(CONFLUENT, ['consume-group', topic, group, '--expect', '30']);
    expectSameRecords(records(first), sent, { contiguousFrom: 0, what: 'confluent-kafka group, first run' });
    expect(first.lines.find((l) => l.type === 'assigned')?.partitions, first.why).toEqual([0, 1, 2]);
    const committed = first.lines.filter((l) => l.type === 'committed').map((l) => [l.partition, l.offset]);
    expect(committed, first.why).toEqual([[0, 10], [1, 10], [2, 10]]);

    const prod2 = await py(CONFLUENT, ['produce', topic, '9', '--partitions', String(PARTITIONS), '--tag', 'g2']);
    const sent2 = sentRecords(prod2, 'g2', 'confluent-kafka', 9);
    const second = await py(CONFLUENT, ['consume-group', topic, group, '--expect', '9']);
    expectSameRecords(records(second), sent2, { what: 'confluent-kafka group, second run (from the committed offsets)' });
  }));

  test('AdminClient: create (again, validate_only), list topics, describe configs, delete', async () => {
    const topic = uniqueName('ck-admin');
    const a = await py(CONFLUENT, ['admin', topic]);
    okStep(a, 'create_topics');
    const again = step(a, 'create_topics_again');
    expect(again.ok, a.why).toBe(false);
    expect((again.error as { name: string }).name, a.why).toBe('TOPIC_ALREADY_EXISTS');
    expect(okStep<string[]>(a, 'create_topics_validate_only'), 'validate_only must not create the topic').not.toContain(`${topic}-validate`);
    const listed = okStep<{ brokers: string[]; controller_id: number; names: string[]; topics: Record<string, { error: string | null; partitions: unknown[] }> }>(a, 'list_topics');
    expect(listed.brokers, a.why).toEqual([`1@${broker.host}:${broker.port}`]);
    expect(listed.controller_id, a.why).toBe(1);
    expect(listed.topics[topic], a.why).toEqual({
      error: null,
      partitions: [0, 1, 2].map((id) => ({ id, leader: 1, replicas: [1], isrs: [1] })),
    });
    const configs = okStep<Record<string, { value: string | null; source: number; is_default: boolean; is_read_only: boolean }>>(a, 'describe_configs');
    // source 1 = DYNAMIC_TOPIC_CONFIG (set at creation), 5 = DEFAULT_CONFIG.
    expect(configs['retention.ms'], a.why).toMatchObject({ value: '3600000', source: 1, is_default: false });
    expect(configs['cleanup.policy'], a.why).toMatchObject({ value: 'delete', source: 1 });
    expect(configs['max.message.bytes']?.value, `a default topic config is described too\n${a.why}`).toMatch(/^\d+$/);
    const brokerConfigs = okStep<Record<string, string | null>>(a, 'describe_broker_configs');
    expect(Object.keys(brokerConfigs).length, a.why).toBeGreaterThan(0);
    okStep(a, 'delete_topics');
    expect(okStep<string[]>(a, 'list_topics_after_delete'), a.why).not.toContain(topic);
  });
});
