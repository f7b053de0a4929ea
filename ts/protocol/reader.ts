// A sticky reader over one Kafka frame (franz-go's kbin.Reader style).
//
// A short or lying read never throws: it marks the reader bad (keeping the first reason), moves the
// cursor to the end so every later read fails fast, and returns a zero value. A decoder reads a
// whole message this way and calls check() once at the end, which turns a malformed frame into one
// GodelError('PROTOCOL_ERROR'). Every length is checked against the bytes remaining (and arrays
// against PROTOCOL_ARRAY_LENGTH_MAX) before anything is allocated, so a frame can never make the
// decoder allocate more than the frame's own size. bytes/records are returned as subarray views
// of the frame, not copies.

import { GodelError } from '../errors.js';
import { PROTOCOL_ARRAY_LENGTH_MAX } from '../limits.js';

/** Kafka strings (STRING and COMPACT_STRING) are at most 32767 bytes of UTF-8. */
export const STRING_BYTES_MAX = 0x7fff;

/** Kafka's Uuid.ZERO_UUID in our string form (URL-safe base64 of 16 zero bytes, no padding). */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** The shared empty Buffer decoders return for empty and defaulted bytes (length 0, so safe to share). */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);
const EMPTY = EMPTY_BYTES;

/** The error a codec throws for a version outside the range it was generated for. */
export function versionError(message: string, version: number, minVersion: number, maxVersion: number): GodelError {
  return new GodelError('PROTOCOL_ERROR', `${message} version ${version} is outside the supported ${minVersion}-${maxVersion}`);
}

