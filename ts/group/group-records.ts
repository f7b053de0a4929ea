// The records of __consumer_offsets, in Kafka's own layout (group-coordinator-records/*.json), so
// the topic's bytes read the same as a Kafka broker's. Every key and value starts with an int16
// version. Key versions 0-1 are offset commits (OffsetCommitKey: group, topic, partition), key
// version 2 is group metadata (GroupMetadataKey: group). Values:
//   OffsetCommitValue v0 offset, metadata, commitTimestamp; v1 adds expireTimestamp; v2 drops it
//     again; v3 adds leaderEpoch (after offset); v4 is v3 flexible (compact strings, tagged fields).
//   GroupMetadataValue v0 protocolType, generation, protocol?, leader?, members[memberId, clientId,
//     clientHost, sessionTimeout, subscription, assignment]; v1 adds the member's rebalanceTimeout
//     (before sessionTimeout); v2 adds currentStateTimestamp (after leader); v3 adds the member's
//     groupInstanceId? (after memberId); v4 is v3 flexible.
// We write what Kafka writes (OffsetCommitKey v1, OffsetCommitValue v3, or v1 when an explicit
// expiry was asked for, GroupMetadataKey v2, GroupMetadataValue v3) and read every version.
// A null value (tombstone) deletes the key.
import { GodelError } from '../errors.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
export const OFFSET_COMMIT_VALUE_VERSION_MAX = 4;
export const GROUP_METADATA_VALUE_VERSION_MAX = 4;
const FLEXIBLE_FROM = 4;

export type GroupRecordKey =
  | { type: 'offset'; version: number; group: string; topic: string; partition: number }
  | { type: 'group'; version: number; group: string }
  | { type: 'unknown'; version: number };

export interface OffsetCommitValue {
  offset: bigint;
  /** -1 when unknown (v3+ only). */
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  /** -1 unless the commit asked for its own retention (v1 only). */
  expireTimestampMs: number;
}

export interface GroupMetadataMemberValue {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** -1 when not stored (v0); readers then use the session timeout. */
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  /** -1 when not stored (v0-1). */
  currentStateTimestampMs: number;
  members: GroupMetadataMemberValue[];
}

function corrupt(what: string, detail: string): GodelError {
  return new GodelError('CORRUPT_MESSAGE', `__consumer_offsets ${what}: ${detail}`);
}

// ---- keys ----------------------------------------------------------------------------------------

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  const w = new Writer(64);
  w.int16(OFFSET_COMMIT_KEY_VERSION);
  w.string(group);
  w.string(topic);
  w.int32(partition);
  return w.finish();
}

export function encodeGroupMetadataKey(group: string): Buffer {
  const w = new Writer(32);
  w.int16(GROUP_METADATA_KEY_VERSION);
  w.string(group);
  return w.finish();
}

/** Decodes a record key; keys of versions we do not know are returned as 'unknown' (skipped). */
export function decodeGroupRecordKey(buf: Buffer): GroupRecordKey {
  const r = new Reader(buf);
  const version = r.int16();
  if (!r.ok) throw corrupt('record key', r.reason!);
  if (version === 0 || version === 1) {
    const group = r.string();
    const topic = r.string();
    const partition = r.int32();
    if (!r.ok) throw corrupt('offset commit key', r.reason!);
    return { type: 'offset', version, group, topic, partition };
  }
  if (version === 2) {
    const group = r.string();
    if (!r.ok) throw corrupt('group metadata key', r.reason!);
    return { type: 'group', version, group };
  }
  return { type: 'unknown', version };
}

// ---- values --------------------------------------------------------------------------------------

/** The value version Kafka writes: v1 when the commit carries an expiry, else v3. */
export function offsetCommitValueVersion(value: OffsetCommitValue): number {
  return value.expireTimestampMs !== -1 ? 1 : 3;
}

export function encodeOffsetCommitValue(value: OffsetCommitValue, version = offsetCommitValueVersion(value)): Buffer {
  if (!(version >= 0 && version <= OFFSET_COMMIT_VALUE_VERSION_MAX)) throw new RangeError(`OffsetCommitValue version ${version}`);
  const flexible = version >= FLEXIBLE_FROM;
  const w = new Writer(64);
  w.int16(version);
  w.int64(value.offset);
  if (version >= 3) w.int32(value.leaderEpoch);
  if (flexible) w.compactString(value.metadata);
  else w.string(value.metadata);
  w.int64(BigInt(value.commitTimestampMs));
  if (version === 1) w.int64(BigInt(value.expireTimestampMs));
  if (flexible) w.uvarint(0);
  return w.finish();
}

