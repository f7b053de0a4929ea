// Gödel's public API: the storage engine today; the broker, client and admin join it as they land.
export { chooseEngine, defaultEngine, engineChoice } from './engine/loader.js';
export type { EngineName, LogEngine, SegmentFile } from './engine/types.js';
export { LogManager, type LogManagerOptions } from './storage/log-manager.js';
export { PartitionLog, type AppendInfo, type LogReadResult } from './storage/partition-log.js';
export { buildLogConfig, type LogConfig } from './storage/log-config.js';
export { buildRecordBatch, type BatchInput, type RecordInput } from './storage/record-batch-builder.js';
export { GodelError, type GodelErrorCode } from './errors.js';
export { GODEL_VERSION } from './version.js';
// The Kafka client: new Godel({ brokers }).producer() / .consumer({ groupId }) / .admin().
export * from './client/index.js';
