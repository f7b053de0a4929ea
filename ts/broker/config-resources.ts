// Config resources as Kafka's admin APIs see them (DescribeConfigs, AlterConfigs,
// IncrementalAlterConfigs, CreateTopics v5+): which keys a topic or a broker has, their current
// values and where each comes from (topic override, dynamic broker config, static broker config,
// Kafka default), which are read-only, validation of a whole new set before anything is applied,
// and applying a change at runtime and persisting it through the control plane.
//
// A single node keeps ONE layer of dynamic broker configs (the control plane's map): a change to
// the broker resource named by this node's id and one to the cluster default ("") land in the
// same layer. Describing "" lists only that layer (as Kafka lists only dynamic defaults there).
import type { TopicInfo } from '../cluster/control-plane.js';
import { GodelError } from '../errors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { buildLogConfig, LOG_CONFIG_DEFINITIONS, type LogConfig } from '../storage/log-config.js';
import { Mutex } from '../storage/mutex.js';
import { BROKER_KEY_DEFINITIONS, isKnownBrokerKey } from './broker-config.js';
import type { BrokerServices } from './services.js';
import { apiError, topicNameError, type ApiError } from './topic-manager.js';

/** Kafka's ConfigResource.Type. */
export const ConfigResourceType = { UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** Kafka's DescribeConfigsResponse.ConfigSource. */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

/** Kafka's DescribeConfigsResponse.ConfigType. */
export const ConfigType = {
  UNKNOWN: 0, BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9,
} as const;

/** IncrementalAlterConfigs operations. */
export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

const LONG_MAX = '9223372036854775807';

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

export interface ConfigEntry {
  name: string;
  /** null when sensitive. */
  value: string | null;
  source: number;
  readOnly: boolean;
  isSensitive: boolean;
  configType: number;
  documentation: string;
  /** In Kafka's order of precedence, the entry's own source first. */
  synonyms: ConfigSynonym[];
}

/** One change of IncrementalAlterConfigs. */
export interface ConfigOp {
  name: string;
  op: number;
  value: string | null;
}

export type AlterMode =
  | { kind: 'replace'; configs: { name: string; value: string | null }[] }
  | { kind: 'incremental'; ops: ConfigOp[] };

const SENSITIVE = /password|secret|jaas|credential|\.key$/i;

function isSensitive(key: string): boolean {
  return SENSITIVE.test(key);
}

// ---- topic keys --------------------------------------------------------------------------------

/** Topic keys whose type is LIST (APPEND and SUBTRACT apply to them). */
const TOPIC_LIST_KEYS = new Set(['cleanup.policy']);

/** Broker keys that set a topic key's default, highest precedence first (Kafka's synonyms). */
function brokerSynonymsOf(topicKey: string): string[] {
  const def = LOG_CONFIG_DEFINITIONS[topicKey];
  if (def?.brokerKey === undefined) return [];
  if (topicKey === 'retention.ms') return ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'];
  return [def.brokerKey];
}

function topicConfigType(key: string): number {
  if (TOPIC_LIST_KEYS.has(key)) return ConfigType.LIST;
  const kind = LOG_CONFIG_DEFINITIONS[key]!.kind;
  switch (kind.type) {
    case 'long': return ConfigType.LONG;
    case 'int': return ConfigType.INT;
    case 'double': return ConfigType.DOUBLE;
    case 'enum': return ConfigType.STRING;
  }
}

/** A LogConfig field as Kafka prints it: Long.MAX_VALUE, or -1 where -1 means unbounded. */
function renderLogValue(key: string, value: number | string): string {
  if (typeof value === 'string') return value;
  if (value === Infinity) {
    const kind = LOG_CONFIG_DEFINITIONS[key]!.kind;
    return kind.type === 'long' && kind.minusOneInfinite === true ? '-1' : LONG_MAX;
  }
  return String(value);
}

/** Kafka's default of a topic key, printed. */
function topicDefault(key: string): string {
  return renderLogValue(key, LOG_CONFIG_DEFINITIONS[key]!.default);
}

// ---- broker keys -------------------------------------------------------------------------------

interface BrokerKey {
  type: number;
  /** Kafka's default, printed; null when Kafka has none. */
  default: string | null;
  doc: string;
  /** Changeable at runtime (AlterConfigs) without a restart. */
  dynamic: boolean;
  list?: boolean;
}

/** The broker keys that cannot change while the broker runs: broker-config.ts's table. */
const STATIC_BROKER_KEYS: Record<string, Omit<BrokerKey, 'dynamic'>> = Object.fromEntries(
  Object.entries(BROKER_KEY_DEFINITIONS).map(([key, def]) => [key, {
    type: ConfigType[def.type], default: def.default === '' ? null : def.default, doc: def.doc,
  }]),
);

/** Broker key → topic key it defaults, for the dynamic log keys. */
const BROKER_TO_TOPIC_KEY = new Map<string, string>();
for (const topicKey of Object.keys(LOG_CONFIG_DEFINITIONS)) {
  for (const brokerKey of brokerSynonymsOf(topicKey)) BROKER_TO_TOPIC_KEY.set(brokerKey, topicKey);
}

function brokerKeyInfo(key: string): BrokerKey | undefined {
  const topicKey = BROKER_TO_TOPIC_KEY.get(key);
  if (topicKey !== undefined) {
    const def = LOG_CONFIG_DEFINITIONS[topicKey]!;
    let dflt: string | null = topicDefault(topicKey);
    let type = topicConfigType(topicKey);
    if (key === 'log.retention.minutes') {
      dflt = null;
      type = ConfigType.INT;
    } else if (key === 'log.retention.hours') {
      dflt = '168';
      type = ConfigType.INT;
    }
    return { type, default: dflt, doc: def.doc, dynamic: true, list: TOPIC_LIST_KEYS.has(topicKey) };
  }
  const fixed = STATIC_BROKER_KEYS[key];
  if (fixed !== undefined) return { ...fixed, dynamic: false };
  // A key broker-config.ts knows but this table does not: shown as read-only.
  if (isKnownBrokerKey(key)) return { type: ConfigType.STRING, default: null, doc: '', dynamic: false };
  return undefined;
}

/** Every broker key to list, in a stable order: the static keys, then the dynamic log keys. */
function brokerKeys(staticValues: Readonly<Record<string, string>>): string[] {
  const keys = [...Object.keys(STATIC_BROKER_KEYS), ...BROKER_TO_TOPIC_KEY.keys()];
  const seen = new Set(keys);
  for (const key of Object.keys(staticValues).sort()) {
    if (!seen.has(key) && isKnownBrokerKey(key)) {
      keys.push(key);
      seen.add(key);
    }
  }
  return keys;
}

// ---- the service -------------------------------------------------------------------------------

type DescribeResult = { entries: ConfigEntry[] } | { error: ApiError };

const instances = new WeakMap<BrokerServices, ConfigResources>();

/** The broker's one ConfigResources (alters of every handler are serialised by its mutex). */
export function configResourcesFor(services: BrokerServices): ConfigResources {
  let found = instances.get(services);
  if (found === undefined) {
    found = new ConfigResources(services);
    instances.set(services, found);
  }
  return found;
}

export class ConfigResources {
  private readonly mutex = new Mutex();

  constructor(private readonly services: BrokerServices) {}

  private staticValues(): Readonly<Record<string, string>> {
    return this.services.config.raw;
  }

  private dynamicValues(): Readonly<Record<string, string>> {
    return this.services.controlPlane.brokerConfigs();
  }

  /** The effective broker-level values (static overlaid with dynamic). */
  private brokerValues(): Record<string, string> {
    return this.services.brokerConfigValues();
  }

  // ---- describe --------------------------------------------------------------------------------

  /** Every config of a topic (with `overrides` as its topic-level configs). */
  topicEntries(overrides: Readonly<Record<string, string>>): ConfigEntry[] {
    const dynamic = this.dynamicValues();
    const fixed = this.staticValues();
    const effective = buildLogConfig({}, { ...fixed, ...dynamic }) as unknown as Record<string, number | string>;
    const entries: ConfigEntry[] = [];
    for (const [key, def] of Object.entries(LOG_CONFIG_DEFINITIONS)) {
      const synonyms: ConfigSynonym[] = [];
      const sensitive = isSensitive(key);
      const shown = (v: string | null): string | null => (sensitive ? null : v);
      if (Object.hasOwn(overrides, key)) synonyms.push({ name: key, value: shown(overrides[key]!), source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
      const brokerKeys = brokerSynonymsOf(key);
      for (const b of brokerKeys) {
        if (Object.hasOwn(dynamic, b)) synonyms.push({ name: b, value: shown(dynamic[b]!), source: ConfigSource.DYNAMIC_BROKER_CONFIG });
      }
      for (const b of brokerKeys) {
        if (Object.hasOwn(fixed, b)) synonyms.push({ name: b, value: shown(fixed[b]!), source: ConfigSource.STATIC_BROKER_CONFIG });
      }
      if (brokerKeys.length > 0) {
        const primary = brokerKeys[0] === 'log.retention.ms' ? 'log.retention.hours' : brokerKeys[0]!;
        synonyms.push({ name: primary, value: shown(brokerKeyInfo(primary)!.default), source: ConfigSource.DEFAULT_CONFIG });
      } else {
        synonyms.push({ name: key, value: shown(topicDefault(key)), source: ConfigSource.DEFAULT_CONFIG });
      }
      let value: string;
      let source: number;
      if (Object.hasOwn(overrides, key)) {
        value = overrides[key]!;
        source = ConfigSource.DYNAMIC_TOPIC_CONFIG;
      } else {
        value = renderLogValue(key, effective[def.field]!);
        // The broker key buildLogConfig took the value from: the first one set, in its order.
        const decidingKey = brokerKeys.find((b) => Object.hasOwn(dynamic, b) || Object.hasOwn(fixed, b));
        source = decidingKey === undefined ? ConfigSource.DEFAULT_CONFIG
          : Object.hasOwn(dynamic, decidingKey) ? ConfigSource.DYNAMIC_BROKER_CONFIG : ConfigSource.STATIC_BROKER_CONFIG;
      }
      entries.push({
        name: key, value: shown(value), source, readOnly: false, isSensitive: sensitive,
        configType: topicConfigType(key), documentation: def.doc, synonyms,
      });
    }
    return entries;
  }

  /** The broker's configs (every key), or only the dynamic layer for the cluster default (""). */
  private brokerEntries(clusterDefault: boolean): ConfigEntry[] {
    const dynamic = this.dynamicValues();
    const fixed = this.staticValues();
    const { config } = this.services;
    const entries: ConfigEntry[] = [];
    const keys = clusterDefault ? Object.keys(dynamic).sort() : brokerKeys(fixed);
    for (const key of keys) {
      const info = brokerKeyInfo(key);
      if (info === undefined) continue;
      const sensitive = isSensitive(key);
      const shown = (v: string | null): string | null => (sensitive ? null : v);
      const synonyms: ConfigSynonym[] = [];
      if (clusterDefault) {
        synonyms.push({ name: key, value: shown(dynamic[key]!), source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
        entries.push({
          name: key, value: shown(dynamic[key]!), source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, readOnly: !info.dynamic,
          isSensitive: sensitive, configType: info.type, documentation: info.doc, synonyms,
        });
        continue;
      }
      if (info.dynamic && Object.hasOwn(dynamic, key)) synonyms.push({ name: key, value: shown(dynamic[key]!), source: ConfigSource.DYNAMIC_BROKER_CONFIG });
      if (Object.hasOwn(fixed, key)) synonyms.push({ name: key, value: shown(fixed[key]!), source: ConfigSource.STATIC_BROKER_CONFIG });
      if (info.default !== null) synonyms.push({ name: key, value: shown(info.default), source: ConfigSource.DEFAULT_CONFIG });
      let value: string | null;
      let source: number;
      if (key === 'node.id') {
        // May come from broker.id.
        value = String(config.nodeId);
        source = Object.hasOwn(fixed, 'node.id') || Object.hasOwn(fixed, 'broker.id') ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
      } else if (synonyms.length > 0) {
        value = synonyms[0]!.value;
        source = synonyms[0]!.source;
      } else {
        value = null;
        source = ConfigSource.DEFAULT_CONFIG;
      }
      entries.push({
        name: key, value: shown(value), source, readOnly: !info.dynamic, isSensitive: sensitive,
        configType: info.type, documentation: info.doc, synonyms,
      });
    }
    return entries;
  }

  /** DescribeConfigs of one resource; `keys` null or empty lists every key. */
  describe(resourceType: number, resourceName: string, keys: readonly string[] | null): DescribeResult {
    let entries: ConfigEntry[];
    switch (resourceType) {
      case ConfigResourceType.TOPIC: {
        const topic = this.findTopic(resourceName);
        if ('error' in topic) return topic;
        entries = this.topicEntries(topic.topic.configs);
        break;
      }
      case ConfigResourceType.BROKER: {
        const nameError = this.brokerNameError(resourceName);
        if (nameError !== null) return { error: nameError };
        entries = this.brokerEntries(resourceName === '');
        break;
      }
      case ConfigResourceType.BROKER_LOGGER: {
        const nameError = this.brokerNameError(resourceName);
        if (nameError !== null) return { error: nameError };
        // Gödel's loggers are not configurable per logger: nothing to list.
        entries = [];
        break;
      }
      default:
        return { error: apiError(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${resourceType}`) };
    }
    if (keys !== null && keys.length > 0) {
      const wanted = new Set(keys);
      entries = entries.filter((e) => wanted.has(e.name));
    }
    return { entries };
  }

  private findTopic(name: string): { topic: TopicInfo } | { error: ApiError } {
    const nameError = topicNameError(name);
    if (nameError !== null) return { error: apiError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError) };
    const topic = this.services.topics.topic(name);
    if (topic === undefined) return { error: apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`) };
    return { topic };
  }

  /** A broker resource names this node, or "" for the cluster default. */
  private brokerNameError(name: string): ApiError | null {
    if (name === '' || name === String(this.services.config.nodeId)) return null;
    return apiError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${this.services.config.nodeId} or empty string, but received ${name}`);
  }

  // ---- alter -----------------------------------------------------------------------------------

  /**
   * Alters one resource: the whole new set is computed and validated first; nothing is applied
   * when any entry is bad. Returns null on success.
   */
  async alter(resourceType: number, resourceName: string, mode: AlterMode, validateOnly: boolean): Promise<ApiError | null> {
    const names = mode.kind === 'replace' ? mode.configs.map((c) => c.name) : mode.ops.map((o) => o.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate !== undefined) return apiError(ErrorCode.INVALID_REQUEST, `Error due to duplicate config keys: ${duplicate}`);
    if (mode.kind === 'incremental') {
      for (const o of mode.ops) {
        if (o.op < AlterConfigOp.SET || o.op > AlterConfigOp.SUBTRACT) return apiError(ErrorCode.INVALID_REQUEST, `Unknown config operation ${o.op} for ${o.name}`);
        if (o.op !== AlterConfigOp.DELETE && o.value === null) return apiError(ErrorCode.INVALID_REQUEST, `Null value not supported for: ${o.name}`);
      }
    }
    switch (resourceType) {
      case ConfigResourceType.TOPIC:
        return this.mutex.runExclusive(() => this.alterTopic(resourceName, mode, validateOnly));
      case ConfigResourceType.BROKER: {
        const nameError = this.brokerNameError(resourceName);
        if (nameError !== null) return nameError;
        return this.mutex.runExclusive(() => this.alterBroker(mode, validateOnly));
      }
      case ConfigResourceType.BROKER_LOGGER: {
        const nameError = this.brokerNameError(resourceName);
        if (nameError !== null) return nameError;
        return apiError(ErrorCode.INVALID_REQUEST, 'Broker loggers cannot be changed: Gödel sets one log level at start (--log-level)');
      }
      default:
        return apiError(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${resourceType}`);
    }
  }

  private async alterTopic(name: string, mode: AlterMode, validateOnly: boolean): Promise<ApiError | null> {
    const found = this.findTopic(name);
    if ('error' in found) return found.error;
    const current = found.topic.configs;
    const next = applyMode(current, mode, (key) => (TOPIC_LIST_KEYS.has(key) ? topicDefault(key) : undefined), (key) => TOPIC_LIST_KEYS.has(key));
    if ('error' in next) return next.error;
    for (const key of Object.keys(next.configs)) {
      if (!Object.hasOwn(LOG_CONFIG_DEFINITIONS, key)) return apiError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${key}`);
    }
    try {
      buildLogConfig(next.configs, this.brokerValues());
    } catch (err) {
      return configError(err);
    }
    if (validateOnly) return null;
    try {
      await this.services.topics.setConfigs(name, next.configs);
    } catch (err) {
      if (err instanceof GodelError && err.code === 'UNKNOWN_TOPIC_OR_PARTITION') {
        return apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
      }
      return configError(err);
    }
    this.services.logger.info({ topic: name, configs: next.configs }, 'altered topic configs');
    return null;
  }

  private async alterBroker(mode: AlterMode, validateOnly: boolean): Promise<ApiError | null> {
    const current = this.dynamicValues();
    for (const key of mode.kind === 'replace' ? mode.configs.map((c) => c.name) : mode.ops.map((o) => o.name)) {
      const info = brokerKeyInfo(key);
      if (info === undefined) return apiError(ErrorCode.INVALID_CONFIG, `Unknown broker config name: ${key}`);
      if (!info.dynamic) return apiError(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically: ${key} is read-only (set it in the config file and restart)`);
    }
    const next = applyMode(current, mode, (key) => brokerKeyInfo(key)?.default ?? undefined, (key) => brokerKeyInfo(key)?.list === true);
    if ('error' in next) return next.error;
    const merged = { ...this.staticValues(), ...next.configs };
    let config: LogConfig;
    try {
      config = buildLogConfig({}, merged);
    } catch (err) {
      return configError(err);
    }
    if (validateOnly) return null;
    const { controlPlane, logManager, topics, logger } = this.services;
    try {
      await controlPlane.setBrokerConfigs(next.configs);
    } catch (err) {
      return apiError(ErrorCode.UNKNOWN_SERVER_ERROR, `could not persist the broker configs: ${(err as Error).message}`);
    }
    logManager.setBrokerConfig(this.brokerValues());
    topics.refreshLogConfigs();
    logger.info({ configs: next.configs, segmentBytes: config.segmentBytes, retentionMs: config.retentionMs }, 'altered dynamic broker configs');
    return null;
  }
}

function configError(err: unknown): ApiError {
  if (err instanceof GodelError && err.code === 'CONFIG_INVALID') return apiError(ErrorCode.INVALID_CONFIG, err.message);
  return apiError(ErrorCode.UNKNOWN_SERVER_ERROR, String((err as Error)?.message ?? err));
}

/**
 * The new set of dynamic configs: AlterConfigs replaces the set (null values dropped, as Kafka
 * does); IncrementalAlterConfigs edits the current one. APPEND and SUBTRACT work on LIST keys and
 * start from the current value, or the default when the key is not set.
 */
function applyMode(
  current: Readonly<Record<string, string>>,
  mode: AlterMode,
  defaultOf: (key: string) => string | undefined,
  isList: (key: string) => boolean,
): { configs: Record<string, string> } | { error: ApiError } {
  if (mode.kind === 'replace') {
    const configs: Record<string, string> = {};
    for (const c of mode.configs) if (c.value !== null) configs[c.name] = c.value;
    return { configs };
  }
  const configs: Record<string, string> = { ...current };
  for (const o of mode.ops) {
    switch (o.op) {
      case AlterConfigOp.SET:
        configs[o.name] = o.value!;
        break;
      case AlterConfigOp.DELETE:
        delete configs[o.name];
        break;
      case AlterConfigOp.APPEND:
      case AlterConfigOp.SUBTRACT: {
        const what = o.op === AlterConfigOp.APPEND ? 'APPEND to' : 'SUBTRACT from';
        if (!isList(o.name)) return { error: apiError(ErrorCode.INVALID_CONFIG, `Can't ${what} key ${o.name} because its type is not LIST.`) };
        const base = Object.hasOwn(configs, o.name) ? configs[o.name]! : defaultOf(o.name) ?? '';
        const items = splitList(base);
        const changes = splitList(o.value!);
        const result = o.op === AlterConfigOp.APPEND
          ? [...items, ...changes.filter((c) => !items.includes(c))]
          : items.filter((i) => !changes.includes(i));
        configs[o.name] = result.join(',');
        break;
      }
    }
  }
  return { configs };
}

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
