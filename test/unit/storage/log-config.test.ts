// Kafka config names parsed and validated as users type them.
import { describe, expect, it } from 'vitest';
import { buildLogConfig, defaultLogConfig } from '../../../ts/storage/log-config.js';

describe('log config', () => {
  it("has Kafka's defaults", () => {
    const config = defaultLogConfig();
    expect(config.segmentBytes).toBe(1024 * 1024 * 1024);
    expect(config.retentionMs).toBe(7 * 24 * 3600 * 1000);
    expect(config.retentionBytes).toBe(Infinity);
    expect(config.flushMessages).toBe(Infinity);
    expect(config.indexIntervalBytes).toBe(4096);
    expect(config.cleanupPolicy).toBe('delete');
    expect(config.messageTimestampType).toBe('CreateTime');
  });

  it('layers broker defaults under topic overrides', () => {
    const config = buildLogConfig({ 'segment.bytes': '2048' }, { 'log.segment.bytes': '4096', 'log.retention.hours': '2' });
    expect(config.segmentBytes).toBe(2048);
    expect(config.retentionMs).toBe(2 * 3600 * 1000);
    expect(buildLogConfig({}, { 'log.retention.minutes': '3', 'log.retention.hours': '2' }).retentionMs).toBe(180_000);
    expect(buildLogConfig({}, { 'log.retention.ms': '5', 'log.retention.minutes': '3' }).retentionMs).toBe(5);
  });

  it('reads -1 and Long.MAX_VALUE as unbounded', () => {
    expect(buildLogConfig({ 'retention.ms': '-1' }).retentionMs).toBe(Infinity);
    expect(buildLogConfig({ 'retention.bytes': '-1' }).retentionBytes).toBe(Infinity);
    expect(buildLogConfig({ 'flush.messages': '9223372036854775807' }).flushMessages).toBe(Infinity);
    expect(buildLogConfig({ 'flush.messages': '1' }).flushMessages).toBe(1);
  });

  it('normalises cleanup.policy lists', () => {
    expect(buildLogConfig({ 'cleanup.policy': 'delete, compact' }).cleanupPolicy).toBe('compact,delete');
    expect(buildLogConfig({ 'cleanup.policy': 'compact' }).cleanupPolicy).toBe('compact');
  });

  it.each([
    ['segment.bytes', 'big', /must be an integer/],
    ['segment.bytes', '10', /between 14/],
    ['segment.bytes', '4294967296', /between/],
    ['retention.ms', '-2', /at least -1/],
    ['retention.ms', '1.5', /integer/],
    ['flush.messages', '0', /at least 1/],
    ['cleanup.policy', 'shred', /one of/],
    ['message.timestamp.type', 'Now', /one of/],
    ['min.cleanable.dirty.ratio', '1.5', /between 0 and 1/],
    ['min.cleanable.dirty.ratio', 'x', /number/],
    ['retention.ms', '99999999999999999999', /64-bit/],
  ])('rejects %s=%s with a clear message', (key, value, why) => {
    expect(() => buildLogConfig({ [key]: value })).toThrow(why);
    expect(() => buildLogConfig({ [key]: value })).toThrow(new RegExp(key.replace(/\./g, '\\.')));
  });

  it('rejects unknown topic configs and bad broker values', () => {
    expect(() => buildLogConfig({ 'retention.msec': '5' })).toThrow(/unknown topic config retention\.msec/);
    expect(() => buildLogConfig({}, { 'log.segment.bytes': 'x' })).toThrow(/log\.segment\.bytes/);
  });
});
