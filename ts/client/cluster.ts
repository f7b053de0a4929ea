// Bootstrap, metadata and connections. A Cluster owns the connections of one producer, consumer or
// admin client: one per broker and purpose ('default' for produce/metadata/admin, 'coordinator' for
// group traffic, 'fetch' for long-polling fetches, so a held fetch never delays a heartbeat), the
// metadata cache, and the coordinator lookup.
import type { Logger } from 'pino';
import { GodelError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { ProtocolMessages as ApiMessages } from '../protocol/codecs.js';
import type { ApiKeyWithCodec } from '../protocol/headers.js';
import { ZERO_UUID } from '../protocol/reader.js';
import { Connection, type RequestOptions } from './connection.js';
import { KafkaError, networkError } from './errors.js';
import { MetadataCache, type TopicMetadata } from './metadata.js';
import { retryPolicy, withRetry, type RetryOptions, type RetryPolicy } from './retry.js';

export interface ClusterOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[];
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Per connection (default 100). */
  maxInFlightRequests?: number;
  retry?: RetryOptions;
  /** Metadata older than this is refreshed before use (Kafka's metadata.max.age.ms, default 5 min). */
  metadataMaxAgeMs?: number;
  logger?: Logger;
}

export type ConnectionPurpose = 'default' | 'coordinator' | 'fetch';

export type CoordinatorType = 'group' | 'transaction';

const COORDINATOR_ERRORS = new Set([14, 15, 16]);
const LEADER_NOT_AVAILABLE = 5;

export function parseBrokerAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = at < 0 ? address : address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = at < 0 ? 9092 : Number(address.slice(at + 1));
  if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new GodelError('CONFIG_INVALID', `broker address ${JSON.stringify(address)} is not host:port`);
  }
  return { host, port };
}

export class Cluster {
  readonly metadata = new MetadataCache();
  readonly retry: RetryPolicy;
  readonly logger: Logger;
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  private readonly bootstrap: { host: string; port: number }[];
  private readonly options: ClusterOptions;
  /** Metadata older than this is refreshed before use (metadata.max.age.ms). */
  readonly metadataMaxAgeMs: number;
  private readonly connections = new Map<string, Connection>();
  private readonly coordinators = new Map<string, number>();
  private readonly refreshing = new Map<string, Promise<void>>();
  private closed = false;

