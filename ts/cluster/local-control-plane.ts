// The single-node control plane: topics and dynamic broker configs in one JSON file in the data
// directory, replaced atomically (write, fsync, rename, fsync directory) on every change and
// reloaded at start. Changes are serialised so two admin requests never interleave writes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { GodelError } from '../errors.js';
import { writeFileAtomic } from '../storage/fs-utils.js';
import { Mutex } from '../storage/mutex.js';
import { newTopicId, type BrokerInfo, type ControlPlane, type ControlPlaneEvent, type TopicInfo } from './control-plane.js';

const FILE = 'godel-metadata.json';
const FORMAT_VERSION = 1;

interface Persisted {
  version: number;
  clusterId: string;
  topics: TopicInfo[];
  brokerConfigs: Record<string, string>;
  /** The next producer id not yet handed out (a decimal string: ids are 64-bit). */
  nextProducerId?: string;
}

export class LocalControlPlane implements ControlPlane {
  private readonly topics = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  private dynamicBrokerConfigs: Record<string, string> = {};
  private cluster = '';
  private nextProducerId = 0n;
  private readonly listeners = new Set<(event: ControlPlaneEvent) => void>();
  private readonly mutex = new Mutex();

  private constructor(private readonly file: string, private readonly self: BrokerInfo) {}

  static async open(dataDir: string, self: BrokerInfo): Promise<LocalControlPlane> {
    const plane = new LocalControlPlane(path.join(dataDir, FILE), self);
    await plane.load();
    return plane;
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.cluster = newTopicId();
      await this.persist();
      return;
    }
    let data: Persisted;
    try {
      data = JSON.parse(text) as Persisted;
    } catch (err) {
      throw new GodelError('STORAGE_ERROR', `topic metadata ${this.file} is not valid JSON (${(err as Error).message}); restore it from a backup`);
    }
    if (data.version !== FORMAT_VERSION || !Array.isArray(data.topics)) {
      throw new GodelError('STORAGE_ERROR', `topic metadata ${this.file} has an unknown format version ${String(data.version)}`);
    }
    this.cluster = data.clusterId;
    this.dynamicBrokerConfigs = data.brokerConfigs ?? {};
    this.nextProducerId = BigInt(data.nextProducerId ?? '0');
    for (const topic of data.topics) this.index(topic);
  }

  private index(topic: TopicInfo): void {
    this.topics.set(topic.name, topic);
    this.byId.set(topic.topicId, topic);
  }

  private async persist(): Promise<void> {
    const data: Persisted = {
      version: FORMAT_VERSION,
      clusterId: this.cluster,
      topics: [...this.topics.values()],
      brokerConfigs: this.dynamicBrokerConfigs,
      nextProducerId: String(this.nextProducerId),
    };
    await writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`);
  }

  private emit(event: ControlPlaneEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  listTopics(): TopicInfo[] {
    return [...this.topics.values()];
  }

  getTopic(name: string): TopicInfo | undefined {
    return this.topics.get(name);
  }

  getTopicById(topicId: string): TopicInfo | undefined {
    return this.byId.get(topicId);
  }

  createTopic(spec: { name: string; partitions: number; replicationFactor: number; configs: Record<string, string>; internal?: boolean }): Promise<TopicInfo> {
    return this.mutex.runExclusive(async () => {
      if (this.topics.has(spec.name)) throw new GodelError('TOPIC_ALREADY_EXISTS', `topic ${spec.name} already exists`);
      let topicId = newTopicId();
      while (this.byId.has(topicId)) topicId = newTopicId();
      const topic: TopicInfo = {
        name: spec.name, topicId, partitions: spec.partitions, replicationFactor: spec.replicationFactor,
        configs: { ...spec.configs }, internal: spec.internal ?? false,
      };
      this.index(topic);
      try {
        await this.persist();
      } catch (err) {
        this.topics.delete(topic.name);
        this.byId.delete(topic.topicId);
        throw err;
      }
      this.emit({ type: 'topic-created', topic });
      return topic;
    });
  }

  deleteTopic(name: string): Promise<TopicInfo | undefined> {
    return this.mutex.runExclusive(async () => {
      const topic = this.topics.get(name);
      if (topic === undefined) return undefined;
      this.topics.delete(name);
      this.byId.delete(topic.topicId);
      try {
        await this.persist();
      } catch (err) {
        this.index(topic);
        throw err;
      }
      this.emit({ type: 'topic-deleted', topic });
      return topic;
    });
  }

  setPartitionCount(name: string, partitions: number): Promise<TopicInfo> {
    return this.change(name, (t) => ({ ...t, partitions }));
  }

  setTopicConfigs(name: string, configs: Record<string, string>): Promise<TopicInfo> {
    return this.change(name, (t) => ({ ...t, configs: { ...configs } }));
  }

  private change(name: string, update: (topic: TopicInfo) => TopicInfo): Promise<TopicInfo> {
    return this.mutex.runExclusive(async () => {
      const before = this.topics.get(name);
      if (before === undefined) throw new GodelError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
      const after = update(before);
      this.index(after);
      try {
        await this.persist();
      } catch (err) {
        this.index(before);
        throw err;
      }
      this.emit({ type: 'topic-changed', topic: after });
      return after;
    });
  }

  allocateProducerIds(count: number): Promise<bigint> {
    return this.mutex.runExclusive(async () => {
      const first = this.nextProducerId;
      this.nextProducerId = first + BigInt(count);
      try {
        await this.persist();
      } catch (err) {
        this.nextProducerId = first;
        throw err;
      }
      return first;
    });
  }

  brokerConfigs(): Record<string, string> {
    return { ...this.dynamicBrokerConfigs };
  }

  setBrokerConfigs(configs: Record<string, string>): Promise<void> {
    return this.mutex.runExclusive(async () => {
      const before = this.dynamicBrokerConfigs;
      this.dynamicBrokerConfigs = { ...configs };
      try {
        await this.persist();
      } catch (err) {
        this.dynamicBrokerConfigs = before;
        throw err;
      }
      this.emit({ type: 'broker-configs-changed', configs: this.brokerConfigs() });
    });
  }

  brokers(): BrokerInfo[] {
    return [this.self];
  }

  controllerId(): number {
    return this.self.nodeId;
  }

  clusterId(): string {
    return this.cluster;
  }

  subscribe(listener: (event: ControlPlaneEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.mutex.runExclusive(async () => undefined);
    this.listeners.clear();
  }
}
