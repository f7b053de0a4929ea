// Per-log configuration under Kafka's topic config names (`segment.bytes`, `retention.ms` …),
// parsed and validated from strings as users type them. Kafka's "infinite" Long.MAX_VALUE becomes
// Infinity here. Broker-level defaults use Kafka's broker names (`log.segment.bytes` …).
import { GodelError } from '../errors.js';
import {
  INDEX_INTERVAL_BYTES_DEFAULT,
  MESSAGE_MAX_BYTES_DEFAULT,
  SEGMENT_BYTES_DEFAULT,
  SEGMENT_BYTES_MAX,
  SEGMENT_BYTES_MIN,
  SEGMENT_INDEX_BYTES_DEFAULT,
  SEGMENT_INDEX_BYTES_MIN,
  BATCH_BYTES_MAX,
} from '../limits.js';

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';
export type TimestampType = 'CreateTime' | 'LogAppendTime';

export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  segmentJitterMs: number;
  segmentIndexBytes: number;
  indexIntervalBytes: number;
  flushMessages: number;
  flushMs: number;
  retentionMs: number;
  retentionBytes: number;
  cleanupPolicy: CleanupPolicy;
  maxMessageBytes: number;
  messageTimestampType: TimestampType;
  messageTimestampBeforeMaxMs: number;
  messageTimestampAfterMaxMs: number;
  fileDeleteDelayMs: number;
  deleteRetentionMs: number;
  minCleanableDirtyRatio: number;
  minCompactionLagMs: number;
  maxCompactionLagMs: number;
  minInsyncReplicas: number;
}

const LONG_MAX = 9223372036854775807n;
const DAY_MS = 24 * 60 * 60 * 1000;

type Kind =
  | { type: 'long'; min: number; max?: number; minusOneInfinite?: boolean }
  | { type: 'int'; min: number; max: number }
  | { type: 'double'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] };

interface Definition {
  /** camelCase field in LogConfig. */
  field: keyof LogConfig;
  /** Broker-level key that supplies the default (`log.segment.bytes`), if Kafka has one. */
  brokerKey?: string;
  kind: Kind;
  default: number | string;
  doc: string;
}

