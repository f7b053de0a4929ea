// The admin client: topics (create, describe, list, delete, add partitions), configs (describe,
// incremental alter), consumer groups (list, describe, delete, remove members, fetch / set / reset
// committed offsets), cluster description, log dirs (partition sizes), delete records and offset lookups. Each call sends its
// requests to the broker that must answer them (the controller, a partition's leader, a group's
// coordinator) and throws a KafkaError naming the topic, partition or group that failed.
import { GodelError } from '../errors.js';
import type { DescribeConfigsRequest } from '../protocol/generated/describe-configs-request.js';
import type { IncrementalAlterConfigsRequest } from '../protocol/generated/incremental-alter-configs-request.js';
import { ZERO_UUID } from '../protocol/reader.js';
import { decodeAssignment, decodeSubscription } from './assignors.js';
import { Cluster, type ClusterOptions } from './cluster.js';
import { KafkaError } from './errors.js';
import {
  commitOffsets,
  EARLIEST_TIMESTAMP,
  fetchCommittedOffsets,
  LATEST_TIMESTAMP,
  listOffsets,
  MAX_TIMESTAMP,
  tpKey,
  withCoordinator,
  type CommittedOffset,
  type OffsetAnswer,
  type OffsetQuery,
  type TopicPartition,
} from './offsets.js';
import { withRetry } from './retry.js';

const TOPIC_ALREADY_EXISTS = 36;
const NOT_CONTROLLER = 41;
const UNKNOWN_MEMBER_ID = 25;

export type ConfigResourceType = 'topic' | 'broker' | 'broker_logger' | 'group' | number;

