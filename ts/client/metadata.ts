// The client's view of the cluster: brokers, controller, and per topic its partitions with their
// leaders. Built from Metadata responses; a topic's entry is replaced whole when a response
// mentions it, and the partition lists are kept sorted by index.
import type { MetadataResponse } from '../protocol/generated/metadata-response.js';

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionMetadata {
  partition: number;
  /** Leader node id, -1 when there is none right now. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  errorCode: number;
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  isInternal: boolean;
  /** Indexed by partition number. */
  partitions: PartitionMetadata[];
  errorCode: number;
}

export class MetadataCache {
  clusterId: string | null = null;
  controllerId = -1;
  readonly brokers = new Map<number, BrokerInfo>();
  readonly topics = new Map<string, TopicMetadata>();
  /** When each topic was last refreshed (ms). */
  private readonly refreshedAt = new Map<string, number>();
  /** When the broker list was last refreshed (ms). */
  brokersRefreshedAt = 0;

  /** Applies a response; `requested` are the topic names asked for (null = all topics). */
  update(response: MetadataResponse, requested: readonly string[] | null, now = Date.now()): void {
    this.clusterId = response.clusterId;
    this.controllerId = response.controllerId;
    this.brokers.clear();
    for (const b of response.brokers) this.brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    this.brokersRefreshedAt = now;
    if (requested === null) {
      // An all-topics answer: anything not in it no longer exists.
      const present = new Set(response.topics.map((t) => t.name));
      for (const name of [...this.topics.keys()]) {
        if (!present.has(name)) {
          this.topics.delete(name);
          this.refreshedAt.delete(name);
        }
      }
    }
    for (const t of response.topics) {
      if (t.name === null) continue;
      const partitions: PartitionMetadata[] = [];
      for (const p of t.partitions) {
        partitions[p.partitionIndex] = {
          partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes, isr: p.isrNodes, offlineReplicas: p.offlineReplicas, errorCode: p.errorCode,
        };
      }
      this.topics.set(t.name, { name: t.name, topicId: t.topicId, isInternal: t.isInternal, partitions: dense(partitions), errorCode: t.errorCode });
      this.refreshedAt.set(t.name, now);
    }
  }

  topic(name: string): TopicMetadata | undefined {
    return this.topics.get(name);
  }

  /** Partition count of a known topic without errors, else undefined. */
  partitionCount(name: string): number | undefined {
    const t = this.topics.get(name);
    return t === undefined || t.errorCode !== 0 ? undefined : t.partitions.length;
  }

  /** The leader of a partition, or -1 when unknown. */
  leader(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1;
  }

  refreshedAgoMs(topic: string, now = Date.now()): number {
    const at = this.refreshedAt.get(topic);
    return at === undefined ? Infinity : now - at;
  }

  forget(topic: string): void {
    this.topics.delete(topic);
    this.refreshedAt.delete(topic);
  }
}

/** Fills holes a lying response could leave, so `partitions[i].partition === i` always holds. */
function dense(partitions: PartitionMetadata[]): PartitionMetadata[] {
  for (let i = 0; i < partitions.length; i++) {
    partitions[i] ??= { partition: i, leader: -1, leaderEpoch: -1, replicas: [], isr: [], offlineReplicas: [], errorCode: 5 };
  }
  return partitions;
}