export class Reader {
  readonly buf: Buffer;
  /** Cursor: the next byte to read. */
  offset: number;
  /** One past the last byte of the frame. */
  readonly end: number;
  /** The first failure, or null while the reader is good. */
  reason: string | null = null;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (offset < 0 || end > buf.length || offset > end) {
      throw new GodelError('PROTOCOL_ERROR', `reader bounds ${offset}..${end} outside a ${buf.length}-byte buffer`);
    }
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get ok(): boolean {
    return this.reason === null;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Marks the reader bad (the first reason wins) and exhausts it. */
  fail(reason: string): void {
    if (this.reason === null) this.reason = `${reason} (at byte ${this.offset})`;
    this.offset = this.end;
  }

  /** Throws the one typed error for a malformed frame; `what` names the message being decoded. */
  check(what: string): void {
    if (this.reason !== null) throw new GodelError('PROTOCOL_ERROR', `${what}: ${this.reason}`);
  }

  private short(need: number): void {
    this.fail(`needed ${need} bytes, ${this.end - this.offset} remain`);
  }

  // ---- fixed-size primitives -------------------------------------------------------------------

  int8(): number {
    if (this.offset + 1 > this.end) { this.short(1); return 0; }
    return this.buf.readInt8(this.offset++);
  }

  bool(): boolean {
    if (this.offset + 1 > this.end) { this.short(1); return false; }
    return this.buf[this.offset++] !== 0;
  }

  int16(): number {
    const o = this.offset;
    if (o + 2 > this.end) { this.short(2); return 0; }
    this.offset = o + 2;
    return this.buf.readInt16BE(o);
  }

  uint16(): number {
    const o = this.offset;
    if (o + 2 > this.end) { this.short(2); return 0; }
    this.offset = o + 2;
    return this.buf.readUInt16BE(o);
  }

  int32(): number {
    const o = this.offset;
    if (o + 4 > this.end) { this.short(4); return 0; }
    this.offset = o + 4;
    return this.buf.readInt32BE(o);
  }

  uint32(): number {
    const o = this.offset;
    if (o + 4 > this.end) { this.short(4); return 0; }
    this.offset = o + 4;
    return this.buf.readUInt32BE(o);
  }

  int64(): bigint {
    const o = this.offset;
    if (o + 8 > this.end) { this.short(8); return 0n; }
    this.offset = o + 8;
    return this.buf.readBigInt64BE(o);
  }

  float64(): number {
    const o = this.offset;
    if (o + 8 > this.end) { this.short(8); return 0; }
    this.offset = o + 8;
    return this.buf.readDoubleBE(o);
  }

  /** A UUID as Kafka prints it: URL-safe base64 of the 16 bytes, no padding (22 characters). */
  uuid(): string {
    const o = this.offset;
    if (o + 16 > this.end) { this.short(16); return ZERO_UUID; }
    this.offset = o + 16;
    return this.buf.toString('base64url', o, o + 16);
  }

  // ---- varints ---------------------------------------------------------------------------------

  /** UNSIGNED_VARINT: at most 5 bytes, value 0..2^32-1. */
  uvarint(): number {
    // Fast path: most uvarints (compact lengths, tag counts) fit in one byte.
    if (this.offset < this.end) {
      const first = this.buf[this.offset]!;
      if (first < 0x80) {
        this.offset++;
        return first;
      }
    }
    let value = 0;
    let shift = 0;
    const buf = this.buf;
    for (let i = 0; i < 5; i++) {
      if (this.offset >= this.end) { this.short(1); return 0; }
      const b = buf[this.offset++]!;
      if (i === 4 && b > 0x0f) { this.fail('unsigned varint longer than 32 bits'); return 0; }
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
      shift += 7;
    }
    this.fail('unsigned varint longer than 5 bytes');
    return 0;
  }

  /** Signed zig-zag varint (record format): int32 range. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Signed zig-zag varlong (record format): at most 10 bytes, int64 range. */
  varlong(): bigint {
    let value = 0n;
    let shift = 0n;
    const buf = this.buf;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.end) { this.short(1); return 0n; }
      const b = buf[this.offset++]!;
      if (i === 9 && b > 0x01) { this.fail('varlong longer than 64 bits'); return 0n; }
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return (value >> 1n) ^ -(value & 1n);
      shift += 7n;
    }
    this.fail('varlong longer than 10 bytes');
    return 0n;
  }

  // ---- strings ---------------------------------------------------------------------------------

  private utf8(length: number): string {
    if (length > STRING_BYTES_MAX) { this.fail(`string length ${length} above ${STRING_BYTES_MAX}`); return ''; }
    const o = this.offset;
    if (length > this.end - o) { this.short(length); return ''; }
    this.offset = o + length;
    return this.buf.toString('utf8', o, o + length);
  }

  /** STRING: int16 length, not null. */
  string(): string {
    const n = this.int16();
    if (n < 0) { this.fail(n === -1 ? 'null in a non-nullable string' : `negative string length ${n}`); return ''; }
    return this.utf8(n);
  }

  /** NULLABLE_STRING: int16 length, -1 = null. */
  nullableString(): string | null {
    const n = this.int16();
    if (n === -1) return null;
    if (n < 0) { this.fail(`negative string length ${n}`); return ''; }
    return this.utf8(n);
  }

  /** COMPACT_STRING: uvarint length+1, not null. */
  compactString(): string {
    const n = this.uvarint() - 1;
    if (n < 0) { if (this.ok) this.fail('null in a non-nullable compact string'); return ''; }
    return this.utf8(n);
  }

  /** COMPACT_NULLABLE_STRING: uvarint length+1, 0 = null. */
  compactNullableString(): string | null {
    const n = this.uvarint() - 1;
    if (n < 0) return this.ok ? null : '';
    return this.utf8(n);
  }

  // ---- bytes and records (views into the frame) ------------------------------------------------

  private view(length: number): Buffer {
    const o = this.offset;
    if (length > this.end - o) { this.short(length); return EMPTY; }
    this.offset = o + length;
    return this.buf.subarray(o, o + length);
  }

  /** BYTES: int32 length, not null. */
  bytes(): Buffer {
    const n = this.int32();
    if (n < 0) { this.fail(n === -1 ? 'null in non-nullable bytes' : `negative bytes length ${n}`); return EMPTY; }
    return this.view(n);
  }

  /** NULLABLE_BYTES (and non-flexible RECORDS): int32 length, -1 = null. */
  nullableBytes(): Buffer | null {
    const n = this.int32();
    if (n === -1) return null;
    if (n < 0) { this.fail(`negative bytes length ${n}`); return EMPTY; }
    return this.view(n);
  }

  /** COMPACT_BYTES: uvarint length+1, not null. */
  compactBytes(): Buffer {
    const n = this.uvarint() - 1;
    if (n < 0) { if (this.ok) this.fail('null in non-nullable compact bytes'); return EMPTY; }
    return this.view(n);
  }

  /** COMPACT_NULLABLE_BYTES (and flexible RECORDS): uvarint length+1, 0 = null. */
  compactNullableBytes(): Buffer | null {
    const n = this.uvarint() - 1;
    if (n < 0) return this.ok ? null : EMPTY;
    return this.view(n);
  }

  /** A raw slice of `length` bytes (a view). */
  raw(length: number): Buffer {
    if (length < 0) { this.fail(`negative length ${length}`); return EMPTY; }
    return this.view(length);
  }

  skip(length: number): void {
    if (length > this.end - this.offset) { this.short(length); return; }
    this.offset += length;
  }

  // ---- arrays ----------------------------------------------------------------------------------

  /**
   * Checks an element count before the caller allocates: every element needs at least
   * `elementBytesMin` (>= 1) bytes, so a count the remaining bytes cannot hold is a lie.
   */
  private count(n: number, elementBytesMin: number): number {
    if (n > PROTOCOL_ARRAY_LENGTH_MAX) { this.fail(`array length ${n} above ${PROTOCOL_ARRAY_LENGTH_MAX}`); return 0; }
    if (n * elementBytesMin > this.end - this.offset) {
      this.fail(`array length ${n} needs at least ${n * elementBytesMin} bytes, ${this.end - this.offset} remain`);
      return 0;
    }
    return n;
  }

  /** ARRAY length (int32), not null: returns a checked count (0 when bad). */
  arrayLength(elementBytesMin: number): number {
    const n = this.int32();
    if (n < 0) { this.fail(n === -1 ? 'null in a non-nullable array' : `negative array length ${n}`); return 0; }
    return this.count(n, elementBytesMin);
  }

  /** Nullable ARRAY length (int32): -1 = null, otherwise a checked count. */
  nullableArrayLength(elementBytesMin: number): number {
    const n = this.int32();
    if (n === -1) return -1;
    if (n < 0) { this.fail(`negative array length ${n}`); return 0; }
    return this.count(n, elementBytesMin);
  }

  /** COMPACT_ARRAY length (uvarint N+1), not null. */
  compactArrayLength(elementBytesMin: number): number {
    const n = this.uvarint() - 1;
    if (n < 0) { if (this.ok) this.fail('null in a non-nullable compact array'); return 0; }
    return this.count(n, elementBytesMin);
  }

  /** Nullable COMPACT_ARRAY length: -1 = null (encoded 0), otherwise a checked count. */
  compactNullableArrayLength(elementBytesMin: number): number {
    const n = this.uvarint() - 1;
    if (n < 0) return this.ok ? -1 : 0;
    return this.count(n, elementBytesMin);
  }

  // ---- tagged fields (KIP-482) -----------------------------------------------------------------

  /** Number of tagged fields that follow; each needs at least 2 bytes (tag and size). */
  taggedFieldCount(): number {
    const n = this.uvarint();
    if (n * 2 > this.end - this.offset) {
      this.fail(`tagged field count ${n} needs at least ${n * 2} bytes, ${this.end - this.offset} remain`);
      return 0;
    }
    return n;
  }

  /** Size of one tagged field, checked against the bytes remaining. */
  taggedFieldSize(): number {
    const n = this.uvarint();
    if (n > this.end - this.offset) { this.short(n); return 0; }
    return n;
  }

  /** After reading a known tagged field: it must have used exactly its declared size. */
  endTaggedField(end: number, name: string): void {
    if (this.offset !== end && this.reason === null) {
      this.fail(`tagged field ${name} ended at byte ${this.offset}, its size says ${end}`);
    }
  }

  /** Reads a whole tagged section, skipping every field (for structs with no known tags). */
  skipTaggedFields(): void {
    const count = this.taggedFieldCount();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.skip(this.taggedFieldSize());
    }
  }
}
