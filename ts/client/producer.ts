// The producer: records are partitioned and written straight into one open RecordBatch per
// partition (batch-encoder.ts); a batch closes when it reaches batchSize, when lingerMs passes, or on
// flush; closed batches go to the partition leaders, one batch per partition per Produce request,
// with at most maxInFlightRequests requests in flight per broker.
//
// send() resolves with one RecordMetadata per partition the call wrote to (the offset of its first
// record there); sendOne() resolves with the record's own offset.
//
// Idempotence (Kafka's enable.idempotence): InitProducerId gives a producer id and epoch; every
// batch carries the next sequence number of its partition, assigned when the batch closes, and a
// retry resends the very same bytes, so the broker drops a batch it already has and answers with
// the original offsets. At most 5 batches are in flight per partition. After a retriable failure a
// partition sends one batch at a time, in sequence order, until its failed batches are through
// (the batches behind the failed one come back OUT_OF_ORDER_SEQUENCE_NUMBER, which is then
// expected and retried). A batch that fails for good leaves a gap in the sequence, so the producer
// takes a new producer id and renumbers the batches not yet sent, as the Java client did before
// KIP-360.
//
// Without idempotence a retry may duplicate records (the first attempt may have been written) and,
// with several requests in flight, reorder them: Kafka's at-least-once.

import type { Logger } from 'pino';
import { GodelError } from '../errors.js';
import { CompressionCodec } from '../storage/record-batch.js';
import { BatchEncoder, NO_PRODUCER, restampProducer, type RecordHeaders } from './batch-encoder.js';
import { Cluster, type ClusterOptions } from './cluster.js';
import { compressionCodec, compressionImplementation, type CompressionName } from './compression.js';
import { KafkaError, isRetriableError } from './errors.js';
import { murmur2Partition, StickyPartitioner, type Partitioner } from './partitioner.js';
import { backoffDelayMs, withRetry, type RetryOptions } from './retry.js';

const DUPLICATE_SEQUENCE_NUMBER = 46;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const METADATA_ERRORS = new Set([3, 5, 6, 13, 74, 75, 100]);
const IDEMPOTENT_IN_FLIGHT_MAX = 5;
const SEQUENCE_MAX = 0x7fffffff;

export type Acks = 0 | 1 | -1 | 'all';

export interface ProducerMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: RecordHeaders;
  /** Milliseconds since the epoch (default: now). */
  timestamp?: number | bigint;
  /** Explicit partition; otherwise the partitioner chooses. */
  partition?: number;
}

export interface ProducerRecord {
  topic: string;
  messages: readonly ProducerMessage[];
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** Offset of this call's first record in the partition (-1n with acks=0). */
  baseOffset: bigint;
  /** The broker's append time for LogAppendTime topics, else -1n. */
  logAppendTime: bigint;
  logStartOffset: bigint;
}

export interface RecordResult {
  topic: string;
  partition: number;
  /** The record's offset (-1n with acks=0). */
  offset: bigint;
}

export interface ProducerOptions {
  /** 0 (no response), 1 (the leader) or -1/'all' (the in-sync replicas); default -1. */
  acks?: Acks;
  /** Exactly-once per partition across retries (default false); needs acks=all. */
  idempotent?: boolean;
  compression?: CompressionName | CompressionCodec;
  /** Target size of a batch in bytes, header included (default 256 KiB). */
  batchSize?: number;
  /** How long a batch that is not full waits for more records (default 0: the end of the current tick). */
  lingerMs?: number;
  /** Produce requests in flight per broker (default 5; at most 5 when idempotent). */
  maxInFlightRequests?: number;
  /** The broker's wait for acks (Produce timeout_ms, default 30 s). */
  ackTimeoutMs?: number;
  /** Records buffered (not yet acknowledged) before send() waits (default 64 MiB). */
  bufferMemoryBytes?: number;
  /** Create unknown topics on first use where the broker allows it (default true). */
  allowAutoTopicCreation?: boolean;
  /** Replaces Kafka's murmur2/sticky choice for records without a partition. */
  partitioner?: Partitioner;
  retry?: RetryOptions;
}

interface Segment {
  ticket: SendTicket;
  meta: RecordMetadata;
  /** Whether this segment holds the ticket's first record in the partition (it sets meta's offsets). */
  sets: boolean;
  first: number;
  count: number;
}

