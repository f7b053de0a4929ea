// The group coordinator as a broker runs it: records in the broker's own __consumer_offsets logs,
// Node timers, settings from the broker config, and the partition leader taken from the control
// plane (a single node leads every partition of the topic).
import type { BrokerConfig } from '../broker/broker-config.js';
import type { TopicManager } from '../broker/topic-manager.js';
import type { Clock } from '../clock.js';
import type { ControlPlane } from '../cluster/control-plane.js';
import type { LogEngine } from '../engine/types.js';
import type { Logger } from '../log.js';
import { GroupCoordinator, type CoordinatorNode, type GroupCoordinatorConfig } from './group-coordinator.js';
import { LogGroupStorage, OFFSETS_TOPIC } from './offset-store.js';
import { SystemScheduler } from './scheduler.js';

export function groupCoordinatorConfig(config: BrokerConfig): GroupCoordinatorConfig {
  return {
    offsetsTopicNumPartitions: config.offsetsTopicNumPartitions,
    groupMinSessionTimeoutMs: config.groupMinSessionTimeoutMs,
    groupMaxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
    groupInitialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
    offsetMetadataMaxBytes: config.offsetMetadataMaxBytes,
    offsetsRetentionMs: config.offsetsRetentionMinutes * 60_000,
    offsetsRetentionCheckIntervalMs: config.offsetsRetentionCheckIntervalMs,
  };
}

export interface BrokerGroupCoordinatorOptions {
  config: BrokerConfig;
  engine: LogEngine;
  topics: TopicManager;
  controlPlane: ControlPlane;
  clock: Clock;
  logger: Logger;
}

export function createBrokerGroupCoordinator(options: BrokerGroupCoordinatorOptions): GroupCoordinator {
  const { config, engine, topics, controlPlane, clock, logger } = options;
  const storage = new LogGroupStorage(topics, engine, clock, logger, () => controlPlane.brokers().length);
  const partitionLeader = (partition: number): CoordinatorNode | null => {
    const topic = topics.topic(OFFSETS_TOPIC);
    if (topic === undefined || partition < 0 || partition >= topic.partitions) return null;
    // Alone, this node leads every partition; a cluster will take the leader from the control plane.
    const self = controlPlane.brokers().find((b) => b.nodeId === config.nodeId);
    return self === undefined ? null : { nodeId: self.nodeId, host: self.host, port: self.port };
  };
  const coordinator = new GroupCoordinator(groupCoordinatorConfig(config), {
    storage, scheduler: new SystemScheduler(clock), logger, partitionLeader,
  });
  controlPlane.subscribe((event) => {
    if (event.type !== 'topic-deleted' || event.topic.name === OFFSETS_TOPIC) return;
    coordinator.onTopicDeleted(event.topic.name).catch((err: unknown) => {
      logger.warn({ topic: event.topic.name, err: String(err) }, 'could not remove the offsets of a deleted topic');
    });
  });
  return coordinator;
}