/** Topic config keys, as Kafka names them. */
export const LOG_CONFIG_DEFINITIONS: Readonly<Record<string, Definition>> = {
  'segment.bytes': {
    field: 'segmentBytes', brokerKey: 'log.segment.bytes', default: SEGMENT_BYTES_DEFAULT,
    kind: { type: 'int', min: SEGMENT_BYTES_MIN, max: SEGMENT_BYTES_MAX }, doc: 'Segment file size before a roll',
  },
  'segment.ms': {
    field: 'segmentMs', brokerKey: 'log.roll.ms', default: 7 * DAY_MS,
    kind: { type: 'long', min: 1 }, doc: 'Time after which the active segment rolls',
  },
  'segment.jitter.ms': {
    field: 'segmentJitterMs', brokerKey: 'log.roll.jitter.ms', default: 0,
    kind: { type: 'long', min: 0 }, doc: 'Random jitter subtracted from segment.ms',
  },
  'segment.index.bytes': {
    field: 'segmentIndexBytes', brokerKey: 'log.index.size.max.bytes', default: SEGMENT_INDEX_BYTES_DEFAULT,
    kind: { type: 'int', min: SEGMENT_INDEX_BYTES_MIN, max: 0x7fffffff }, doc: 'Maximum offset index size',
  },
  'index.interval.bytes': {
    field: 'indexIntervalBytes', brokerKey: 'log.index.interval.bytes', default: INDEX_INTERVAL_BYTES_DEFAULT,
    kind: { type: 'int', min: 0, max: 0x7fffffff }, doc: 'Log bytes between offset index entries',
  },
  'flush.messages': {
    field: 'flushMessages', brokerKey: 'log.flush.interval.messages', default: Infinity,
    kind: { type: 'long', min: 1 }, doc: 'Messages appended before an fsync; 1 = durable mode (ack after fsync, group commit)',
  },
  'flush.ms': {
    field: 'flushMs', brokerKey: 'log.flush.interval.ms', default: Infinity,
    kind: { type: 'long', min: 0 }, doc: 'Time between fsyncs of a log',
  },
  'retention.ms': {
    field: 'retentionMs', brokerKey: 'log.retention.ms', default: 7 * DAY_MS,
    kind: { type: 'long', min: -1, minusOneInfinite: true }, doc: 'Age after which segments are deleted (-1: never)',
  },
  'retention.bytes': {
    field: 'retentionBytes', brokerKey: 'log.retention.bytes', default: Infinity,
    kind: { type: 'long', min: -1, minusOneInfinite: true }, doc: 'Size above which old segments are deleted (-1: never)',
  },
  'cleanup.policy': {
    field: 'cleanupPolicy', brokerKey: 'log.cleanup.policy', default: 'delete',
    kind: { type: 'enum', values: ['delete', 'compact', 'compact,delete'] }, doc: 'delete, compact or both',
  },
  'max.message.bytes': {
    field: 'maxMessageBytes', brokerKey: 'message.max.bytes', default: MESSAGE_MAX_BYTES_DEFAULT,
    kind: { type: 'int', min: 0, max: BATCH_BYTES_MAX }, doc: 'Largest record batch accepted',
  },
  'message.timestamp.type': {
    field: 'messageTimestampType', brokerKey: 'log.message.timestamp.type', default: 'CreateTime',
    kind: { type: 'enum', values: ['CreateTime', 'LogAppendTime'] }, doc: 'Producer timestamps or broker append time',
  },
  'message.timestamp.before.max.ms': {
    field: 'messageTimestampBeforeMaxMs', brokerKey: 'log.message.timestamp.before.max.ms', default: Infinity,
    kind: { type: 'long', min: 0 }, doc: 'How far in the past a CreateTime timestamp may be',
  },
  'message.timestamp.after.max.ms': {
    field: 'messageTimestampAfterMaxMs', brokerKey: 'log.message.timestamp.after.max.ms', default: Infinity,
    kind: { type: 'long', min: 0 }, doc: 'How far in the future a CreateTime timestamp may be',
  },
  'file.delete.delay.ms': {
    field: 'fileDeleteDelayMs', brokerKey: 'log.segment.delete.delay.ms', default: 60_000,
    kind: { type: 'long', min: 0 }, doc: 'Delay before a deleted segment leaves the disk',
  },
  'delete.retention.ms': {
    field: 'deleteRetentionMs', brokerKey: 'log.cleaner.delete.retention.ms', default: DAY_MS,
    kind: { type: 'long', min: 0 }, doc: 'How long tombstones stay after cleaning',
  },
  'min.cleanable.dirty.ratio': {
    field: 'minCleanableDirtyRatio', brokerKey: 'log.cleaner.min.cleanable.ratio', default: 0.5,
    kind: { type: 'double', min: 0, max: 1 }, doc: 'Dirty fraction before compaction runs',
  },
  'min.compaction.lag.ms': {
    field: 'minCompactionLagMs', brokerKey: 'log.cleaner.min.compaction.lag.ms', default: 0,
    kind: { type: 'long', min: 0 }, doc: 'Minimum age before a record can be compacted',
  },
  'max.compaction.lag.ms': {
    field: 'maxCompactionLagMs', brokerKey: 'log.cleaner.max.compaction.lag.ms', default: Infinity,
    kind: { type: 'long', min: 1 }, doc: 'Maximum age before a record must be compacted',
  },
  'min.insync.replicas': {
    field: 'minInsyncReplicas', brokerKey: 'min.insync.replicas', default: 1,
    kind: { type: 'int', min: 1, max: 0x7fffffff }, doc: 'Replicas that must acknowledge an acks=all write',
  },
};

function parseLong(key: string, raw: string, kind: Extract<Kind, { type: 'long' }>): number {
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) throw invalid(key, raw, 'must be an integer');
  const value = BigInt(text);
  if (value === LONG_MAX) return Infinity;
  if (kind.minusOneInfinite && value === -1n) return Infinity;
  if (value < BigInt(kind.min)) throw invalid(key, raw, `must be at least ${kind.min}`);
  if (value > LONG_MAX) throw invalid(key, raw, 'does not fit a 64-bit integer');
  // Values beyond 2^53 are far past any real duration or size: treat them as unbounded.
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(value);
}