  constructor(options: ClusterOptions) {
    if (options.brokers.length === 0) throw new GodelError('CONFIG_INVALID', 'brokers must list at least one host:port');
    this.options = options;
    this.bootstrap = options.brokers.map(parseBrokerAddress);
    this.retry = retryPolicy(options.retry);
    this.logger = options.logger ?? silentLogger;
    this.clientId = options.clientId ?? 'godel';
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 300_000;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private newConnection(host: string, port: number): Connection {
    return new Connection({
      host, port,
      clientId: this.clientId,
      connectTimeoutMs: this.options.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
      maxInFlightRequests: this.options.maxInFlightRequests,
      logger: this.logger,
    });
  }

  private checkOpen(): void {
    if (this.closed) throw new GodelError('CLOSED', 'the client is disconnected');
  }

  /** Connects to the cluster: learns the brokers from the first bootstrap broker that answers. */
  async connect(): Promise<void> {
    this.checkOpen();
    await withRetry(this.retry, () => this.refreshMetadata([]), { aborted: () => this.closed });
  }

  /** A connection to broker `nodeId` for `purpose`, connected. */
  async connection(nodeId: number, purpose: ConnectionPurpose = 'default'): Promise<Connection> {
    this.checkOpen();
    const key = `${purpose}:${nodeId}`;
    let connection = this.connections.get(key);
    if (connection === undefined) {
      const broker = this.metadata.brokers.get(nodeId);
      if (broker === undefined) throw new KafkaError(LEADER_NOT_AVAILABLE, `broker ${nodeId} is not in the cluster metadata`);
      connection = this.newConnection(broker.host, broker.port);
      this.connections.set(key, connection);
    } else {
      const broker = this.metadata.brokers.get(nodeId);
      if (broker !== undefined && (broker.host !== connection.host || broker.port !== connection.port)) {
        // The broker moved: drop the old connection.
        void connection.close();
        connection = this.newConnection(broker.host, broker.port);
        this.connections.set(key, connection);
      }
    }
    await connection.connect();
    return connection;
  }

  /** Some connected broker: a known one if any answers, else a bootstrap broker. */
  async anyConnection(): Promise<Connection> {
    this.checkOpen();
    for (const [key, connection] of this.connections) {
      if (key.startsWith('default:') && connection.isReady) return connection;
    }
    const nodes = [...this.metadata.brokers.keys()];
    shuffle(nodes);
    let lastError: unknown;
    for (const nodeId of nodes) {
      try {
        return await this.connection(nodeId);
      } catch (err) {
        lastError = err;
      }
    }
    const addresses = [...this.bootstrap];
    shuffle(addresses);
    for (const { host, port } of addresses) {
      const key = `bootstrap:${host}:${port}`;
      let connection = this.connections.get(key);
      if (connection === undefined) {
        connection = this.newConnection(host, port);
        this.connections.set(key, connection);
      }
      try {
        await connection.connect();
        return connection;
      } catch (err) {
        lastError = err;
      }
    }
    if (lastError instanceof KafkaError) throw lastError;
    throw networkError(`no broker reachable (bootstrap: ${this.options.brokers.join(', ')})`, lastError);
  }

  /** Sends one request to broker `nodeId`. */
  async request<K extends ApiKeyWithCodec>(
    nodeId: number,
    apiKey: K,
    build: (version: number) => ApiMessages[K]['request'],
    options?: RequestOptions & { purpose?: ConnectionPurpose },
  ): Promise<ApiMessages[K]['response']> {
    const connection = await this.connection(nodeId, options?.purpose);
    return connection.request(apiKey, build, options);
  }

  /** Sends one request to any broker. */
  async requestAny<K extends ApiKeyWithCodec>(apiKey: K, build: (version: number) => ApiMessages[K]['request'], options?: RequestOptions): Promise<ApiMessages[K]['response']> {
    const connection = await this.anyConnection();
    return connection.request(apiKey, build, options);
  }

  /**
   * Refreshes metadata for `topics` ([] = brokers only, null = every topic). Concurrent refreshes
   * of the same topics share one request.
   */
  refreshMetadata(topics: readonly string[] | null, allowAutoTopicCreation = false): Promise<void> {
    const key = `${allowAutoTopicCreation ? 'c' : 'n'}:${topics === null ? '*' : [...topics].sort().join('\u0000')}`;
    let running = this.refreshing.get(key);
    if (running === undefined) {
      running = this.fetchMetadata(topics, allowAutoTopicCreation).finally(() => this.refreshing.delete(key));
      this.refreshing.set(key, running);
    }
    return running;
  }

  private async fetchMetadata(topics: readonly string[] | null, allowAutoTopicCreation: boolean): Promise<void> {
    const connection = await this.anyConnection();
    const response = await connection.request(3, (version) => ({
      topics: topics === null ? (version === 0 ? [] : null) : topics.map((name) => ({ topicId: ZERO_UUID, name })),
      allowAutoTopicCreation: version < 4 ? true : allowAutoTopicCreation,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    }));
    // v0 with [] would mean all topics: then we asked for all anyway.
    this.metadata.update(response, topics);
  }

  /**
   * Makes sure the cache knows `topics` with a leader for every partition, refreshing (and
   * retrying retriable errors: a topic being created, a leader election) as needed. Throws a
   * KafkaError for a topic that does not exist (after retries) or any other error.
   */
  async ensureTopics(topics: readonly string[], allowAutoTopicCreation = false): Promise<void> {
    const stale = (name: string): boolean => {
      const t = this.metadata.topic(name);
      return t === undefined || t.errorCode !== 0 || t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0)
        || this.metadata.refreshedAgoMs(name) > this.metadataMaxAgeMs;
    };
    if (!topics.some(stale)) return;
    await withRetry(this.retry, async () => {
      const missing = topics.filter(stale);
      if (missing.length === 0) return;
      await this.refreshMetadata(missing, allowAutoTopicCreation);
      for (const name of missing) {
        const t = this.metadata.topic(name);
        if (t === undefined) throw new KafkaError(3, `topic ${name} is not in the metadata response`, { topic: name });
        if (t.errorCode !== 0) throw new KafkaError(t.errorCode, undefined, { topic: name });
        if (t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0)) {
          throw new KafkaError(LEADER_NOT_AVAILABLE, `a partition of ${name} has no leader yet`, { topic: name });
        }
      }
    }, { aborted: () => this.closed });
  }

  topic(name: string): TopicMetadata | undefined {
    return this.metadata.topic(name);
  }

  /** The leader of a partition from the cache, or -1. */
  leaderFor(topic: string, partition: number): number {
    return this.metadata.leader(topic, partition);
  }

  /** The coordinator node of a group (or transactional id), from the cache or FindCoordinator. */
  async findCoordinator(key: string, type: CoordinatorType = 'group'): Promise<number> {
    const cacheKey = `${type}:${key}`;
    const cached = this.coordinators.get(cacheKey);
    if (cached !== undefined && this.metadata.brokers.has(cached)) return cached;
    return withRetry(this.retry, async () => {
      const response = await this.requestAny(10, (version) => ({
        key: version >= 4 ? '' : key,
        keyType: type === 'group' ? 0 : 1,
        coordinatorKeys: version >= 4 ? [key] : [],
      }));
      const entry = response.coordinators.length > 0
        ? response.coordinators[0]!
        : { nodeId: response.nodeId, host: response.host, port: response.port, errorCode: response.errorCode, errorMessage: response.errorMessage };
      if (entry.errorCode !== 0) throw new KafkaError(entry.errorCode, undefined, { brokerMessage: entry.errorMessage });
      if (!this.metadata.brokers.has(entry.nodeId)) {
        this.metadata.brokers.set(entry.nodeId, { nodeId: entry.nodeId, host: entry.host, port: entry.port, rack: null });
      }
      this.coordinators.set(cacheKey, entry.nodeId);
      return entry.nodeId;
    }, { aborted: () => this.closed });
  }

  /** Forgets a coordinator after NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE. */
  invalidateCoordinator(key: string, type: CoordinatorType = 'group'): void {
    this.coordinators.delete(`${type}:${key}`);
  }

  static isCoordinatorError(err: unknown): boolean {
    return err instanceof KafkaError && COORDINATOR_ERRORS.has(err.code);
  }

  /** The controller's node id (metadata), for admin requests that must go there. */
  async controller(): Promise<number> {
    if (this.metadata.controllerId < 0 || !this.metadata.brokers.has(this.metadata.controllerId)) await this.refreshMetadata([]);
    if (this.metadata.controllerId < 0) throw new KafkaError(41, 'the cluster reports no controller');
    return this.metadata.controllerId;
  }

  /** Closes every connection; later calls fail with GodelError('CLOSED'). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  /** Every live connection (tests use it to cut connections). */
  liveConnections(): Connection[] {
    return [...this.connections.values()].filter((c) => !c.isClosed);
  }
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
