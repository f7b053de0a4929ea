// The log cleaner's key → latest offset map (Kafka's SkimpyOffsetMap): an open-addressing table of
// 128-bit key digests and offsets in typed arrays, whose memory never passes what
// `log.cleaner.dedupe.buffer.size` allows, whatever the keys look like. Keys are never stored: two
// keys with the same digest would share an entry (Kafka accepts the same with MD5). The digest is
// MurmurHash3 x86_128 — MD5 through node:crypto costs ~70x more per key — with a fresh random seed
// at every clear(), so a collision found for one seed does not carry over to the next cleaning.
//
// Layout: slot i holds digest words hashes[4i .. 4i+3] and offsets[i] (-1 = empty). Offsets are
// doubles, exact below 2^53; the cleaner checks that bound before it puts one. Slot counts are
// primes, so double hashing (step 1 + h1 mod (slots - 1)) visits every slot.
//
// Unlike Kafka's map, which takes its whole buffer up front, this one starts small and doubles
// (rehashing from the stored digests, no key needed) as keys arrive, so a log with ten thousand
// keys costs a few hundred KiB, not the whole buffer, and its probes stay in cache. Old and new
// arrays together stay within the buffer during a resize, so the largest table (`maxSlots`) holds
// about two thirds of what one table filling the buffer would.
import { randomBytes } from 'node:crypto';

/** A 16-byte digest and an 8-byte offset per entry, as SkimpyOffsetMap with MD5. */
export const OFFSET_MAP_BYTES_PER_ENTRY = 24;
const EMPTY = -1;
/** The table a map starts with (and returns to at clear()). */
const INITIAL_SLOTS = 4093;
/** Load at which the table doubles, while it may. */
const GROW_LOAD = 0.75;

export class CleanerOffsetMap {
  /** The largest table this map may grow to: what bounds the keys one cleaning pass can map. */
  readonly maxSlots: number;
  private readonly initialSlots: number;
  /** How many slots the memory given would hold in one table. */
  private readonly memorySlots: number;
  /** Slots the table has now. */
  private tableSlots = 0;
  private hashes = new Int32Array(0);
  private offsets = new Float64Array(0);
  private entries = 0;
  private latest = -1;
  private seed = 0;
  /** Digest of the key being looked up (scratch, so lookups allocate nothing). */
  private readonly digest = new Int32Array(4);
  /** Lookups and probes since the last clear(), for the cleaner's statistics. */
  lookups = 0;
  probes = 0;

  /** A map using at most `memoryBytes` (enough for at least two entries). */
  constructor(memoryBytes: number) {
    const memorySlots = Math.floor(memoryBytes / OFFSET_MAP_BYTES_PER_ENTRY);
    this.memorySlots = memorySlots;
    this.initialSlots = largestPrimeAtMost(Math.min(INITIAL_SLOTS, memorySlots));
    if (this.initialSlots < 2) throw new RangeError(`an offset map of ${memoryBytes} bytes cannot hold two entries`);
    let slots = this.initialSlots;
    for (let next = nextSize(slots, memorySlots); next > slots; next = nextSize(slots, memorySlots)) slots = next;
    this.maxSlots = slots;
    this.clear();
  }

  /** The most slots one table may have in `memoryBytes`: the largest prime at or below memoryBytes / 24. */
  static slotsFor(memoryBytes: number): number {
    return largestPrimeAtMost(Math.floor(memoryBytes / OFFSET_MAP_BYTES_PER_ENTRY));
  }

  /** Slots of the table now (it grows up to maxSlots). */
  get slots(): number {
    return this.tableSlots;
  }

  /** Entries in the map. */
  get size(): number {
    return this.entries;
  }

  /** Fraction of the largest table in use. */
  get utilization(): number {
    return this.entries / this.maxSlots;
  }

  /** The offset most recently put (or set with updateLatestOffset); -1 after clear(). */
  get latestOffset(): number {
    return this.latest;
  }

  updateLatestOffset(offset: number): void {
    this.latest = offset;
  }

  /** Empties the map (back to its first, small table) and picks a new digest seed. */
  clear(): void {
    if (this.tableSlots !== this.initialSlots) this.allocate(this.initialSlots);
    else this.offsets.fill(EMPTY);
    this.entries = 0;
    this.latest = -1;
    this.lookups = 0;
    this.probes = 0;
    this.seed = randomBytes(4).readInt32LE(0);
  }

  private allocate(slots: number): void {
    this.hashes = new Int32Array(slots * 4);
    this.offsets = new Float64Array(slots).fill(EMPTY);
    this.tableSlots = slots;
  }

