// __consumer_offsets in real partition logs: the internal topic, one batch per write, tombstones,
// replay after a restart, and a coordinator that gets its offsets and groups back from disk.
import fs from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../ts/clock.js';
import { TopicManager } from '../../../ts/broker/topic-manager.js';
import { LocalControlPlane } from '../../../ts/cluster/local-control-plane.js';
import { createTsEngine } from '../../../ts/engine/fallback.js';
import { replayLog } from '../../../ts/group/coordinator-loader.js';
import { DEFAULT_GROUP_COORDINATOR_CONFIG, GroupCoordinator } from '../../../ts/group/group-coordinator.js';
import { encodeGroupMetadataKey, encodeOffsetCommitKey } from '../../../ts/group/group-records.js';
import { LogGroupStorage, OFFSETS_TOPIC } from '../../../ts/group/offset-store.js';
import { ManualScheduler } from '../../../ts/group/scheduler.js';
import { silentLogger } from '../../../ts/log.js';
import { ErrorCode } from '../../../ts/protocol/error-codes.js';
import { LogManager } from '../../../ts/storage/log-manager.js';
import { CompressionCodec, recordsCountOf } from '../../../ts/storage/record-batch.js';
import { buildRecordBatch } from '../../../ts/storage/record-batch-builder.js';
import { tempDir } from '../../helpers/storage.js';

const engine = createTsEngine();

interface Node {
  manager: LogManager;
  plane: LocalControlPlane;
  topics: TopicManager;
  storage: LogGroupStorage;
}

async function openNode(dir: string, clock: ManualClock): Promise<Node> {
  const plane = await LocalControlPlane.open(dir, { nodeId: 1, host: 'localhost', port: 9092, rack: null });
  const manager = await LogManager.open({ dataDir: dir, engine, clock, topicConfig: (t) => plane.getTopic(t)?.configs ?? {} });
  const topics = new TopicManager(plane, manager, { numPartitions: 1, defaultReplicationFactor: 1, brokerLogConfig: () => ({}) }, silentLogger);
  await topics.reconcile();
  const storage = new LogGroupStorage(topics, engine, clock, silentLogger, () => plane.brokers().length);
  return { manager, plane, topics, storage };
}

async function closeNode(node: Node): Promise<void> {
  await node.manager.shutdown();
  await node.plane.close();
}

