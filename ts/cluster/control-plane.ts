// The control plane: which topics exist (id, partitions, configs), broker membership and dynamic
// broker configs. A single node keeps it in a local file (local-control-plane.ts); a cluster keeps
// it in etcd. The broker only ever talks to this interface.
import { randomUUID } from 'node:crypto';

export interface TopicInfo {
  name: string;
  /** Kafka's printed form of a UUID: URL-safe base64 without padding, 22 characters. */
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level config overrides (Kafka names). */
  configs: Record<string, string>;
  internal: boolean;
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export type ControlPlaneEvent =
  | { type: 'topic-created'; topic: TopicInfo }
  | { type: 'topic-deleted'; topic: TopicInfo }
  | { type: 'topic-changed'; topic: TopicInfo }
  | { type: 'broker-configs-changed'; configs: Record<string, string> };

export interface ControlPlane {
  listTopics(): TopicInfo[];
  getTopic(name: string): TopicInfo | undefined;
  getTopicById(topicId: string): TopicInfo | undefined;
  /** Throws GodelError TOPIC_ALREADY_EXISTS when the name is taken. */
  createTopic(spec: { name: string; partitions: number; replicationFactor: number; configs: Record<string, string>; internal?: boolean }): Promise<TopicInfo>;
  deleteTopic(name: string): Promise<TopicInfo | undefined>;
  setPartitionCount(name: string, partitions: number): Promise<TopicInfo>;
  setTopicConfigs(name: string, configs: Record<string, string>): Promise<TopicInfo>;
  /** Reserves `count` producer ids no other call (or broker, or restart) gets; returns the first. */
  allocateProducerIds(count: number): Promise<bigint>;
  brokerConfigs(): Record<string, string>;
  setBrokerConfigs(configs: Record<string, string>): Promise<void>;
  brokers(): BrokerInfo[];
  controllerId(): number;
  clusterId(): string;
  subscribe(listener: (event: ControlPlaneEvent) => void): () => void;
  close(): Promise<void>;
}

/** A fresh topic id: random, never the zero UUID. */
export function newTopicId(): string {
  for (;;) {
    const bytes = Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
    if (bytes.some((b) => b !== 0)) return bytes.toString('base64url');
  }
}
