// What request handlers may use: the broker's parts, behind one object so each handler file
// states its needs by the fields it reads.
import type { Clock } from '../clock.js';
import type { ControlPlane } from '../cluster/control-plane.js';
import type { GroupCoordinator } from '../group/group-coordinator.js';
import type { Logger } from '../log.js';
import type { LogManager } from '../storage/log-manager.js';
import type { ApiRegistry } from './api-registry.js';
import type { BrokerConfig } from './broker-config.js';
import type { FetchPurgatory } from './fetch-purgatory.js';
import type { TopicManager } from './topic-manager.js';

export interface BrokerServices {
  config: BrokerConfig;
  logger: Logger;
  clock: Clock;
  controlPlane: ControlPlane;
  logManager: LogManager;
  topics: TopicManager;
  fetchPurgatory: FetchPurgatory;
  groupCoordinator: GroupCoordinator;
  registry: ApiRegistry;
  /** Static broker config overlaid with dynamic changes (AlterConfigs), Kafka names. */
  brokerConfigValues(): Record<string, string>;
}
