// The consumer: group membership (classic protocol, eager or cooperative rebalancing) or a plain
// assignment without a group, fetching from partition leaders and handing records to eachMessage or
// eachBatch, with auto-commit, manual commit, seek, pause/resume and rebalance listeners.
//
// Fetching runs ahead of processing: one fetcher per leader sends the next Fetch as soon as a
// response arrives (its next offsets come from the batch headers), while the handler works through
// earlier responses (at most two wait per fetcher). Records are decoded one batch at a time just
// before they are handed out, so message objects die young. Fetches use their own connection, so
// a long poll never delays a heartbeat or a commit. Each partition has a
// cursor: where to fetch next, what was handed out last (its position, which is what a commit
// stores: the next offset to consume), and an epoch that seek, pause and revocation bump, so data
// fetched before the change is dropped, never delivered.
//
// Handlers run one at a time, in fetch order. The payload object given to eachMessage is reused
// from one message of a batch to the next (the message objects are not).

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { GodelError } from '../errors.js';
import type { ApiMessages } from '../protocol/generated/index.js';
import { ZERO_UUID } from '../protocol/reader.js';
import {
  BUILT_IN_ASSIGNORS,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  rebalanceProtocolOf,
  type Assignor,
  type AssignorName,
  type RebalanceProtocol,
} from './assignors.js';
import { decodeRecordBatches, type KafkaMessage } from './batch-decoder.js';
import { Cluster, type ClusterOptions } from './cluster.js';
import { KafkaError, isRetriableError } from './errors.js';
import {
  commitOffsets,
  EARLIEST_TIMESTAMP,
  fetchCommittedOffsets,
  LATEST_TIMESTAMP,
  listOffsets,
  tpKey,
  type OffsetToCommit,
  type TopicPartition,
} from './offsets.js';
import { backoffDelayMs, sleep, type RetryOptions } from './retry.js';

export type { KafkaMessage, MessageHeaders } from './batch-decoder.js';

const OFFSET_OUT_OF_RANGE = 1;
const ILLEGAL_GENERATION = 22;
const UNKNOWN_MEMBER_ID = 25;
const REBALANCE_IN_PROGRESS = 27;
const MEMBER_ID_REQUIRED = 79;
const FENCED_INSTANCE_ID = 82;
const REFRESH_METADATA_ERRORS = new Set([3, 5, 6, 56, 74, 75, 100]);

export type AutoOffsetReset = 'earliest' | 'latest' | 'none';

export interface RebalanceListener {
  /** Partitions newly assigned to this member (after the rebalance). */
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions given up in a rebalance; their positions are committed first (auto-commit). */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions lost without a clean revocation (the member was fenced or timed out). */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

export interface ConsumerOptions {
  /** Join this consumer group; without it the consumer reads the partitions given to assign(). */
  groupId?: string;
  /** Static membership (KIP-345). */
  groupInstanceId?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** In order of preference (default ['range', 'cooperative-sticky'], as the Java client). */
  assignors?: ReadonlyArray<Assignor | AssignorName>;
  /** Commit positions every autoCommitIntervalMs, on revocation and on disconnect (default true). */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** Where to start without a committed offset (default 'latest'; subscribe({ fromBeginning }) overrides). */
  autoOffsetReset?: AutoOffsetReset;
  minBytes?: number;
  /** Fetch response limit (default 50 MiB). */
  maxBytes?: number;
  /** Per partition (default 1 MiB, raised to any larger batch by the broker: KIP-74). */
  maxBytesPerPartition?: number;
  maxWaitMs?: number;
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  checkCrcs?: boolean;
  rackId?: string;
  allowAutoTopicCreation?: boolean;
  rebalanceListener?: RebalanceListener;
  retry?: RetryOptions;
}

export interface SubscribeOptions {
  topics: ReadonlyArray<string | RegExp>;
  /** With no committed offset, start from the earliest record (else the option's autoOffsetReset). */
  fromBeginning?: boolean;
}

export type StartOffset = bigint | 'earliest' | 'latest' | { timestamp: number | bigint };

export interface AssignedPartition extends TopicPartition {
  /** Where to start (default: the committed offset when there is a group, else autoOffsetReset). */
  offset?: StartOffset;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  /** Heartbeats run in the background; this only exists for KafkaJS-style code. */
  heartbeat(): Promise<void>;
  /** Pauses this partition; the rest of the batch is not delivered. */
  pause(): () => void;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: bigint;
  messages: KafkaMessage[];
  firstOffset(): bigint | null;
  lastOffset(): bigint;
}

export interface EachBatchPayload {
  batch: Batch;
  /** Marks records up to and including `offset` as processed (the position becomes offset + 1). */
  resolveOffset(offset: bigint): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  /** True once a seek, pause or rebalance made the rest of this batch obsolete. */
  isStale(): boolean;
  pause(): () => void;
}

export interface RunOptions {
  eachMessage?: (payload: EachMessagePayload) => void | Promise<void>;
  eachBatch?: (payload: EachBatchPayload) => void | Promise<void>;
  /** With eachBatch: resolve every message when the handler returns (default true). */
  eachBatchAutoResolve?: boolean;
}

interface InFlightFetch {
  cursors: Cursor[];
  epochs: number[];
  offsets: bigint[];
  body: ApiMessages[1]['response'] | null;
  error: unknown;
}

class Cursor {
  /** Next offset to fetch; meaningful once `pending` is null. */
  fetchOffset = -1n;
  /** Position when nothing was processed since the last seek. */
  basePosition = -1n;
  /** The last message handed out and processed. */
  last: KafkaMessage | null = null;
  /** Last committed position. */
  committed = -1n;
  epoch = 0;
  paused = false;
  assigned = true;
  highWatermark = -1n;
  /** Offset to look up before fetching: 'committed', or a ListOffsets timestamp. */
  pending: 'committed' | bigint | null;
  constructor(
    readonly topic: string,
    readonly partition: number,
    pending: 'committed' | bigint | null,
  ) {
    this.pending = pending;
  }

