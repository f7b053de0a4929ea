// The advertised version table and the Kafka error code table.

import { describe, expect, it } from 'vitest';
import { API_TABLE, ApiKey, apiEntry, apiName, isVersionAdvertised } from '../../../ts/protocol/api-keys.js';
import { ErrorCode, errorName, isRetriable, KAFKA_ERRORS, kafkaError } from '../../../ts/protocol/error-codes.js';

describe('advertised api versions', () => {
  it('never raise a minimum real clients need (shared/kafka-protocol/CLIENTS.md)', () => {
    // librdkafka needs Produce 3, Fetch 4, FindCoordinator 0, ListOffsets 1, InitProducerId 0, and
    // before 2.11.1 compresses with gzip/snappy/lz4 only when Produce 0 is advertised (#4948);
    // kafka-python probes with ApiVersions 0 and Metadata 0 and uses fixed old versions.
    const needs: Record<string, number> = {
      ApiVersions: 0, Metadata: 0, Produce: 0, Fetch: 4, ListOffsets: 0, FindCoordinator: 0, JoinGroup: 0, SyncGroup: 0,
      Heartbeat: 0, LeaveGroup: 0, OffsetCommit: 0, OffsetFetch: 0, ListGroups: 0, DescribeGroups: 0, CreateTopics: 0,
      DeleteTopics: 0, SaslHandshake: 0, SaslAuthenticate: 0, InitProducerId: 0, DescribeConfigs: 0, CreatePartitions: 0,
      AlterConfigs: 0, DeleteGroups: 0, DeleteRecords: 0,
    };
    for (const [name, min] of Object.entries(needs)) {
      const e = API_TABLE.find((x) => x.name === name);
      expect(e, name).toBeDefined();
      expect(e!.minVersion, name).toBeLessThanOrEqual(min);
    }
  });

  it('reach the versions the suggested ranges ask for', () => {
    const suggested: Record<string, number> = {
      ApiVersions: 3, Metadata: 8, Produce: 7, Fetch: 12, ListOffsets: 7, FindCoordinator: 3, JoinGroup: 5, SyncGroup: 4,
      Heartbeat: 4, LeaveGroup: 3, OffsetCommit: 7, OffsetFetch: 7, ListGroups: 4, DescribeGroups: 4, CreateTopics: 4,
      DeleteTopics: 3, DescribeConfigs: 2, SaslAuthenticate: 2, InitProducerId: 4,
    };
    for (const [name, max] of Object.entries(suggested)) expect(API_TABLE.find((x) => x.name === name)!.maxVersion, name).toBeGreaterThanOrEqual(max);
  });

  it('has unique keys and names, and lookups', () => {
    expect(new Set(API_TABLE.map((e) => e.apiKey)).size).toBe(API_TABLE.length);
    expect(new Set(API_TABLE.map((e) => e.name)).size).toBe(API_TABLE.length);
    expect(ApiKey.Produce).toBe(0);
    expect(ApiKey.ApiVersions).toBe(18);
    expect(ApiKey.DescribeCluster).toBe(60);
    expect(apiEntry(1)).toMatchObject({ name: 'Fetch', minVersion: 4 });
    expect(apiName(3)).toBe('Metadata');
    expect(apiName(47)).toBe('OffsetDelete');
    expect(apiName(46)).toBe('Unknown(46)');
    expect(isVersionAdvertised(1, 3)).toBe(false);
    expect(isVersionAdvertised(0, 0)).toBe(true);
    expect(isVersionAdvertised(0, 12)).toBe(false);
    expect(isVersionAdvertised(18, 4)).toBe(false);
  });
});

describe('Kafka error codes', () => {
  it('have unique codes and names', () => {
    expect(new Set(KAFKA_ERRORS.map((e) => e.code)).size).toBe(KAFKA_ERRORS.length);
    expect(new Set(KAFKA_ERRORS.map((e) => e.name)).size).toBe(KAFKA_ERRORS.length);
  });

  it('carry the codes clients act on (CLIENTS.md section d)', () => {
    expect(ErrorCode.NONE).toBe(0);
    expect(ErrorCode.OFFSET_OUT_OF_RANGE).toBe(1);
    expect(ErrorCode.CORRUPT_MESSAGE).toBe(2);
    expect(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).toBe(3);
    expect(ErrorCode.LEADER_NOT_AVAILABLE).toBe(5);
    expect(ErrorCode.NOT_LEADER_OR_FOLLOWER).toBe(6);
    expect(ErrorCode.MESSAGE_TOO_LARGE).toBe(10);
    expect(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS).toBe(14);
    expect(ErrorCode.COORDINATOR_NOT_AVAILABLE).toBe(15);
    expect(ErrorCode.NOT_COORDINATOR).toBe(16);
    expect(ErrorCode.ILLEGAL_GENERATION).toBe(22);
    expect(ErrorCode.INCONSISTENT_GROUP_PROTOCOL).toBe(23);
    expect(ErrorCode.UNKNOWN_MEMBER_ID).toBe(25);
    expect(ErrorCode.REBALANCE_IN_PROGRESS).toBe(27);
    expect(ErrorCode.INVALID_TIMESTAMP).toBe(32);
    expect(ErrorCode.UNSUPPORTED_VERSION).toBe(35);
    expect(ErrorCode.MEMBER_ID_REQUIRED).toBe(79);
    expect(ErrorCode.INVALID_RECORD).toBe(87);
    expect(ErrorCode.UNKNOWN_TOPIC_ID).toBe(100);
  });

  it('mark retriable codes as Kafka does', () => {
    for (const code of [3, 5, 6, 7, 14, 15, 16, 19, 100]) expect(isRetriable(code), errorName(code)).toBe(true);
    for (const code of [0, 1, 10, 22, 25, 27, 35, 79, 87, -1, 9999]) expect(isRetriable(code), errorName(code)).toBe(false);
    expect(kafkaError(35)?.message).toMatch(/version/);
    expect(errorName(-1)).toBe('UNKNOWN_SERVER_ERROR');
    expect(errorName(9999)).toBe('UNKNOWN_ERROR_CODE(9999)');
  });
});
