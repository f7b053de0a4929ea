// Which segments retention deletes (Kafka's UnifiedLog.deleteOldSegments), as pure functions over
// segment summaries so the policy can be tested without files. The active segment is never
// deleted; deletion always takes a prefix of the log, oldest first.

export interface SegmentSummary {
  baseOffset: bigint;
  /** The offset after the segment's last batch. */
  nextOffset: bigint;
  sizeInBytes: number;
  /** Largest timestamp in the segment (-1 when it has none: then it is never expired by time). */
  maxTimestampMs: number;
}

export interface RetentionPolicy {
  retentionMs: number;
  retentionBytes: number;
  logStartOffset: bigint;
  nowMs: number;
}

export type RetentionReason = 'retention.ms' | 'retention.bytes' | 'log-start-offset';

export interface RetentionPlan {
  /** How many segments from the start of the log to delete. */
  count: number;
  reason: RetentionReason | null;
}

/**
 * Plans the deletion of the oldest segments. `segments` is the whole log, oldest first, the last
 * one being the active segment.
 */
export function planRetention(segments: readonly SegmentSummary[], policy: RetentionPolicy): RetentionPlan {
  const deletable = segments.length - 1;
  let count = 0;
  let reason: RetentionReason | null = null;
  // Segments wholly below the log start offset (DeleteRecords) go first.
  while (count < deletable && segments[count + 1]!.baseOffset <= policy.logStartOffset) count++;
  if (count > 0) reason = 'log-start-offset';
  if (Number.isFinite(policy.retentionMs)) {
    let byTime = 0;
    while (byTime < deletable) {
      const ts = segments[byTime]!.maxTimestampMs;
      if (ts < 0 || policy.nowMs - ts <= policy.retentionMs) break;
      byTime++;
    }
    if (byTime > count) {
      count = byTime;
      reason = 'retention.ms';
    }
  }
  if (Number.isFinite(policy.retentionBytes)) {
    let excess = segments.reduce((sum, s) => sum + s.sizeInBytes, 0) - policy.retentionBytes;
    let bySize = 0;
    while (bySize < deletable && excess - segments[bySize]!.sizeInBytes >= 0) {
      excess -= segments[bySize]!.sizeInBytes;
      bySize++;
    }
    if (bySize > count) {
      count = bySize;
      reason = 'retention.bytes';
    }
  }
  return { count, reason };
}