  get position(): bigint {
    return this.last === null ? this.basePosition : this.last.offset + 1n;
  }
}

interface FetchedItem {
  cursor: Cursor;
  epoch: number;
  /** The partition's fetched record batches, decoded only when handed to the handler. */
  records: Buffer;
  /** Records before this offset (the fetch offset) are skipped. */
  fromOffset: bigint;
  highWatermark: bigint;
  fetcher: Fetcher;
  /** Items of the same response not yet processed. */
  response: { left: number };
}

class Fetcher {
  /** Responses whose records are queued or being processed. */
  queuedResponses = 0;
  stopped = false;
  private waiter: (() => void) | null = null;

  constructor(
    readonly consumer: Consumer,
    readonly nodeId: number,
  ) {}

  /** One item of a response was processed (or dropped). */
  itemDone(item: FetchedItem): void {
    if (--item.response.left > 0) return;
    this.queuedResponses--;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Resolves once fewer than `max` responses are queued. */
  async waitBelow(max: number): Promise<void> {
    while (this.queuedResponses >= max && !this.stopped) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  stop(): void {
    this.stopped = true;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

/** The end of the last complete batch in fetched bytes (-1n when there is none), from headers only. */
function nextOffsetOf(records: Buffer): bigint {
  let pos = 0;
  let next = -1n;
  while (records.length - pos >= 61) {
    const size = records.readInt32BE(pos + 8) + 12;
    if (size < 61 || size > records.length - pos) break;
    next = records.readBigInt64BE(pos) + BigInt(records.readInt32BE(pos + 23)) + 1n;
    pos += size;
  }
  return next;
}

function toTimestamp(offset: StartOffset | undefined, fallback: AutoOffsetReset): 'committed' | bigint | null {
  if (offset === undefined) return fallback === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP;
  if (offset === 'earliest') return EARLIEST_TIMESTAMP;
  if (offset === 'latest') return LATEST_TIMESTAMP;
  if (typeof offset === 'bigint') return null;
  return BigInt(offset.timestamp);
}

export class Consumer extends EventEmitter {
  readonly cluster: Cluster;
  readonly groupId: string | null;
  private readonly logger: Logger;
  private readonly groupInstanceId: string | null;
  private readonly sessionTimeoutMs: number;
  private readonly rebalanceTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly assignors: Assignor[];
  private readonly protocol: RebalanceProtocol;
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private autoOffsetReset: AutoOffsetReset;
  private readonly minBytes: number;
  private readonly maxBytes: number;
  private readonly maxBytesPerPartition: number;
  private readonly maxWaitMs: number;
  private readonly isolationLevel: number;
  private readonly checkCrcs: boolean;
  private readonly rackId: string | null;
  private readonly allowAutoTopicCreation: boolean;
  private readonly listener: RebalanceListener;

  private connected: Promise<void> | null = null;
  private subscription: ReadonlyArray<string | RegExp> = [];
  private subscribedTopics: string[] = [];
  private readonly cursors = new Map<string, Cursor>();
  private readonly fetchers = new Map<number, Fetcher>();
  private queue: FetchedItem[] = [];
  private queueHead = 0;
  private wake: (() => void) | null = null;
  private running = false;
  private runLoop: Promise<void> | null = null;
  private stopping = false;
  private resolving: Promise<void> | null = null;
  private resolveAgain = false;

  // group state
  memberId = '';
  generationId = -1;
  private protocolName: string | null = null;
  private rejoinNeeded = false;
  private joined = false;
  /** Inside JoinGroup/SyncGroup. */
  private joining = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private autoCommitTimer: NodeJS.Timeout | null = null;
  private committing: Promise<void> | null = null;

  constructor(clusterOptions: ClusterOptions, options: ConsumerOptions = {}) {
    super();
    this.cluster = new Cluster(clusterOptions);
    this.logger = this.cluster.logger;
    this.groupId = options.groupId ?? null;
    this.groupInstanceId = options.groupInstanceId ?? null;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 60_000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3_000;
    this.assignors = (options.assignors ?? ['range', 'cooperative-sticky']).map((a) => {
      if (typeof a !== 'string') return a;
      const built = BUILT_IN_ASSIGNORS[a];
      if (built === undefined) throw new GodelError('CONFIG_INVALID', `unknown assignor ${JSON.stringify(a)}: use range, roundrobin or cooperative-sticky`);
      return built;
    });
    if (this.assignors.length === 0) throw new GodelError('CONFIG_INVALID', 'a consumer needs at least one assignor');
    this.protocol = rebalanceProtocolOf(this.assignors);
    this.autoCommit = options.autoCommit ?? true;
    this.autoCommitIntervalMs = options.autoCommitIntervalMs ?? 5_000;
    this.autoOffsetReset = options.autoOffsetReset ?? 'latest';
    this.minBytes = options.minBytes ?? 1;
    this.maxBytes = options.maxBytes ?? 50 * 1024 * 1024;
    this.maxBytesPerPartition = options.maxBytesPerPartition ?? 1024 * 1024;
    this.maxWaitMs = options.maxWaitMs ?? 500;
    this.isolationLevel = options.isolationLevel === 'read_committed' ? 1 : 0;
    this.checkCrcs = options.checkCrcs ?? true;
    this.rackId = options.rackId ?? null;
    this.allowAutoTopicCreation = options.allowAutoTopicCreation ?? false;
    this.listener = options.rebalanceListener ?? {};
    if (this.heartbeatIntervalMs >= this.sessionTimeoutMs) {
      throw new GodelError('CONFIG_INVALID', `heartbeatIntervalMs (${this.heartbeatIntervalMs}) must be below sessionTimeoutMs (${this.sessionTimeoutMs})`);
    }
  }

  /** The rebalance protocol this member follows ('cooperative' only if every assignor supports it). */
  get rebalanceProtocol(): RebalanceProtocol {
    return this.protocol;
  }

  connect(): Promise<void> {
    if (this.stopping) return Promise.reject(new GodelError('CLOSED', 'the consumer is disconnected'));
    this.connected ??= this.cluster.connect().catch((err: unknown) => {
      this.connected = null;
      throw err;
    });
    return this.connected;
  }

  // ---- subscription and assignment ---------------------------------------------------------------

  /** Subscribes to topics (names or patterns, resolved now) through the group. */
  async subscribe(options: SubscribeOptions): Promise<void> {
    if (this.groupId === null) throw new GodelError('CONFIG_INVALID', 'subscribe() needs a groupId; use assign() without one');
    await this.connect();
    if (options.fromBeginning !== undefined) this.autoOffsetReset = options.fromBeginning ? 'earliest' : 'latest';
    this.subscription = [...this.subscription, ...options.topics];
    await this.resolveSubscription();
    if (this.joined) this.requestRejoin();
  }

  private async resolveSubscription(): Promise<void> {
    const names = this.subscription.filter((t): t is string => typeof t === 'string');
    const patterns = this.subscription.filter((t): t is RegExp => t instanceof RegExp);
    const topics = new Set(names);
    if (patterns.length > 0) {
      await this.cluster.refreshMetadata(null);
      for (const name of this.cluster.metadata.topics.keys()) {
        if (patterns.some((p) => {
          p.lastIndex = 0;
          return p.test(name);
        })) topics.add(name);
      }
    }
    if (names.length > 0) await this.cluster.ensureTopics(names, this.allowAutoTopicCreation);
    this.subscribedTopics = [...topics].sort();
  }

  /**
   * Reads the given partitions without a group (replacing any earlier assignment). Offsets default
   * to the group's committed ones when a groupId is set, else to autoOffsetReset.
   */
  async assign(partitions: readonly AssignedPartition[]): Promise<void> {
    if (this.subscription.length > 0) throw new GodelError('CONFIG_INVALID', 'assign() cannot be mixed with subscribe()');
    await this.connect();
    await this.cluster.ensureTopics([...new Set(partitions.map((p) => p.topic))], this.allowAutoTopicCreation);
    const wanted = new Set(partitions.map((p) => tpKey(p.topic, p.partition)));
    for (const [key, cursor] of this.cursors) {
      if (!wanted.has(key)) this.dropCursor(key, cursor);
    }
    for (const p of partitions) {
      const count = this.cluster.metadata.partitionCount(p.topic);
      if (count === undefined || p.partition < 0 || p.partition >= count) {
        throw new KafkaError(3, `partition ${p.partition} does not exist`, { topic: p.topic, partition: p.partition });
      }
      const cursor = this.addCursor(p.topic, p.partition, p.offset === undefined && this.groupId !== null ? 'committed' : toTimestamp(p.offset, this.autoOffsetReset));
      if (typeof p.offset === 'bigint') this.setPosition(cursor, p.offset);
    }
    this.kick();
  }

  /** The partitions currently assigned. */
  assignment(): TopicPartition[] {
    return [...this.cursors.values()].map((c) => ({ topic: c.topic, partition: c.partition }));
  }

  private addCursor(topic: string, partition: number, pending: 'committed' | bigint | null): Cursor {
    const key = tpKey(topic, partition);
    let cursor = this.cursors.get(key);
    if (cursor === undefined) {
      cursor = new Cursor(topic, partition, pending);
      this.cursors.set(key, cursor);
    } else {
      cursor.pending = pending;
      cursor.epoch++;
    }
    return cursor;
  }

  private dropCursor(key: string, cursor: Cursor): void {
    cursor.assigned = false;
    cursor.epoch++;
    this.cursors.delete(key);
  }

  private setPosition(cursor: Cursor, offset: bigint): void {
    cursor.epoch++;
    cursor.pending = null;
    cursor.fetchOffset = offset;
    cursor.basePosition = offset;
    cursor.last = null;
  }

  // ---- seek, pause, resume ------------------------------------------------------------------------

  /** Moves a partition's position: an offset, 'earliest', 'latest' or { timestamp }. */
  seek(target: TopicPartition & { offset: StartOffset }): void {
    const cursor = this.cursors.get(tpKey(target.topic, target.partition));
    if (cursor === undefined) throw new GodelError('CONFIG_INVALID', `${target.topic}-${target.partition} is not assigned to this consumer`);
    if (typeof target.offset === 'bigint') {
      if (target.offset < 0n) throw new GodelError('CONFIG_INVALID', `offset must be >= 0, got ${target.offset}`);
      this.setPosition(cursor, target.offset);
    } else {
      cursor.epoch++;
      cursor.last = null;
      cursor.pending = toTimestamp(target.offset, this.autoOffsetReset);
    }
    this.kick();
  }

  /** Stops fetching the given topics (all their partitions, or the ones listed). */
  pause(targets: ReadonlyArray<{ topic: string; partitions?: number[] }>): void {
    for (const cursor of this.matching(targets)) {
      if (cursor.paused) continue;
      cursor.paused = true;
      cursor.epoch++;
      if (cursor.pending === null) cursor.fetchOffset = cursor.position;
    }
  }

  resume(targets: ReadonlyArray<{ topic: string; partitions?: number[] }>): void {
    for (const cursor of this.matching(targets)) cursor.paused = false;
    this.kick();
  }

  paused(): TopicPartition[] {
    return [...this.cursors.values()].filter((c) => c.paused).map((c) => ({ topic: c.topic, partition: c.partition }));
  }

  private matching(targets: ReadonlyArray<{ topic: string; partitions?: number[] }>): Cursor[] {
    const out: Cursor[] = [];
    for (const t of targets) {
      for (const cursor of this.cursors.values()) {
        if (cursor.topic === t.topic && (t.partitions === undefined || t.partitions.includes(cursor.partition))) out.push(cursor);
      }
    }
    return out;
  }

  /** The next offset to consume per assigned partition (-1n while still unknown). */
  positions(): Array<TopicPartition & { offset: bigint }> {
    return [...this.cursors.values()].map((c) => ({ topic: c.topic, partition: c.partition, offset: c.pending === null ? c.position : -1n }));
  }

  // ---- run loop -----------------------------------------------------------------------------------

  /**
   * Starts consuming: resolves once started; the loop runs until disconnect(). A fatal error, or a
   * handler that throws (its message is not marked processed), stops it and is emitted as 'crash'
   * (or as 'error' when nobody listens to 'crash').
   */
  async run(options: RunOptions): Promise<void> {
    if (this.running) throw new GodelError('CONFIG_INVALID', 'the consumer is already running');
    if (options.eachMessage === undefined && options.eachBatch === undefined) throw new GodelError('CONFIG_INVALID', 'run() needs eachMessage or eachBatch');
    await this.connect();
    if (this.groupId !== null && this.subscription.length > 0) this.rejoinNeeded = true;
    this.running = true;
    if (this.autoCommit && this.groupId !== null) {
      this.autoCommitTimer = setInterval(() => {
        if (!this.rejoinNeeded) this.commitPositions().catch((err: unknown) => this.logger.debug({ err: String(err) }, 'auto-commit failed'));
      }, this.autoCommitIntervalMs);
      this.autoCommitTimer.unref();
    }
    this.runLoop = this.loop(options).catch((err: unknown) => this.crash(err, true));
    this.kick();
  }

  private async loop(options: RunOptions): Promise<void> {
    while (this.running) {
      if (this.rejoinNeeded) {
        await this.rebalance();
        continue;
      }
      const item = this.nextItem();
      if (item === null) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      try {
        const cursor = item.cursor;
        if (item.epoch !== cursor.epoch || !cursor.assigned || cursor.paused) continue;
        cursor.highWatermark = item.highWatermark;
        if (options.eachBatch !== undefined) await this.deliverBatch(item, options.eachBatch, options.eachBatchAutoResolve ?? true);
        else await this.deliverMessages(item, options.eachMessage!);
      } finally {
        item.fetcher.itemDone(item);
      }
    }
  }

  private nextItem(): FetchedItem | null {
    if (this.queueHead >= this.queue.length) {
      if (this.queue.length > 0) {
        this.queue = [];
        this.queueHead = 0;
      }
      return null;
    }
    const item = this.queue[this.queueHead]!;
    this.queue[this.queueHead++] = undefined as unknown as FetchedItem;
    return item;
  }

  /**
   * Hands records to eachMessage one record batch at a time, decoding each batch just before: the
   * message objects live only while they are handled, so they die young (cheap for the GC).
   */
  private async deliverMessages(item: FetchedItem, handler: (payload: EachMessagePayload) => void | Promise<void>): Promise<void> {
    const cursor = item.cursor;
    const epoch = item.epoch;
    const records = item.records;
    let payload: EachMessagePayload | null = null;
    let pos = 0;
    while (records.length - pos >= 61) {
      const size = records.readInt32BE(pos + 8) + 12;
      if (size > records.length - pos) break;
      const { messages } = await decodeRecordBatches(records.subarray(pos, pos + size), {
        fromOffset: item.fromOffset, checkCrcs: this.checkCrcs, topic: cursor.topic, partition: cursor.partition,
      });
      pos += size;
      if (cursor.epoch !== epoch) return;
      if (messages.length === 0) continue;
      payload ??= {
        topic: cursor.topic,
        partition: cursor.partition,
        message: messages[0]!,
        heartbeat: () => Promise.resolve(),
        pause: () => {
          this.pause([{ topic: cursor.topic, partitions: [cursor.partition] }]);
          return () => this.resume([{ topic: cursor.topic, partitions: [cursor.partition] }]);
        },
      };
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        payload.message = m;
        const r = handler(payload);
        if (r !== undefined) await r;
        if (cursor.epoch !== epoch) return;
        cursor.last = m;
        if (this.rejoinNeeded || !this.running) return;
      }
    }
  }

  private async deliverBatch(item: FetchedItem, handler: (payload: EachBatchPayload) => void | Promise<void>, autoResolve: boolean): Promise<void> {
    const cursor = item.cursor;
    const epoch = item.epoch;
    const { messages } = await decodeRecordBatches(item.records, { fromOffset: item.fromOffset, checkCrcs: this.checkCrcs, topic: cursor.topic, partition: cursor.partition });
    if (cursor.epoch !== epoch || messages.length === 0) return;
    const batch: Batch = {
      topic: cursor.topic,
      partition: cursor.partition,
      highWatermark: item.highWatermark,
      messages,
      firstOffset: () => messages[0]?.offset ?? null,
      lastOffset: () => (messages.length > 0 ? messages[messages.length - 1]!.offset : item.highWatermark - 1n),
    };
    const byOffset = (offset: bigint): KafkaMessage | undefined => {
      // Offsets rise through the batch; a binary search finds the message.
      let lo = 0;
      let hi = messages.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const o = messages[mid]!.offset;
        if (o === offset) return messages[mid];
        if (o < offset) lo = mid + 1;
        else hi = mid - 1;
      }
      return hi >= 0 ? messages[hi] : undefined;
    };
    await handler({
      batch,
      resolveOffset: (offset) => {
        if (cursor.epoch !== epoch) return;
        const m = byOffset(offset);
        if (m !== undefined && (cursor.last === null || m.offset > cursor.last.offset)) cursor.last = m;
      },
      heartbeat: () => Promise.resolve(),
      commitOffsetsIfNecessary: () => (this.autoCommit && this.groupId !== null ? this.commitPositions() : Promise.resolve()),
      isRunning: () => this.running,
      isStale: () => cursor.epoch !== epoch || this.rejoinNeeded,
      pause: () => {
        this.pause([{ topic: cursor.topic, partitions: [cursor.partition] }]);
        return () => this.resume([{ topic: cursor.topic, partitions: [cursor.partition] }]);
      },
    });
    if (autoResolve && cursor.epoch === epoch && messages.length > 0) cursor.last = messages[messages.length - 1]!;
  }

  /** Wakes the run loop and (re)starts fetching and offset lookups as needed. */
  private kick(): void {
    this.wake?.();
    if (!this.running) return;
    this.resolvePending();
    this.startFetchers();
  }

  // ---- offset resolution --------------------------------------------------------------------------

  /** Looks up committed offsets and ListOffsets targets for cursors that wait for one. */
  private resolvePending(): void {
    if (this.resolving !== null) {
      this.resolveAgain = true;
      return;
    }
    const pending = [...this.cursors.values()].filter((c) => c.pending !== null);
    if (pending.length === 0) return;
    this.resolving = this.resolve(pending).catch((err: unknown) => {
      if (isRetriableError(err) || err instanceof GodelError) {
        this.logger.warn({ err: String(err) }, 'offset lookup failed; retrying');
        return sleep(this.cluster.retry.initialRetryTimeMs * 10).then(() => {
          this.resolveAgain = true;
        });
      }
      this.crash(err);
      return undefined;
    }).finally(() => {
      this.resolving = null;
      if (this.resolveAgain && this.running) {
        this.resolveAgain = false;
        this.resolvePending();
      }
      this.startFetchers();
    });
  }

  private async resolve(pending: Cursor[]): Promise<void> {
    const epochs = new Map(pending.map((c) => [c, c.epoch]));
    const fresh = (c: Cursor): boolean => c.assigned && c.epoch === epochs.get(c);
    const committedWanted = pending.filter((c) => c.pending === 'committed');
    if (committedWanted.length > 0 && this.groupId !== null) {
      const committed = await fetchCommittedOffsets(this.cluster, this.groupId, committedWanted);
      const byKey = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c.offset]));
      for (const c of committedWanted) {
        if (!fresh(c)) continue;
        const offset = byKey.get(tpKey(c.topic, c.partition)) ?? -1n;
        if (offset >= 0n) {
          this.setPosition(c, offset);
          c.committed = offset;
        } else {
          if (this.autoOffsetReset === 'none') throw new KafkaError(OFFSET_OUT_OF_RANGE, 'no committed offset and autoOffsetReset is none', { topic: c.topic, partition: c.partition });
          c.pending = this.autoOffsetReset === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP;
          epochs.set(c, c.epoch);
        }
      }
    }
    const lookups = pending.filter((c) => fresh(c) && typeof c.pending === 'bigint');
    if (lookups.length === 0) return;
    const answers = await listOffsets(this.cluster, lookups.map((c) => ({ topic: c.topic, partition: c.partition, timestamp: c.pending as bigint })), this.isolationLevel);
    const needLatest: Cursor[] = [];
    lookups.forEach((c, i) => {
      if (!fresh(c)) return;
      const offset = answers[i]!.offset;
      if (offset >= 0n) this.setPosition(c, offset);
      else needLatest.push(c); // no record at or after the timestamp: start at the end
    });
    if (needLatest.length > 0) {
      const latest = await listOffsets(this.cluster, needLatest.map((c) => ({ topic: c.topic, partition: c.partition, timestamp: LATEST_TIMESTAMP })), this.isolationLevel);
      needLatest.forEach((c, i) => {
        if (c.assigned && c.pending !== null) this.setPosition(c, latest[i]!.offset);
      });
    }
  }

