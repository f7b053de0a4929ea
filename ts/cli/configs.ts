// `godel configs get|set`: broker and topic configs ("edit server" and "edit topics"). `get` lists
// every key with its value and where the value comes from; `set` changes keys one by one
// (IncrementalAlterConfigs), the broker validating the whole change before applying any of it, and
// shows the new values. A refused change is reported with the broker's own message.
import type { Command } from 'commander';
import { KafkaError, type Admin, type ConfigEntry } from '../client/index.js';
import { CliError, printJson, runAction, table, UsageError, writeOut } from './output.js';
import { atMostOne, collect, parseInteger, parseKeyValue, requireName, requireTopic, withAdmin, withCommonOptions, type CommonOptions } from './options.js';

interface TargetOptions extends CommonOptions {
  topic?: string;
  /** `--broker` alone is true: the broker we are connected to. */
  broker?: string | boolean;
}

interface SetOptions extends TargetOptions {
  delete?: string[];
  validateOnly?: boolean;
}

/** Kafka's config sources, as a person reads them. */
const SOURCES: Record<string, string> = {
  DYNAMIC_TOPIC_CONFIG: 'topic',
  DYNAMIC_BROKER_CONFIG: 'dynamic broker',
  DYNAMIC_DEFAULT_BROKER_CONFIG: 'dynamic default',
  STATIC_BROKER_CONFIG: 'static broker',
  DEFAULT_CONFIG: 'default',
  DYNAMIC_BROKER_LOGGER_CONFIG: 'broker logger',
};

export function registerConfigs(program: Command): void {
  const configs = program.command('configs').description('show and change broker and topic configs');
  const target = (c: Command): Command => c
    .option('--topic <name>', 'a topic\'s configs')
    .option('--broker [id]', 'a broker\'s configs (default: the broker answering)');

  withCommonOptions(target(configs.command('get')
    .description('show configs with their values and sources (all keys, or the ones named)')
    .argument('[keys...]', 'config names to show')))
    .action(runAction(getConfigs));

  withCommonOptions(target(configs.command('set')
    .description('change configs: KEY=VALUE sets a value, --delete KEY goes back to the default')
    .argument('[settings...]', 'KEY=VALUE pairs')
    .option('--delete <key>', 'remove a value set earlier (repeatable)', collect)
    .option('--validate-only', 'let the broker check the change without applying it')))
    .action(runAction(setConfigs));
}

interface Resource {
  type: 'topic' | 'broker';
  name: string;
  label: string;
}

async function resolveTarget(admin: Admin, options: TargetOptions): Promise<Resource> {
  if (options.topic !== undefined) {
    await requireTopic(admin, options.topic);
    return { type: 'topic', name: options.topic, label: `topic "${options.topic}"` };
  }
  const cluster = await admin.describeCluster();
  const ids = cluster.brokers.map((b) => b.nodeId);
  let id: number;
  if (typeof options.broker === 'string') {
    id = parseInteger(options.broker, '--broker');
    if (!ids.includes(id)) throw new CliError(`broker ${id} is not in the cluster (brokers: ${ids.join(', ')})`);
  } else {
    id = ids.includes(cluster.controller) ? cluster.controller : ids[0]!;
  }
  return { type: 'broker', name: String(id), label: `broker ${id}` };
}

/**
 * `--broker [id]` takes the next word when it is not an option: `configs get --broker log.retention.ms`
 * means the answering broker and a key, not broker "log.retention.ms". Such a word goes back to the
 * positional arguments.
 */
function takeBackBrokerWord(options: TargetOptions, positional: string[]): string[] {
  if (typeof options.broker === 'string' && !/^\s*\d+\s*$/.test(options.broker)) {
    const word = options.broker;
    options.broker = true;
    return [word, ...positional];
  }
  return positional;
}

