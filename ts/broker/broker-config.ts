// Broker configuration under Kafka's names, from a .properties file and `--set key=value`
// overrides. Log settings (`log.*`, `message.max.bytes` …) are validated by storage/log-config.ts;
// the broker's own are validated here. A bad value is an error naming the key; an unknown key is a
// warning, as in Kafka.
import { getProperties } from 'properties-file';
import { GodelError } from '../errors.js';
import { SOCKET_REQUEST_MAX_BYTES_DEFAULT } from '../limits.js';
import { buildLogConfig, LOG_CONFIG_DEFINITIONS } from '../storage/log-config.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface BrokerConfig {
  nodeId: number;
  listen: HostPort;
  /** What clients are told to connect to (Metadata); defaults to the listen address. */
  advertised: HostPort;
  dataDir: string;
  rack: string | null;
  autoCreateTopicsEnable: boolean;
  numPartitions: number;
  defaultReplicationFactor: number;
  deleteTopicEnable: boolean;
  socketRequestMaxBytes: number;
  maxConnections: number;
  connectionsMaxIdleMs: number;
  /** Requests read from one connection before it waits for responses (backpressure). */
  queuedMaxRequestsPerConnection: number;
  offsetsTopicNumPartitions: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  offsetMetadataMaxBytes: number;
  offsetsRetentionMinutes: number;
  offsetsRetentionCheckIntervalMs: number;
  /** Every key as given (Kafka names), including the log defaults the LogManager reads. */
  raw: Record<string, string>;
}

type Parser = (raw: string, key: string) => unknown;

const int = (min: number, max: number): Parser => (raw, key) => {
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) throw invalid(key, raw, 'must be an integer');
  const value = Number(text);
  if (value < min || value > max) throw invalid(key, raw, `must be between ${min} and ${max}`);
  return value;
};

const bool: Parser = (raw, key) => {
  const text = raw.trim().toLowerCase();
  if (text !== 'true' && text !== 'false') throw invalid(key, raw, 'must be true or false');
  return text === 'true';
};

const INT_MAX = 0x7fffffff;

export type BrokerKeyType = 'BOOLEAN' | 'STRING' | 'INT' | 'LONG';

export interface BrokerKeyDefinition {
  type: BrokerKeyType;
  /** Kafka's default, printed; '' when there is none. */
  default: string;
  parse: Parser;
  doc: string;
}

/**
 * Broker keys Gödel understands besides the log defaults, with Kafka's defaults. None of them can
 * change while the broker runs (the log defaults can: see storage/log-config.ts).
 */
