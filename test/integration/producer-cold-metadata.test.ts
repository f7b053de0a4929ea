// The producer's slow path for a topic it has no metadata for: a burst of concurrent send() calls
// to a topic the broker creates on first use all succeed, and share one wait for the topic (a
// bounded number of Metadata requests, not one or more per send).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Connection } from '../../ts/client/connection.js';
import { Godel } from '../../ts/client/index.js';
import { startBroker, type BrokerProcess } from '../helpers/broker.js';

const SENDS = 500;
const PARTITIONS = 4;

describe('producer: concurrent sends to a topic without metadata', { timeout: 120_000 }, () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBroker({ set: { 'num.partitions': String(PARTITIONS) } });
  }, 120_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await broker?.stop();
  });

  it(`${SENDS} sends to a new auto-created topic succeed with a few Metadata requests`, async () => {
    let metadataRequests = 0;
    const request = Connection.prototype.request;
    vi.spyOn(Connection.prototype, 'request').mockImplementation(function (this: Connection, apiKey, build, options) {
      if (apiKey === 3) metadataRequests++;
      return request.call(this, apiKey, build, options) as never;
    });
    const godel = new Godel({ brokers: [broker.address] });
    const producer = godel.producer();
    const admin = godel.admin();
    try {
      const results = await Promise.all(Array.from({ length: SENDS }, (_, i) => producer.send({ topic: 'born-on-first-send', messages: [{ key: `k${i}`, value: `v${i}` }] })));
      expect(results).toHaveLength(SENDS);
      for (const r of results) expect(r[0]!.baseOffset).toBeGreaterThanOrEqual(0n);
      // Connect, then the topic: one request, a few more while the new topic's leaders settle.
      expect(metadataRequests, 'Metadata requests').toBeLessThanOrEqual(6);
      const offsets = await admin.fetchTopicOffsets('born-on-first-send');
      expect(offsets).toHaveLength(PARTITIONS);
      expect(offsets.reduce((sum, o) => sum + o.high - o.low, 0n)).toBe(BigInt(SENDS));
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