function checkTarget(options: TargetOptions): void {
  atMostOne(options, { topic: '--topic', broker: '--broker' });
  if (options.topic === undefined && options.broker === undefined) throw new UsageError('say whose configs: --topic NAME or --broker [ID]');
  if (options.topic !== undefined) requireName(options.topic, '--topic');
  if (typeof options.broker === 'string') parseInteger(options.broker, '--broker');
}

function entryJson(c: ConfigEntry): Record<string, unknown> {
  return { name: c.name, value: c.isSensitive ? null : c.value, source: c.source, readOnly: c.readOnly, sensitive: c.isSensitive, default: c.isDefault };
}

function entryRow(c: ConfigEntry): Array<string | null> {
  return [c.name, c.isSensitive ? '(sensitive)' : c.value ?? '(null)', SOURCES[c.source] ?? c.source.toLowerCase(), c.readOnly ? 'yes' : ''];
}

async function describe(admin: Admin, resource: Resource, keys: readonly string[] | undefined): Promise<ConfigEntry[]> {
  const [result] = await admin.describeConfigs({ resources: [{ type: resource.type, name: resource.name, configNames: keys === undefined || keys.length === 0 ? undefined : [...keys] }] });
  const entries = [...result?.configs ?? []].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (keys !== undefined && keys.length > 0) {
    const known = new Set(entries.map((e) => e.name));
    const unknown = keys.filter((k) => !known.has(k));
    if (unknown.length > 0) throw new CliError(`${resource.label} has no config ${unknown.map((k) => `"${k}"`).join(', ')}`);
  }
  return entries;
}

async function print(resource: Resource, entries: readonly ConfigEntry[], json: boolean | undefined): Promise<void> {
  if (json === true) return printJson({ resource: resource.type, name: resource.name, configs: entries.map(entryJson) });
  await writeOut(table(['name', 'value', 'source', 'read-only'], entries.map(entryRow)));
}

async function getConfigs(names: string[], options: TargetOptions): Promise<void> {
  const keys = takeBackBrokerWord(options, names);
  checkTarget(options);
  await withAdmin(options, async (admin) => {
    const resource = await resolveTarget(admin, options);
    await print(resource, await describe(admin, resource, keys), options.json);
  });
}

async function setConfigs(words: string[], options: SetOptions): Promise<void> {
  const settings = takeBackBrokerWord(options, words);
  checkTarget(options);
  const set = new Map<string, string>();
  for (const s of settings) {
    const [key, value] = parseKeyValue(s, 'a setting');
    set.set(key, value);
  }
  const removed = [...new Set(options.delete ?? [])];
  for (const key of removed) {
    if (key.trim() === '' || key.includes('=')) throw new UsageError(`--delete expects a config name, got ${JSON.stringify(key)}`);
    if (set.has(key)) throw new UsageError(`${key} is both set and deleted`);
  }
  if (set.size === 0 && removed.length === 0) throw new UsageError('nothing to change: give KEY=VALUE pairs or --delete KEY');
  await withAdmin(options, async (admin) => {
    const resource = await resolveTarget(admin, options);
    try {
      await admin.alterConfigs({
        resources: [{
          type: resource.type, name: resource.name,
          configs: [...[...set].map(([name, value]) => ({ name, value, op: 'set' as const })), ...removed.map((name) => ({ name, op: 'delete' as const }))],
        }],
        validateOnly: options.validateOnly === true,
      });
    } catch (err) {
      if (err instanceof KafkaError && !err.retriable) {
        throw new CliError(`the broker refused the change to ${resource.label}: ${err.brokerMessage ?? err.message}`, { cause: err });
      }
      throw err;
    }
    const names = [...set.keys(), ...removed];
    if (options.validateOnly === true) {
      if (options.json === true) return printJson({ resource: resource.type, name: resource.name, valid: true, set: Object.fromEntries(set), deleted: removed });
      return writeOut(`the change to ${resource.label} is valid (not applied: --validate-only)\n`);
    }
    await print(resource, await describe(admin, resource, names), options.json);
  });
}