class SendTicket {
  pending = 0;
  settled = false;
  readonly results: RecordMetadata[] = [];
  readonly byPartition = new Map<PartitionState, RecordMetadata>();
  constructor(
    readonly resolve: (value: RecordMetadata[]) => void,
    readonly reject: (err: Error) => void,
  ) {}

  segmentDone(): void {
    if (--this.pending === 0 && !this.settled) {
      this.settled = true;
      this.resolve(this.results);
    }
  }

  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err);
  }
}

class ProducerBatch {
  encoder: BatchEncoder | null;
  buffer: Buffer | null = null;
  /** The encoder's memory, returned to the producer's pool once the batch is done. */
  memory: Buffer | null = null;
  readonly segments: Segment[] = [];
  baseSequence = -1;
  /** The producer-id generation the buffer is stamped with. */
  stampedGeneration = -1;
  attempts = 0;
  retryAt = 0;
  /** Failed retriably at least once and not through yet (counted in PartitionState.retrying). */
  retry = false;
  bytes = 0;
  done = false;
  constructor(
    readonly state: PartitionState,
    encoder: BatchEncoder,
    readonly createdAt: number,
  ) {
    this.encoder = encoder;
  }

  get recordCount(): number {
    let n = 0;
    for (const s of this.segments) n += s.count;
    return n;
  }
}

class PartitionState {
  open: ProducerBatch | null = null;
  readonly ready: ProducerBatch[] = [];
  inFlight = 0;
  nextSequence = 0;
  /** Batches that failed retriably and are not through yet (idempotent: one in flight meanwhile). */
  retrying = 0;
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

function nextSequence(sequence: number, increment: number): number {
  return sequence > SEQUENCE_MAX - increment ? increment - (SEQUENCE_MAX - sequence) - 1 : sequence + increment;
}

function toAcks(acks: Acks | undefined): 0 | 1 | -1 {
  if (acks === undefined || acks === 'all' || acks === -1) return -1;
  if (acks === 0 || acks === 1) return acks;
  throw new GodelError('CONFIG_INVALID', `acks must be 0, 1, -1 or 'all', got ${String(acks)}`);
}

export class Producer {
  readonly cluster: Cluster;
  private readonly logger: Logger;
  private readonly acks: 0 | 1 | -1;
  private readonly idempotent: boolean;
  private readonly codec: CompressionCodec;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly maxInFlight: number;
  private readonly ackTimeoutMs: number;
  private readonly bufferMemoryBytes: number;
  private readonly allowAutoTopicCreation: boolean;
  private readonly partitioner: Partitioner | undefined;
  private readonly sticky: StickyPartitioner;

  private readonly topics = new Map<string, PartitionState[]>();
  private readonly brokerInFlight = new Map<number, number>();
  private connected: Promise<void> | null = null;
  /** Set once connect() succeeded (the fast path of send()). */
  private ready = false;
  /** send() calls in their slow path (connecting, fetching metadata, waiting for memory). */
  private readonly preparing = new Set<Promise<void>>();
  private closing = false;
  private closed = false;
  private drainScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private flushing = 0;
  private bufferedBytes = 0;
  private batchesPending = 0;
  private idleWaiters: (() => void)[] = [];
  private memoryWaiters: (() => void)[] = [];
  private readonly refreshing = new Set<string>();
  /**
   * Per topic whose metadata is not ready: the one wait all send() calls for it share, so a burst
   * of sends to a new topic makes one Metadata request (and one retry chain), not one each.
   */
  private readonly topicWaits = new Map<string, Promise<void>>();
  /** Batch memory of exactly batchSize bytes, reused (a full batch grows to that size). */
  private readonly pool: Buffer[] = [];
  private readonly poolMax: number;

  // idempotence
  private producerId = -1n;
  private producerEpoch = -1;
  private generation = 0;
  private resetNeeded = false;
  private resetting: Promise<void> | null = null;