  // ---- fetching ----------------------------------------------------------------------------------

  private startFetchers(): void {
    if (!this.running) return;
    const leaders = new Set<number>();
    let leaderless = false;
    for (const c of this.cursors.values()) {
      if (c.pending !== null || c.paused) continue;
      const leader = this.cluster.leaderFor(c.topic, c.partition);
      if (leader < 0) leaderless = true;
      else leaders.add(leader);
    }
    if (leaderless) this.refreshMetadataSoon();
    for (const nodeId of leaders) {
      if (this.fetchers.has(nodeId)) continue;
      const fetcher = new Fetcher(this, nodeId);
      this.fetchers.set(nodeId, fetcher);
      this.fetchLoop(fetcher).catch((err: unknown) => this.crash(err)).finally(() => {
        fetcher.stop();
        if (this.fetchers.get(nodeId) === fetcher) {
          this.fetchers.delete(nodeId);
          // A partition may have come back (resume, seek) while this fetcher was winding down.
          if (this.running && this.cursorsFor(nodeId).length > 0) this.startFetchers();
        }
      });
    }
  }

  private metadataRefresh: Promise<void> | null = null;

  private refreshMetadataSoon(): void {
    if (this.metadataRefresh !== null) return;
    const topics = [...new Set([...this.cursors.values()].map((c) => c.topic))];
    this.metadataRefresh = sleep(this.cluster.retry.initialRetryTimeMs)
      .then(() => this.cluster.refreshMetadata(topics))
      .catch((err: unknown) => this.logger.debug({ err: String(err) }, 'metadata refresh failed'))
      .finally(() => {
        this.metadataRefresh = null;
        this.startFetchers();
      });
  }

