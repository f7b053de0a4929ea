// Consumer groups against a real broker process, with KafkaJS and with @platformatic/kafka: three
// members share a 6-partition topic; one leaves, one crashes (a child process killed with SIGKILL:
// no LeaveGroup, the session timeout must find out), one joins. Across the run every produced
// record is consumed, with its own value, in order within each member's run of a partition, and
// no partition is owned by two members of the same generation — checked on what the clients were
// actually handed: a tap between clients and broker (the broker advertises the tap) decodes every
// SyncGroup response. Then the broker restarts, committed offsets are still there, and a new
// member resumes from them without re-reading what was committed.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../ts/protocol/error-codes.js';
import { decodeConsumerProtocolAssignmentVersioned } from '../../ts/protocol/generated/consumer-protocol-assignment.js';
import { apiCodec } from '../../ts/protocol/generated/index.js';
import type { SyncGroupRequest } from '../../ts/protocol/generated/sync-group-request.js';
import { decodeRequestHeader, decodeResponseFrame } from '../../ts/protocol/headers.js';
import { Reader, ZERO_UUID } from '../../ts/protocol/reader.js';
import { kafkaRequest, REPO_ROOT, startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { startGroupConsumer, type ClientLibrary, type ConsumedRecord, type GroupConsumerOptions, type RunningConsumer } from '../helpers/group-consumer.js';

const PARTITIONS = 6;
const PER_PHASE = 15;
const SESSION_MS = 4_000;
const HEARTBEAT_MS = 400;
const REBALANCE_MS = 20_000;
const WAIT_MS = 45_000;
const SYNC_GROUP = 14;
const CHILD = path.join(REPO_ROOT, 'test', 'helpers', 'group-consumer.ts');

interface SyncObservation {
  groupId: string;
  generationId: number;
  memberId: string;
  clientId: string | null;
  partitions: number[];
}

/** Splits a byte stream into Kafka frames (int32 size, then the frame). */
class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const size = this.pending.readInt32BE(0);
      if (this.pending.length < 4 + size) break;
      onFrame(this.pending.subarray(4, 4 + size));
      this.pending = this.pending.subarray(4 + size);
    }
  }
}

/**
 * A TCP proxy in front of the broker that forwards every byte unchanged and decodes each SyncGroup
 * exchange: which member of which generation was handed which partitions.
 */