export function decodeOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const r = new Reader(buf);
  const version = r.int16();
  if (!r.ok || version < 0 || version > OFFSET_COMMIT_VALUE_VERSION_MAX) throw corrupt('offset commit value', `unknown version ${version}`);
  const flexible = version >= FLEXIBLE_FROM;
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = flexible ? r.compactString() : r.string();
  const commitTimestampMs = Number(r.int64());
  const expireTimestampMs = version === 1 ? Number(r.int64()) : -1;
  if (flexible) r.skipTaggedFields();
  if (!r.ok) throw corrupt(`offset commit value v${version}`, r.reason!);
  return { offset, leaderEpoch, metadata, commitTimestampMs, expireTimestampMs };
}

export const GROUP_METADATA_VALUE_VERSION = 3;

export function encodeGroupMetadataValue(value: GroupMetadataValue, version = GROUP_METADATA_VALUE_VERSION): Buffer {
  if (!(version >= 0 && version <= GROUP_METADATA_VALUE_VERSION_MAX)) throw new RangeError(`GroupMetadataValue version ${version}`);
  const flexible = version >= FLEXIBLE_FROM;
  const w = new Writer(256);
  const str = (s: string): void => (flexible ? w.compactString(s) : w.string(s));
  const nstr = (s: string | null): void => (flexible ? w.compactNullableString(s) : w.nullableString(s));
  const bytes = (b: Buffer): void => (flexible ? w.compactBytes(b) : w.bytes(b));
  w.int16(version);
  str(value.protocolType);
  w.int32(value.generation);
  nstr(value.protocol);
  nstr(value.leader);
  if (version >= 2) w.int64(BigInt(value.currentStateTimestampMs));
  if (flexible) w.uvarint(value.members.length + 1);
  else w.int32(value.members.length);
  for (const m of value.members) {
    str(m.memberId);
    if (version >= 3) nstr(m.groupInstanceId);
    str(m.clientId);
    str(m.clientHost);
    if (version >= 1) w.int32(m.rebalanceTimeoutMs);
    w.int32(m.sessionTimeoutMs);
    bytes(m.subscription);
    bytes(m.assignment);
    if (flexible) w.uvarint(0);
  }
  if (flexible) w.uvarint(0);
  return w.finish();
}

/** Decodes a group metadata value; byte fields are copies, safe to keep after the read buffer goes. */
export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const r = new Reader(buf);
  const version = r.int16();
  if (!r.ok || version < 0 || version > GROUP_METADATA_VALUE_VERSION_MAX) throw corrupt('group metadata value', `unknown version ${version}`);
  const flexible = version >= FLEXIBLE_FROM;
  const str = (): string => (flexible ? r.compactString() : r.string());
  const nstr = (): string | null => (flexible ? r.compactNullableString() : r.nullableString());
  const bytes = (): Buffer => Buffer.from(flexible ? r.compactBytes() : r.bytes());
  const protocolType = str();
  const generation = r.int32();
  const protocol = nstr();
  const leader = nstr();
  const currentStateTimestampMs = version >= 2 ? Number(r.int64()) : -1;
  // Each member takes at least 18 bytes (four empty strings, a timeout, two empty byte arrays).
  const count = flexible ? r.compactArrayLength(10) : r.arrayLength(18);
  const members: GroupMetadataMemberValue[] = [];
  for (let i = 0; i < count && r.ok; i++) {
    const memberId = str();
    const groupInstanceId = version >= 3 ? nstr() : null;
    const clientId = str();
    const clientHost = str();
    const rebalanceTimeoutMs = version >= 1 ? r.int32() : -1;
    const sessionTimeoutMs = r.int32();
    const subscription = bytes();
    const assignment = bytes();
    if (flexible) r.skipTaggedFields();
    members.push({ memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs, sessionTimeoutMs, subscription, assignment });
  }
  if (flexible) r.skipTaggedFields();
  if (!r.ok) throw corrupt(`group metadata value v${version}`, r.reason!);
  return { protocolType, generation, protocol, leader, currentStateTimestampMs, members };
}