  /**
   * Sets the latest offset of the key `key[start, start + length)`. The caller keeps the map below
   * maxSlots (a full table is a broken invariant: put() would never find a slot).
   */
  put(key: Uint8Array, start: number, length: number, offset: number): void {
    const h = this.digest;
    murmur3x86x128(key, start, length, this.seed, h);
    let slot = this.find(h[0]!, h[1]!, h[2]!, h[3]!);
    if (this.offsets[slot] === EMPTY) {
      if (this.entries + 1 > this.tableSlots * GROW_LOAD && this.grow()) slot = this.find(h[0]!, h[1]!, h[2]!, h[3]!);
      if (this.entries >= this.tableSlots - 1) throw new Error(`offset map is full (${this.entries} of ${this.tableSlots} slots)`);
      const at = slot * 4;
      this.hashes[at] = h[0]!;
      this.hashes[at + 1] = h[1]!;
      this.hashes[at + 2] = h[2]!;
      this.hashes[at + 3] = h[3]!;
      this.entries++;
    }
    this.offsets[slot] = offset;
    this.latest = offset;
  }

  /** The latest offset of the key, or -1 when the map does not hold it. */
  get(key: Uint8Array, start: number, length: number): number {
    const h = this.digest;
    murmur3x86x128(key, start, length, this.seed, h);
    return this.offsets[this.find(h[0]!, h[1]!, h[2]!, h[3]!)]!;
  }

  /** Moves every entry to a table about twice as large, when the memory allows; false if not. */
  private grow(): boolean {
    const next = nextSize(this.tableSlots, this.memorySlots);
    if (next <= this.tableSlots) return false;
    const oldHashes = this.hashes;
    const oldOffsets = this.offsets;
    const oldSlots = this.tableSlots;
    this.hashes = new Int32Array(next * 4);
    this.offsets = new Float64Array(next).fill(EMPTY);
    this.tableSlots = next;
    for (let i = 0; i < oldSlots; i++) {
      const offset = oldOffsets[i]!;
      if (offset === EMPTY) continue;
      const at = i * 4;
      const slot = this.find(oldHashes[at]!, oldHashes[at + 1]!, oldHashes[at + 2]!, oldHashes[at + 3]!);
      const to = slot * 4;
      this.hashes[to] = oldHashes[at]!;
      this.hashes[to + 1] = oldHashes[at + 1]!;
      this.hashes[to + 2] = oldHashes[at + 2]!;
      this.hashes[to + 3] = oldHashes[at + 3]!;
      this.offsets[slot] = offset;
    }
    return true;
  }

  /** The slot holding the digest, or the empty slot where it would go. */
  private find(h0: number, h1: number, h2: number, h3: number): number {
    this.lookups++;
    const slots = this.tableSlots;
    const hashes = this.hashes;
    const offsets = this.offsets;
    let slot = (h0 >>> 0) % slots;
    const step = 1 + ((h1 >>> 0) % (slots - 1));
    for (;;) {
      this.probes++;
      if (offsets[slot] === EMPTY) return slot;
      const at = slot * 4;
      if (hashes[at] === h0 && hashes[at + 1] === h1 && hashes[at + 2] === h2 && hashes[at + 3] === h3) return slot;
      slot += step;
      if (slot >= slots) slot -= slots;
    }
  }
}

/**
 * The table after one of `slots` slots: about twice as large, so that both fit in `memorySlots`
 * during the move (a prime; `slots` itself when there is no room to grow).
 */
function nextSize(slots: number, memorySlots: number): number {
  const next = largestPrimeAtMost(Math.min(2 * slots, memorySlots - slots));
  return next > slots ? next : slots;
}

function largestPrimeAtMost(n: number): number {
  while (n >= 2 && !isPrime(n)) n--;
  return n;
}

function isPrime(n: number): boolean {
  if (n < 4) return n >= 2;
  if (n % 2 === 0 || n % 3 === 0) return false;
  for (let d = 5; d * d <= n; d += 6) {
    if (n % d === 0 || n % (d + 2) === 0) return false;
  }
  return true;
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789 | 0;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93 | 0;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function word(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/** MurmurHash3_x86_128 (Austin Appleby, public domain) of `key[start, start + length)` into `out`. */
export function murmur3x86x128(key: Uint8Array, start: number, length: number, seed: number, out: Int32Array): void {
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  const blocks = length >>> 4;
  let i = start;
  for (let b = 0; b < blocks; b++, i += 16) {
    let k1 = word(key, i);
    let k2 = word(key, i + 4);
    let k3 = word(key, i + 8);
    let k4 = word(key, i + 12);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2 | 0, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3 | 0, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4 | 0, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1 | 0, 5) + 0x32ac3b17) | 0;
  }
  // The tail: up to 15 bytes, little-endian into k1..k4.
  const tail = length & 15;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  for (let t = tail - 1; t >= 0; t--) {
    const byte = key[i + t]!;
    if (t >= 12) k4 |= byte << ((t - 12) * 8);
    else if (t >= 8) k3 |= byte << ((t - 8) * 8);
    else if (t >= 4) k2 |= byte << ((t - 4) * 8);
    else k1 |= byte << (t * 8);
  }
  if (tail > 12) h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
  if (tail > 8) h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
  if (tail > 4) h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
  if (tail > 0) h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[0] = h1;
  out[1] = h2;
  out[2] = h3;
  out[3] = h4;
}
