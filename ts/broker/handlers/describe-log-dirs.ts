// DescribeLogDirs (35): the broker's one log dir (the data dir, as an absolute path) with the size
// of every partition log it holds (the sum of its segments' .log bytes) and, from v4, the volume's
// total and usable bytes (statfs). As in Kafka, partitions this broker does not hold (unknown
// topics, other brokers' partitions, offline logs) are left out rather than answered with an
// error; a leader's log end is its high watermark, so offsetLag is 0, and there are no future
// logs (AlterReplicaLogDirs is not supported). The codec is hand-written (protocol/describe-log-dirs.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { DescribeLogDirsPartition, DescribeLogDirsTopic } from '../../protocol/describe-log-dirs.js';
import type { PartitionLog } from '../../storage/partition-log.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

/** KIP-827's "unknown" for totalBytes/usableBytes. */
const UNKNOWN_BYTES = -1n;

export function describeLogDirsHandler(services: BrokerServices): ApiHandler<35> {
  const { topics, logManager, logger } = services;
  const logDir = path.resolve(logManager.dataDir);

  function describePartition(log: PartitionLog | null, partitionIndex: number): DescribeLogDirsPartition | null {
    if (log === null || log.isOffline) return null;
    return { partitionIndex, partitionSize: BigInt(log.size()), offsetLag: 0n, isFutureKey: false };
  }

  return {
    apiKey: 35,
    minVersion: 0,
    maxVersion: 4,
    async handle(request, ctx) {
      const wanted = request.topics ?? topics.topics().map((t) => ({
        topic: t.name, partitions: Array.from({ length: t.partitions }, (_, i) => i),
      }));
      const described: DescribeLogDirsTopic[] = [];
      for (const t of wanted) {
        const partitions: DescribeLogDirsPartition[] = [];
        for (const p of t.partitions) {
          const answer = describePartition(topics.partitionLog(t.topic, p), p);
          if (answer !== null) partitions.push(answer);
        }
        if (partitions.length > 0) described.push({ name: t.topic, partitions });
      }
      let totalBytes = UNKNOWN_BYTES;
      let usableBytes = UNKNOWN_BYTES;
      if (ctx.apiVersion >= 4) {
        try {
          const stats = await fs.statfs(logDir, { bigint: true });
          totalBytes = stats.blocks * stats.bsize;
          // What an unprivileged writer may still use, as Java's FileStore.getUsableSpace.
          usableBytes = stats.bavail * stats.bsize;
        } catch (err) {
          logger.warn({ err: String(err), logDir }, 'statfs of the log dir failed');
        }
      }
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        results: [{ errorCode: ErrorCode.NONE, logDir, topics: described, totalBytes, usableBytes }],
      };
    },
  };
}