export const BROKER_KEY_DEFINITIONS: Readonly<Record<string, BrokerKeyDefinition>> = {
  'node.id': { type: 'INT', default: '1', parse: int(0, INT_MAX), doc: 'This broker\'s id' },
  'broker.id': { type: 'INT', default: '', parse: int(0, INT_MAX), doc: 'Alias of node.id' },
  'listeners': { type: 'STRING', default: 'PLAINTEXT://localhost:9092', parse: (r, k) => parseListener(r, k), doc: 'Where the broker listens' },
  'advertised.listeners': { type: 'STRING', default: '', parse: (r, k) => parseListener(r, k), doc: 'What clients are told' },
  'log.dirs': { type: 'STRING', default: './godel-data', parse: (r) => r.split(',')[0]!.trim(), doc: 'Data directory' },
  'log.dir': { type: 'STRING', default: '', parse: (r) => r.trim(), doc: 'Data directory (if log.dirs is unset)' },
  'broker.rack': { type: 'STRING', default: '', parse: (r) => r.trim(), doc: 'Rack of this broker' },
  'auto.create.topics.enable': { type: 'BOOLEAN', default: 'true', parse: bool, doc: 'Create topics on first use' },
  'num.partitions': { type: 'INT', default: '1', parse: int(1, 100_000), doc: 'Partitions of an auto-created topic' },
  'default.replication.factor': { type: 'INT', default: '1', parse: int(1, 32_767), doc: 'Replicas of an auto-created topic' },
  'delete.topic.enable': { type: 'BOOLEAN', default: 'true', parse: bool, doc: 'Allow DeleteTopics' },
  'socket.request.max.bytes': { type: 'INT', default: String(SOCKET_REQUEST_MAX_BYTES_DEFAULT), parse: int(1024, INT_MAX), doc: 'Largest request frame' },
  'max.connections': { type: 'INT', default: '10000', parse: int(1, 1_000_000), doc: 'Connections accepted at once' },
  'connections.max.idle.ms': { type: 'LONG', default: '600000', parse: int(1000, INT_MAX), doc: 'Idle connections are closed after this' },
  'queued.max.requests': { type: 'INT', default: '500', parse: int(1, 100_000), doc: 'In-flight requests per connection' },
  'offsets.topic.num.partitions': { type: 'INT', default: '50', parse: int(1, 10_000), doc: 'Partitions of __consumer_offsets' },
  'group.initial.rebalance.delay.ms': { type: 'INT', default: '3000', parse: int(0, INT_MAX), doc: 'Wait for more members before the first rebalance' },
  'group.min.session.timeout.ms': { type: 'INT', default: '6000', parse: int(0, INT_MAX), doc: 'Shortest session timeout a group member may ask for' },
  'group.max.session.timeout.ms': { type: 'INT', default: '1800000', parse: int(0, INT_MAX), doc: 'Longest session timeout a group member may ask for' },
  'offset.metadata.max.bytes': { type: 'INT', default: '4096', parse: int(0, INT_MAX), doc: 'Longest metadata string an offset commit may carry' },
  'offsets.retention.minutes': { type: 'INT', default: '10080', parse: int(1, INT_MAX), doc: 'Committed offsets of a group that stays empty expire after this' },
  'offsets.retention.check.interval.ms': { type: 'LONG', default: '600000', parse: int(1, INT_MAX), doc: 'How often expired offsets are looked for' },
  'log.retention.check.interval.ms': { type: 'LONG', default: '300000', parse: int(1, INT_MAX), doc: 'Time between retention passes' },
  'log.flush.scheduler.interval.ms': { type: 'LONG', default: '1000', parse: int(1, INT_MAX), doc: 'Time between checks for logs due a flush' },
  'log.flush.offset.checkpoint.interval.ms': { type: 'INT', default: '60000', parse: int(1, INT_MAX), doc: 'Time between recovery-point checkpoints' },
};

/** Log-related broker keys (validated by the log config), besides the `log.*` ones. */
const OTHER_LOG_KEYS = new Set([
  'message.max.bytes', 'min.insync.replicas', 'log.retention.hours', 'log.retention.minutes',
  // The log cleaner's settings, validated by the LogManager when it starts the cleaner.
  'log.cleaner.enable', 'log.cleaner.backoff.ms', 'log.cleaner.dedupe.buffer.size', 'log.cleaner.io.buffer.size',
  'log.cleaner.io.buffer.load.factor',
]);

export function isKnownBrokerKey(key: string): boolean {
  if (Object.hasOwn(BROKER_KEY_DEFINITIONS, key) || OTHER_LOG_KEYS.has(key)) return true;
  return Object.values(LOG_CONFIG_DEFINITIONS).some((d) => d.brokerKey === key);
}

export function parsePropertiesText(text: string): Record<string, string> {
  return { ...getProperties(text) };
}

/** `key=value` from the command line. */
export function parseSetting(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new GodelError('CONFIG_INVALID', `--set expects key=value, got "${text}"`);
  return [text.slice(0, at).trim(), text.slice(at + 1).trim()];
}

export interface BuildResult {
  config: BrokerConfig;
  warnings: string[];
}

