// `godel configs get|set` for topics ("edit topics") and the broker ("edit server") against a real
// broker process: values with their sources, changes shown back, the broker's refusals in its
// own words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Godel } from '../../ts/client/index.js';
import { startBroker, type BrokerProcess } from '../helpers/broker.js';
import { expectOneLineError, expectSuccess, godel, parseTable } from './godel.js';

interface ConfigsJson {
  resource: string;
  name: string;
  configs: Array<{ name: string; value: string | null; source: string; readOnly: boolean }>;
}

describe('godel configs', { timeout: 180_000 }, () => {
  let broker: BrokerProcess;
  let b: string[];

  beforeAll(async () => {
    broker = await startBroker({ set: { 'num.partitions': '2' } });
    b = ['-b', broker.address];
    await godel(['topics', 'create', 'events', '-p', '1', ...b]).then(expectSuccess);
  }, 120_000);

  afterAll(async () => {
    await broker?.stop();
  });

  it('shows topic configs with their sources, all or the ones named', async () => {
    const [all, named] = await Promise.all([
      godel(['configs', 'get', '--topic', 'events', ...b]),
      godel(['configs', 'get', '--topic', 'events', 'retention.ms', 'cleanup.policy', '--json', ...b]),
    ]);
    expectSuccess(all);
    const rows = parseTable(all.stdout);
    expect(rows.length).toBeGreaterThan(10);
    expect(rows).toContainEqual(expect.objectContaining({ NAME: 'retention.ms', VALUE: '604800000', SOURCE: 'default' }));
    expect(rows).toContainEqual(expect.objectContaining({ NAME: 'cleanup.policy', VALUE: 'delete' }));
    expectSuccess(named);
    const json = JSON.parse(named.stdout) as ConfigsJson;
    expect(json.resource).toBe('topic');
    expect(json.name).toBe('events');
    expect(json.configs.map((c) => c.name)).toEqual(['cleanup.policy', 'retention.ms']);
    expect(json.configs[1]).toMatchObject({ name: 'retention.ms', value: '604800000', source: 'DEFAULT_CONFIG', readOnly: false });
  });

  it('sets and deletes topic configs, showing the new values; the broker\'s refusal is one line', async () => {
    const set = await godel(['configs', 'set', '--topic', 'events', 'retention.ms=3600000', 'max.message.bytes=2000000', ...b]);
    expectSuccess(set);
    expect(parseTable(set.stdout)).toEqual([
      { NAME: 'max.message.bytes', VALUE: '2000000', SOURCE: 'topic', 'READ-ONLY': '' },
      { NAME: 'retention.ms', VALUE: '3600000', SOURCE: 'topic', 'READ-ONLY': '' },
    ]);
    const [deleted, refused, validated] = await Promise.all([
      godel(['configs', 'set', '--topic', 'events', '--delete', 'max.message.bytes', '--json', ...b]),
      godel(['configs', 'set', '--topic', 'events', 'retention.ms=soon', ...b]),
      godel(['configs', 'set', '--topic', 'events', 'segment.bytes=2000000', '--validate-only', ...b]),
    ]);
    expectSuccess(deleted);
    expect((JSON.parse(deleted.stdout) as ConfigsJson).configs).toEqual([expect.objectContaining({ name: 'max.message.bytes', source: 'DEFAULT_CONFIG' })]);
    expectOneLineError(refused, /the broker refused the change to topic "events": .*retention\.ms/);
    expectSuccess(validated);
    expect(validated.stdout).toMatch(/valid \(not applied/);
    const admin = new Godel({ brokers: [broker.address] }).admin();
    try {
      const [after] = await admin.describeConfigs({ resources: [{ type: 'topic', name: 'events', configNames: ['retention.ms', 'segment.bytes'] }] });
      expect(Object.fromEntries(after!.configs.map((c) => [c.name, c.value]))).toEqual({ 'retention.ms': '3600000', 'segment.bytes': '1073741824' });
    } finally {
      await admin.disconnect();
    }
  });

  it('shows and changes broker configs (the broker answering, or by id)', async () => {
    const [get, byId] = await Promise.all([
      godel(['configs', 'get', '--broker', 'num.partitions', 'log.retention.ms', ...b]),
      godel(['configs', 'get', '--broker', '1', '--json', 'num.partitions', ...b]),
    ]);
    expectSuccess(get);
    expect(parseTable(get.stdout)).toEqual([
      { NAME: 'log.retention.ms', VALUE: expect.any(String), SOURCE: expect.any(String), 'READ-ONLY': '' },
      { NAME: 'num.partitions', VALUE: '2', SOURCE: 'static broker', 'READ-ONLY': expect.any(String) },
    ]);
    expectSuccess(byId);
    expect(JSON.parse(byId.stdout)).toMatchObject({ resource: 'broker', name: '1', configs: [{ name: 'num.partitions', value: '2', source: 'STATIC_BROKER_CONFIG' }] });

    const set = await godel(['configs', 'set', '--broker', 'log.retention.ms=7200000', '--json', ...b]);
    expectSuccess(set);
    expect((JSON.parse(set.stdout) as ConfigsJson).configs).toEqual([expect.objectContaining({ name: 'log.retention.ms', value: '7200000', source: 'DYNAMIC_BROKER_CONFIG' })]);
    const [unknownKey, unknownBroker] = await Promise.all([
      godel(['configs', 'set', '--broker', 'no.such.key=1', ...b]),
      godel(['configs', 'get', '--broker', '7', ...b]),
    ]);
    expectOneLineError(unknownKey, /the broker refused the change to broker 1: .*no\.such\.key/);
    expectOneLineError(unknownBroker, /broker 7 is not in the cluster \(brokers: 1\)/);
  });

  it('needs exactly one of --topic and --broker, an existing topic, known keys and KEY=VALUE settings', async () => {
    const runs = await Promise.all([
      godel(['configs', 'get', '--topic', 'events', '--broker', ...b]),
      godel(['configs', 'get', '--topic', 'nope', ...b]),
      godel(['configs', 'get', '--topic', 'events', 'no.such.key', ...b]),
      godel(['configs', 'set', '--topic', 'events', 'retention.ms', ...b]),
    ]);
    expectOneLineError(runs[0]!, /--topic and --broker cannot be used together/);
    expectOneLineError(runs[1]!, /topic "nope" does not exist/);
    expectOneLineError(runs[2]!, /topic "events" has no config "no\.such\.key"/);
    expectOneLineError(runs[3]!, /expects KEY=VALUE, got "retention\.ms"/);
  });
});
