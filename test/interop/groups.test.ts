// Consumer groups with third-party clients against a real Gödel broker (issue 5): kafka-python,
// confluent-kafka, `kcat -G` and the Java consumer (kafka-clients 3.9.2 and 4.4.0) each run the
// scenario of the npm-side test (test/integration/groups.test.ts) — three members share a
// 6-partition topic while records are produced throughout; one leaves (close(): LeaveGroup), one
// crashes (SIGKILL: only its short session timeout tells the broker), one joins. Then members of
// different clients share one group through a common assignor (range; roundrobin), and the
// kafka-python and Java admin clients list, describe and delete groups.
//
// Every member is a long-running process (python/*.py group-member, Main group-member, kcat -G)
// printing what it consumes as JSON lines. Between the clients and the broker sits a tap (the
// broker advertises its address) that decodes JoinGroup, SyncGroup and OffsetCommit: which member
// of which generation was handed which partitions, and what each member committed. The checks are
// on records: every produced record consumed, with its key, value and headers, at the partition and
// offset its producer was told, offsets contiguous and in the order sent within each partition;
// a record consumed twice only where at-least-once allows it — first by a member that then
// crashed, at or after the last offset committed before the crash —; no partition handed to two
// members of one generation; at the end the group's committed offsets are the log end offsets.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeConsumerProtocolAssignmentVersioned } from '../../ts/protocol/generated/consumer-protocol-assignment.js';
import { apiCodec } from '../../ts/protocol/generated/index.js';
import type { JoinGroupRequest } from '../../ts/protocol/generated/join-group-request.js';
import type { OffsetCommitRequest } from '../../ts/protocol/generated/offset-commit-request.js';
import type { SyncGroupRequest } from '../../ts/protocol/generated/sync-group-request.js';
import { decodeRequestHeader, decodeResponseFrame } from '../../ts/protocol/headers.js';
import { Reader } from '../../ts/protocol/reader.js';
import { kafkaRequest } from '../helpers/broker.js';
import {
  brokerProblems, describeRun, expectSameRecords, INTEROP_DIR, jsonLines, killAll, missingTool, pythonCommand, requireCommand, run,
  setupOnce, startBroker, startProcess, uniqueName,
  type GotRecord, type Headers, type InteropBroker, type LiveProcess, type SentRecord,
} from './helpers.js';

const PARTITIONS = 6;
const ALL_PARTITIONS = Array.from({ length: PARTITIONS }, (_, p) => p);
const HEARTBEAT_MS = 500;
/** Members meant to stay: long enough that a loaded machine never drops one by accident. */
const SESSION_MS = 20_000;
/** The member that gets killed: its session timeout is how the broker finds out. */
const CRASH_SESSION_MS = 3_000;
/** One record every this many ms from the producers that run throughout a scenario. */
const PRODUCE_INTERVAL_MS = 25;
/** Deadline of every condition wait (a loaded 2-core machine, JVMs starting). */
const WAIT_MS = 120_000;
const RUN_TIMEOUT_MS = 150_000;
const JAVA_VERSIONS = (process.env.GODEL_INTEROP_KAFKA_VERSIONS ?? '3.9.2,4.4.0').split(',').map((v) => v.trim());
const JAVA_PROJECT = path.join(INTEROP_DIR, 'java');
const KAFKA_PYTHON = path.join(INTEROP_DIR, 'python/kafka_python_client.py');
const CONFLUENT = path.join(INTEROP_DIR, 'python/confluent_client.py');
const python = pythonCommand();

const JOIN_GROUP = 11;
const SYNC_GROUP = 14;
const OFFSET_COMMIT = 8;

// ---------------------------------------------------------------------------------------------
// The tap

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

interface Seen {
  /** Order of observation (responses), across all connections. */
  seq: number;
  groupId: string;
  clientId: string | null;
}
interface JoinSeen extends Seen { errorCode: number; generationId: number; memberId: string; protocolName: string | null; leader: string }
interface SyncSeen extends Seen { generationId: number; memberId: string; partitions: number[] }
interface CommitSeen extends Seen { generationId: number; memberId: string; topic: string; partition: number; offset: number; errorCode: number }

/**
 * A TCP proxy in front of the broker that forwards every byte unchanged and decodes JoinGroup,
 * SyncGroup and OffsetCommit exchanges.
 */
