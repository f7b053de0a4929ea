// Which partition of __consumer_offsets holds a group: Kafka's
// `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`, bit for bit, so a group lands on
// the same partition (and the same coordinator) as it would in a Kafka cluster.

/** Java's String.hashCode: s[0]*31^(n-1) + … + s[n-1] over UTF-16 code units, in 32-bit ints. */
export function javaStringHashCode(value: string): number {
  let hash = 0;
  for (let i = 0; i < value.length; i++) hash = (Math.imul(hash, 31) + value.charCodeAt(i)) | 0;
  return hash;
}

/** Kafka's Utils.abs: the absolute value, except Integer.MIN_VALUE maps to 0 (not to itself). */
export function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

/** The __consumer_offsets partition of a group. */
export function groupPartition(groupId: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partition count must be a positive integer, got ${partitions}`);
  return kafkaAbs(javaStringHashCode(groupId)) % partitions;
}
