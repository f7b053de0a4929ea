// Partition choice, as the Java client makes it (KIP-480/KIP-794 built-in partitioner):
// - a record with a partition goes there;
// - a record with a key goes to toPositive(murmur2(keyBytes)) % partitionCount, over all partitions,
//   exactly as org.apache.kafka.common.utils.Utils computes it, so a key lands where the Java client
//   (and librdkafka's murmur2_random, KafkaJS's DefaultPartitioner) would put it;
// - a record without a key sticks to one partition until about batch.size bytes went there, then
//   moves to another one picked at random: few, full batches instead of many small ones.

/** Kafka's Utils.murmur2 over bytes [start, end) of `data`: a signed 32-bit hash. */
export function murmur2(data: Uint8Array, start = 0, end = data.length): number {
  const length = end - start;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  let i = start;
  for (let n = 0; n < length4; n++, i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[i + 2]! << 16;
  if (tail >= 2) h ^= data[i + 1]! << 8;
  if (tail >= 1) {
    h ^= data[i]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition the Java client picks for a key: toPositive(murmur2(key)) % partitionCount. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}

let scratch = Buffer.allocUnsafe(256);

/** murmur2 of a string's UTF-8 bytes, through a reused scratch buffer (no allocation per key). */
export function murmur2String(key: string): number {
  const bound = key.length * 3;
  if (bound > scratch.length) scratch = Buffer.allocUnsafe(Math.max(bound, scratch.length * 2));
  const n = scratch.write(key, 0, 'utf8');
  return murmur2(scratch, 0, n);
}

/** A user partitioner: returns the partition for a record without an explicit one. */
export type Partitioner = (args: { topic: string; key: Buffer | string | null; partitionCount: number }) => number;

/** Kafka's keyed choice; keyless records get -1 (the producer then uses its sticky choice). */
export function murmur2Partition(key: Buffer | string | null, partitionCount: number): number {
  if (key === null) return -1;
  const h = typeof key === 'string' ? murmur2String(key) : murmur2(key);
  return toPositive(h) % partitionCount;
}

/**
 * The sticky choice for keyless records, per topic: the same partition until `switchBytes` went to
 * it, then another one at random (never the same one twice in a row when there are several).
 */
export class StickyPartitioner {
  private readonly current = new Map<string, { partition: number; bytes: number }>();

  constructor(
    private readonly switchBytes: number,
    private readonly random: () => number = Math.random,
  ) {}

  partition(topic: string, partitionCount: number, recordBytes: number): number {
    let state = this.current.get(topic);
    if (state === undefined || state.partition >= partitionCount) {
      state = { partition: Math.floor(this.random() * partitionCount), bytes: 0 };
      this.current.set(topic, state);
    } else if (state.bytes >= this.switchBytes) {
      state.partition = partitionCount === 1 ? 0 : (state.partition + 1 + Math.floor(this.random() * (partitionCount - 1))) % partitionCount;
      state.bytes = 0;
    }
    state.bytes += recordBytes;
    return state.partition;
  }
}
