// Opens a partition log from its directory (Kafka's LogLoader). After a clean shutdown the
// segments are trusted (indexes sanity-checked, the tail after the last index entry verified).
// Otherwise every segment from the one holding the recovery point on is re-validated batch by
// batch: the log is cut at the first torn or corrupt batch and every later segment is removed.
// Missing or corrupt indexes are rebuilt. Leftover temporary files are cleaned up, and a segment
// swap the cleaner left half done is finished or rolled back first (segment-swap.ts).
import fs from 'node:fs/promises';
import type { Clock } from '../clock.js';
import type { LogEngine } from '../engine/types.js';
import type { Logger } from '../log.js';
import { fsyncDir } from './fs-utils.js';
import type { LogConfig } from './log-config.js';
import {
  DELETED_FILE_SUFFIX,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  offsetFromFileName,
  segmentFilePath,
  TIME_INDEX_FILE_SUFFIX,
  type TopicPartition,
} from './log-file-utils.js';
import { LogSegment } from './log-segment.js';
import { PartitionLog } from './partition-log.js';
import { recoverInterruptedSwaps } from './segment-swap.js';

export interface LoadLogOptions {
  engine: LogEngine;
  dir: string;
  topicPartition: TopicPartition;
  config: LogConfig;
  clock: Clock;
  logger: Logger;
  /** From the recovery-point checkpoint; 0 when the log is not in it (recover everything). */
  recoveryPoint: bigint;
  /** From the log-start-offset checkpoint; 0 when absent. */
  logStartOffset: bigint;
  hadCleanShutdown: boolean;
}

export interface LoadReport {
  segments: number;
  recoveredSegments: number;
  truncatedBytes: number;
  removedSegments: number;
  rebuiltIndexes: number;
}

export async function loadLog(options: LoadLogOptions): Promise<{ log: PartitionLog; report: LoadReport }> {
  const { engine, dir, config, logger } = options;
  await fs.mkdir(dir, { recursive: true });
  await recoverInterruptedSwaps(engine, dir, logger);
  const baseOffsets = await cleanDirectory(dir, logger);
  const settings = { indexIntervalBytes: config.indexIntervalBytes, segmentIndexBytes: config.segmentIndexBytes };
  const report: LoadReport = { segments: 0, recoveredSegments: 0, truncatedBytes: 0, removedSegments: 0, rebuiltIndexes: 0 };
  // Segments from the one that holds the recovery point on were not known to be on disk.
  let firstToRecover = baseOffsets.length;
  if (!options.hadCleanShutdown) {
    firstToRecover = 0;
    for (let i = 0; i < baseOffsets.length; i++) if (baseOffsets[i]! <= options.recoveryPoint) firstToRecover = i;
  }
  const segments: LogSegment[] = [];
  let i = 0;
  for (; i < baseOffsets.length; i++) {
    const baseOffset = baseOffsets[i]!;
    const previous = segments[segments.length - 1];
    if (previous !== undefined && baseOffset < previous.nextOffset) {
      logger.error({ log: dir, baseOffset: String(baseOffset) }, 'segment overlaps the one before it; removing it and every later segment');
      break;
    }
    const recover = i >= firstToRecover;
    const opened = await LogSegment.open(engine, dir, baseOffset, settings, recover);
    segments.push(opened.segment);
    if (recover) report.recoveredSegments++;
    if (opened.rebuiltIndexes) report.rebuiltIndexes++;
    report.truncatedBytes += opened.truncatedBytes;
    if (opened.error !== null) {
      logger.warn({
        log: dir, segment: opened.segment.logPath, position: opened.segment.size, truncatedBytes: opened.truncatedBytes,
        reason: opened.error.message,
      }, recover ? 'recovery cut the log at a torn or corrupt batch' : 'cut a structurally broken segment tail');
      if (recover) {
        i++;
        break;
      }
    }
  }
  // Everything after a cut (or an overlap) is not part of the log any more.
  for (; i < baseOffsets.length; i++) {
    await removeSegmentFiles(dir, baseOffsets[i]!);
    report.removedSegments++;
  }
  if (report.removedSegments > 0) await fsyncDir(dir);
  if (segments.length === 0) {
    segments.push(await LogSegment.create(engine, dir, options.logStartOffset, settings));
    await fsyncDir(dir);
  }
  report.segments = segments.length;
  const logEnd = segments[segments.length - 1]!.nextOffset;
  const recoveryPoint = options.hadCleanShutdown || report.recoveredSegments > 0 ? logEnd : minBig(options.recoveryPoint, logEnd);
  const log = new PartitionLog({
    engine, dir, topicPartition: options.topicPartition, config, clock: options.clock, logger,
    segments, logStartOffset: minBig(options.logStartOffset, logEnd), recoveryPoint,
  });
  await log.loadProducerState();
  return { log, report };
}

/** Removes files a crash may have left behind and returns the segment base offsets, sorted. */
async function cleanDirectory(dir: string, logger: Logger): Promise<bigint[]> {
  const names = await fs.readdir(dir);
  const logs = new Set<string>();
  const removed: string[] = [];
  for (const name of names) {
    // `.cleaned` and `.swap` files are gone: recoverInterruptedSwaps ran first.
    if (name.endsWith(DELETED_FILE_SUFFIX) || name.endsWith('.tmp')) {
      removed.push(name);
    } else if (name.endsWith(LOG_FILE_SUFFIX) && offsetFromFileName(name) !== null) {
      logs.add(name.slice(0, -LOG_FILE_SUFFIX.length));
    }
  }
  // Index files without their .log are orphans.
  for (const name of names) {
    for (const suffix of [INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX]) {
      if (name.endsWith(suffix) && !logs.has(name.slice(0, -suffix.length))) removed.push(name);
    }
  }
  for (const name of removed) await fs.rm(`${dir}/${name}`, { force: true });
  if (removed.length > 0) {
    logger.info({ log: dir, files: removed }, 'removed leftover files');
    await fsyncDir(dir);
  }
  return [...logs].map((prefix) => BigInt(prefix)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function removeSegmentFiles(dir: string, baseOffset: bigint): Promise<void> {
  for (const suffix of [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX]) {
    await fs.rm(segmentFilePath(dir, baseOffset, suffix), { force: true });
  }
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