function parseValue(key: string, raw: string, def: Definition): number | string {
  const kind = def.kind;
  switch (kind.type) {
    case 'long':
      return parseLong(key, raw, kind);
    case 'int': {
      const text = raw.trim();
      if (!/^-?\d+$/.test(text)) throw invalid(key, raw, 'must be an integer');
      const value = Number(text);
      if (value < kind.min || value > kind.max) throw invalid(key, raw, `must be between ${kind.min} and ${kind.max}`);
      return value;
    }
    case 'double': {
      const text = raw.trim();
      const value = Number(text);
      if (text === '' || !Number.isFinite(value)) throw invalid(key, raw, 'must be a number');
      if (value < kind.min || value > kind.max) throw invalid(key, raw, `must be between ${kind.min} and ${kind.max}`);
      return value;
    }
    case 'enum': {
      const text = raw.split(',').map((s) => s.trim()).filter((s) => s !== '').sort().join(',');
      if (!kind.values.includes(text)) throw invalid(key, raw, `must be one of: ${kind.values.join(' | ')}`);
      return text;
    }
  }
}

function invalid(key: string, raw: string, why: string): GodelError {
  return new GodelError('CONFIG_INVALID', `invalid value "${raw}" for ${key}: ${why}`);
}

export function isLogConfigKey(key: string): boolean {
  return Object.hasOwn(LOG_CONFIG_DEFINITIONS, key);
}

/** Kafka's defaults, as if no broker or topic config were set. */
export function defaultLogConfig(): LogConfig {
  const config: Record<string, number | string> = {};
  for (const def of Object.values(LOG_CONFIG_DEFINITIONS)) config[def.field] = def.default;
  return config as unknown as LogConfig;
}

/**
 * Builds a LogConfig: Kafka defaults, then broker-level keys (`log.segment.bytes` …), then topic
 * keys (`segment.bytes` …). Unknown topic keys and bad values throw CONFIG_INVALID.
 */
export function buildLogConfig(
  topicOverrides: Readonly<Record<string, string>> = {},
  brokerConfig: Readonly<Record<string, string>> = {},
): LogConfig {
  const config = defaultLogConfig() as unknown as Record<string, number | string>;
  for (const [key, def] of Object.entries(LOG_CONFIG_DEFINITIONS)) {
    if (def.brokerKey !== undefined && Object.hasOwn(brokerConfig, def.brokerKey)) {
      config[def.field] = parseValue(def.brokerKey, brokerConfig[def.brokerKey]!, def);
    }
    // Kafka's broker-level retention may also be given in hours or minutes.
    if (key === 'retention.ms' && !Object.hasOwn(brokerConfig, 'log.retention.ms')) {
      if (Object.hasOwn(brokerConfig, 'log.retention.minutes')) {
        config[def.field] = scaled('log.retention.minutes', brokerConfig['log.retention.minutes']!, 60_000);
      } else if (Object.hasOwn(brokerConfig, 'log.retention.hours')) {
        config[def.field] = scaled('log.retention.hours', brokerConfig['log.retention.hours']!, 3_600_000);
      }
    }
  }
  for (const [key, raw] of Object.entries(topicOverrides)) {
    const def = LOG_CONFIG_DEFINITIONS[key];
    if (def === undefined) throw new GodelError('CONFIG_INVALID', `unknown topic config ${key}`);
    config[def.field] = parseValue(key, raw, def);
  }
  return config as unknown as LogConfig;
}

function scaled(key: string, raw: string, unitMs: number): number {
  const value = parseLong(key, raw, { type: 'long', min: -1, minusOneInfinite: true });
  return Number.isFinite(value) ? value * unitMs : Infinity;
}

/** Whether retention by time or size applies (cleanup.policy contains delete). */
export function deletesOldSegments(config: LogConfig): boolean {
  return config.cleanupPolicy === 'delete' || config.cleanupPolicy === 'compact,delete';
}

export function compacts(config: LogConfig): boolean {
  return config.cleanupPolicy === 'compact' || config.cleanupPolicy === 'compact,delete';
}
