// The Redis Streams side of a latency measurement (peer-latency.ts runs it twice):
//   redis-latency.ts sub|pub <host:port> <stream> <recordBytes> <rateMBps> <durationSeconds>
// sub: XREAD BLOCK from the stream's last ID (entries already there are not measured), one clock
// reading per reply; pub: XADD at the offered rate (redis-adder.ts), at most MAX_IN_FLIGHT unanswered.
import { redisConnect } from '../systems/redis.js';
import { keepHeapHeadroom } from '../../../ts/heap-growth.js';
import { DRAIN_DEADLINE_MS, LatencyHistogram, emit, expectedTotal, pace } from './peer-latency.js';
import { RedisStreamAdder } from './redis-adder.js';

// The generator's own full GCs would be measured as the system's latency (see ts/heap-growth.ts).
keepHeapHeadroom();

const MAX_IN_FLIGHT = 5000;
const XREAD_COUNT = 10_000;
const XREAD_BLOCK_MS = 200;

type ReadReply = Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;

async function subscribe(address: string, key: string): Promise<void> {
  const redis = redisConnect(address);
  await redis.connect();
  const last = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
  let lastId = last.length > 0 ? last[0]![0] : '0-0';
  const histogram = new LatencyHistogram();
  let expected = Infinity;
  let drainDeadline = Infinity;
  emit({ ready: true });
  void expectedTotal().then((n) => {
    expected = n;
    drainDeadline = Date.now() + DRAIN_DEADLINE_MS;
  });
  while (histogram.received < expected && Date.now() < drainDeadline) {
    const reply = (await redis.xreadBuffer('COUNT', XREAD_COUNT, 'BLOCK', XREAD_BLOCK_MS, 'STREAMS', key, lastId)) as unknown as ReadReply;
    if (reply === null) continue;
    const now = process.hrtime.bigint();
    const entries = reply[0]![1];
    for (const [, fields] of entries) histogram.record(fields[1]!, now);
    lastId = entries[entries.length - 1]![0].toString('latin1');
  }
  emit({ result: { received: histogram.received, percentiles: histogram.percentiles() } });
  redis.disconnect();
}

async function publish(address: string, key: string, recordBytes: number, rateMBps: number, durationSeconds: number): Promise<void> {
  const adder = new RedisStreamAdder(address, key, recordBytes);
  await adder.connect();
  const result = await pace({ recordBytes, rateMBps, durationSeconds, maxInFlight: MAX_IN_FLIGHT, sender: adder });
  emit({ result });
  adder.close();
}

const [role, address, stream, recordBytes, rateMBps, durationSeconds] = process.argv.slice(2);
if (role === 'sub') await subscribe(address!, stream!);
else await publish(address!, stream!, Number(recordBytes), Number(rateMBps), Number(durationSeconds));
process.exit(0);