const RESOURCE_TYPES: Record<string, number> = { topic: 2, broker: 4, broker_logger: 8, client_metrics: 16, group: 32 };
const CONFIG_OPS = { set: 0, delete: 1, append: 2, subtract: 3 } as const;
const CONFIG_SOURCES = ['UNKNOWN', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG', 'CLIENT_METRICS_CONFIG', 'GROUP_CONFIG'];

function resourceType(type: ConfigResourceType): number {
  if (typeof type === 'number') return type;
  const t = RESOURCE_TYPES[type];
  if (t === undefined) throw new GodelError('CONFIG_INVALID', `unknown config resource type ${JSON.stringify(type)}`);
  return t;
}

function resourceTypeName(type: number): string {
  return Object.entries(RESOURCE_TYPES).find(([, v]) => v === type)?.[0] ?? String(type);
}

export interface NewTopic {
  topic: string;
  /** Default: the broker's num.partitions. */
  numPartitions?: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Partition -> broker ids; replaces numPartitions/replicationFactor. */
  replicaAssignment?: Array<{ partition: number; replicas: number[] }>;
  configEntries?: Array<{ name: string; value: string | null }> | Record<string, string>;
}

export interface PartitionDescription {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  errorCode: number;
}

export interface TopicDescription {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: PartitionDescription[];
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
  /** Kafka's ConfigSource name: DEFAULT_CONFIG, DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG … */
  source: string;
  synonyms: Array<{ name: string; value: string | null; source: string }>;
  documentation: string | null;
}

export interface ConfigResourceResult {
  type: string;
  name: string;
  configs: ConfigEntry[];
}

export interface ConfigAlteration {
  name: string;
  value?: string | null;
  /** Default 'set' ('delete' reverts to the default). */
  op?: keyof typeof CONFIG_OPS;
}

export interface GroupOverview {
  groupId: string;
  protocolType: string;
  state: string;
  type: string;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Decoded for consumer groups; raw bytes stay in memberMetadata / memberAssignment. */
  assignment: TopicPartition[];
  subscribedTopics: string[];
  memberMetadata: Buffer;
  memberAssignment: Buffer;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberDescription[];
}

export interface TopicOffsets {
  partition: number;
  /** Log start offset (earliest). */
  low: bigint;
  /** High watermark (latest). */
  high: bigint;
}

export interface ClusterDescription {
  clusterId: string | null;
  controller: number;
  brokers: Array<{ nodeId: number; host: string; port: number; rack: string | null }>;
}

/** One log dir of one broker (DescribeLogDirs), Kafka's LogDirDescription. */
export interface LogDirDescription {
  broker: number;
  /** The absolute path of the directory on the broker. */
  logDir: string;
  /** Bytes of the directory's volume and how many of them are free for the broker; null when the broker does not say (before DescribeLogDirs v4). */
  totalBytes: bigint | null;
  usableBytes: bigint | null;
  /** The partitions stored there, by topic then partition; size in bytes (the log segments' total). */
  partitions: Array<TopicPartition & { size: bigint; offsetLag: bigint; isFuture: boolean }>;
}

export type ResetTarget = 'earliest' | 'latest' | { timestamp: number | bigint };

export class Admin {
  readonly cluster: Cluster;
  private connected: Promise<void> | null = null;

  constructor(clusterOptions: ClusterOptions) {
    this.cluster = new Cluster(clusterOptions);
  }

  connect(): Promise<void> {
    this.connected ??= this.cluster.connect().catch((err: unknown) => {
      this.connected = null;
      throw err;
    });
    return this.connected;
  }

  async disconnect(): Promise<void> {
    await this.cluster.close();
  }

  /** Runs a controller request, moving to the new controller on NOT_CONTROLLER. */
  private async onController<T>(fn: (nodeId: number) => Promise<T>): Promise<T> {
    await this.connect();
    return withRetry(this.cluster.retry, async () => {
      const controller = await this.cluster.controller();
      try {
        return await fn(controller);
      } catch (err) {
        if (err instanceof KafkaError && (err.code === NOT_CONTROLLER || err.code === 13)) await this.cluster.refreshMetadata([]).catch(() => undefined);
        throw err;
      }
    }, { aborted: () => this.cluster.isClosed });
  }

  // ---- topics -------------------------------------------------------------------------------------

  /** Topic names (internal topics only with includeInternal). */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    await this.connect();
    await this.cluster.refreshMetadata(null);
    return [...this.cluster.metadata.topics.values()].filter((t) => options.includeInternal === true || !t.isInternal).map((t) => t.name).sort();
  }

  /**
   * Creates topics. Resolves true when every topic was created, false when some existed already
   * (as KafkaJS); any other error is thrown. By default waits until each new topic has leaders.
   */
  async createTopics(options: { topics: readonly NewTopic[]; validateOnly?: boolean; timeoutMs?: number; waitForLeaders?: boolean }): Promise<boolean> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    let allCreated = true;
    await this.onController(async (controller) => {
      const response = await this.cluster.request(controller, 19, (version) => ({
        topics: options.topics.map((t) => ({
          name: t.topic,
          numPartitions: t.replicaAssignment !== undefined ? -1 : t.numPartitions ?? (version >= 4 ? -1 : 1),
          replicationFactor: t.replicaAssignment !== undefined ? -1 : t.replicationFactor ?? (version >= 4 ? -1 : 1),
          assignments: (t.replicaAssignment ?? []).map((a) => ({ partitionIndex: a.partition, brokerIds: a.replicas })),
          configs: configEntries(t.configEntries),
        })),
        timeoutMs,
        validateOnly: options.validateOnly ?? false,
      }), { timeoutMs: this.cluster.requestTimeoutMs + timeoutMs });
      for (const t of response.topics) {
        if (t.errorCode === TOPIC_ALREADY_EXISTS) {
          allCreated = false;
          continue;
        }
        if (t.errorCode !== 0) throw new KafkaError(t.errorCode, undefined, { topic: t.name, brokerMessage: t.errorMessage });
      }
    });
    if (options.validateOnly !== true && options.waitForLeaders !== false) {
      await this.cluster.ensureTopics(options.topics.map((t) => t.topic));
    }
    return allCreated;
  }

  async deleteTopics(options: { topics: readonly string[]; timeoutMs?: number }): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    await this.onController(async (controller) => {
      const response = await this.cluster.request(controller, 20, (version) => ({
        topics: version >= 6 ? options.topics.map((name) => ({ name, topicId: ZERO_UUID })) : [],
        topicNames: version >= 6 ? [] : [...options.topics],
        timeoutMs,
      }), { timeoutMs: this.cluster.requestTimeoutMs + timeoutMs });
      for (const t of response.responses) {
        if (t.errorCode !== 0) throw new KafkaError(t.errorCode, undefined, { topic: t.name ?? t.topicId, brokerMessage: t.errorMessage, retriable: false });
      }
    });
    for (const t of options.topics) this.cluster.metadata.forget(t);
  }

  /** Raises topics' partition counts to `count`. */
  async createPartitions(options: { topicPartitions: ReadonlyArray<{ topic: string; count: number; assignments?: number[][] }>; validateOnly?: boolean; timeoutMs?: number }): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    await this.onController(async (controller) => {
      const response = await this.cluster.request(controller, 37, () => ({
        topics: options.topicPartitions.map((t) => ({
          name: t.topic, count: t.count,
          assignments: t.assignments === undefined ? null : t.assignments.map((brokerIds) => ({ brokerIds })),
        })),
        timeoutMs,
        validateOnly: options.validateOnly ?? false,
      }), { timeoutMs: this.cluster.requestTimeoutMs + timeoutMs });
      for (const t of response.results) {
        if (t.errorCode !== 0) throw new KafkaError(t.errorCode, undefined, { topic: t.name, brokerMessage: t.errorMessage, retriable: false });
      }
    });
    if (options.validateOnly !== true) await this.cluster.refreshMetadata(options.topicPartitions.map((t) => t.topic));
  }

  /** Partitions, leaders and replicas of topics (all topics when none are named). */
  async describeTopics(topics?: readonly string[]): Promise<TopicDescription[]> {
    await this.connect();
    if (topics === undefined) {
      await this.cluster.refreshMetadata(null);
    } else {
      await this.cluster.refreshMetadata(topics);
    }
    const names = topics ?? [...this.cluster.metadata.topics.keys()].sort();
    return names.map((name) => {
      const t = this.cluster.metadata.topic(name);
      if (t === undefined) throw new KafkaError(3, undefined, { topic: name, retriable: false });
      if (t.errorCode !== 0) throw new KafkaError(t.errorCode, undefined, { topic: name, retriable: false });
      return {
        name: t.name, topicId: t.topicId, isInternal: t.isInternal,
        partitions: t.partitions.map((p) => ({
          partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas,
          isr: p.isr, offlineReplicas: p.offlineReplicas, errorCode: p.errorCode,
        })),
      };
    });
  }

  // ---- offsets and records -----------------------------------------------------------------------

  /** Raw ListOffsets lookups (timestamps, or LATEST/EARLIEST/MAX_TIMESTAMP). */
  async listOffsets(queries: readonly OffsetQuery[], options: { isolationLevel?: 'read_uncommitted' | 'read_committed' } = {}): Promise<OffsetAnswer[]> {
    await this.connect();
    return listOffsets(this.cluster, queries, options.isolationLevel === 'read_committed' ? 1 : 0);
  }

  /** Log start offset and high watermark of every partition of a topic. */
  async fetchTopicOffsets(topic: string): Promise<TopicOffsets[]> {
    const partitions = await this.partitionsOf(topic);
    const queries = (timestamp: bigint): OffsetQuery[] => partitions.map((partition) => ({ topic, partition, timestamp }));
    const [low, high] = await Promise.all([listOffsets(this.cluster, queries(EARLIEST_TIMESTAMP)), listOffsets(this.cluster, queries(LATEST_TIMESTAMP))]);
    return partitions.map((partition, i) => ({ partition, low: low[i]!.offset, high: high[i]!.offset }));
  }

  /**
   * Per partition, the first offset whose timestamp is at or after `timestamp` (the high watermark
   * when there is none, as KafkaJS). Without a timestamp: the offset of the largest timestamp.
   */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number | bigint): Promise<Array<{ partition: number; offset: bigint }>> {
    const partitions = await this.partitionsOf(topic);
    const ts = timestamp === undefined ? MAX_TIMESTAMP : BigInt(timestamp);
    const answers = await listOffsets(this.cluster, partitions.map((partition) => ({ topic, partition, timestamp: ts })));
    const missing = partitions.filter((_, i) => answers[i]!.offset < 0n);
    const latest = missing.length === 0 ? [] : await listOffsets(this.cluster, missing.map((partition) => ({ topic, partition, timestamp: LATEST_TIMESTAMP })));
    const latestBy = new Map(latest.map((a) => [a.partition, a.offset]));
    return partitions.map((partition, i) => ({ partition, offset: answers[i]!.offset >= 0n ? answers[i]!.offset : latestBy.get(partition)! }));
  }

  private async partitionsOf(topic: string): Promise<number[]> {
    await this.connect();
    await this.cluster.ensureTopics([topic]);
    const count = this.cluster.metadata.partitionCount(topic) ?? 0;
    return Array.from({ length: count }, (_, i) => i);
  }

  /**
   * Deletes records before `offset` in each partition (-1n: everything up to the high watermark).
   * Returns each partition's new log start offset.
   */
  async deleteRecords(options: { topic: string; partitions: ReadonlyArray<{ partition: number; offset: bigint }>; timeoutMs?: number }): Promise<Array<{ partition: number; lowWatermark: bigint }>> {
    await this.connect();
    const { topic } = options;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const results = new Map<number, bigint>();
    await withRetry(this.cluster.retry, async () => {
      await this.cluster.ensureTopics([topic]);
      const open = options.partitions.filter((p) => !results.has(p.partition));
      const byLeader = new Map<number, typeof open>();
      for (const p of open) {
        const leader = this.cluster.leaderFor(topic, p.partition);
        if (leader < 0) throw new KafkaError(3, `partition ${p.partition} does not exist`, { topic, partition: p.partition, retriable: false });
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
      }
      let retriable: KafkaError | null = null;
      await Promise.all([...byLeader].map(async ([leader, list]) => {
        const response = await this.cluster.request(leader, 21, () => ({
          topics: [{ name: topic, partitions: list.map((p) => ({ partitionIndex: p.partition, offset: p.offset })) }],
          timeoutMs,
        }), { timeoutMs: this.cluster.requestTimeoutMs + timeoutMs });
        for (const t of response.topics) {
          for (const p of t.partitions) {
            if (p.errorCode === 0) {
              results.set(p.partitionIndex, p.lowWatermark);
              continue;
            }
            const err = new KafkaError(p.errorCode, undefined, { topic: t.name, partition: p.partitionIndex });
            if (!err.retriable) throw err;
            retriable = err;
            await this.cluster.refreshMetadata([topic]).catch(() => undefined);
          }
        }
      }));
      if (retriable !== null) throw retriable;
    }, { aborted: () => this.cluster.isClosed });
    return options.partitions.map((p) => ({ partition: p.partition, lowWatermark: results.get(p.partition)! }));
  }

  // ---- configs ------------------------------------------------------------------------------------

  /** Describes topic or broker configs (all keys, or the ones named). */
  async describeConfigs(options: {
    resources: ReadonlyArray<{ type: ConfigResourceType; name: string; configNames?: string[] }>;
    includeSynonyms?: boolean;
    includeDocumentation?: boolean;
  }): Promise<ConfigResourceResult[]> {
    await this.connect();
    const out: ConfigResourceResult[] = [];
    // Broker resources go to that broker; the rest to any.
    const groups = new Map<number, typeof options.resources[number][]>();
    for (const r of options.resources) {
      const t = resourceType(r.type);
      const target = (t === 4 || t === 8) && /^\d+$/.test(r.name) ? Number(r.name) : -1;
      groups.set(target, [...(groups.get(target) ?? []), r]);
    }
    for (const [target, resources] of groups) {
      const response = await withRetry(this.cluster.retry, async () => {
        const build = (version: number): DescribeConfigsRequest => ({
          resources: resources.map((r) => ({ resourceType: resourceType(r.type), resourceName: r.name, configurationKeys: r.configNames ?? null })),
          includeSynonyms: version >= 1 ? options.includeSynonyms ?? false : false,
          includeDocumentation: version >= 3 ? options.includeDocumentation ?? false : false,
        });
        return target >= 0 ? this.cluster.request(target, 32, build) : this.cluster.requestAny(32, build);
      }, { aborted: () => this.cluster.isClosed });
      for (const r of response.results) {
        if (r.errorCode !== 0) {
          throw new KafkaError(r.errorCode, undefined, { topic: r.resourceType === 2 ? r.resourceName : undefined, brokerMessage: r.errorMessage ?? `${resourceTypeName(r.resourceType)} ${r.resourceName}`, retriable: false });
        }
        out.push({
          type: resourceTypeName(r.resourceType),
          name: r.resourceName,
          configs: r.configs.map((c) => ({
            name: c.name, value: c.value, readOnly: c.readOnly, isSensitive: c.isSensitive,
            isDefault: c.configSource === 5 || c.isDefault,
            source: CONFIG_SOURCES[c.configSource] ?? String(c.configSource),
            synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: CONFIG_SOURCES[s.source] ?? String(s.source) })),
            documentation: c.documentation,
          })),
        });
      }
    }
    return out;
  }

  /** Changes configs key by key (IncrementalAlterConfigs): set, delete (revert), append, subtract. */
  async alterConfigs(options: {
    resources: ReadonlyArray<{ type: ConfigResourceType; name: string; configs: readonly ConfigAlteration[] }>;
    validateOnly?: boolean;
  }): Promise<void> {
    await this.connect();
    for (const r of options.resources) {
      const t = resourceType(r.type);
      const target = (t === 4 || t === 8) && /^\d+$/.test(r.name) ? Number(r.name) : -1;
      const build = (): IncrementalAlterConfigsRequest => ({
        resources: [{
          resourceType: t,
          resourceName: r.name,
          configs: r.configs.map((c) => ({ name: c.name, configOperation: CONFIG_OPS[c.op ?? 'set'], value: c.op === 'delete' ? null : c.value ?? null })),
        }],
        validateOnly: options.validateOnly ?? false,
      });
      const response = await withRetry(this.cluster.retry, () => (target >= 0 ? this.cluster.request(target, 44, build) : this.cluster.requestAny(44, build)), { aborted: () => this.cluster.isClosed });
      for (const res of response.responses) {
        if (res.errorCode !== 0) {
          throw new KafkaError(res.errorCode, undefined, { topic: res.resourceType === 2 ? res.resourceName : undefined, brokerMessage: res.errorMessage ?? `${resourceTypeName(res.resourceType)} ${res.resourceName}`, retriable: false });
        }
      }
    }
  }

  // ---- groups -------------------------------------------------------------------------------------

  /** Every group on every broker. */
  async listGroups(): Promise<GroupOverview[]> {
    await this.connect();
    await this.cluster.refreshMetadata([]);
    const nodes = [...this.cluster.metadata.brokers.keys()];
    const lists = await Promise.all(nodes.map((nodeId) => withRetry(this.cluster.retry, async () => {
      const r = await this.cluster.request(nodeId, 16, () => ({ statesFilter: [], typesFilter: [] }));
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, `ListGroups on broker ${nodeId}`);
      return r.groups;
    }, { aborted: () => this.cluster.isClosed })));
    const seen = new Map<string, GroupOverview>();
    for (const list of lists) {
      for (const g of list) seen.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType });
    }
    return [...seen.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    await this.connect();
    return Promise.all(groupIds.map((groupId) => withCoordinator(this.cluster, groupId, async (nodeId) => {
      const response = await this.cluster.request(nodeId, 15, () => ({ groups: [groupId], includeAuthorizedOperations: false }), { purpose: 'coordinator' });
      const g = response.groups[0];
      if (g === undefined) throw new KafkaError(-1, `DescribeGroups left ${groupId} out`);
      if (g.errorCode !== 0) throw new KafkaError(g.errorCode, `group ${groupId}`);
      return {
        groupId: g.groupId,
        state: g.groupState,
        protocolType: g.protocolType,
        protocol: g.protocolData,
        members: g.members.map((m) => {
          let assignment: TopicPartition[] = [];
          let subscribedTopics: string[] = [];
          if (g.protocolType === 'consumer') {
            try {
              for (const [topic, partitions] of decodeAssignment(m.memberAssignment)) for (const partition of partitions) assignment.push({ topic, partition });
            } catch {
              assignment = [];
            }
            try {
              if (m.memberMetadata.length > 0) subscribedTopics = decodeSubscription(m.memberId, m.groupInstanceId, m.memberMetadata).topics;
            } catch {
              subscribedTopics = [];
            }
          }
          return {
            memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
            assignment, subscribedTopics, memberMetadata: m.memberMetadata, memberAssignment: m.memberAssignment,
          };
        }),
      };
    })));
  }

  /** Deletes groups (they must be empty). Throws the first failure as a KafkaError. */
  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    await this.connect();
    await Promise.all(groupIds.map((groupId) => withCoordinator(this.cluster, groupId, async (nodeId) => {
      const response = await this.cluster.request(nodeId, 42, () => ({ groupsNames: [groupId] }), { purpose: 'coordinator' });
      for (const r of response.results) {
        if (r.errorCode !== 0) throw new KafkaError(r.errorCode, `group ${r.groupId}`, { retriable: new KafkaError(r.errorCode).retriable });
      }
    })));
  }

  /**
   * Removes members from a group (LeaveGroup on their behalf); with no members listed, every
   * member. Static members are named by groupInstanceId, dynamic ones by memberId.
   */
  async removeMembers(options: { groupId: string; members?: ReadonlyArray<{ memberId?: string; groupInstanceId?: string }> }): Promise<void> {
    await this.connect();
    const { groupId } = options;
    let members = options.members;
    if (members === undefined || members.length === 0) {
      const [described] = await this.describeGroups([groupId]);
      members = described!.members.map((m) => (m.groupInstanceId !== null ? { memberId: m.memberId, groupInstanceId: m.groupInstanceId } : { memberId: m.memberId }));
      if (members.length === 0) return;
    }
    const list = members;
    await withCoordinator(this.cluster, groupId, async (nodeId) => {
      const response = await this.cluster.request(nodeId, 13, (version) => {
        if (version < 3) throw new KafkaError(35, 'removing members needs LeaveGroup v3+');
        return {
          groupId, memberId: '',
          members: list.map((m) => ({ memberId: m.memberId ?? '', groupInstanceId: m.groupInstanceId ?? null, reason: version >= 5 ? 'removed by an admin' : null })),
        };
      }, { purpose: 'coordinator' });
      if (response.errorCode !== 0) throw new KafkaError(response.errorCode, `group ${groupId}`);
      for (const m of response.members) {
        if (m.errorCode !== 0) throw new KafkaError(m.errorCode, `group ${groupId}, member ${m.groupInstanceId ?? m.memberId}`, { retriable: m.errorCode === UNKNOWN_MEMBER_ID ? false : undefined });
      }
    });
  }

  /**
   * A group's committed offsets: for the named topics (every partition, -1n where nothing is
   * committed), or everything the group has committed.
   */
  async fetchOffsets(options: { groupId: string; topics?: readonly string[] }): Promise<CommittedOffset[]> {
    await this.connect();
    let partitions: TopicPartition[] | null = null;
    if (options.topics !== undefined) {
      partitions = [];
      for (const topic of options.topics) for (const partition of await this.partitionsOf(topic)) partitions.push({ topic, partition });
    }
    const offsets = await fetchCommittedOffsets(this.cluster, options.groupId, partitions);
    return offsets.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /** Sets a group's committed offsets (the group must have no active members). */
  async setOffsets(options: { groupId: string; offsets: ReadonlyArray<TopicPartition & { offset: bigint; metadata?: string | null }> }): Promise<void> {
    await this.connect();
    await commitOffsets(this.cluster, { groupId: options.groupId, generationId: -1, memberId: '', groupInstanceId: null }, options.offsets);
  }

  /** Moves a group's committed offsets for a topic (all partitions, or the ones listed) to earliest, latest or a time. */
  async resetOffsets(options: { groupId: string; topic: string; to: ResetTarget; partitions?: number[] }): Promise<Array<TopicPartition & { offset: bigint }>> {
    const partitions = options.partitions ?? await this.partitionsOf(options.topic);
    await this.connect();
    let offsets: Array<TopicPartition & { offset: bigint }>;
    if (options.to === 'earliest' || options.to === 'latest') {
      const ts = options.to === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP;
      offsets = (await listOffsets(this.cluster, partitions.map((partition) => ({ topic: options.topic, partition, timestamp: ts })))).map((a) => ({ topic: a.topic, partition: a.partition, offset: a.offset }));
    } else {
      const byTime = await this.fetchTopicOffsetsByTimestamp(options.topic, options.to.timestamp);
      const wanted = new Set(partitions);
      offsets = byTime.filter((o) => wanted.has(o.partition)).map((o) => ({ topic: options.topic, partition: o.partition, offset: o.offset }));
    }
    await this.setOffsets({ groupId: options.groupId, offsets });
    return offsets;
  }

  /** Lag per partition of a group on a topic: committed offset, high watermark and their difference. */
  async groupLag(options: { groupId: string; topic: string }): Promise<Array<{ partition: number; committed: bigint; high: bigint; lag: bigint }>> {
    const [committed, ends] = await Promise.all([this.fetchOffsets({ groupId: options.groupId, topics: [options.topic] }), this.fetchTopicOffsets(options.topic)]);
    const byPartition = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c.offset]));
    return ends.map((e) => {
      const c = byPartition.get(tpKey(options.topic, e.partition)) ?? -1n;
      return { partition: e.partition, committed: c, high: e.high, lag: c < 0n ? e.high - e.low : e.high - c };
    });
  }

  // ---- cluster ------------------------------------------------------------------------------------

  /**
   * The log dirs of every broker (or of `options.brokers`) with the partitions in them, for
   * `options.topics` (default: every topic). A partition's replicas show up once per broker.
   */
  async describeLogDirs(options: { topics?: readonly string[]; brokers?: readonly number[] } = {}): Promise<LogDirDescription[]> {
    await this.connect();
    let topics: Array<{ topic: string; partitions: number[] }> | null = null;
    if (options.topics !== undefined) {
      topics = await Promise.all(options.topics.map(async (topic) => ({ topic, partitions: await this.partitionsOf(topic) })));
    }
    await this.cluster.refreshMetadata([]);
    const nodes = options.brokers ?? [...this.cluster.metadata.brokers.keys()].sort((a, b) => a - b);
    const answers = await Promise.all(nodes.map((nodeId) => withRetry(this.cluster.retry, async () => {
      const r = await this.cluster.request(nodeId, 35, () => ({ topics }));
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, `DescribeLogDirs on broker ${nodeId}`);
      return { nodeId, r };
    }, { aborted: () => this.cluster.isClosed })));
    const dirs: LogDirDescription[] = [];
    for (const { nodeId, r } of answers) {
      for (const result of r.results) {
        if (result.errorCode !== 0) throw new KafkaError(result.errorCode, `log dir ${result.logDir} on broker ${nodeId}`);
        const partitions: LogDirDescription['partitions'] = [];
        for (const t of result.topics) {
          for (const p of t.partitions) {
            partitions.push({ topic: t.name, partition: p.partitionIndex, size: p.partitionSize, offsetLag: p.offsetLag, isFuture: p.isFutureKey });
          }
        }
        partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
        dirs.push({
          broker: nodeId, logDir: result.logDir, partitions,
          totalBytes: result.totalBytes < 0n ? null : result.totalBytes,
          usableBytes: result.usableBytes < 0n ? null : result.usableBytes,
        });
      }
    }
    return dirs;
  }

  async describeCluster(): Promise<ClusterDescription> {
    await this.connect();
    const connection = await this.cluster.anyConnection();
    if (connection.supports(60)) {
      const r = await connection.request(60, () => ({ includeClusterAuthorizedOperations: false, endpointType: 1 }));
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, undefined, { brokerMessage: r.errorMessage });
      return {
        clusterId: r.clusterId, controller: r.controllerId,
        brokers: r.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.nodeId - b.nodeId),
      };
    }
    await this.cluster.refreshMetadata([]);
    const m = this.cluster.metadata;
    return { clusterId: m.clusterId, controller: m.controllerId, brokers: [...m.brokers.values()].sort((a, b) => a.nodeId - b.nodeId) };
  }
}

function configEntries(entries: NewTopic['configEntries']): Array<{ name: string; value: string | null }> {
  if (entries === undefined) return [];
  if (Array.isArray(entries)) return entries.map((e) => ({ name: e.name, value: e.value }));
  return Object.entries(entries as Record<string, string>).map(([name, value]) => ({ name, value }));
}
