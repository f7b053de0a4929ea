// A growable writer for Kafka frames: the mirror of Reader. One Writer can be reused for many
// messages (reset() between them): it grows its buffer geometrically and keeps it, up to
// PROTOCOL_WRITER_RETAINED_BYTES_MAX, so steady-state encoding allocates only the finished copy.
//
// Large bytes/records values (ZERO_COPY_BYTES_MIN and up, e.g. stored record batches in a Fetch
// response) are referenced rather than copied into the buffer: finish() still returns one
// contiguous Buffer, while finishChunks() returns the writer's own bytes (copied) interleaved with
// those referenced Buffers, ready for a vectored socket write with no copy of the records at all.
// A referenced Buffer must not change until the chunks are written.
//
// Positions (length, reserveInt32, beginSized) are logical offsets into the message.
//
// Values come from our own code, so a value the wire cannot carry (a string over 32767 bytes, a
// malformed uuid, null where a version forbids it) is a bug: it throws GodelError('PROTOCOL_ERROR').
// Integer ranges are checked by Node's Buffer writes.

import { GodelError } from '../errors.js';
import { PROTOCOL_WRITER_RETAINED_BYTES_MAX } from '../limits.js';
import { STRING_BYTES_MAX } from './reader.js';

const WRITER_INITIAL_BYTES = 1024;
/** bytes/records values at least this big are referenced, not copied (see finishChunks()). */
export const ZERO_COPY_BYTES_MIN = 16 * 1024;
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
  /** The own buffer; bytes [segStart, pos) are the open segment of the message. */
  private buf: Buffer;
  private pos = 0;
  private segStart = 0;
  /** Closed pieces of the message before the open segment: own segments and referenced Buffers. */
  private parts: Buffer[] = [];
  private referenced: boolean[] = [];
  private partsLength = 0;
  /** Inside a sized section (a tagged field) nothing is referenced: its bytes must stay contiguous. */
  private sizedDepth = 0;

  constructor(initialBytes = WRITER_INITIAL_BYTES) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.partsLength + this.pos - this.segStart;
  }

  /** Starts a new message, keeping the buffer unless it grew past the retention limit. */
  reset(): this {
    if (this.buf.length > PROTOCOL_WRITER_RETAINED_BYTES_MAX) this.buf = Buffer.allocUnsafe(WRITER_INITIAL_BYTES);
    this.pos = 0;
    this.segStart = 0;
    this.parts = [];
    this.referenced = [];
    this.partsLength = 0;
    this.sizedDepth = 0;
    return this;
  }

  /** The message as one Buffer (a copy of everything): stays valid after reset(). */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    let at = 0;
    for (const part of this.parts) at += part.copy(out, at);
    this.buf.copy(out, at, this.segStart, this.pos);
    return out;
  }

  /**
   * The message as a list of Buffers for a vectored write: the writer's own bytes copied (so the
   * writer can be reset), referenced bytes/records values as they were given. Stays valid after reset().
   */
  finishChunks(): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < this.parts.length; i++) out.push(this.referenced[i] ? this.parts[i]! : Buffer.from(this.parts[i]!));
    if (this.pos > this.segStart) out.push(Buffer.from(this.buf.subarray(this.segStart, this.pos)));
    return out;
  }

  /** The bytes written, without copying when nothing was referenced: valid until the next write or reset(). */
  view(): Buffer {
    return this.parts.length === 0 ? this.buf.subarray(this.segStart, this.pos) : this.finish();
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    // Only the open segment moves: closed segments keep viewing the old buffer's memory.
    const live = this.pos - this.segStart;
    let capacity = this.buf.length * 2;
    while (capacity < live + bytes) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, this.segStart, this.pos);
    this.buf = next;
    this.pos = live;
    this.segStart = 0;
  }

  /** Appends `value` by reference: closes the open segment, then records the Buffer itself. */
  private reference(value: Buffer): void {
    if (this.pos > this.segStart) {
      this.parts.push(this.buf.subarray(this.segStart, this.pos));
      this.referenced.push(false);
      this.partsLength += this.pos - this.segStart;
      this.segStart = this.pos;
    }
    this.parts.push(value);
    this.referenced.push(true);
    this.partsLength += value.length;
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

  /** Reserves an int32 (e.g. a frame size) to fill in later with int32At(); returns its position. */
  reserveInt32(): number {
    const at = this.length;
    this.ensure(4);
    this.pos += 4;
    return at;
  }

  /** Overwrites the int32 at a position returned by reserveInt32(). */
  int32At(at: number, value: number): void {
    if (!(at >= 0 && at + 4 <= this.length)) throw new GodelError('PROTOCOL_ERROR', `int32At(${at}) outside the ${this.length} bytes written`);
    if (at >= this.partsLength) {
      this.buf.writeInt32BE(value, this.segStart + at - this.partsLength);
      return;
    }
    let start = 0;
    for (let i = 0; i < this.parts.length; i++) {
      const part = this.parts[i]!;
      if (at < start + part.length) {
        if (this.referenced[i] || at + 4 > start + part.length) throw new GodelError('PROTOCOL_ERROR', `int32At(${at}) is not a reserved int32`);
        part.writeInt32BE(value, at - start);
        return;
      }
      start += part.length;
    }
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

  /** Raw bytes, no length (referenced, not copied, from ZERO_COPY_BYTES_MIN up). */
  raw(value: Uint8Array): void {
    if (value.length >= ZERO_COPY_BYTES_MIN && this.sizedDepth === 0) {
      this.reference(Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length));
      return;
    }
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
    this.sizedDepth++;
    return this.length;
  }

  /** Moves the section up by the size's own length and writes the size in front of it. */
  endSized(start: number): void {
    this.sizedDepth--;
    // Nothing was referenced since beginSized(), so the section lies in the open segment.
    const from = this.segStart + start - this.partsLength;
    const size = this.pos - from;
    const k = uvarintSize(size);
    this.ensure(k);
    const at0 = this.segStart + start - this.partsLength; // ensure() may have moved the segment
    this.buf.copyWithin(at0 + k, at0, this.pos);
    const buf = this.buf;
    let at = at0;
    let v = size;
    while (v >= 0x80) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at] = v;
    this.pos += k;
  }
}
