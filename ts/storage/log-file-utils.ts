// File names of a Kafka log directory (Kafka's LogFileUtils), so an operator recognises them:
// segments are named by their base offset, zero-padded to 20 digits.
import path from 'node:path';

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
export const DELETED_FILE_SUFFIX = '.deleted';
export const CLEANED_FILE_SUFFIX = '.cleaned';
export const SWAP_FILE_SUFFIX = '.swap';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';

export function filenamePrefixFromOffset(offset: bigint): string {
  return offset.toString().padStart(20, '0');
}

export function segmentFilePath(dir: string, baseOffset: bigint, suffix: string): string {
  return path.join(dir, filenamePrefixFromOffset(baseOffset) + suffix);
}

/** The base offset a segment file name carries, or null when the name is not a segment file. */
export function offsetFromFileName(name: string): bigint | null {
  const match = /^(\d{20})\./.exec(name);
  return match ? BigInt(match[1]!) : null;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Kafka's directory name for a partition log: `topic-partition`. */
export function logDirName(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

/** Parses `topic-partition`; topics may themselves contain '-', so the partition is after the last one. */
export function parseLogDirName(name: string): TopicPartition | null {
  const match = /^(.+)-(\d+)$/.exec(name);
  if (!match) return null;
  const partition = Number(match[2]);
  if (!Number.isSafeInteger(partition) || partition > 0x7fffffff) return null;
  return { topic: match[1]!, partition };
}

export function topicPartitionKey(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}