  constructor(clusterOptions: ClusterOptions, options: ProducerOptions = {}) {
    this.acks = toAcks(options.acks);
    this.idempotent = options.idempotent ?? false;
    this.codec = compressionCodec(options.compression);
    if (this.codec !== CompressionCodec.None) compressionImplementation(this.codec); // throws when none is registered
    this.batchSize = options.batchSize ?? 256 * 1024;
    this.lingerMs = options.lingerMs ?? 0;
    this.maxInFlight = options.maxInFlightRequests ?? 5;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    this.bufferMemoryBytes = options.bufferMemoryBytes ?? 64 * 1024 * 1024;
    this.allowAutoTopicCreation = options.allowAutoTopicCreation ?? true;
    this.partitioner = options.partitioner;
    this.sticky = new StickyPartitioner(this.batchSize);
    this.poolMax = Math.max(2, Math.min(64, Math.floor(this.bufferMemoryBytes / this.batchSize / 4)));
    const invalid = (message: string): never => {
      throw new GodelError('CONFIG_INVALID', message);
    };
    if (!(Number.isInteger(this.batchSize) && this.batchSize >= 128)) invalid(`batchSize must be an integer >= 128, got ${this.batchSize}`);
    if (!(this.lingerMs >= 0)) invalid(`lingerMs must be >= 0, got ${this.lingerMs}`);
    if (!(Number.isInteger(this.maxInFlight) && this.maxInFlight >= 1)) invalid(`maxInFlightRequests must be an integer >= 1, got ${this.maxInFlight}`);
    if (this.idempotent && this.acks !== -1) invalid('an idempotent producer needs acks=all (-1)');
    if (this.idempotent && this.maxInFlight > IDEMPOTENT_IN_FLIGHT_MAX) invalid(`an idempotent producer allows at most ${IDEMPOTENT_IN_FLIGHT_MAX} requests in flight`);
    this.cluster = new Cluster({ ...clusterOptions, maxInFlightRequests: Math.max(this.maxInFlight + 1, clusterOptions.maxInFlightRequests ?? 0) });
    this.logger = this.cluster.logger;
  }

  /** Connects to the cluster (and gets a producer id when idempotent). */
  connect(): Promise<void> {
    if (this.closed || this.closing) return Promise.reject(new GodelError('CLOSED', 'the producer is disconnected'));
    this.connected ??= (async () => {
      await this.cluster.connect();
      if (this.idempotent) await this.initProducerId();
      this.ready = true;
    })().catch((err: unknown) => {
      this.connected = null;
      throw err;
    });
    return this.connected;
  }

  private async initProducerId(): Promise<void> {
    const response = await withRetry(this.cluster.retry, async () => {
      const r = await this.cluster.requestAny(22, () => ({ transactionalId: null, transactionTimeoutMs: 2147483647, producerId: -1n, producerEpoch: -1 }));
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, 'InitProducerId failed');
      return r;
    }, { aborted: () => this.closed });
    this.producerId = response.producerId;
    this.producerEpoch = response.producerEpoch;
    this.generation++;
    this.logger.debug({ producerId: String(this.producerId), epoch: this.producerEpoch }, 'producer id assigned');
  }

  /** The producer id and epoch (idempotent producers), for diagnostics. */
  get producerIdentity(): { producerId: bigint; producerEpoch: number } {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }

