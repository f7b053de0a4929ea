// Every API the broker serves, registered once at start.
import type { ApiRegistry } from '../api-registry.js';
import type { BrokerServices } from '../services.js';
import { alterConfigsHandler } from './alter-configs.js';
import { apiVersionsHandler } from './api-versions.js';
import { createPartitionsHandler } from './create-partitions.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteGroupsHandler } from './delete-groups.js';
import { deleteRecordsHandler } from './delete-records.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { describeClusterHandler } from './describe-cluster.js';
import { describeConfigsHandler } from './describe-configs.js';
import { describeLogDirsHandler } from './describe-log-dirs.js';
import { describeGroupsHandler } from './describe-groups.js';
import { fetchHandler } from './fetch.js';
import { findCoordinatorHandler } from './find-coordinator.js';
import { heartbeatHandler } from './heartbeat.js';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { joinGroupHandler } from './join-group.js';
import { leaveGroupHandler } from './leave-group.js';
import { listGroupsHandler } from './list-groups.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetDeleteHandler } from './offset-delete.js';
import { offsetFetchHandler } from './offset-fetch.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { produceHandler } from './produce.js';
import { syncGroupHandler } from './sync-group.js';

export function registerHandlers(registry: ApiRegistry, services: BrokerServices): void {
  for (const make of [apiVersionsHandler, metadataHandler, produceHandler, fetchHandler, listOffsetsHandler, initProducerIdHandler]) {
    registry.register(make(services));
  }
  // Admin APIs.
  for (const make of [
    createTopicsHandler, deleteTopicsHandler, createPartitionsHandler, deleteRecordsHandler, describeConfigsHandler,
    alterConfigsHandler, incrementalAlterConfigsHandler, describeClusterHandler, offsetForLeaderEpochHandler, describeLogDirsHandler,
  ]) {
    registry.register(make(services));
  }
  // Consumer groups (the group coordinator).
  for (const make of [
    findCoordinatorHandler, joinGroupHandler, syncGroupHandler, heartbeatHandler, leaveGroupHandler, offsetCommitHandler,
    offsetFetchHandler, listGroupsHandler, describeGroupsHandler, deleteGroupsHandler, offsetDeleteHandler,
  ]) {
    registry.register(make(services));
  }
}