describe('__consumer_offsets in partition logs', () => {
  let dir: string;
  let node: Node | undefined;
  const clock = new ManualClock();

  beforeEach(async () => {
    dir = await tempDir('offsets');
  });
  afterEach(async () => {
    if (node !== undefined) await closeNode(node);
    node = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('creates the internal, compacted topic once, with Kafka\'s segment size', async () => {
    node = await openNode(dir, clock);
    expect(await node.storage.ensureTopic(5)).toBe(5);
    const topic = node.topics.topic(OFFSETS_TOPIC)!;
    expect(topic).toMatchObject({ partitions: 5, replicationFactor: 1, internal: true, configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024) } });
    expect(node.topics.partitionLog(OFFSETS_TOPIC, 4)!.logConfig).toMatchObject({ cleanupPolicy: 'compact', segmentBytes: 100 * 1024 * 1024 });
    // An existing topic wins over a changed setting.
    expect(await node.storage.ensureTopic(7)).toBe(5);
  });

  it('writes one keyed batch per append, tombstones included, and replays them after a restart', async () => {
    node = await openNode(dir, clock);
    await node.storage.ensureTopic(2);
    await node.storage.append(1, [
      { key: encodeOffsetCommitKey('g', 't', 0), value: Buffer.from('v1') },
      { key: encodeOffsetCommitKey('g', 't', 1), value: Buffer.from('v2') },
    ]);
    await node.storage.append(1, [{ key: encodeGroupMetadataKey('g'), value: null }]);
    const log = node.topics.partitionLog(OFFSETS_TOPIC, 1)!;
    expect(log.logEndOffset).toBe(3n);
    const read = await log.read(0n, 1 << 20);
    expect(recordsCountOf(read.records, 0)).toBe(2);
    await closeNode(node);
    node = await openNode(dir, clock);
    const seen: [string, string | null][] = [];
    await node.storage.replay(1, (k, v) => seen.push([k.toString('hex'), v === null ? null : v.toString()]));
    expect(seen).toEqual([
      [encodeOffsetCommitKey('g', 't', 0).toString('hex'), 'v1'],
      [encodeOffsetCommitKey('g', 't', 1).toString('hex'), 'v2'],
      [encodeGroupMetadataKey('g').toString('hex'), null],
    ]);
  });

  it('skips compressed batches when replaying (the coordinator never writes them)', async () => {
    node = await openNode(dir, clock);
    await node.storage.ensureTopic(1);
    const log = node.topics.partitionLog(OFFSETS_TOPIC, 0)!;
    await log.append(buildRecordBatch(engine, { records: [{ key: Buffer.from('k1'), value: Buffer.from('v') }], compression: CompressionCodec.Gzip }));
    await log.append(buildRecordBatch(engine, { records: [{ key: Buffer.from('k2'), value: null }, { key: Buffer.from('k3'), value: Buffer.from('v3') }] }));
    const seen: string[] = [];
    const skipped = await replayLog(log, (k, v) => seen.push(`${k.toString()}=${v === null ? 'null' : v.toString()}`));
    expect(skipped).toBe(1);
    expect(seen).toEqual(['k2=null', 'k3=v3']);
  });

  it('gives a restarted coordinator its committed offsets and stable groups back', async () => {
    const config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, offsetsTopicNumPartitions: 4, groupInitialRebalanceDelayMs: 0 };
    const start = async (): Promise<GroupCoordinator> => {
      const coordinator = new GroupCoordinator(config, {
        storage: node!.storage, scheduler: new ManualScheduler(clock), logger: silentLogger, partitionLeader: () => null,
      });
      await coordinator.start();
      await coordinator.loaded();
      return coordinator;
    };
    node = await openNode(dir, clock);
    let coordinator = await start();
    const commit = await coordinator.commitOffsets({
      groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1,
      offsets: [
        { topic: 'orders', partition: 0, offset: 100n, leaderEpoch: 3, metadata: 'first', commitTimestampMs: -1 },
        { topic: 'orders', partition: 1, offset: 7n, leaderEpoch: -1, metadata: null, commitTimestampMs: -1 },
      ],
    });
    expect(commit.map((r) => r.errorCode)).toEqual([0, 0]);
    const again = await coordinator.commitOffsets({
      groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1,
      offsets: [{ topic: 'orders', partition: 0, offset: 150n, leaderEpoch: 4, metadata: 'second', commitTimestampMs: -1 }],
    });
    expect(again[0]!.errorCode).toBe(0);
    expect(await coordinator.deleteGroups(['nothing'])).toEqual([{ groupId: 'nothing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND }]);
    coordinator.shutdown();
    await closeNode(node);

    node = await openNode(dir, clock);
    coordinator = await start();
    expect(coordinator.fetchOffsets('simple', null)).toEqual({
      errorCode: 0,
      topics: [{ name: 'orders', partitions: [
        { partition: 0, offset: 150n, leaderEpoch: 4, metadata: 'second', errorCode: 0 },
        { partition: 1, offset: 7n, leaderEpoch: -1, metadata: '', errorCode: 0 },
      ] }],
    });
    expect(await coordinator.deleteGroups(['simple'])).toEqual([{ groupId: 'simple', errorCode: 0 }]);
    coordinator.shutdown();
    await closeNode(node);

    node = await openNode(dir, clock);
    coordinator = await start();
    expect(coordinator.fetchOffsets('simple', null).topics).toEqual([]);
    expect(coordinator.listGroups([], []).groups).toEqual([]);
    coordinator.shutdown();
  });
});