  /**
   * Writes `messages` to `topic`. Resolves, once every record is acknowledged, with one
   * RecordMetadata per partition written to; rejects with a KafkaError if any record failed.
   */
  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch([record]);
  }

  /** Writes to several topics at once; one promise for all. */
  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    if (this.closed || this.closing) return Promise.reject(new GodelError('CLOSED', 'the producer is disconnected'));
    // Fast path: connected, topics known, memory available: the records go into their batches now,
    // before send() returns, so a flush() right after covers them.
    if (this.ready && this.bufferedBytes < this.bufferMemoryBytes && records.every((r) => this.topicReady(r.topic))) return this.appendAll(records);
    const preparing = this.prepare(records);
    this.preparing.add(preparing);
    const done = (): void => void this.preparing.delete(preparing);
    preparing.then(done, done);
    return preparing.then(() => this.appendAll(records));
  }

  private topicReady(topic: string): boolean {
    return typeof topic === 'string' && this.cluster.metadata.partitionCount(topic) !== undefined && !this.needsMetadata(topic);
  }

  /** The slow path: connect, fetch metadata, wait for buffer memory (then the caller appends). */
  private async prepare(records: readonly ProducerRecord[]): Promise<void> {
    if (this.connected === null) await this.connect();
    else await this.connected;
    for (const r of records) {
      if (typeof r.topic !== 'string' || r.topic === '') throw new GodelError('CONFIG_INVALID', 'send() needs a topic');
      if (!this.topicReady(r.topic)) await this.waitForTopic(r.topic);
    }
    while (this.bufferedBytes >= this.bufferMemoryBytes && !this.closed) await this.waitForMemory();
    if (this.closed) throw new GodelError('CLOSED', 'the producer is disconnected');
  }

  private waitForTopic(topic: string): Promise<void> {
    let wait = this.topicWaits.get(topic);
    if (wait === undefined) {
      wait = this.cluster.ensureTopics([topic], this.allowAutoTopicCreation).finally(() => this.topicWaits.delete(topic));
      this.topicWaits.set(topic, wait);
    }
    return wait;
  }

  private appendAll(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const ticket = new SendTicket(resolve, reject);
      try {
        for (const r of records) this.append(ticket, r.topic, r.messages);
      } catch (err) {
        ticket.fail(err as Error);
      }
      if (ticket.pending === 0 && !ticket.settled) {
        ticket.settled = true;
        resolve(ticket.results);
      }
      this.scheduleDrain();
    });
  }

  /** Writes one record; resolves with its partition and offset. */
  async sendOne(topic: string, message: ProducerMessage): Promise<RecordResult> {
    const [meta] = await this.sendBatch([{ topic, messages: [message] }]);
    return { topic, partition: meta!.partition, offset: meta!.baseOffset };
  }

  private needsMetadata(topic: string): boolean {
    return this.cluster.metadata.refreshedAgoMs(topic) > this.cluster.metadataMaxAgeMs;
  }

  private partitionStates(topic: string, count: number): PartitionState[] {
    let states = this.topics.get(topic);
    if (states === undefined) {
      states = [];
      this.topics.set(topic, states);
    }
    for (let p = states.length; p < count; p++) states.push(new PartitionState(topic, p));
    return states;
  }

  /** The hot path: partition each message and write it into its partition's open batch. */
  private append(ticket: SendTicket, topic: string, messages: readonly ProducerMessage[]): void {
    const partitionCount = this.cluster.metadata.partitionCount(topic);
    if (partitionCount === undefined) throw new KafkaError(3, undefined, { topic });
    const states = this.partitionStates(topic, partitionCount);
    const now = Date.now();
    const partitioner = this.partitioner;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const key = m.key ?? null;
      const value = m.value ?? null;
      let partition = m.partition;
      if (partition === undefined) {
        if (partitioner !== undefined) partition = partitioner({ topic, key, partitionCount });
        else if (key !== null) partition = murmur2Partition(key, partitionCount);
        else partition = this.sticky.partition(topic, partitionCount, value === null ? 8 : value.length + 8);
      }
      const state = states[partition];
      if (state === undefined) throw new KafkaError(3, `partition ${partition} does not exist (the topic has ${partitionCount})`, { topic, partition });
      const timestamp = m.timestamp === undefined ? now : Number(m.timestamp);
      let batch = state.open;
      if (batch === null || !batch.encoder!.append(timestamp, key, value, m.headers)) {
        if (batch !== null) this.closeBatch(batch);
        batch = new ProducerBatch(state, new BatchEncoder(this.batchSize, Math.min(this.batchSize, 64 * 1024), this.pool.pop()), now);
        state.open = batch;
        this.batchesPending++;
        if (this.lingerMs > 0) this.scheduleAt(now + this.lingerMs);
        batch.encoder!.append(timestamp, key, value, m.headers);
      }
      // Attribute the record to this call.
      const segments = batch.segments;
      const last = segments.length === 0 ? undefined : segments[segments.length - 1]!;
      if (last !== undefined && last.ticket === ticket) {
        last.count++;
      } else {
        let meta = ticket.byPartition.get(state);
        let sets = false;
        if (meta === undefined) {
          meta = { topic, partition, baseOffset: -1n, logAppendTime: -1n, logStartOffset: -1n };
          ticket.byPartition.set(state, meta);
          ticket.results.push(meta);
          sets = true;
        }
        ticket.pending++;
        segments.push({ ticket, meta, sets, first: batch.encoder!.count - 1, count: 1 });
      }
      if (batch.encoder!.sizeInBytes >= this.batchSize) this.closeBatch(batch);
    }
  }

  /** Closes a partition's open batch: it becomes ready to send (compressing first if needed). */
  private closeBatch(batch: ProducerBatch): void {
    const state = batch.state;
    if (state.open === batch) state.open = null;
    const encoder = batch.encoder!;
    batch.encoder = null;
    batch.memory = encoder.memory;
    const count = encoder.count;
    if (this.idempotent) {
      batch.baseSequence = state.nextSequence;
      state.nextSequence = nextSequence(state.nextSequence, count);
    }
    const fields = this.idempotent ? { producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence: batch.baseSequence } : NO_PRODUCER;
    batch.stampedGeneration = this.generation;
    state.ready.push(batch);
    if (this.codec === CompressionCodec.None) {
      batch.buffer = encoder.finish(fields);
      batch.bytes = batch.buffer.length;
      this.bufferedBytes += batch.bytes;
    } else {
      batch.bytes = encoder.sizeInBytes;
      this.bufferedBytes += batch.bytes;
      encoder.finishCompressed(this.codec, fields).then((buffer) => {
        batch.buffer = buffer;
        this.release(batch);
        this.scheduleDrain();
      }, (err: unknown) => {
        const at = state.ready.indexOf(batch);
        if (at >= 0) state.ready.splice(at, 1);
        this.finishBatch(batch, err as Error);
        if (this.idempotent) this.resetNeeded = true; // its sequence numbers are now a gap
        this.scheduleDrain();
      });
    }
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  private scheduleAt(at: number): void {
    if (at >= this.timerAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.drain();
    }, Math.max(0, at - Date.now()));
  }

  /** Closes due batches and sends what the in-flight limits allow. */
  private drain(): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.resetNeeded) {
      this.resetProducerId();
      return;
    }
    const byLeader = new Map<number, PartitionState[]>();
    for (const states of this.topics.values()) {
      for (const state of states) {
        const open = state.open;
        if (open !== null) {
          if (this.flushing > 0 || this.closing || now - open.createdAt >= this.lingerMs) this.closeBatch(open);
          else this.scheduleAt(open.createdAt + this.lingerMs);
        }
        if (state.ready.length === 0) continue;
        const head = state.ready[0]!;
        if (head.retryAt > now) {
          this.scheduleAt(head.retryAt);
          continue;
        }
        const leader = this.cluster.leaderFor(state.topic, state.partition);
        if (leader < 0) {
          this.refreshTopic(state.topic);
          continue;
        }
        let list = byLeader.get(leader);
        if (list === undefined) byLeader.set(leader, (list = []));
        list.push(state);
      }
    }
    for (const [leader, states] of byLeader) this.sendTo(leader, states, now);
  }

  private partitionCanSend(state: PartitionState, now: number): boolean {
    if (state.ready.length === 0) return false;
    const head = state.ready[0]!;
    if (head.buffer === null || head.retryAt > now) return false;
    const limit = this.idempotent ? (state.retrying > 0 ? 1 : IDEMPOTENT_IN_FLIGHT_MAX) : this.maxInFlight;
    return state.inFlight < limit;
  }

  /** Builds Produce requests for one leader, one batch per partition each, while it has room. */
  private sendTo(leader: number, states: PartitionState[], now: number): void {
    const maxRequestBytes = Math.max(this.batchSize * 4, 8 * 1024 * 1024);
    while ((this.brokerInFlight.get(leader) ?? 0) < this.maxInFlight) {
      const batches: ProducerBatch[] = [];
      let bytes = 0;
      for (const state of states) {
        if (!this.partitionCanSend(state, now)) continue;
        const head = state.ready[0]!;
        if (batches.length > 0 && bytes + head.bytes > maxRequestBytes) continue;
        state.ready.shift();
        batches.push(head);
        bytes += head.bytes;
      }
      if (batches.length === 0) return;
      this.sendRequest(leader, batches);
    }
  }

  private sendRequest(leader: number, batches: ProducerBatch[]): void {
    this.brokerInFlight.set(leader, (this.brokerInFlight.get(leader) ?? 0) + 1);
    const byTopic = new Map<string, { index: number; records: Buffer }[]>();
    for (const batch of batches) {
      batch.state.inFlight++;
      batch.attempts++;
      if (this.idempotent && batch.stampedGeneration !== this.generation) {
        restampProducer(batch.buffer!, { producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence: batch.baseSequence });
        batch.stampedGeneration = this.generation;
      }
      let list = byTopic.get(batch.state.topic);
      if (list === undefined) byTopic.set(batch.state.topic, (list = []));
      list.push({ index: batch.state.partition, records: batch.buffer! });
    }
    const topicData = [...byTopic].map(([name, partitionData]) => ({ name, partitionData }));
    const acks = this.acks;
    const request = this.cluster.request(leader, 0, () => ({ transactionalId: null, acks, timeoutMs: this.ackTimeoutMs, topicData }), {
      noResponse: acks === 0,
      timeoutMs: this.cluster.requestTimeoutMs + this.ackTimeoutMs,
    });
    request.then((response) => {
      this.brokerInFlight.set(leader, this.brokerInFlight.get(leader)! - 1);
      if (response === undefined) {
        for (const batch of batches) this.onBatchResult(batch, 0, -1n, -1n, -1n, null);
      } else {
        const results = new Map<string, { errorCode: number; baseOffset: bigint; logAppendTimeMs: bigint; logStartOffset: bigint; errorMessage: string | null }>();
        for (const t of response.responses) for (const p of t.partitionResponses) results.set(`${t.name}\u0000${p.index}`, p);
        for (const batch of batches) {
          const p = results.get(`${batch.state.topic}\u0000${batch.state.partition}`);
          if (p === undefined) this.onBatchResult(batch, 13, -1n, -1n, -1n, 'the response left the partition out');
          else this.onBatchResult(batch, p.errorCode, p.baseOffset, p.logAppendTimeMs, p.logStartOffset, p.errorMessage);
        }
      }
      this.scheduleDrain();
    }, (err: unknown) => {
      this.brokerInFlight.set(leader, this.brokerInFlight.get(leader)! - 1);
      for (const batch of batches) this.onRequestFailed(batch, err);
      this.scheduleDrain();
    });
  }

  private onBatchResult(batch: ProducerBatch, errorCode: number, baseOffset: bigint, logAppendTime: bigint, logStartOffset: bigint, errorMessage: string | null): void {
    batch.state.inFlight--;
    if (errorCode === 0 || errorCode === DUPLICATE_SEQUENCE_NUMBER) {
      for (const s of batch.segments) {
        if (s.sets) {
          s.meta.baseOffset = baseOffset < 0n ? baseOffset : baseOffset + BigInt(s.first);
          s.meta.logAppendTime = logAppendTime;
          s.meta.logStartOffset = logStartOffset;
        }
      }
      this.finishBatch(batch, null);
      return;
    }
    const state = batch.state;
    // Behind a failed batch (or a gap being repaired), an idempotent partition's later batches are
    // out of order by design: retry them in order.
    const expectedGap = errorCode === OUT_OF_ORDER_SEQUENCE_NUMBER && this.idempotent && (state.retrying > 0 || this.resetNeeded);
    this.onBatchFailed(batch, new KafkaError(errorCode, undefined, {
      topic: state.topic, partition: state.partition, brokerMessage: errorMessage, retriable: expectedGap ? true : undefined,
    }));
  }

  private onRequestFailed(batch: ProducerBatch, error: unknown): void {
    const state = batch.state;
    state.inFlight--;
    let err: Error;
    if (error instanceof KafkaError) {
      err = error.topic === undefined
        ? new KafkaError(error.code, error.message, { topic: state.topic, partition: state.partition, cause: error, retriable: error.retriable })
        : error;
    } else if (error instanceof Error) {
      err = error;
    } else {
      err = new KafkaError(13, String(error), { topic: state.topic, partition: state.partition });
    }
    this.onBatchFailed(batch, err);
  }

  /** Retries a batch (back in its queue, after a backoff) or fails its records for good. */
  private onBatchFailed(batch: ProducerBatch, err: Error): void {
    const state = batch.state;
    if (isRetriableError(err) && batch.attempts <= this.cluster.retry.retries && !this.closed) {
      const ke = err as KafkaError;
      if (!batch.retry) {
        batch.retry = true;
        state.retrying++;
      }
      batch.retryAt = Date.now() + backoffDelayMs(this.cluster.retry, batch.attempts - 1);
      this.requeue(batch);
      if (METADATA_ERRORS.has(ke.code)) this.refreshTopic(state.topic);
      this.logger.debug({ topic: state.topic, partition: state.partition, error: ke.type, attempt: batch.attempts }, 'retrying a batch');
      return;
    }
    this.finishBatch(batch, err);
    if (this.idempotent) {
      // A gap in the sequence: the partition's later batches would be refused. Start over with a new id.
      this.resetNeeded = true;
      this.logger.warn({ topic: state.topic, partition: state.partition, error: err instanceof KafkaError ? err.type : err.message }, 'a batch of an idempotent producer failed; taking a new producer id');
    }
  }

  /** Puts a batch back in its partition's queue, in sequence order (idempotent) or at the front. */
  private requeue(batch: ProducerBatch): void {
    const ready = batch.state.ready;
    if (!this.idempotent) {
      ready.unshift(batch);
      return;
    }
    let at = 0;
    while (at < ready.length && ready[at]!.baseSequence !== -1 && seqBefore(ready[at]!, batch)) at++;
    ready.splice(at, 0, batch);
  }

  /** A batch is done: settle its records' promises and release its memory. */
  private finishBatch(batch: ProducerBatch, err: Error | null): void {
    if (batch.done) return;
    batch.done = true;
    if (batch.retry) batch.state.retrying--;
    for (const s of batch.segments) {
      if (err === null) s.ticket.segmentDone();
      else s.ticket.fail(err);
    }
    this.release(batch);
    this.bufferedBytes -= batch.bytes;
    this.batchesPending--;
    if (this.bufferedBytes < this.bufferMemoryBytes && this.memoryWaiters.length > 0) {
      const waiters = this.memoryWaiters;
      this.memoryWaiters = [];
      for (const w of waiters) w();
    }
    if (this.batchesPending === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Gives a batch's encoder memory back to the pool. Safe once the batch is done: its Produce
   * request was answered (so the socket wrote it) or it failed for good; or, compressed, once the
   * records were compressed into a buffer of their own.
   */
  private release(batch: ProducerBatch): void {
    const memory = batch.memory;
    batch.memory = null;
    if (memory === null || memory.length !== this.batchSize || this.pool.length >= this.poolMax) return;
    this.pool.push(memory);
  }

  private refreshTopic(topic: string): void {
    if (this.refreshing.has(topic) || this.closed) return;
    this.refreshing.add(topic);
    this.cluster.refreshMetadata([topic], this.allowAutoTopicCreation)
      .catch((err: unknown) => this.logger.debug({ topic, err: String(err) }, 'metadata refresh failed'))
      .finally(() => {
        this.refreshing.delete(topic);
        // Retry the leader lookup after a short pause (an election may still be under way).
        setTimeout(() => this.scheduleDrain(), this.cluster.retry.initialRetryTimeMs).unref();
      });
  }

  /** After a batch failed for good: a new producer id, and every unsent batch renumbered from 0. */
  private resetProducerId(): void {
    if (this.resetting !== null) return;
    let inFlight = 0;
    for (const n of this.brokerInFlight.values()) inFlight += n;
    if (inFlight > 0) return; // drained again when the requests come back
    this.resetting = this.initProducerId().then(() => {
      for (const states of this.topics.values()) {
        for (const state of states) {
          state.nextSequence = 0;
          state.retrying = 0;
          for (const batch of state.ready) {
            batch.baseSequence = state.nextSequence;
            state.nextSequence = nextSequence(state.nextSequence, batch.recordCount);
            batch.retry = false;
          }
        }
      }
      this.resetNeeded = false;
    }, (err: unknown) => {
      this.logger.error({ err: String(err) }, 'cannot get a new producer id; failing the buffered records');
      for (const states of this.topics.values()) {
        for (const state of states) {
          for (const batch of state.ready.splice(0)) this.finishBatch(batch, err as Error);
        }
      }
      this.resetNeeded = false;
    }).finally(() => {
      this.resetting = null;
      this.scheduleDrain();
    });
  }

  private waitForMemory(): Promise<void> {
    return new Promise((resolve) => {
      this.memoryWaiters.push(resolve);
      this.scheduleDrain();
    });
  }

  /** Sends every buffered record now and resolves when all are acknowledged (or failed). */
  async flush(): Promise<void> {
    // send() calls still connecting or waiting for metadata are part of what is flushed.
    while (this.preparing.size > 0) await Promise.allSettled([...this.preparing]);
    if (this.batchesPending === 0) return;
    this.flushing++;
    try {
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        this.scheduleDrain();
      });
    } finally {
      this.flushing--;
    }
  }

  /** Flushes, then closes the connections. */
  async disconnect(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      if (this.timer !== null) clearTimeout(this.timer);
      for (const w of this.memoryWaiters) w();
      this.memoryWaiters = [];
      await this.cluster.close();
    }
  }
}

function seqBefore(a: ProducerBatch, b: ProducerBatch): boolean {
  // Sequences wrap at 2^31; within a window of in-flight batches a plain compare with wrap works.
  const d = b.baseSequence - a.baseSequence;
  return d > 0 ? d < 0x40000000 : d < -0x40000000;
}