class SyncGroupTap {
  readonly observations: SyncObservation[] = [];
  readonly errors: string[] = [];
  target = { host: '127.0.0.1', port: 0 };
  private readonly server = net.createServer((client) => this.onConnection(client));
  private readonly sockets = new Set<net.Socket>();

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  private onConnection(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => undefined);
    }
    const pending = new Map<number, { version: number; request: SyncGroupRequest; clientId: string | null }>();
    const requests = new FrameSplitter();
    const responses = new FrameSplitter();
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      requests.push(chunk, (frame) => this.guard(() => {
        const r = new Reader(frame);
        const header = decodeRequestHeader(r);
        if (header.apiKey !== SYNC_GROUP) return;
        const request = apiCodec(SYNC_GROUP)!.request.decode(r, header.apiVersion) as SyncGroupRequest;
        pending.set(header.correlationId, { version: header.apiVersion, request, clientId: header.clientId });
      }));
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      responses.push(chunk, (frame) => this.guard(() => {
        const asked = pending.get(frame.readInt32BE(0));
        if (asked === undefined) return;
        pending.delete(frame.readInt32BE(0));
        const { body } = decodeResponseFrame(Buffer.from(frame), SYNC_GROUP, asked.version);
        if (body.errorCode !== 0) return;
        const partitions = body.assignment.length === 0 ? [] : decodeConsumerProtocolAssignmentVersioned(new Reader(body.assignment)).value.assignedPartitions.flatMap((a) => a.partitions);
        this.observations.push({
          groupId: asked.request.groupId, generationId: asked.request.generationId, memberId: asked.request.memberId,
          clientId: asked.clientId, partitions: [...partitions].sort((a, b) => a - b),
        });
      }));
    });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.errors.push(String(err));
    }
  }

  /** The members of the group's latest generation that completed a SyncGroup, by client id. */
  latestGeneration(groupId: string): { generationId: number; members: Map<string, number[]> } | undefined {
    const mine = this.observations.filter((o) => o.groupId === groupId);
    if (mine.length === 0) return undefined;
    const generationId = Math.max(...mine.map((o) => o.generationId));
    const members = new Map<string, number[]>();
    for (const o of mine) if (o.generationId === generationId) members.set(o.clientId ?? o.memberId, o.partitions);
    return { generationId, members };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A member running in a child process, so it can be killed without a chance to leave. */
class ChildConsumer {
  private constructor(readonly child: ChildProcess, readonly name: string) {}

  static async start(options: GroupConsumerOptions, onRecord: (r: ConsumedRecord) => void): Promise<ChildConsumer> {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(options)], {
      cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const started = new Promise<void>((resolve, reject) => {
      child.on('message', (m: { type: string; record?: ConsumedRecord }) => {
        if (m.type === 'record') onRecord(m.record!);
        if (m.type === 'started') resolve();
      });
      child.once('exit', (code) => reject(new Error(`consumer child exited (code ${code}) before it started\n${stderr}`)));
    });
    await started;
    return new ChildConsumer(child, options.name);
  }

  kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

interface Scenario {
  library: ClientLibrary;
  groupId: string;
  topic: string;
  /** Next offset (= next sequence number) to produce, per partition. */
  produced: number[];
  consumed: ConsumedRecord[];
}

describe('consumer groups (real broker process)', () => {
  let broker: BrokerProcess;
  const tap = new SyncGroupTap();
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const running: RunningConsumer[] = [];
  const children: ChildConsumer[] = [];
  const scenarios = new Map<ClientLibrary, Scenario>();
  let tapPort = 0;

  beforeAll(async () => {
    tapPort = await tap.listen();
    broker = await startBroker({
      set: { 'group.initial.rebalance.delay.ms': '200', 'group.min.session.timeout.ms': '1000' },
      // Clients are told to use the tap, which forwards to wherever the broker listens.
      args: ['--advertise', `127.0.0.1:${tapPort}`],
    });
    tap.target.port = broker.port;
    kafka = new Kafka({ clientId: 'groups-test', brokers: [`127.0.0.1:${tapPort}`], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  });

  afterAll(async () => {
    for (const c of children) await c.kill();
    for (const r of running) await r.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await broker?.stop();
    await tap.close();
  });

  async function produce(s: Scenario, perPartition: number): Promise<void> {
    const messages = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for (let i = 0; i < perPartition; i++) messages.push({ partition: p, value: `${p}:${s.produced[p]! + i}` });
    }
    await producer.send({ topic: s.topic, acks: -1, messages });
    for (let p = 0; p < PARTITIONS; p++) s.produced[p]! += perPartition;
  }

  /** Waits until every produced record was consumed by someone. */
  async function allConsumed(s: Scenario, what: string): Promise<void> {
    await waitFor(() => {
      const seen = new Set(s.consumed.map((r) => `${r.partition}:${r.offset}`));
      for (let p = 0; p < PARTITIONS; p++) for (let o = 0; o < s.produced[p]!; o++) if (!seen.has(`${p}:${o}`)) return false;
      return true;
    }, `${what}: every produced record consumed`, WAIT_MS);
  }

  /** Waits until the group's latest generation is exactly these members, sharing all partitions. */
  async function generationOf(s: Scenario, members: string[]): Promise<number> {
    const found = await waitFor(() => {
      const latest = tap.latestGeneration(s.groupId);
      if (latest === undefined) return false;
      const names = [...latest.members.keys()].sort();
      if (names.join() !== [...members].sort().join()) return false;
      const owned = [...latest.members.values()].flat().sort((a, b) => a - b);
      return owned.join() === Array.from({ length: PARTITIONS }, (_, p) => p).join() ? latest.generationId : false;
    }, `group ${s.groupId} to settle on ${members.join(', ')}`, WAIT_MS);
    return found;
  }

  function options(s: Scenario, name: string): GroupConsumerOptions {
    return {
      library: s.library, broker: `127.0.0.1:${tapPort}`,
      groupId: s.groupId, topic: s.topic, name: `${s.library}-${name}`, sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: HEARTBEAT_MS, rebalanceTimeoutMs: REBALANCE_MS,
    };
  }

  async function member(s: Scenario, name: string): Promise<RunningConsumer> {
    const r = await startGroupConsumer(options(s, name), { onRecord: (rec) => { s.consumed.push(rec); }, onAssigned: () => undefined });
    running.push(r);
    return r;
  }

  async function stopMember(r: RunningConsumer): Promise<void> {
    running.splice(running.indexOf(r), 1);
    await r.stop();
  }

  for (const library of ['kafkajs', 'platformatic'] as const) {
    it(`${library}: three members share 6 partitions; one leaves, one crashes, one joins; nothing lost, no partition owned twice`, async () => {
      const s: Scenario = { library, groupId: `group-${library}`, topic: `orders-${library}`, produced: new Array<number>(PARTITIONS).fill(0), consumed: [] };
      scenarios.set(library, s);
      await admin.createTopics({ topics: [{ topic: s.topic, numPartitions: PARTITIONS }], waitForLeaders: true });
      await produce(s, PER_PHASE);

      const a = await member(s, 'a');
      const b = await member(s, 'b');
      const c = await ChildConsumer.start(options(s, 'c'), (rec) => s.consumed.push(rec));
      children.push(c);
      await generationOf(s, [`${library}-a`, `${library}-b`, `${library}-c`]);
      await allConsumed(s, 'three members');

      // b leaves the group properly (LeaveGroup): a and c take its partitions.
      await produce(s, PER_PHASE);
      await stopMember(b);
      await generationOf(s, [`${library}-a`, `${library}-c`]);
      await allConsumed(s, 'after a member left');

      // c crashes: no LeaveGroup. Its session times out and a takes everything.
      await c.kill();
      await produce(s, PER_PHASE);
      await generationOf(s, [`${library}-a`]);
      await allConsumed(s, 'after a member crashed');
      const about = (msg: string, who: string): boolean => broker.logRecords().some((l) => l.msg === msg && String(l.member).startsWith(`${library}-${who}-`));
      expect(about('member session expired; removing it', 'c')).toBe(true);
      expect(about('member left the group', 'c')).toBe(false);
      expect(about('member left the group', 'b')).toBe(true);

      // d joins.
      const d = await member(s, 'd');
      await generationOf(s, [`${library}-a`, `${library}-d`]);
      await produce(s, PER_PHASE);
      await allConsumed(s, 'after a member joined');
      await stopMember(a);
      await stopMember(d);

      // Every record arrived with the value produced at its offset.
      for (const r of s.consumed) expect(r.value).toBe(`${r.partition}:${r.offset}`);
      // Each member reads a partition in offset order. A step back is a redelivery after a
      // rebalance (at-least-once); a step over is only allowed past records another member read
      // while it owned the partition.
      for (const name of new Set(s.consumed.map((r) => r.consumer))) {
        for (let p = 0; p < PARTITIONS; p++) {
          const offsets = s.consumed.filter((r) => r.consumer === name && r.partition === p).map((r) => r.offset);
          const others = new Set(s.consumed.filter((r) => r.consumer !== name && r.partition === p).map((r) => r.offset));
          for (let i = 1; i < offsets.length; i++) {
            for (let skipped = offsets[i - 1]! + 1; skipped < offsets[i]!; skipped++) {
              expect(others.has(skipped), `${name} skipped ${p}:${skipped}, which nobody else read`).toBe(true);
            }
          }
        }
      }
      const redelivered = s.consumed.length - new Set(s.consumed.map((r) => `${r.partition}:${r.offset}`)).size;
      expect(redelivered).toBeLessThan(s.consumed.length / 2);
      // No partition was handed to two members of the same generation.
      const generations = new Map<number, Map<string, number[]>>();
      for (const o of tap.observations.filter((x) => x.groupId === s.groupId)) {
        if (!generations.has(o.generationId)) generations.set(o.generationId, new Map());
        generations.get(o.generationId)!.set(o.memberId, o.partitions);
      }
      expect(generations.size).toBeGreaterThanOrEqual(4);
      for (const [generation, members] of generations) {
        const all = [...members.values()].flat();
        expect(new Set(all).size, `generation ${generation}: ${JSON.stringify([...members])}`).toBe(all.length);
      }
      expect(tap.errors).toEqual([]);
      // Everything consumed was committed.
      const committed = await admin.fetchOffsets({ groupId: s.groupId, topics: [s.topic] });
      expect(committed[0]!.partitions.sort((x, y) => x.partition - y.partition).map((x) => Number(x.offset))).toEqual(s.produced);
    }, 120_000);
  }

  it('serves __consumer_offsets as an internal topic with 50 partitions, and finds this broker as coordinator', async () => {
    const metadata = await kafkaRequest(broker.address, 3, 1, {
      topics: [{ topicId: ZERO_UUID, name: '__consumer_offsets' }], allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    });
    expect(metadata.topics[0]).toMatchObject({ errorCode: 0, name: '__consumer_offsets', isInternal: true });
    expect(metadata.topics[0]!.partitions).toHaveLength(50);
    const found = await kafkaRequest(broker.address, 10, 4, { key: '', keyType: 0, coordinatorKeys: ['group-kafkajs', 'any'] });
    expect(found.coordinators.map((c) => [c.errorCode, c.port])).toEqual([[0, tapPort], [0, tapPort]]);
    const txn = await kafkaRequest(broker.address, 10, 1, { key: 'tx', keyType: 1, coordinatorKeys: [] });
    expect(txn.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });

  it('keeps committed offsets across a broker restart; a new member resumes from them', async () => {
    const before = new Map<ClientLibrary, number[]>();
    for (const [library, s] of scenarios) {
      const offsets = await admin.fetchOffsets({ groupId: s.groupId, topics: [s.topic] });
      before.set(library, offsets[0]!.partitions.sort((x, y) => x.partition - y.partition).map((x) => Number(x.offset)));
    }
    expect(before.size).toBe(2);
    await producer.disconnect();
    await admin.disconnect();
    broker = await broker.restart();
    tap.target.port = broker.port;
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();

    for (const [library, s] of scenarios) {
      const offsets = await waitFor(async () => {
        const got = await admin.fetchOffsets({ groupId: s.groupId, topics: [s.topic] });
        return got[0]!.partitions.sort((x, y) => x.partition - y.partition).map((x) => Number(x.offset));
      }, `${library} offsets after the restart`, WAIT_MS);
      expect(offsets).toEqual(before.get(library));
      const groups = await admin.listGroups();
      expect(groups.groups.map((g) => g.groupId)).toContain(s.groupId);

      const resumedFrom = s.consumed.length;
      await produce(s, 5);
      const e = await member(s, 'e');
      await allConsumed(s, `${library} after the restart`);
      const after = s.consumed.slice(resumedFrom);
      for (let p = 0; p < PARTITIONS; p++) {
        const mine = after.filter((r) => r.consumer === `${library}-e` && r.partition === p).map((r) => r.offset);
        expect(mine.length).toBeGreaterThan(0);
        // Nothing committed before the restart is read again.
        expect(Math.min(...mine), `${library} partition ${p}`).toBe(before.get(library)![p]);
      }
      await stopMember(e);
    }
  }, 120_000);
});