class GroupTap {
  readonly joins: JoinSeen[] = [];
  readonly syncs: SyncSeen[] = [];
  readonly commits: CommitSeen[] = [];
  readonly errors: string[] = [];
  seq = 0;
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
    const pending = new Map<number, { apiKey: number; version: number; request: unknown; clientId: string | null }>();
    const requests = new FrameSplitter();
    const responses = new FrameSplitter();
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      requests.push(chunk, (frame) => this.guard(() => {
        const r = new Reader(frame);
        const header = decodeRequestHeader(r);
        if (header.apiKey !== JOIN_GROUP && header.apiKey !== SYNC_GROUP && header.apiKey !== OFFSET_COMMIT) return;
        const request = apiCodec(header.apiKey)!.request.decode(r, header.apiVersion);
        pending.set(header.correlationId, { apiKey: header.apiKey, version: header.apiVersion, request, clientId: header.clientId });
      }));
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      responses.push(chunk, (frame) => this.guard(() => {
        const asked = pending.get(frame.readInt32BE(0));
        if (asked === undefined) return;
        pending.delete(frame.readInt32BE(0));
        const seq = ++this.seq;
        const clientId = asked.clientId;
        if (asked.apiKey === JOIN_GROUP) {
          const request = asked.request as JoinGroupRequest;
          const { body } = decodeResponseFrame(Buffer.from(frame), JOIN_GROUP, asked.version);
          this.joins.push({
            seq, groupId: request.groupId, clientId, errorCode: body.errorCode, generationId: body.generationId,
            memberId: body.memberId, protocolName: body.protocolName, leader: body.leader,
          });
        } else if (asked.apiKey === SYNC_GROUP) {
          const request = asked.request as SyncGroupRequest;
          const { body } = decodeResponseFrame(Buffer.from(frame), SYNC_GROUP, asked.version);
          if (body.errorCode !== 0) return;
          const partitions = body.assignment.length === 0 ? [] : decodeConsumerProtocolAssignmentVersioned(new Reader(body.assignment)).value.assignedPartitions.flatMap((a) => a.partitions);
          this.syncs.push({
            seq, groupId: request.groupId, clientId, generationId: request.generationId, memberId: request.memberId,
            partitions: [...partitions].sort((a, b) => a - b),
          });
        } else {
          const request = asked.request as OffsetCommitRequest;
          const { body } = decodeResponseFrame(Buffer.from(frame), OFFSET_COMMIT, asked.version);
          const errors = new Map<string, number>();
          for (const t of body.topics) for (const p of t.partitions) errors.set(`${t.name}/${p.partitionIndex}`, p.errorCode);
          for (const t of request.topics) {
            for (const p of t.partitions) {
              this.commits.push({
                seq, groupId: request.groupId, clientId, generationId: request.generationIdOrMemberEpoch, memberId: request.memberId,
                topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset),
                errorCode: errors.get(`${t.name}/${p.partitionIndex}`) ?? -1,
              });
            }
          }
        }
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
  latestGeneration(groupId: string): Generation | undefined {
    const mine = this.syncs.filter((o) => o.groupId === groupId);
    if (mine.length === 0) return undefined;
    const generationId = Math.max(...mine.map((o) => o.generationId));
    return this.generation(groupId, generationId);
  }

  generation(groupId: string, generationId: number): Generation {
    const members = new Map<string, number[]>();
    const memberIds = new Map<string, string>();
    for (const o of this.syncs) {
      if (o.groupId !== groupId || o.generationId !== generationId) continue;
      members.set(o.clientId ?? o.memberId, o.partitions);
      memberIds.set(o.clientId ?? o.memberId, o.memberId);
    }
    const protocols = new Set(this.joins.filter((j) => j.groupId === groupId && j.generationId === generationId && j.errorCode === 0).map((j) => j.protocolName));
    return { generationId, members, memberIds, protocols: [...protocols] };
  }

  /** Every member id the broker gave this client id in this group. */
  memberIdsOf(groupId: string, clientId: string): Set<string> {
    return new Set(this.joins.filter((j) => j.groupId === groupId && j.clientId === clientId && j.memberId !== '').map((j) => j.memberId));
  }

  /** Generations of a group: member id -> partitions handed out in its SyncGroup response. */
  generations(groupId: string): Map<number, Map<string, number[]>> {
    const out = new Map<number, Map<string, number[]>>();
    for (const o of this.syncs.filter((x) => x.groupId === groupId)) {
      if (!out.has(o.generationId)) out.set(o.generationId, new Map());
      out.get(o.generationId)!.set(o.memberId, o.partitions);
    }
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Generation {
  generationId: number;
  /** client id -> partitions. */
  members: Map<string, number[]>;
  /** client id -> member id. */
  memberIds: Map<string, string>;
  /** The protocol (assignor) JoinGroup responses of the generation named. */
  protocols: (string | null)[];
}

// ---------------------------------------------------------------------------------------------
// Setup

let broker: InteropBroker;
const tap = new GroupTap();
let bootstrap = '';

/** Builds test/interop/java for a client version, unless its classes are newer than the sources. */
async function buildJava(version: string): Promise<void> {
  const target = path.join(JAVA_PROJECT, `target/kafka-${version}`);
  const main = path.join(target, 'classes/godel/interop/Main.class');
  const sources = [path.join(JAVA_PROJECT, 'pom.xml'), path.join(JAVA_PROJECT, 'src/main/java/godel/interop/Main.java')];
  const jar = path.join(target, `lib/kafka-clients-${version}.jar`);
  const fresh = fs.existsSync(main) && fs.existsSync(jar) &&
    sources.every((s) => fs.statSync(s).mtimeMs <= fs.statSync(main).mtimeMs);
  if (!fresh) {
    const args = ['-q', '-B', '-f', path.join(JAVA_PROJECT, 'pom.xml'), `-Dkafka.version=${version}`, 'package'];
    const offline = await run('mvn', ['-o', ...args], { timeoutMs: 600_000 });
    if (offline.code !== 0) {
      const online = await run('mvn', args, { timeoutMs: 900_000 });
      if (online.code !== 0) {
        throw missingTool(`the Java interop driver for kafka-clients ${version}`,
          `${describeRun('mvn -o package', offline)}\n${describeRun('mvn package', online)}`);
      }
    }
  }
  if (!fs.existsSync(jar)) throw missingTool(`kafka-clients-${version}.jar in test/interop/java/target`);
}

function javaCommand(version: string, subcommand: string, args: string[]): [string, string[]] {
  const target = path.join(JAVA_PROJECT, `target/kafka-${version}`);
  const cp = `${path.join(target, 'classes')}${path.delimiter}${path.join(target, 'lib', '*')}`;
  return ['java', ['-cp', cp, 'godel.interop.Main', subcommand, '--bootstrap', bootstrap, ...args]];
}

setupOnce(async () => {
  requireCommand('kcat (Debian package kcat)', 'kcat', ['-V']);
  requireCommand(`kafka-python for ${python} (Debian package python3-kafka)`, python, ['-c', 'import kafka']);
  requireCommand(`confluent-kafka for ${python} (Debian package python3-confluent-kafka)`, python, ['-c', 'import confluent_kafka']);
  requireCommand('Java (java -version)', 'java', ['-version']);
  requireCommand('Maven (mvn -v)', 'mvn', ['-v']);
  for (const v of JAVA_VERSIONS) await buildJava(v);
  const tapPort = await tap.listen();
  broker = await startBroker({
    set: {
      'num.partitions': String(PARTITIONS),
      // Low enough for the crashed member's short session timeout.
      'group.min.session.timeout.ms': '1000',
      'group.initial.rebalance.delay.ms': '300',
    },
    // Clients are told to use the tap, which forwards to wherever the broker listens.
    args: ['--advertise', `127.0.0.1:${tapPort}`],
  });
  tap.target.port = broker.port;
  bootstrap = `127.0.0.1:${tapPort}`;
});

afterAll(async () => {
  killAll();
  await broker?.stop();
  await tap.close();
});

// ---------------------------------------------------------------------------------------------
// Clients

type Client = 'kafka-python' | 'confluent' | 'kcat' | `java-${string}`;

function scriptOf(client: Client): string {
  return client === 'kafka-python' ? KAFKA_PYTHON : CONFLUENT;
}

const SRC: Record<string, string> = { 'kafka-python': 'kafka-python', confluent: 'confluent-kafka' };

interface MemberOptions {
  sessionMs?: number;
  /** kafka-python/confluent/kcat: a partition.assignment.strategy list; Java: range|roundrobin|cooperative-sticky. */
  assignor?: string;
}

function memberCommand(client: Client, topic: string, group: string, clientId: string, o: MemberOptions): [string, string[]] {
  const sessionMs = String(o.sessionMs ?? SESSION_MS);
  if (client === 'kcat') {
    return ['kcat', [
      '-b', bootstrap, '-J', '-q', '-u',
      '-X', `client.id=${clientId}`, '-X', `session.timeout.ms=${sessionMs}`, '-X', `heartbeat.interval.ms=${HEARTBEAT_MS}`,
      '-X', 'auto.offset.reset=earliest', '-X', 'auto.commit.interval.ms=1000', '-X', 'fetch.wait.max.ms=200',
      ...(o.assignor ? ['-X', `partition.assignment.strategy=${o.assignor}`] : []),
      '-G', group, topic,
    ]];
  }
  if (client.startsWith('java-')) {
    return javaCommand(client.slice(5), 'group-member', [
      '--topic', topic, '--group', group, '--client-id', clientId, '--session-timeout-ms', sessionMs,
      '--heartbeat-ms', String(HEARTBEAT_MS), '--assignor', o.assignor ?? 'default',
    ]);
  }
  return [python, [
    scriptOf(client), bootstrap, 'group-member', topic, group, '--client-id', clientId, '--session-timeout-ms', sessionMs,
    '--heartbeat-ms', String(HEARTBEAT_MS), ...(o.assignor ? ['--assignors', o.assignor] : []),
  ]];
}

interface KcatEnvelope { partition: number; offset: number; key: string | null; payload: string | null; headers?: string[] }

function kcatRecord(e: KcatEnvelope): GotRecord {
  const headers: Headers = [];
  for (let i = 0; i + 1 < (e.headers?.length ?? 0); i += 2) headers.push([e.headers![i]!, e.headers![i + 1]!]);
  return { partition: e.partition, offset: e.offset, key: e.key, value: e.payload, headers };
}

/** A record from a member's output line, or undefined for other lines. */
function recordOf(client: Client, line: Record<string, unknown>): GotRecord | undefined {
  if (client === 'kcat') return 'payload' in line ? kcatRecord(line as unknown as KcatEnvelope) : undefined;
  if (line.type !== 'record') return undefined;
  return { partition: line.partition as number, offset: line.offset as number, key: line.key as string | null, value: line.value as string | null, headers: line.headers as Headers };
}

/** Produces records until stopped; knows what was acknowledged (or, for kcat, written). */
interface StreamProducer {
  sent(): SentRecord[];
  /** Stops producing; every record sent, once all are acknowledged. */
  stop(): Promise<SentRecord[]>;
  describe(): string;
  hasExited(): boolean;
}

function startProducer(client: Client, topic: string, tag: string): StreamProducer {
  if (client === 'kcat') {
    const proc = startProcess('kcat -P', 'kcat', ['-b', bootstrap, '-P', '-t', topic, '-K', ':', '-H', 'src=kcat', '-X', 'linger.ms=5'], { timeoutMs: 600_000 });
    const written: SentRecord[] = [];
    const timer = setInterval(() => {
      const i = written.length;
      proc.send(`k-${i}:${tag}-${i}`);
      written.push({ key: `k-${i}`, value: `${tag}-${i}`, headers: [['src', 'kcat']] });
    }, PRODUCE_INTERVAL_MS);
    return {
      sent: () => written,
      stop: async () => {
        clearInterval(timer);
        proc.end();
        const r = await withDeadline(proc.exited, WAIT_MS, 'kcat -P to flush and exit');
        expect(r.code, describeRun('kcat -P', r)).toBe(0);
        return written;
      },
      describe: () => proc.describe(),
      hasExited: () => proc.hasExited(),
    };
  }
  const [cmd, args] = client.startsWith('java-')
    ? javaCommand(client.slice(5), 'produce-stream', ['--topic', topic, '--partitions', String(PARTITIONS), '--interval-ms', String(PRODUCE_INTERVAL_MS), '--tag', tag])
    : [python, [scriptOf(client), bootstrap, 'produce-stream', topic, '--partitions', String(PARTITIONS), '--interval-ms', String(PRODUCE_INTERVAL_MS), '--tag', tag]];
  const proc = startProcess(`${client} produce-stream`, cmd, args, { timeoutMs: 600_000 });
  const src = client.startsWith('java-') ? 'java' : SRC[client]!;
  const sent = (): SentRecord[] => proc.lines.filter((l) => l.type === 'sent').map((l) => {
    const i = l.i as number;
    return { key: `k-${i}`, value: `${tag}-${i}`, headers: [['i', String(i)], ['src', src]], partition: l.partition as number, offset: l.offset as number };
  });
  return {
    sent,
    stop: async () => {
      proc.send('stop');
      const r = await withDeadline(proc.exited, WAIT_MS, `${client} produce-stream to flush and exit`);
      const why = describeRun(`${client} produce-stream`, r);
      expect(proc.lines.filter((l) => l.type === 'error' || l.type === 'fatal'), why).toEqual([]);
      expect(r.code, why).toBe(0);
      const all = sent();
      // Every record it sent was acknowledged: indexes 0..n-1, once each.
      expect(all.map((s) => s.value).sort(), why).toEqual(all.map((_, i) => `${tag}-${i}`).sort());
      return all;
    },
    describe: () => proc.describe(),
    hasExited: () => proc.hasExited(),
  };
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

// ---------------------------------------------------------------------------------------------
// A group run: members, what they consumed, the checks

interface Member {
  name: string;
  clientId: string;
  client: Client;
  proc: LiveProcess;
}

interface Delivery extends GotRecord {
  member: string;
  /** Arrival order at this process, across members. */
  seq: number;
}

let arrivals = 0;

/** Broker log lines (pino JSON). */
function brokerLog(): Record<string, unknown>[] {
  return jsonLines(broker.logs());
}

class GroupRun {
  readonly topic: string;
  readonly group: string;
  readonly deliveries: Delivery[] = [];
  readonly members = new Map<string, Member>();
  /** client id -> tap sequence number when it was killed. */
  readonly crashed = new Map<string, number>();
  readonly left = new Set<string>();
  producer: StreamProducer | null = null;
  /** Everything produced, once the producer has stopped (or for a fixed set of records). */
  sent: SentRecord[] | null = null;

  constructor(readonly label: string) {
    this.topic = uniqueName(`${label}-t`);
    this.group = uniqueName(`${label}-g`);
  }

  member(client: Client, name: string, options: MemberOptions = {}): Member {
    const clientId = `${this.label}-${name}`;
    const [cmd, args] = memberCommand(client, this.topic, this.group, clientId, options);
    const proc = startProcess(`${client} member ${clientId}`, cmd, args, {
      timeoutMs: 600_000,
      onLine: (line) => {
        const r = recordOf(client, line);
        if (r) this.deliveries.push({ ...r, member: clientId, seq: ++arrivals });
      },
    });
    const m = { name, clientId, client, proc };
    this.members.set(clientId, m);
    return m;
  }

  /**
   * Leaves cleanly: "leave" on stdin (commit, close()), or SIGTERM for kcat (it closes the
   * consumer). kcat only once nothing is produced any more: a SIGTERM that lands while kcat waits
   * in rd_kafka_consumer_poll() makes it drop the message that poll returns (consume_cb returns
   * when !conf.run) after librdkafka stored its offset, and rd_kafka_consumer_close() commits it —
   * a record committed but never printed (seen here: kcat printed 1/8, committed 10).
   */
  async leave(...members: Member[]): Promise<void> {
    for (const m of members) {
      if (m.client === 'kcat' && this.producer !== null && this.sent === null) throw new Error('test bug: kcat leaves only once the producer stopped');
    }
    for (const m of members) {
      this.left.add(m.clientId);
      if (m.client === 'kcat') m.proc.kill('SIGTERM');
      else m.proc.send('leave');
    }
    for (const m of members) {
      const r = await withDeadline(m.proc.exited, WAIT_MS, `${m.clientId} to leave and exit\n${m.proc.describe()}`);
      expect(r.code, `${m.clientId} leaving\n${m.proc.describe()}`).toBe(0);
      if (m.client !== 'kcat') expect(m.proc.lines.some((l) => l.type === 'left'), m.proc.describe()).toBe(true);
    }
  }

  /** SIGKILL: no commit, no LeaveGroup. Once it has committed, so the redelivery starts past 0. */
  async crash(m: Member): Promise<void> {
    await this.wait(`${m.clientId} committing before it is killed`, () =>
      tap.commits.some((c) => c.groupId === this.group && c.clientId === m.clientId && c.errorCode === 0 && c.offset > 0));
    this.crashed.set(m.clientId, tap.seq);
    m.proc.kill('SIGKILL');
    await withDeadline(m.proc.exited, WAIT_MS, `${m.clientId} to die`);
  }

  /** Fails at once when a member or the producer died on its own. */
  private assertAlive(what: string): void {
    for (const m of this.members.values()) {
      if (this.left.has(m.clientId) || this.crashed.has(m.clientId)) continue;
      const fatal = m.proc.lines.find((l) => l.type === 'fatal');
      if (m.proc.hasExited() || fatal) {
        throw new Error(`${what}: member ${m.clientId} ${fatal ? `failed: ${JSON.stringify(fatal)}` : 'exited'}\n${this.why()}`);
      }
    }
    if (this.producer && this.sent === null && this.producer.hasExited()) {
      throw new Error(`${what}: the producer exited\n${this.why()}`);
    }
  }

  async wait(what: string, check: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.assertAlive(what);
      if (check()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.why()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until the latest generation is exactly these members (by name), sharing every partition. */
  async settle(names: string[], what: string): Promise<Generation> {
    const want = names.map((n) => `${this.label}-${n}`).sort();
    let found: Generation | undefined;
    await this.wait(`${what}: group ${this.group} settling on ${want.join(', ')}`, () => {
      const g = tap.latestGeneration(this.group);
      if (g === undefined || [...g.members.keys()].sort().join() !== want.join()) return false;
      const owned = [...g.members.values()].flat().sort((a, b) => a - b);
      if (owned.join() !== ALL_PARTITIONS.join()) return false;
      found = g;
      return true;
    });
    return found!;
  }

  /** Waits until every record sent so far was consumed by some member. */
  async caughtUp(what: string): Promise<void> {
    const target = (this.sent ?? this.producer!.sent()).slice();
    const missing = (): SentRecord[] => {
      const seen = new Set(this.deliveries.map((d) => d.value));
      return target.filter((s) => !seen.has(s.value));
    };
    try {
      await this.wait(`${what}: the ${target.length} records sent so far consumed`, () => missing().length === 0);
    } catch (err) {
      const left = missing();
      (err as Error).message = `${left.length} never consumed: ${left.slice(0, 12).map((s) => `${s.value}@${s.partition ?? '?'}/${s.offset ?? '?'}`).join(' ')}\n` +
        `the last commit of each member per partition: ${this.commitSummary()}\n${(err as Error).message}`;
      throw err;
    }
  }

  /** For failure messages: per partition, the last commit of each member, oldest first. */
  commitSummary(): string {
    return ALL_PARTITIONS.map((p) => {
      const last = new Map<string, CommitSeen>();
      for (const c of tap.commits) if (c.groupId === this.group && c.partition === p) last.set(c.clientId ?? c.memberId, c);
      return `\n  ${p}: ${[...last.values()].sort((a, b) => a.seq - b.seq)
        .map((c) => `${c.offset}${c.errorCode ? ` (error ${c.errorCode})` : ''} by ${c.clientId} in generation ${c.generationId}`).join(', ')}`;
    }).join('');
  }

  /** Stops the producer, waits for every record, and lets the remaining members leave. */
  async finish(): Promise<void> {
    if (this.producer) this.sent = await this.producer.stop();
    expect(this.sent!.length, 'records produced').toBeGreaterThan(0);
    await this.caughtUp('the end');
    const remaining = [...this.members.values()].filter((m) => !this.left.has(m.clientId) && !this.crashed.has(m.clientId));
    await this.leave(...remaining);
  }

  /** Whatever helps to understand a failure: members, producer, the tap's generations, broker warnings. */
  why(): string {
    const out: string[] = [];
    for (const m of this.members.values()) {
      const failed = m.proc.lines.filter((l) => l.type === 'commit-failed' || l.type === 'consume-error' || l.type === 'client-error');
      out.push(`--- ${m.clientId} (${m.client})${this.crashed.has(m.clientId) ? ' [killed]' : ''}${this.left.has(m.clientId) ? ' [left]' : ''}: ` +
        `${this.deliveries.filter((d) => d.member === m.clientId).length} records; ` +
        `assignments ${JSON.stringify(m.proc.lines.filter((l) => l.type === 'assigned').map((l) => l.partitions))}` +
        `${failed.length ? `\n  errors: ${JSON.stringify(failed.slice(-5))}` : ''}\n  ${m.proc.describe().split('\n').join('\n  ')}`);
    }
    if (this.producer) out.push(`--- producer: ${this.producer.describe()}`);
    const gens = [...tap.generations(this.group)].map(([g, ms]) =>
      `gen ${g} [${tap.generation(this.group, g).protocols.join()}]: ${[...ms].map(([m, ps]) => `${m.slice(0, 40)}=${ps.join('.')}`).join(' ')}`);
    out.push(`--- tap: ${gens.join('\n    ')}${tap.errors.length ? `\n  tap errors: ${tap.errors.slice(-5).join('; ')}` : ''}`);
    out.push(`--- broker warnings:\n${brokerProblems(broker)}`);
    return out.join('\n');
  }

  /** The last acknowledged commit of a partition before the tap's sequence number `before` (0 if none). */
  private committedBefore(partition: number, before: number): number {
    let offset = 0;
    for (const c of tap.commits) {
      if (c.groupId === this.group && c.topic === this.topic && c.partition === partition && c.errorCode === 0 && c.seq < before) offset = c.offset;
    }
    return offset;
  }

  /**
   * The record checks: nothing lost, nothing unknown, each record as sent (key, value, headers,
   * and partition/offset as the producer was told), offsets contiguous and in the order sent per
   * partition, each member reading forward, duplicates only after a crash, no partition in two
   * members of one generation. Returns the number of records per partition (the log end offsets).
   */
  checkRecords(): number[] {
    const sent = this.sent!;
    const why = (): string => this.why();
    const index = new Map<string, number>();
    sent.forEach((s, i) => index.set(s.value, i));
    expect(index.size, 'test bug: duplicate sent values').toBe(sent.length);

    // Each delivery is a record that was sent, as it was sent.
    const unknown = this.deliveries.filter((d) => d.value === null || !index.has(d.value));
    expect(unknown.map((d) => `${d.value}@${d.partition}/${d.offset} by ${d.member}`), `records nobody sent\n${why()}`).toEqual([]);
    for (const d of this.deliveries) {
      const s = sent[index.get(d.value!)!]!;
      expect({ key: d.key, value: d.value, headers: d.headers }, `record ${d.partition}/${d.offset} consumed by ${d.member}`)
        .toEqual({ key: s.key, value: s.value, headers: s.headers });
      if (s.partition !== undefined) expect([d.partition, d.offset], `partition/offset of ${s.value} (as its producer was told)`).toEqual([s.partition, s.offset]);
    }
    // Nothing lost.
    const seen = new Set(this.deliveries.map((d) => d.value));
    const missing = sent.filter((s) => !seen.has(s.value)).map((s) => s.value);
    expect(missing, `${missing.length} of ${sent.length} sent records never consumed\n${why()}`).toEqual([]);

    // One value per offset; per partition, offsets 0..n-1 in the order sent.
    const at = new Map<string, string>();
    for (const d of this.deliveries) {
      const k = `${d.partition}/${d.offset}`;
      expect(at.get(k) ?? d.value, `${k} consumed with two values`).toBe(d.value);
      at.set(k, d.value!);
    }
    const ends: number[] = [];
    for (const p of ALL_PARTITIONS) {
      const offsets = [...new Set(this.deliveries.filter((d) => d.partition === p).map((d) => d.offset))].sort((a, b) => a - b);
      expect(offsets, `partition ${p}: offsets must be contiguous from 0`).toEqual(offsets.map((_, i) => i));
      const order = offsets.map((o) => index.get(at.get(`${p}/${o}`)!)!);
      expect(order, `partition ${p} must be in the order sent`).toEqual([...order].sort((a, b) => a - b));
      ends.push(offsets.length);
    }
    expect(ends.reduce((a, b) => a + b, 0)).toBe(sent.length);

    // Duplicates: only a record first consumed by a member that then crashed, at or after the
    // last offset committed before the crash, consumed once more by another member.
    const byOffset = new Map<string, Delivery[]>();
    for (const d of this.deliveries) {
      const k = `${d.partition}/${d.offset}`;
      if (!byOffset.has(k)) byOffset.set(k, []);
      byOffset.get(k)!.push(d);
    }
    const badDuplicates: string[] = [];
    let allowedDuplicates = 0;
    for (const [k, ds] of byOffset) {
      if (ds.length === 1) continue;
      ds.sort((a, b) => a.seq - b.seq);
      const [first, ...again] = ds as [Delivery, ...Delivery[]];
      const killedAt = this.crashed.get(first.member);
      const committed = killedAt === undefined ? Infinity : this.committedBefore(first.partition, killedAt);
      if (killedAt !== undefined && again.length === 1 && again[0]!.member !== first.member && first.offset >= committed) {
        allowedDuplicates++;
      } else {
        badDuplicates.push(`${k} consumed by ${ds.map((d) => d.member).join(', ')}` +
          (killedAt === undefined ? '' : ` (the first was killed; committed before: ${committed})`));
      }
    }
    expect(badDuplicates, `records consumed more than once where at-least-once does not allow it\n${why()}`).toEqual([]);
    if (this.crashed.size === 0) expect(allowedDuplicates).toBe(0);

    // Each member reads each partition forward; a jump only over records another member read.
    for (const m of this.members.keys()) {
      for (const p of ALL_PARTITIONS) {
        const offsets = this.deliveries.filter((d) => d.member === m && d.partition === p).map((d) => d.offset);
        const others = new Set(this.deliveries.filter((d) => d.member !== m && d.partition === p).map((d) => d.offset));
        for (let i = 1; i < offsets.length; i++) {
          expect(offsets[i]! > offsets[i - 1]!, `${m} went back in partition ${p}: ${offsets[i - 1]} then ${offsets[i]}`).toBe(true);
          for (let skipped = offsets[i - 1]! + 1; skipped < offsets[i]!; skipped++) {
            expect(others.has(skipped), `${m} skipped ${p}/${skipped}, which nobody else read`).toBe(true);
          }
        }
      }
    }

    // No partition handed to two members of one generation.
    const generations = tap.generations(this.group);
    expect(generations.size, `generations seen\n${why()}`).toBeGreaterThan(0);
    for (const [generation, members] of generations) {
      const all = [...members.values()].flat();
      expect(new Set(all).size, `generation ${generation} hands a partition out twice: ${JSON.stringify([...members])}`).toBe(all.length);
    }
    expect(tap.errors).toEqual([]);
    console.log(`${this.label}: ${sent.length} records, ${this.deliveries.length} deliveries (${allowedDuplicates} again after a crash), ` +
      `generations ${[...generations.keys()].join(',')}, log end offsets ${ends.join(',')}`);
    return ends;
  }

  /** The group's committed offsets (OffsetFetch v5 straight to the broker), -1 where none. */
  async committed(): Promise<number[]> {
    const r = await kafkaRequest(broker.bootstrap, 9, 5, {
      groupId: this.group, topics: [{ name: this.topic, partitionIndexes: ALL_PARTITIONS }], groups: [], requireStable: false,
    });
    expect(r.errorCode).toBe(0);
    const t = r.topics.find((x) => x.name === this.topic);
    return ALL_PARTITIONS.map((p) => Number(t?.partitions.find((x) => x.partitionIndex === p)?.committedOffset ?? -1));
  }

  /** checkRecords(), and the group's committed offsets are the log end offsets. */
  async check(): Promise<void> {
    const ends = this.checkRecords();
    expect(await this.committed(), `committed offsets at the end (the log end offsets)\n${this.why()}`).toEqual(ends);
  }

  /** The broker found the crash by the session timeout, and heard a LeaveGroup from each member that left. */
  expectBrokerSaw(): void {
    const log = brokerLog().filter((l) => l.group === this.group);
    const about = (msg: string, clientId: string): boolean => {
      const ids = tap.memberIdsOf(this.group, clientId);
      return log.some((l) => l.msg === msg && ids.has(String(l.member)));
    };
    for (const c of this.crashed.keys()) {
      expect(about('member session expired; removing it', c), `the broker expired ${c}'s session\n${this.why()}`).toBe(true);
      expect(about('member left the group', c), `${c} was killed: it cannot have left`).toBe(false);
    }
    for (const c of this.left) expect(about('member left the group', c), `${c} left the group (LeaveGroup)\n${this.why()}`).toBe(true);
  }
}

/** Range: each member holds one run of consecutive partitions, all runs the same length. */
function expectRangeLayout(g: Generation, why: () => string): void {
  const n = g.members.size;
  for (const [m, ps] of g.members) {
    expect(ps.length, `${m} in a range generation of ${n}\n${why()}`).toBe(PARTITIONS / n);
    expect(ps, `${m}: consecutive partitions (range)\n${why()}`).toEqual(ps.map((_, i) => ps[0]! + i));
  }
}

/** Round robin: each member holds the partitions of one residue modulo the member count. */
function expectRoundRobinLayout(g: Generation, why: () => string): void {
  const n = g.members.size;
  for (const [m, ps] of g.members) {
    expect(ps.length, `${m} in a roundrobin generation of ${n}\n${why()}`).toBe(PARTITIONS / n);
    expect(ps.map((p) => p % n), `${m}: every ${n}th partition (roundrobin)\n${why()}`).toEqual(ps.map(() => ps[0]! % n));
  }
}

/**
 * The scenario of test/integration/groups.test.ts with one client: a, b, c share the topic while
 * records are produced throughout; b leaves, c is killed (short session timeout), d joins.
 */
async function leaveCrashJoin(client: Client, label: string, assignor?: string): Promise<GroupRun> {
  const g = new GroupRun(label);
  g.producer = startProducer(client, g.topic, label);
  // Members subscribe to a topic that exists (librdkafka would wait for a metadata refresh).
  await g.wait('the producer creating the topic', () => g.producer!.sent().length > 0);
  g.member(client, 'a', { assignor });
  const b = g.member(client, 'b', { assignor });
  const c = g.member(client, 'c', { assignor, sessionMs: CRASH_SESSION_MS });
  const g1 = await g.settle(['a', 'b', 'c'], 'three members');
  await g.caughtUp('three members');

  await g.leave(b);
  const g2 = await g.settle(['a', 'c'], 'after b left');
  await g.caughtUp('after b left');

  await g.crash(c);
  const g3 = await g.settle(['a'], 'after c was killed');
  await g.caughtUp('after c was killed');

  g.member(client, 'd', { assignor });
  const g4 = await g.settle(['a', 'd'], 'after d joined');
  await g.caughtUp('after d joined');

  await g.finish();
  expect([g1, g2, g3, g4].map((x) => x.generationId), 'each change is a new generation')
    .toEqual([g1, g2, g3, g4].map((x) => x.generationId).sort((x, y) => x - y));
  expect(new Set([g1, g2, g3, g4].map((x) => x.generationId)).size).toBe(4);
  await g.check();
  g.expectBrokerSaw();
  return g;
}

// ---------------------------------------------------------------------------------------------

describe('a group of one client: three members, one leaves, one is killed, one joins; records produced throughout', () => {
  test('kafka-python (range,roundrobin: range)', async () => {
    const g = await leaveCrashJoin('kafka-python', 'kp');
    expect(tap.latestGeneration(g.group)!.protocols).toEqual(['range']);
  });

  test('confluent-kafka (librdkafka range,roundrobin: range)', async () => {
    const g = await leaveCrashJoin('confluent', 'ck');
    expect(tap.latestGeneration(g.group)!.protocols).toEqual(['range']);
  });

  test.each(JAVA_VERSIONS)('Java KafkaConsumer %s (default assignors: range)', async (version) => {
    const g = await leaveCrashJoin(`java-${version}`, `java${version.replaceAll('.', '')}`);
    expect(tap.latestGeneration(g.group)!.protocols).toEqual(['range']);
  });

  test('kcat -G: three balanced consumers, one killed; every record consumed; the commits resume a later run', async () => {
    const g = new GroupRun('kcat');
    g.producer = startProducer('kcat', g.topic, 'kc');
    await g.wait('the producer creating the topic', () => g.producer!.sent().length > 0);
    g.member('kcat', 'a');
    g.member('kcat', 'b');
    const c = g.member('kcat', 'c', { sessionMs: CRASH_SESSION_MS });
    await g.settle(['a', 'b', 'c'], 'three kcat members');
    await g.caughtUp('three kcat members');
    await g.crash(c);
    await g.settle(['a', 'b'], 'after c was killed');
    await g.caughtUp('after c was killed');
    await g.finish();
    await g.check();
    g.expectBrokerSaw();

    // A later run of the group starts from the offsets committed when a and b closed.
    const later = Array.from({ length: 18 }, (_, i): SentRecord => ({ key: `later-${i}`, value: `later-${i}`, headers: [['src', 'kcat']] }));
    const prod = await run('kcat', ['-b', bootstrap, '-P', '-t', g.topic, '-K', ':', '-H', 'src=kcat'],
      { input: later.map((r) => `${r.key}:${r.value}`).join('\n') + '\n', timeoutMs: RUN_TIMEOUT_MS });
    expect(prod.code, describeRun('kcat -P', prod)).toBe(0);
    const again = await run('kcat', ['-b', bootstrap, '-e', '-J', '-q', '-X', 'auto.offset.reset=earliest', '-X', 'client.id=kcat-later', '-G', g.group, g.topic],
      { timeoutMs: RUN_TIMEOUT_MS });
    const why = `${describeRun('kcat -G -e (later run)', again)}\n${g.why()}`;
    expect(again.code, why).toBe(0);
    expectSameRecords(jsonLines<KcatEnvelope>(again.stdout).map(kcatRecord), later, { what: 'the later run of the group' });
  });
});

describe('a group of several clients sharing an assignor', () => {
  test('range: kafka-python + confluent-kafka + Java RangeAssignor; confluent-kafka leaves', async () => {
    const javaVersion = JAVA_VERSIONS[JAVA_VERSIONS.length - 1]!;
    const g = new GroupRun('range');
    g.producer = startProducer('kafka-python', g.topic, 'range');
    await g.wait('the producer creating the topic', () => g.producer!.sent().length > 0);
    g.member('kafka-python', 'kp', { assignor: 'range' });
    const ck = g.member('confluent', 'ck', { assignor: 'range' });
    g.member(`java-${javaVersion}`, 'java', { assignor: 'range' });
    const g1 = await g.settle(['kp', 'ck', 'java'], 'three clients');
    expect(g1.protocols, g.why()).toEqual(['range']);
    expectRangeLayout(g1, () => g.why());
    await g.caughtUp('three clients');

    await g.leave(ck);
    const g2 = await g.settle(['kp', 'java'], 'after confluent-kafka left');
    expect(g2.protocols, g.why()).toEqual(['range']);
    expectRangeLayout(g2, () => g.why());
    await g.caughtUp('after confluent-kafka left');
    await g.finish();
    await g.check();
    g.expectBrokerSaw();
  });

  test('roundrobin: kafka-python + confluent-kafka + kcat (librdkafka); confluent-kafka leaves', async () => {
    const g = new GroupRun('rr');
    g.producer = startProducer('confluent', g.topic, 'rr');
    await g.wait('the producer creating the topic', () => g.producer!.sent().length > 0);
    g.member('kafka-python', 'kp', { assignor: 'roundrobin' });
    const ck = g.member('confluent', 'ck', { assignor: 'roundrobin' });
    g.member('kcat', 'kcat', { assignor: 'roundrobin' });
    const g1 = await g.settle(['kp', 'ck', 'kcat'], 'three clients');
    expect(g1.protocols, g.why()).toEqual(['roundrobin']);
    expectRoundRobinLayout(g1, () => g.why());
    await g.caughtUp('three clients');

    await g.leave(ck);
    const g2 = await g.settle(['kp', 'kcat'], 'after confluent-kafka left');
    expect(g2.protocols, g.why()).toEqual(['roundrobin']);
    expectRoundRobinLayout(g2, () => g.why());
    await g.caughtUp('after confluent-kafka left');
    await g.finish();
    await g.check();
    g.expectBrokerSaw();
  });
});

// ---------------------------------------------------------------------------------------------
// Admin clients

interface Step { type: string; step: string; ok: boolean; result?: unknown; error?: { class: string; message: string } }

async function adminRun(cmd: string, args: string[], what: string): Promise<{ steps: Map<string, Step>; why: string }> {
  const r = await run(cmd, args, { timeoutMs: RUN_TIMEOUT_MS });
  const lines = jsonLines<Step>(r.stdout);
  const why = `${describeRun(what, r)}\n  broker warnings:\n${brokerProblems(broker)}`;
  expect(lines.find((l) => l.type === 'fatal'), why).toBeUndefined();
  expect(r.code, why).toBe(0);
  return { steps: new Map(lines.filter((l) => l.type === 'step').map((l) => [l.step, l])), why };
}

function ok<T>(a: { steps: Map<string, Step>; why: string }, name: string): T {
  const s = a.steps.get(name);
  expect(s, `step ${name}\n${a.why}`).toBeDefined();
  expect(s!.ok, `${name}: ${JSON.stringify(s!.error)}\n${a.why}`).toBe(true);
  return s!.result as T;
}

function failed(a: { steps: Map<string, Step>; why: string }, name: string): string {
  const s = a.steps.get(name);
  expect(s, `step ${name}\n${a.why}`).toBeDefined();
  expect(s!.ok, `${name} must fail: ${JSON.stringify(s!.result)}\n${a.why}`).toBe(false);
  return s!.error!.class;
}

/**
 * A group of two kafka-python members that consumed and committed 24 records (4 per partition);
 * `live` runs while they are in it, `empty` once both left.
 */
async function adminScenario(label: string, live: (g: GroupRun, gen: Generation) => Promise<void>, empty: (g: GroupRun) => Promise<void>): Promise<void> {
  const g = new GroupRun(label);
  const prod = await run(python, [KAFKA_PYTHON, bootstrap, 'produce', g.topic, '24', '--partitions', String(PARTITIONS), '--acks', 'all', '--tag', label],
    { timeoutMs: RUN_TIMEOUT_MS });
  const prodLines = jsonLines(prod.stdout);
  expect(prod.code, describeRun('kafka-python produce', prod)).toBe(0);
  g.sent = prodLines.filter((l) => l.type === 'sent').map((l) => {
    const i = l.i as number;
    return { key: `k-${i}`, value: `${label}-${i}`, headers: [['i', String(i)], ['src', 'kafka-python']], partition: l.partition as number, offset: l.offset as number };
  });
  expect(g.sent.length).toBe(24);
  const m1 = g.member('kafka-python', 'm1', { assignor: 'range' });
  const m2 = g.member('kafka-python', 'm2', { assignor: 'range' });
  const gen = await g.settle(['m1', 'm2'], 'two members');
  await g.caughtUp('two members');
  await g.wait('every record committed', () => {
    const last = new Map<number, number>();
    for (const c of tap.commits) if (c.groupId === g.group && c.errorCode === 0) last.set(c.partition, c.offset);
    return ALL_PARTITIONS.every((p) => last.get(p) === 4);
  });
  await live(g, gen);
  await g.leave(m1, m2);
  const ends = g.checkRecords();
  expect(ends).toEqual(ALL_PARTITIONS.map(() => 4));
  await empty(g);
  g.expectBrokerSaw();
}

describe('group admin through the clients: ListGroups, DescribeGroups, committed offsets, DeleteGroups', () => {
  test('kafka-python KafkaAdminClient', async () => {
    const admin = (g: GroupRun, phase: string): Promise<{ steps: Map<string, Step>; why: string }> =>
      adminRun(python, [KAFKA_PYTHON, bootstrap, 'group-admin', g.group, '--phase', phase], `kafka-python group-admin ${phase}`);
    const offsets = (g: GroupRun): unknown[] => ALL_PARTITIONS.map((p) => [g.topic, p, 4]);
    await adminScenario('kpadmin', async (g, gen) => {
      const a = await admin(g, 'live');
      expect(ok<unknown[]>(a, 'list_groups'), a.why).toContainEqual([g.group, 'consumer']);
      const [d] = ok<{ members: { member_id: string; client_id: string; client_host: string; subscription: string[]; assignment: unknown[] }[] }[]>(a, 'describe_groups');
      expect(d, a.why).toMatchObject({ error_code: 0, group: g.group, state: 'Stable', protocol_type: 'consumer', protocol: 'range' });
      expect(d!.members.map((m) => m.client_id), a.why).toEqual(['kpadmin-m1', 'kpadmin-m2']);
      for (const m of d!.members) {
        expect(m.member_id, a.why).toBe(gen.memberIds.get(m.client_id));
        expect(m.client_host, a.why).toMatch(/127\.0\.0\.1/);
        expect(m.subscription, a.why).toEqual([g.topic]);
        expect(m.assignment, a.why).toEqual([[g.topic, gen.members.get(m.client_id)]]);
      }
      expect(ok(a, 'list_offsets'), a.why).toEqual(offsets(g));
      expect(ok(a, 'delete_groups'), `deleting a group with members\n${a.why}`).toEqual([[g.group, 'NonEmptyGroupError']]);
    }, async (g) => {
      const a = await admin(g, 'empty');
      expect(ok<unknown[]>(a, 'list_groups'), a.why).toContainEqual([g.group, 'consumer']);
      expect(ok(a, 'describe_groups'), a.why).toMatchObject([{ error_code: 0, group: g.group, state: 'Empty', members: [] }]);
      expect(ok(a, 'list_offsets'), a.why).toEqual(offsets(g));
      expect(ok(a, 'delete_groups'), a.why).toEqual([[g.group, 'NoError']]);
      expect(ok<unknown[]>(a, 'list_groups_after_delete'), a.why).not.toContainEqual([g.group, 'consumer']);
      expect(ok(a, 'list_offsets_after_delete'), a.why).toEqual([]);
      expect(ok(a, 'delete_groups_again'), a.why).toEqual([[g.group, 'GroupIdNotFoundError']]);
    });
  });

  test.each(JAVA_VERSIONS)('Java AdminClient %s', async (version) => {
    const label = `jadmin${version.replaceAll('.', '')}`;
    const admin = (g: GroupRun, phase: string): Promise<{ steps: Map<string, Step>; why: string }> => {
      const [cmd, args] = javaCommand(version, 'group-admin', ['--group', g.group, '--phase', phase]);
      return adminRun(cmd, args, `java ${version} group-admin ${phase}`);
    };
    const offsets = (g: GroupRun): unknown[] => ALL_PARTITIONS.map((p) => [g.topic, p, 4]);
    await adminScenario(label, async (g, gen) => {
      const a = await admin(g, 'live');
      expect(ok<unknown[]>(a, 'listConsumerGroups'), a.why).toContainEqual({ groupId: g.group, simple: false, state: 'Stable' });
      const d = ok<{ members: { consumerId: string; clientId: string; host: string; assignment: number[]; topics: string[] }[] }>(a, 'describeConsumerGroups');
      expect(d, a.why).toMatchObject({ groupId: g.group, simple: false, state: 'Stable', partitionAssignor: 'range', coordinator: 1 });
      expect(d.members.map((m) => m.clientId), a.why).toEqual([`${label}-m1`, `${label}-m2`]);
      for (const m of d.members) {
        expect(m.consumerId, a.why).toBe(gen.memberIds.get(m.clientId));
        expect(m.host, a.why).toMatch(/127\.0\.0\.1/);
        expect(m.assignment, a.why).toEqual(gen.members.get(m.clientId));
        expect(m.topics, a.why).toEqual([g.topic]);
      }
      expect(ok(a, 'listConsumerGroupOffsets'), a.why).toEqual(offsets(g));
      expect(failed(a, 'deleteConsumerGroups'), `deleting a group with members\n${a.why}`).toBe('org.apache.kafka.common.errors.GroupNotEmptyException');
    }, async (g) => {
      const a = await admin(g, 'empty');
      expect(ok<unknown[]>(a, 'listConsumerGroups'), a.why).toContainEqual({ groupId: g.group, simple: false, state: 'Empty' });
      expect(ok(a, 'describeConsumerGroups'), a.why).toMatchObject({ groupId: g.group, state: 'Empty', members: [] });
      expect(ok(a, 'listConsumerGroupOffsets'), a.why).toEqual(offsets(g));
      ok(a, 'deleteConsumerGroups');
      expect(ok<{ groupId: string }[]>(a, 'listConsumerGroups-after-delete').map((x) => x.groupId), a.why).not.toContain(g.group);
      expect(ok(a, 'listConsumerGroupOffsets-after-delete'), a.why).toEqual([]);
      expect(failed(a, 'deleteConsumerGroups-again'), a.why).toBe('org.apache.kafka.common.errors.GroupIdNotFoundException');
    });
  });
});