  private cursorsFor(nodeId: number): Cursor[] {
    const out: Cursor[] = [];
    for (const c of this.cursors.values()) {
      if (c.pending === null && !c.paused && this.cluster.leaderFor(c.topic, c.partition) === nodeId) out.push(c);
    }
    return out;
  }

  /** One Fetch for `cursors`, at their current fetch offsets. */
  private fetchOnce(fetcher: Fetcher, cursors: Cursor[]): Promise<InFlightFetch> {
    const epochs = cursors.map((c) => c.epoch);
    const offsets = cursors.map((c) => c.fetchOffset);
    const byTopic = new Map<string, number[]>();
    cursors.forEach((c, i) => {
      let l = byTopic.get(c.topic);
      if (l === undefined) byTopic.set(c.topic, (l = []));
      l.push(i);
    });
    const response = this.cluster.request(fetcher.nodeId, 1, () => ({
      clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n },
      maxWaitMs: this.maxWaitMs, minBytes: this.minBytes, maxBytes: this.maxBytes,
      isolationLevel: this.isolationLevel, sessionId: 0, sessionEpoch: -1,
      topics: [...byTopic].map(([topic, indexes]) => ({
        topic, topicId: ZERO_UUID,
        partitions: indexes.map((i) => ({
          partition: cursors[i]!.partition, currentLeaderEpoch: -1, fetchOffset: offsets[i]!,
          lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: this.maxBytesPerPartition, replicaDirectoryId: ZERO_UUID,
        })),
      })),
      forgottenTopicsData: [], rackId: this.rackId ?? '',
    }), { purpose: 'fetch', timeoutMs: this.cluster.requestTimeoutMs + this.maxWaitMs });
    return response.then((body) => ({ cursors, epochs, offsets, body, error: null }), (error: unknown) => ({ cursors, epochs, offsets, body: null, error }));
  }

  /**
   * A fetcher's loop. As soon as a response arrives, the next offsets are read off its batch
   * headers and the next Fetch goes out; the response waits in the queue, and its records are
   * decoded only as the handler reaches them. So the broker serves fetch n+1 while this process
   * works through the responses before; at most two responses wait in the queue.
   */
  private async fetchLoop(fetcher: Fetcher): Promise<void> {
    let failures = 0;
    let pending: Promise<InFlightFetch> | null = null;
    while (this.running && !fetcher.stopped) {
      if (pending === null) {
        const cursors = this.cursorsFor(fetcher.nodeId);
        if (cursors.length === 0) return;
        pending = this.fetchOnce(fetcher, cursors);
      }
      const { cursors, epochs, offsets, body: response, error } = await pending;
      pending = null;
      if (!this.running || fetcher.stopped) return;
      if (error !== null) {
        if (error instanceof GodelError && error.code === 'CLOSED') return;
        if (!isRetriableError(error)) throw error;
        failures++;
        this.logger.debug({ broker: fetcher.nodeId, err: String(error) }, 'fetch failed; retrying');
        await sleep(backoffDelayMs(this.cluster.retry, Math.min(failures - 1, 8)));
        if (error instanceof KafkaError && error.code === 13) this.refreshMetadataSoon();
        continue;
      }
      failures = 0;
      if (response!.errorCode !== 0) {
        const err = new KafkaError(response!.errorCode, 'fetch failed');
        if (!err.retriable) throw err;
        await sleep(this.cluster.retry.initialRetryTimeMs);
        continue;
      }
      const index = new Map<string, number>();
      cursors.forEach((c, i) => index.set(tpKey(c.topic, c.partition), i));
      // Pass 1: errors, high watermarks and next offsets, from headers only.
      const work: Array<{ i: number; records: Buffer; highWatermark: bigint }> = [];
      let refresh = false;
      for (const t of response!.responses) {
        for (const p of t.partitions) {
          const i = index.get(tpKey(t.topic, p.partitionIndex));
          if (i === undefined) continue;
          const cursor = cursors[i]!;
          if (cursor.epoch !== epochs[i] || !cursor.assigned) continue;
          if (p.errorCode !== 0) {
            if (p.errorCode === OFFSET_OUT_OF_RANGE) {
              if (this.autoOffsetReset === 'none') throw new KafkaError(OFFSET_OUT_OF_RANGE, `offset ${offsets[i]} is out of range`, { topic: cursor.topic, partition: cursor.partition });
              this.logger.info({ topic: cursor.topic, partition: cursor.partition, offset: String(offsets[i]) }, `offset out of range; resetting to ${this.autoOffsetReset}`);
              cursor.epoch++;
              cursor.pending = this.autoOffsetReset === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP;
              this.resolvePending();
            } else if (REFRESH_METADATA_ERRORS.has(p.errorCode)) {
              refresh = true;
            } else {
              const err = new KafkaError(p.errorCode, undefined, { topic: cursor.topic, partition: cursor.partition });
              if (!err.retriable) throw err;
            }
            continue;
          }
          cursor.highWatermark = p.highWatermark;
          if (p.records === null || p.records.length === 0) continue;
          const next = nextOffsetOf(p.records);
          if (next > cursor.fetchOffset) cursor.fetchOffset = next;
          work.push({ i, records: p.records, highWatermark: p.highWatermark });
        }
      }
      if (refresh) this.refreshMetadataSoon();
      // Send the next Fetch now (unless two responses already wait), then queue this one.
      await fetcher.waitBelow(2);
      if (!this.running || fetcher.stopped) return;
      const nextCursors = this.cursorsFor(fetcher.nodeId);
      if (nextCursors.length > 0) pending = this.fetchOnce(fetcher, nextCursors);
      const items: FetchedItem[] = [];
      const group = { left: 0 };
      for (const w of work) {
        items.push({ cursor: cursors[w.i]!, epoch: epochs[w.i]!, records: w.records, fromOffset: offsets[w.i]!, highWatermark: w.highWatermark, fetcher, response: group });
      }
      if (items.length > 0) {
        group.left = items.length;
        fetcher.queuedResponses++;
        for (const item of items) this.queue.push(item);
        this.wake?.();
      }
    }
  }

  /**
   * A fatal error (or a handler that threw): stop, and emit 'crash'. Without a 'crash' listener the
   * error is emitted as 'error', which, like any unhandled EventEmitter error, is thrown: a consumer
   * never stops silently.
   */
  private crash(err: unknown, fromLoop = false): void {
    if (!this.running && !fromLoop) return;
    this.logger.error({ err: String(err) }, 'consumer crashed');
    this.running = false;
    this.stopBackground();
    this.wake?.();
    if (this.listenerCount('crash') > 0) this.emit('crash', err);
    else this.emit('error', err);
  }

  // ---- group membership ---------------------------------------------------------------------------

  private requestRejoin(): void {
    if (this.rejoinNeeded) return;
    this.rejoinNeeded = true;
    this.wake?.();
  }

  private ownedPartitions(): TopicPartition[] {
    return [...this.cursors.values()].map((c) => ({ topic: c.topic, partition: c.partition }));
  }

  /** Revokes what must go, joins, syncs, and takes the new assignment. */
  private async rebalance(): Promise<void> {
    const groupId = this.groupId!;
    this.stopHeartbeat();
    if (this.protocol === 'eager' || this.generationId < 0) {
      const owned = this.ownedPartitions();
      if (owned.length > 0) await this.revoke(owned, true);
    }
    if (this.subscription.length > 0) await this.resolveSubscription().catch((err: unknown) => this.logger.warn({ err: String(err) }, 'cannot refresh the subscription'));
    let assigned: Map<string, number[]>;
    for (;;) {
      if (!this.running) return;
      try {
        this.joining = true;
        assigned = await this.joinAndSync(groupId);
        break;
      } catch (err) {
        if (!this.running) return;
        if (err instanceof KafkaError && (err.retriable || err.code === REBALANCE_IN_PROGRESS || err.code === ILLEGAL_GENERATION || err.code === UNKNOWN_MEMBER_ID)) {
          this.logger.debug({ err: String(err) }, 'rejoining the group');
          await sleep(this.cluster.retry.initialRetryTimeMs);
          continue;
        }
        throw err;
      } finally {
        this.joining = false;
      }
    }
    if (!this.running) return;
    this.rejoinNeeded = false;
    this.joined = true;
    const next = new Set<string>();
    for (const [topic, partitions] of assigned) for (const p of partitions) next.add(tpKey(topic, p));
    const revoked = this.ownedPartitions().filter((tp) => !next.has(tpKey(tp.topic, tp.partition)));
    if (revoked.length > 0) {
      await this.revoke(revoked, true);
      // Cooperative: what we gave up can now go to its new owner in a follow-up rebalance.
      if (this.protocol === 'cooperative') this.rejoinNeeded = true;
    }
    const added: TopicPartition[] = [];
    for (const [topic, partitions] of assigned) {
      for (const partition of partitions) {
        if (this.cursors.has(tpKey(topic, partition))) continue;
        this.addCursor(topic, partition, 'committed');
        added.push({ topic, partition });
      }
    }
    this.startHeartbeat();
    this.emit('group.join', { groupId, memberId: this.memberId, generationId: this.generationId, assignment: this.assignment() });
    if (added.length > 0) await this.listener.onPartitionsAssigned?.(added);
    this.kick();
  }

  /** Commits (auto-commit) and drops partitions, telling the listener. */
  private async revoke(partitions: TopicPartition[], clean: boolean): Promise<void> {
    if (clean && this.autoCommit && this.generationId >= 0) {
      await this.commitPositions(partitions).catch((err: unknown) => this.logger.warn({ err: String(err) }, 'commit before revocation failed'));
    }
    for (const tp of partitions) {
      const key = tpKey(tp.topic, tp.partition);
      const cursor = this.cursors.get(key);
      if (cursor !== undefined) this.dropCursor(key, cursor);
    }
    if (clean) await this.listener.onPartitionsRevoked?.(partitions);
    else await this.listener.onPartitionsLost?.(partitions);
  }

  private async joinAndSync(groupId: string): Promise<Map<string, number[]>> {
    const coordinator = await this.cluster.findCoordinator(groupId);
    const owned = new Map<string, number[]>();
    if (this.protocol === 'cooperative') {
      for (const c of this.cursors.values()) owned.set(c.topic, [...(owned.get(c.topic) ?? []), c.partition]);
    }
    const protocols = this.assignors.map((a) => ({
      name: a.name,
      metadata: encodeSubscription({
        topics: this.subscribedTopics,
        userData: a.userData?.(this.generationId) ?? null,
        ownedPartitions: [...owned].map(([topic, partitions]) => ({ topic, partitions })),
        generationId: this.generationId,
        rackId: this.rackId,
      }),
    }));
    const timeoutMs = Math.max(this.cluster.requestTimeoutMs, this.rebalanceTimeoutMs + 5_000);
    let join;
    try {
      join = await this.cluster.request(coordinator, 11, (version) => ({
        groupId,
        sessionTimeoutMs: this.sessionTimeoutMs,
        rebalanceTimeoutMs: this.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: version >= 5 ? this.groupInstanceId : null,
        protocolType: 'consumer',
        protocols,
        reason: null,
      }), { purpose: 'coordinator', timeoutMs });
    } catch (err) {
      if (err instanceof KafkaError && err.code === 13) this.cluster.invalidateCoordinator(groupId);
      throw err;
    }
    if (join.errorCode === MEMBER_ID_REQUIRED) {
      this.memberId = join.memberId;
      throw new KafkaError(MEMBER_ID_REQUIRED, undefined, { retriable: true });
    }
    if (join.errorCode !== 0) this.groupError(groupId, join.errorCode);
    this.memberId = join.memberId;
    this.generationId = join.generationId;
    this.protocolName = join.protocolName;
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (join.leader === join.memberId) assignments = await this.leaderAssign(join.protocolName, join.members);
    const sync = await this.cluster.request(coordinator, 14, (version) => ({
      groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: version >= 3 ? this.groupInstanceId : null,
      protocolType: version >= 5 ? 'consumer' : null,
      protocolName: version >= 5 ? this.protocolName : null,
      assignments,
    }), { purpose: 'coordinator', timeoutMs });
    if (sync.errorCode !== 0) this.groupError(groupId, sync.errorCode);
    const assignment = decodeAssignment(sync.assignment);
    this.logger.debug({ groupId, memberId: this.memberId, generationId: this.generationId, protocol: this.protocolName }, 'joined the group');
    return assignment;
  }

  /** Handles a group error code: resets what must be reset and throws a KafkaError. */
  private groupError(groupId: string, code: number): never {
    if (code === UNKNOWN_MEMBER_ID) {
      this.memberId = '';
      this.generationId = -1;
    } else if (code === ILLEGAL_GENERATION) {
      this.generationId = -1;
    } else if (Cluster.isCoordinatorError(new KafkaError(code))) {
      this.cluster.invalidateCoordinator(groupId);
    }
    throw new KafkaError(code, `group ${groupId}`);
  }

  private async leaderAssign(protocolName: string | null, members: readonly { memberId: string; groupInstanceId: string | null; metadata: Buffer }[]): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.assignors.find((a) => a.name === protocolName);
    if (assignor === undefined) throw new KafkaError(23, `the group chose assignor ${protocolName}, which this member does not have`);
    const subscriptions = members.map((m) => decodeSubscription(m.memberId, m.groupInstanceId, m.metadata));
    const topics = [...new Set(subscriptions.flatMap((s) => s.topics))];
    if (topics.length > 0) await this.cluster.refreshMetadata(topics);
    const partitionsPerTopic = new Map<string, number>();
    for (const t of topics) {
      const n = this.cluster.metadata.partitionCount(t);
      if (n !== undefined) partitionsPerTopic.set(t, n);
    }
    const assignment = assignor.assign(subscriptions, { partitionsPerTopic });
    this.logger.debug({ assignor: assignor.name, members: subscriptions.length }, 'assigned partitions as the group leader');
    return subscriptions.map((s) => ({ memberId: s.memberId, assignment: encodeAssignment(assignment.get(s.memberId) ?? new Map()) }));
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const groupId = this.groupId!;
    let inFlight = false;
    this.heartbeatTimer = setInterval(() => {
      if (inFlight || this.rejoinNeeded || !this.running) return;
      inFlight = true;
      this.heartbeat(groupId).finally(() => {
        inFlight = false;
      });
    }, this.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private async heartbeat(groupId: string): Promise<void> {
    try {
      const coordinator = await this.cluster.findCoordinator(groupId);
      const response = await this.cluster.request(coordinator, 12, (version) => ({
        groupId, generationId: this.generationId, memberId: this.memberId,
        groupInstanceId: version >= 3 ? this.groupInstanceId : null,
      }), { purpose: 'coordinator' });
      const code = response.errorCode;
      if (code === 0) return;
      if (code === REBALANCE_IN_PROGRESS) {
        this.requestRejoin();
      } else if (code === UNKNOWN_MEMBER_ID || code === ILLEGAL_GENERATION) {
        // Fenced: our partitions may already be someone else's.
        this.logger.info({ groupId, error: code }, 'the member was fenced; rejoining');
        const lost = this.ownedPartitions();
        if (code === UNKNOWN_MEMBER_ID) this.memberId = '';
        this.generationId = -1;
        await this.revoke(lost, false);
        this.requestRejoin();
      } else if (code === FENCED_INSTANCE_ID) {
        this.crash(new KafkaError(code, `group ${groupId}: another member uses group instance id ${this.groupInstanceId}`));
      } else if (Cluster.isCoordinatorError(new KafkaError(code))) {
        this.cluster.invalidateCoordinator(groupId);
      } else {
        this.logger.warn({ groupId, error: code }, 'heartbeat failed');
      }
    } catch (err) {
      if (Cluster.isCoordinatorError(err) || (err instanceof KafkaError && err.code === 13)) this.cluster.invalidateCoordinator(groupId);
      this.logger.debug({ err: String(err) }, 'heartbeat failed');
    }
  }

  // ---- commits ------------------------------------------------------------------------------------

  private commitIdentity(): { groupId: string; generationId: number; memberId: string; groupInstanceId: string | null } {
    if (this.groupId === null) throw new GodelError('CONFIG_INVALID', 'committing offsets needs a groupId');
    const inGroup = this.subscription.length > 0;
    return {
      groupId: this.groupId,
      generationId: inGroup ? this.generationId : -1,
      memberId: inGroup ? this.memberId : '',
      groupInstanceId: inGroup ? this.groupInstanceId : null,
    };
  }

  /**
   * Commits offsets: the given ones (each the next offset to consume), or, without arguments, the
   * current position of every assigned partition that moved since its last commit.
   */
  async commitOffsets(offsets?: readonly OffsetToCommit[]): Promise<void> {
    if (offsets !== undefined) {
      await commitOffsets(this.cluster, this.commitIdentity(), offsets);
      for (const o of offsets) {
        const c = this.cursors.get(tpKey(o.topic, o.partition));
        if (c !== undefined) c.committed = o.offset;
      }
      return;
    }
    await this.commitPositions();
  }

  /** Commits positions that moved (of `only` partitions, when given). Serialized. */
  private async commitPositions(only?: readonly TopicPartition[]): Promise<void> {
    while (this.committing !== null) await this.committing.catch(() => undefined);
    const wanted = only === undefined ? null : new Set(only.map((tp) => tpKey(tp.topic, tp.partition)));
    const cursors = [...this.cursors.values()].filter((c) => c.pending === null && c.position >= 0n && c.position !== c.committed
      && (wanted === null || wanted.has(tpKey(c.topic, c.partition))));
    if (cursors.length === 0) return;
    const positions = cursors.map((c) => c.position);
    this.committing = commitOffsets(this.cluster, this.commitIdentity(), cursors.map((c, i) => ({ topic: c.topic, partition: c.partition, offset: positions[i]! })));
    try {
      await this.committing;
      cursors.forEach((c, i) => {
        c.committed = positions[i]!;
      });
    } catch (err) {
      if (err instanceof KafkaError && (err.code === REBALANCE_IN_PROGRESS || err.code === ILLEGAL_GENERATION || err.code === UNKNOWN_MEMBER_ID)) {
        if (this.subscription.length > 0) this.requestRejoin();
      }
      throw err;
    } finally {
      this.committing = null;
    }
  }

  /** The group's committed offsets for the assigned partitions. */
  async committed(partitions: readonly TopicPartition[] = this.assignment()): Promise<Array<TopicPartition & { offset: bigint }>> {
    if (this.groupId === null) throw new GodelError('CONFIG_INVALID', 'committed offsets need a groupId');
    return fetchCommittedOffsets(this.cluster, this.groupId, partitions);
  }

  // ---- shutdown -----------------------------------------------------------------------------------

  private stopBackground(): void {
    this.stopHeartbeat();
    if (this.autoCommitTimer !== null) clearInterval(this.autoCommitTimer);
    this.autoCommitTimer = null;
    for (const f of this.fetchers.values()) f.stop();
    this.fetchers.clear();
  }

  /**
   * Stops the run loop after the current message or batch, without leaving the group. A JoinGroup
   * in progress (which the coordinator may hold for up to the rebalance timeout) is not waited for.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.stopBackground();
    const loop = this.runLoop;
    this.runLoop = null;
    if (loop === null) return;
    if (this.joining) {
      // The loop returns once the join answers (or the connection closes on disconnect()).
      loop.catch(() => undefined);
      this.joined = this.memberId !== '';
      return;
    }
    await loop;
  }

  /** Stops, commits positions (auto-commit), revokes, leaves the group and closes connections. */
  async disconnect(): Promise<void> {
    if (this.stopping) return;
    await this.stop();
    this.stopping = true;
    try {
      if (this.groupId !== null && this.joined) {
        const owned = this.ownedPartitions();
        if (owned.length > 0) await this.revoke(owned, true).catch((err: unknown) => this.logger.warn({ err: String(err) }, 'revocation on close failed'));
        await this.leaveGroup(this.groupId).catch((err: unknown) => this.logger.warn({ err: String(err) }, 'LeaveGroup failed'));
      } else if (this.groupId !== null && this.autoCommit && this.cursors.size > 0) {
        await this.commitPositions().catch((err: unknown) => this.logger.warn({ err: String(err) }, 'commit on close failed'));
      }
    } finally {
      this.joined = false;
      await this.cluster.close();
    }
  }

  private async leaveGroup(groupId: string): Promise<void> {
    if (this.memberId === '') return;
    const coordinator = await this.cluster.findCoordinator(groupId);
    const response = await this.cluster.request(coordinator, 13, (version) => ({
      groupId,
      memberId: version <= 2 ? this.memberId : '',
      members: version >= 3 ? [{ memberId: this.memberId, groupInstanceId: this.groupInstanceId, reason: version >= 5 ? 'the consumer is closing' : null }] : [],
    }), { purpose: 'coordinator' });
    if (response.errorCode !== 0 && response.errorCode !== UNKNOWN_MEMBER_ID) throw new KafkaError(response.errorCode, `LeaveGroup ${groupId}`);
    this.memberId = '';
    this.generationId = -1;
  }
}
