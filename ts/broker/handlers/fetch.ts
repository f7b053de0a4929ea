// Fetch (1): whole stored batches, as written, starting with the batch that contains each fetch
// offset. A fetch that finds less than min_bytes waits in the purgatory until an append or
// max_wait_ms. The response honours max_bytes and partition_max_bytes, except that the first
// partition with data returns at least one batch (KIP-74). Topics are named up to v12 and
// identified by topic id from v13. No fetch sessions (KIP-227): session id 0 means none.
import type { TopicInfo } from '../../cluster/control-plane.js';
import { FETCH_MAX_WAIT_MS_MAX } from '../../limits.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { FetchRequestFetchPartition } from '../../protocol/generated/fetch-request.js';
import type { FetchResponse, FetchResponseFetchableTopicResponse, FetchResponsePartitionData } from '../../protocol/generated/fetch-response.js';
import type { PartitionLog } from '../../storage/partition-log.js';
import { AFTER_WRITE, type ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';
import { godelErrorToKafka } from '../topic-manager.js';

const TOPIC_IDS_FROM_VERSION = 13;
const READ_COMMITTED = 1;
const EMPTY = Buffer.alloc(0);

interface Target {
  log: PartitionLog | null;
  request: FetchRequestFetchPartition;
  missingCode: number;
  out: FetchResponsePartitionData;
  /** Gives back the buffer behind out.records (see PartitionLog.read), once it is written. */
  release: (() => void) | null;
}

function partitionData(partitionIndex: number, errorCode: number, readCommitted: boolean): FetchResponsePartitionData {
  return {
    partitionIndex, errorCode, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n,
    divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 }, abortedTransactions: readCommitted ? [] : null,
    preferredReadReplica: -1, records: EMPTY,
  };
}

export function fetchHandler(services: BrokerServices): ApiHandler<1> {
  const { topics, fetchPurgatory, logger } = services;

  /** Reads every target once; returns the bytes gathered and whether any partition failed. */
  async function readAll(targets: Target[], maxBytes: number): Promise<{ bytes: number; errors: boolean }> {
    let bytes = 0;
    let errors = false;
    for (const target of targets) {
      const out = target.out;
      out.records = EMPTY;
      // A long poll reads again: the records of the previous round are no longer referenced.
      target.release?.();
      target.release = null;
      if (target.log === null) {
        out.errorCode = target.missingCode;
        errors = true;
        continue;
      }
      const remaining = maxBytes - bytes;
      const limit = Math.min(target.request.partitionMaxBytes, Math.max(remaining, 0));
      try {
        if (limit <= 0 && bytes > 0) {
          fillOffsets(out, target.log);
          continue;
        }
        const read = await target.log.read(target.request.fetchOffset, Math.max(limit, 1), { minOneBatch: bytes === 0 });
        out.errorCode = 0;
        out.records = read.records;
        target.release = read.release;
        out.highWatermark = read.logEndOffset;
        out.lastStableOffset = read.logEndOffset;
        out.logStartOffset = read.logStartOffset;
        bytes += read.records.length;
      } catch (err) {
        const { errorCode, errorMessage } = godelErrorToKafka(err);
        if (errorCode !== ErrorCode.OFFSET_OUT_OF_RANGE) logger.error({ log: target.log.describe(), err: errorMessage }, 'fetch read failed');
        out.errorCode = errorCode;
        fillOffsets(out, target.log);
        errors = true;
      }
    }
    return { bytes, errors };
  }

  function fillOffsets(out: FetchResponsePartitionData, log: PartitionLog): void {
    out.highWatermark = log.logEndOffset;
    out.lastStableOffset = log.logEndOffset;
    out.logStartOffset = log.logStartOffset;
  }

  return {
    apiKey: 1,
    minVersion: 4,
    maxVersion: 17,
    async handle(request, ctx) {
      const readCommitted = request.isolationLevel === READ_COMMITTED;
      const response: FetchResponse = { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [], nodeEndpoints: [] };
      if (request.sessionId !== 0) {
        response.errorCode = ErrorCode.FETCH_SESSION_ID_NOT_FOUND;
        return response;
      }
      const byId = ctx.apiVersion >= TOPIC_IDS_FROM_VERSION;
      const targets: Target[] = [];
      for (const t of request.topics) {
        const topic: TopicInfo | undefined = byId ? topics.topicById(t.topicId) : topics.topic(t.topic);
        const topicResponse: FetchResponseFetchableTopicResponse = { topic: topic?.name ?? t.topic, topicId: t.topicId, partitions: [] };
        response.responses.push(topicResponse);
        for (const p of t.partitions) {
          const out = partitionData(p.partition, 0, readCommitted);
          topicResponse.partitions.push(out);
          const log = topic === undefined ? null : topics.partitionLog(topic.name, p.partition);
          const missingCode = topic === undefined && byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          targets.push({ log, request: p, missingCode, out, release: null });
        }
      }
      const maxBytes = request.maxBytes > 0 ? request.maxBytes : 0x7fffffff;
      const written: FetchResponse & { [AFTER_WRITE]?: () => void } = response;
      written[AFTER_WRITE] = () => {
        for (const target of targets) {
          target.release?.();
          target.release = null;
        }
      };
      const first = await readAll(targets, maxBytes);
      const maxWaitMs = Math.min(request.maxWaitMs, FETCH_MAX_WAIT_MS_MAX);
      if (first.bytes >= request.minBytes || first.errors || maxWaitMs <= 0 || targets.length === 0) return response;
      const logs = targets.map((t) => t.log).filter((l): l is PartitionLog => l !== null);
      const deadline = Date.now() + maxWaitMs;
      // Appends may come in small pieces: keep waiting until min_bytes or the deadline.
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        await fetchPurgatory.wait(logs, left);
        const again = await readAll(targets, maxBytes);
        if (again.bytes >= request.minBytes || again.errors) break;
      }
      return response;
    },
  };
}