/** Validates every key and fills Kafka's defaults. Throws CONFIG_INVALID naming the bad key. */
export function buildBrokerConfig(props: Readonly<Record<string, string>>): BuildResult {
  const warnings: string[] = [];
  for (const key of Object.keys(props)) {
    if (!isKnownBrokerKey(key)) warnings.push(`unknown config ${key} is ignored`);
  }
  const get = <T>(key: string): T => {
    const def = BROKER_KEY_DEFINITIONS[key]!;
    const raw = Object.hasOwn(props, key) ? props[key]! : def.default;
    return def.parse(raw, key) as T;
  };
  const has = (key: string): boolean => Object.hasOwn(props, key) && props[key]!.trim() !== '';
  // Every key given is checked now, so a bad value fails at start, not when first used.
  for (const [key, def] of Object.entries(BROKER_KEY_DEFINITIONS)) {
    if (Object.hasOwn(props, key) && props[key]!.trim() !== '') def.parse(props[key]!, key);
  }
  buildLogConfig({}, props);
  const listen = get<HostPort>('listeners');
  const advertised = has('advertised.listeners') ? get<HostPort>('advertised.listeners') : listen;
  const dataDir = has('log.dirs') ? get<string>('log.dirs') : has('log.dir') ? get<string>('log.dir') : get<string>('log.dirs');
  const nodeId = has('node.id') ? get<number>('node.id') : has('broker.id') ? get<number>('broker.id') : get<number>('node.id');
  const config: BrokerConfig = {
    nodeId,
    listen,
    advertised: advertised.host === '0.0.0.0' || advertised.host === '::' ? { host: 'localhost', port: advertised.port } : advertised,
    dataDir,
    rack: has('broker.rack') ? get<string>('broker.rack') : null,
    autoCreateTopicsEnable: get('auto.create.topics.enable'),
    numPartitions: get('num.partitions'),
    defaultReplicationFactor: get('default.replication.factor'),
    deleteTopicEnable: get('delete.topic.enable'),
    socketRequestMaxBytes: get('socket.request.max.bytes'),
    maxConnections: get('max.connections'),
    connectionsMaxIdleMs: get('connections.max.idle.ms'),
    queuedMaxRequestsPerConnection: get('queued.max.requests'),
    offsetsTopicNumPartitions: get('offsets.topic.num.partitions'),
    groupInitialRebalanceDelayMs: get('group.initial.rebalance.delay.ms'),
    groupMinSessionTimeoutMs: get('group.min.session.timeout.ms'),
    groupMaxSessionTimeoutMs: get('group.max.session.timeout.ms'),
    offsetMetadataMaxBytes: get('offset.metadata.max.bytes'),
    offsetsRetentionMinutes: get('offsets.retention.minutes'),
    offsetsRetentionCheckIntervalMs: get('offsets.retention.check.interval.ms'),
    raw: { ...props },
  };
  return { config, warnings };
}

/** `PLAINTEXT://host:port`, `host:port` or `:port` (all interfaces). */
export function parseListener(raw: string, key: string): HostPort {
  const first = raw.split(',')[0]!.trim();
  const withoutScheme = first.includes('://') ? first.slice(first.indexOf('://') + 3) : first;
  if (first.includes('://') && !/^[A-Z_]+:\/\//i.test(first)) throw invalid(key, raw, 'must look like PLAINTEXT://host:port');
  if (first.includes('://') && !first.toUpperCase().startsWith('PLAINTEXT://')) {
    throw invalid(key, raw, 'only PLAINTEXT listeners are supported');
  }
  return parseHostPort(withoutScheme, key);
}

export function parseHostPort(text: string, key: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim());
  if (!match) throw invalid(key, text, 'must be HOST:PORT');
  const port = Number(match[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(key, text, 'port must be 0-65535');
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function invalid(key: string, raw: string, why: string): GodelError {
  return new GodelError('CONFIG_INVALID', `invalid value "${raw}" for ${key}: ${why}`);
}
