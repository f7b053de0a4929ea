// A growable writer for Kafka frames: the mirror of Reader. One Writer can be reused for many
// messages (reset() between them): it grows its buffer geometrically and keeps it, up to
// PROTOCOL_WRITER_RETAINED_BYTES_MAX, so steady-state encoding allocates only the finished copy.
//
// Values come from our own code, so a value the wire cannot carry (a string over 32767 bytes, a
// malformed uuid, null where a version forbids it) is a bug: it throws GodelError('PROTOCOL_ERROR').
// Integer ranges are checked by Node's Buffer writes.

import { GodelError } from '../errors.js';
import { PROTOCOL_WRITER_RETAINED_BYTES_MAX } from '../limits.js';
import { STRING_BYTES_MAX } from './reader.js';

const WRITER_INITIAL_BYTES = 1024;
const UUID_PATTERN = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/** Encoding null into a field that the version does not let be null (a bug in the caller). */
export function nullFieldError(field: string, version: number): GodelError {
  return new GodelError('PROTOCOL_ERROR', `${field} is null, which version ${version} does not allow`);
}

/**
 * Encoding a non-default value into a field that the version lacks and that Kafka marks not
 * ignorable: dropping it would change the message's meaning, so Kafka refuses, and so do we.
 */
export function nonDefaultFieldError(field: string, version: number): GodelError {
  return new GodelError('PROTOCOL_ERROR', `${field} has a non-default value, but version ${version} cannot carry it`);
}

/** Bytes an UNSIGNED_VARINT of `value` takes. */
export function uvarintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = WRITER_INITIAL_BYTES) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Starts a new message, keeping the buffer unless it grew past the retention limit. */
  reset(): this {
    if (this.buf.length > PROTOCOL_WRITER_RETAINED_BYTES_MAX) this.buf = Buffer.allocUnsafe(WRITER_INITIAL_BYTES);
    this.pos = 0;
    return this;
  }

  /** A copy of the bytes written: stays valid after reset(). */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  /** A view of the bytes written, without copying: valid only until the next write or reset(). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(bytes: number): void {
    const need = this.pos + bytes;
    if (need <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < need) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  // ---- fixed-size primitives -------------------------------------------------------------------

  int8(value: number): void {
    this.ensure(1);
    this.pos = this.buf.writeInt8(value, this.pos);
  }

  bool(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  int16(value: number): void {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(value, this.pos);
  }

  uint16(value: number): void {
    this.ensure(2);
    this.pos = this.buf.writeUInt16BE(value, this.pos);
  }

  int32(value: number): void {
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(value, this.pos);
  }

  uint32(value: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32BE(value, this.pos);
  }

  int64(value: bigint): void {
    this.ensure(8);
    this.pos = this.buf.writeBigInt64BE(value, this.pos);
  }

  float64(value: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleBE(value, this.pos);
  }

  /** A UUID in Kafka's printed form: URL-safe base64 of 16 bytes without padding (22 chars). */
  uuid(value: string): void {
    if (!UUID_PATTERN.test(value)) throw new GodelError('PROTOCOL_ERROR', `not a uuid in Kafka's base64url form: ${JSON.stringify(value)}`);
    this.ensure(16);
    this.buf.write(value, this.pos, 16, 'base64url');
    this.pos += 16;
  }

  /** Reserves an int32 (e.g. a frame size) to fill in later with int32At(). */
  reserveInt32(): number {
    this.ensure(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  int32At(at: number, value: number): void {
    if (at < 0 || at + 4 > this.pos) throw new GodelError('PROTOCOL_ERROR', `int32At(${at}) outside the ${this.pos} bytes written`);
    this.buf.writeInt32BE(value, at);
  }

  // ---- varints ---------------------------------------------------------------------------------

  /** UNSIGNED_VARINT, 0..2^32-1. */
  uvarint(value: number): void {
    if (!(value >= 0 && value <= 0xffffffff)) throw new GodelError('PROTOCOL_ERROR', `unsigned varint out of range: ${value}`);
    this.ensure(5);
    const buf = this.buf;
    let v = value;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** Signed zig-zag varint (record format), int32 range. */
  varint(value: number): void {
    this.uvarint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  /** Signed zig-zag varlong (record format), int64 range. */
  varlong(value: bigint): void {
    let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    this.ensure(10);
    const buf = this.buf;
    while (v >= 0x80n) {
      buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    buf[this.pos++] = Number(v);
  }

  // ---- strings ---------------------------------------------------------------------------------

  private utf8Length(value: string): number {
    const n = Buffer.byteLength(value, 'utf8');
    if (n > STRING_BYTES_MAX) throw new GodelError('PROTOCOL_ERROR', `string of ${n} bytes above ${STRING_BYTES_MAX}`);
    return n;
  }

  private utf8(value: string, length: number): void {
    this.ensure(length);
    this.pos += this.buf.write(value, this.pos, length, 'utf8');
  }

  /** STRING: int16 length. */
  string(value: string): void {
    const n = this.utf8Length(value);
    this.int16(n);
    this.utf8(value, n);
  }

  /** NULLABLE_STRING: int16 length, -1 = null. */
  nullableString(value: string | null): void {
    if (value === null) this.int16(-1);
    else this.string(value);
  }

  /** COMPACT_STRING: uvarint length+1. */
  compactString(value: string): void {
    const n = this.utf8Length(value);
    this.uvarint(n + 1);
    this.utf8(value, n);
  }

  /** COMPACT_NULLABLE_STRING: uvarint length+1, 0 = null. */
  compactNullableString(value: string | null): void {
    if (value === null) this.uvarint(0);
    else this.compactString(value);
  }

  // ---- bytes and records -----------------------------------------------------------------------

  /** Raw bytes, no length. */
  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** BYTES: int32 length. */
  bytes(value: Uint8Array): void {
    this.int32(value.length);
    this.raw(value);
  }

  /** NULLABLE_BYTES (and non-flexible RECORDS): int32 length, -1 = null. */
  nullableBytes(value: Uint8Array | null): void {
    if (value === null) this.int32(-1);
    else this.bytes(value);
  }

  /** COMPACT_BYTES: uvarint length+1. */
  compactBytes(value: Uint8Array): void {
    this.uvarint(value.length + 1);
    this.raw(value);
  }

  /** COMPACT_NULLABLE_BYTES (and flexible RECORDS): uvarint length+1, 0 = null. */
  compactNullableBytes(value: Uint8Array | null): void {
    if (value === null) this.uvarint(0);
    else this.compactBytes(value);
  }

  // ---- arrays ----------------------------------------------------------------------------------

  /** ARRAY length: int32, -1 = null. */
  arrayLength(count: number): void {
    this.int32(count);
  }

  /** COMPACT_ARRAY length: uvarint N+1, -1 (null) = 0. */
  compactArrayLength(count: number): void {
    this.uvarint(count + 1);
  }

  // ---- sized sections (tagged fields) ----------------------------------------------------------

  /** Starts a section whose byte size is written, as an uvarint, in front of it by endSized(). */
  beginSized(): number {
    return this.pos;
  }

  /** Moves the section up by the size's own length and writes the size in front of it. */
  endSized(start: number): void {
    const size = this.pos - start;
    const k = uvarintSize(size);
    this.ensure(k);
    this.buf.copyWithin(start + k, start, this.pos);
    const buf = this.buf;
    let at = start;
    let v = size;
    while (v >= 0x80) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at] = v;
    this.pos += k;
  }
}
