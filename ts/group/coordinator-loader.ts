// Replaying a partition of __consumer_offsets at start (or when this broker becomes its leader):
// every record from the log start to the log end, the last value of each key winning and a
// tombstone removing it, then one GroupMetadata per group: Stable with its members when its last
// metadata record has members, Empty otherwise (offsets only: a simple consumer group).
import type { PartitionLog } from '../storage/partition-log.js';
import { baseOffsetOf, batchSize, compressionCodecOf, isControlBatch, lastOffsetOf, LOG_OVERHEAD } from '../storage/record-batch.js';
import { forEachRecord, newRecordView } from '../storage/records.js';
import { GroupMetadata, type CommittedOffset } from './group-metadata.js';
import {
  decodeGroupMetadataValue,
  decodeGroupRecordKey,
  decodeOffsetCommitValue,
  type GroupMetadataValue,
  type OffsetCommitValue,
} from './group-records.js';
import { MemberMetadata } from './member-metadata.js';

/** Bytes read from the log at a time while loading. */
const LOAD_READ_BYTES = 4 * 1024 * 1024;

/**
 * Visits every record of the log, oldest first, from the log start to the log end as it was when
 * the replay began. Returns how many batches were skipped (compressed, or malformed records).
 */
export async function replayLog(log: PartitionLog, visit: (key: Buffer, value: Buffer | null) => void): Promise<number> {
  const end = log.logEndOffset;
  let next = log.logStartOffset;
  let skipped = 0;
  const view = newRecordView();
  while (next < end) {
    const { records } = await log.read(next, LOAD_READ_BYTES, { maxOffset: end });
    if (records.length === 0) break;
    let advanced = false;
    for (let pos = 0; pos + LOG_OVERHEAD <= records.length;) {
      const size = batchSize(records, pos);
      if (size <= 0 || pos + size > records.length) break;
      const base = baseOffsetOf(records, pos);
      const last = lastOffsetOf(records, pos);
      if (last >= next) {
        if (compressionCodecOf(records, pos) !== 0 || isControlBatch(records, pos)) {
          if (!isControlBatch(records, pos)) skipped++;
        } else {
          const error = forEachRecord(records, pos, size, view, (r) => {
            if (base + BigInt(r.offsetDelta) < next) return true;
            if (r.keyLength < 0) return true;
            const key = records.subarray(r.keyStart, r.keyStart + r.keyLength);
            const value = r.valueLength < 0 ? null : records.subarray(r.valueStart, r.valueStart + r.valueLength);
            visit(key, value);
            return true;
          });
          if (error !== null) skipped++;
        }
        next = last + 1n;
        advanced = true;
      }
      pos += size;
    }
    if (!advanced) break;
  }
  return skipped;
}

/** The latest state of every key of one partition, built record by record. */
export class GroupRecordReplay {
  /** group → topic → partition → offset. */
  readonly offsets = new Map<string, Map<string, Map<number, OffsetCommitValue>>>();
  readonly groups = new Map<string, GroupMetadataValue>();
  /** Records that could not be decoded (kept out of the state, counted for a warning). */
  corrupt = 0;
  records = 0;

  apply(key: Buffer, value: Buffer | null): void {
    this.records++;
    try {
      const k = decodeGroupRecordKey(key);
      if (k.type === 'offset') {
        let byTopic = this.offsets.get(k.group);
        if (value === null) {
          const byPartition = byTopic?.get(k.topic);
          byPartition?.delete(k.partition);
          if (byPartition !== undefined && byPartition.size === 0) byTopic!.delete(k.topic);
          if (byTopic !== undefined && byTopic.size === 0) this.offsets.delete(k.group);
          return;
        }
        const decoded = decodeOffsetCommitValue(value);
        if (byTopic === undefined) {
          byTopic = new Map();
          this.offsets.set(k.group, byTopic);
        }
        let byPartition = byTopic.get(k.topic);
        if (byPartition === undefined) {
          byPartition = new Map();
          byTopic.set(k.topic, byPartition);
        }
        byPartition.set(k.partition, decoded);
      } else if (k.type === 'group') {
        if (value === null) this.groups.delete(k.group);
        else this.groups.set(k.group, decodeGroupMetadataValue(value));
      }
    } catch {
      this.corrupt++;
    }
  }

  /** The groups this partition holds, ready to serve. */
  build(nowMs: number): GroupMetadata[] {
    const out: GroupMetadata[] = [];
    const ids = new Set([...this.groups.keys(), ...this.offsets.keys()]);
    for (const groupId of ids) {
      const value = this.groups.get(groupId);
      const group = value === undefined ? new GroupMetadata(groupId, 'Empty', nowMs) : groupFromValue(groupId, value, nowMs);
      for (const [topic, byPartition] of this.offsets.get(groupId) ?? []) {
        for (const [partition, o] of byPartition) {
          const committed: CommittedOffset = {
            offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata,
            commitTimestampMs: o.commitTimestampMs, expireTimestampMs: o.expireTimestampMs,
          };
          group.setOffset(topic, partition, committed);
        }
      }
      out.push(group);
    }
    return out;
  }
}

function groupFromValue(groupId: string, value: GroupMetadataValue, nowMs: number): GroupMetadata {
  const withMembers = value.members.length > 0 && value.protocol !== null;
  const group = new GroupMetadata(groupId, withMembers ? 'Stable' : 'Empty', nowMs);
  group.currentStateTimestampMs = value.currentStateTimestampMs === -1 ? null : value.currentStateTimestampMs;
  group.generationId = value.generation;
  group.protocolType = value.protocolType === '' ? null : value.protocolType;
  if (withMembers) {
    group.protocolName = value.protocol;
    for (const m of value.members) {
      const member = new MemberMetadata({
        memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs === -1 ? m.sessionTimeoutMs : m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs, protocolType: value.protocolType,
        protocols: [{ name: value.protocol!, metadata: m.subscription }],
      });
      member.assignment = m.assignment;
      group.add(member, null);
    }
    group.protocolType = value.protocolType;
    if (value.leader !== null && group.has(value.leader)) group.leaderId = value.leader;
  }
  return group;
}
